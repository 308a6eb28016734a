"""``tradesentry.missing``'s summary of a pair's two records."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradesentry.missing import KEYS, _monthly_parts, _summarise, mirror_ratio


def _rows(own, mirror) -> pd.DataFrame:
    return pd.DataFrame({"own": own, "mirror": mirror})


@pytest.mark.parametrize(("flow", "expected"), [("export", 1.1), ("import", 1 / 1.1)])
def test_mirror_ratio_is_the_importers_record_over_the_exporters(flow, expected):
    """Summed over the months both recorded only: a month one side left out says nothing
    of the ratio."""
    rows = _rows([100.0, 200.0, 50.0, np.nan], [110.0, 220.0, np.nan, 80.0])
    assert mirror_ratio(rows, flow) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("own", "mirror"),
    [([np.nan, 5.0], [3.0, np.nan]), ([0.0], [4.0]), ([4.0], [0.0]), ([], [])],
)
def test_mirror_ratio_of_nothing_is_none(own, mirror):
    assert mirror_ratio(_rows(own, mirror), "export") is None


def _parts(own, mirror, uv_gap) -> pd.DataFrame:
    """One commodity's months, each side's record (NaN: none), at a usual ratio of 1.05 with
    a spread of 0.2, and the reporter's unit-value gaps (NaN: no price outlier)."""
    n = len(own)
    frame = pd.DataFrame(
        {
            "flow": "export",
            "classification": "HS",
            "commodity": "250410",
            "breakdown": "",
            "period": [f"2020-{m:02d}" for m in range(1, n + 1)],
            "own": own,
            "mirror": mirror,
            "expected_ratio": 1.05,
            "expected_spread": 0.2,
            "outside": False,
            "mirror_currency_ok": [1 if np.isfinite(m) else np.nan for m in mirror],
        }
    )
    uv = frame[[*KEYS, "period"]].assign(uv_gap=uv_gap).dropna(subset=["uv_gap"])
    return _summarise(_monthly_parts(frame, uv)).iloc[0]


@pytest.mark.parametrize(
    ("uv_gap", "low", "central", "high"),
    [
        (-2.2e6, -2.2e6, -2.2e6, 0.0),  # declared more than the weight implies: low's side
        (615.1e3, 0.0, 615.1e3, 615.1e3),  # declared less: high's side, never low's
    ],
)
def test_each_end_of_the_range_takes_the_unit_value_gaps_on_its_side(uv_gap, low, central, high):
    """CHN's exports of 250410 to ESP, which ESP never recorded, with unit-value gaps of
    −$2.2M read low, central and high all −$2.2M: high had added the negative gap and low
    been pulled down to central. The gaps are the range's least certain part: a negative
    one lowers low and central, a positive one raises central and high."""
    row = _parts([6e6, 6e6, 6.1e6], [np.nan] * 3, [np.nan, uv_gap, np.nan])
    assert [row["low"], row["central"], row["high"]] == pytest.approx([low, central, high])


@pytest.mark.parametrize("uv_gap", [-50.0, 50.0])
def test_low_central_and_high_are_in_order_beside_mirror_gaps(uv_gap):
    """Months both recorded beside a month of the reporter's alone with a unit-value gap:
    low is the mirror gaps at the lower quartile plus the gap only where it is negative."""
    row = _parts([90.0, 80.0, 100.0], [100.0, 100.0, np.nan], [np.nan, np.nan, uv_gap])
    mirror_only = _parts([90.0, 80.0], [100.0, 100.0], [np.nan, np.nan])
    assert row["low"] <= row["central"] <= row["high"]
    assert row["low"] == pytest.approx(mirror_only["low"] + min(uv_gap, 0.0))
    assert row["high"] == pytest.approx(mirror_only["high"] + max(uv_gap, 0.0))
