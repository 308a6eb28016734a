"""The shared model: its building blocks agree with NumPy, and blocks and threads change nothing."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tradesentry.detectors import baseline as B
from tradesentry.errors import InputError


def _same_model(a: B.Baseline, b: B.Baseline) -> None:
    for name in B.Baseline.__dataclass_fields__:
        if name not in ("shifts", "config"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    for name in B.Shifts.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(a.shifts, name), getattr(b.shifts, name), name)


def test_nanmedian_agrees_with_numpy():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(200, 9))
    a[rng.random(a.shape) < 0.4] = np.nan
    a[0] = np.nan  # a row with nothing reported
    med, count = B.nanmedian(a)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        expected = np.nanmedian(a, axis=1)
    np.testing.assert_allclose(med, expected)
    np.testing.assert_array_equal(count, np.count_nonzero(~np.isnan(a), axis=1))


def test_blocks_and_threads_do_not_change_the_model(clean_values, monkeypatch):
    values = clean_values.copy()
    values[::7, 20:] *= 0.05  # level shifts, so the refit of shifted series is exercised
    values[::11, 30] = np.nan
    whole = B.fit(values, config=dataclasses.replace(B.DEFAULT_CONFIG, block_rows=10_000))
    small = dataclasses.replace(B.DEFAULT_CONFIG, block_rows=64)
    assert len(whole.shifts) > 0
    for threads in ("1", "3"):
        monkeypatch.setenv("TRADESENTRY_THREADS", threads)
        _same_model(B.fit(values, config=small), whole)


def test_the_model_does_not_depend_on_the_unit(clean_values):
    """Scale invariance: a series in thousands gets the same z-scores and shifts."""
    a, b = B.fit(clean_values), B.fit(clean_values * 1000.0)
    np.testing.assert_allclose(a.z, b.z, atol=1e-9)
    np.testing.assert_array_equal(a.shifts.start, b.shifts.start)


@pytest.mark.parametrize("bad", ["zero", "0", "-2", "1.5"])
def test_a_bad_thread_count_is_one_clear_error(bad, monkeypatch):
    monkeypatch.setenv("TRADESENTRY_THREADS", bad)
    with pytest.raises(InputError, match="TRADESENTRY_THREADS"):
        B.threads()
