"""Every registered detector through the same contract: shape, robustness, invariances."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tradesentry.datasets import make_panel, synthetic_values
from tradesentry.detectors import DETECTION_COLUMNS, registry
from tradesentry.panel import Panel

from ._helpers import findings

KINDS = sorted(registry())


def _detect(kind: str, panel: Panel) -> pd.DataFrame:
    return registry()[kind]().detect(panel)


def _key(frame: pd.DataFrame) -> list[tuple]:
    return sorted(zip(frame["series"], frame["start"], frame["end"], frame["kind"], strict=True))


def _messy(seed: int = 3) -> np.ndarray:
    """Series with NaN, zeros, an all-NaN row, a constant row and an intermittent row."""
    v = synthetic_values(40, 36, seed=seed, missing=0.1, zeros=0.03)
    v[0] = np.nan
    v[1] = 5000.0
    v[2] = np.where(np.random.default_rng(seed).random(36) < 0.5, 0.0, 120.0)
    v[3, :30] = np.nan
    return v


@pytest.mark.parametrize("kind", KINDS)
def test_shape_and_columns(kind):
    panel = make_panel(_messy())
    out = _detect(kind, panel)
    assert list(out.columns) == list(DETECTION_COLUMNS)
    if len(out):
        assert (out["kind"] == kind).all()
        assert out["series"].between(0, panel.n_series - 1).all()
        assert (out["start"] >= 0).all() and (out["end"] < panel.n_months).all()
        assert (out["start"] <= out["end"]).all()
        assert out["score"].between(0, 1).all()
        assert (out["impact"] >= 0).all()
        assert all(isinstance(e, dict) for e in out["evidence"])


@pytest.mark.parametrize("kind", KINDS)
def test_explanations_are_sentences(kind):
    panel = make_panel(_messy())
    cls = registry()[kind]
    found = findings(panel, [cls()])
    for text in found["explanation"]:
        assert isinstance(text, str) and len(text) > 40
        assert "nan" not in text.lower().split()


@pytest.mark.parametrize("kind", KINDS)
def test_nan_all_nan_and_no_warnings(kind):
    v = _messy()
    v[np.random.default_rng(0).random(v.shape) < 0.3] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = _detect(kind, make_panel(v))
    assert not (out["series"] == 0).any()  # the all-NaN row


@pytest.mark.parametrize("kind", KINDS)
def test_constant_and_zero_series_give_nothing(kind):
    v = np.vstack([np.full(36, 5000.0), np.zeros(36), np.full(36, 1e9)])
    assert len(_detect(kind, make_panel(v))) == 0


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("months", [1, 2, 7, 18])
def test_short_series(kind, months):
    v = synthetic_values(20, months, seed=5)
    out = _detect(kind, make_panel(v))
    assert list(out.columns) == list(DETECTION_COLUMNS)


@pytest.mark.parametrize("kind", KINDS)
def test_intermittent_series_stay_quiet(kind):
    rng = np.random.default_rng(8)
    v = np.where(rng.random((100, 48)) < 0.4, 0.0, rng.lognormal(8, 1.0, (100, 48)))
    out = _detect(kind, make_panel(v))
    assert len(out) <= 10  # 400 series-years of lumpy trade: a handful at most


@pytest.mark.parametrize("kind", KINDS)
def test_deterministic(kind):
    v = _messy()
    a, b = _detect(kind, make_panel(v.copy())), _detect(kind, make_panel(v.copy()))
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("kind", KINDS)
def test_permutation_of_series(kind, clean_values):
    v = clean_values[:120].copy()
    v[5, 20] *= 1e-4
    v[9, 30] *= 40
    order = np.random.default_rng(1).permutation(len(v))
    base = make_panel(v)
    perm = make_panel(v[order], keys=base.keys.iloc[order])
    a = _detect(kind, base)
    b = _detect(kind, perm)
    b = b.assign(series=order[b["series"].to_numpy(dtype=np.int64)])
    assert _key(a) == _key(b)


@pytest.mark.parametrize("kind", KINDS)
def test_scale_invariance(kind, clean_values):
    v = clean_values[:120].copy()
    v[5, 20] *= 1e-4
    v[9, 30] *= 40
    v[12, 24:] *= 0.1
    a = _detect(kind, make_panel(v))
    b = _detect(kind, make_panel(v * 1000.0))
    assert _key(a) == _key(b)
    np.testing.assert_allclose(a["score"].astype(float), b["score"].astype(float), atol=1e-9)


@pytest.mark.parametrize("kind", KINDS)
def test_annual_panels(kind):
    v = synthetic_values(30, 12, seed=2)
    v[3, 6] *= 1e-4
    panel = make_panel(v, start="2010-01", freq="A")
    out = _detect(kind, panel)
    assert list(out.columns) == list(DETECTION_COLUMNS)
