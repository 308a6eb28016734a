"""The generator: exact sizes, determinism by seed, ground truth, memory bounded by the chunk."""

from __future__ import annotations

import tracemalloc

import pandas as pd
import pyarrow.parquet as pq
import pytest

from tradesentry.errors import InputError
from tradesentry.generate import (
    ANOMALY_KINDS,
    GROUND_TRUTH_COLUMNS,
    generate,
    iter_blocks,
    load_generated,
    read_ground_truth,
)
from tradesentry.schema import CANONICAL_CSV_COLUMNS


def rows_of(out) -> pd.DataFrame:
    return pq.read_table(out / "observations").to_pandas()


def test_exact_row_count_across_chunks(tmp_path):
    result = generate(tmp_path / "g", rows=100_001, chunk_rows=40_000, seed=2)
    assert result.rows == 100_001
    assert len(result.files) == 3  # blocks of 1,000 series (~43,000 rows) per file here
    frame = rows_of(tmp_path / "g")
    assert len(frame) == 100_001
    assert list(frame.columns) == list(CANONICAL_CSV_COLUMNS)
    keys = ["reporter", "partner", "flow", "commodity"]
    assert frame[keys].drop_duplicates().shape[0] == result.series
    assert not frame.duplicated([*keys, "period"]).any()
    assert (frame["reporter"] != frame["partner"]).all()
    assert (frame["value"] >= 0).all() and (frame["value"] == 0).any()


def test_series_count(tmp_path):
    result = generate(tmp_path / "g", series=1_500, months=30)
    frame = rows_of(tmp_path / "g")
    assert result.series == 1_500
    assert (
        frame.groupby(["reporter", "partner", "flow", "commodity"], observed=True).ngroups == 1_500
    )
    assert frame["period"].nunique() == 30


def test_same_seed_same_data_whatever_the_chunk(tmp_path):
    generate(tmp_path / "a", rows=8_000, seed=5, chunk_rows=1_000)
    generate(tmp_path / "b", rows=8_000, seed=5, chunk_rows=100_000)
    generate(tmp_path / "c", rows=8_000, seed=6)
    a, b, c = (rows_of(tmp_path / n) for n in "abc")
    pd.testing.assert_frame_equal(a, b)
    assert not a["value"].equals(c["value"])
    pd.testing.assert_frame_equal(
        read_ground_truth(tmp_path / "a"), read_ground_truth(tmp_path / "b")
    )


def test_ground_truth_points_at_real_rows(tmp_path):
    generate(tmp_path / "g", rows=30_000, seed=3, anomaly_rate=0.3)
    truth = read_ground_truth(tmp_path / "g")
    assert list(truth.columns) == list(GROUND_TRUTH_COLUMNS)
    assert set(truth["kind"]) == set(ANOMALY_KINDS)
    frame = rows_of(tmp_path / "g")
    frame["period"] = pd.to_datetime(frame["period"]).dt.strftime("%Y-%m")
    hits = truth.merge(frame, on=["reporter", "partner", "flow", "commodity", "period"])
    assert len(hits) == len(truth)  # every anomaly sits on a reported month
    assert (truth["period"] <= truth["period_end"]).all()


def test_csv_is_canonical_and_ingests_like_the_parquet_fixture(tmp_path, store):
    generate(tmp_path / "csv", rows=3_000, seed=4, format="csv")
    generate(tmp_path / "pq", rows=3_000, seed=4)
    assert (tmp_path / "csv" / "ground_truth.csv").exists()
    result = store.ingest(tmp_path / "csv" / "observations.csv")
    assert (result.rows_read, result.rows_quarantined) == (3_000, 0)
    from tradesentry.store import open_store

    with open_store(tmp_path / "other.duckdb") as other:
        loaded = load_generated(other, tmp_path / "pq")
        assert loaded.rows_accepted == 3_000
        assert load_generated(other, tmp_path / "pq").already_ingested
        columns = "reporter, partner, flow, commodity, period, value, net_weight_kg, line"
        theirs = other.con.execute(f"SELECT {columns} FROM observations ORDER BY line").df()
    ours = store.con.execute(f"SELECT {columns} FROM observations ORDER BY line").df()
    pd.testing.assert_frame_equal(ours, theirs)


def test_memory_is_bounded_by_the_chunk():
    def peak(rows: int) -> int:
        tracemalloc.start()
        for _ in iter_blocks(rows=rows, seed=1):
            pass
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    assert peak(400_000) < 1.5 * peak(50_000)


def test_bad_sizes_and_a_used_directory(tmp_path):
    with pytest.raises(InputError):
        generate(tmp_path / "g", rows=10, series=10)
    with pytest.raises(InputError):
        generate(tmp_path / "g", rows=0)
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "x").write_text("x")
    with pytest.raises(InputError, match="not empty"):
        generate(tmp_path / "used", rows=10)
