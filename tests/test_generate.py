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


KEY = ["reporter", "partner", "flow", "commodity"]


def _stream(**size) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows (periods as YYYY-MM) and ground truth of ``iter_blocks`` (seed 5, 8 months,
    every eligible series given an anomaly)."""
    parts = list(iter_blocks(seed=5, months=8, anomaly_rate=1.0, **size))
    rows = pd.concat([r.to_pandas() for r, _ in parts], ignore_index=True)
    rows["period"] = pd.to_datetime(rows["period"]).dt.strftime("%Y-%m")
    rows[KEY] = rows[KEY].astype(str)
    return rows, pd.concat([t for _, t in parts], ignore_index=True)


def _written(truth: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """The anomalies of ``truth`` that ``rows`` hold: each month of it written, and a level
    shift with a month before it (from the first month written on, it is only a level)."""
    first = rows.groupby(KEY)["period"].min().rename("first").reset_index()
    spans = truth.merge(first, on=KEY)
    months = rows[[*KEY, "period"]]
    at = spans.merge(months, on=[*KEY, "period"])
    at = at.merge(months.rename(columns={"period": "period_end"}), on=[*KEY, "period_end"])
    held = at[(at["kind"] != "level_shift") | (at["period"] > at["first"])]
    return held[list(GROUND_TRUTH_COLUMNS)].reset_index(drop=True)


@pytest.mark.parametrize(
    "rows",
    [1, 2, 8, 9, 10, 11, 1_234, 7_331],
    ids=[
        "dip-before-the-months-kept",
        "dip-in-the-months-kept",
        "on-a-series-boundary",
        "level-shift-before",
        "level-shift-from-the-first-month-kept",
        "level-shift-after-it",
        "in-the-first-block",
        "in-the-second-block",
    ],
)
def test_a_series_cut_by_rows_keeps_its_latest_months_and_its_truth(rows):
    """The series the row count ends in kept its first months: it read as a series that
    stopped reporting, a high gap the ground truth did not hold (QA: `generate --rows 100000
    --seed 11`, MUS→NOR 110360 stopped after 14 months, "$192.5M at stake"). It keeps its
    latest months now (a series that starts late), the count stays exact, and the ground
    truth is the whole stream's for what is written."""
    got, truth = _stream(rows=rows)
    whole, whole_truth = _stream(series=2_000)
    assert len(got) == rows
    key = got[KEY].iloc[-1]
    months = whole.loc[(whole[KEY] == key).all(axis=1), "period"].tolist()
    kept = got.loc[(got[KEY] == key).all(axis=1), "period"].tolist()
    assert kept == months[len(months) - len(kept) :]
    pd.testing.assert_frame_equal(truth, _written(whole_truth, got))


def test_the_scan_finds_no_stop_where_the_rows_end(tmp_path, store):
    """`generate --rows 2000 --seed 11` cut its last series after 33 months; the scan
    flagged the cut as a high gap to the axis' end, in no ground truth."""
    generate(tmp_path / "g", rows=2_000, seed=11)
    load_generated(store, tmp_path / "g")
    last = rows_of(tmp_path / "g").iloc[-1]
    gaps = store.scan(kinds="gap").to_frame()
    assert len(gaps[(gaps[KEY] == last[KEY]).all(axis=1)]) == 0


@pytest.mark.parametrize("series", [7, 300, 1_500])
def test_the_series_asked_for_when_some_have_no_month(series):
    """Over 8 months some intermittent series report no month and have no row: the rows were
    counted by key, the truth by the block's series, so a cut kept other series than its
    truth (and across blocks fewer series than asked for)."""
    got, truth = _stream(series=series)
    assert got.groupby(KEY).ngroups == series
    whole, whole_truth = _stream(series=2_000)
    pd.testing.assert_frame_equal(truth, _written(whole_truth, got))
