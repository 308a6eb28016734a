"""Shared fixtures: a fresh store, the demo store, the real data under ../shared/data."""

from __future__ import annotations

import signal
from datetime import date
from importlib import resources
from pathlib import Path

import pytest

from tradesentry.store import Store, open_store

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def today() -> str:
    """The publication date of a revision in tests: today, the latest a date can be, read when
    the revision is ingested. An undated release ranks at its ingest date, so a date read at
    collection would rank a revision before it in a run that crosses midnight."""
    return date.today().isoformat()


DEMO_CSV = Path(str(resources.files("tradesentry").joinpath("data/cn_kp_monthly_2019_2021h1.csv")))


@pytest.fixture(autouse=True)
def ctrl_c_as_at_a_terminal():
    """Ctrl-C handled as at a terminal, whatever started the tests: a shell's background
    job inherits SIGINT ignored, and the CLI then leaves Ctrl-C alone (``cli``), so the
    interrupt tests would test another program there than here. Set for each test, since
    what an earlier test ran (Spark's gateway) may leave another handler behind."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


@pytest.fixture
def shared_data() -> Path:
    """The real trade data kept beside the repository (never copied into it)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"real test data not found at {SHARED_DATA}: the repo must sit beside shared/")
    return SHARED_DATA


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A new, empty store in a real DuckDB file."""
    st = open_store(tmp_path / "store.duckdb")
    yield st
    st.close()


@pytest.fixture
def demo_store(store: Store) -> Store:
    """A store holding the bundled China–North Korea release."""
    store.ingest(DEMO_CSV)
    return store


def plant_observations(store: Store, release_id: int, rows: list[dict]) -> None:
    """``rows`` written straight into ``store``'s observations under ``release_id``, each
    a copy of a row of that release with the columns given replaced: what a store written
    before today's ingest checks may hold (a commodity code with a control character, which
    the ingest now quarantines). Outputs must escape what a store holds, not only what
    today's ingest lets in."""
    import pandas as pd

    template = store.con.execute(
        "SELECT * FROM observations WHERE release_id = ? ORDER BY line LIMIT 1", [release_id]
    ).df()
    planted = pd.DataFrame([{**template.iloc[0].to_dict(), **row} for row in rows])
    planted["period"] = pd.to_datetime(planted["period"]).dt.date
    store.con.register("planted", planted)
    try:
        store.con.execute("INSERT INTO observations BY NAME SELECT * FROM planted")
    finally:
        store.con.unregister("planted")
