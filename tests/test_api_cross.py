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


# DEU's and POL's records of their trade, by year only (UN Comtrade's annual data): POL's
# imports from DEU of 2018 are 2.5 times DEU's exports, a mirror gap the scan reports.
ANNUAL_PAIR_CSV = "reporter,partner,flow,commodity,period,value,period_months,freq\n" + "".join(
    f"DEU,POL,export,TOTAL,{year},{5e10},12,A\n"
    f"POL,DEU,import,TOTAL,{year},{5e10 * 1.05 * (2.5 if year == 2018 else 1)},12,A\n"
    for year in range(2010, 2022)
)


@pytest.fixture
def annual_pair(store, tmp_path):
    path = tmp_path / "annual_pair.csv"
    path.write_text(ANNUAL_PAIR_CSV)
    store.ingest(path)
    return store


def test_a_pair_held_only_by_year_is_compared_year_by_year(annual_pair):
    assert {f["period"] for f in api.scan(annual_pair, kinds="mirror_gap", save=False)} == {
        "2018-01"
    }
    view = api.mirror_pair(annual_pair, "deu", "pol")
    assert view.freq == "A" and "only annual figures for DEU and POL" in " ".join(view.notes)
    assert view.frame["period"].tolist() == [str(year) for year in range(2010, 2022)]
    assert view.frame.loc[view.frame["outside"], "period"].tolist() == ["2018"]
    gap = api.missing_trade(annual_pair, "DEU", "POL", "2018-06", "2019-02")  # 2018 and 2019
    assert (gap.freq, gap.first, gap.last) == ("A", "2018", "2019")
    export = gap.totals["export"]
    assert (export["own"], export["own_months"], export["months"]) == (1e11, 2, 2)
    years = view.frame[view.frame["period"].isin(["2018", "2019"])]
    exports = years[years["flow"] == "export"]
    assert export["central"] == pytest.approx(exports["gap"].sum()) and export["central"] > 5e10
    assert "year by year" in gap.method
    with pytest.raises(InputError, match="^no monthly trade between DEU and POL in the store; "):
        api.mirror_pair(annual_pair, "DEU", "POL", freq="M")
    with pytest.raises(InputError, match="^no annual trade between DEU and POL from 2030-01;"):
        api.missing_trade(annual_pair, "DEU", "POL", "2030-01")


def test_a_release_diff_keeps_a_year_apart_from_the_month_of_its_date(store, tmp_path):
    """An annual figure's period is its year's first month: revised beside January, it is
    a row of its own (freq A), never summed with the monthly cells of January."""
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    header = "reporter,partner,flow,commodity,period,value,period_months,freq\n"
    first.write_text(
        header + "USA,CAN,export,TOTAL,2016,9e10,12,A\nUSA,CAN,export,TOTAL,2016-01,1e9,1,M\n"
    )
    second.write_text(
        header + "USA,CAN,export,TOTAL,2016,9.5e10,12,A\nUSA,CAN,export,TOTAL,2016-01,2e9,1,M\n"
    )
    store.ingest(first, published="2020-01-01")
    store.ingest(second, published="2021-01-01")
    by_month = api.release_diff(store, 1, 2).by_month
    rows = by_month[["period", "freq", "revised", "net_change"]].values.tolist()
    assert rows == [["2016-01", "M", 1, 1e9], ["2016-01", "A", 1, 5e9]]
