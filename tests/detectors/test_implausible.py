"""Implausible values: unit slips and near-zero months, and the months that are neither."""

from __future__ import annotations

import numpy as np

from tradesentry.detectors import default_detectors

from ._helpers import findings, keyed_panel


def _steady(n: int = 30, months: int = 36, noise: float = 0.3) -> np.ndarray:
    rng = np.random.default_rng(7)
    return 6.5e4 * np.exp(rng.normal(0.0, noise, (n, months)))


def test_a_usual_month_is_no_unit_slip_however_thin_that_month_was_before():
    """A Comext series' pattern (paper to Romania, 2023–2025): six months of a few euros
    among months of €65K, two of them Septembers. September 2024, at the series' usual
    level, is far above its seasonal expectation, but it is no ×1000 error."""
    v = _steady(months=35)
    v[:, [8, 16, 23, 29, 32, 34]] = [15.0, 32.0, 11.0, 97.0, 28.0, 97.0]
    found = findings(keyed_panel(v), default_detectors())
    sept = found[found["period"] == "2024-09"]
    slips = sept["evidence"].map(lambda e: e.get("reason") == "unit_slip")
    assert not slips.any()


def test_a_unit_slip_is_named_with_the_ratio_measured():
    v = _steady(noise=0.1)
    v[:, 20] *= 1000.0 * np.linspace(0.6, 1.6, len(v))  # slips, each off by the noise
    found = findings(keyed_panel(v), default_detectors(["implausible"]))
    slips = found[found["period"] == "2024-09"]
    assert len(slips) >= 0.9 * len(v)
    for f in slips.to_dict("records"):
        assert f["evidence"]["reason"] == "unit_slip"
        ratio = f["observed"] / f["expected"]
        assert f"{float(f'{ratio:.2g}'):,.0f} times the" in f["explanation"]
        assert "close to ×1,000" in f["explanation"]
