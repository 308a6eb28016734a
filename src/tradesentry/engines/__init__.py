"""Engines run the detectors over a store's series: ``local`` (DuckDB + NumPy) and ``spark``.

Both call ``scan_frame`` on groups of whole series, so they give the same findings.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from tradesentry.detectors import Detector, run_detectors
from tradesentry.findings import assemble, empty_findings
from tradesentry.panel import Panel


def scan_frame(frame: pd.DataFrame, detectors: Sequence[Detector]) -> pd.DataFrame:
    """Findings for long observations holding whole series (any number of them).

    The one function both engines share: build the panels (monthly, annual), run the
    detectors, assemble the findings.
    """
    parts = []
    for freq in ("M", "A"):
        panel = Panel.from_frame(frame, freq)
        if panel.n_series:
            parts.append(assemble(panel, run_detectors(panel, detectors), detectors))
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else empty_findings()
