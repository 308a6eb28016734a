"""The fetch against a local server replaying the API: paging, empty answers, errors, retries."""

from __future__ import annotations

import io
import json
import socket
import threading
from datetime import date

import pytest
from comtrade_fake import Reply, recorded
from rich.console import Console
from rich.progress import Progress

from tradesentry.errors import FetchError, InputError
from tradesentry.fetch import FetchedRelease, fetch_comtrade


def fetch(store, api, waits, period="2021", **options):
    return fetch_comtrade(
        store,
        "CHN",
        "PRK",
        "M",
        period,
        base_url=api.url,
        sleep=waits.append,
        min_interval=0,
        **options,
    )


def test_a_year_is_fetched_month_by_month(stub_store, comtrade_api, no_sleep):
    report = fetch(stub_store, comtrade_api, no_sleep)

    periods = [s.query["period"] for s in comtrade_api.data_calls()]
    assert periods == [f"2021{m:02d}" for m in range(1, 13)]
    assert all(s.path == "/public/v1/preview/C/M/HS" for s in comtrade_api.data_calls())
    assert [r.period for r in report] == [f"2021{m:02d}" for m in range(1, 7)]
    assert all(isinstance(r, FetchedRelease) and r.rows_read == 2 for r in report)
    # months not yet published come back empty: nothing to ingest, but reported
    assert [e.periods[0] for e in report.empty] == [f"2021{m:02d}" for m in range(7, 13)]
    assert [source for _, source, _ in stub_store.ingested] == ["comtrade"] * 6


def test_each_release_carries_the_date_the_api_published_it(stub_store, comtrade_api, no_sleep):
    report = fetch(stub_store, comtrade_api, no_sleep, period="2021-02,2021-03")
    assert [(r.period, r.published) for r in report] == [
        ("202102", date(2021, 4, 28)),
        ("202103", date(2021, 5, 21)),
    ]
    assert [published for *_, published in stub_store.ingested] == [
        date(2021, 4, 28),
        date(2021, 5, 21),
    ]


def test_saved_files_are_the_api_json_next_to_the_store(stub_store, comtrade_api, no_sleep):
    fetch(stub_store, comtrade_api, no_sleep, period="2021-02")
    ((path, _, _),) = stub_store.ingested
    assert path.parent == stub_store.path.parent / "store.duckdb.fetch"
    doc = json.loads(path.read_bytes())
    # the API's records, every field and value as sent; of the envelope, all but elapsedTime
    assert set(doc) == {"count", "data", "error"}
    sent = json.loads(recorded("preview-C-M-HS-r156-p408-202102.json"))
    assert sorted(doc["data"], key=json.dumps) == sorted(sent["data"], key=json.dumps)
    assert (doc["count"], doc["error"]) == (sent["count"], sent["error"])
    exports = [r for r in doc["data"] if r["flowCode"] == "X"]
    assert exports[0]["primaryValue"] == 3000.0  # February 2021: "simply isn't realistic"


def test_the_saved_form_does_not_depend_on_the_call(stub_store, comtrade_api, no_sleep):
    """elapsedTime and the records' order change from call to call; the saved bytes do not."""
    fetch(stub_store, comtrade_api, no_sleep, period="2021-02")
    folder = stub_store.path.parent / "store.duckdb.fetch"
    ((first,),) = [list(folder.iterdir())]
    saved = first.read_bytes()
    first.unlink()
    records = json.loads(recorded("preview-C-M-HS-r156-p408-202102.json"))["data"]
    comtrade_api.revised["202102"] = [
        dict(reversed(list(r.items()))) for r in reversed(records)
    ]  # the same records, in another order, each with its fields in another order
    (again,) = fetch(stub_store, comtrade_api, no_sleep, period="2021-02")
    assert again.already_ingested
    assert [p.read_bytes() for p in folder.iterdir()] == [saved]


@pytest.mark.parametrize("count", [2, 2.0], ids=["int", "float"])
def test_a_reply_whose_count_disagrees_with_its_data_is_refused(
    stub_store, comtrade_api, no_sleep, count
):
    """Cut off between two records, a reply is still valid JSON: its count tells (also
    written 2.0, as a proxy may rewrite whole numbers)."""
    sent = json.loads(recorded("preview-C-M-HS-r156-p408-202102.json"))
    cut = {**sent, "count": count, "data": sent["data"][:1]}  # count still says 2
    comtrade_api.script(
        Reply(200, recorded("getDa-C-M-HS-r156-2021.json")), Reply(200, json.dumps(cut).encode())
    )
    with pytest.raises(FetchError) as caught:
        fetch(stub_store, comtrade_api, no_sleep, period="2021-02")
    message = str(caught.value)
    assert "count says 2 records but its data holds 1" in message
    assert "period=202102" in message and "\n" not in message
    assert stub_store.ingested == []
    assert not stub_store.path.parent.joinpath("store.duckdb.fetch").exists()


def test_a_failure_after_some_months_names_what_was_stored(stub_store, comtrade_api, no_sleep):
    comtrade_api.script(
        Reply(200, recorded("getDa-C-M-HS-r156-2021.json")),
        Reply(200, recorded("preview-C-M-HS-r156-p408-202101.json")),
        Reply(200, recorded("malformed.json")),
    )
    with pytest.raises(FetchError) as caught:
        fetch(stub_store, comtrade_api, no_sleep, period="2021-01,2021-02")
    error, note = str(caught.value).split("\n")
    assert error.startswith("the API returned malformed JSON") and "period=202102" in error
    assert note == (
        "before it stopped, the fetch stored 202101 X,M as release 1 (new); "
        "running the same command again resumes (what is stored is a no-op)"
    )
    assert [r.period for r in caught.value.fetched] == ["202101"]
    assert len(stub_store.ingested) == 1


def test_an_interrupted_fetch_says_on_stderr_what_was_stored(
    stub_store, comtrade_api, no_sleep, capsys
):
    def ctrl_c(seconds: float) -> None:
        raise KeyboardInterrupt

    comtrade_api.script(
        Reply(200, recorded("getDa-C-M-HS-r156-2021.json")),
        Reply(200, recorded("preview-C-M-HS-r156-p408-202101.json")),
        Reply(200, recorded("preview-C-M-HS-r156-p408-202102.json")),
        Reply(429, recorded("error-429.json"), {"Retry-After": "2"}),  # Ctrl-C while waiting
    )
    with pytest.raises(KeyboardInterrupt):
        fetch_comtrade(
            stub_store, "CHN", "PRK", "M", "2021-01,2021-02,2021-03",
            base_url=comtrade_api.url, sleep=ctrl_c, min_interval=0,
        )  # fmt: skip
    assert capsys.readouterr().err.splitlines() == [
        "tradesentry: fetch interrupted; before it stopped, the fetch stored 202101 X,M as "
        "release 1 (new), 202102 X,M as release 2 (new); running the same command again "
        "resumes (what is stored is a no-op)"
    ]


def test_fetching_again_is_a_no_op(stub_store, comtrade_api, no_sleep):
    first = fetch(stub_store, comtrade_api, no_sleep, period="2021-01,2021-02")
    files = sorted(stub_store.path.parent.joinpath("store.duckdb.fetch").iterdir())
    second = fetch(stub_store, comtrade_api, no_sleep, period="2021-01,2021-02")

    assert not any(r.already_ingested for r in first)
    assert all(r.already_ingested for r in second)
    assert [r.sha256 for r in second] == [r.sha256 for r in first]
    assert sorted(stub_store.path.parent.joinpath("store.duckdb.fetch").iterdir()) == files


def test_a_revised_month_is_a_new_release(stub_store, comtrade_api, no_sleep):
    fetch(stub_store, comtrade_api, no_sleep, period="2021-03")
    records = json.loads(recorded("preview-C-M-HS-r156-p408-202103.json"))["data"]
    records[0] = {**records[0], "primaryValue": 13_100_000.0, "fobvalue": 13_100_000.0}
    comtrade_api.revised["202103"] = records

    (revised,) = fetch(stub_store, comtrade_api, no_sleep, period="2021-03")
    assert not revised.already_ingested
    assert len(list(stub_store.path.parent.joinpath("store.duckdb.fetch").iterdir())) == 2


def test_an_empty_answer_ingests_nothing(stub_store, comtrade_api, no_sleep):
    report = fetch(stub_store, comtrade_api, no_sleep, period="2021-09")
    assert list(report) == []
    assert [e.periods for e in report.empty] == [("202109",)]
    assert stub_store.ingested == []


def test_an_error_in_the_envelope_is_a_fetch_error(stub_store, comtrade_api, no_sleep):
    comtrade_api.script(
        Reply(200, recorded("getDa-C-M-HS-r156-2021.json")),
        Reply(200, recorded("envelope-error.json")),
    )
    with pytest.raises(FetchError, match=r"the API reported an error \(Invalid value in parameter"):
        fetch(stub_store, comtrade_api, no_sleep, period="2021-03")


def test_429_is_retried_after_the_wait_it_asks_for(stub_store, comtrade_api, no_sleep):
    comtrade_api.script(
        Reply(200, recorded("getDa-C-M-HS-r156-2021.json")),
        Reply(429, recorded("error-429.json"), {"Retry-After": "2"}),
    )
    (release,) = fetch(stub_store, comtrade_api, no_sleep, period="2021-03")
    assert release.rows_read == 2
    assert no_sleep == [2.0]
    assert [s.query["period"] for s in comtrade_api.data_calls()] == ["202103", "202103"]


def test_5xx_backs_off_exponentially_then_gives_up(stub_store, comtrade_api, no_sleep):
    busy = Reply(503, b"<html>Service Unavailable</html>")
    comtrade_api.script(Reply(200, recorded("getDa-C-M-HS-r156-2021.json")), *[busy] * 5)
    with pytest.raises(FetchError) as caught:
        fetch(stub_store, comtrade_api, no_sleep, period="2021-03")
    assert no_sleep == [1.0, 2.0, 4.0, 8.0]
    message = str(caught.value)
    assert "HTTP 503" in message and "after 5 attempts" in message and "\n" not in message


def test_401_is_one_line_about_the_key_and_not_retried(stub_store, comtrade_api, no_sleep):
    comtrade_api.script(Reply(401, recorded("error-401.json")))
    with pytest.raises(FetchError) as caught:
        fetch(stub_store, comtrade_api, no_sleep, period="2021-03", api_key="wrong-key")
    message = str(caught.value)
    assert message.startswith("the API refused the key: Access denied due to invalid")
    assert "wrong-key" not in message and "\n" not in message
    assert no_sleep == []
    (call,) = comtrade_api.seen  # the availability call, refused: nothing more is asked
    assert call.path == "/data/v1/getDa/C/M/HS"
    assert call.headers["Ocp-Apim-Subscription-Key"] == "wrong-key"
    assert "subscription-key" not in call.query  # never in the URL


def test_403_with_a_long_retry_after_is_a_spent_quota(stub_store, comtrade_api, no_sleep):
    comtrade_api.script(
        Reply(200, recorded("getDa-C-M-HS-r156-2021.json")),
        Reply(403, recorded("error-403-quota.json"), {"Retry-After": "18764"}),
    )
    with pytest.raises(FetchError, match="Out of call volume quota.*asks to wait 18764s"):
        fetch(stub_store, comtrade_api, no_sleep, period="2021-03", api_key="k")


def test_malformed_json_is_a_fetch_error(stub_store, comtrade_api, no_sleep):
    comtrade_api.script(
        Reply(200, recorded("getDa-C-M-HS-r156-2021.json")), Reply(200, recorded("malformed.json"))
    )
    with pytest.raises(FetchError, match="malformed JSON") as caught:
        fetch(stub_store, comtrade_api, no_sleep, period="2021-03")
    assert "\n" not in str(caught.value)
    assert stub_store.ingested == []


def test_a_network_failure_is_a_fetch_error(stub_store, no_sleep):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(FetchError, match=f"cannot reach 127.0.0.1:{port}"):
        fetch_comtrade(
            stub_store,
            "CHN",
            "PRK",
            "M",
            "2021-03",
            base_url=f"http://127.0.0.1:{port}",
            sleep=no_sleep.append,
            min_interval=0,
            max_attempts=2,
        )


def test_without_publication_dates_the_fetch_goes_on(stub_store, comtrade_api, no_sleep):
    comtrade_api.script(Reply(404, b'{"statusCode": 404, "message": "Resource not found"}'))
    (release,) = fetch(stub_store, comtrade_api, no_sleep, period="2021-03")
    assert release.published is None and release.rows_read == 2


def test_a_capped_answer_is_asked_again_flow_by_flow(stub_store, comtrade_api, no_sleep):
    record = json.loads(recorded("preview-C-M-HS-r156-p408-202103.json"))["data"][0]
    capped = {"elapsedTime": "1 secs", "count": 500, "data": [record] * 500, "error": ""}
    comtrade_api.script(
        Reply(200, recorded("getDa-C-M-HS-r156-2021.json")), Reply(200, json.dumps(capped).encode())
    )
    report = fetch(stub_store, comtrade_api, no_sleep, period="2021-03")
    assert [s.query["flowCode"] for s in comtrade_api.data_calls()] == ["X,M", "X", "M"]
    assert [(r.flows, r.rows_read) for r in report] == [("X", 1), ("M", 1)]


def test_a_capped_single_flow_is_refused_not_stored(stub_store, comtrade_api, no_sleep):
    record = json.loads(recorded("preview-C-M-HS-r156-p408-202103.json"))["data"][0]
    capped = json.dumps({"elapsedTime": "1", "count": 500, "data": [record] * 500, "error": ""})
    comtrade_api.script(
        Reply(200, recorded("getDa-C-M-HS-r156-2021.json")), Reply(200, capped.encode())
    )
    with pytest.raises(FetchError, match="cap of 500 records.*COMTRADE_API_KEY"):
        fetch(stub_store, comtrade_api, no_sleep, period="2021-03", flow="X")
    assert stub_store.ingested == []


def test_progress_counts_the_calls(stub_store, comtrade_api, no_sleep):
    progress = Progress(console=Console(file=io.StringIO()))
    with progress:
        fetch(
            stub_store, comtrade_api, no_sleep, period="2021-01,2021-02,2021-07", progress=progress
        )
    (task,) = progress.tasks
    assert (task.completed, task.total) == (3, 3)


def test_with_a_key_every_call_goes_to_the_full_endpoint_with_the_header(
    stub_store, comtrade_api, no_sleep
):
    (release,) = fetch(stub_store, comtrade_api, no_sleep, period="2021-03", api_key="k3y")
    assert [s.path for s in comtrade_api.seen] == ["/data/v1/getDa/C/M/HS", "/data/v1/get/C/M/HS"]
    assert all(s.headers["Ocp-Apim-Subscription-Key"] == "k3y" for s in comtrade_api.seen)
    assert comtrade_api.seen[1].query["maxRecords"] == "100000"
    assert "k3y" not in release.url and release.published == date(2021, 5, 21)


def test_an_unreachable_host_stops_at_the_first_call(stub_store, no_sleep):
    """The availability call goes to the same host as the data calls: once it cannot reach
    it, asking again for each month only repeats the wait and the message."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(FetchError) as caught:
        fetch_comtrade(
            stub_store, "CHN", "PRK", "M", "2021-03,2021-04", base_url=f"http://127.0.0.1:{port}",
            sleep=no_sleep.append, min_interval=0, max_attempts=3,
        )  # fmt: skip
    message = str(caught.value)
    assert message.startswith(f"cannot reach 127.0.0.1:{port} (ConnectError: ")
    assert " after 3 attempts: GET " in message and "/getDa/" in message
    assert "\n" not in message
    assert no_sleep == [1.0, 2.0]  # the three attempts of one call, no more


def test_a_key_is_used_without_the_line_break_around_it(stub_store, comtrade_api, no_sleep):
    """A key read from a file carries its line break: httpx refused the header and quoted
    the key, after five attempts taken for a host that cannot be reached."""
    fetch(stub_store, comtrade_api, no_sleep, period="2021-03", api_key=" k3y\r\n")
    assert all(s.headers["Ocp-Apim-Subscription-Key"] == "k3y" for s in comtrade_api.seen)


def test_a_blank_key_is_no_silent_switch_to_the_preview(stub_store, comtrade_api, no_sleep):
    with pytest.raises(InputError, match="is blank"):
        fetch(stub_store, comtrade_api, no_sleep, period="2021-03", api_key="   ")
    assert comtrade_api.seen == []


@pytest.mark.parametrize("key", ["k3y s3cret", "k3y\x00s3cret", "k3yés3cret"])
def test_a_key_no_header_can_carry_is_refused_without_showing_it(
    stub_store, comtrade_api, no_sleep, key
):
    with pytest.raises(InputError, match="holds a space, a control character") as caught:
        fetch(stub_store, comtrade_api, no_sleep, period="2021-03", api_key=key)
    assert "s3cret" not in str(caught.value)
    assert comtrade_api.seen == [] and no_sleep == []  # refused before any call


def test_a_reply_cut_short_is_no_unreachable_host(stub_store, no_sleep):
    """A reply shorter than its Content-Length read as "cannot reach" the host and stopped
    the fetch at the availability call; it is a reply that broke off, and the failed
    availability call lets the fetch go on to the data call (which breaks off too)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    calls = []

    def answer_short():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                calls.append(conn.recv(65536).split(b" ")[1])
                conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"data": [')

    threading.Thread(target=answer_short, daemon=True).start()
    port = server.getsockname()[1]
    try:
        with pytest.raises(FetchError) as caught:
            fetch_comtrade(
                stub_store, "CHN", "PRK", "M", "2021-03", base_url=f"http://127.0.0.1:{port}",
                sleep=no_sleep.append, min_interval=0, max_attempts=2,
            )  # fmt: skip
    finally:
        server.close()
    message = str(caught.value)
    assert message.startswith(f"the reply from 127.0.0.1:{port} broke off (RemoteProtocolError")
    assert "/getDa/" not in message and any(b"/getDa/" in c for c in calls)  # went on past it
