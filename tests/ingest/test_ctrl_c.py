"""Ctrl-C during `tradesentry ingest`: exit 130, the store as it was, and one line saying so.

The store keeps nothing of the file cut short (one transaction: see test_store_safety), but
the command ended without a word, so a user could not tell what was kept.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tradesentry.cli import app

ROWS = "reporter,partner,flow,commodity,period,value\nCHN,PRK,export,TOTAL,2021-0{m},5\n"


def _in_python() -> None:
    raise KeyboardInterrupt


def _in_duckdb() -> None:
    """What DuckDB 2.0 does with Ctrl-C during a query: its own error, not the interrupt."""
    try:
        signal.raise_signal(signal.SIGINT)
    except KeyboardInterrupt:
        raise RuntimeError("Query interrupted") from None


def _files(tmp_path: Path, count: int) -> list[str]:
    paths = [tmp_path / f"r{m}.csv" for m in range(1, count + 1)]
    for m, path in enumerate(paths, start=1):
        path.write_text(ROWS.format(m=m))
    return [str(p) for p in paths]


def _interrupt_file(monkeypatch, interrupt, number: int) -> None:
    """Ctrl-C once the rows of the ``number``-th file landed, before its commit."""
    from tradesentry import ingest

    real_land, calls = ingest.land, []

    def land(con, release_id, landing):
        calls.append(real_land(con, release_id, landing))
        if len(calls) == number:
            interrupt()
        return calls[-1]

    monkeypatch.setattr(ingest, "land", land)


@pytest.mark.parametrize("interrupt", [_in_python, _in_duckdb], ids=["python", "duckdb"])
def test_ctrl_c_during_an_ingest_says_nothing_of_the_file_was_kept(
    tmp_path, monkeypatch, interrupt
):
    (path,) = _files(tmp_path, 1)
    _interrupt_file(monkeypatch, interrupt, 1)
    store = tmp_path / "s.duckdb"
    result = CliRunner().invoke(app, ["ingest", path, "--store", str(store)])
    assert result.exit_code == 130
    assert not store.exists()  # as it was: none, not an empty one (as after a failed ingest)
    assert result.stderr.splitlines() == [
        "tradesentry: ingest interrupted; the store is as it was (nothing of r1.csv was kept)"
    ]


def test_ctrl_c_in_the_second_of_three_files_names_what_stays(tmp_path, monkeypatch):
    paths = _files(tmp_path, 3)
    _interrupt_file(monkeypatch, _in_python, 2)
    result = CliRunner().invoke(app, ["ingest", *paths, "--store", str(tmp_path / "s.duckdb")])
    assert result.exit_code == 130
    assert result.stdout.startswith(f"{paths[0]}: release 1 (csv)")
    assert result.stderr.splitlines()[-1] == (
        "tradesentry: ingest interrupted; the store is as it was before r2.csv (nothing of it "
        "was kept); the 1 file before it stays, and running the same command again reads the "
        "rest (what is stored is a no-op)"
    )


def test_ctrl_c_after_the_last_file_says_every_file_is_in_the_store(tmp_path, monkeypatch):
    """A Ctrl-C as the store closes, every file in: exit 130 said nothing."""
    from tradesentry.store import Store

    paths = _files(tmp_path, 2)
    real_close = Store.close

    def close_then_ctrl_c(self):
        real_close(self)
        raise KeyboardInterrupt

    monkeypatch.setattr(Store, "close", close_then_ctrl_c)
    result = CliRunner().invoke(app, ["ingest", *paths, "--store", str(tmp_path / "s.duckdb")])
    assert result.exit_code == 130
    assert result.stderr.splitlines() == [
        "tradesentry: ingest interrupted; 2 of 2 files of this command are in the store, each whole"
    ]


def test_ctrl_c_while_a_new_store_opens_leaves_no_store(tmp_path, monkeypatch):
    """Ctrl-C as a new store is made, before any file is read: no empty store stays
    behind (one was, with "0 of 1 file … in the store")."""
    from tradesentry import store as store_module

    real_upgrade = store_module._upgrade

    def upgrade_then_ctrl_c(con):
        real_upgrade(con)
        raise KeyboardInterrupt

    monkeypatch.setattr(store_module, "_upgrade", upgrade_then_ctrl_c)
    (path,) = _files(tmp_path, 1)
    store = tmp_path / "s.duckdb"
    result = CliRunner().invoke(app, ["ingest", path, "--store", str(store)])
    assert result.exit_code == 130
    assert not store.exists()


def test_ctrl_c_while_a_stored_files_lines_are_printed_counts_it_in(tmp_path, monkeypatch):
    """Ctrl-C just after a file's release was committed, while its quarantined lines were
    printed, said "0 of 1 file of this command are in the store" of a store holding it."""
    from tradesentry import cli

    path = tmp_path / "r1.csv"
    path.write_text(ROWS.format(m=1) + "CHN,Atlantis,export,TOTAL,2021-01,5\n")

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_print_quarantine_sample", ctrl_c)
    store = tmp_path / "s.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(path), "--store", str(store)])
    assert result.exit_code == 130
    assert result.stderr.splitlines() == [
        "tradesentry: ingest interrupted; 1 of 1 file of this command is in the store, each whole"
    ]
    from tradesentry.store import open_store

    with open_store(store, read_only=True) as st:
        assert len(st.releases()) == 1


def test_ctrl_c_as_the_spinner_goes_counts_the_stored_file_in(tmp_path, monkeypatch):
    """Ctrl-C after the store's commit, as the progress display closed, said "nothing of
    r1.csv was kept" of a store holding it."""
    from contextlib import contextmanager

    from tradesentry import cli

    @contextmanager
    def spinner_then_ctrl_c(*args, **kwargs):
        yield lambda count: None
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_progress", spinner_then_ctrl_c)
    store = tmp_path / "s.duckdb"
    result = CliRunner().invoke(app, ["ingest", *_files(tmp_path, 1), "--store", str(store)])
    assert result.exit_code == 130
    assert result.stderr.splitlines() == [
        "tradesentry: ingest interrupted; 1 of 1 file of this command is in the store, each whole"
    ]
