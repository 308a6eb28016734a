"""Helpers shared by the detector tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tradesentry.detectors import run_detectors
from tradesentry.findings import assemble
from tradesentry.panel import Panel


def findings(panel: Panel, detectors) -> pd.DataFrame:
    """Findings of ``detectors`` on ``panel`` through the scan's own assembly."""
    return assemble(panel, run_detectors(panel, detectors), detectors)


def as_cells(panel: Panel, found: pd.DataFrame) -> pd.DataFrame:
    """Findings as panel rows and columns (series, start, end, kind)."""
    if found.empty:
        return pd.DataFrame(columns=["series", "start", "end", "kind"])
    row = {p: i for i, p in enumerate(panel.keys["partner"])}
    first = pd.Period(str(panel.start), "M")
    col = lambda s: np.array([(pd.Period(p, "M") - first).n for p in s])  # noqa: E731
    return pd.DataFrame(
        {
            "series": found["partner"].map(row).to_numpy(),
            "start": col(found["period"]),
            "end": col(found["period_end"]),
            "kind": found["kind"].to_numpy(),
        }
    )
