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
    ],
)
def test_spellings_of_a_country(raw, code):
    assert to_alpha3(raw) == code


@pytest.mark.parametrize("raw", ["XXX", "Atlantis", "", "  ", None, ".UAE", "U..AE", "²", "X²³¹"])
def test_what_is_no_country_stays_unknown(raw):
    assert to_alpha3(raw) is None


def test_the_codes_the_store_keeps_are_each_their_own_code():
    from tradesentry.countries import stored_codes, to_alpha3
    from tradesentry.schema import WORLD

    codes = stored_codes()
    assert {"CHN", "PRK", "USA", "FRA", WORLD, "SUN", "CSK", "X058"} <= set(codes)
    assert all(to_alpha3(code) == code for code in codes)
    assert "China" not in codes and "156" not in codes
    assert 250 <= len(codes) <= 320
