"""Country spellings normalised to ISO 3166 alpha-3."""

from __future__ import annotations

import pytest

from tradesentry.countries import to_alpha3


@pytest.mark.parametrize(
    "raw, code",
    [
        ("China", "CHN"),
        ("CN", "CHN"),
        ("156", "CHN"),
        ("842", "USA"),  # Comtrade's own M49 for the USA
        # the former countries and areas of Comtrade's history (the legacy service's 1962 on)
        ("841", "USA"),  # the USA before 1981
        ("280", "DEU"),  # the Federal Republic of Germany
        ("278", "DDR"),
        ("810", "SUN"),
        ("200", "CSK"),
        ("890", "YUG"),
        ("891", "SCG"),
        ("58", "X058"),  # Belgium-Luxembourg: no ISO code, an area as Comtrade's others
        ("SUN", "SUN"),
        ("USSR", "SUN"),
        ("World", "WLD"),
        # ISO 3166 names in the languages of customs offices (Guinea's are French)
        ("Chine", "CHN"),
        ("EMIRATS ARABES UNIS", "ARE"),
        ("Corée, République de", "KOR"),
        ("Etats-Unis", "USA"),
        ("Alemania", "DEU"),
        ("Côte d'Ivoire", "CIV"),
        # abbreviations trade tables use (a UN Comtrade table of China's exports: "UAE")
        ("UAE", "ARE"),
        ("U.A.E.", "ARE"),
        ("PRC", "CHN"),
        ("ROK", "KOR"),
        ("DRC", "COD"),
        ("KSA", "SAU"),
        # the spellings of the World Bank's and UN Comtrade's tables, and former names
        ("Korea, Dem. People's Rep.", "PRK"),
        ("Korea DPR", "PRK"),
        ("North Korea", "PRK"),
        ("Rep. of Korea", "KOR"),
        ("Korea, Republic of", "KOR"),
        ("China, Hong Kong SAR", "HKG"),
        ("Bolivia (Plurinational State of)", "BOL"),
        ("Venezuela, RB", "VEN"),
        ("Gambia, The", "GMB"),
        ("Micronesia, Fed. Sts.", "FSM"),
        ("St. Lucia", "LCA"),
        ("Taiwan, Province of China", "TWN"),
        ("Chinese Taipei", "TWN"),
        ("Ivory Coast", "CIV"),
        ("FYR Macedonia", "MKD"),
        ("US Virgin Islands", "VIR"),
        ("Burma", "MMR"),
        ("Swaziland", "SWZ"),
        ("Cape Verde", "CPV"),
        ("East Timor", "TLS"),
        ("Trinidad & Tobago", "TTO"),
        ("Great Britain", "GBR"),
        # names a first version of the check on words refused (a review)
        ("Turkey", "TUR"),
        ("Turks and Caicos Isds", "TCA"),
        ("Siam", "THA"),
        ("Wallis and Futuna Isds", "WLF"),
        ("N. Mariana Isds", "MNP"),
        ("US Minor Outlying Islands", "UMI"),
        ("West Bank and Gaza", "PSE"),
        ("United Kingdom (UK)", "GBR"),
        ("P.R. China", "CHN"),
        ("Mainland China", "CHN"),
        ("Libyan Arab Jamahiriya", "LBY"),
        # the punctuation and initials of real spellings, beside the check on characters
        ("Bosnia and Herzegovina", "BIH"),
        ("Bosnia & Herzegovina", "BIH"),
        ("Korea, Rep.", "KOR"),
        ("Türkiye", "TUR"),
        ("Côte d\u2019Ivoire", "CIV"),
        ("Guinea\u2013Bissau", "GNB"),
        ("U.S. Virgin Islands", "VIR"),
        ("France*", "FRA"),  # a table's footnote mark
        ("Germany **", "DEU"),
    ],
)
def test_spellings_of_a_country(raw, code):
    assert to_alpha3(raw) == code


@pytest.mark.parametrize("raw", ["XXX", "Atlantis", "", "  ", None, ".UAE", "U..AE", "²", "X²³¹"])
def test_what_is_no_country_stays_unknown(raw):
    assert to_alpha3(raw) is None


@pytest.mark.parametrize(
    "raw",
    [
        # country_converter's patterns find a country inside other words (a QA read)
        "Not Korea",
        "Korea, North and South",
        "Turkey meat",
        "Jersey City",
        "Chad Smith",
        "Guinea pig",
        "South Africa Customs Union",  # five countries
        "Greater China",  # with Hong Kong, Macao and Taiwan
        "Korea",  # North or South: not guessed
        # markup, quotes and stray letters were folded away with the punctuation, and any
        # letter alone passed for an initial (a QA read): an initial is a dotted letter of
        # one of the country's words
        "<b>France</b>",
        'France "x"',
        "France b",
        "France (x)",
        "France x.",
        'Bosnia & "Herz" <b>',
        "N Mariana Isds",
    ],
)
def test_free_text_and_groupings_are_no_country(raw):
    assert to_alpha3(raw) is None


def test_an_ambiguous_name_is_quarantined_saying_what_it_could_be(store, tmp_path):
    path = tmp_path / "names.csv"
    path.write_text(
        "reporter,partner,flow,commodity,period,value\n"
        "CHN,Korea,export,TOTAL,2021-02,1\n"
        "CHN,Guinea pig,export,TOTAL,2021-02,1\n"
        "CHN,North Korea,export,TOTAL,2021-02,3000\n"
    )
    result = store.ingest(path)
    assert (result.rows_accepted, result.rows_quarantined) == (1, 2)
    reasons = store.quarantine()["reason"].tolist()
    assert reasons == [
        "ambiguous partner country 'Korea': North Korea (PRK) or South Korea (KOR)?",
        "unknown partner country 'Guinea pig'",
    ]


def test_the_codes_the_store_keeps_are_each_their_own_code():
    from tradesentry.countries import stored_codes, to_alpha3
    from tradesentry.schema import WORLD

    codes = stored_codes()
    assert {"CHN", "PRK", "USA", "FRA", WORLD, "SUN", "CSK", "X058"} <= set(codes)
    assert all(to_alpha3(code) == code for code in codes)
    assert "China" not in codes and "156" not in codes
    assert 250 <= len(codes) <= 320


def test_every_name_the_libraries_know_is_its_country():
    """The check on words must not refuse a country's own names: every short and official
    name of country_converter and every name of pycountry reads as its code (but one that
    neither library's patterns know)."""
    import country_converter
    import pycountry

    data = country_converter.CountryConverter().data
    names = [
        *zip(data["name_short"], data["ISO3"], strict=True),
        *zip(data["name_official"], data["ISO3"], strict=True),
        *(
            (getattr(c, field), c.alpha_3)
            for c in pycountry.countries
            for field in ("name", "official_name", "common_name")
            if getattr(c, field, None)
        ),
    ]
    unknown_to_both = {"Rwandese Republic"}
    wrong = [
        (name, code, to_alpha3(name))
        for name, code in names
        if isinstance(name, str) and name not in unknown_to_both and to_alpha3(name) != code
    ]
    assert wrong == []
