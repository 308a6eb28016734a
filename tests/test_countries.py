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
        ("World", "WLD"),
        # ISO 3166 names in the languages of customs offices (Guinea's are French)
        ("Chine", "CHN"),
        ("EMIRATS ARABES UNIS", "ARE"),
        ("Corée, République de", "KOR"),
        ("Etats-Unis", "USA"),
        ("Alemania", "DEU"),
        ("Côte d'Ivoire", "CIV"),
    ],
)
def test_spellings_of_a_country(raw, code):
    assert to_alpha3(raw) == code


@pytest.mark.parametrize("raw", ["XXX", "Atlantis", "", "  ", None])
def test_what_is_no_country_stays_unknown(raw):
    assert to_alpha3(raw) is None
