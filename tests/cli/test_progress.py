"""Progress on a terminal, none when piped: the deciding helper, the bar, the commands."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from tests.conftest import DEMO_CSV
from tradesentry import cli

runner = CliRunner()


def invoke(*args):
    return runner.invoke(cli.app, [str(a) for a in args], catch_exceptions=False)


def terminal(is_terminal: bool) -> tuple[Console, io.StringIO]:
    """A console that is, or is not, a terminal, writing where the test can read it."""
    written = io.StringIO()
    return Console(file=written, force_terminal=is_terminal, width=100), written


@pytest.fixture
def demo_db(tmp_path) -> Path:
    db = tmp_path / "s.duckdb"
    assert invoke("ingest", DEMO_CSV, "--store", db).exit_code == 0
    return db


@pytest.mark.parametrize("is_terminal", [True, False])
def test_progress_is_wanted_only_on_a_terminal(is_terminal):
    console, _ = terminal(is_terminal)
    assert cli._wants_progress(console) is is_terminal


def test_the_bar_counts_what_is_done_on_a_terminal():
    console, written = terminal(True)
    with cli._progress(console, "scanning", "observations") as advance:
        advance(5)
        advance(7)
    assert "scanning" in written.getvalue() and "12 observations" in written.getvalue()


def test_the_bar_shows_a_file_name_as_text():
    console, written = terminal(True)
    with cli._progress(console, "ingesting a{1}[bold]b.csv"):
        pass  # braces are no format field, brackets no markup
    assert "ingesting a{1}[bold]b.csv" in written.getvalue()


def test_the_bar_writes_nothing_off_a_terminal():
    console, written = terminal(False)
    with cli._progress(console, "scanning", "observations") as advance:
        advance(5)
    assert written.getvalue() == ""


@pytest.mark.parametrize(
    ("args", "doing"),
    [(["ingest", DEMO_CSV], f"ingesting {DEMO_CSV.name}"), (["scan"], "scanning")],
    ids=["ingest", "scan"],
)
def test_ingest_and_scan_show_a_bar_on_a_terminal(demo_db, monkeypatch, args, doing):
    console, written = terminal(True)
    monkeypatch.setattr(cli, "err", console)
    result = invoke(*args, "--store", demo_db)
    assert result.exit_code == 0, result.output
    assert doing in written.getvalue()
    assert doing not in result.stdout  # the bar is on stderr's console, never in the data


@pytest.mark.parametrize("args", [["ingest", DEMO_CSV], ["scan", "--format", "json"]])
def test_no_bar_when_piped(demo_db, args):
    result = invoke(*args, "--store", demo_db)  # the runner's streams are not terminals
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
