"""One local Spark for the whole test session (starting one costs seconds), and helpers."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from tradesentry.findings import EXTRA_COLUMNS, FINDING_COLUMNS, _jsonable, rank


@pytest.fixture(scope="session")
def spark():
    """A SparkSession on local[2], shared by every Spark test; stopped at the end."""
    pytest.importorskip("pyspark", reason="the [spark] extra is not installed")
    if shutil.which("java") is None:
        pytest.skip("no Java runtime (make system-deps installs Java 17)")
    from tradesentry.engines import spark as spark_engine

    session = spark_engine.session("local[2]")
    session.conf.set("spark.sql.shuffle.partitions", "2")  # tiny data: fewer, larger tasks
    yield session
    session.stop()


def assert_same_findings(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Same ids, kinds, series, periods and text; numbers equal to 1e-9 relative."""
    left, right = rank(left), rank(right)
    assert sorted(left["id"]) == sorted(right["id"])
    a = left.set_index("id").sort_index()
    b = right.set_index("id").loc[a.index]
    numbers = ("observed", "expected", "impact", "score")
    for column in (*FINDING_COLUMNS, *EXTRA_COLUMNS):
        if column in ("id", "evidence", *numbers):
            continue
        assert a[column].tolist() == b[column].tolist(), column
    for column in numbers:
        x, y = a[column].astype(float).to_numpy(), b[column].astype(float).to_numpy()
        assert np.allclose(x, y, rtol=1e-9, atol=0, equal_nan=True), column
    for x, y in zip(a["evidence"], b["evidence"], strict=True):
        assert _close(_jsonable(x), _jsonable(y)), (x, y)


def _close(x, y) -> bool:
    """Equal structures; floats equal to 1e-9 relative (Spark and DuckDB round medians alike,
    but not always to the last bit)."""
    if isinstance(x, dict) and isinstance(y, dict):
        return x.keys() == y.keys() and all(_close(x[k], y[k]) for k in x)
    if isinstance(x, list) and isinstance(y, list):
        return len(x) == len(y) and all(_close(u, v) for u, v in zip(x, y, strict=True))
    if isinstance(x, float) or isinstance(y, float):
        return x is not None and y is not None and bool(np.isclose(x, y, rtol=1e-9, atol=0))
    return x == y
