"""Fixtures of the dashboard tests: an in-process client, a live server, a browser."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.report.seed import (  # noqa: F401  (fixtures)
    annual,
    annual_store,
    both_freqs,
    both_freqs_store,
    breakdowns,
    breakdowns_store,
    evil_store,
    pairs_store,
    seeded,
    seeded_store,
    two_classifications,
    two_classifications_store,
    with_evil,
)
from tradesentry.web import create_app

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> TestClient:
    """The dashboard over the seeded store, in process, read-only (shared by a module)."""
    store = seeded(tmp_path_factory.mktemp("client") / "seeded.duckdb")
    path = store.path
    store.close()
    return TestClient(create_app(path))


@pytest.fixture(scope="module")
def two_path(tmp_path_factory) -> Path:
    """A store file holding one HS code under H5 and under HS (closed: served read-only)."""
    store = two_classifications(tmp_path_factory.mktemp("two") / "two.duckdb")
    path = store.path
    store.close()
    return path


@pytest.fixture(scope="module")
def two_client(two_path) -> TestClient:
    """The dashboard over one HS code held under two classifications, read-only."""
    return TestClient(create_app(two_path))


def _client_over(build, tmp_path_factory, name: str) -> TestClient:
    """The dashboard, read-only, over the store ``build`` makes in a new folder ``name``."""
    store = build(tmp_path_factory.mktemp(name) / f"{name}.duckdb")
    path = store.path
    store.close()
    return TestClient(create_app(path))


@pytest.fixture(scope="module")
def annual_client(tmp_path_factory) -> TestClient:
    """The dashboard over an annual series and its scanned findings, read-only."""
    return _client_over(annual, tmp_path_factory, "annual")


@pytest.fixture(scope="module")
def both_client(tmp_path_factory) -> TestClient:
    """The dashboard over one series held both monthly and annually, scanned, read-only."""
    return _client_over(both_freqs, tmp_path_factory, "both")


@pytest.fixture(scope="module")
def breakdowns_client(tmp_path_factory) -> TestClient:
    """The dashboard over a flow held as its total and by mode of transport, read-only."""
    return _client_over(breakdowns, tmp_path_factory, "breakdowns")


@pytest.fixture(scope="module")
def evil_client(live_store) -> TestClient:
    """The dashboard over data full of markup and formulas, in process, read-only."""
    return TestClient(create_app(live_store))


class LiveServer:
    """The app under uvicorn in a thread, on a free loopback port."""

    def __init__(self, app):
        import uvicorn

        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def live_store(tmp_path_factory) -> Path:
    """A store file with the demo, markup-laden data and known findings (closed: served read-only)."""
    folder = tmp_path_factory.mktemp("live")
    store = with_evil(seeded(folder / "live.duckdb"), folder)
    path = store.path
    store.close()
    return path


@pytest.fixture(scope="module")
def live_url(live_store) -> Iterator[str]:
    with LiveServer(create_app(live_store)) as url:
        yield url


@pytest.fixture(scope="module")
def two_url(two_path) -> Iterator[str]:
    with LiveServer(create_app(two_path)) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, driven by Playwright (`make system-deps` installs it)."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("chromium not found: `make system-deps` installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
