"""mirror_gap: a reporter's record against the partner's, on synthetic panels and Comext pairs."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.detectors._helpers import keyed_panel, mirror_context, scaled_comext_copy
from tradesentry import api
from tradesentry.context import (
    MIRROR_BAND_SIGMA,
    MIRROR_MIN_SPREAD,
    MIRROR_PAIR_MONTHS,
    mirror_reference_sql,
)
from tradesentry.detectors.base import confidence
from tradesentry.detectors.mirror_gap import MirrorGap, _against_usual

COMEXT = "raw/eurostat_comext_ds045409/CN_39206290.csv.gz"


def panel(own, mirror=None, *, flow="export", currency="USD", **context):
    """``own`` beside the partner's record ``mirror`` (no mirror context without it)."""
    context = {} if mirror is None else mirror_context(mirror, **context)
    return keyed_panel(own, start="2021-01", flow=flow, context=context, currency=currency)


RNG = np.random.default_rng(7)
EXPORTS = 1e6 * np.exp(RNG.normal(0, 0.3, 36))
IMPORTS = EXPORTS * 1.06 * np.exp(RNG.normal(0, 0.03, 36))  # the usual CIF/FOB margin


def test_no_mirror_context_no_findings():
    assert MirrorGap().detect(panel(EXPORTS)).empty


def test_records_that_agree_within_the_margin_give_nothing():
    assert MirrorGap().detect(panel(EXPORTS, IMPORTS)).empty
    assert MirrorGap().detect(panel(IMPORTS, EXPORTS, flow="import")).empty


def test_a_persistent_gap_is_one_finding_over_its_span():
    imports = IMPORTS.copy()
    imports[10:14] *= 8  # the partner records eight times more for four months
    found = MirrorGap().detect(panel(EXPORTS, imports))
    assert len(found) == 1
    row = found.iloc[0]
    assert (row["start"], row["end"]) == (10, 13)
    assert row["observed"] == pytest.approx(EXPORTS[10:14].sum())
    assert row["expected"] == pytest.approx(imports[10:14].sum() / 1.06, rel=0.05)
    ev = row["evidence"]
    assert len(ev["months"]) == 4 and ev["own_side"] == "export"
    assert ev["ratio"] == pytest.approx(imports[10:14].sum() / EXPORTS[10:14].sum(), rel=1e-3)
    lo, hi = ev["band"]
    assert not lo <= ev["ratio"] <= hi
    assert ev["usual_ratio"] == pytest.approx(1.06, rel=1e-3)  # the literature, no pairs in store
    assert "literature" in ev["margin_source"]


def test_the_import_side_sees_the_same_gap_from_its_own_record():
    imports = IMPORTS.copy()
    imports[5] /= 20  # the importer recorded a twentieth
    found = MirrorGap().detect(panel(imports, EXPORTS, flow="import"))
    assert list(found["start"]) == [5]
    assert found.iloc[0]["evidence"]["own_side"] == "import"
    assert found.iloc[0]["expected"] > found.iloc[0]["observed"]


def test_no_finding_without_a_currency_conversion():
    imports = IMPORTS.copy()
    imports[10:14] *= 8
    assert MirrorGap().detect(panel(EXPORTS, imports, ok=0.0)).empty


def test_a_month_booked_a_month_later_by_the_partner_is_no_gap():
    imports = IMPORTS.copy()
    imports[20] += 0.9 * imports[19]  # shipped at the end of month 19, recorded in month 20
    imports[19] *= 0.1
    assert MirrorGap().detect(panel(EXPORTS, imports)).empty


def test_the_band_comes_from_the_data_when_the_store_holds_many_pairs():
    imports = IMPORTS * 8  # this pair's partner always records eight times more
    wide = panel(EXPORTS, imports, margin=0.0, spread=1.5, n=5000, intra=1)
    assert MirrorGap().detect(wide).empty  # ordinary where pairs disagree this much
    narrow = panel(EXPORTS, imports, margin=0.0, spread=0.1, n=5000, intra=1)
    found = MirrorGap().detect(narrow)
    assert list(zip(found["start"], found["end"], strict=True)) == [(0, 35)]
    row = found.iloc[0]
    assert row["evidence"]["intra_eu"] and row["evidence"]["usual_ratio"] == pytest.approx(1.0)
    assert "no CIF/FOB margin applies" in MirrorGap().explain({**_finding(row), "currency": "EUR"})


def test_a_break_from_the_pairs_own_ratio_is_found_inside_a_wide_band():
    imports = IMPORTS.copy()
    imports[10] *= 8
    found = MirrorGap().detect(panel(EXPORTS, imports, margin=0.0, spread=1.5, n=5000, intra=1))
    assert list(found["start"]) == [10]
    assert found.iloc[0]["evidence"]["pair_usual_ratio"] == pytest.approx(1.06, rel=0.05)


def _explained(found: pd.DataFrame, flow: str = "export") -> tuple[dict, str]:
    row = found.iloc[0]
    finding = {**_finding(row), "flow": flow, "currency": "EUR"}
    return finding, MirrorGap().explain(finding)


def test_a_side_that_recorded_nothing_has_no_ratio_and_a_tiny_gap_scores_low():
    own = 60.0 * np.exp(RNG.normal(0, 0.1, 36))  # a pair trading a few tens of euros
    mirror = own.copy()
    own[10], mirror[10] = 0.0, 73.0  # the exporter recorded nothing, the importer €73
    for found, flow in (
        (MirrorGap().detect(panel(own, mirror, margin=0.0, intra=1)), "export"),
        (MirrorGap().detect(panel(mirror, own, flow="import", margin=0.0, intra=1)), "import"),
    ):
        assert list(found["start"]) == [10]
        row = found.iloc[0]
        assert row["score"] < 0.5  # €73 at stake: never high, however far the ratio
        ev = row["evidence"]
        assert ev["ratio"] is None and ev["months"][0]["ratio"] is None  # no junk ratio
        _, text = _explained(found, flow)
        assert "n/a" not in text and "one side recorded zero" in text
        assert "CHN recorded no exports to P0" in text or "P0 recorded no exports to CHN" in text
        assert "€73" in text


def test_a_small_gap_is_capped_in_dollars_month_by_month_or_in_units_without_a_rate():
    own = 6000.0 * np.exp(np.random.default_rng(2).normal(0, 0.1, 36))  # ¥6,000 ($55) a month
    mirror = own.copy()
    own[10:12], mirror[10:12] = 0.0, 55_000.0  # the exporter recorded nothing for two months
    yen = np.full(36, 110.0)
    yen[11] = 150.0  # the yen fell in the run's second month
    usd = 55_000 / 110 + 55_000 / 150  # each month's gap at its own month's rate: $917

    def score(per_usd):
        found = MirrorGap().detect(
            panel(own, mirror, margin=0.0, intra=1, per_usd=per_usd, currency="JPY")
        )
        assert list(zip(found["start"], found["end"], strict=True)) == [(10, 11)]
        assert found.iloc[0]["impact"] == pytest.approx(110_000)  # still in yen
        return found.iloc[0]["score"]

    assert score(yen) == pytest.approx(usd / 2000)  # not the total at the median rate, 0.44
    no_rate = np.where(np.arange(36) == 11, np.nan, yen)
    assert score(no_rate) > 0.9  # a month without a rate: ¥110,000 against 2,000 units
    assert score(None) > 0.9  # an engine that gave no rates at all


def test_a_large_gap_with_one_side_at_zero_still_scores_high():
    own = EXPORTS.copy()
    own[10] = 0.0
    found = MirrorGap().detect(panel(own, IMPORTS))
    assert list(found["start"]) == [10] and found.iloc[0]["score"] > 0.9
    _, text = _explained(found)
    assert "CHN recorded no exports to P0, while P0 recorded imports from CHN of €" in text


def test_a_break_from_the_pair_states_the_pair_band_it_left():
    imports = IMPORTS.copy()
    imports[10] *= 8  # inside the commodity's wide band, far from the pair's own habit
    found = MirrorGap().detect(panel(EXPORTS, imports, margin=0.0, spread=1.5, n=5000, intra=1))
    ev = found.iloc[0]["evidence"]
    lo, hi = ev["band"]
    pair_lo, pair_hi = ev["pair_band"]
    assert lo <= ev["ratio"] <= hi and not pair_lo <= ev["ratio"] <= pair_hi
    assert ev["outside"] == "pair band"
    _, text = _explained(found)
    assert f"outside this pair's own usual band {pair_lo:.3g}–{pair_hi:.3g}" in text
    assert "though inside the wider band of this commodity" in text


# -- the expected figure rests on the band the month is judged by ------------------------------

# An intra-EU commodity whose pairs' records disagree widely (Comext 39199020, 35069110).
WIDE = {"spread": 2.0, "n": 5000, "intra": 1}


def test_a_pairs_own_usual_ratio_is_its_expected_figure():
    """SVK←SWE 39199020: the commodity's pairs usually read 1.95, this pair 0.976 over 34
    months; where it recorded €462 of €89.8K, its figure would be about €87.8K, not €175K."""
    rng = np.random.default_rng(21)
    imports = EXPORTS * 0.976 * np.exp(rng.normal(0, 0.05, 36))
    imports[10] = EXPORTS[10] / 200  # the importer recorded a two-hundredth
    found = MirrorGap().detect(
        panel(imports, EXPORTS, flow="import", margin=math.log(1.95), **WIDE)
    )
    assert list(found["start"]) == [10]
    row = found.iloc[0]
    ev = row["evidence"]
    assert ev["expected_basis"] == "pair" and ev["expected_ratio"] == pytest.approx(0.976, 0.02)
    assert row["expected"] == pytest.approx(EXPORTS[10] * ev["expected_ratio"])
    assert ev["outside"] == "pair band" and ev["usual_ratio"] == pytest.approx(1.95, 0.01)
    _, text = _explained(found, "import")
    assert f"At this pair's usual ratio, {ev['expected_ratio']:.3g}, CHN's figure" in text


def test_a_pair_whose_usual_ratio_is_outside_the_band_is_one_persistent_gap():
    """POL→BEL 39204910: BEL records about 1/3,300 of POL's exports in most months, and 5 to
    14 % in four, inside the commodity's wide band but still far short: one finding."""
    rng = np.random.default_rng(11)
    imports = EXPORTS / 3300 * np.exp(rng.normal(0, 0.5, 36))
    few = [5, 14, 20, 27]
    imports[few] = EXPORTS[few] * np.array([0.05, 0.08, 0.14, 0.1])
    found = MirrorGap().detect(panel(EXPORTS, imports, margin=0.0, spread=1.23, n=8000, intra=1))
    assert list(zip(found["start"], found["end"], strict=True)) == [(0, 35)]
    row = found.iloc[0]
    ev = row["evidence"]
    assert ev["outside"] == ev["expected_basis"] == "persistent"
    assert (len(ev["months"]), ev["band_months"]) == (36, 32)
    assert row["expected"] == pytest.approx(imports.sum())  # at the commodity's ratio, 1
    _, text = _explained(found)
    assert "this pair's own usual ratio, 1/3,200 over 36 months, is itself outside" in text
    assert "a persistent gap; in 4 of the gap's 36 months the ratio was inside the band" in text


def test_a_persistent_gap_stays_one_finding_across_months_back_on_the_usual_side():
    """AUT→NLD 32121000 was three "persistent gaps": months where the importer recorded
    about as much as the exporter cut the run. They are bridged, as months one side did
    not record are, and the totals are said to be over the months of the gap."""
    rng = np.random.default_rng(11)
    imports = EXPORTS / 3300 * np.exp(rng.normal(0, 0.5, 36))
    back = [12, 13, 24]
    imports[back] = EXPORTS[back] * 0.97  # the two records agree in these months
    found = MirrorGap().detect(panel(EXPORTS, imports, margin=0.0, spread=1.23, n=8000, intra=1))
    assert list(zip(found["start"], found["end"], strict=True)) == [(0, 35)]
    ev = found.iloc[0]["evidence"]
    assert (len(ev["months"]), ev["span_months"]) == (33, 36)
    _, text = _explained(found)
    assert ", in the 33 months of the gap," in text


# a commodity whose pairs mostly disagree (Comext CN 35069110 inside the EU): σ 2.1 log
# units, a band of ×1/1,600–×1,600 around a usual ratio of 1
DISAGREEING = {"margin": 0.0, "spread": 2.1, "n": 5000, "intra": 1}


@pytest.mark.parametrize(
    ("usual", "months", "persistent"),
    [
        (716.0, 28, True),  # SWE←NLD: the importer books 716 times the exporter's record
        (1 / 716, 28, True),  # the other way round
        (25.0, 12, True),  # ×25 over a year: no margin, timing or threshold makes that
        (10.0, 28, False),  # ×10: within ×20 of the usual ratio, judged by the band
        (716.0, 11, False),  # too few months to have a usual ratio of its own
    ],
)
def test_a_pair_far_off_the_usual_ratio_is_persistent_inside_a_wide_band(usual, months, persistent):
    """A band so wide that one record at hundreds of times the other passes as usual:
    FIN←DEU 35069110, FIN €5.7M against DEU's €5.9K over 28 months, had no finding. A pair
    of 12 months or more whose own median lies 20 times or more off the commodity's usual
    ratio is a persistent gap whatever the band (``context.MIRROR_PERSISTENT_FACTOR``)."""
    rng = np.random.default_rng(5)
    exports = EXPORTS[:months]
    imports = exports * usual * np.exp(rng.normal(0, 0.3, months))
    found = MirrorGap().detect(panel(exports, imports, **DISAGREEING))
    if not persistent:
        assert found.empty
        return
    assert list(zip(found["start"], found["end"], strict=True)) == [(0, months - 1)]
    ev = found.iloc[0]["evidence"]
    assert ev["outside"] == ev["expected_basis"] == "persistent"
    lo, hi = ev["band"]
    assert lo < ev["pair_usual_ratio"] < hi  # inside the band all the same
    assert found.iloc[0]["score"] > 0.5  # over the threshold: most months beyond ×20
    _, text = _explained(found)
    times = r"[\d,.]+ times" if usual > 1 else r"1/[\d,.]+ of"
    said = rf"over {months} months, is {times} this commodity's usual one \(one record 20 times"
    assert re.search(said, text), text
    assert "a persistent gap, though inside this commodity's wide band" in text


def test_a_month_no_rate_converts_is_named_apart_from_months_one_side_did_not_record():
    """CHN→DEU, June to August 2024: both sides recorded July, but the store had no euro
    rate for it. It read "in the 2 months both recorded", as though one side had not."""
    imports, exports = IMPORTS.copy(), EXPORTS.copy()
    imports[10:16] *= 8
    exports[12] = np.nan  # the exporter has no record of one month
    imports[14] = np.nan  # nor does a rate convert the importer's record of another
    ok = np.ones(36)
    ok[14] = 0.0
    found = MirrorGap().detect(panel(exports, imports, ok=ok, per_usd=np.ones(36)))
    assert list(zip(found["start"], found["end"], strict=True)) == [(10, 15)]
    ev = found.iloc[0]["evidence"]
    assert (len(ev["months"]), ev["span_months"], ev["one_sided_months"]) == (4, 6, 1)
    assert (ev["unconverted_months"], ev["unconverted_periods"]) == (1, ["2022-03"])
    assert ev["unconverted_rate"] == "partner"
    finding = {**_finding(found.iloc[0]), "period": "2021-11", "period_end": "2022-04"}
    assert (
        MirrorGap()
        .explain(finding)
        .startswith(
            "From November 2021 to April 2022, in the 4 months compared (March 2022 not "
            "converted: no rate in the store for P0's currency), CHN recorded exports"
        )
    )


# a commodity whose pairs' ratios scatter by σ = 0.8: its band is 1/16–16, 3.8 σ just beyond
# it (×21), and narrower than ×20 either way: the band's edge is the one a pair must pass
SCATTERED = {"margin": 0.0, "spread": 0.8, "n": 5000, "intra": 1}


def _severity(score: float) -> str:
    return "high" if score >= 0.9 else "medium" if score >= 0.7 else "low"


@pytest.mark.parametrize(
    ("compared", "beyond", "other", "severity"),
    [
        (8, 1, 0.0, "low"),  # one month just beyond the band: as far, as uncertain, as before
        (12, 12, 3.0, "high"),  # every month of the pair beyond it
        (36, 36, 3.0, "high"),
        (36, 19, 3.0, "low"),  # beyond it barely more often than not: no surer than one month
    ],
)
def test_a_gap_seen_in_every_month_is_surer_than_one_month_as_far(
    compared, beyond, other, severity
):
    """ESP←FRA 39201081 and AUT←DEU 48064010 (€11.7M and €8.6M, 34 and 35 months) were low:
    the score of a persistent gap was its median's distance from a wide band, as though it
    were one month's. Of ``compared`` months, ``beyond`` lie just beyond the commodity's
    band (3.8 σ) and the others at ``other`` σ; the rest of the 36 one side did not record."""
    rng = np.random.default_rng(17)
    log_ratio = np.full(36, np.nan)
    sigma = SCATTERED["spread"]
    in_sigma = np.where(np.arange(compared) < beyond, 3.8, other)
    log_ratio[:compared] = rng.permutation(in_sigma) * sigma
    imports = EXPORTS * np.exp(log_ratio + rng.normal(0, 0.05, 36))
    found = MirrorGap().detect(panel(EXPORTS, imports, **SCATTERED))
    flagged = found[found["evidence"].map(lambda ev: ev["ratio"] > 1)]
    assert len(flagged) == 1
    row = flagged.iloc[0]
    assert row["evidence"]["outside"] == ("band" if compared < 12 else "persistent")
    assert _severity(row["score"]) == severity
    if compared < 12:  # a month judged alone keeps the score of its distance, in σ
        sigma = np.log(row["evidence"]["band"][1]) / 3.5
        z = np.log(row["evidence"]["ratio"]) / sigma
        assert row["score"] == pytest.approx(confidence(z, 3.5), abs=1e-3)


def test_months_booked_in_the_wrong_order_are_one_shipment_at_the_pairs_own_ratio():
    """BGR←ESP 35069110, March and April 2024: €309 against €10,371, then €11,617 against
    €1,134; the pair agrees at 1.05, the commodity's pairs read 2.41. Scaled by 2.41 the
    two gaps do not match; at the pair's ratio they are one shipment booked a month late."""
    rng = np.random.default_rng(3)
    exports = 8000 * np.exp(rng.normal(0, 0.3, 36))
    imports = exports * 1.05 * np.exp(rng.normal(0, 0.05, 36))
    exports[14:16], imports[14:16] = [10_371, 1_134], [309, 11_617]
    wide = {**WIDE, "spread": 2.12}
    assert (
        MirrorGap()
        .detect(panel(imports, exports, flow="import", margin=math.log(2.41), **wide))
        .empty
    )


def test_totals_over_a_span_with_one_sided_months_say_over_which_months():
    """FRA→SVN 39204910: the totals of a span are over the months both recorded, and the
    explanation says how many (SVN's imports over the whole span were €11.5M, not €6.5M)."""
    imports, exports = IMPORTS.copy(), EXPORTS.copy()
    imports[10:16] *= 8
    exports[[12, 13]] = np.nan  # the exporter has no record of two months
    found = MirrorGap().detect(panel(exports, imports))
    assert list(zip(found["start"], found["end"], strict=True)) == [(10, 15)]
    ev = found.iloc[0]["evidence"]
    assert (len(ev["months"]), ev["span_months"], ev["one_sided_months"]) == (4, 6, 2)
    assert ev["mirror_total"] == pytest.approx(imports[[10, 11, 14, 15]].sum(), abs=0.01)
    finding = {**_finding(found.iloc[0]), "period": "2021-11", "period_end": "2022-04"}
    assert (
        MirrorGap()
        .explain({**finding, "currency": "EUR"})
        .startswith(
            "From November 2021 to April 2022, in the 4 months both recorded, CHN recorded exports"
        )
    )


@pytest.mark.parametrize(
    ("share", "written"),
    [(219 / 2_794_716, "1/13,000"), (2 / 51_300, "1/26,000")],  # not 1/10,000, nor 0
)
def test_a_tiny_ratio_keeps_its_significant_figures(share, written):
    """AUT→NLD 32121000: NLD recorded €219 of €2,794,716 (1/12,760); ROU←POL €2 of €51.3K."""
    imports = IMPORTS.copy()
    imports[10] = EXPORTS[10] * share
    found = MirrorGap().detect(panel(EXPORTS, imports))
    ev = found.iloc[0]["evidence"]
    assert ev["ratio"] == pytest.approx(share, rel=1e-4)
    assert ev["months"][0]["ratio"] == pytest.approx(share, rel=1e-4)
    assert f"an import/export ratio of {written}," in _explained(found)[1]


def test_a_ratio_just_outside_a_band_edge_is_written_apart_from_it():
    """POL→LVA, February 2023: a ratio of 0.01348 outside a band from 0.01352 reads
    0.01348 and 0.01352, never 0.0135 twice; the other edge keeps three figures."""
    ev = {
        "own_side": "export",
        "months": [{"period": "2023-02", "own": 76_500.0, "mirror": 1031.6, "ratio": 0.01348}],
        "own_total": 76_500.0,
        "mirror_total": 1031.6,
        "ratio": 0.01348,
        "usual_ratio": 0.9789,
        "band": [0.01352, 70.993],
        "margin_source": "from 8,118 mirror pair-months of this commodity in the store",
        "pair_band": None,
    }
    row = {"observed": 76_500.0, "expected": 1054.0, "impact": 75_446.0, "evidence": ev}
    text = MirrorGap().explain({**_finding(row), "period_end": "2021-11", "currency": "EUR"})
    assert "an import/export ratio of 0.01348 for this commodity (usually 0.979, band " in text
    assert "band 0.01352–71;" in text


def _finding(row) -> dict:
    return {
        "reporter": "CHN",
        "partner": "P0",
        "flow": "export",
        "period": "2021-11",
        "period_end": "2021-11",
        "observed": row["observed"],
        "expected": row["expected"],
        "impact": row["impact"],
        "evidence": row["evidence"],
    }


# -- real data: Comext mirror pairs ---------------------------------------------------------------


@pytest.fixture(scope="module")
def comext(tmp_path_factory, request):
    """CN 39206290 as published, and a copy with one side of eight pairs moved ×40 for two months."""
    from tradesentry.store import open_store

    data = Path(request.config.rootpath).parent / "shared" / "data"
    src = data / COMEXT
    frame = pd.read_csv(src, dtype=str)
    values = frame[frame["indicators"] == "VALUE_IN_EUROS"].copy()
    values["v"] = pd.to_numeric(values["OBS_VALUE"], errors="coerce")
    exports = values[values["flow"] == "2"].set_index(["reporter", "partner", "TIME_PERIOD"])["v"]
    imports = values[values["flow"] == "1"].set_index(["partner", "reporter", "TIME_PERIOD"])["v"]
    both = pd.concat([exports.rename("x"), imports.rename("m")], axis=1, join="inner").dropna()
    both = both[(both["x"] > 1e4) & (both["m"] > 1e4)]
    ratio = np.log(both["m"] / both["x"]).groupby(level=[0, 1]).agg(["count", "min", "max"])
    calm = ratio[(ratio["count"] >= 30) & (ratio["min"] > -0.3) & (ratio["max"] < 0.3)]
    pairs = list(calm.index[:8])
    changes = {(a, b, "2", month): 40.0 for a, b in pairs for month in ("2024-05", "2024-06")}
    tmp = tmp_path_factory.mktemp("mirror")
    moved = tmp / "moved.csv.gz"
    scaled_comext_copy(src, moved, changes)
    clean_store, moved_store = open_store(tmp / "clean.duckdb"), open_store(tmp / "moved.duckdb")
    clean_store.ingest(src)
    moved_store.ingest(moved)
    yield {"clean": clean_store, "moved": moved_store, "pairs": pairs}
    clean_store.close()
    moved_store.close()


def test_every_real_finding_is_outside_its_band_and_adds_up(comext):
    found = api.scan(comext["clean"], kinds=["mirror_gap"], save=False).to_frame()
    assert len(found) > 0
    for rec in found.to_dict("records"):
        ev = rec["evidence"]
        assert ev["intra_eu"] is (rec["partner"] != "CHN")
        assert ev["reference_pair_months"] > 1000  # the band comes from the data
        assert rec["observed"] == pytest.approx(sum(m["own"] for m in ev["months"]), rel=1e-6)
        first = pd.Period(rec["period"], "M").strftime("%B %Y")  # months named in words
        assert rec["explanation"].startswith(("In " + first, "From " + first))
        lo, hi = ev["band"]
        plo, phi = ev["pair_band"] or (lo, hi)
        for m in ev["months"]:
            if m["ratio"] is None:  # one side recorded nothing: no ratio, said in words
                assert 0 in (m["own"], m["mirror"])
                assert "recorded no" in rec["explanation"]
                continue
            in_band, in_pair = lo <= m["ratio"] <= hi, plo <= m["ratio"] <= phi
            if ev["outside"] == "persistent":  # beyond the quartile, on the pair's side
                q, usual = ev["quartile"], ev["usual_ratio"]
                assert m["ratio"] < q < usual or m["ratio"] > q > usual
                assert "a persistent gap" in rec["explanation"]
            elif ev["outside"] == "band":  # the commodity's band, and its ratio
                assert not in_band and ev["expected_ratio"] == ev["usual_ratio"]
            else:  # the pair's own band, and its own ratio
                assert not in_pair and "outside this pair's own usual band" in rec["explanation"]
                assert in_band is (ev["outside"] == "pair band") or ev["outside"] == "both"
        if len(ev["months"]) < ev["span_months"]:  # the totals are over the months compared
            bridged = ev["span_months"] - len(ev["months"])
            # a persistent gap also bridges its months back on the usual side
            said = "both recorded" if ev["one_sided_months"] == bridged else "of the gap"
            assert ev["outside"] == "persistent" or said == "both recorded"
            assert f"in the {len(ev['months'])} months {said}" in rec["explanation"]
    spans = pd.PeriodIndex(found["period_end"], freq="M") - pd.PeriodIndex(
        found["period"], freq="M"
    )
    assert (spans.map(lambda d: d.n) > 0).any()  # persistent gaps are merged over their span


def test_gaps_moved_into_real_pairs_are_found_and_nothing_else_changes(comext):
    clean = api.scan(comext["clean"], kinds=["mirror_gap"], save=False).to_frame()
    moved = api.scan(comext["moved"], kinds=["mirror_gap"], save=False).to_frame()
    from tradesentry.countries import to_alpha3

    targets = {(to_alpha3(a), to_alpha3(b)) for a, b in comext["pairs"]}
    exports = moved[(moved["flow"] == "export") & moved["period"].le("2024-05")]
    hit = {
        (r.reporter, r.partner)
        for r in exports.itertuples()
        if (r.reporter, r.partner) in targets and r.period <= "2024-05" <= r.period_end
    }
    assert len(hit) >= 0.9 * len(targets), targets - hit
    key = ["reporter", "partner", "flow", "period", "period_end"]
    new = moved.merge(clean[key], on=key, how="left", indicator=True)
    new = new[new["_merge"] == "left_only"]
    pairs = {frozenset((r.reporter, r.partner)) for r in new.itertuples()}
    assert pairs <= {frozenset(t) for t in targets}


def test_a_pair_in_two_currencies_needs_rates(store, tmp_path):
    months = pd.period_range("2022-01", "2023-12", freq="M").astype(str)
    eur_per_usd = np.linspace(0.85, 0.95, len(months))
    usd = 1e6 * np.exp(np.random.default_rng(1).normal(0, 0.2, len(months)))
    mirror = usd * 1.06 * eur_per_usd
    mirror[5:8] *= 10  # the partner records ten times more in three months
    rows = [("USA", "DEU", "export", m, v, "USD") for m, v in zip(months, usd, strict=True)]
    rows += [("DEU", "USA", "import", m, v, "EUR") for m, v in zip(months, mirror, strict=True)]
    frame = pd.DataFrame(
        rows, columns=["reporter", "partner", "flow", "period", "value", "currency"]
    )
    frame.assign(commodity="TOTAL").to_csv(tmp_path / "pair.csv", index=False)
    store.ingest(tmp_path / "pair.csv")
    assert len(api.scan(store, kinds=["mirror_gap"], save=False)) == 0
    view = api.mirror_pair(store, "USA", "DEU")
    assert view.notes and "tradesentry rates" in view.notes[0]
    rates = pd.DataFrame({"currency": "EUR", "period": months, "per_usd": eur_per_usd})
    rates.to_csv(tmp_path / "rates.csv", index=False)
    api.load_rates(store, tmp_path / "rates.csv")
    found = api.scan(store, kinds=["mirror_gap"], save=False).to_frame()
    usd_side = found[found["reporter"] == "USA"]
    assert list(zip(usd_side["period"], usd_side["period_end"], strict=True)) == [
        ("2022-06", "2022-08")
    ]
    assert usd_side.iloc[0]["evidence"]["ratio"] == pytest.approx(10 * 1.06, rel=0.01)


def test_a_yen_pair_small_in_dollars_is_capped_once_the_store_has_yen_rates(store, tmp_path):
    months = pd.period_range("2022-01", "2023-12", freq="M").astype(str)
    rng = np.random.default_rng(3)
    exports = 6000 * np.exp(rng.normal(0, 0.1, len(months)))  # some ¥6,000 ($45) a month
    imports = exports * 1.06 * np.exp(rng.normal(0, 0.03, len(months)))
    exports[14] = 0.0  # JPN recorded no exports in 2023-03; KOR recorded ¥80,000 of imports
    imports[14] = 80_000.0
    rows = [("JPN", "KOR", "export", m, v, "JPY") for m, v in zip(months, exports, strict=True)]
    rows += [("KOR", "JPN", "import", m, v, "JPY") for m, v in zip(months, imports, strict=True)]
    frame = pd.DataFrame(
        rows, columns=["reporter", "partner", "flow", "period", "value", "currency"]
    )
    frame.assign(commodity="TOTAL").to_csv(tmp_path / "pair.csv", index=False)
    store.ingest(tmp_path / "pair.csv")

    def found():
        scanned = api.scan(store, kinds=["mirror_gap"], save=False).to_frame()
        assert set(zip(scanned["reporter"], scanned["period"], strict=True)) == {
            ("JPN", "2023-03"),
            ("KOR", "2023-03"),
        }
        return scanned.set_index("reporter")

    before = found()  # no yen rate: the gap is ¥80,000, 40 times the 2,000 units
    assert (before["score"] > 0.9).all()
    rates = pd.DataFrame({"currency": "JPY", "period": months, "per_usd": 132.0})
    rates.to_csv(tmp_path / "rates.csv", index=False)
    api.load_rates(store, tmp_path / "rates.csv")
    # either side's gap is the smaller correction: JPN's record raised to ¥80,000 / 1.06
    # (KOR's would be lowered by ¥80,000), $571 at ¥132: capped at 571 / 2,000
    after = found()
    assert after["score"].to_numpy() == pytest.approx(80_000 / 1.06 / 132 / 2000, rel=0.02)
    assert after["impact"].sort_index().to_numpy() == pytest.approx(
        before["impact"].sort_index().to_numpy()
    )  # still in yen


# -- the commodity's band, from the store: broken pairs left out -----------------------------

_COUNTRIES = ["USA", "CAN", "MEX", "BRA", "ARG", "CHL", "JPN", "KOR", "CHN", "IND", "AUS"]
_PAIRS = [(x, m) for x in _COUNTRIES for m in _COUNTRIES if x != m]
_CIF_FOB = math.log(1.06)


def _store_of_pairs(store, tmp_path, habits: list[tuple[float, int]]) -> pd.DataFrame:
    """One commodity's mirror pairs in ``store``, one per (usual log ratio, months) of
    ``habits``: each month's ratio scatters around its pair's by σ 0.3. Returns each
    pair-month's log ratio (``pair``, ``log_ratio``)."""
    rng = np.random.default_rng(2)
    months = pd.period_range("2022-01", periods=36, freq="M").astype(str)
    rows, ratios = [], []
    for i, ((x, m), (usual, n)) in enumerate(zip(_PAIRS, habits, strict=False)):
        exports = 1e6 * np.exp(rng.normal(0, 0.3, n))
        imports = exports * np.exp(usual + rng.normal(0, 0.3, n))
        for month, e, v in zip(months[:n], exports, imports, strict=True):
            rows += [(x, m, "export", month, e), (m, x, "import", month, v)]
            ratios.append((i, math.log(v / e)))
    frame = pd.DataFrame(rows, columns=["reporter", "partner", "flow", "period", "value"])
    frame.assign(currency="USD", commodity="TOTAL").to_csv(tmp_path / "pairs.csv", index=False)
    store.ingest(tmp_path / "pairs.csv")
    return pd.DataFrame(ratios, columns=["pair", "log_ratio"])


def test_the_reference_leaves_out_what_mirror_gap_calls_a_persistent_gap():
    """Its second pass leaves out the pairs mirror_gap would judge persistent gaps."""
    detector = MirrorGap()
    assert (detector.threshold, detector.min_pair_months, detector.min_spread) == (
        MIRROR_BAND_SIGMA,
        MIRROR_PAIR_MONTHS,
        MIRROR_MIN_SPREAD,
    )


@pytest.mark.parametrize(
    "broken, months, left_out",
    [
        (5, 24, True),  # a fifth of the pairs, at ×20 for two years: left out
        (5, 6, False),  # too few months to have a usual ratio of their own: kept
        (12, 24, False),  # nearly half the pairs: the first band holds them, kept
    ],
)
def test_the_band_leaves_out_pairs_whose_own_ratio_lies_outside_it(
    store, tmp_path, broken, months, left_out
):
    """A broken pair's months are one habit, not independent slips: five pairs at ×20 for
    24 months each, beside 14 ordinary ones, widened the band from σ 0.29 to 0.49 and
    moved its centre from 1.05 to 1.19. The band is estimated again without them (whole
    pairs: their months are left out of ``n`` too), and is the band of the ordinary pairs;
    where nearly as many pairs disagree as agree, no robust first band calls them broken."""
    good = [(_CIF_FOB, 24)] * 14
    ratios = _store_of_pairs(store, tmp_path, good + [(3.0, months)] * broken)
    reference = store.con.execute(mirror_reference_sql()).df()
    assert len(reference) == 1
    kept = ratios[ratios["pair"] < len(good)] if left_out else ratios
    lr = kept["log_ratio"]
    row = reference.iloc[0]
    assert row["n"] == len(kept)
    assert row["margin"] == pytest.approx(lr.median(), abs=1e-9)
    assert row["spread"] == pytest.approx(1.4826 * (lr - lr.median()).abs().median(), abs=1e-9)


def test_a_pair_inside_a_band_widened_by_broken_pairs_is_a_persistent_gap(store, tmp_path):
    """MEX→JPN: JPN books five times MEX's exports every month, beyond what ordinary pairs
    do (×1.06, σ 0.3: band edge ×3.1) but inside the band that five pairs at ×20 for two
    years widened (edge ×5.4): no finding. Without the broken pairs it is one persistent
    gap, on both sides, as they are. (In Comext, AUT←DEU 48064010, AUT at 1/25 of DEU's
    exports, had 20 of its 33 months beyond the widened band and 31 beyond the ordinary
    pairs': a low score became high.)"""
    good = [(_CIF_FOB, 24)] * 20
    habits = good + [(3.0, 24)] * 5 + [(math.log(5.0), 24)]
    _store_of_pairs(store, tmp_path, habits)
    pair = list(_PAIRS[len(habits) - 1])  # MEX→JPN
    found = api.scan(store, kinds=["mirror_gap"], save=False).to_frame()
    target = found[found["reporter"].isin(pair) & found["partner"].isin(pair)]
    assert sorted(target["flow"]) == ["export", "import"]
    for row in target.itertuples():
        assert (row.period, row.period_end) == ("2022-01", "2023-12")
        assert row.evidence["outside"] == "persistent"
        assert row.evidence["band"][1] < 5.0 and row.evidence["reference_pair_months"] == 21 * 24


def test_contract_with_context_messy_permuted_and_scaled():
    rng = np.random.default_rng(5)
    own = 1e5 * np.exp(rng.normal(0, 0.5, (30, 36)))
    mirror = own * 1.06 * np.exp(rng.normal(0, 0.2, own.shape))
    mirror[rng.random(own.shape) < 0.1] = np.nan
    own[rng.random(own.shape) < 0.05] = 0.0
    own[0] = np.nan
    mirror[1] = np.nan
    mirror[2:6, 10:13] *= 30
    base = MirrorGap().detect(panel(own, mirror))
    assert set(base["series"]) >= {2, 3, 4, 5}
    order = rng.permutation(30)
    permuted = MirrorGap().detect(panel(own[order], mirror[order]))
    assert sorted(zip(order[permuted["series"]], permuted["start"], strict=True)) == sorted(
        zip(base["series"], base["start"], strict=True)
    )
    scaled = MirrorGap().detect(panel(own * 1000, mirror * 1000))
    assert list(scaled["start"]) == list(base["start"])
    assert scaled["impact"].to_numpy() == pytest.approx(1000 * base["impact"].to_numpy())


def _sixteenfold_pair(flow: str, slip: str):
    """A pair whose importer books about 16 times its exporter's figure (a habit of its own:
    20 times would be a persistent gap), one side's month 12 a thousandfold (``slip``:
    "export" or "import"); the records and the findings."""
    rng = np.random.default_rng(5)
    exports = 700.0 * np.exp(rng.normal(0, 0.3, 36))
    imports = exports * 16 * np.exp(rng.normal(0, 0.1, 36))
    (exports if slip == "export" else imports)[12] *= 1000  # the value slip
    own, mirror = (imports, exports) if flow == "import" else (exports, imports)
    found = MirrorGap().detect(panel(own, mirror, flow=flow, margin=0.0, **WIDE))
    return exports, imports, own, mirror, found


@pytest.mark.parametrize("flow", ["import", "export"])
def test_where_the_partners_record_is_the_odd_one_the_smaller_correction_is_at_stake(flow):
    """CZE←FRA 39204910, January 2024: CZE's imports usually run about 20 times FRA's
    exports to it; FRA's figure jumped a hundredfold. Raising CZE's to the ratio would put
    €13.1M at stake, twenty times FRA's whole record; lowering FRA's to CZE's puts €677K."""
    exports, imports, own, mirror, found = _sixteenfold_pair(flow, slip="export")
    assert list(found["start"]) == [12]
    row, ev = found.iloc[0], found.iloc[0]["evidence"]
    k = ev["expected_ratio"]  # the pair's usual import/export ratio, about 16
    gap_imports, gap_exports = (
        abs(exports[12] * k - imports[12]),
        abs(imports[12] / k - exports[12]),
    )
    assert row["impact"] == pytest.approx(min(gap_imports, gap_exports))
    assert row["impact"] <= max(own[12], mirror[12])  # never more than the larger record
    # expected: the reporter's figure the partner's record implies, whichever is at stake
    assert row["expected"] == pytest.approx(mirror[12] * (k if flow == "import" else 1 / k))
    assert row["expected"] - row["observed"] == pytest.approx(ev["corrections"]["own"])
    assert ev["corrections"]["at_stake"] == ("partner" if flow == "import" else "own")
    _, text = _explained(found, flow)
    assert "the smaller correction" in text
    fra = "P0" if flow == "import" else "CHN"
    assert re.search(rf"{fra}'s €[\d.,]+K is [\d.,]+ times its usual month", text)
    # the other record stays near its usual month (its noise is 10 %): "about" it within
    # ×1.25, a percentage of it just beyond
    assert re.search(r"is (about|[89]\d% of) its usual month", text), text


@pytest.mark.parametrize("flow", ["import", "export"])
def test_the_record_that_moved_comes_first_where_its_correction_is_the_larger(flow):
    """ITA←SWE 85235990, 2023: ITA's imports were 1,944 times its usual month, SWE's
    exports 1.5 times theirs; the text led with "SWE's figure would be about €14.1M … the
    smaller correction", the record a reader would then quote as wrong. The importer's
    slip here: lowering it is the larger correction (×16 of the exporter's), and it is
    named first; the money at stake stays the smaller correction."""
    *_, found = _sixteenfold_pair(flow, slip="import")
    row, ev = found.iloc[0], found.iloc[0]["evidence"]
    fixes = ev["corrections"]
    assert row["impact"] == pytest.approx(min(abs(fixes["own"]), abs(fixes["partner"])))
    importer = "P0" if flow == "export" else "CHN"
    _, text = _explained(found, flow)
    assert re.search(
        rf"{importer}'s figure would be about €[\d.,]+K?, a correction of €[\d.,]+M?: its "
        r"record is the one far off its usual month \(see below\); or \w+'s about €[\d.,]+K?, a "
        r"gap of €[\d.,]+K?, the smaller correction and the money at stake",
        text,
    ), text


@pytest.mark.parametrize(
    ("own", "partner", "odd"),
    [
        (120.0, 1 / 2.35, "own"),  # FRA←ESP 85235990: the other moved, a third as far
        (1 / 120.0, 2.35, "own"),
        (2.35, 120.0, "partner"),
        (120.0, 1.5, "own"),  # within ×2: steady, as before
        (120.0, 6.0, None),  # both moved far
        (5.5, 1 / 2.35, None),  # ×2.35 is more than a third of ×5.5's move
        (0.0, 2.35, None),  # a record of zero: the other within ×2 only
    ],
)
def test_the_record_that_moved_is_the_one_that_moved_far_more(own, partner, odd):
    """France's imports of CN 85235990 from Spain, June–November 2025: France's €8.1M was
    120 times its usual month and Spain's €559 1/2.35 of its own, beyond the ×2 within
    which a record counted as steady; the text led with Spain's "smaller correction",
    3,700 times its usual month. A record that moved a third as far as the other, on the
    log scale, is the steady one."""
    from tradesentry.detectors.mirror_gap import _odd_side

    ev = {
        "months": ["2025-06"],
        "own_month_median": 100.0 * own,
        "own_usual_month": 100.0,
        "mirror_month_median": 100.0 * partner,
        "mirror_usual_month": 100.0,
    }
    assert _odd_side(ev) == odd


def test_a_month_of_a_persistent_pair_running_the_other_way_is_labelled_by_its_own_side():
    """SWE←ITA 39204910, June 2025: the importer usually records about 1/90 of the
    exporter's figure (a persistent gap); this month it recorded 78 times it."""
    rng = np.random.default_rng(13)
    imports = EXPORTS / 90 * np.exp(rng.normal(0, 0.3, 36))
    imports[20] = EXPORTS[20] * 78
    found = MirrorGap().detect(
        panel(imports, EXPORTS, flow="import", margin=0.0, spread=1.23, n=8000, intra=1)
    )
    other = found[found["start"] == 20].iloc[0]
    ev = other["evidence"]
    assert ev["outside"] == "band" and ev["expected_basis"] == "commodity"
    assert ev["persistent_pair"]
    text = MirrorGap().explain({**_finding(other), "flow": "import"})
    assert "persistent gap the other way" in text and "a persistent gap." not in text


def test_a_zero_is_a_record():
    imports, exports = IMPORTS.copy(), EXPORTS.copy()
    imports[10:14] *= 8
    exports[11] = 0.0
    found = MirrorGap().detect(panel(exports, imports))
    _, text = _explained(found)
    assert "In 1 of these 4 months one side recorded zero." in text


@pytest.mark.parametrize(
    ("month", "usual", "said"),
    [
        (65_000.0, 33_300.0, "MLT's €65.0K is 1.95 times its usual month (€33.3K)"),  # not "about"
        (30_000.0, 33_000.0, "MLT's €30.0K is about its usual month (€33.0K)"),
        (20_000.0, 33_000.0, "MLT's €20.0K is 61% of its usual month (€33.0K)"),
        (10_000.0, 33_000.0, "MLT's €10.0K is 1/3.3 of its usual month (€33.0K)"),
    ],
)
def test_a_month_is_about_its_usual_one_only_within_a_quarter(month, usual, said):
    """FRA→MLT 39204310, October 2023: Malta's €65.0K was "about its usual month (€33.3K)"."""
    assert _against_usual("MLT", month, usual, 1, "EUR", "month") == said


def test_a_month_across_the_band_from_a_persistent_pairs_habit_is_a_break_from_it():
    """A pair whose partner books 3.6 times its exports every month (a persistent gap, the
    ordinary pairs' band ending at ×3.0) and one month at a quarter of them: a month the
    other side of the band from the pair's habit is a break from that habit, as it is for a
    pair whose habit lies inside the band. It had been read only by its distance from the
    band (0.74: medium), Austria's exports of CN 32121000 to Germany, usually 11 times
    Germany's record of them, at 1/19 of it (€1.07M against €39.0K) among them."""
    rng = np.random.default_rng(3)
    own = 1e6 * np.exp(rng.normal(0, 0.3, (30, 36)))
    mirror = own * 1.06 * np.exp(rng.normal(0, 0.2, own.shape))
    mirror[0] = own[0] * 3.6 * np.exp(rng.normal(0, 0.15, 36))
    mirror[0, 20] = own[0, 20] / 4.0
    found = MirrorGap().detect(panel(own, mirror))
    pair = found[found["series"] == 0]
    assert pair["evidence"].map(lambda ev: ev["persistent_pair"]).all()
    (month,) = pair[pair["start"] == 20].to_dict("records")
    assert month["end"] == 20 and month["score"] > 0.9
