"""Usage and bad input through Typer's runner: one line on stderr and exit code 2; exit 1
only for --fail-on; options checked against their documented values; Ctrl-C exits 130."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.conftest import DEMO_CSV
from tradesentry import cli
from tradesentry.store import open_store

runner = CliRunner()
NO_RELEASE_99 = "error: no release 99 in the store (see `tradesentry releases`)"


def invoke(*args, store: Path):
    """Run the CLI with ``store`` as the default store, so that any command can find it."""
    return runner.invoke(
        cli.app,
        [str(a) for a in args],
        env={"TRADESENTRY_STORE": str(store)},
        catch_exceptions=False,
    )


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    """A store path holding the bundled China–North Korea release."""
    db = tmp_path_factory.mktemp("usage") / "s.duckdb"
    assert invoke("ingest", DEMO_CSV, store=db).exit_code == 0
    return db


def assert_one_line_error(result, expected: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and expected in lines[0], lines[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["scan", "--format", "xml"],
            "error: invalid value for '--format': 'xml' is not one of 'table', 'json', "
            "'jsonl', 'csv'",
        ),
        (["scan", "--fail-on", "critical"], "'critical' is not one of 'high', 'medium', 'low'"),
        (["releases", "--diff", "a", "b"], "invalid value for '--diff': expected a whole number"),
        # one id where two are due: the option after it was taken for the second
        (["releases", "--diff", "1", "--format", "json"], "not the option --format: give"),
        (["ingest"], "error: missing argument 'files'"),
        (["bogus"], "error: no such command 'bogus'"),
        (["fetch", "bogus"], "error: no such command 'bogus'"),
        (["fetch", "comtrade"], "error: missing option '--reporter'"),
        (["scan", "--no-such-option"], "error: no such option: --no-such-option"),
        (["scan", "extra"], "unexpected extra argument"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_a_usage_error_is_one_line_on_stderr(tmp_path, args, expected):
    assert_one_line_error(invoke(*args, store=tmp_path / "s.duckdb"), expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["scan", "--limit", "-1"], "invalid value for '--limit'"),
        (["report", "--top", "-1"], "invalid value for '--top'"),
        (["report", "--scan", "0"], "invalid value for '--scan'"),
        (["serve", "--port", "0"], "invalid value for '--port'"),
        (["serve", "--port", "65536"], "invalid value for '--port'"),
        (["generate", "--out", "g", "--rows", "0"], "invalid value for '--rows'"),
        (["generate", "--out", "g", "--series", "-1"], "invalid value for '--series'"),
        (["generate", "--out", "g", "--months", "0"], "invalid value for '--months'"),
        (["generate", "--out", "g", "--seed", "-1"], "invalid value for '--seed'"),
        (["generate", "--out", "g", "--anomaly-rate", "1.5"], "invalid value for '--anomaly-rate'"),
        (
            ["generate", "--out", "g", "--anomaly-rate", "-0.1"],
            "invalid value for '--anomaly-rate'",
        ),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_a_number_out_of_range_is_one_line_on_stderr(demo_db, args, expected):
    assert_one_line_error(invoke(*args, store=demo_db), expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["ingest", DEMO_CSV, "--encoding", "ebcdic"],
            "'ebcdic' is not one of 'utf-8', 'latin-1'",
        ),
        (
            ["scan", "--flow", "sideways"],
            "'sideways' is not one of 'import', 'export', 're-import', 're-export'",
        ),
        (["quarantine", "--release", "99"], NO_RELEASE_99),
        (["digest", "--release", "99"], NO_RELEASE_99),
        # a selection that matches no series is a mistake to name, not "No findings."
        (["scan", "--reporter", "XYZ"], "error: no series in the store matches reporter XYZ"),
        (
            ["scan", "--flow", "import", "--commodity", "8542"],
            "error: no series in the store matches flow import; commodity 8542",
        ),
        (["scan", "--kind", "spikes"], "error: unknown kind 'spikes'; choose from implausible"),
        # no finding can end after the selection's last month: not "No findings", which a
        # monitor's `--fail-on high` would pass for good
        (
            ["scan", "--since", "2022-01"],
            "error: --since 2022-01 is after the last month the store's series hold (2021-06)",
        ),
        (
            ["scan", "--since", "2022-01", "--flow", "export"],
            "error: --since 2022-01 is after the last month the store's series of flow export "
            "hold (2021-06)",
        ),
        (["scan", "--new", "--baseline", "99"], "error: no scan 99 in the store"),
        (["scan", "--baseline", "1"], "error: --baseline compares with a scan: give --new or"),
    ],
    ids=lambda v: " ".join(map(str, v[:3])) if isinstance(v, list) else None,
)
def test_a_value_outside_the_choices_is_one_line_on_stderr(demo_db, args, expected):
    assert_one_line_error(invoke(*args, store=demo_db), expected)


def test_help_is_still_the_help(tmp_path):
    bare = invoke(store=tmp_path / "s.duckdb")  # no command: the help, as before
    assert bare.exit_code == 2 and "Usage: tradesentry" in bare.stdout
    scan = invoke("scan", "--help", store=tmp_path / "s.duckdb")
    assert scan.exit_code == 0 and "--fail-on" in scan.stdout and scan.stderr == ""


@pytest.mark.parametrize(
    ("args", "code"),
    [(["--fail-on", "high"], 1), (["--fail-on", "low", "--kind", "mirror_gap"], 0), ([], 0)],
)
def test_exit_code_1_is_for_fail_on_only(demo_db, args, code):
    assert invoke("scan", "--format", "json", *args, store=demo_db).exit_code == code


def test_fail_on_help_says_it_fails_on_that_severity_or_worse(tmp_path):
    """The help said "if a finding is this severe": `--fail-on medium` fails on a high
    finding too, as the exit codes say (at or above)."""
    shown = runner.invoke(
        cli.app,
        ["scan", "--help"],
        env={"TRADESENTRY_STORE": str(tmp_path / "s.duckdb"), "COLUMNS": "200"},
    )
    line = next(line for line in shown.stdout.splitlines() if "--fail-on" in line)
    assert "this severe or worse (high > medium > low)" in line


@pytest.fixture(scope="module")
def doubled_db(tmp_path_factory) -> Path:
    """A store path holding the demo with China's exports of December 2020 doubled: the
    month's spike, low in the demo, is medium."""
    folder = tmp_path_factory.mktemp("doubled")
    frame = pd.read_csv(DEMO_CSV, dtype=str)
    frame["value"] = frame["value"].astype(float)
    frame.loc[(frame["flow"] == "export") & (frame["period"] == "2020-12"), "value"] *= 2
    frame.to_csv(folder / "cn_kp_doubled.csv", index=False)
    db = folder / "s.duckdb"
    assert invoke("ingest", folder / "cn_kp_doubled.csv", store=db).exit_code == 0
    return db


@pytest.mark.parametrize(("fail_on", "at"), [("high", 0), ("medium", 1), ("low", 2)])
@pytest.mark.parametrize(
    ("db", "selection", "severities", "codes"),
    [
        ("demo_db", ["--kind", "mirror_gap"], set(), (0, 0, 0)),
        ("demo_db", ["--kind", "spike"], {"low"}, (0, 0, 1)),
        ("doubled_db", ["--kind", "spike"], {"medium"}, (0, 1, 1)),
        ("demo_db", ["--kind", "level_shift", "--flow", "import"], {"high"}, (1, 1, 1)),
        ("demo_db", [], {"high", "medium", "low"}, (1, 1, 1)),
    ],
    ids=["none", "low", "medium", "high", "all"],
)
def test_fail_on_exits_1_exactly_when_a_finding_is_that_severe_or_worse(
    request, db, selection, severities, codes, fail_on, at
):
    """--fail-on X fails a pipeline on a finding of severity X or above, and only then:
    low findings alone pass --fail-on medium and high, a medium one fails medium and low."""
    store = request.getfixturevalue(db)
    result = invoke("scan", "--format", "json", *selection, "--fail-on", fail_on, store=store)
    assert {f["severity"] for f in json.loads(result.stdout)} == severities
    assert result.exit_code == codes[at], result.output


def _scan_ids(db: Path, *args: str) -> list[str]:
    result = invoke("scan", "--format", "json", *args, store=db)
    assert result.exit_code == 0, result.output
    return [f["id"] for f in json.loads(result.stdout)]


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        (["--reporter", "chn"], ["--reporter", "CHN"]),
        (["--reporter", "China", "--partner", "north korea"], ["--partner", "PRK"]),
        (["--partner", "Prk"], ["--partner", "PRK"]),
        (["--flow", "EXPORT"], ["--flow", "export"]),
        (["--commodity", "total"], ["--commodity", "TOTAL"]),
    ],
)
def test_scan_filters_match_codes_in_any_case(demo_db, given, stored):
    expected = _scan_ids(demo_db, *stored)
    assert expected  # the demo has findings to select
    assert _scan_ids(demo_db, *given) == expected


@pytest.mark.parametrize(
    ("given", "repeated"),
    [
        (["--flow", "export,IMPORT"], ["--flow", "export", "--flow", "import"]),
        (["--kind", "spike, level_shift"], ["--kind", "spike", "--kind", "level_shift"]),
        (["--reporter", "CHN,China", "--partner", "prk"], ["--reporter", "CHN"]),
        (["--commodity", "TOTAL,total", "--flow", "import"], ["--flow", "import"]),
        # a name that holds a comma is one country, not two codes
        (["--partner", "Korea, Dem. Rep."], ["--partner", "PRK"]),
    ],
)
def test_scan_filters_take_comma_lists_as_repeated_options(demo_db, given, repeated):
    """`scan --partner USA,HKG` read USA,HKG as one code that no series has, where
    `fetch --commodity 27,2710` and the api's lists take several."""
    expected = _scan_ids(demo_db, *repeated)
    assert expected  # the demo has findings to select
    assert _scan_ids(demo_db, *given) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["scan", "--partner", "PRK,USA"],
            "error: no series in the store has partner USA (of partner PRK, USA)",
        ),
        (
            ["scan", "--commodity", "TOTAL,8542"],
            "error: no series in the store has commodity 8542 (of commodity TOTAL, 8542)",
        ),
        (
            ["scan", "--flow", "export,sideways"],
            "error: invalid value for '--flow': 'sideways' is not one of 'import', 'export', "
            "'re-import', 're-export'",
        ),
        (["scan", "--partner", "PRK,"], "error: partner: an empty code selects nothing"),
    ],
)
def test_each_code_of_a_comma_list_is_checked(demo_db, args, expected):
    assert_one_line_error(invoke(*args, store=demo_db), expected)


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1", "LATIN-1"])
def test_ingest_takes_the_documented_encodings(tmp_path, encoding):
    result = invoke("ingest", DEMO_CSV, "--encoding", encoding, store=tmp_path / "s.duckdb")
    assert result.exit_code == 0, result.output


def test_quarantine_of_a_release_that_exists_is_a_table(demo_db):
    result = invoke("quarantine", "--release", "1", "--format", "json", store=demo_db)
    assert result.exit_code == 0 and json.loads(result.stdout) == []


def _interrupted_in_python(*args, **kwargs):
    raise KeyboardInterrupt


def _interrupted_in_duckdb(*args, **kwargs):
    """What DuckDB 2.0 does with Ctrl-C during a query: its own error, not the interrupt."""
    try:
        signal.raise_signal(signal.SIGINT)
    except KeyboardInterrupt:
        raise RuntimeError("Query interrupted") from None


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
@pytest.mark.parametrize(
    ("args", "env", "said"),
    [
        (["scan", "--format", "json"], {}, "error: cannot write the output: No space left"),
        (["scan"], {}, "error: cannot write the output: No space left on device"),
        (["releases", "--format", "csv"], {}, "error: cannot write the output: No space left"),
        (["scan"], {"PYTHONIOENCODING": "ascii"}, "error: the output's encoding (ascii)"),
    ],
    ids=["json-full-disk", "table-full-disk", "csv-full-disk", "ascii-terminal"],
)
def test_an_output_that_cannot_be_written_is_one_line_and_exit_code_2(demo_db, args, env, said):
    """A full disk or an ASCII terminal gave a traceback and exit code 1, which a pipeline
    reads as findings at --fail-on."""
    import subprocess
    import sys

    full = env == {}  # the disk is full: stdout is /dev/full; else the terminal is ASCII
    with open("/dev/full" if full else os.devnull, "w") as stdout:
        run = subprocess.run(
            [sys.executable, "-m", "tradesentry", *args, "--store", str(demo_db)],
            stdout=stdout,
            stderr=subprocess.PIPE,
            env={**os.environ, **env},
            text=True,
            timeout=120,
        )
    assert run.returncode == 2
    assert run.stderr.startswith(said) and run.stderr.count("\n") == 1, run.stderr


@pytest.mark.parametrize("scan", [_interrupted_in_python, _interrupted_in_duckdb])
def test_ctrl_c_exits_130_without_a_traceback(demo_db, monkeypatch, scan):
    monkeypatch.setattr(cli.api, "scan", scan)
    result = invoke("scan", store=demo_db)
    assert result.exit_code == 130
    assert result.stdout == "" and "Traceback" not in result.stderr
    assert result.stderr == (
        "tradesentry: scan interrupted; no scan of it was saved, the store is as it was\n"
    )
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back


def test_ctrl_c_after_the_scan_was_saved_says_so(demo_db, monkeypatch):
    """Interrupted while its findings are printed, the scan is in the store: the line said
    no scan of it was saved, and the next `scan --new` compared with it unannounced."""
    from tradesentry import api

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_emit_findings", interrupted)
    result = invoke("scan", store=demo_db)
    with open_store(demo_db, read_only=True) as st:
        latest = api.scan_info(st)["id"]
    assert result.exit_code == 130
    assert result.stderr == (
        f"tradesentry: scan interrupted; scan {latest} was saved, its output is incomplete\n"
    )


def test_an_error_without_ctrl_c_is_not_taken_for_one(demo_db, monkeypatch):
    def fails(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(cli.api, "scan", fails)
    with pytest.raises(RuntimeError, match="a bug"):
        invoke("scan", store=demo_db)


@pytest.mark.parametrize("module", ["tradesentry", "tradesentry.cli"])
def test_python_dash_m_runs_the_same_command_line(demo_db, module):
    """``python -m tradesentry`` is the ``tradesentry`` command, named so in its usage; so
    is ``python -m tradesentry.cli``, which did nothing, and exited 0."""
    import os
    import subprocess
    import sys

    shown = subprocess.run(
        [sys.executable, "-m", module, "releases", "--store", str(demo_db)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert shown.returncode == 0, shown.stderr
    assert "cn_kp_monthly_2019_2021h1" in shown.stdout
    usage = subprocess.run(
        [sys.executable, "-m", module, "--help"], capture_output=True, text=True, check=False
    )
    assert "Usage: tradesentry " in usage.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["scan"],
        ["scan", "--format", "csv"],
        ["series", "CHN", "PRK", "export", "TOTAL"],
        ["releases", "--format", "csv"],
        ["--help"],  # the help is printed by typer's own console, not the tool's
        ["scan", "--help"],
    ],
)
def test_a_reader_that_stops_is_not_exit_code_1(demo_db, args):
    """`scan | head -1` under pipefail must not read as findings at --fail-on (exit 1):
    the command stops quietly with 141, the shell's code for a broken pipe."""
    import subprocess
    import sys

    command = [sys.executable, "-m", "tradesentry", *args]
    env = {**os.environ, "TRADESENTRY_STORE": str(demo_db)}  # `--help` takes no --store
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    run.stdout.close()  # the reader is gone before the command writes
    said = run.stderr.read()
    assert run.wait(timeout=120) == cli.BROKEN_PIPE and said == b""


@pytest.mark.parametrize(("once", "code"), [(True, 130), (False, 0)])
def test_ctrl_c_stops_a_watch_cleanly_but_not_a_once_run(tmp_path, monkeypatch, once, code):
    import tradesentry.monitor

    monkeypatch.setattr(tradesentry.monitor, "watch", _interrupted_in_python)
    (tmp_path / "inbox").mkdir()
    args = ["watch", str(tmp_path / "inbox"), *(["--once"] if once else [])]
    result = invoke(*args, store=tmp_path / "s.duckdb")
    assert result.exit_code == code and "Traceback" not in result.stderr
    # a --once run says, in one line, what its interruption left (it exited without a word)
    said = "tradesentry: watch interrupted; the steps logged as done are kept, and the next"
    assert (said in result.stderr) is once


@pytest.mark.parametrize(
    ("command", "option", "name"),
    [
        ("report", "--out", "r.html"),
        ("digest", "--out", "d.md"),
        ("generate", "--out", "g"),
        ("export", "--parquet", "e"),
    ],
)
def test_a_written_path_is_shown_with_its_control_characters_escaped(
    demo_db, tmp_path, command, option, name
):
    """The path a command wrote to was printed as typed: an ESC in it cleared the screen,
    and where Rich's markup was on, ``[red]`` was read as a style."""
    odd = tmp_path / f"x\x1b[2J[red]{name}"
    extra = ["--rows", "100"] if command == "generate" else []
    result = invoke(command, option, odd, *extra, store=demo_db)
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout and "x\\x1b[2J[red]" in result.stdout


def test_a_table_as_json_shows_bidi_and_line_separators_as_escapes(tmp_path):
    """A file named with a right-to-left override (``ab\u202ecod.exe``) came out of
    ``releases --format json`` raw, and read in a terminal as another name."""
    odd = tmp_path / "ab\u202ecod\u2028.csv"
    odd.write_bytes(Path(DEMO_CSV).read_bytes())
    store = tmp_path / "s.duckdb"
    assert invoke("ingest", odd, store=store).exit_code == 0
    result = invoke("releases", "--format", "json", store=store)
    assert "\u202e" not in result.stdout and "\u2028" not in result.stdout
    assert "ab\\u202ecod\\u2028.csv" in result.stdout
    assert json.loads(result.stdout)[0]["file"] == odd.name


def test_ctrl_c_in_a_watched_ingest_stops_a_once_run_without_retrying(tmp_path, monkeypatch):
    """Ctrl-C inside the ingest's DuckDB query came back as DuckDB's own error, which the
    watcher retried as a failed step: the run went on to ingest, scan and write its digest,
    and exited 0."""
    from tradesentry.store import Store

    tried = []

    def interrupted(*args, **kwargs):
        tried.append(1)
        _interrupted_in_duckdb()

    monkeypatch.setattr(Store, "ingest", interrupted)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "cn_kp.csv").write_bytes(Path(DEMO_CSV).read_bytes())
    result = invoke("watch", str(inbox), "--once", store=tmp_path / "s.duckdb")
    assert result.exit_code == 130 and "Traceback" not in result.stderr
    assert "tradesentry: watch interrupted; the steps logged as done are kept" in result.stderr
    assert tried == [1] and "retrying" not in result.stderr
    # the interrupt was that command's: a later step's error is an error, not Ctrl-C
    from tradesentry.errors import INTERRUPTED
    from tradesentry.monitor.watch import StepFailed, attempt

    assert not INTERRUPTED.is_set()
    with pytest.raises(StepFailed):
        attempt("a step", lambda: 1 / 0, attempts=1)


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["scan", "--limit", "-1"], "invalid value for '--limit': expected 0 or more"),
        (["scan", "--commodity", ""], "commodity: an empty code selects nothing"),
    ],
)
def test_option_errors_in_plain_words(demo_db, args, said):
    result = invoke(*args, store=demo_db)
    assert result.exit_code == 2 and said in result.stderr


@pytest.mark.parametrize(
    "args",
    [["scan", "--fail-on", "HIGH"], ["scan", "--format", "JSON"], ["releases", "--format", "Csv"]],
)
def test_choices_are_taken_in_any_case(demo_db, args):
    """--kind SPIKE and --flow EXPORT were taken, --fail-on HIGH and --format JSON refused."""
    result = invoke(*args, store=demo_db)
    assert result.exit_code in (0, 1) and not result.stderr, result.stderr


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["series", "", "PRK", "export", "TOTAL"], "reporter: an empty code names nothing"),
        (["series", "CHN", "PRK", "export", " "], "commodity: an empty code names nothing"),
        (["mirror", "CHN", ""], "partner: an empty code names nothing"),
        (["gap", "", "PRK"], "reporter: an empty code names nothing"),
    ],
)
def test_an_empty_code_is_named_as_such(demo_db, args, said):
    """An empty reporter read as a code no series has: "no series  CHN import TOTAL in
    the store", and the mirror of "" said it "reports no trade with CHN"."""
    assert_one_line_error(invoke(*args, store=demo_db), f"error: {said}")


def test_an_error_quoting_a_huge_argument_is_cut_in_its_middle(demo_db):
    """A 100,000-character code came back whole in its error line."""
    result = invoke("scan", "--reporter", "X" * 100_000, store=demo_db)
    assert result.exit_code == 2 and len(result.stderr) < 1_100
    assert result.stderr.startswith("error: no series in the store matches reporter XXX")
    assert "characters left out" in result.stderr and result.stderr.count("\n") == 1
