"""End to end: the local API → saved JSON → the Comtrade reader → releases in a real store."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from comtrade_fake import Reply, recorded

from tradesentry import open_store
from tradesentry.errors import FetchError, InputError, StoreError
from tradesentry.fetch import fetch_comtrade
from tradesentry.store import Store


def fetch(store, api, waits, period="2021"):
    return fetch_comtrade(
        store, "CHN", "PRK", "M", period, base_url=api.url, sleep=waits.append, min_interval=0
    )


def test_a_year_lands_as_one_release_per_published_month(store, comtrade_api, no_sleep):
    report = fetch(store, comtrade_api, no_sleep)

    releases = store.releases()
    assert list(releases["source"]) == ["comtrade"] * 6
    assert [d.date() for d in releases["published"]] == [
        date(2021, 4, 28), date(2021, 4, 28), date(2021, 5, 21),
        date(2021, 6, 18), date(2021, 7, 20), date(2021, 8, 20),
    ]  # fmt: skip
    assert (releases["rows_read"] == releases["rows_accepted"]).all()
    assert [r.release_id for r in report] == list(releases["id"])

    obs = store.observations(reporter="CHN", partner="PRK", flow="export")
    values = {p.strftime("%Y-%m"): v for p, v in zip(obs["period"], obs["value"], strict=True)}
    assert values == {
        "2021-01": 29_000.0, "2021-02": 3_000.0, "2021-03": 12_978_000.0,
        "2021-04": 28_751_000.0, "2021-05": 2_714_000.0, "2021-06": 12_318_000.0,
    }  # fmt: skip


def test_fetching_again_adds_nothing(store, comtrade_api, no_sleep):
    fetch(store, comtrade_api, no_sleep, period="2021-01,2021-02")
    again = fetch(store, comtrade_api, no_sleep, period="2021-01,2021-02")
    assert all(r.already_ingested for r in again)
    assert len(store.releases()) == 2


def test_a_revision_becomes_the_current_figure(store, comtrade_api, no_sleep):
    fetch(store, comtrade_api, no_sleep, period="2021-03")
    records = json.loads(recorded("preview-C-M-HS-r156-p408-202103.json"))["data"]
    records[0] = {**records[0], "primaryValue": 13_100_000.0, "fobvalue": 13_100_000.0}
    comtrade_api.revised["202103"] = records

    fetch(store, comtrade_api, no_sleep, period="2021-03")
    assert len(store.releases()) == 2
    current = store.observations(reporter="CHN", partner="PRK", flow="export")
    assert list(current["value"]) == [13_100_000.0]
    every = store.observations(reporter="CHN", partner="PRK", flow="export", current=False)
    assert sorted(every["value"]) == [12_978_000.0, 13_100_000.0]


def test_fetching_again_without_the_saved_files_adds_nothing(store, comtrade_api, no_sleep):
    """The saved files are a cache: without them the same figures are still no release."""
    first = fetch(store, comtrade_api, no_sleep, period="2021-01,2021-02")
    shutil.rmtree(f"{store.path}.fetch")
    again = fetch(store, comtrade_api, no_sleep, period="2021-01,2021-02")
    assert all(r.already_ingested for r in again)
    assert [r.release_id for r in again] == [r.release_id for r in first]
    assert len(store.releases()) == 2


def test_the_same_records_in_another_order_add_nothing(store, comtrade_api, no_sleep):
    fetch(store, comtrade_api, no_sleep, period="2021-02")
    records = json.loads(recorded("preview-C-M-HS-r156-p408-202102.json"))["data"]
    comtrade_api.revised["202102"] = records[::-1]
    (again,) = fetch(store, comtrade_api, no_sleep, period="2021-02")
    assert again.already_ingested and len(store.releases()) == 1


def test_a_file_an_earlier_version_saved_as_sent_stays_the_release(store, comtrade_api, no_sleep):
    """Upgrading makes no new release: a file saved as sent (elapsedTime and all) is reused."""
    folder = Path(f"{store.path}.fetch")
    folder.mkdir()
    (planned,) = fetch_comtrade(None, "CHN", "PRK", "M", "2021-02", base_url=comtrade_api.url,
                                dry_run=True)[1:]  # fmt: skip
    request_hash = hashlib.sha256(planned.path_and_query.encode()).hexdigest()[:12]
    old = folder / f"comtrade-HS-M202102-r156-p408-XM-{request_hash}-0123456789ab.json"
    old.write_bytes(recorded("preview-C-M-HS-r156-p408-202102.json"))
    # as an earlier version stored it: with the month's publication date (availability call)
    earlier = store.ingest(old, source="comtrade", published="2021-04-28")
    records = json.loads(recorded("preview-C-M-HS-r156-p408-202102.json"))["data"]
    comtrade_api.revised["202102"] = records[::-1]  # and the API now sends them reversed

    (again,) = fetch(store, comtrade_api, no_sleep, period="2021-02")
    assert again.already_ingested and again.release_id == earlier.release_id
    assert len(store.releases()) == 1 and list(folder.iterdir()) == [old]


def test_a_saved_reply_whose_count_disagrees_is_refused_by_ingest(store, tmp_path):
    """The reader checks the count too: a reply cut off between records stores nothing."""
    doc = json.loads(recorded("preview-C-M-HS-r156-p408-202102.json"))
    doc["data"] = doc["data"][:1]  # "count": 2
    path = tmp_path / "comtrade-202102.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError) as caught:
        store.ingest(path)
    assert str(caught.value) == (
        f"{path}: an incomplete Comtrade JSON response: its count says 2 records but its "
        "data holds 1 (cut off?); nothing was stored"
    )
    assert store.releases().empty


def test_a_month_revised_back_is_the_latest_vintage(store, comtrade_api, no_sleep):
    """February revised, then revised back to its first figures: the third answer has the
    first one's bytes, but a later publication date, so it is current again."""
    first = fetch(store, comtrade_api, no_sleep, period="2021-02")[0]
    records = json.loads(recorded("preview-C-M-HS-r156-p408-202102.json"))["data"]
    changed = [dict(r, primaryValue=r["primaryValue"] * 2) for r in records]
    comtrade_api.revised["202102"] = changed
    comtrade_api.published["202102"] = "2021-05-30"
    fetch(store, comtrade_api, no_sleep, period="2021-02")
    comtrade_api.revised["202102"] = records
    comtrade_api.published["202102"] = "2021-06-30"
    back = fetch(store, comtrade_api, no_sleep, period="2021-02")[0]
    assert not back.already_ingested and back.release_id == first.release_id + 2
    now = store.observations(reporter="CHN", partner="PRK")
    assert sorted(now["value"]) == sorted(r["primaryValue"] for r in records)


def test_records_of_another_month_never_reach_the_store(store, comtrade_api, no_sleep):
    """The QA case end to end: February asked, December answered; nothing lands."""
    december = [
        {**r, "period": "202112", "refMonth": 12, "refPeriodId": 20211201}
        for r in json.loads(recorded("preview-C-M-HS-r156-p408-202102.json"))["data"]
    ]
    comtrade_api.revised["202102"] = december
    with pytest.raises(FetchError, match="record 1 of 2 has period 202112, not 202102"):
        fetch(store, comtrade_api, no_sleep, period="2021-02")
    assert store.releases().empty
    assert store.observations(reporter="CHN", partner="PRK").empty


def test_the_store_is_free_while_the_fetch_waits(tmp_path, comtrade_api):
    """Opened for each answer's ingest only: another process can read it during a stall."""
    path = tmp_path / "s.duckdb"
    probe = "import sys, duckdb; duckdb.connect(sys.argv[1], read_only=True).close()"
    readers: list[int] = []

    def wait(seconds: float) -> None:  # the retry wait after January landed
        readers.append(subprocess.run([sys.executable, "-c", probe, str(path)]).returncode)

    comtrade_api.script(
        Reply(200, recorded("getDa-C-M-HS-r156-2021.json")),
        Reply(200, recorded("preview-C-M-HS-r156-p408-202101.json")),
        Reply(429, recorded("error-429.json"), {"Retry-After": "2"}),
    )
    report = fetch_comtrade(
        path, "CHN", "PRK", "M", "2021-01,2021-02", base_url=comtrade_api.url, sleep=wait,
        min_interval=0,
    )  # fmt: skip
    assert readers == [0]
    assert [(r.period, r.release_id, r.already_ingested) for r in report] == [
        ("202101", 1, False), ("202102", 2, False),
    ]  # fmt: skip
    with open_store(path, read_only=True) as st:
        assert list(st.releases()["id"]) == [1, 2]


@pytest.mark.parametrize(
    "published",
    [f"{date.today().year + 2}-01-01", "1899-12-31"],
    ids=["future", "before-1900"],
)
def test_a_publication_date_the_store_refuses_is_dropped_not_the_figures(
    tmp_path, comtrade_api, no_sleep, caplog, published
):
    """QA: a lastReleased in the future stopped the fetch with "published …: in the
    future", naming no request, and left an empty store. The date is metadata: the month
    lands undated, the next month dated, and a warning names the call."""
    path = tmp_path / "new.duckdb"
    comtrade_api.published["202102"] = published
    with caplog.at_level(logging.WARNING, logger="tradesentry.fetch"):
        report = fetch(path, comtrade_api, no_sleep, period="2021-02,2021-03")
    assert [(r.period, r.published) for r in report] == [
        ("202102", None), ("202103", date(2021, 5, 21)),
    ]  # fmt: skip
    (warning,) = caplog.messages
    assert warning.startswith(f"publication date of 202102 dropped (published {published}: ")
    assert warning.endswith("getDa/C/M/HS?reporterCode=156&period=202102,202103")
    with open_store(path, read_only=True) as st:
        assert st.releases()["published"].isna().tolist() == [True, False]


def test_a_new_store_whose_first_ingest_fails_is_not_left_behind(
    tmp_path, comtrade_api, no_sleep, monkeypatch
):
    """A fetch that got nothing leaves no empty store, also when the store it made for the
    first answer could not keep it (here a full disk)."""

    def full(self, *args, **kwargs):
        raise StoreError(f"{self.path}: no space left on the device")

    monkeypatch.setattr(Store, "ingest", full)
    path = tmp_path / "new.duckdb"
    with pytest.raises(StoreError, match="no space left"):
        fetch(path, comtrade_api, no_sleep, period="2021-02")
    assert not path.exists() and not Path(f"{path}.wal").exists()
