"""`generate` refused: every argument checked before anything is made (one line, exit 2 on the
command line), and a run that fails all the same removes what it made, and only that."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from tradesentry import cli
from tradesentry import generate as generate_module
from tradesentry.errors import InputError
from tradesentry.generate import generate, iter_blocks

runner = CliRunner()


def invoke(*args):
    return runner.invoke(cli.app, ["generate", *map(str, args)], catch_exceptions=False)


def assert_refused(result, *parts: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for part in parts:
        assert part in lines[0], lines[0]


@pytest.mark.parametrize("start", ["2019-13", "garbage", "2019-00", "2019-01-01", ""])
def test_a_bad_start_month_is_one_line_naming_the_option(tmp_path, start):
    out = tmp_path / "d"
    result = invoke("--rows", 1000, "--out", out, "--start", start)
    assert_refused(result, "--start", "YYYY-MM")
    assert not out.exists()


@pytest.mark.parametrize("start", ["2019-13", "garbage"])
def test_a_bad_start_month_is_an_input_error_in_python(tmp_path, start):
    with pytest.raises(InputError, match="--start .*YYYY-MM"):
        generate(tmp_path / "d", rows=10, start=start)
    with pytest.raises(InputError, match="--start"):
        next(iter_blocks(rows=10, start=start))
    assert list(tmp_path.iterdir()) == []


def _month(ahead: int) -> str:
    """The month ``ahead`` months from this one (0: this month), as YYYY-MM."""
    return str(pd.Period(date.today(), "M") + ahead)


@pytest.mark.parametrize(
    ("start", "months"),
    [(_month(0), 2), (_month(-11), 13), (_month(5), 1), ("2024-01", 1200)],
    ids=["into-next-month", "a-year-into-next-month", "months-ahead", "a-century"],
)
def test_months_past_this_one_are_refused_in_one_line(tmp_path, start, months):
    """`generate --start 2024-01` (50 months) wrote months up to 2028 that the ingest then
    quarantined ("period '2027-01' has not begun") (QA): refused before anything is made,
    naming the last month it would write and this month."""
    out = tmp_path / "d"
    last = str(pd.Period(start, "M") + months - 1)
    result = invoke("--series", 5, "--out", out, "--start", start, "--months", months)
    assert_refused(
        result, f"--start {start} --months {months:,}: the last month would be {last}, which "
        f"has not begun (this month is {_month(0)})"
    )  # fmt: skip
    with pytest.raises(InputError, match=f"the last month would be {last}"):
        next(iter_blocks(series=5, start=start, months=months))
    assert list(tmp_path.iterdir()) == []


def test_months_up_to_this_one_are_written_and_ingested_whole(tmp_path, store):
    """This month has begun: the ingest takes it, and so does generate."""
    result = generate(tmp_path / "d", series=5, format="csv", start=_month(-23), months=24)
    ingested = store.ingest(tmp_path / "d" / "observations.csv")
    assert ingested.rows_quarantined == 0 and ingested.rows_accepted == result.rows
    sql = "SELECT strftime(max(period), '%Y-%m') FROM observations"
    assert store.con.execute(sql).fetchone() == (_month(0),)


@pytest.mark.parametrize("start", ["1899-12", "1899-01", "0999-01"])
def test_a_start_before_1900_is_refused_in_one_line(tmp_path, start):
    """`generate --start 1899-01` wrote months the ingest then refused ("impossible period
    '1899-01'"): its readers hold the years 1900 to 2200."""
    out = tmp_path / "d"
    assert_refused(invoke("--rows", 10, "--out", out, "--start", start), "before 1900-01")
    with pytest.raises(InputError, match=f"--start {start}: before 1900-01"):
        next(iter_blocks(rows=10, start=start))
    assert list(tmp_path.iterdir()) == []


def test_a_start_in_1900_is_written_and_ingested_whole(tmp_path, store):
    result = generate(tmp_path / "d", series=5, format="csv", start="1900-01", months=3)
    ingested = store.ingest(tmp_path / "d" / "observations.csv")
    assert ingested.rows_quarantined == 0 and ingested.rows_accepted == result.rows


def test_the_help_says_the_last_month_must_have_begun():
    """The check of the last month is the axis' (--start and --months together): both
    options say so, and where the first month may be."""
    result = runner.invoke(cli.app, ["generate", "--help"], env={"COLUMNS": "200"})
    text = " ".join(result.output.replace("│", " ").split())
    assert "Months on the axis, from --start; the last (--start + --months − 1) must" in text
    assert "First month, YYYY-MM, from 1900-01; the last month (--start + --months − 1)" in text
    assert text.count("− 1) must have begun.") == 2


def test_a_start_month_in_another_spelling_is_kept_as_yyyy_mm(tmp_path):
    result = generate(tmp_path / "d", rows=10, start="2020-3")
    assert result.start == "2020-03"


@pytest.mark.parametrize(
    "arguments",
    [
        [],  # no size
        ["--rows", 10, "--series", 10],  # two sizes
        ["--rows", 10, "--start", "2019-13"],
    ],
)
def test_a_failed_run_leaves_nothing_and_the_retry_works(tmp_path, arguments):
    out = tmp_path / "data" / "x"
    assert_refused(invoke("--out", out, *arguments))
    assert list(tmp_path.iterdir()) == []  # neither data/x/observations, nor data/x, nor data
    retry = invoke("--out", out, "--rows", 10)
    assert retry.exit_code == 0, retry.output
    assert (out / "manifest.json").is_file()


@pytest.mark.parametrize(
    "arguments",
    [
        dict(rows=None),
        dict(rows=10, series=10),
        dict(rows=10, months=0),
        dict(rows=10, seed=-1),
        dict(rows=10, anomaly_rate=1.5),
        dict(rows=10, start="9990-01", months=200),
        dict(rows=10, format="json"),
    ],
)
def test_bad_arguments_in_python_make_nothing(tmp_path, arguments):
    out = tmp_path / "new" / "g"
    with pytest.raises(InputError):
        generate(out, **arguments)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("format", ["parquet", "csv"])
def test_a_run_failing_midway_removes_what_it_made_and_only_that(tmp_path, monkeypatch, format):
    def broken(*args, **kwargs):
        yield from iter_blocks(*args, **kwargs)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(generate_module, "iter_blocks", broken)
    made = tmp_path / "made" / "g"  # both folders made by the run
    with pytest.raises(OSError, match="No space"):
        generate(made, rows=10, format=format)
    assert list(tmp_path.iterdir()) == []

    empty = tmp_path / "empty"  # an empty folder given: kept, and left empty
    empty.mkdir()
    beside = tmp_path / "beside.txt"
    beside.write_text("not ours\n")
    with pytest.raises(OSError, match="No space"):
        generate(empty, rows=10, format=format)
    assert empty.is_dir() and list(empty.iterdir()) == []
    assert beside.read_text() == "not ours\n"


def test_a_failed_run_keeps_a_parent_that_holds_other_files(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise KeyboardInterrupt
        yield

    monkeypatch.setattr(generate_module, "iter_blocks", broken)
    parent = tmp_path / "data"
    parent.mkdir()
    (parent / "keep.csv").write_text("x\n")
    with pytest.raises(KeyboardInterrupt):
        generate(parent / "a" / "b", rows=10)
    assert sorted(p.name for p in parent.iterdir()) == ["keep.csv"]


def test_a_used_directory_is_still_refused_and_untouched(tmp_path):
    used = tmp_path / "used"
    used.mkdir()
    (used / "x").write_text("x")
    result = invoke("--out", used, "--rows", 10)
    assert_refused(result, "not empty")
    assert [p.name for p in Path(used).iterdir()] == ["x"]
