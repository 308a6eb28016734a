"""The detector family: one module per kind, registered here, one contract (``base``).

A new detector is one module with a ``Detector`` subclass and one line in ``_MODULES``;
the contract tests in tests/detectors run it through shape, NaN, constant, zero,
determinism, permutation and scale checks for free.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from tradesentry.detectors.base import DETECTION_COLUMNS, Detector, confidence, detections
from tradesentry.panel import Panel

# module name -> class name, in the order they run (supersession does not depend on it).
_MODULES: dict[str, str] = {
    "implausible": "Implausible",
    "spike": "Spike",
    "dip": "Dip",
    "timing_shift": "TimingShift",
    "level_shift": "LevelShift",
    "gap": "Gap",
    "incoherent": "Incoherent",
    "revision": "Revision",
    "mirror_gap": "MirrorGap",
    "unit_value": "UnitValue",
}


def registry() -> dict[str, type[Detector]]:
    """kind -> detector class, for every registered detector."""
    out: dict[str, type[Detector]] = {}
    for module_name, class_name in _MODULES.items():
        cls = getattr(importlib.import_module(f"tradesentry.detectors.{module_name}"), class_name)
        out[cls.kind] = cls
    return out


def default_detectors(kinds: Iterable[str] | None = None) -> list[Detector]:
    """One instance of each registered detector with its default parameters."""
    classes = registry()
    wanted = list(classes) if kinds is None else list(kinds)
    unknown = [k for k in wanted if k not in classes]
    if unknown:
        from tradesentry.errors import InputError

        raise InputError(f"unknown kind(s) {', '.join(unknown)}; choose from {', '.join(classes)}")
    return [classes[k]() for k in wanted]


def run_detectors(panel: Panel, detectors: Sequence[Detector]) -> list[pd.DataFrame]:
    """Each detector's detections on one panel (empty panels give nothing)."""
    if panel.n_series == 0 or panel.n_months == 0:
        return []
    # Money past float64's largest (figures near 1.8e308, summed or scaled) is inf, which
    # the findings write as such; a warning per product would only repeat it.
    with np.errstate(over="ignore"):
        return [d.detect(panel) for d in detectors]


__all__ = [
    "DETECTION_COLUMNS",
    "Detector",
    "confidence",
    "default_detectors",
    "detections",
    "registry",
    "run_detectors",
]
