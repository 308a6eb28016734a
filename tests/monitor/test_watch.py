"""The watch loop: files dropped into a folder, a local webhook, retries, a watchlist."""

from __future__ import annotations

import json
import logging
import re
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.monitor.conftest import vintage
from tradesentry import api
from tradesentry.cli import app
from tradesentry.errors import InputError
from tradesentry.monitor import Watcher, load_watchlist, watch
from tradesentry.monitor.watch import Folder, StepFailed, attempt, pending_path
from tradesentry.store import open_store

pytestmark = pytest.mark.usefixtures("tiny")
runner = CliRunner()
NO_WAIT = {"sleep": lambda seconds: None}


def watcher(store, folder: Path, **options) -> Watcher:
    return Watcher(store, folder, interval=0.01, backoff=0.01, **NO_WAIT, **options)


def test_a_dropped_file_is_ingested_scanned_digested_and_posted(store, tmp_path, hook):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    vintage(inbox / "cn_kp_2021-02.csv", until="2021-02")
    (report,) = watcher(store, inbox, webhook=hook.url).run(max_iterations=1)
    assert report.ok, report.errors
    assert [r["file"] for r in report.ingested] == ["cn_kp_2021-02.csv"]
    assert report.new == len(api.findings(store)) > 0 and report.posted == 1
    assert report.digests == [inbox / "digests" / "release-1.md"]
    assert report.digests[0].read_text().startswith("# Release 1: cn_kp_2021-02.csv")
    (body,) = hook.bodies
    assert body["text"].startswith("tradesentry: 4 new findings after release 1")
    assert "China's exports to North Korea" in body["text"]
    assert {f["period"] for f in body["findings"]} == {"2020-10", "2020-11", "2021-01", "2021-02"}
    assert body["findings"][0]["impact"] >= body["findings"][-1]["impact"]


def test_nothing_new_means_no_scan_and_no_post(store, tmp_path, hook):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    vintage(inbox / "a.csv", until="2021-02")
    w = watcher(store, inbox, webhook=hook.url)
    w.run(max_iterations=1)
    (vintage(inbox / "copy.csv", until="2021-02"))  # the same content under another name
    w.cycle()
    quiet = w.cycle()
    assert quiet.scan_id is None and quiet.ingested == [] and len(hook.bodies) == 1


def test_a_file_written_in_two_halves_is_read_whole(store, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    text = vintage(tmp_path / "full.csv", until="2021-06").read_text()
    half = len(text) // 2
    target = inbox / "release.csv"
    w = watcher(store, inbox)
    target.write_text(text[:half])
    assert w.cycle().ingested == []  # first seen
    with target.open("a") as f:
        f.write(text[half:])
    assert w.cycle().ingested == []  # it changed since the last look
    report = w.cycle()  # unchanged across two looks: complete
    assert [r["rows_read"] for r in report.ingested] == [47]
    assert report.ingested[0]["rows_quarantined"] == 0


def test_part_and_tmp_files_wait_for_their_rename(store, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    part = vintage(inbox / "release.csv.part", until="2021-02")
    vintage(inbox / "other.tmp", until="2021-02")
    vintage(inbox / ".hidden.csv", until="2021-02")
    w = watcher(store, inbox)
    w.cycle()
    assert w.cycle().ingested == []
    part.rename(inbox / "release.csv")
    w.cycle()
    assert [r["file"] for r in w.cycle().ingested] == ["release.csv"]


def test_an_unreadable_file_is_reported_and_the_watch_goes_on(store, tmp_path, caplog):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "garbage.csv").write_bytes(bytes(range(256)) * 4)
    w = watcher(store, inbox)
    w.cycle()
    with caplog.at_level(logging.ERROR, logger="tradesentry.monitor"):
        bad = w.cycle()
    assert bad.errors and "garbage.csv" in bad.errors[0] and "garbage.csv" in caplog.text
    assert w.cycle().errors == []  # not tried again until the file changes
    vintage(inbox / "good.csv", until="2021-02")
    w.cycle()
    assert [r["file"] for r in w.cycle().ingested] == ["good.csv"]


def test_a_file_of_which_nothing_lands_is_a_warning(store, tmp_path, caplog):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "bad.csv").write_text(
        "reporter,partner,flow,commodity,period,value,currency\n"
        "CHN,PRK,export,TOTAL,2021-13,100,USD\n"
    )
    w = watcher(store, inbox)
    w.cycle()
    with caplog.at_level(logging.WARNING, logger="tradesentry.monitor"):
        report = w.cycle()
    assert [r["rows_quarantined"] for r in report.ingested] == [1]
    assert "bad.csv: release" in caplog.text and "0 rows accepted, 1 quarantined" in caplog.text


def test_a_webhook_that_fails_once_then_succeeds(store, tmp_path, flaky_hook, caplog):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    vintage(inbox / "a.csv", until="2021-02")
    with caplog.at_level(logging.WARNING, logger="tradesentry.monitor"):
        (report,) = watcher(store, inbox, webhook=flaky_hook.url).run(max_iterations=1)
    assert report.ok and report.posted == 1
    assert flaky_hook.attempts == 2 and len(flaky_hook.bodies) == 1
    assert "HTTP 500" in caplog.text and "attempt 1 of 3" in caplog.text


def test_a_webhook_down_for_a_cycle_gets_the_message_later(store, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    vintage(inbox / "a.csv", until="2021-02")
    sent: list[dict] = []
    down = {"now": True, "tries": 0}

    def post(url: str, body: dict) -> int:
        down["tries"] += 1
        if down["now"]:
            raise OSError("connection refused")
        sent.append(body)
        return 200

    w = watcher(store, inbox, webhook="http://127.0.0.1:9/hook", post=post)
    (first,) = w.run(max_iterations=1)
    assert first.errors and "gave up after 3 attempts" in first.errors[0]
    assert len(w.pending) == 1 and sent == [] and down["tries"] == 3
    assert w.cycle().errors and down["tries"] == 4  # known down: one try a cycle
    down["now"] = False
    assert w.cycle().posted == 1 and len(sent) == 1 and w.pending == []


def test_a_failing_scan_is_retried_and_caught_up_next_cycle(store, tmp_path, monkeypatch):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    vintage(inbox / "a.csv", until="2021-02")
    real_scan = api.scan
    calls = {"n": 0}

    def broken(*args, **kwargs):
        calls["n"] += 1
        raise RuntimeError("disk full")

    monkeypatch.setattr(api, "scan", broken)
    (first,) = watcher(store, inbox).run(max_iterations=1)
    assert calls["n"] == 3 and "scan: disk full" in first.errors[0]
    monkeypatch.setattr(api, "scan", real_scan)
    w = watcher(store, inbox)
    caught_up = w.cycle()  # no new file, but release 1 has not been scanned yet
    assert caught_up.scan_id is not None and caught_up.digests


def test_a_caught_up_scan_digests_every_release_it_missed(store, tmp_path, monkeypatch):
    """Releases 2 and 3 landed in a cycle whose scan failed; the next cycle's scan wrote
    the digest of release 3 alone (the newest), and release 2 never had one."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    vintage(inbox / "a.csv", until="2020-12")
    w = watcher(store, inbox)
    assert w.run(max_iterations=1)[0].ok
    real_scan = api.scan
    monkeypatch.setattr(api, "scan", lambda *a, **k: 1 / 0)
    vintage(inbox / "b.csv", until="2021-01")
    vintage(inbox / "c.csv", until="2021-02")
    failed = [w.cycle(), w.cycle()]  # the files are read once they have settled
    assert sum(len(r.ingested) for r in failed) == 2 and failed[-1].scan_id is None
    monkeypatch.setattr(api, "scan", real_scan)
    caught_up = w.cycle()
    assert [p.name for p in caught_up.digests] == ["release-2.md", "release-3.md"]


def test_a_digest_that_could_not_be_written_is_written_next_cycle(store, tmp_path):
    """A digest step that failed (its file blocked) was never tried again: the scan had
    moved on, and nothing kept what was owed. It is kept beside the store, and written
    once it can be, with no half-written file left behind."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    vintage(inbox / "a.csv", until="2021-02")
    blocked = inbox / "digests" / "release-1.md"
    blocked.mkdir(parents=True)  # a folder where the file should go
    w = watcher(store, inbox)
    (first,) = w.run(max_iterations=1)
    assert first.digests == [] and any("digest of release 1" in e for e in first.errors)
    blocked.rmdir()
    again = w.cycle()
    assert again.ok and again.scan_id is None  # nothing new to scan, the digest owed
    assert again.digests == [blocked] and blocked.read_text().startswith("# Release 1")
    assert not list(blocked.parent.glob("*.tmp")) and w.cycle().digests == []


def test_a_digest_owed_is_tried_once_a_cycle_and_dropped_when_it_never_can_be(store, tmp_path):
    """A digest that failed in the scan's step was tried again at once in the same cycle
    (its error reported twice); an owed digest of a release the store no longer holds
    (its state outlived a rebuilt store) failed every cycle for good."""
    from tradesentry.monitor.watch import load_owed, owed_path, save_owed

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    vintage(inbox / "a.csv", until="2021-02")
    out = tmp_path / "out"
    out.write_text("a file where the digests' folder should be")
    w = watcher(store, inbox, out=out)
    (first,) = w.run(max_iterations=1)
    assert len(first.errors) == 1 and load_owed(owed_path(store.path)) == [(1, 1)]
    save_owed(owed_path(store.path), [(7, 1)])  # no release 7 in this store
    later = w.cycle()
    assert later.ok and load_owed(owed_path(store.path)) == []


def test_the_store_path_is_opened_per_cycle(tmp_path, hook):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    db = tmp_path / "s.duckdb"
    vintage(inbox / "a.csv", until="2021-02")
    reports = watch(db, inbox, interval=0.01, webhook=hook.url, max_iterations=2, **NO_WAIT)
    assert [len(r.ingested) for r in reports] == [1, 0]
    with open_store(db) as st:  # the lock is free between cycles
        assert len(st.releases()) == 1


def test_watchlist_fetches_through_the_client(store, tmp_path):
    watchlist = tmp_path / "watch.toml"
    watchlist.write_text(
        'interval = 3600\n[[series]]\nreporter = "CHN"\npartner = "PRK"\nfreq = "M"\n'
        'period = "2021"\nflow = "X"\n'
    )
    source = vintage(tmp_path / "fetched.csv", until="2021-02")
    calls: list[dict] = []

    def fetch(st, **entry):
        calls.append(entry)
        return [st.ingest(source)]

    clock = {"t": 0.0}
    w = Watcher(
        store,
        watchlist=load_watchlist(watchlist),
        out=tmp_path / "digests",
        fetch=fetch,
        clock=lambda: clock["t"],
        **NO_WAIT,
    )
    first = w.cycle()
    assert calls == [
        {"reporter": "CHN", "partner": "PRK", "freq": "M", "period": "2021", "flow": "X"}
    ]
    assert len(first.ingested) == 1 and first.scan_id and first.digests
    clock["t"] = 60.0
    w.cycle()
    assert len(calls) == 1  # not due for another hour
    clock["t"] = 3601.0
    assert w.cycle().ingested == [] and len(calls) == 2  # fetched again: nothing new


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[series]]\nreporter = 'CHN'\n", "missing partner, freq, period"),
        ("[[series]]\nreporter='CHN'\npartner='PRK'\nfreq='M'\nperiod='2021'\nyear=1\n", "year"),
        (
            "interval = 0\n[[series]]\nreporter='CHN'\npartner='PRK'\nfreq='M'\nperiod='2021'\n",
            "interval",
        ),
        ("series = [", "cannot read"),
        ("", "[[series]]"),
    ],
)
def test_a_bad_watchlist_is_an_input_error(tmp_path, text, message):
    path = tmp_path / "w.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=message.replace("[", r"\[")):
        load_watchlist(path)


def test_attempt_backs_off_then_gives_up():
    pauses: list[float] = []
    with pytest.raises(StepFailed, match="gave up after 3 attempts"):
        attempt("x", lambda: 1 / 0, attempts=3, backoff=0.5, sleep=pauses.append)
    assert pauses == [0.5, 1.0]
    with pytest.raises(InputError):  # bad input: no retry
        attempt("x", lambda: (_ for _ in ()).throw(InputError("bad")), sleep=pauses.append)
    assert pauses == [0.5, 1.0]


def test_folder_ignores_empty_files_and_subfolders(tmp_path):
    (tmp_path / "empty.csv").touch()
    (tmp_path / "sub").mkdir()
    folder = Folder(tmp_path)
    folder.poll()
    assert folder.poll() == ([], [])


def test_cli_watch_once(tmp_path, hook):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    vintage(inbox / "a.csv", until="2021-02")
    db = tmp_path / "s.duckdb"
    result = runner.invoke(
        app,
        [
            "watch",
            str(inbox),
            "--once",
            "--interval",
            "0.05",
            "--webhook",
            hook.url,
            "--digest-format",
            "html",
            "--store",
            str(db),
        ],
    )
    assert result.exit_code == 0, result.output
    assert (inbox / "digests" / "release-1.html").read_text().startswith("<!doctype html>")
    assert len(hook.bodies) == 1


def test_cli_watch_once_keeps_what_the_webhook_missed_for_the_next_run(tmp_path, hook):
    """`watch --once` from cron with the webhook down: the run exits 2 (cron mails it) and
    the message waits beside the store; the next run, with the webhook up, sends it."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    vintage(inbox / "a.csv", until="2021-02")
    db = tmp_path / "s.duckdb"

    def once(url: str):
        argv = ["watch", str(inbox), "--once", "--interval", "0.05", "--webhook", url]
        return runner.invoke(app, [*argv, "--store", str(db)])

    down = once("http://127.0.0.1:9/hook")  # nothing listens on the discard port
    assert down.exit_code == 2, down.output
    assert "1 step failed" in down.output
    queue = Path(f"{db}.fetch") / "watch-webhook-pending.json"
    assert len(json.loads(queue.read_text())["messages"]) == 1
    up = once(hook.url)
    assert up.exit_code == 0, up.output
    (body,) = hook.bodies
    assert body["text"].startswith("tradesentry: 4 new findings after release 1")
    assert not queue.exists()


def test_a_queue_that_cannot_be_read_is_moved_aside_and_said(store, tmp_path, caplog):
    """A corrupt queue file is set aside once (not warned about on every run), and a
    message not in the webhook's shape is dropped with a word, not a crash."""
    queue = Path(f"{store.path}.fetch") / "watch-webhook-pending.json"
    queue.parent.mkdir(parents=True)
    queue.write_text('{"messages": [')
    with caplog.at_level(logging.WARNING, logger="tradesentry.monitor"):
        assert watcher(store, tmp_path).pending == []
    assert "unreadable" in caplog.text and not queue.exists()
    assert queue.with_name(queue.name + ".bad").exists()
    queue.write_text(json.dumps({"messages": [{"text": "hand"}, {"text": "ok", "findings": []}]}))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="tradesentry.monitor"):
        assert watcher(store, tmp_path).pending == [{"text": "ok", "findings": []}]
    assert "1 message(s) not in the webhook's shape dropped" in caplog.text


def test_the_queue_cap_drops_the_oldest_and_says_so(store, tmp_path, caplog, monkeypatch):
    # the package's `watch` is the function: the module is reached through sys.modules
    monkeypatch.setattr(sys.modules["tradesentry.monitor.watch"], "MAX_PENDING", 1)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    w = watcher(store, inbox, webhook="http://127.0.0.1:9/hook", post=_refused)
    w.pending.append({"text": "older", "findings": []})
    vintage(inbox / "a.csv", until="2021-02")
    with caplog.at_level(logging.WARNING, logger="tradesentry.monitor"):
        w.run(max_iterations=1)
    assert len(w.pending) == 1 and w.pending[0]["text"].startswith("tradesentry: 4 new")
    assert "1 oldest undelivered message(s) dropped (at most 1 kept)" in caplog.text


def test_two_watches_on_one_store_post_a_message_once(store, tmp_path):
    """A running watch whose post failed and a cron job's `--once` that then delivered the
    message: the running watch does not post it again (it kept its own copy), and a message
    it queues later does not bring the delivered one back."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    vintage(inbox / "a.csv", until="2021-02")
    running = watcher(store, inbox, webhook="http://127.0.0.1:9/hook", post=_refused)
    running.run(max_iterations=1)
    assert len(running.pending) == 1
    sent: list[dict] = []

    def delivered(url: str, body: dict) -> int:
        sent.append(body)
        return 200

    assert watcher(store, tmp_path, webhook="http://x/hook", post=delivered).cycle().posted == 1
    running.post = delivered
    assert running.cycle().posted == 0 and len(sent) == 1 and running.pending == []
    running.post = _refused
    vintage(inbox / "b.csv", until="2021-03", since="2021-03", edits={("export", "2021-03"): 5})
    running.run(max_iterations=1)
    (queued,) = json.loads(pending_path(store.path).read_text())["messages"]
    assert queued != sent[0] and queued["text"].startswith("tradesentry: ")


def test_a_queue_that_cannot_be_written_stays_in_memory(store, tmp_path, monkeypatch):
    """Where the queue file cannot be written, the watch keeps its messages itself."""
    monkeypatch.setattr(sys.modules["tradesentry.monitor.watch"], "replace_text", _unwritable)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    vintage(inbox / "a.csv", until="2021-02")
    w = watcher(store, inbox, webhook="http://127.0.0.1:9/hook", post=_refused)
    w.run(max_iterations=1)
    assert len(w.pending) == 1 and not pending_path(store.path).exists()
    sent: list[dict] = []
    w.post = lambda url, body: sent.append(body) or 200
    assert w.cycle().posted == 1 and len(sent) == 1 and w.pending == []


def test_the_queue_lock_makes_a_second_watch_wait(tmp_path):
    import threading

    from tradesentry.monitor.watch import locked

    queue = tmp_path / "s.duckdb.fetch" / "watch-webhook-pending.json"
    order: list[str] = []
    held = threading.Event()

    def second() -> None:
        held.wait()
        with locked(queue):
            order.append("second")

    thread = threading.Thread(target=second)
    with locked(queue):
        thread.start()
        held.set()
        thread.join(timeout=0.3)  # it cannot get in while the first holds the lock
        order.append("first")
    thread.join(timeout=10)
    assert order == ["first", "second"]


def _unwritable(path: Path, text: str) -> None:
    raise OSError("read-only file system")


def _refused(url: str, body: dict) -> int:
    raise OSError("connection refused")


def test_a_cycle_that_crashes_is_a_failed_step(store, tmp_path, monkeypatch):
    """`--once` exits 2 on it: a bug in a step is no silent success."""
    w = watcher(store, tmp_path)
    monkeypatch.setattr(w, "cycle", lambda: 1 / 0)
    (report,) = w.run(max_iterations=1)
    assert report.errors and "ZeroDivisionError" in report.errors[0]


def test_cli_watch_once_fails_on_a_bad_file_once_not_every_run(tmp_path):
    """Cron mails a failed run: a file that cannot be read fails the run that finds it, and
    the next runs skip it until it changes (the files read are kept beside the store)."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    bad = inbox / "bad.csv"
    bad.write_text("no,such,columns\n1,2,3\n")
    db = tmp_path / "s.duckdb"
    argv = ["watch", str(inbox), "--once", "--interval", "0.05", "--store", str(db)]
    assert runner.invoke(app, argv).exit_code == 2
    assert runner.invoke(app, argv).exit_code == 0  # the same file, unchanged
    bad.write_text("still,no,such,columns\n1,2,3,4\n")
    assert runner.invoke(app, argv).exit_code == 2  # changed: read again


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "needs a folder"),
        (["nowhere"], "not a folder"),
        (["."], "--interval"),
        (["."], "--webhook"),
    ],
)
def test_cli_watch_bad_arguments_exit_2(tmp_path, args, message):
    extra = {"--interval": ["--interval", "0"], "--webhook": ["--webhook", "ftp://x"]}
    argv = ["watch", *[str(tmp_path / a) if a == "nowhere" else a for a in args]]
    argv += extra.get(message, [])
    result = runner.invoke(app, [*argv, "--store", str(tmp_path / "s.duckdb")])
    assert result.exit_code == 2 and message in result.stderr


def test_watch_fetches_from_a_local_comtrade(store, tmp_path, monkeypatch, hook):
    """The real fetch client against the recorded Comtrade replies served on 127.0.0.1."""
    from tests.fetch.comtrade_fake import FakeComtrade
    from tradesentry.fetch import fetch_comtrade

    watchlist = tmp_path / "watch.toml"
    watchlist.write_text(
        '[[series]]\nreporter = "CHN"\npartner = "PRK"\nfreq = "M"\n'
        'period = "2021-01,2021-02,2021-03"\n'
    )
    fake = FakeComtrade().start()
    try:
        monkeypatch.delenv("COMTRADE_API_KEY", raising=False)
        monkeypatch.setenv("COMTRADE_API_URL", fake.url)
        w = Watcher(
            store,
            watchlist=load_watchlist(watchlist),
            out=tmp_path / "digests",
            webhook=hook.url,
            fetch=lambda st, **e: fetch_comtrade(st, **e, sleep=lambda s: None),
            **NO_WAIT,
        )
        report = w.cycle()
    finally:
        fake.stop()
    assert report.ok, report.errors
    assert len(report.ingested) == 3 and report.scan_id is not None
    assert len(report.digests) == 3 and len(hook.bodies) <= 1


SERIES = '[[series]]\nreporter = "CHN"\npartner = "PRK"\nfreq = "M"\nperiod = "2021"\n'


def test_the_fetch_interval_holds_across_runs(tmp_path):
    """`watch --once` from cron: each run a new process, the watchlist's interval still holds."""
    db = tmp_path / "s.duckdb"
    watchlist = tmp_path / "watch.toml"
    watchlist.write_text("interval = 86400\n" + SERIES)
    calls: list[dict] = []

    def run_once(now: float) -> None:
        w = Watcher(
            db,
            watchlist=load_watchlist(watchlist),
            out=tmp_path / "digests",
            fetch=lambda st, **entry: calls.append(entry) or [],
            clock=lambda: now,
            **NO_WAIT,
        )
        (report,) = w.run(max_iterations=1)
        assert report.ok, report.errors

    run_once(1_000_000.0)
    run_once(1_000_060.0)  # a minute later
    assert [c["partner"] for c in calls] == ["PRK"]
    # a series added to the watchlist is due at once; the other keeps its own time
    watchlist.write_text("interval = 86400\n" + SERIES + SERIES.replace("PRK", "KOR"))
    run_once(1_000_120.0)
    assert [c["partner"] for c in calls] == ["PRK", "KOR"]
    run_once(1_086_401.0)  # a day after the first fetch, not yet a day after the second
    assert [c["partner"] for c in calls] == ["PRK", "KOR", "PRK"]
    state = json.loads((tmp_path / "s.duckdb.fetch" / "watch-fetched.json").read_text())
    assert sorted(e["last_fetch"] for e in state["entries"].values()) == [1_000_120.0, 1_086_401.0]


def test_cli_watch_once_twice_fetches_once(tmp_path, monkeypatch):
    """The QA case: `watch --once --fetch` run again at once must not call the API again."""
    from tests.fetch.comtrade_fake import FakeComtrade
    from tradesentry.fetch import comtrade

    monkeypatch.setattr(comtrade, "MIN_INTERVAL_SECONDS", 0.0)
    monkeypatch.delenv("COMTRADE_API_KEY", raising=False)
    watchlist = tmp_path / "wl.toml"
    watchlist.write_text("interval = 86400\n" + SERIES.replace('"2021"', '"2021-01,2021-02"'))
    argv = ["watch", "--once", "--fetch", str(watchlist), "--interval", "0.05"]
    argv += ["--out", str(tmp_path / "digests"), "--store", str(tmp_path / "s.duckdb")]
    fake = FakeComtrade().start()
    try:
        monkeypatch.setenv("COMTRADE_API_URL", fake.url)
        first = runner.invoke(app, argv)
        calls = len(fake.seen)
        second = runner.invoke(app, argv)
    finally:
        fake.stop()
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert calls == 3  # the availability call and two months
    assert len(fake.seen) == 3  # nothing more the second time
    assert re.search(
        r"fetch CHN-PRK 2021-01,2021-02: not due \(last fetched \d+s ago, interval 24h\); "
        r"next in 23h5\dm",
        second.stderr,
    )


def test_a_fetch_that_fails_midway_announces_what_it_stored(store, tmp_path, monkeypatch, caplog):
    from tests.fetch.comtrade_fake import FakeComtrade, Reply, recorded
    from tradesentry.fetch import fetch_comtrade

    watchlist = tmp_path / "watch.toml"
    watchlist.write_text(SERIES.replace('"2021"', '"2021-01,2021-02"'))
    fake = FakeComtrade().start()
    fake.script(
        Reply(200, recorded("getDa-C-M-HS-r156-2021.json")),
        Reply(200, recorded("preview-C-M-HS-r156-p408-202101.json")),
        Reply(200, recorded("malformed.json")),
    )
    try:
        monkeypatch.delenv("COMTRADE_API_KEY", raising=False)
        monkeypatch.setenv("COMTRADE_API_URL", fake.url)
        w = Watcher(
            store,
            watchlist=load_watchlist(watchlist),
            out=tmp_path / "digests",
            fetch=lambda st, **e: fetch_comtrade(st, **e, sleep=lambda s: None, min_interval=0),
            **NO_WAIT,
        )
        with caplog.at_level(logging.INFO, logger="tradesentry.monitor"):
            report = w.cycle()
    finally:
        fake.stop()
    (error,) = report.errors
    assert "malformed JSON" in error and "202101 X,M as release 1 (new)" in error
    assert "\n" not in error  # one log line (it showed a "\x0a" where its lines met)
    assert [r["release_id"] for r in report.ingested] == [1]  # stored, so announced
    assert "fetch CHN-PRK 2021-01,2021-02: 1 new release(s)" in caplog.text
    assert report.digests == [tmp_path / "digests" / "release-1.md"]


@pytest.mark.parametrize("by_hand", ["digest", "scan"])
def test_a_release_scanned_by_hand_between_runs_is_still_told_of(store, tmp_path, by_hand):
    """A release ingested by hand (a national table the watch has no mapping for) and
    digested, or scanned, before the watch's next run: the scan moved the watermark the
    watch went by, and it never wrote that release's digest nor posted its findings."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    vintage(inbox / "a.csv", until="2021-01")
    sent: list[dict] = []

    def cron_run() -> list:
        post = lambda url, body: sent.append(body) or 200  # noqa: E731
        return watcher(store, inbox, webhook="http://x/hook", post=post).run(max_iterations=1)

    assert cron_run()[0].digests == [inbox / "digests" / "release-1.md"] and len(sent) == 1
    store.ingest(vintage(tmp_path / "by-hand.csv", since="2021-02", until="2021-02"))
    by_hand_digest = getattr(api, by_hand)(store)
    (report,) = cron_run()
    assert report.ok and report.digests == [inbox / "digests" / "release-2.md"]
    assert report.digests[0].read_text() == api.digest(store, release=2).render("md")
    assert len(sent) == 2 and sent[1]["text"].startswith(
        "tradesentry: 1 new finding after release 2"
    )
    assert [(f["period"], f["flow"]) for f in sent[1]["findings"]] == [("2021-02", "export")]
    if by_hand == "digest":  # the same new findings as the digest run by hand
        assert [f["id"] for f in by_hand_digest.findings] == [sent[1]["findings"][0]["id"]]
    assert cron_run()[0].digests == [] and len(sent) == 2  # told once


@pytest.mark.parametrize(
    ("before", "told"),
    [
        ("scanned", []),  # every release a full scan saw is taken as told, as before
        ("not scanned", ["release-3.md"]),  # the release that lands, not the whole history
        ("rebuilt", ["release-3.md"]),  # a record of another store's release 9 is no record
    ],
)
def test_a_store_the_watch_has_never_seen_starts_as_it_always_did(store, tmp_path, before, told):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    store.ingest(vintage(tmp_path / "a.csv", until="2020-12"))
    store.ingest(vintage(tmp_path / "b.csv", until="2021-01"))
    if before == "scanned":
        api.scan(store)
    else:
        vintage(inbox / "c.csv", until="2021-02")
    if before == "rebuilt":
        from tradesentry.monitor.watch import notified_path, save_notified

        save_notified(notified_path(store.path), 9)
    (report,) = watcher(store, inbox).run(max_iterations=1)
    assert report.ok and [p.name for p in report.digests] == told


def test_a_message_not_in_the_webhooks_shape_is_said_once(store, tmp_path, caplog):
    """The run that found it said so twice: when the watch started and when it posted."""
    queue = pending_path(store.path)
    queue.parent.mkdir(parents=True)
    queue.write_text(json.dumps({"messages": [{"text": "hand"}, {"text": "ok", "findings": []}]}))
    with caplog.at_level(logging.WARNING, logger="tradesentry.monitor"):
        w = watcher(store, tmp_path, webhook="http://x/hook", post=lambda url, body: 200)
        assert w.cycle().posted == 1
    assert caplog.text.count("not in the webhook's shape dropped") == 1


def test_a_failed_fetch_is_not_then_said_to_have_fetched_nothing(store, tmp_path, caplog):
    """ "ERROR fetch CHN-PRK 2021: cannot reach …" was followed by "INFO fetch CHN-PRK
    2021: 0 new release(s)"."""
    from tradesentry.errors import FetchError

    watchlist = tmp_path / "watch.toml"
    watchlist.write_text(SERIES)

    def unreachable(st, **entry):
        raise FetchError("cannot reach comtradeapi.un.org")

    w = Watcher(
        store, watchlist=load_watchlist(watchlist), out=tmp_path, fetch=unreachable, **NO_WAIT
    )
    with caplog.at_level(logging.INFO, logger="tradesentry.monitor"):
        (error,) = w.cycle().errors
    assert "cannot reach" in error and "new release(s)" not in caplog.text
