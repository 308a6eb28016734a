"""The phrasing: money, countries and moves as trade news writes them."""

from __future__ import annotations

import pytest

from tradesentry.monitor import words


@pytest.mark.parametrize(
    ("value", "currency", "text"),
    [
        (3000, "USD", "$3,000"),
        (253_000, "USD", "$253,000"),
        (12_978_000, "USD", "$12.98 million"),
        (1.2e9, "EUR", "€1.20 billion"),
        (4_100_000, "KRW", "4.10 million KRW"),
        (-5000, "USD", "-$5,000"),
        (None, "USD", "an unknown amount"),
        # the rules of text.money under ten units: cents, and $0 only for nothing
        (0.5, "USD", "$0.50"),
        (0.004, "USD", "under $0.01"),
        (0.0, "USD", "$0"),
        (1.35, "USD", "$1.35"),
        (2500.37, "USD", "$2,500"),
        (3e21, "USD", "$3,000,000,000 trillion"),
    ],
)
def test_money(value, currency, text):
    assert words.money(value, currency) == text


def test_country_names_come_from_the_library_with_their_article():
    assert words.country_name("PRK") == "North Korea"
    assert words.country_name("USA") == "the United States"
    assert words.country_name("NLD") == "the Netherlands"
    assert words.country_name("WLD") == "the world"
    assert words.country_name("X899") == "Areas, nes"  # a Comtrade special area
    assert words.country_name("ZZZ") == "ZZZ"  # unknown: the code, never an empty subject


def test_subjects():
    assert words.subject("CHN", "PRK", "export", "TOTAL", "HS") == "China's exports to North Korea"
    assert words.subject("PRK", "CHN", "import", "27", "HS") == (
        "North Korea's imports of HS 27 from China"
    )
    assert words.subject("NLD", "WLD", "export", "TOTAL", "HS") == "the Netherlands' total exports"
    # a six-digit heading in a file of CN8 codes is no CN8 code
    assert words.subject("POL", "WLD", "import", "481141", "CN8") == (
        "Poland's total imports of CN 481141"
    )
    assert words.subject("POL", "WLD", "import", "48114100", "CN8").endswith("of CN8 48114100")
    assert words.subject("CHN", "PRK", "export", "2710", "H5").endswith("of H5 2710 to North Korea")


def test_the_seed_sentence():
    who = words.subject("CHN", "PRK", "export", "TOTAL", "HS")
    text = words.move(who, 12_978_000, "2021-03", 3000, "2021-02", "USD")
    assert text.startswith(
        "China's exports to North Korea rose to $12.98 million in March 2021 "
        "from $3,000 in February,"
    )
    assert "4,326 times as much" in text


def test_moves_across_a_year_and_down():
    text = words.move("the United States' exports", 29_000, "2021-01", 3_378_000, "2020-12", "USD")
    assert text == (
        "The United States' exports fell to $29,000 in January 2021 from $3.38 million in "
        "December 2020, down $3.35 million (-99.1%)."
    )


def test_month_span_and_names():
    assert words.month_span("2021-02", "2021-03") == "February–March 2021"
    assert words.month_span("2020-12", "2021-01") == "December 2020–January 2021"
    assert words.month_span("2016-01", "2016-01", "A") == "2016"  # an annual series' year
    assert words.month_span("2015-01", "2017-01", "A") == "2015–2017"
    assert words.month_span("2016-01", "2016-01", "M") == "January 2016"
    assert words.names(["CHN", "PRK"]) == "China and North Korea"
    assert (
        words.names(["CHN", "JPN", "KOR", "PRK", "USA"]) == "China, Japan, South Korea and 2 others"
    )


def test_estimates_are_rounded_to_three_figures():
    assert words.money(190_558.4, approx=True) == "$191,000"
    assert words.money(1_647_000, approx=True) == "$1.65 million"
    assert words.money(108_260_000, approx=True) == "$108 million"
    assert words.money(49_980_000, approx=True) == "$50 million"


def test_moves_of_small_amounts_keep_their_cents():
    who = "France's exports to Portugal"
    text = words.move(who, 2500.37, "2017-03", 0.48, "2017-02", "USD")
    assert text == (
        "France's exports to Portugal rose to $2,500 in March 2017 from $0.48 in February, "
        "up $2,500 (5,209 times as much)."
    )
    text = words.move(who, 0.30, "2018-05", 1.2, "2017-05", "USD")
    assert text == (
        "France's exports to Portugal fell to $0.30 in May 2018 from $1.20 in May 2017, "
        "down $0.90 (-75.0%)."
    )
    text = words.move(who, 2500.37, "2017-03", 2500.004, "2017-02", "USD")
    assert "rose to $2,500.4 in March 2017 from $2,500.0 in February, up $0.37" in text


def test_a_huge_rise_is_a_grouped_multiple():
    assert words.change(5.2e5, 0.01, "USD") == "up $520,000 (52 million times as much)"
    assert words.change(1500.004, 0.004, "USD") == "up $1,500 (375,001 times as much)"


@pytest.mark.parametrize(
    ("breakdown", "said"),
    [
        ("", ""),
        (None, ""),
        ("partner2=0;customs=C00;mot=3200", " (mode of transport 3200)"),
        ("partner2=156;customs=C01;mot=0", " (second partner 156, customs procedure C01)"),
        ("by=road", " (by=road)"),  # another source's form, as the store keeps it
    ],
)
def test_a_part_of_a_flow_says_which(breakdown, said):
    assert words.part(breakdown) == said
    assert words.subject("CHN", "PRK", "export", "TOTAL", "H5", breakdown) == (
        f"China's exports to North Korea{said}"
    )


@pytest.mark.parametrize(
    ("periods", "said"),
    [
        (["2023-05"], "May 2023"),
        (["2023-05", "2023-06", "2023-07"], "May–July 2023"),
        (["2023-07", "2023-05"], "May and July 2023"),  # June brought nothing new
        (["2023-01", "2023-02", "2023-03", "2023-05"], "January–March and May 2023"),
        (["2022-11", "2023-01", "2023-02"], "November 2022 and January–February 2023"),
        (["2022-12", "2023-01", "2023-03"], "December 2022–January 2023 and March 2023"),
        (["2019-01", "2019-03", "2019-05", "2019-07"], "January–July 2019 (4 months)"),
    ],
)
def test_months_name_each_run_of_months(periods, said):
    assert words.months(periods) == said
