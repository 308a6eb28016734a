"""api.mirror_pair and api.missing_trade: which series of a pair they line up, and over
which months."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
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


def _at_stake(finding) -> float:
    """A mirror gap's signed money at stake: the smaller of its two corrections."""
    fixes = finding["evidence"]["corrections"]
    return fixes[fixes["at_stake"]]


def test_the_gap_rests_on_the_pairs_own_usual_ratio_as_the_scan_does(store, tmp_path):
    """Where the commodity's pairs usually read 2 and this pair 1, `gap` and `mirror` put
    the reporter's implied figure at the pair's ratio, the figure the scan's finding gives
    (SVK←SWE 39199020: €183.9K missing against a partner record of €104.3K)."""
    rng = np.random.default_rng(5)
    months = pd.period_range("2022-01", "2024-12", freq="M").astype(str)
    rows = []
    for exporter, importer, ratio, noise in (
        ("USA", "CAN", 1.0, 0.05),  # the pair
        ("USA", "MEX", 2.0, 0.8),  # the commodity's other pairs
        ("JPN", "CAN", 2.0, 0.8),
        ("KOR", "MEX", 2.0, 0.8),
    ):
        x = 1e6 * np.exp(rng.normal(0, 0.3, len(months)))
        m = x * ratio * np.exp(rng.normal(0, noise, len(months)))
        if importer == "CAN" and exporter == "USA":
            m[20] = x[20] / 20  # CAN recorded a twentieth of USA's exports
        rows += [(exporter, importer, "export", p, v) for p, v in zip(months, x, strict=True)]
        rows += [(importer, exporter, "import", p, v) for p, v in zip(months, m, strict=True)]
    frame = pd.DataFrame(rows, columns=["reporter", "partner", "flow", "period", "value"])
    frame.assign(commodity="TOTAL", currency="USD").to_csv(tmp_path / "pairs.csv", index=False)
    store.ingest(tmp_path / "pairs.csv")
    found = api.scan(store, kinds=["mirror_gap"], reporter="CAN", save=False).to_frame()
    assert found[["flow", "period", "period_end"]].values.tolist() == [
        ["import", "2023-09", "2023-09"]
    ]
    finding = found.iloc[0]
    assert finding["evidence"]["expected_ratio"] == pytest.approx(1.0, abs=0.05)
    view = api.mirror_pair(store, "CAN", "USA").frame
    month = view[(view["flow"] == "import") & (view["period"] == "2023-09")].iloc[0]
    own_fix = finding["evidence"]["corrections"]["own"]  # the reporter's figure moved
    assert month["expected_own"] == pytest.approx(finding["observed"] + own_fix)
    assert month["expected_ratio"] == pytest.approx(finding["evidence"]["expected_ratio"])
    gap = api.missing_trade(store, "CAN", "USA").totals["import"]
    # missing: about the month's gap (the other months agree at the pair's ratio), not the
    # whole partner record scaled by the commodity's ratio (about 1.9 × €36M)
    assert gap["central"] == pytest.approx(_at_stake(finding), rel=0.2)
    assert "the pair's own" in api.missing_trade(store, "CAN", "USA").method
    # mirror marks the months mirror_gap judges outside its band, the pair's own here
    marked = view[(view["flow"] == "import") & view["outside"]]["period"].tolist()
    assert marked == ["2023-09"]
    assert month["gap"] == pytest.approx(_at_stake(finding))


def test_where_the_partners_record_slipped_the_gap_is_the_smaller_correction(store, tmp_path):
    """CZE←FRA 39204910: CZE's imports usually run 20 times FRA's exports; FRA's figure
    jumped a hundredfold. `gap` puts at stake what lowering FRA's record would correct,
    as the scan's finding does, not twenty times it."""
    rng = np.random.default_rng(8)
    months = pd.period_range("2022-01", "2024-12", freq="M").astype(str)
    rows = []
    for exporter, importer, noise in (("USA", "CAN", 0.05), ("USA", "MEX", 0.3)):
        x = 1e4 * np.exp(rng.normal(0, 0.3, len(months)))
        m = x * 20 * np.exp(rng.normal(0, noise, len(months)))
        if importer == "CAN":
            x[20] *= 100
            slipped = x
        rows += [(exporter, importer, "export", p, v) for p, v in zip(months, x, strict=True)]
        rows += [(importer, exporter, "import", p, v) for p, v in zip(months, m, strict=True)]
    x = slipped
    frame = pd.DataFrame(rows, columns=["reporter", "partner", "flow", "period", "value"])
    frame.assign(commodity="TOTAL", currency="USD").to_csv(tmp_path / "pairs.csv", index=False)
    store.ingest(tmp_path / "pairs.csv")
    found = api.scan(store, kinds=["mirror_gap"], reporter="CAN", save=False).to_frame()
    finding = found[found["period"] == "2023-09"].iloc[0]
    assert finding["impact"] < x[20]  # at most the partner's record, not 20 times it
    gap = api.missing_trade(store, "CAN", "USA").totals["import"]
    assert gap["low"] <= gap["central"] <= gap["high"] < x.sum()
    view = api.mirror_pair(store, "CAN", "USA").frame
    month = view[(view["flow"] == "import") & (view["period"] == "2023-09")].iloc[0]
    assert month["outside"]
    assert month["gap"] == pytest.approx(_at_stake(finding))
