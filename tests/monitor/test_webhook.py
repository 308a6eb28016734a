"""The webhook's body and its delivery: what a chat shows, and what counts as delivered."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from tradesentry.findings import Findings, empty_findings
from tradesentry.monitor import webhook

ODD_FILE = "<!channel> <https://evil.example|click here> & @all \x9b[31mred.csv"


class Receiver:
    """A local endpoint answering every POST with ``status`` (and a Location for a 3xx),
    recording each request's method, path and raw body."""

    def __init__(self, status: int = 200):
        self.requests: list[tuple[str, str, bytes]] = []
        seen = self.requests

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                seen.append((self.command, self.path, self.rfile.read(length)))
                code = status if self.command == "POST" else 200
                self.send_response(code)
                if 300 <= code < 400:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_GET = _answer

            def log_message(self, *args) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(request):
    got = Receiver(getattr(request, "param", 200))
    yield got
    got.close()


def body() -> dict:
    release = {"id": 3, "file": ODD_FILE, "source": "csv", "published": None}
    return webhook.payload(Findings(empty_findings()), releases=[release])


@pytest.mark.parametrize("receiver", [302, 307], indirect=True)
def test_a_redirect_is_no_delivery(receiver):
    """urllib followed a 302 as a GET without the body, and the watch logged the message
    as posted and dropped it; a 3xx is an error now, and nothing is sent elsewhere."""
    with pytest.raises(webhook.WebhookError, match=r"HTTP 30\d .*redirect to /elsewhere"):
        webhook.post(receiver.url, body())
    assert [(method, path) for method, path, _ in receiver.requests] == [("POST", "/hook")]


def test_the_chat_text_makes_no_markdown_link_of_a_file_name():
    """Mattermost and Teams read the text as Markdown: a file named with a link showed a
    disguised link, and one with an image had every reader's client load it."""
    name = "[click here](https://evil.example/login) ![x](http://t.example/t.png).csv"
    release = {"id": 3, "file": name, "source": "csv", "published": None}
    text = webhook.payload(Findings(empty_findings()), releases=[release])["text"]
    assert "](" not in text and "]\u200b(https://evil.example/login)" in text
    assert text.replace("\u200b", "").endswith(f"after release 3 ({name}).")
    # a reference link's definition must start a line: a name's line break is an escape
    name = "[click here][x]\n\n[x]: https:evil.example\n\n.csv"
    release = {"id": 3, "file": name, "source": "csv", "published": None}
    text = webhook.payload(Findings(empty_findings()), releases=[release])["text"]
    assert "\n" not in text and "[click here][x]\\x0a\\x0a[x]: https:evil.example" in text


def test_the_chat_text_escapes_what_comes_from_files(receiver):
    """Slack reads <!channel> as a mention of everyone and <url|text> as a link: a file
    name's are escaped as Slack asks; the findings' JSON keeps the name as it is."""
    sent = body()
    assert "<" not in sent["text"] and "&lt;!channel&gt;" in sent["text"]
    assert "&amp; " in sent["text"] and sent["releases"][0]["file"] == ODD_FILE
    assert "@all" not in sent["text"] and "@\u200ball" in sent["text"]  # Mattermost's mention
    assert webhook.post(receiver.url, sent) == 200
    ((_, _, raw),) = receiver.requests
    assert b"\\u009b" in raw and "\x9b".encode() not in raw  # C1 escaped, as the digest's
    assert json.loads(raw)["releases"][0]["file"] == ODD_FILE


def test_a_resolved_finding_names_its_series(store):
    """A resolved finding was posted as its id, kind and month only, and the text did not
    say which: it carries its series' keys, months, severity and money, and the text names
    it."""
    from tests.conftest import DEMO_CSV
    from tradesentry import api

    store.ingest(DEMO_CSV)
    gone = api.scan(store, kinds=["implausible"], save=False)
    body = webhook.payload(Findings(empty_findings()), resolved=gone)
    (entry,) = [r for r in body["resolved"] if r["period"] == "2021-02"]
    assert (entry["reporter"], entry["partner"], entry["flow"], entry["commodity"]) == (
        "CHN", "PRK", "export", "TOTAL",
    )  # fmt: skip
    assert entry["severity"] and entry["impact"] > 0 and entry["currency"] == "USD"
    assert "Resolved: Implausible, February 2021: China's exports to North Korea" in body["text"]
