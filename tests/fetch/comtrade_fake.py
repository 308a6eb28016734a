"""A local stand-in for the UN Comtrade API: http.server on 127.0.0.1, replaying recorded replies.

Data calls are answered from ``tests/data/comtrade_api`` by period (records filtered by the
requested flows, as the API does); availability calls from the ``getDa`` reply. A test can
queue scripted replies (a 429, a 401, malformed JSON...) that are served first, in order.
Every request is logged with its path, query and headers so tests can check what was sent.
A scripted reply may be held back a while (``delay``), as a stalled API would be.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

DATA = Path(__file__).resolve().parents[1] / "data" / "comtrade_api"


def recorded(name: str) -> bytes:
    return (DATA / name).read_bytes()


def month_records(period: str) -> list[dict]:
    """The recorded China -> DPRK records of one month of 2021 (both flows)."""
    return json.loads(recorded(f"preview-C-M-HS-r156-p408-{period}.json"))["data"]


def envelope(records: list, **fields) -> bytes:
    """An answer in the data endpoint's format holding ``records`` (its count theirs)."""
    doc = {"elapsedTime": "0.05 secs", "count": len(records), "data": records, "error": ""}
    return json.dumps({**doc, **fields}).encode()


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before it is sent (cut short when the server stops)


@dataclass
class Seen:
    path: str
    query: dict[str, str]
    headers: dict[str, str]


class FakeComtrade:
    """The API's routes, backed by the recorded replies; ``script()`` queues overrides."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.scripted: deque[Reply] = deque()
        self.revised: dict[str, list[dict]] = {}  # period -> records replacing the recording
        self.published: dict[str, str] = {}  # period -> its lastReleased date, replacing it
        self.calls = 0
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, *replies: Reply) -> None:
        self.scripted.extend(replies)

    def data_calls(self) -> list[Seen]:
        return [s for s in self.seen if "/getDa/" not in s.path]

    def start(self) -> FakeComtrade:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    # -- routing -----------------------------------------------------------------------
    def answer(self, path: str, query: dict[str, str]) -> Reply:
        self.calls += 1
        if self.scripted:
            return self.scripted.popleft()
        if "/v1/getDa/C/" in path:
            return self._availability(query)
        if path.startswith(("/public/v1/preview/C/", "/data/v1/get/C/")):
            return self._data(query)
        return Reply(404, json.dumps({"statusCode": 404, "message": "Resource not found"}).encode())

    def _envelope(self, data: list[dict]) -> Reply:
        # elapsedTime differs on every call, as the real API's does
        doc = {
            "elapsedTime": f"0.{self.calls:02d} secs",
            "count": len(data),
            "data": data,
            "error": "",
        }
        return Reply(200, json.dumps(doc).encode(), {"Content-Type": "application/json"})

    def _availability(self, query: dict[str, str]) -> Reply:
        periods = set(query.get("period", "").split(","))
        rows = json.loads(recorded("getDa-C-M-HS-r156-2021.json"))["data"]
        for row in rows:
            if row["period"] in self.published:
                row["lastReleased"] = f"{self.published[row['period']]}T09:00:00"
        return self._envelope([r for r in rows if r["period"] in periods])

    def _data(self, query: dict[str, str]) -> Reply:
        period = query.get("period", "")
        flows = set(query.get("flowCode", "").split(","))
        if period in self.revised:
            records = self.revised[period]
        else:
            name = f"preview-C-M-HS-r{query.get('reporterCode')}-p{query.get('partnerCode')}-{period}.json"
            records = json.loads(recorded(name))["data"] if (DATA / name).exists() else []
        return self._envelope([r for r in records if r["flowCode"] in flows])

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = dict(parse_qsl(parts.query))
                fake.seen.append(Seen(parts.path, query, dict(self.headers.items())))
                reply = fake.answer(parts.path, query)
                if reply.delay and fake._stopping.wait(reply.delay):
                    return  # stopped while holding it back: the client is gone
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, *args) -> None:
                pass

        return Handler


class StubStore:
    """Stands in for the store where only the fetch side is under test: it records the
    files it is given and, like the store, treats a file it has seen (by sha256) as a no-op."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.ingested: list[tuple[Path, str, object]] = []
        self._by_sha: dict[str, object] = {}

    def ingest(self, path, source="auto", published=None):
        import hashlib
        from dataclasses import replace

        from tradesentry.store import IngestResult

        path = Path(path)
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        if sha in self._by_sha:
            return replace(self._by_sha[sha], already_ingested=True)
        self.ingested.append((path, source, published))
        rows = len(json.loads(path.read_bytes())["data"])
        result = IngestResult(len(self._by_sha) + 1, path.name, source, sha, rows, rows, 0, rows)
        self._by_sha[sha] = result
        return result
