"""The local engine: chunking never changes findings; the current view without its window."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.conftest import DEMO_CSV
from tests.engines.conftest import assert_same_findings
from tradesentry.detectors import default_detectors
from tradesentry.engines import local
from tradesentry.export import export_parquet
from tradesentry.generate import generate, load_generated


@pytest.fixture
def generated_store(store, tmp_path):
    generate(tmp_path / "gen", rows=4_000, seed=7, anomaly_rate=0.3)
    load_generated(store, tmp_path / "gen")
    store.ingest(DEMO_CSV)  # a second release, and a TOTAL series among HS6 ones
    return store


@pytest.mark.parametrize("chunk_series", [1, 7])
def test_chunk_size_does_not_change_findings(generated_store, chunk_series):
    detectors = default_detectors()
    large = local.scan(generated_store.con.cursor(), detectors, {}, chunk_series=1_000_000)
    assert len(large) > 0
    small = local.scan(generated_store.con.cursor(), detectors, {}, chunk_series=chunk_series)
    assert_same_findings(large, small)


def test_chunks_hold_whole_series_and_whole_groups(generated_store):
    chunks = list(local.iter_chunks(generated_store.con.cursor(), {}, chunk_series=50))
    keys = [c.groupby(list(local.SERIES_ORDER), observed=True).ngroups for c in chunks]
    assert (
        sum(keys)
        == generated_store.con.execute(
            "SELECT count(DISTINCT (reporter, partner, flow, commodity)) FROM observations"
        ).fetchall()[0][0]
    )
    assert max(keys) <= 50
    rows = sum(len(c) for c in chunks)
    assert rows == generated_store.con.execute("SELECT count(*) FROM observations").fetchall()[0][0]


def test_latest_release_wins_as_in_the_current_view(demo_store, tmp_path):
    revised = pd.read_csv(DEMO_CSV).head(10)
    revised["value"] = revised["value"] + 1.0
    revised.to_csv(tmp_path / "revised.csv", index=False)
    demo_store.ingest(tmp_path / "revised.csv", published="2030-01-01")
    frame = pd.concat(local.iter_chunks(demo_store.con.cursor(), {}))
    current = demo_store.observations()
    got = frame.sort_values(["flow", "period", "period_months"])["value"].to_numpy()
    want = current.sort_values(["flow", "period", "period_months"])["value"].to_numpy()
    assert list(got) == list(want)


def test_export_writes_the_current_view(demo_store, tmp_path):
    result = export_parquet(demo_store, tmp_path / "lake")
    assert result.observations == 47
    back = pd.read_parquet(tmp_path / "lake" / "observations")
    assert len(back) == 47 and set(back["reporter"].astype(str)) == {"CHN"}
    assert (tmp_path / "lake" / "releases.parquet").exists()
