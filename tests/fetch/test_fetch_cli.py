"""``tradesentry fetch comtrade`` through Typer's runner, against the local API."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from comtrade_fake import Reply, envelope, recorded
from typer.testing import CliRunner

from tradesentry.cli import app
from tradesentry.fetch import comtrade


@pytest.fixture
def cli(comtrade_api, monkeypatch, tmp_path):
    monkeypatch.setenv("COMTRADE_API_URL", comtrade_api.url)
    monkeypatch.setattr(comtrade, "MIN_INTERVAL_SECONDS", 0.0)
    store = tmp_path / "cli.duckdb"

    def run(*args: str):
        argv = ["fetch", "comtrade", "--reporter", "CHN", "--partner", "PRK", *args]
        return CliRunner().invoke(app, [*argv, "--store", str(store)])

    return run


def test_dry_run_prints_the_requests_and_calls_nothing(cli, comtrade_api):
    result = cli("--freq", "M", "--period", "2021", "--dry-run")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 13  # one availability call, twelve months
    assert lines[1].startswith(f"GET {comtrade_api.url}/public/v1/preview/C/M/HS?reporterCode=156")
    assert comtrade_api.seen == []


def test_fetch_prints_one_line_per_release(cli):
    result = cli("--freq", "M", "--period", "2021-02,2021-03,2021-08", "--flow", "X,M")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "202102 X,M: release 1 (new), 2 rows accepted, 0 quarantined, published 2021-04-28",
        "202103 X,M: release 2 (new), 2 rows accepted, 0 quarantined, published 2021-05-21",
        "202108 X,M: no data",
    ]
    again = cli("--freq", "M", "--period", "2021-02")
    assert "release 1 (already in the store)" in again.stdout


def test_an_api_error_is_one_line_and_exit_2(cli, comtrade_api):
    comtrade_api.script(Reply(401, recorded("error-401.json")))
    result = cli("--freq", "M", "--period", "2021-03")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: the API refused the request: Access denied due to invalid subscription key. "
        "Make sure to provide a valid key for an active subscription. "
        "(no key given; set COMTRADE_API_KEY)"
    ]
    assert len(comtrade_api.seen) == 1  # refused once, nothing more asked


def test_bad_input_is_exit_2(cli):
    result = cli("--freq", "Q", "--period", "2021")
    assert result.exit_code == 2
    assert "--freq 'Q'" in result.stderr


def test_a_failed_fetch_names_the_months_it_stored(cli, comtrade_api):
    comtrade_api.script(
        Reply(200, recorded("getDa-C-M-HS-r156-2021.json")),
        Reply(200, recorded("preview-C-M-HS-r156-p408-202101.json")),
        Reply(200, recorded("malformed.json")),
    )
    result = cli("--freq", "M", "--period", "2021-01,2021-02")
    assert result.exit_code == 2
    error, note = result.stderr.strip().splitlines()
    assert error.startswith("error: the API returned malformed JSON") and "period=202102" in error
    assert note == (
        "before it stopped, the fetch stored 202101 X,M as release 1 (new); "
        "running the same command again resumes (what is stored is a no-op)"
    )
    again = cli("--freq", "M", "--period", "2021-01,2021-02")
    assert again.exit_code == 0 and again.stdout.splitlines()[0].startswith(
        "202101 X,M: release 1 (already in the store)"
    )


def test_ctrl_c_exits_130_naming_the_months_it_stored(cli, comtrade_api, monkeypatch):
    def ctrl_c(seconds: float) -> None:
        raise KeyboardInterrupt

    comtrade_api.script(
        Reply(200, recorded("getDa-C-M-HS-r156-2021.json")),
        Reply(200, recorded("preview-C-M-HS-r156-p408-202101.json")),
        Reply(429, recorded("error-429.json"), {"Retry-After": "2"}),  # Ctrl-C while waiting
    )
    monkeypatch.setattr(comtrade, "wait", ctrl_c)  # not time.sleep: Spark's threads use it
    result = cli("--freq", "M", "--period", "2021-01,2021-02")
    assert result.exit_code == 130
    assert result.stderr.splitlines() == [
        "tradesentry: fetch interrupted; before it stopped, the fetch stored 202101 X,M as "
        "release 1 (new); running the same command again resumes (what is stored is a no-op)"
    ]


def test_a_cut_off_reply_is_refused_and_nothing_is_stored(cli, comtrade_api, tmp_path):
    sent = json.loads(recorded("preview-C-M-HS-r156-p408-202102.json"))
    cut = {**sent, "data": sent["data"][:1]}  # "count": 2
    comtrade_api.script(
        Reply(200, recorded("getDa-C-M-HS-r156-2021.json")), Reply(200, json.dumps(cut).encode())
    )
    result = cli("--freq", "M", "--period", "2021-02")
    assert result.exit_code == 2 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: the API's answer is incomplete: its count says 2 records")
    assert "period=202102" in line
    assert not (tmp_path / "cli.duckdb.fetch").exists()


def test_an_unreachable_host_is_one_line_naming_it(cli, monkeypatch, tmp_path):
    """One line naming the host, never the password an API URL may carry (logs and cron
    mail keep it), and no empty store left behind by a fetch that got nothing."""
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("COMTRADE_API_URL", f"http://user:secret@127.0.0.1:{port}")
    waits: list[float] = []
    monkeypatch.setattr(comtrade, "wait", waits.append)
    result = cli("--freq", "M", "--period", "2021-03")
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: cannot reach 127.0.0.1:{port} (ConnectError: ")
    assert "after 5 attempts: GET " in line and "/getDa/" in line
    assert waits == [1.0, 2.0, 4.0, 8.0]  # one call's retries: the data call is not tried
    assert "secret" not in result.stderr and f"GET http://127.0.0.1:{port}/" in line
    assert not (tmp_path / "cli.duckdb").exists()


@pytest.mark.parametrize(
    ("url", "period", "start"),
    [
        ("127.0.0.1:18777", "2021-03", "error: COMTRADE_API_URL '127.0.0.1:18777': expected an"),
        ("http://127.0.0.1:0", "2021-03", "error: COMTRADE_API_URL 'http://127.0.0.1:0': expected"),
        (
            "127.0.0.1:18777",
            "２０２１-03",
            "error: --period '２０２１-03': expected YYYY or YYYY-MM",
        ),
    ],
    ids=["no-scheme", "port-0", "full-width-period"],
)
def test_unusable_settings_are_one_line_at_once(cli, comtrade_api, monkeypatch, url, period, start):
    monkeypatch.setenv("COMTRADE_API_URL", url)
    result = cli("--freq", "M", "--period", period)
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(start)


def test_a_partner_in_superscript_is_one_line(comtrade_api, tmp_path):
    argv = ["fetch", "comtrade", "--reporter", "CHN", "--partner", "²", "--period", "2021"]
    result = CliRunner().invoke(app, [*argv, "--store", str(tmp_path / "s.duckdb")])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: --partner '²': not a country or area known to Comtrade"
    ]
    assert comtrade_api.seen == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_names_the_months_stored_and_ends_as_sigterm(comtrade_api, tmp_path):
    """Like Ctrl-C: the months stored before it are named; the exit status stays SIGTERM's."""
    comtrade_api.script(
        Reply(200, recorded("getDa-C-M-HS-r156-2021.json")),
        Reply(200, recorded("preview-C-M-HS-r156-p408-202101.json")),
        Reply(200, recorded("preview-C-M-HS-r156-p408-202102.json"), delay=60),  # stalled
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMTRADE_", "TRADESENTRY_"))}
    argv = [sys.executable, "-m", "tradesentry", "fetch", "comtrade", "--reporter", "CHN"]
    argv += ["--partner", "PRK", "--period", "2021-01,2021-02"]
    argv += ["--store", str(tmp_path / "s.duckdb")]
    env["COMTRADE_API_URL"] = comtrade_api.url
    child = subprocess.Popen(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while len(comtrade_api.seen) < 3 and child.poll() is None:
            assert time.monotonic() < deadline, "the fetch never reached February"
            time.sleep(0.05)
        child.send_signal(signal.SIGTERM)
        _, stderr = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == -signal.SIGTERM  # 143 in a shell
    assert stderr.splitlines() == [
        "tradesentry: fetch terminated; before it stopped, the fetch stored 202101 X,M as "
        "release 1 (new); running the same command again resumes (what is stored is a no-op)"
    ]


def test_an_api_that_does_not_answer_is_said_while_it_is_retried(cli, comtrade_api, monkeypatch):
    """Five one-minute timeouts were five silent minutes: each retry after a timeout is a
    line on stderr, and the fetch goes on when the API answers."""
    monkeypatch.setattr(comtrade, "TIMEOUT_SECONDS", 0.2)
    monkeypatch.setattr(comtrade, "wait", lambda seconds: None)
    comtrade_api.script(
        Reply(200, recorded("getDa-C-M-HS-r156-2021.json")),
        Reply(200, b"{}", delay=1.0),  # the first data call: no answer in time
    )
    result = cli("--freq", "M", "--period", "2021-03")
    assert result.exit_code == 0, result.output
    (notice,) = result.stderr.splitlines()
    host = comtrade_api.url.removeprefix("http://")
    assert (
        notice == f"tradesentry: no answer from {host} within 0.2 s; trying again (attempt 2 of 5)"
    )
    assert result.stdout.startswith("202103 X,M: release 1 (new)")


def test_an_availability_row_that_is_no_object_is_one_line_and_the_fetch_goes_on(cli, comtrade_api):
    """QA: ``envelope([None])`` from getDa ended the fetch in a traceback (exit 1)."""
    comtrade_api.script(Reply(200, envelope([None])))
    result = cli("--freq", "M", "--period", "2021-03")
    assert result.exit_code == 0, result.output
    (notice,) = result.stderr.splitlines()
    assert notice.startswith(
        "tradesentry: publication dates: 1 availability row of 1 skipped: row 1 is not a JSON "
        f"object (null): GET {comtrade_api.url}/public/v1/getDa/C/M/HS?reporterCode=156"
    )
    assert result.stdout.splitlines() == [
        "202103 X,M: release 1 (new), 2 rows accepted, 0 quarantined, published unknown"
    ]
