"""drivers: where an aggregate's change is, read from its details in the same panel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradesentry import api
from tradesentry.datasets import make_panel, synthetic_keys
from tradesentry.detectors import default_detectors, drivers

from ._helpers import findings


def _panel(rows: list[tuple[str, str]], values: np.ndarray, currency: str = "EUR"):
    keys = synthetic_keys(len(rows), reporter="DEU")
    keys["partner"] = [p for p, _ in rows]
    keys["commodity"] = [c for _, c in rows]
    keys["currency"] = currency
    return make_panel(values, keys=keys, start="2023-01")


def _partners(seed: int = 0, months: int = 36) -> np.ndarray:
    """Three partners at steady levels in 5 % noise (FRA the largest)."""
    rng = np.random.default_rng(seed)
    levels = np.array([[6e6], [3e6], [1e6]])
    return levels * rng.lognormal(0, 0.05, (3, months))


def _with_world(parts: np.ndarray) -> np.ndarray:
    return np.vstack([np.nansum(parts, axis=0, keepdims=True), parts])


_WORLD = [("WLD", "TOTAL"), ("FRA", "TOTAL"), ("POL", "TOTAL"), ("CZE", "TOTAL")]


def _one(found: pd.DataFrame, partner: str, kind: str) -> pd.Series:
    rows = found[(found["partner"] == partner) & (found["kind"] == kind)]
    assert len(rows) == 1, found[["partner", "kind", "period"]]
    return rows.iloc[0]


def test_a_dip_of_the_world_is_read_down_to_the_partner_that_fell():
    parts = _partners()
    parts[0, 20] *= 0.2  # FRA's September 2024: €4.8M short
    found = findings(_panel(_WORLD, _with_world(parts)), default_detectors())
    dip = _one(found, "WLD", "dip")
    (reading,) = dip["evidence"]["drivers"]
    assert reading["by"] == "partner" and reading["details"] == 3
    (named,) = reading["named"]
    assert named["code"] == "FRA" and named["flagged"] == "dip"
    assert named["share"] == pytest.approx(1.0, abs=0.1)  # FRA holds the whole shortfall
    assert named["figure"] == pytest.approx(parts[0, 20], rel=1e-6)
    assert (
        "By partner (each against its median of the months around, as the whole is: €"
        in dip["explanation"]
    )
    assert "below its own), most of the shortfall is in FRA (€" in dip["explanation"]
    assert "itself flagged as a dip" in dip["explanation"]


def test_a_unit_value_of_the_world_names_the_partner_whose_value_is_off():
    """Denmark's exports of CN 39201023 to the world, September 2025: "value off ×100"
    (high), while the excess was in the China row alone, €14.7M for 518 kg. A world unit
    value whose value is off is read down to the partners as a month's finding is; one
    whose weight is off changes no value, and is not."""
    parts = _partners()
    weights = parts / 3.0  # €3 a kg from every partner
    parts[1, 20] *= 100  # POL's value slip: the world's value per kg 30 times its usual
    weights[2, 26] *= 1000  # CZE's weight slip: the world's weight off, its value not
    rows = [(p, "39201023") for p, _ in _WORLD]
    panel = _panel(rows, _with_world(parts))
    panel.weights[:] = _with_world(weights)
    found = findings(panel, default_detectors(["unit_value"]))
    world = found[found["partner"] == "WLD"].set_index("period")
    (reading,) = world.loc["2024-09", "evidence"]["drivers"]
    assert [d["code"] for d in reading["named"]] == ["POL"]
    assert "most of the excess is in POL (€" in world.loc["2024-09", "explanation"]
    assert world.loc["2024-09", "evidence"]["pattern"] == "price outlier"
    assert world.loc["2025-03", "evidence"]["pattern"] == "weight slip"
    assert "drivers" not in world.loc["2025-03", "evidence"]


def test_a_level_shift_names_the_partner_that_moved_with_its_levels():
    parts = _partners(seed=1)
    parts[1, 18:] *= 5  # POL from €3M to €15M a month from July 2024
    found = findings(_panel(_WORLD, _with_world(parts)), default_detectors())
    shift = _one(found, "WLD", "level_shift")
    (reading,) = shift["evidence"]["drivers"]
    (named,) = reading["named"]
    assert named["code"] == "POL" and named["flagged"] == "level_shift"
    assert named["against"] == pytest.approx(3e6, rel=0.05)
    assert named["figure"] == pytest.approx(15e6, rel=0.05)
    assert "By partner, most of the rise is in POL (about €1" in shift["explanation"]
    assert "a month against €3" in shift["explanation"]


def test_nothing_is_said_where_the_details_are_not_most_of_the_aggregate():
    parts = _partners(seed=2)
    world = parts.sum(axis=0, keepdims=True) * 3  # the store lists a third of the world
    world[0, 20] *= 0.2
    found = findings(_panel(_WORLD, np.vstack([world, parts])), default_detectors())
    dip = _one(found, "WLD", "dip")
    assert "drivers" not in dip["evidence"]
    assert "By partner" not in dip["explanation"]


def test_a_withheld_figure_is_unknown_not_nothing_recorded():
    parts = _partners(seed=3)
    parts[0, 20] *= 0.2
    values = _with_world(parts)
    values[3, 20] = np.nan  # CZE's figure withheld that month (the row holds no value)
    panel = _panel(_WORLD, values)
    panel.context["withheld"] = np.zeros(panel.values.shape)
    panel.context["withheld"][3, 20] = 1.0
    dip = _one(findings(panel, default_detectors()), "WLD", "dip")
    (reading,) = dip["evidence"]["drivers"]
    assert reading["withheld"] == ["CZE"]
    assert [d["code"] for d in reading["named"]] == ["FRA"]
    assert "CZE's figures are withheld (confidential) there" in dip["explanation"]


def test_a_partner_that_seldom_trades_is_no_part_of_a_shortfall():
    """A partner whose usual month is no trade (Hungary's one month of €3.4M among 36) is
    expected at nothing, not at the level of the one month it traded."""
    parts = _partners(seed=4)
    once = np.full((1, 36), np.nan)
    once[0, 24] = 8e6
    parts[0, 20] *= 0.2
    rows = [*_WORLD, ("HUN", "TOTAL")]
    panel = _panel(rows, _with_world(np.vstack([parts, once])))
    dip = _one(findings(panel, default_detectors()), "WLD", "dip")
    named = dip["evidence"]["drivers"][0]["named"]
    assert [d["code"] for d in named] == ["FRA"]


def test_a_total_is_read_down_to_its_chapters_and_a_chapter_to_its_first_level():
    rng = np.random.default_rng(5)
    codes = ["27", "72", "2709", "2710", "270900", "271000"]
    hs4 = np.array([[1e6], [5e6]]) * rng.lognormal(0, 0.05, (2, 36))
    ch72 = 1e6 * rng.lognormal(0, 0.05, (1, 36))
    hs4[1, 20] *= 0.1  # 2710 falls: chapter 27 and the total with it
    ch27 = hs4.sum(axis=0, keepdims=True)
    total = ch27 + ch72
    values = np.vstack([total, ch27, ch72, hs4, hs4 * 1.0])  # HS6 beside HS4: not read
    panel = _panel([("CHN", "TOTAL"), *[("CHN", c) for c in codes]], values)
    found = findings(panel, default_detectors())
    by_code = {
        c: found[(found["commodity"] == c) & (found["kind"] == "dip")] for c in ("TOTAL", "27")
    }
    (total_reading,) = by_code["TOTAL"].iloc[0]["evidence"]["drivers"]
    assert total_reading["by"] == "chapter" and total_reading["details"] == 2
    assert total_reading["named"][0]["code"] == "27"
    assert "in chapter 27 (" in by_code["TOTAL"].iloc[0]["explanation"]
    (chapter_reading,) = by_code["27"].iloc[0]["evidence"]["drivers"]
    assert chapter_reading["by"] == "code"
    assert chapter_reading["details"] == 2  # 2709 and 2710, not the HS6 codes
    assert chapter_reading["named"][0]["code"] == "2710"


def test_details_in_another_currency_are_counted_in_the_rest(tmp_path):
    parts = _partners(seed=6)
    parts[0, 20] *= 0.2
    panel = _panel(_WORLD, _with_world(parts))
    keys = panel.keys.copy()
    keys.loc[3, "currency"] = "USD"  # CZE's record in dollars
    object.__setattr__(panel, "keys", keys)
    dip = _one(findings(panel, default_detectors()), "WLD", "dip")
    (reading,) = dip["evidence"]["drivers"]
    assert reading["details"] == 2 and reading["other_currency"] == 1
    assert "1 partner in another currency counted in the rest" in dip["explanation"]


@pytest.mark.parametrize(("expected_times", "read"), [(4.0, False), (1.0 / 0.2, True)])
def test_a_finding_its_season_makes_is_not_read_down(expected_times, read):
    """Medians read no season: where the aggregate's change against the months around is
    not most of its finding's (a December ordinary for a year, low for Decembers, expected
    at ×4), its parts are not read, rather than told against another reading than the
    finding's."""
    parts = _partners(seed=8)
    parts[0, 20] *= 0.2 if read else 1.0  # FRA falls, or nothing does
    panel = _panel(_WORLD, _with_world(parts))
    world = panel.values[0, 20]
    det = pd.DataFrame(
        {
            "series": [0],
            "start": [20],
            "end": [20],
            "kind": ["dip"],
            "observed": [world],
            "expected": [world * expected_times if not read else parts[:, 20].sum() + 4.8e6],
            "evidence": [{}],
        }
    )
    evidence = drivers.attach(panel, det)["evidence"].iloc[0]
    assert ("drivers" in evidence) is read


def test_a_chapter_of_one_code_is_not_read_down_to_it():
    rng = np.random.default_rng(9)
    code = 5e6 * rng.lognormal(0, 0.05, (1, 36))
    code[0, 20] *= 0.1
    panel = _panel([("CHN", "27"), ("CHN", "2710")], np.vstack([code, code]))
    for finding in findings(panel, default_detectors()).to_dict("records"):
        assert "drivers" not in finding["evidence"]


@pytest.mark.parametrize(
    ("reading", "kind", "words"),
    [
        (
            {
                "by": "partner",
                "change": -5e6,
                "details": 27,
                "named": [{"code": "rest", "figure": 1e5, "against": 4.6e6, "share": 0.9}],
            },
            "dip",
            "By partner (each against its median of the months around, as the whole is: €5.0M "
            "below its own), most of the shortfall "
            "is in the rest (€100.0K against €4.6M: 90% of it); the rest is the world figure "
            "less the 27 partners the store holds.",
        ),
        (  # the rest holds CZE, in dollars: "partners the store does not hold" was false
            {
                "by": "partner",
                "change": -3e6,
                "details": 2,
                "other_currency": 1,
                "named": [{"code": "rest", "figure": 0.0, "against": 9.967e5, "share": 0.33}],
            },
            "dip",
            "By partner (each against its median of the months around, as the whole is: €3.0M "
            "below its own), the largest part of the shortfall is in the rest (€0 against "
            "€996.7K: 33% of it); the rest is the world figure less the 2 partners the store "
            "holds in its currency; 1 partner in another currency counted in the rest.",
        ),
        (  # DEU's 104% of Italy's rise had read "100% of it"
            {
                "by": "partner",
                "change": 5.349e5,
                "details": 12,
                "opposite": True,
                "named": [{"code": "DEU", "figure": 8.563e5, "against": 3.001e5, "share": 1.04}],
            },
            "level_shift",
            "By partner, most of the rise is in DEU (about €856.3K a month against €300.1K: "
            "104% of it); other partners moved the other way.",
        ),
        (
            {"by": "partner", "change": 2e6, "details": 4, "named": []},
            "spike",
            "By partner, the excess is spread: no partner, nor the rest, holds a tenth of it.",
        ),
        (
            {
                "by": "chapter",
                "change": -1e6,
                "details": 2,
                "opposite": True,
                "named": [{"code": "27", "figure": 0.0, "against": 2.7e6, "share": 2.7}],
            },
            "level_shift",
            "By chapter, most of the fall is in chapter 27 (nothing recorded, against about "
            "€2.7M a month: 2.7 times the fall); other chapters moved the other way.",
        ),
    ],
)
def test_words(reading, kind, words):
    finding = {"kind": kind, "currency": "EUR", "freq": "M", "evidence": {"drivers": [reading]}}
    assert drivers.sentence(finding) == words


def test_findings_without_drivers_say_nothing_more():
    assert drivers.sentence({"kind": "dip", "currency": "EUR", "evidence": {}}) == ""


def test_a_world_series_whose_partners_the_panel_does_not_all_hold_is_not_read():
    """`scan --partner WLD --partner FRA`, or a group cut between chunks: the panel holds
    some of the partners the store holds, and the rest read as "partners not listed" of
    the store. The store's own sum of them (``partners_sum``) tells."""
    rng = np.random.default_rng(10)
    parts = np.array([[5e6], [4e6], [1e6]]) * rng.lognormal(0, 0.05, (3, 36))
    parts[1, 20] *= 0.01  # POL falls
    values = _with_world(parts)
    panel = _panel(_WORLD, values)
    for name, world in [("sum", parts.sum(axis=0)), ("n", 3.0), ("unknown", 0.0), ("unit", 1.0)]:
        panel.context[f"partners_{name}"] = np.full(values.shape, np.nan)
        panel.context[f"partners_{name}"][0] = world  # beside the world row only
    whole = _one(findings(panel, default_detectors()), "WLD", "dip")
    assert whole["evidence"]["drivers"][0]["named"][0]["code"] == "POL"
    cut = panel.take(np.array([0, 1, 3]))  # FRA and CZE, 60 % of the world: POL in "the rest"
    dip = _one(findings(cut, default_detectors()), "WLD", "dip")
    assert "drivers" not in dip["evidence"] and "By partner" not in dip["explanation"]


def test_an_annual_series_reads_by_year():
    parts = _partners(seed=11, months=12)
    parts[1, 6:] *= 5
    keys = synthetic_keys(4, reporter="DEU")
    keys["partner"] = [p for p, _ in _WORLD]
    keys["currency"], keys["freq"] = "EUR", "A"
    panel = make_panel(_with_world(parts), keys=keys, start="2010-01", freq="A")
    shift = _one(findings(panel, default_detectors()), "WLD", "level_shift")
    assert "By partner, most of the rise is in POL (about €1" in shift["explanation"]
    assert "a year against" in shift["explanation"] and "a month" not in shift["explanation"]


@pytest.mark.parametrize(
    ("months", "kind"),
    [
        ((20, 20), "gap"),  # March: the gap that covers it, not February's dip before it
        ((18, 18), "dip"),  # January: only the dip is within a month
        ((23, 23), "gap"),  # June: the gap ended in May
        ((25, 25), None),
    ],
)
def test_a_detail_is_named_with_its_finding_nearest_the_month(months, kind):
    """EST's world exports of March 2024 named ITA "itself flagged as a dip": ITA's dip was
    February's; March was in ITA's gap of March–May."""
    flagged = {7: [(19, 19, "dip"), (20, 22, "gap")]}
    assert drivers._kind_near(flagged, 7, *months) == kind


def _world_store(store, tmp_path) -> None:
    """The store of a world series and its three partners (CZE, FRA, POL: the world last
    in a chunk's order), POL falling in September 2024."""
    rng = np.random.default_rng(10)
    parts = np.array([[5e6], [4e6], [1e6]]) * rng.lognormal(0, 0.05, (3, 36))
    parts[1, 20] *= 0.01
    lines = ["reporter,partner,flow,commodity,period,value,currency"]
    for (partner, code), row in zip(_WORLD, _with_world(parts), strict=True):
        for t, v in enumerate(row):
            period = f"{2023 + t // 12}-{t % 12 + 1:02d}"
            lines.append(f"DEU,{partner},export,{code},{period},{v:.0f},EUR")
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    store.ingest(tmp_path / "t.csv")


@pytest.mark.parametrize("chunk_series", [None, 1, 2, 3])
def test_a_world_finding_is_read_by_partner_whatever_the_chunks(store, tmp_path, chunk_series):
    """A group larger than a chunk is cut between partners, and the world series then
    meets only some of them (on UN Comtrade at HS6, none): its reading by partner was left
    out at one chunk size and given at another. Read from the store after the chunks,
    it is the same at every size."""
    _world_store(store, tmp_path)
    found = api.scan(store, chunk_series=chunk_series, save=False).to_records()
    (dip,) = [f for f in found if f["partner"] == "WLD" and f["kind"] == "dip"]
    (reading,) = dip["evidence"]["drivers"]
    assert reading["by"] == "partner" and reading["named"][0]["code"] == "POL"
    assert "By partner" in dip["explanation"]
    assert "itself flagged as an implausible value" in dip["explanation"]


def test_a_saved_scan_reads_a_world_finding_by_partner_whatever_the_chunks(store, tmp_path):
    """As saved chunk by chunk: the world findings and those they name wait for the end."""
    _world_store(store, tmp_path)
    whole = api.scan(store, save=False).to_records()
    saved = api.scan(store, chunk_series=2).to_records()
    by_id = {f["id"]: (f["explanation"], f["evidence"]) for f in whole}
    assert {f["id"]: (f["explanation"], f["evidence"]) for f in saved} == by_id


@pytest.mark.parametrize("chunk_series", [None, 3, 4, 6])
def test_a_world_total_keeps_its_reading_by_partner_beside_its_chapters(
    store, tmp_path, chunk_series
):
    """A chunk keeps a partner's TOTAL with its chapters: cut away from its partners, the
    world TOTAL had a reading by chapter alone and was never read by partner. Both, the
    partner first, at every chunk size."""
    rng = np.random.default_rng(10)
    levels, shares = {"CZE": 1e6, "FRA": 8e6, "POL": 1e6}, {"27": 0.8, "84": 0.2}
    figures = {
        (p, ch): level * share * rng.lognormal(0, 0.05, 36)
        for p, level in levels.items()
        for ch, share in shares.items()
    }
    figures["FRA", "27"][20] *= 0.01  # FRA's chapter 27 falls in September 2024
    for p in levels:
        figures[p, "TOTAL"] = figures[p, "27"] + figures[p, "84"]
    for ch in [*shares, "TOTAL"]:
        figures["WLD", ch] = sum(figures[p, ch] for p in levels)
    lines = ["reporter,partner,flow,commodity,period,value,currency"]
    for (partner, code), row in figures.items():
        for t, v in enumerate(row):
            period = f"{2023 + t // 12}-{t % 12 + 1:02d}"
            lines.append(f"DEU,{partner},export,{code},{period},{v:.0f},EUR")
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    store.ingest(tmp_path / "t.csv")
    found = api.scan(store, chunk_series=chunk_series, save=False).to_records()
    (dip,) = [
        f
        for f in found
        if (f["partner"], f["commodity"], f["kind"], f["period"])
        == ("WLD", "TOTAL", "dip", "2024-09")
    ]
    readings = dip["evidence"]["drivers"]
    assert [r["by"] for r in readings] == ["partner", "chapter"]
    assert readings[0]["named"][0]["code"] == "FRA" and readings[1]["named"][0]["code"] == "27"
