"""Files and folders the user names for output: one that cannot be written is refused in one
line naming it and the problem, exit code 2, before any work; never a traceback."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import DEMO_CSV
from tradesentry import cli

runner = CliRunner()
LINUX_PROC = pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")


def invoke(*args, db: Path):
    return runner.invoke(cli.app, [*map(str, args)], env={"TRADESENTRY_STORE": str(db)})


@pytest.fixture
def db(tmp_path) -> Path:
    """The demo release, no scan saved: a report would scan first, and must not."""
    db = tmp_path / "s.duckdb"
    assert invoke("ingest", DEMO_CSV, db=db).exit_code == 0
    return db


@pytest.fixture
def a_dir(tmp_path) -> Path:
    (tmp_path / "a-dir").mkdir()
    return tmp_path / "a-dir"


@pytest.fixture
def a_file(tmp_path) -> Path:
    (tmp_path / "a-file").write_text("keep me\n")
    return tmp_path / "a-file"


def assert_refused(result, path, problem: str) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr  # no "scanning first", no traceback
    assert lines[0].startswith(f"error: {path}: ") and problem in lines[0], lines[0]
    assert result.stdout == ""


# (command, option): each names a file (report, digest) or a folder to write into.
FILES = [("report", "--out"), ("digest", "--out")]
FOLDERS = [
    ("export", "--parquet"),
    ("generate --rows 10", "--out"),
    ("watch --once", "--out"),
    ("scan --engine spark", "--findings-parquet"),
]


@pytest.mark.parametrize(("command", "option"), FILES)
def test_an_output_file_that_is_a_directory(db, a_dir, command, option):
    assert_refused(invoke(command, option, a_dir, db=db), a_dir, "is a directory")


@pytest.mark.parametrize(("command", "option"), FILES + FOLDERS)
def test_an_output_under_a_file(db, a_file, command, option):
    target = a_file / "out"
    result = invoke(*command.split(), option, target, db=db)
    assert_refused(result, target, f"{a_file} is a file, not a directory")
    assert a_file.read_text() == "keep me\n"


@pytest.mark.parametrize(("command", "option"), FILES)
@pytest.mark.parametrize(("name", "said"), [("", "a DuckDB database"), (".wal", "the log of")])
def test_an_output_file_that_is_the_store_is_refused(db, command, option, name, said):
    """`report --out store.duckdb` wrote the report over the store: every release, scan and
    finding gone."""
    target = db.with_name(db.name + name)
    if name:
        target.write_bytes(b"")  # as DuckDB leaves its log beside an open store
    before = db.read_bytes()
    assert_refused(invoke(command, option, target, db=db), target, f"is {said}")
    assert db.read_bytes() == before


@pytest.mark.parametrize(("command", "option"), FOLDERS)
def test_an_output_folder_that_is_a_file(db, a_file, command, option):
    result = invoke(*command.split(), option, a_file, db=db)
    assert_refused(result, a_file, "is a file, not a directory")
    assert a_file.read_text() == "keep me\n"


@LINUX_PROC
@pytest.mark.parametrize(("command", "option"), FILES + FOLDERS)
def test_an_output_where_no_file_can_be_made(db, command, option):
    target = Path("/proc/tradesentry-out")
    result = invoke(*command.split(), option, target, db=db)
    assert_refused(result, target, "cannot write in /proc")


def test_an_error_while_writing_is_one_line(db, tmp_path, monkeypatch):
    """What no check beforehand can see (a full disk) is still one line, not a traceback."""

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full)
    target = tmp_path / "digest.md"
    result = invoke("digest", "--out", target, db=db)
    assert_refused(result, target, "cannot write it (No space left on device)")


@pytest.mark.parametrize(("command", "name"), [("report", "r.html"), ("digest", "d.md")])
def test_missing_folders_of_an_output_file_are_made(db, tmp_path, command, name):
    target = tmp_path / "new" / "folder" / name
    result = invoke(command, "--out", target, db=db)
    assert result.exit_code == 0, result.output
    assert target.stat().st_size > 0
    assert not list(target.parent.glob(".tradesentry-*"))  # the check leaves nothing behind


def test_the_demo_refuses_a_report_it_cannot_write_before_its_work(tmp_path):
    """The demo writes report.html beside its store: a folder of that name is refused first."""
    (tmp_path / "report.html").mkdir()
    db = tmp_path / "demo.duckdb"
    result = invoke("demo", db=db)
    assert_refused(result, tmp_path / "report.html", "is a directory")
    assert not db.exists()  # refused before ingesting anything
