"""Fixtures for the monitor: vintages of the China–North Korea data and a tiny detector.

The monitor's logic (new, resolved, digest, watch) must not depend on how the real
detectors are tuned, so most tests scan with ``TinyValue``: a value under 1 % of its
series' median is implausible. On the demo data it flags China's exports of November 2020
($148,000), January 2021 ($29,000) and February 2021 ($3,000). Tests that do not ask
for ``tiny`` use the registered detectors.
"""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from tests.conftest import DEMO_CSV
from tests.report.seed import annual_store  # noqa: F401  (fixture)
from tradesentry.detectors import detections
from tradesentry.detectors.base import Detector
from tradesentry.panel import Panel
from tradesentry.text import money


@dataclass(frozen=True)
class TinyValue(Detector):
    """A value below ``share`` × the series' median: the simplest implausible check."""

    kind: ClassVar[str] = "implausible"
    share: float = 0.01

    def detect(self, panel: Panel):
        values = panel.values
        with np.errstate(invalid="ignore"):
            median = np.nanmedian(np.where(np.isnan(values), np.nan, values), axis=1)
            rows, cols = np.nonzero(values < self.share * median[:, None])
        expected = median[rows]
        return detections(
            self.kind,
            rows,
            cols,
            observed=values[rows, cols],
            expected=expected,
            impact=expected - values[rows, cols],
            score=np.full(len(rows), 0.95),
            evidence=[{"median": float(m)} for m in expected],
        )

    def explain(self, finding: Mapping) -> str:
        return (
            f"{finding['period']} recorded {money(finding['observed'])} against a usual "
            f"{money(finding['expected'])}."
        )


@pytest.fixture
def tiny(monkeypatch) -> None:
    """Scan with TinyValue only (api.scan and everything that calls it)."""
    monkeypatch.setattr("tradesentry.api.default_detectors", lambda kinds=None: [TinyValue()])


def demo_rows() -> list[dict]:
    with DEMO_CSV.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def write_rows(path: Path, rows: list[dict]) -> Path:
    """A canonical CSV of ``rows`` (the demo file's columns)."""
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def vintage(path: Path, *, until: str, since: str | None = None, edits=None) -> Path:
    """The demo rows from ``since`` to ``until`` (YYYY-MM); ``edits``: {(flow, period): value}."""
    edits = edits or {}
    rows = []
    for row in demo_rows():
        if row["period"] > until or (since and row["period"] < since):
            continue
        key = (row["flow"], row["period"])
        if key in edits and row["period_months"] == "1":
            row = {**row, "value": str(edits[key])}
        rows.append(row)
    return write_rows(path, rows)


# -- a webhook on 127.0.0.1 ------------------------------------------------------------------


class Hook:
    """A local webhook: records JSON bodies; answers 500 to the first ``fail`` requests."""

    def __init__(self, fail: int = 0):
        self.fail = fail
        self.bodies: list[dict] = []
        self.attempts = 0
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                hook.attempts += 1
                if hook.attempts <= hook.fail:
                    self.send_response(500)
                    self.end_headers()
                    return
                hook.bodies.append(json.loads(body))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:  # keep the test output clean
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> Hook:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook() -> Iterator[Hook]:
    with Hook() as h:
        yield h


@pytest.fixture
def flaky_hook() -> Iterator[Hook]:
    with Hook(fail=1) as h:
        yield h
