"""Numbers and periods as people read them: one formatter each, for every explanation and page."""

from __future__ import annotations

import numpy as np
import pytest

from tradesentry.text import (
    about,
    csv_safe,
    factor,
    figures_apart,
    less_than,
    money,
    money_pair,
    percent,
    period_label,
    period_name,
    period_span,
    power_step,
    ratio,
    relative_change,
    sparkline,
    the_expected,
    times,
    weight,
)


@pytest.mark.parametrize(
    ("value", "currency", "text"),
    [
        (0.0, "USD", "$0"),  # only an exact zero reads $0
        (0.2, "USD", "$0.20"),  # cents below one unit, never "$0"
        (0.999, "USD", "$1"),
        (0.006, "USD", "$0.01"),
        (1e-9, "USD", "under $0.01"),  # too small for a cent, still not nothing
        (-1e-9, "USD", "above -$0.01"),
        (-0.2, "USD", "-$0.20"),
        (3.0, "USD", "$3"),
        (1.35, "USD", "$1.35"),  # cents under ten units: "$1.35", not "$1"
        (0.59, "USD", "$0.59"),
        (2.999, "USD", "$3"),  # a whole amount to the cent reads whole
        (9.994, "USD", "$9.99"),
        (12.4, "USD", "$12"),
        (3e21, "USD", "$3,000,000,000T"),  # grouped, never "$3000000000.0T"
        (1.7e308, "USD", "$1.7×10^308"),  # not 309 digits over a dozen lines
        (2.5e24, "KRW", "2.5×10^24 KRW"),
        (1.5e15, "USD", "$1,500T"),
        (250.4, "USD", "$250"),
        (3000.0, "USD", "$3.0K"),
        (12.9e6, "USD", "$12.9M"),
        # digits that round to a thousand of a unit read in the next one
        (999_960.0, "USD", "$1.0M"),
        (999_960_000.0, "USD", "$1.0B"),
        (999.996, "USD", "$1.0K"),
        (999_949.0, "USD", "$999.9K"),
        (0.25, "KRW", "0.25 KRW"),
        (1e-9, "EUR", "under €0.01"),
        (None, "USD", "n/a"),
        (float("nan"), "USD", "n/a"),
        (float("inf"), "EUR", "n/a"),  # a sum of 1e308s overflowed: "€infT" was shown
        (float("-inf"), "EUR", "n/a"),
    ],
)
def test_money(value, currency, text):
    assert money(value, currency) == text


def test_an_estimate_of_the_largest_float_is_a_power_of_ten():
    """Rounding 1.8e308 to three figures overflowed (the digest and the webhook failed)."""
    assert money(1.7976931348623157e308, approx=True) == "$1.8×10^308"


def test_money_pair_tells_cents_apart():
    assert money_pair(0.0001, 0.0002) == ("$0.0001", "$0.0002")
    assert money_pair(0.2, 3.0) == ("$0.20", "$3")
    assert money_pair(3.0, 3.001) == ("$3.000", "$3.001")
    assert money_pair(2500.37, 2500.004, long=True) == ("$2,500.4", "$2,500.0")


@pytest.mark.parametrize(
    ("value", "text", "estimate"),
    [
        (0.0, "$0", "$0"),  # only an exact zero reads $0
        (0.004, "under $0.01", "under $0.01"),
        (0.48, "$0.48", "$0.48"),
        (1.354, "$1.35", "$1.35"),
        (2500.37, "$2,500", "$2,500"),
        (253_000.0, "$253,000", "$253,000"),
        (190_558.4, "$190,558", "$191,000"),
        (12_978_000.0, "$12.98 million", "$13 million"),
        (1.2e9, "$1.20 billion", "$1.2 billion"),
        (3.4e12, "$3.40 trillion", "$3.4 trillion"),
        (3e21, "$3,000,000,000 trillion", "$3,000,000,000 trillion"),
        (-5000.0, "-$5,000", "-$5,000"),
        (None, "an unknown amount", "an unknown amount"),
    ],
)
def test_money_in_the_long_style_of_news(value, text, estimate):
    """The digest's style ("$12.98 million") with the same rules under ten units."""
    assert money(value, long=True) == text
    assert money(value, long=True, approx=True) == estimate


def test_amounts_under_a_cent_inside_sentences():
    assert about(3000.0) == "about $3.0K" and about(0.004) == "less than $0.01"
    assert about(None) == "n/a" and about("under $0.01") == "less than $0.01"
    assert less_than(0.004) == "less than $0.01" and less_than(1.35) == "$1.35"
    assert the_expected(1.35) == "the $1.35 expected"
    assert the_expected(0.004) == "an expected value of less than $0.01"


@pytest.mark.parametrize(
    ("value", "signed", "text"),
    [
        (7.14, True, "+7.1%"),
        (-99.97, True, "-99.97%"),  # not -100.0%: something is left
        (-99.9997, True, "-99.9997%"),
        (99.99999999, False, "99.99999999%"),  # past six decimals still not 100 %
        (1e-9, False, "0.000000001%"),
        (0.004, False, "0.004%"),  # not 0.0%
        (-100.0, True, "-100.0%"),
        (1234.5, False, "1,234%"),
        (51_365_070.0, True, "+51,365,070%"),  # grouped, never "+51365070.0%"
        (None, False, "n/a"),
    ],
)
def test_one_percent_formatter(value, signed, text):
    assert percent(value, signed=signed) == text


def test_a_change_of_ten_times_or_more_is_a_multiple():
    assert relative_change(1.2e6, 1e6) == "+20.0%"
    assert relative_change(2500.37, 0.5) == "5,001 times as much"  # not "+499974.0%"
    assert relative_change(1500.004, 0.004) == "375,001 times as much"
    assert relative_change(5.2e5, 0.01) == "52 million times as much"
    assert relative_change(0.004, 1500.0) == "-99.9997%"
    assert relative_change(1.0, 0.0) == "n/a"


@pytest.mark.parametrize(
    ("value", "as_ratio", "as_factor", "as_times"),
    [
        (5e-6, "1/200,000", "×1/200,000", "1/200,000 of"),  # not 5e-06
        (3.3e-6, "1/300,000", "×1/300,000", "1/300,000 of"),  # two figures: 303,030 is not known
        (1e-3, "1/1,000", "×1/1,000", "1/1,000 of"),
        (0.35, "0.35", "×0.35", "1/2.9 of"),
        (0.48, "0.48", "×0.48", "1/2.1 of"),  # below a half, a fraction
        (0.5, "0.5", "×0.5", "50% of"),  # from a half up to 1, a percentage
        (0.63, "0.63", "×0.63", "63% of"),  # not "1/1.6 of"
        (0.83, "0.83", "×0.83", "83% of"),  # not "1/1.2 of"
        (0.996, "1", "×1", "99.6% of"),  # never "100% of" for less than all of it
        (0.025, "0.025", "×0.025", "1/40 of"),
        (2.34, "2.3", "×2.3", "2.3 times"),
        (83.0, "83", "×83", "83 times"),
        (4200.0, "4,200", "×4,200", "4,200 times"),
        (2e5, "200,000", "×200,000", "200,000 times"),  # not "200.0 thousand"
        (3.4e6, "3.4 million", "×3.4 million", "3.4 million times"),
        (1e-6, "1/1,000,000", "×1/1,000,000", "1/1,000,000 of"),  # not "1/1 million"
        (2e-7, "1/5,000,000", "×1/5,000,000", "1/5,000,000 of"),
        (261_263_329.0, "261 million", "×261 million", "261 million times"),
        (3e18, "3,000,000 trillion", "×3,000,000 trillion", "3,000,000 trillion times"),
        (1.7e305, "1.7×10^305", "×1.7×10^305", "1.7×10^305 times"),
        (2e-30, "1/5.0×10^29", "×1/5.0×10^29", "1/5.0×10^29 of"),
        (1.5e-24, "1/6.7×10^23", "×1/6.7×10^23", "1/6.7×10^23 of"),  # no float noise digits
        (1e-310, "1/1.0×10^310", "×1/1.0×10^310", "1/1.0×10^310 of"),  # 1/v is no float
        (1.23e8, "123 million", "×123 million", "123 million times"),
        (0.0, "0", "×0", "0 times"),
        (None, "n/a", "×n/a", "n/a times"),
    ],
)
def test_one_ratio_formatter(value, as_ratio, as_factor, as_times):
    assert (ratio(value), factor(value), times(value)) == (as_ratio, as_factor, as_times)


@pytest.mark.parametrize(
    ("label", "freq", "name", "short"),
    [
        ("2021-02", "M", "February 2021", "2021-02"),
        ("2021-02", None, "February 2021", "2021-02"),
        ("2016-01", "A", "2016", "2016"),  # an annual series' year, kept at its first month
        ("2016", "A", "2016", "2016"),
        (None, "A", "?", ""),
    ],
)
def test_periods(label, freq, name, short):
    assert period_name(label, freq) == name
    assert period_label(label, freq) == short


def test_period_spans():
    assert period_span("2021-02", "2021-02") == "2021-02"
    assert period_span("2021-02", "2021-03") == "2021-02 → 2021-03"
    assert period_span("2016-01", "2016-01", "A") == "2016"
    assert period_span("2015-01", "2017-01", "A", " to ") == "2015 to 2017"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.06, "1.06"),
        (0.355, "0.355"),
        (83.4, "83.4"),
        (999.6, "1,000"),
        (261_263_329.0, "261 million"),
    ],
)
def test_ratios_to_three_figures(value, text):
    """The import/export ratio keeps three figures near 1 (1.06), and is grouped or in
    words when large, as every ratio is (never "261263329" nor "1e+03")."""
    assert ratio(value, figures=3) == text


@pytest.mark.parametrize(
    ("step", "shown"),
    [(100.0, "×100"), (1e3, "×1,000"), (1e6, "×1,000,000"), (1e-2, "×1/100"),
     (1e-3, "×1/1,000"), (1e-6, "×1/1,000,000")],
)  # fmt: skip
def test_a_unit_error_step_reads_in_digits_both_ways(step, shown):
    assert power_step(step) == shown


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_safe_quotes_a_cell_a_spreadsheet_would_read_as_a_formula(prefix):
    assert csv_safe(prefix + "SUM(A1)") == "'" + prefix + "SUM(A1)"
    assert csv_safe(prefix) == "'" + prefix


@pytest.mark.parametrize("value", ["SUM(A1)", "a=b", " =1", "'=1", "", -2.5, 3, None])
def test_csv_safe_leaves_other_cells_as_they_are(value):
    assert csv_safe(value) == value


@pytest.mark.parametrize(
    ("kg", "text"),
    [
        (None, "an unknown weight"),
        (0.0, "0 kg"),
        (0.38, "0.38 kg"),
        (0.3831, "0.383 kg"),
        (1.632, "1.63 kg"),  # "$3.6M for 1.6 kg is 2,205,000 USD/kg" did not divide
        (5.0, "5 kg"),
        (239.0, "239 kg"),
        (999.4, "999 kg"),
        (999.6, "1 t"),  # what rounds to 1,000 kg is a tonne
        (2_679.0, "2.68 t"),
        (142_900.0, "143 t"),
        (309_567.0, "310 t"),
        (999_999.0, "1,000 t"),
        (254_368_000.0, "254,368 t"),
    ],
)
def test_one_weight_formatter(kg, text):
    """Every detector writes weights alike: kilograms below a tonne, tonnes from one on."""
    assert weight(kg) == text


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("A\x1b[2JB", "A\\x1b[2JB"),  # ESC: clears a terminal
        ("27\u202eXYZ", "27\\u202eXYZ"),  # right-to-left override
        ("S\u061cT", "S\\u061cT"),  # Arabic letter mark
        ("a\u2066b\u2069", "a\\u2066b\\u2069"),  # isolates
        ("one\u2028two", "one\\u2028two"),  # line separator
        ("1\u202f000", "1\u202f000"),  # a narrow no-break space is ordinary text
    ],
)
def test_printable_shows_invisible_characters_as_escapes(raw, shown):
    from tradesentry.text import printable

    assert printable(raw) == shown


def test_an_ipv6_loopback_is_written_in_brackets_in_a_url():
    from tradesentry.web import url_host

    assert (url_host("::1"), url_host("127.0.0.1"), url_host("[::1]")) == (
        "[::1]",
        "127.0.0.1",
        "[::1]",
    )


@pytest.mark.parametrize(
    ("values", "drawn"),
    [
        # a month not reported is a gap, one reported as zero a 0: not the same thing, and
        # the zero is often the month a finding is about (Romania's €0 of June 2024)
        ([1e3, np.nan, 0.0, 1e5, 1e4], "▁ 0█▅"),
        ([5.0, -2.0, 5.0], "▅-▅"),  # one figure: no change, drawn mid-height
        ([0.0, 0.0, np.nan], "00 "),
        ([np.nan, np.nan], ""),
    ],
    ids=["gap-and-zero", "negative", "zeros-only", "nothing-reported"],
)
def test_the_sparkline_tells_a_zero_from_a_missing_month(values, drawn):
    assert sparkline(np.array(values)) == drawn


_NOISE = [1.0, 1.05, 0.95, 1.02, 0.97, 1.04, 0.96, 1.0]  # a flat series, 5 % noise


@pytest.mark.parametrize(
    ("values", "heights"),
    [
        (np.array(_NOISE) * 2e6, {"▄", "▅"}),  # small noise draws small, never ▁ to █
        (np.array([1.0, 1.5, 2.0]) * 2e6, {"▁", "▅", "█"}),  # a doubling spans the height
        (np.array([1.0, 10.0, 100.0]), {"▁", "▅", "█"}),
    ],
    ids=["flat-with-noise", "a-doubling", "two-decades"],
)
def test_the_sparkline_never_scales_small_noise_to_its_full_height(values, heights):
    """Each line was scaled to its own lowest and highest figure, so a flat series' 5 %
    noise filled the eight heights and looked as volatile as a collapse."""
    assert set(sparkline(values)) == heights


def test_the_lines_of_one_chart_share_a_scale():
    """A pair's own record (about $2.0M, then $5.9M) and its mirror ($1.9M to $2.1M):
    drawn each on its own range, the mirror's $2.1M stood higher than the own line's
    $2.0M. On their shared range one height is one amount on both lines."""
    own = np.array([2.0, 2.0, 2.0, 5.9, 5.9, 2.0]) * 1e6
    mirror = np.array([2.1, 2.1, 1.9, 2.0, 2.1, 2.0]) * 1e6
    both = np.column_stack([own, mirror])
    own_line, mirror_line = (sparkline(line, shared=both) for line in (own, mirror))
    assert own_line[0] == mirror_line[3]  # $2.0M: one height on both lines
    assert own_line[0] <= mirror_line[0] < own_line[3] == "█"  # $2.0M, $2.1M, $5.9M


@pytest.mark.parametrize(
    ("values", "width", "drawn"),
    [
        # 228 months in at most 76 marks: one mark for three months, each their median
        (np.repeat([1.0, 2.0], 114) * 1e6, 76, "▁" * 38 + "█" * 38),
        # counted back from the last month: the latest months are a whole mark
        ([1.0, 1.0, 1.0, 5.0, 5.0, 5.0, 9.0], 3, "▁▁█"),
        # a mark of months not reported is a gap; a median of zero is drawn 0
        ([np.nan, np.nan, 0.0, 0.0, 2.0, 2.0, 8.0, 8.0], 4, " 0▁█"),
        ([1.0, 2.0], 80, "▁█"),  # what fits is one mark a month
    ],
    ids=["19-years", "from-the-end", "gap-and-zero", "fits"],
)
def test_a_long_sparkline_fits_its_width_one_mark_a_median_of_months(values, width, drawn):
    """A 19-year series was 228 marks, wrapped on an 80-column terminal."""
    line = sparkline(np.array(values, dtype=float), width=width)
    assert line == drawn and len(line) <= width


@pytest.mark.parametrize(
    ("x", "edges", "figures"),
    [
        (0.01348, (0.01352, 70.993), 4),
        (1.66, (1.667, 20.31), 3),
        (15.66, (15.74,), 4),
        (2.0, (2.0,), 3),  # an edge equal to the figure is no edge to tell it from
        (None, (1.0,), 3),
        (1.000001, (1.000002,), 6),  # never more than six
    ],
)
def test_figures_apart_are_the_fewest_that_tell_a_figure_from_its_edges(x, edges, figures):
    write = lambda v, f: f"{v:.{f}g}"  # noqa: E731
    assert figures_apart(x, edges, write) == figures
