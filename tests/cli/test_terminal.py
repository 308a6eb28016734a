"""Text from a file reaches the terminal with its control characters escaped and its
brackets as written: a cell cannot clear the screen, retitle the window, split a line or
restyle the table (Rich markup)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from tests.conftest import plant_observations, today
from tradesentry import cli
from tradesentry.store import open_store

runner = CliRunner()
ESC = "\x1b"
HOSTILE_PARTNER = "\x1b]0;pwned\x07\x1b[31mRED"  # retitles the window, turns text red
HOSTILE_COMMODITY = "27\x1b[2J[bold]X"  # clears the screen; markup if read as such


def invoke(*args):
    return runner.invoke(cli.app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def db(tmp_path):
    rows = ["reporter,partner,flow,commodity,period,value"]
    # ordinary rows first: a file whose first 4 KB are full of control bytes is binary
    rows += [f"CHN,PRK,import,{c:04d},2021-01,{c}" for c in range(1000, 1200)]
    rows += [f"CHN,PRK,export,{HOSTILE_COMMODITY},2021-{m:02d},{1000 + m}" for m in range(1, 13)]
    rows.append(f"CHN,{HOSTILE_PARTNER},export,27,2021-01,5")
    path = tmp_path / "hostile\nname.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    db = tmp_path / "s.duckdb"
    ingested = invoke("ingest", path, "--store", db)
    assert ingested.exit_code == 0, ingested.output
    assert ESC not in ingested.output and "\\x1b" in ingested.stderr  # the quarantine sample
    assert "hostile\\x0aname.csv: release 1" in ingested.stdout  # the name on one line
    # the ingest quarantines the hostile code; a store written before it did holds it
    hostile = HOSTILE_COMMODITY.upper()  # as the ingest stored codes
    months = [
        {"flow": "export", "commodity": hostile, "period": f"2021-{m:02d}", "value": 1e3 + m}
        for m in range(1, 13)
    ]
    with open_store(db) as store:
        plant_observations(store, 1, months)
    return db


@pytest.mark.parametrize(
    "args",
    [
        ("quarantine",),
        ("series", "CHN", "PRK", "export", HOSTILE_COMMODITY),
        ("scan",),
        ("releases",),
        ("quarantine", "--format", "csv"),
        ("releases", "--format", "csv"),
        ("scan", "--format", "csv"),
    ],
)
def test_file_contents_are_escaped_on_the_terminal(db, args):
    result = invoke(*args, "--store", db)
    assert result.exit_code == 0, result.output
    assert ESC not in result.output and "\x07" not in result.output
    if args[0] in ("quarantine", "series"):
        assert "\\x1b" in result.output


def test_a_key_with_brackets_is_shown_as_written(db):
    shown = invoke("series", "CHN", "PRK", "export", HOSTILE_COMMODITY, "--store", db)
    assert "[BOLD]X" in shown.output  # codes are kept upper-case, as the store keeps them


def test_the_watch_log_escapes_file_names():
    import logging

    record = logging.LogRecord(
        "tradesentry", logging.INFO, "", 0, "ingested %s", ("a\x1b[2Jb",), None
    )
    line = cli._PrintableFormatter("%(message)s").format(record)
    assert line == "ingested a\\x1b[2Jb"


def test_a_change_below_the_revision_threshold_is_not_called_the_same_figure(tmp_path):
    """$1,000 revised to $1,100 is below the revision check's $1,000 minimum: the series
    says no revision was counted, not that every release gave the same figure."""
    for name, value in (("a.csv", 1000), ("b.csv", 1100)):
        (tmp_path / name).write_text(
            f"reporter,partner,flow,commodity,period,value\nUSA,MEX,export,TOTAL,2020-01,{value}\n"
            "USA,MEX,export,TOTAL,2020-02,1000\n"
        )
    db = tmp_path / "s.duckdb"
    assert invoke("ingest", tmp_path / "a.csv", "--store", db).exit_code == 0
    assert (
        invoke("ingest", tmp_path / "b.csv", "--store", db, "--published", today()).exit_code == 0
    )
    shown = invoke("series", "USA", "MEX", "export", "TOTAL", "--store", db)
    assert "gave the same figure" not in shown.output
    assert "not counted as revisions" in shown.output


@pytest.mark.parametrize(
    "args",
    [
        ("scan", "--reporter", HOSTILE_PARTNER),  # the api's error repeats the code
        ("scan", "--since", HOSTILE_PARTNER),  # the argument checks quote it
        ("scan", "--format", HOSTILE_PARTNER),  # click's usage error quotes it
        ("series", "CHN", HOSTILE_PARTNER, "export", "27"),
    ],
)
def test_what_the_user_typed_is_escaped_in_the_error(db, args):
    result = invoke(*args, "--store", db)
    assert result.exit_code == 2, result.output
    assert ESC not in result.output and "\x07" not in result.output
    assert "\\x1b" in result.stderr and len(result.stderr.strip().splitlines()) == 1
