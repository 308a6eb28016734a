"""api.scan saves findings chunk by chunk in one transaction and reads them back on demand."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.conftest import DEMO_CSV
from tradesentry import api
from tradesentry.engines import local
from tradesentry.generate import generate, load_generated


@pytest.fixture
def two_releases(store, tmp_path):
    """Generated series, the demo release and a revision of part of it: every detector has
    something to read (several chunks, a TOTAL among HS6 codes, a previous release)."""
    generate(tmp_path / "gen", rows=4_000, seed=7, anomaly_rate=0.3)
    load_generated(store, tmp_path / "gen")
    store.ingest(DEMO_CSV)
    revised = pd.read_csv(DEMO_CSV).head(12)
    revised["value"] = revised["value"] * 3
    revised.to_csv(tmp_path / "revised.csv", index=False)
    store.ingest(tmp_path / "revised.csv", published="2030-01-01")
    return store


def _rows(store, table: str) -> int:
    return store.con.cursor().execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


@pytest.mark.parametrize("since", [None, "2021-01"])
def test_saved_scan_reads_back_the_in_memory_findings_in_rank_order(two_releases, since):
    in_memory = api.scan(two_releases, since=since, chunk_series=7, save=False)
    saved = api.scan(two_releases, since=since, chunk_series=7)
    assert len(in_memory) > 20 and in_memory.scan_id is None
    assert len(saved) == len(in_memory)
    assert api.scan_info(two_releases, saved.scan_id)["findings"] == len(in_memory)
    assert [f["id"] for f in saved] == in_memory.to_frame()["id"].tolist()
    assert saved.to_records() == in_memory.to_records()
    assert list(saved) == in_memory.to_records()  # iteration reads the store in batches
    assert saved.to_json(lines=True) == in_memory.to_json(lines=True)
    assert saved.head(5).to_records() == in_memory.to_records()[:5]
    high = saved.filter(severity="high").to_records()
    assert high == in_memory.filter(severity="high").to_records()
    assert "findings</p>" in saved._repr_html_()


class Interrupted(Exception):
    """Raised by the test's detector run after some findings have been written."""


@pytest.mark.parametrize("error", [Interrupted, KeyboardInterrupt])
def test_an_interrupted_scan_leaves_the_store_as_it_was(two_releases, monkeypatch, error):
    first = api.scan(two_releases)
    before = (_rows(two_releases, "scans"), _rows(two_releases, "findings"))
    real, written = local.scan_frame, []

    def fails_after_findings(frame, detectors):
        if written:  # a chunk with findings went to the store before this one
            raise error("stop")
        found = real(frame, detectors)
        if len(found):
            written.append(len(found))
        return found

    monkeypatch.setattr(local, "scan_frame", fails_after_findings)
    with pytest.raises(error):
        api.scan(two_releases, chunk_series=5)
    assert written
    assert (_rows(two_releases, "scans"), _rows(two_releases, "findings")) == before
    assert api.scan_info(two_releases)["id"] == first.scan_id
    monkeypatch.undo()
    again = api.scan(two_releases)  # the store takes the next scan as usual
    assert again.to_records() == first.to_records()
