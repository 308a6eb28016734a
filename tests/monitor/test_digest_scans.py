"""Which scans a digest compares: the first that saw the release against the last before it.

A re-scan that saw no newer release must leave a release's digest as it was, whether it
is the newest release or an older one (QA: after `scan` twice, the demo's digest read
"Scan 2 found nothing." and its JSON named no baseline).
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.conftest import DEMO_CSV
from tests.monitor.conftest import vintage
from tradesentry import api
from tradesentry.cli import app
from tradesentry.monitor import history
from tradesentry.store import open_store

pytestmark = pytest.mark.usefixtures("tiny")
runner = CliRunner()


def play(store, tmp_path, steps: str) -> None:
    """Run ``steps``: 1 and 2 ingest a release, s scans everything, f scans imports only.

    Release 1 holds the data to January 2021 (TinyValue flags November 2020 and January
    2021); release 2 brings February and March 2021 (it flags February, $3,000).
    """
    files = {
        "1": lambda: vintage(tmp_path / "to-2021-01.csv", until="2021-01"),
        "2": lambda: vintage(tmp_path / "2021-03.csv", since="2021-02", until="2021-03"),
    }
    for step in steps.split():
        if step in files:
            store.ingest(files[step]())
        elif step == "s":
            api.scan(store)
        elif step == "f":
            api.scan(store, flow="import")
        elif step == "r":
            api.scan(store, kinds=["revision"])
        else:
            raise ValueError(step)


# (steps, release, the scan the digest reports, its baseline)
CASES = [
    ("1", None, 1, None),  # no scan yet: the digest runs one
    ("1 s", None, 1, None),
    ("1 s s", None, 1, None),  # QA: was scan 2 against scan 1, "found nothing"
    ("1 s s", 1, 1, None),  # the same asked as --release 1
    ("1 s 2 s", None, 2, 1),
    ("1 s 2 s s", None, 2, 1),  # was scan 3
    ("1 s s 2 s", 1, 1, None),  # an older release re-scanned before the next landed
    ("1 s 2 s s", 1, 1, None),
    ("1 2 s", 1, 1, None),  # no scan saw release 1 alone: the first that saw it
    ("1 f", None, 2, None),  # only imports scanned: the digest runs a full scan
    ("1 f s", None, 2, None),
    ("1 s f", None, 1, None),  # a filtered scan later changes nothing
]


@pytest.mark.parametrize(("steps", "release", "scan", "baseline"), CASES, ids=str)
def test_the_digest_compares_the_first_scan_that_saw_the_release(
    store, tmp_path, steps, release, scan, baseline
):
    play(store, tmp_path, steps)
    d = api.digest(store, release)
    assert (d.scan_id, d.baseline_scan_id) == (scan, baseline)
    data = json.loads(d.render("json"))
    assert (data["scan_id"], data["baseline_scan_id"]) == (scan, baseline)
    if baseline is None:  # nothing to compare with: every finding of the scan is new
        assert d.findings_total == len(api.findings(store, scan_id=scan)) > 0
        assert "so every finding is new" in d.to_markdown()
    else:
        assert f"Scan {scan} against scan {baseline}, the last before" in d.to_markdown()


@pytest.mark.parametrize(("steps", "said"), [("1 2 s", True), ("1 s 2 s", False)])
def test_a_scan_that_also_saw_later_releases_says_so(store, tmp_path, steps, said):
    """No scan ran while release 1 was the newest: its digest reports the first scan that
    saw it, which also saw release 2, and whose findings may rest on release 2's figures
    (a revision of February by release 2 among them). The digest says so."""
    play(store, tmp_path, steps)
    text = api.digest(store, 1).to_markdown()
    sentence = "No scan ran while release 1 was the newest: scan 1 also saw releases ingested after it (up to release 2)"
    assert (sentence in text) is said
    assert api.digest(store, 1).scan_release == (2 if said else 1)


@pytest.mark.parametrize(
    ("steps", "limits"), [("1 r 2 s", ["detectors: revision"]), ("1 s 2 s", [])]
)
def test_a_digest_of_a_limited_scan_says_what_it_did_not_look_at(store, tmp_path, steps, limits):
    """An office's read: release 1's digest took its new findings from a scan of revisions
    only (the first scan that saw it alone) and listed them as the release's new findings,
    the scan's limits said nowhere."""
    play(store, tmp_path, steps)
    d = api.digest(store, 1)
    assert d.scan_limits == limits
    said = "The scan was limited (detectors: revision): what it did not look at is not in it."
    assert (said in d.to_markdown()) is bool(limits)
    assert json.loads(d.render("json"))["scan_limits"] == limits


@pytest.mark.parametrize("steps", ["1", "1 s", "1 s s", "1 s 2 s", "1 s 2 s s", "1 f"])
@pytest.mark.parametrize("release", [None, 1])
def test_a_rescan_leaves_every_digest_as_it_was(store, tmp_path, steps, release):
    play(store, tmp_path, steps)
    before = {fmt: api.digest(store, release).render(fmt) for fmt in ("md", "json")}
    scans = len(history.scans(store))
    api.scan(store)
    api.scan(store, flow="import")
    assert {fmt: api.digest(store, release).render(fmt) for fmt in ("md", "json")} == before
    assert len(history.scans(store)) == scans + 2  # the digests ran no scan of their own


def test_findings_resolved_by_the_next_release(store, tmp_path):
    """Release 2 revises January 2021 to a plausible figure: its finding goes away."""
    store.ingest(vintage(tmp_path / "to-2021-01.csv", until="2021-01"))
    api.scan(store)
    api.scan(store)
    store.ingest(
        vintage(
            tmp_path / "2021-03.csv",
            since="2021-01",
            until="2021-03",
            edits={("export", "2021-01"): 3_000_000},
        )
    )
    api.scan(store)
    api.scan(store)
    jan = {"2021-01"}
    first, second = api.digest(store, 1), api.digest(store)
    assert (first.scan_id, first.baseline_scan_id) == (1, None)
    assert jan <= {f["period"] for f in first.findings}  # release 1's digest still has it
    assert (second.scan_id, second.baseline_scan_id) == (3, 2)
    assert {f["period"] for f in second.findings} == {"2021-02"}
    assert {f["period"] for f in api.resolved_findings(store, 3, baseline=2)} == jan


def test_a_named_scan_is_compared_with_the_last_scan_before_the_release(store, tmp_path):
    """The watch names the scan it ran; a re-scan named so still has the right baseline."""
    play(store, tmp_path, "1 s 2 s s")
    d = api.digest(store, 2, scan_id=3)
    assert (d.scan_id, d.baseline_scan_id) == (3, 1)
    assert [f["period"] for f in d.findings] == ["2021-02"]
    with pytest.raises(api.InputError, match="no scan 9"):
        api.digest(store, 2, scan_id=9)


def test_cli_digest_after_a_second_scan(tmp_path):
    """QA's sequence: ingest, scan, digest; scan again, digest and digest --release 1."""
    db = str(tmp_path / "s.duckdb")
    with open_store(db) as st:
        st.ingest(DEMO_CSV)
    assert runner.invoke(app, ["scan", "--store", db]).exit_code == 0
    first = runner.invoke(app, ["digest", "--store", db])
    assert first.exit_code == 0 and "so every finding is new" in first.stdout
    assert runner.invoke(app, ["scan", "--store", db]).exit_code == 0
    for extra in ([], ["--release", "1"]):
        again = runner.invoke(app, ["digest", *extra, "--store", db])
        assert again.exit_code == 0 and again.stdout == first.stdout
    js = runner.invoke(app, ["digest", "--format", "json", "--store", db])
    data = json.loads(js.stdout)
    assert (data["scan_id"], data["baseline_scan_id"]) == (1, None) and data["findings"]


@pytest.mark.parametrize(
    ("steps", "words"),
    [
        ("1 2 s", "Scan 1; no scan ran before this release, so every finding is new"),
        # QA: "no scan ran before this release" where a scan of other detectors had
        (
            "1 r 2 s",
            "Scan 2; no scan of the same series and detectors ran before this release "
            "(scan 1 looked at others), so every finding is new",
        ),
    ],
)
def test_a_digest_without_a_baseline_says_whether_another_scan_ran(store, tmp_path, steps, words):
    play(store, tmp_path, steps)
    text = api.digest(store, release=2).to_markdown()
    assert words in text, text
