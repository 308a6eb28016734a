"""Fixtures for the detector tests: generated panels with and without injected anomalies."""

from __future__ import annotations

import numpy as np
import pytest

from tradesentry.datasets import make_panel, synthetic_values
from tradesentry.panel import Panel


@pytest.fixture(scope="session")
def clean_values() -> np.ndarray:
    """300 realistic series of 48 months (noise 0.05–0.3 log units, Student-t tails)."""
    return synthetic_values(300, 48, seed=11, noise=(0.05, 0.3))


@pytest.fixture
def clean_panel(clean_values) -> Panel:
    return make_panel(clean_values.copy())
