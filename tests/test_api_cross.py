"""api.mirror_pair and api.missing_trade: which series of a pair they line up, and over
which months."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradesentry import api
from tradesentry.errors import InputError, SeriesChoice

COMTRADE = Path(__file__).parent / "data" / "comtrade_plus.csv"
BY_SEA = "partner2=0;customs=C00;mot=3200"


def test_a_flow_is_its_total_unless_a_breakdown_is_asked_for(store):
    """UN Comtrade's parts of a flow (by mode of transport) are not more months of its total."""
    store.ingest(COMTRADE)
    frame = api.mirror_pair(store, "CHN", "PRK", "TOTAL").frame
    exports = frame[frame["flow"] == "export"]
    assert exports["period"].tolist() == ["2021-02", "2021-03"]
    assert exports["own"].tolist() == [3000.0, 12978000.0] and set(exports["breakdown"]) == {""}
    part = api.mirror_pair(store, "CHN", "PRK", "TOTAL", breakdown=BY_SEA).frame
    assert part[["flow", "period", "own"]].values.tolist() == [["export", "2021-03", 8512000.0]]
    with pytest.raises(SeriesChoice, match="with breakdown 'x'; it has '', 'partner2=0"):
        api.mirror_pair(store, "CHN", "PRK", breakdown="x")
    gap = api.missing_trade(store, "CHN", "PRK")
    total = gap.frame[(gap.frame["flow"] == "export") & (gap.frame["commodity"] == "TOTAL")]
    assert total["own"].tolist() == [3000.0 + 12978000.0] and total["own_months"].tolist() == [2]


def test_codes_under_different_classifications_need_no_choice(store):
    """H5 chapters and an HS total are different codes: listed together, the total counted."""
    store.ingest(COMTRADE)
    frame = api.mirror_pair(store, "CHN", "PRK").frame
    assert set(zip(frame["classification"], frame["commodity"], strict=True)) == {
        ("H5", "10"),
        ("H5", "1006"),
        ("H5", "27"),
        ("HS", "TOTAL"),
    }
    gap = api.missing_trade(store, "CHN", "PRK")
    assert gap.totals["export"]["own"] == 3000.0 + 12978000.0
    with pytest.raises(SeriesChoice, match="under classification H4 in the store; it is held"):
        api.mirror_pair(store, "CHN", "PRK", classification="H4")


def test_the_months_asked_for_must_be_a_span(store):
    store.ingest(COMTRADE)
    with pytest.raises(InputError, match="^--from 2021-04 is after --to 2021-03$"):
        api.missing_trade(store, "CHN", "PRK", "2021-04", "2021-03")
    only_march = api.missing_trade(store, "CHN", "PRK", "2021-03", "2021-03")
    assert (only_march.first, only_march.last) == ("2021-03", "2021-03")
