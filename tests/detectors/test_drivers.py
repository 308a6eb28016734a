"""drivers: where an aggregate's change is, read from its details in the same panel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

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
    assert "By partner, most of the shortfall is in FRA (€" in dip["explanation"]
    assert "itself flagged as a dip" in dip["explanation"]


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
    assert reading["withheld"] == 1
    assert [d["code"] for d in reading["named"]] == ["FRA"]
    assert "1 figure withheld" in dip["explanation"]


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
    assert total_reading["by"] == "commodity" and total_reading["details"] == 2
    assert total_reading["named"][0]["code"] == "27"
    assert "in chapter 27 (" in by_code["TOTAL"].iloc[0]["explanation"]
    (chapter_reading,) = by_code["27"].iloc[0]["evidence"]["drivers"]
    assert chapter_reading["details"] == 2  # 2709 and 2710, not the HS6 codes
    assert chapter_reading["named"][0]["code"] == "2710"


def test_details_in_another_currency_are_not_read():
    parts = _partners(seed=6)
    parts[0, 20] *= 0.2
    panel = _panel(_WORLD, _with_world(parts))
    keys = panel.keys.copy()
    keys.loc[1:, "currency"] = "USD"
    panel = _panel(_WORLD, _with_world(parts))
    object.__setattr__(panel, "keys", keys)
    dip = _one(findings(panel, default_detectors()), "WLD", "dip")
    assert "drivers" not in dip["evidence"]


@pytest.mark.parametrize(
    ("reading", "words"),
    [
        (
            {"by": "partner", "change": -5e6, "details": 27, "explained": 0.05, "named": []},
            "By partner, the 27 partners in the store hold 5% of the shortfall, none a tenth: "
            "the rest is with partners the store does not list.",
        ),
        (
            {"by": "partner", "change": 2e6, "details": 4, "explained": 0.9, "named": []},
            "By partner, the excess is spread: the 4 partners hold 90% of it, none a tenth.",
        ),
        (
            {
                "by": "commodity",
                "change": -1e6,
                "details": 2,
                "explained": 1.0,
                "named": [{"code": "27", "figure": 0.0, "against": 2.7e6, "share": 2.7}],
            },
            "By product, most of the shortfall is in chapter 27 (€0 against €2.7M expected: "
            "2.7 times the shortfall).",
        ),
    ],
)
def test_words(reading, words):
    finding = {"kind": "dip", "currency": "EUR", "evidence": {"drivers": [reading]}}
    assert drivers.sentence(finding) == words


def test_findings_without_drivers_say_nothing_more():
    assert drivers.sentence({"kind": "dip", "currency": "EUR", "evidence": {}}) == ""
