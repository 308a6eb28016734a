"""End to end: the local API → saved JSON → the Comtrade reader → releases in a real store."""

from __future__ import annotations

import json
from datetime import date

import pytest
from comtrade_fake import recorded

from tradesentry.fetch import fetch_comtrade

pytestmark = pytest.mark.usefixtures("comtrade_reader")


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
