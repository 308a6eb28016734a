"""Findings backed by a saved scan: the store's order is ``rank``'s; len and head read little."""

from __future__ import annotations

import importlib
import io
import json

import numpy as np
import pandas as pd
import pytest

from tests.conftest import DEMO_CSV
from tradesentry import api
from tradesentry.errors import StoreError
from tradesentry.findings import FINDING_COLUMNS, Findings, empty_findings, evidence_json, rank

# ``tradesentry.findings`` the attribute is the api function; the module is this one.
findings_module = importlib.import_module("tradesentry.findings")


def _frame(n: int, seed: int) -> pd.DataFrame:
    """Findings with ties on severity and impact, missing impacts and a repeated id."""
    rng = np.random.default_rng(seed)
    frame = empty_findings().reindex(range(n))
    frame["id"] = [f"{i:04x}" for i in rng.integers(0, n, n)]  # repeats on purpose
    frame["kind"] = "spike"
    frame["severity"] = rng.choice(["high", "medium", "low"], n)
    impact = rng.choice([0.0, 1.0, 2.5, 1e6, np.nan], n)
    frame["impact"] = impact
    frame["explanation"] = [f"row {i}" for i in range(n)]  # tells equal keys apart
    frame["evidence"] = [{"row": i} for i in range(n)]
    for column in ("reporter", "partner", "flow", "commodity", "period", "period_end"):
        frame[column] = "x"
    frame["observed"] = frame["expected"] = frame["score"] = 1.0
    return frame


def test_the_store_ranks_a_saved_scan_as_rank_does(store):
    parts = [_frame(300, seed) for seed in (1, 2)]
    scan_id = api._save_scan(store, iter(parts), {}, None, None, "local")
    saved = Findings.from_store(store, scan_id)
    want = rank(pd.concat(parts, ignore_index=True))
    assert saved.to_frame()["explanation"].tolist() == want["explanation"].tolist()
    assert [f["explanation"] for f in saved] == want["explanation"].tolist()


def test_length_and_head_of_a_saved_scan_do_not_load_the_frame(demo_store, monkeypatch):
    saved = api.scan(demo_store)
    total = demo_store.con.execute("SELECT count(*) FROM findings").fetchall()[0][0]
    calls = []
    real = findings_module.saved_frame

    def recorded(con, scan_id, where="true", params=(), limit=None):
        calls.append(limit)
        return real(con, scan_id, where, params, limit)

    monkeypatch.setattr(findings_module, "saved_frame", recorded)
    assert len(saved) == total >= 3
    assert sum(1 for _ in saved) == total
    assert calls == []
    assert len(saved.head(2)) == 2 and calls == [2]
    assert len(saved.to_frame()) == total and calls == [2, None]
    assert list(saved.to_frame().columns[: len(FINDING_COLUMNS)]) == list(FINDING_COLUMNS)
    saved.to_records()
    assert calls == [2, None]  # loaded once, then kept


def test_findings_of_a_closed_store_say_so(tmp_path):
    from tradesentry.store import open_store

    with open_store(tmp_path / "s.duckdb") as st:
        st.ingest(DEMO_CSV)
        saved = api.scan(st)
    with pytest.raises(StoreError, match="closed"):
        saved.to_frame()


def test_evidence_is_written_as_valid_json_whatever_it_holds():
    """Every output (the store, Spark, the CSV) encodes evidence one way: JSON has no NaN."""
    evidence = {
        "z": np.float64("nan"),
        "ratio": float("inf"),
        "n": np.int64(3),
        "months": np.array([1.5, np.nan]),
        "pair": (np.float32(0.5), None),
        "when": pd.Timestamp("2021-02-01"),
    }
    text = evidence_json(evidence)
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {
        "z": None,
        "ratio": None,
        "n": 3,
        "months": [1.5, None],
        "pair": [0.5, None],
        "when": "2021-02-01 00:00:00",
    }
    assert evidence_json(None) == "{}"


@pytest.mark.parametrize("lines", [False, True])
def test_a_saved_scan_writes_json_record_by_record(demo_store, monkeypatch, lines):
    """The same text as the frame in memory gives, without loading the scan (batches of 2)."""
    saved = api.scan(demo_store)
    in_memory = Findings(saved.to_frame(), saved.scan_id)
    want = in_memory.to_json(lines)
    if not lines:
        assert want == json.dumps(in_memory.to_records(), ensure_ascii=False, indent=1)
    stored = Findings.from_store(demo_store, saved.scan_id)
    monkeypatch.setattr(findings_module, "_STREAM_BATCH", 2)
    monkeypatch.setattr(findings_module, "saved_frame", None)  # loading would fail
    out = io.StringIO()
    stored.write_json(out, lines)
    assert out.getvalue() == want
    empty = Findings(empty_findings())
    assert empty.to_json() == "[]" and empty.to_json(lines=True) == ""
