"""Fixtures for the fetch tests: the local Comtrade server, a stub store, no sleeping."""

from __future__ import annotations

import pytest
from comtrade_fake import FakeComtrade, StubStore


@pytest.fixture
def comtrade_api():
    fake = FakeComtrade().start()
    yield fake
    fake.stop()


@pytest.fixture
def no_sleep():
    """Collects the waits a fetch asks for instead of sleeping them."""
    waits: list[float] = []
    return waits


@pytest.fixture(autouse=True)
def _no_comtrade_env(monkeypatch):
    """A developer's own key or mirror must not leak into the tests."""
    monkeypatch.delenv("COMTRADE_API_KEY", raising=False)
    monkeypatch.delenv("COMTRADE_API_URL", raising=False)


@pytest.fixture
def stub_store(tmp_path) -> StubStore:
    return StubStore(tmp_path / "store.duckdb")
