"""Commands that must refuse, in one line and exit code 2, without leaving anything behind:
a store that does not exist, an unknown Comtrade flow, an address `serve` cannot listen on,
a directory given as the rates file. And the README's Python snippet runs as written."""

from __future__ import annotations

import re
import socket
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import DEMO_CSV, REPO
from tradesentry import cli, open_store

runner = CliRunner()
NO_STORE = "no store here (ingest something first)"


def invoke(*args, env: dict | None = None):
    return runner.invoke(cli.app, [str(a) for a in args], env=env, catch_exceptions=False)


def assert_one_line_error(result, *parts: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for part in parts:
        assert part in lines[0], lines[0]
    assert result.stdout == ""


@pytest.fixture
def db(tmp_path) -> Path:
    db = tmp_path / "s.duckdb"
    assert invoke("ingest", DEMO_CSV, "--store", db).exit_code == 0
    return db


# -- a store that does not exist ----------------------------------------------------------
# Every command that reads or scans a store; `report` and `export` would also write a file.
READERS = [
    "scan",
    "scan --fail-on low",
    "scan --format json",
    "scan --new",
    "scan --kind level_shift --reporter CHN",
    "series CHN PRK export TOTAL",
    "mirror CHN PRK",
    "gap CHN PRK",
    "rates",
    "releases",
    "releases --diff 1 2",
    "quarantine",
    "digest",
    "digest --out digest.md",
    "report",
    "export --parquet lake",
    "serve",
]


@pytest.mark.parametrize("command", READERS)
def test_a_command_that_reads_refuses_a_missing_store_and_makes_none(
    tmp_path, monkeypatch, command
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRADESENTRY_STORE", raising=False)
    result = invoke(*command.split())
    assert_one_line_error(result, f"error: tradesentry.duckdb: {NO_STORE}")
    assert list(tmp_path.iterdir()) == []  # no store, no report, no folder


@pytest.mark.parametrize("command", ["scan --fail-on low", "series CHN PRK export TOTAL"])
def test_a_missing_store_named_by_option_or_environment(tmp_path, command):
    named = tmp_path / "new" / "named.duckdb"
    by_option = invoke(*command.split(), "--store", named)
    assert_one_line_error(by_option, f"error: {named}: {NO_STORE}")
    by_env = invoke(*command.split(), env={"TRADESENTRY_STORE": str(named)})
    assert_one_line_error(by_env, f"error: {named}: {NO_STORE}")
    assert list(tmp_path.iterdir()) == []


def test_ingest_and_rates_file_still_make_a_new_store(tmp_path):
    ingested = tmp_path / "ingested.duckdb"
    assert invoke("ingest", DEMO_CSV, "--store", ingested).exit_code == 0
    rates = tmp_path / "rates.csv"
    rates.write_text("currency,period,per_usd\nEUR,2024-01,0.91\n")
    loaded = tmp_path / "rates.duckdb"
    assert invoke("rates", rates, "--store", loaded).exit_code == 0
    assert ingested.is_file() and loaded.is_file()
    scanned = invoke("scan", "--store", ingested)  # and an existing store is scanned as before
    assert scanned.exit_code == 0 and "scan 1" in scanned.stdout


def test_a_first_ingest_that_fails_leaves_no_store_and_a_later_one_keeps_it(tmp_path):
    """The store as it was: none where nothing landed, the same store where one had."""
    empty = tmp_path / "empty.csv"
    empty.touch()
    db = tmp_path / "s.duckdb"
    assert_one_line_error(invoke("ingest", empty, "--store", db), "empty.csv: the file is empty")
    assert list(tmp_path.iterdir()) == [empty]
    both = invoke("ingest", DEMO_CSV, empty, "--store", db)  # one lands: the store stays
    assert both.exit_code == 2 and db.is_file()
    assert invoke("ingest", empty, "--store", db).exit_code == 2 and db.is_file()


def test_open_store_in_python_still_makes_a_new_store(tmp_path):
    path = tmp_path / "api.duckdb"
    with open_store(path) as st:
        st.ingest(DEMO_CSV)
    assert path.is_file()


# -- fetch comtrade --flow -----------------------------------------------------------------
@pytest.fixture
def no_comtrade(monkeypatch):
    """A base URL nothing answers on: a test that reached the network would fail, not hang."""
    monkeypatch.setenv("COMTRADE_API_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("COMTRADE_API_KEY", raising=False)


FETCH = ["fetch", "comtrade", "--reporter", "CHN", "--partner", "PRK", "--period", "2021-03"]


@pytest.mark.usefixtures("no_comtrade")
@pytest.mark.parametrize("flow", ["Z", "EXP", "X,Q", "exports"])
@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]])
def test_an_unknown_comtrade_flow_code_is_refused_naming_the_codes(tmp_path, flow, dry_run):
    store = tmp_path / "s.duckdb"
    result = invoke(*FETCH, "--flow", flow, *dry_run, "--store", store)
    assert_one_line_error(result, "--flow", "unknown Comtrade flow code", "X, M, RX, RM")
    assert not store.exists()  # refused before a store was made


@pytest.mark.usefixtures("no_comtrade")
def test_comtrade_flow_codes_in_any_case(tmp_path):
    result = invoke(*FETCH, "--flow", "x,rm,mip,Re-Export", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "&flowCode=X,RM,MIP,RX&" in result.stdout


# -- serve ---------------------------------------------------------------------------------
@pytest.fixture
def no_uvicorn(monkeypatch):
    """uvicorn.run, which must not be reached: the address is refused before."""
    uvicorn = pytest.importorskip("uvicorn")

    def run(*args, **kwargs):
        raise AssertionError("uvicorn started")

    monkeypatch.setattr(uvicorn, "run", run)


@pytest.mark.usefixtures("no_uvicorn")
@pytest.mark.parametrize("host", ["999.1.1.1", "no-such-host.invalid"])
def test_serve_on_a_host_that_is_no_address_exits_2(db, host):
    result = invoke("serve", "--host", host, "--store", db)
    assert_one_line_error(result, f"--host '{host}'")


@pytest.mark.usefixtures("no_uvicorn")
def test_serve_on_a_port_in_use_exits_2(db):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = invoke("serve", "--port", port, "--store", db)
    assert_one_line_error(result, f"127.0.0.1:{port}: cannot listen there")


def test_serve_exits_2_when_uvicorn_fails_to_start(db, monkeypatch):
    """A failure the check cannot see (the port taken meanwhile): uvicorn's 3 becomes 2."""
    uvicorn = pytest.importorskip("uvicorn")
    monkeypatch.setattr(cli, "_check_listenable", lambda host, port: None)
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: sys.exit(3))
    assert invoke("serve", "--store", db).exit_code == 2


# -- rates FILE ----------------------------------------------------------------------------
def test_rates_of_a_directory_says_it_is_one(tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    store = tmp_path / "s.duckdb"
    result = invoke("rates", folder, "--store", store)
    assert_one_line_error(result, f"error: {folder}: is a directory, not a file")
    missing = invoke("rates", tmp_path / "missing.csv", "--store", store)
    assert_one_line_error(missing, "missing.csv: no such file")
    assert not store.exists()  # checked before a new store was made


# -- README --------------------------------------------------------------------------------
def test_the_readme_python_snippet_runs_from_the_repository_root(tmp_path, monkeypatch):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## In Python", 1)[1]
    snippet = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert 'open_store("trade.duckdb")' in snippet
    store = str(tmp_path / "trade.duckdb")
    monkeypatch.chdir(REPO)
    exec(compile(snippet.replace("trade.duckdb", store), "README.md", "exec"), {})
    with open_store(store, read_only=True) as st:
        assert len(st.releases()) == 1


def test_a_folder_given_as_the_mapping_is_one_line_and_makes_no_store(tmp_path):
    db = tmp_path / "s.duckdb"
    result = invoke("ingest", DEMO_CSV, "--mapping", tmp_path, "--store", db)
    assert_one_line_error(result, f"{tmp_path}: a folder, not a mapping file")
    assert not db.exists()


def test_importing_the_package_loads_no_library_yet():
    """``import tradesentry`` (which every command's entry point does first) loads neither
    pandas nor DuckDB: a Ctrl-C in the second those take is the command's to handle."""
    import subprocess
    import sys

    code = (
        "import sys, tradesentry; print(sorted({'pandas', 'duckdb', 'numpy'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert callable(__import__("tradesentry").open_store)  # the public names on first use


def test_ctrl_c_while_the_command_line_loads_is_one_line_and_130(monkeypatch, capsys):
    import builtins

    from tradesentry import __main__ as entry

    real = builtins.__import__

    def interrupted(name, *args, **kwargs):
        if name == "tradesentry.cli":
            raise KeyboardInterrupt
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", interrupted)
    with pytest.raises(SystemExit) as stop:
        entry.main()
    assert stop.value.code == 130
    assert capsys.readouterr().err == "tradesentry: interrupted while starting; nothing was done\n"


def test_the_package_s_findings_is_the_api_s_whatever_was_imported_first():
    """``tradesentry.findings`` is the api's function, as ``__all__`` says, even once the
    module of the same name is loaded (a submodule's import sets its name on the package)."""
    import subprocess
    import sys

    code = (
        "from tradesentry.findings import Findings\n"
        "import tradesentry, tradesentry.api\n"
        "print(tradesentry.findings is tradesentry.api.findings)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_rates_for_a_month_that_has_not_begun_are_refused_in_one_line(tmp_path):
    """The ingest refuses a period that has not begun (a mistyped year); `rates` loaded a
    rate for 2099-01."""
    rates = tmp_path / "rates.csv"
    rates.write_text("currency,period,per_usd\nEUR,2024-01,0.91\nEUR,2099-01,0.9\n")
    result = invoke("rates", rates, "--store", tmp_path / "s.duckdb")
    assert_one_line_error(result, "rates.csv: line 3: period '2099-01' has not begun (today is ")
