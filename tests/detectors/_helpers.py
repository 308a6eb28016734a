"""Helpers shared by the detector tests."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd

from tradesentry.detectors import run_detectors
from tradesentry.findings import assemble
from tradesentry.panel import KEY_COLUMNS, Panel


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


def keyed_panel(
    values,
    *,
    start: str = "2023-01",
    weights=None,
    context: dict | None = None,
    reporter: str = "CHN",
    flow: str = "export",
    classification: str = "HS",
    commodity: str = "TOTAL",
    currency: str = "USD",
) -> Panel:
    """A monthly panel of ``values`` (one row per partner P0, P1…) with optional context."""
    values = np.atleast_2d(np.asarray(values, dtype=float))
    n, t = values.shape
    keys = pd.DataFrame(
        {
            "reporter": reporter,
            "partner": [f"P{i}" for i in range(n)],
            "flow": flow,
            "classification": classification,
            "commodity": commodity,
            "freq": "M",
            "breakdown": "",
            "currency": currency,
        }
    )[list(KEY_COLUMNS)]
    weights = np.full((n, t), np.nan) if weights is None else np.atleast_2d(weights).astype(float)
    return Panel(
        keys,
        np.datetime64(start, "M"),
        values,
        weights,
        np.full((n, t), np.nan),
        np.zeros((n, t), np.int8),
        "M",
        context or {},
    )


def scaled_comext_copy(
    src: Path, dst: Path, changes: dict[tuple[str, str, str, str], float | tuple[str, float]]
) -> None:
    """Copy a Comext SDMX-CSV, multiplying one indicator of the (reporter, partner, flow,
    TIME_PERIOD) cells in ``changes`` by a factor: a bare factor scales VALUE_IN_EUROS, an
    ``(indicator, factor)`` pair the indicator named (``QUANTITY_IN_100KG``)."""
    with gzip.open(src, "rt") as fh:
        lines = fh.read().splitlines()
    col = {name: i for i, name in enumerate(lines[0].split(","))}
    out = [lines[0]]
    for line in lines[1:]:
        f = line.split(",")
        key = (f[col["reporter"]], f[col["partner"]], f[col["flow"]], f[col["TIME_PERIOD"]])
        change = changes.get(key, ("", 1.0))
        indicator, factor = change if isinstance(change, tuple) else ("VALUE_IN_EUROS", change)
        if f[col["indicators"]] == indicator and f[col["OBS_VALUE"]]:
            f[col["OBS_VALUE"]] = f"{float(f[col['OBS_VALUE']]) * factor:.2f}"
        out.append(",".join(f))
    with gzip.open(dst, "wt") as fh:
        fh.write("\n".join(out) + "\n")
