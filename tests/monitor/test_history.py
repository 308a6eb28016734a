"""New and resolved findings between scans, through the API and `scan --new/--resolved`."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.conftest import DEMO_CSV
from tests.monitor.conftest import vintage, write_rows
from tradesentry import api
from tradesentry.cli import app
from tradesentry.errors import InputError
from tradesentry.monitor import history
from tradesentry.store import open_store

pytestmark = pytest.mark.usefixtures("tiny")
runner = CliRunner()


def one_row(path, period: str, value: float):
    """A release with one figure of China's exports to North Korea."""
    row = {
        "reporter": "CHN",
        "partner": "PRK",
        "flow": "export",
        "classification": "HS",
        "commodity": "TOTAL",
        "period": period,
        "period_months": "1",
        "value": str(value),
        "currency": "USD",
        "source_url": "",
    }
    return write_rows(path, [row])


def periods(found) -> set[str]:
    return {f["period"] for f in found}


def test_scans_keep_their_release_watermark(store, tmp_path):
    with pytest.raises(InputError, match="holds no figures"):
        api.scan(store)  # an empty store is not scanned: no scan of watermark 0
    store.ingest(vintage(tmp_path / "a.csv", until="2021-02"))
    api.scan(store)
    store.ingest(one_row(tmp_path / "march.csv", "2021-03", 1000))
    api.scan(store)
    assert history.scans(store)["release"].tolist() == [1, 2]


def test_a_revision_resolves_and_a_new_month_adds(store, tmp_path):
    store.ingest(vintage(tmp_path / "a.csv", until="2021-02"))
    first = api.scan(store)
    assert {"2020-10", "2020-11", "2021-01", "2021-02"} <= periods(first)
    assert len(api.new_findings(store)) == len(first)  # no baseline: everything is new

    api.scan(store)
    assert len(api.new_findings(store)) == 0 and len(api.resolved_findings(store)) == 0

    store.ingest(one_row(tmp_path / "revised.csv", "2021-02", 3_000_000))  # February revised up
    api.scan(store)
    assert periods(api.resolved_findings(store)) == {"2021-02"}
    assert len(api.new_findings(store)) == 0

    store.ingest(one_row(tmp_path / "march.csv", "2021-03", 1000))
    latest = api.scan(store)
    new = api.new_findings(store)
    assert periods(new) == {"2021-03"} and new.scan_id == latest.scan_id
    assert all(f["id"] in {g["id"] for g in latest} for f in new)


def test_stable_ids_survive_a_rescan(store, tmp_path):
    store.ingest(vintage(tmp_path / "a.csv", until="2021-02"))
    ids = [f["id"] for f in api.scan(store)]
    assert [f["id"] for f in api.scan(store)] == ids


def test_a_filtered_scan_is_compared_with_the_same_filters(store, tmp_path):
    store.ingest(vintage(tmp_path / "a.csv", until="2021-02"))
    full = api.scan(store)
    narrow = api.scan(store, flow="import")
    assert history.previous_scan(store, narrow.scan_id) is None
    again = api.scan(store)
    assert history.previous_scan(store, again.scan_id) == full.scan_id
    assert len(api.resolved_findings(store, again.scan_id)) == 0


def test_unknown_scan_is_an_input_error(store):
    with pytest.raises(api.InputError):
        api.new_findings(store, 42)


def test_cli_scan_new_and_resolved(tmp_path):
    db = tmp_path / "s.duckdb"
    with open_store(db) as st:
        st.ingest(vintage(tmp_path / "a.csv", until="2021-02"))
    assert runner.invoke(app, ["scan", "--store", str(db)]).exit_code == 0
    with open_store(db) as st:
        st.ingest(one_row(tmp_path / "revised.csv", "2021-02", 3_000_000))
        st.ingest(one_row(tmp_path / "march.csv", "2021-03", 1000))
    new = runner.invoke(app, ["scan", "--new", "--format", "json", "--store", str(db)])
    assert new.exit_code == 0, new.output
    assert [f["period"] for f in json.loads(new.stdout)] == ["2021-03"]

    resolved = runner.invoke(app, ["scan", "--resolved", "--format", "json", "--store", str(db)])
    assert json.loads(resolved.stdout) == []  # nothing changed since the scan just before

    both = runner.invoke(app, ["scan", "--new", "--resolved", "--store", str(db)])
    assert both.exit_code == 2 and "choose one" in both.stderr


def test_cli_fail_on_counts_only_the_new_findings(tmp_path):
    db = tmp_path / "s.duckdb"
    with open_store(db) as st:
        st.ingest(vintage(tmp_path / "a.csv", until="2021-02"))
    first = runner.invoke(app, ["scan", "--new", "--fail-on", "high", "--store", str(db)])
    assert first.exit_code == 1  # the first scan's findings are all new
    again = runner.invoke(app, ["scan", "--new", "--fail-on", "high", "--store", str(db)])
    assert again.exit_code == 0 and "No findings (scan 2: new since scan 1)." in again.stdout


@pytest.mark.parametrize(
    "narrower",
    [
        {"kinds": ["spike"]},
        {"flow": "import"},
        {"since": "2021-01"},
    ],
    ids=["kind", "flow", "since"],
)
def test_scans_of_other_scopes_compare_where_both_looked(demo_store, narrower):
    """`scan --kind spike --resolved --baseline 1` listed every other kind of scan 1 as
    gone (and failed --fail-on on them); a narrower scan resolves only what it looked at,
    and against it a full scan has nothing new outside it."""
    full = api.scan(demo_store).scan_id
    narrow = api.scan(demo_store, **narrower).scan_id
    assert api.resolved_findings(demo_store, narrow, baseline=full).to_frame().empty
    assert api.new_findings(demo_store, full, baseline=narrow).to_frame().empty
    assert not api.same_scope(demo_store, narrow, full)
    assert api.same_scope(demo_store, full, api.scan(demo_store).scan_id)


def test_the_same_kinds_in_another_order_are_the_same_scope(demo_store):
    a = api.scan(demo_store, kinds=["spike", "dip"]).scan_id
    b = api.scan(demo_store, kinds=["dip", "spike"]).scan_id
    assert api.same_scope(demo_store, a, b)


def test_naming_every_detector_is_a_full_scan(demo_store):
    """As ``ScanScope`` reads it: the digest and the watch need not scan again, and the
    two scans are each other's previous."""
    from tradesentry.detectors import registry

    a = api.scan(demo_store).scan_id
    b = api.scan(demo_store, kinds=sorted(registry())).scan_id
    params = history.scans(demo_store).set_index("id")["parameters"]
    assert history.is_full(params[b]) and api.same_scope(demo_store, a, b)
    assert history.previous_scan(demo_store, b) == a


def test_a_narrower_scan_still_resolves_what_it_looked_at(demo_store, tmp_path):
    """February 2021's $3,000, revised to $20M: a scan of 2021 on resolves its finding."""
    full = api.scan(demo_store)
    february = [f["id"] for f in full if f["period"] == "2021-02" and f["flow"] == "export"]
    assert february
    demo_store.ingest(one_row(tmp_path / "revised.csv", "2021-02", 20_000_000))
    narrow = api.scan(demo_store, since="2021-01").scan_id
    gone = api.resolved_findings(demo_store, narrow, baseline=full.scan_id).to_frame()
    assert set(february) <= set(gone["id"])
    assert (gone["period_end"].str[:7] >= "2021-01").all()  # nothing from before 2021


def test_cli_says_where_scans_of_other_scopes_were_compared(tmp_path):
    demo_db = tmp_path / "s.duckdb"
    with open_store(demo_db) as st:
        st.ingest(DEMO_CSV)
    runner.invoke(app, ["scan", "--store", str(demo_db)])
    result = runner.invoke(
        app, ["scan", "--kind", "spike", "--resolved", "--baseline", "1", "--store", str(demo_db)]
    )
    assert result.exit_code == 0
    assert "(scan 2: gone since scan 1, where both scans looked)" in result.stdout
    refused = runner.invoke(
        app, ["scan", "--resolved", "--fail-on", "high", "--store", str(demo_db)]
    )
    assert refused.exit_code == 2 and "choose one" in refused.stderr


def test_a_second_revision_of_a_month_is_new(store, tmp_path, monkeypatch):
    """A revision's id is its kind, series and month (the contract's), so May 2021 revised
    2.7M → 3.0M and then 3.0M → 30M by the next release had the first revision's id, and
    the second was never new: in no digest's new findings, in no watch's post."""
    from tradesentry.detectors.revision import Revision

    monkeypatch.setattr("tradesentry.api.default_detectors", lambda kinds=None: [Revision()])
    store.ingest(one_row(tmp_path / "a.csv", "2021-05", 2_700_000), published="2021-06-20")
    for name, value, day in (("b", 3_000_000, "07"), ("c", 30_000_000, "08")):
        store.ingest(
            one_row(tmp_path / f"{name}.csv", "2021-05", value), published=f"2021-{day}-20"
        )
        (found,) = api.scan(store)
        new = api.new_findings(store).to_records()
        assert [(f["period"], f["observed"]) for f in new] == [("2021-05", float(value))]
        assert found["id"] == new[0]["id"]  # the contract's id, kept
    api.scan(store)  # the same revision again: nothing new
    assert len(api.new_findings(store)) == 0
