"""api.scan saves findings chunk by chunk in one transaction and reads them back on demand."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import DEMO_CSV, today
from tests.report.seed import annual, both_freqs
from tradesentry import api
from tradesentry.engines import local
from tradesentry.errors import InputError, SeriesChoice
from tradesentry.findings import empty_findings
from tradesentry.generate import generate, load_generated


@pytest.fixture
def two_releases(store, tmp_path):
    """Generated series, the demo release and a revision of part of it: every detector has
    something to read (several chunks, a TOTAL among HS6 codes, a previous release)."""
    generate(tmp_path / "gen", rows=4_000, seed=7, anomaly_rate=0.3)
    load_generated(store, tmp_path / "gen")
    store.ingest(DEMO_CSV)
    revised = pd.read_csv(DEMO_CSV).head(12)
    revised["value"] = revised["value"] * 3
    revised.to_csv(tmp_path / "revised.csv", index=False)
    store.ingest(tmp_path / "revised.csv", published=today())
    return store


def _rows(store, table: str) -> int:
    return store.con.cursor().execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


@pytest.mark.parametrize("since", [None, "2021-01"])
def test_saved_scan_reads_back_the_in_memory_findings_in_rank_order(two_releases, since):
    in_memory = api.scan(two_releases, since=since, chunk_series=7, save=False)
    saved = api.scan(two_releases, since=since, chunk_series=7)
    assert len(in_memory) > 20 and in_memory.scan_id is None
    assert len(saved) == len(in_memory)
    assert api.scan_info(two_releases, saved.scan_id)["findings"] == len(in_memory)
    assert [f["id"] for f in saved] == in_memory.to_frame()["id"].tolist()
    assert saved.to_records() == in_memory.to_records()
    assert list(saved) == in_memory.to_records()  # iteration reads the store in batches
    assert saved.to_json(lines=True) == in_memory.to_json(lines=True)
    assert saved.head(5).to_records() == in_memory.to_records()[:5]
    high = saved.filter(severity="high").to_records()
    assert high == in_memory.filter(severity="high").to_records()
    assert "findings</p>" in saved._repr_html_()


class Interrupted(Exception):
    """Raised by the test's detector run after some findings have been written."""


@pytest.mark.parametrize("error", [Interrupted, KeyboardInterrupt])
def test_an_interrupted_scan_leaves_the_store_as_it_was(two_releases, monkeypatch, error):
    first = api.scan(two_releases)
    before = (_rows(two_releases, "scans"), _rows(two_releases, "findings"))
    real, written = local.scan_frame, []

    def fails_after_findings(frame, detectors):
        if written:  # a chunk with findings went to the store before this one
            raise error("stop")
        found = real(frame, detectors)
        if len(found):
            written.append(len(found))
        return found

    monkeypatch.setattr(local, "scan_frame", fails_after_findings)
    with pytest.raises(error):
        api.scan(two_releases, chunk_series=5)
    assert written
    assert (_rows(two_releases, "scans"), _rows(two_releases, "findings")) == before
    assert api.scan_info(two_releases)["id"] == first.scan_id
    monkeypatch.undo()
    again = api.scan(two_releases)  # the store takes the next scan as usual
    assert again.to_records() == first.to_records()
    assert again.scan_id == first.scan_id + 1  # the scan cut short left no hole in the ids


def test_overview_counts_a_mirror_gap_once_per_pair(store, shared_data):
    """Each side of a pair reports the gap from its own record; the money is counted once
    (the import side's), and the counts come from the store as a loaded scan would give.
    Mirror gaps alone: the other rules (overlapping kinds, WLD) are tested in test_api_stake."""
    store.ingest(shared_data / "raw/eurostat_comext_ds045409/CN_39206290.csv.gz")
    found = api.scan(store, kinds=["mirror_gap"]).to_frame()
    imports = found[(found["kind"] == "mirror_gap") & (found["flow"] == "import")]
    twins = found.merge(
        imports,
        left_on=["reporter", "partner"],
        right_on=["partner", "reporter"],
        suffixes=("", "_m"),
    )
    twins = twins[
        (twins["kind"] == "mirror_gap")
        & (twins["flow"] == "export")
        & (twins["period"] <= twins["period_end_m"])
        & (twins["period_end"] >= twins["period_m"])
    ]
    assert len(imports) and len(twins)  # pairs whose both sides report a gap
    counted = found.drop(index=found.index[found["id"].isin(twins["id"])])
    summary = api.overview(store)
    assert summary["at_stake"]["EUR"] == pytest.approx(counted["impact"].sum())
    assert summary["at_stake"]["EUR"] < found["impact"].sum()
    assert summary["findings"] == len(found)
    assert summary["by_kind"] == found["kind"].value_counts().sort_index().to_dict()
    assert summary["by_severity"] == found["severity"].value_counts().sort_index().to_dict()


def test_a_series_shows_its_own_findings_whatever_scan_ran_last(demo_store):
    key = ("CHN", "PRK", "export", "TOTAL")
    full = {f["id"] for f in api.scan(demo_store, save=False, reporter="CHN").to_records()}
    ours = {
        f["id"]
        for f in api.scan(
            demo_store,
            save=False,
            **dict(zip(("reporter", "partner", "flow", "commodity"), key, strict=True)),
        ).to_records()
    }
    assert ours and ours <= full
    # no scan saved yet: the series is scanned now
    assert {f["id"] for f in api.series(demo_store, *key).findings.to_records()} == ours
    complete = api.scan(demo_store).scan_id
    api.scan(demo_store, kinds=["gap"])  # later scans of other kinds or other series
    api.scan(demo_store, flow="import")
    api.scan(demo_store, since="2021-03")
    view = api.series(demo_store, *key)
    assert view.findings.scan_id == complete
    assert {f["id"] for f in view.findings.to_records()} == ours


@pytest.mark.parametrize("rate", [None, 110.0])
def test_series_and_pairs_rank_money_in_us_dollars_where_the_store_has_rates(store, tmp_path, rate):
    """¥2.4T (about $22B at 110 yen a dollar) against $23B: without a rate the raw
    amounts are compared, with one the dollars."""
    rows = [
        ("JPN", "CHN", "JPY", 1e12),
        ("USA", "CHN", "USD", 1e10),
    ]
    table = pd.DataFrame(
        [
            {"reporter": r, "partner": p, "flow": "export", "commodity": "TOTAL",
             "period": f"2021-{m:02d}", "value": v, "currency": c}
            for r, p, c, v in rows
            for m in range(1, 4)
        ]
    )  # fmt: skip
    table.to_csv(tmp_path / "two.csv", index=False)
    store.ingest(tmp_path / "two.csv")
    if rate:
        store.con.execute("INSERT INTO rates VALUES ('JPY', DATE '2021-02-01', ?)", [rate])
    found = empty_findings().reindex(range(2))
    found[["reporter", "partner", "currency"]] = [[r, p, c] for r, p, c, _ in rows]
    found["flow"], found["commodity"], found["classification"] = "export", "TOTAL", "HS"
    found["breakdown"], found["kind"], found["severity"] = "", "spike", "high"
    found["period"] = found["period_end"] = "2021-02"
    found["id"], found["impact"] = ["a", "b"], [2.4e12, 2.3e10]
    found["explanation"], found["evidence"] = "x", [{}, {}]
    api._save_scan(store, iter([found]), {}, None, None, "local")
    first = "USA" if rate else "JPN"
    assert api.series_index(store)["reporter"].iloc[0] == first
    assert api.pairs(store)["reporter"].iloc[0] == first


# -- arguments: normalised and checked at the api, for every caller -----------------------
def _scans(store) -> int:
    return _rows(store, "scans")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        # no detector would run, yet the scan was saved as a full one ("kinds": null)
        ({"kinds": []}, "kinds: an empty list selects nothing"),
        ({"reporter": []}, "reporter: an empty list selects nothing"),
        ({"flow": "sideways"}, "unknown flow 'sideways'; choose from import, export, re-import"),
        ({"kinds": "spikes"}, "unknown kind 'spikes'; choose from implausible, spike, dip"),
        # misspelled keywords ran a full, unfiltered scan
        ({"kind": "spike"}, "unknown keyword kind= (did you mean kinds=?); it takes reporter"),
        ({"reportr": "CHN"}, "unknown keyword reportr= (did you mean reporter=?)"),
        ({"master": "local[2]"}, "master= is an option of engine='spark', not 'local'"),
        ({"engine": "spark", "mastr": "x"}, "also input, master, findings_out"),
        ({"reporter": "XYZ"}, "no series in the store matches reporter XYZ"),
        ({"partner": ["PRK", "Narnia"], "flow": "import", "commodity": "8542"}, "commodity 8542"),
    ],
    ids=lambda v: str(v) if isinstance(v, dict) else None,
)
def test_a_scan_that_would_select_nothing_or_everything_is_an_input_error(
    demo_store, options, message
):
    with pytest.raises(InputError) as error:
        demo_store.scan(**options)
    assert message in str(error.value) and "\n" not in str(error.value)
    assert _scans(demo_store) == 0  # refused before anything was saved


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ({"reporter": "chn"}, {"reporter": "CHN"}),
        (
            {"reporter": "China", "partner": ["north korea"]},
            {"reporter": "CHN", "partner": ["PRK"]},
        ),
        ({"commodity": " total"}, {"commodity": "TOTAL"}),
        ({"flow": ["EXPORT", "Export"]}, {"flow": ["export"]}),
        ({"kinds": "level_shift"}, {"kinds": ["level_shift"]}),
    ],
    ids=lambda v: str(v),
)
def test_scan_takes_codes_in_any_case_and_saves_them_as_the_store_keeps_them(
    demo_store, given, stored
):
    expected = api.scan(demo_store, save=False, **stored)
    assert len(expected)  # the demo has findings to select
    found = api.scan(demo_store, **given)
    assert [f["id"] for f in found] == expected.to_frame()["id"].tolist()
    saved = api.scan_info(demo_store, found.scan_id)["parameters"]
    assert {k: saved[k] for k in stored} == stored


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"scan_id": 999}, "no scan 999 in the store (the only scan is 1)"),
        ({"kind": "spikes"}, "unknown kind 'spikes'; choose from implausible, spike"),
        ({"kind": ["dip", "Spikes"]}, "unknown kind 'Spikes'"),
        ({"severity": "critical"}, "unknown severity 'critical'; choose from high, medium, low"),
        ({"flow": "EXPORTS"}, "unknown flow 'EXPORTS'"),
        # a code the store holds no series of reads as a typo, not as "no findings"
        ({"reporter": "XYZ"}, "no series in the store has reporter XYZ: the store holds only"),
        ({"partner": ["PRK", "NARNIA"]}, "no series in the store has partner NARNIA: the store"),
        ({"classification": "H4"}, "no series in the store has classification H4: the store"),
        # values of another type: an InputError, not an AttributeError or TypeError
        ({"classification": 5}, "classification: expected a string, not 5"),
        ({"classification": ["HS"]}, "classification: expected a string, not ['HS']"),
        ({"since": 202101}, "since 202101: expected a month as 'YYYY-MM'"),
    ],
    ids=lambda v: str(v) if isinstance(v, dict) else None,
)
def test_a_findings_query_outside_the_choices_is_an_input_error(demo_store, query, message):
    demo_store.scan()
    with pytest.raises(InputError, match=re.escape(message)):
        demo_store.findings(**query)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda st: st.scan(since=202102), "since 202102: expected a month"),
        (lambda st: st.scan(reporter=["CHN", None]), "reporter: expected a string or a list"),
        (lambda st: st.scan(chunk_series="5"), "chunk_series '5': expected a whole number"),
        (lambda st: api.series(st, "CHN", "PRK", "export", 0), "commodity: expected a string"),
        (lambda st: st.ingest(DEMO_CSV, published=20200301), "published 20200301: expected"),
        (lambda st: st.ingest(DEMO_CSV, encoding="cp1252"), "must be utf-8 or latin-1"),
        # a scan or release id: DuckDB's conversion error, or True taken as scan 1
        (lambda st: st.findings(scan_id="x"), "scan_id 'x': expected a whole number"),
        (lambda st: st.findings(scan_id=True), "scan_id True: expected a whole number"),
        (lambda st: st.findings(scan_id=1.5), "scan_id 1.5: expected a whole number"),
        (lambda st: api.digest(st, "x"), "release 'x': expected a whole number"),
        (lambda st: api.new_findings(st, baseline="1"), "baseline '1': expected a whole"),
    ],
    ids=[
        *("since-int", "none-in-list", "chunk-text", "commodity-int", "date-int", "encoding"),
        *("scan-text", "scan-bool", "scan-float", "release-text", "baseline-text"),
    ],
)
def test_an_argument_of_another_type_is_an_input_error(demo_store, call, message):
    """Each was a TypeError, an AttributeError or a DuckDB error from deep inside (an
    encoding of any name was read as UTF-8 without a word)."""
    with pytest.raises(InputError, match=re.escape(message)):
        call(demo_store)
    assert demo_store.scan(since=date(2021, 2, 1), save=False) is not None  # a date is a month


@pytest.mark.parametrize(
    ("scans", "query"),
    [
        ([{}, {"flow": "import"}], {"flow": "import"}),
        ([{}, {"since": "2021-01"}], {"since": "2021-02"}),
        ([{}, {"kinds": "spike"}], {"kind": "spike"}),
        # what a query leaves open is read as the latest scan covered it (``scan_info``)
        ([{}, {"flow": "import"}], {}),
        ([{}, {"kinds": "spike"}], {"severity": ["high", "medium", "low"]}),
        ([{"flow": "import"}], {"reporter": "CHN"}),
    ],
)
def test_a_filter_narrows_the_latest_scan_and_reads_no_other(demo_store, scans, query):
    """A filter narrows the latest scan's findings: a first version of the rule below read
    the latest scan that looked at every series and detector a query selects, so a filter
    that keeps everything (severity high, medium or low) gave more findings than none,
    from an older scan that may rest on figures since revised (a strict review)."""
    for options in scans:
        demo_store.scan(**options)
    found = demo_store.findings(**query)
    latest = demo_store.findings()
    assert found.scan_id == latest.scan_id == len(scans)
    assert set(found.to_frame()["id"]) <= set(latest.to_frame()["id"])


@pytest.mark.parametrize(
    ("scans", "query", "message"),
    [
        (
            [{}, {"kinds": "spike"}],
            {"kind": "level_shift", "severity": "high"},
            "the latest scan, scan 2, did not look at kind level_shift: it was limited to "
            "detectors: spike; scan them, or name an earlier scan with scan_id=",
        ),
        (
            [{}, {"flow": "import", "kinds": "dip"}],
            {"flow": "export"},
            "the latest scan, scan 2, did not look at flow export: it was limited to flow: "
            "import, detectors: dip; scan them, or name an earlier scan with scan_id=",
        ),
        (
            [{"since": "2021-01"}],
            {"since": "2020-06", "flow": "export"},
            "the latest scan, scan 1, did not look at findings ending before 2021-01: it was "
            "limited to findings ending in or after 2021-01; scan them, or name an earlier "
            "scan with scan_id=",
        ),
        # a scan named that did not look at what is asked: said, not "0 findings"
        (
            [{}, {"flow": "import"}],
            {"flow": "export", "scan_id": 2},
            "scan 2 did not look at flow export: it was limited to flow: import",
        ),
        (
            [{"kinds": ["spike", "dip"]}],
            {"kind": ["dip", "level_shift"], "scan_id": 1},
            "scan 1 did not look at kind level_shift: it was limited to detectors: spike, dip",
        ),
    ],
)
def test_a_query_the_scan_did_not_look_at_is_an_input_error(demo_store, scans, query, message):
    """A narrower scan saved last answered a query it never looked at with "0 findings"."""
    for options in scans:
        demo_store.scan(**options)
    with pytest.raises(InputError) as err:
        demo_store.findings(**query)
    assert str(err.value) == message
    if "scan_id" not in query and len(scans) > 1:  # the earlier full scan, when named
        assert len(demo_store.findings(scan_id=1, **query))


def test_findings_of_a_store_never_scanned_are_of_no_scan(demo_store):
    """Nothing found so far, no mistake: the dashboard's pages of a store never scanned
    read "no scan saved yet" from it."""
    for query in ({}, {"flow": "export"}):
        found = demo_store.findings(**query)
        assert (len(found), found.scan_id) == (0, None)


def test_a_series_reads_the_scan_it_is_given_as_it_is(demo_store):
    """The report reads its scan's series and their mirrors with ``scan_id``, and marks
    what the scan did not cover itself: a mirror outside it is still drawn."""
    demo_store.scan(flow="import")
    view = api.series(demo_store, "CHN", "PRK", "export", "TOTAL", scan_id=1)
    assert (len(view.findings), view.findings.scan_id) == (0, 1)


def test_a_store_without_figures_is_not_scanned(store):
    """A mistyped store path makes a new, empty store: its scan read "No findings"."""
    with pytest.raises(InputError, match="the store holds no figures: ingest a file first$"):
        store.scan()
    assert store.con.execute("SELECT count(*) FROM scans").fetchone()[0] == 0


def test_an_empty_scan_in_memory_has_the_saved_ones_dtypes(demo_store):
    unsaved = demo_store.scan(save=False, kinds="revision").to_frame()
    saved = demo_store.scan(kinds="revision").to_frame()
    assert len(unsaved) == len(saved) == 0
    numbers = ["observed", "expected", "impact", "score"]
    assert unsaved.dtypes[numbers].tolist() == saved.dtypes[numbers].tolist() == ["float64"] * 4
    assert empty_findings().dtypes[numbers].tolist() == ["float64"] * 4


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda st: st.scan(since="2021-13"), "since '2021-13': expected a month as YYYY-MM"),
        (lambda st: st.ingest(DEMO_CSV, published="2999-01-01"), "published 2999-01-01: in"),
        (lambda st: st.scan(save="no"), "save: expected True or False, not 'no'"),
        (lambda st: st.scan(progress=5), "progress: expected a function taking the number"),
        (
            lambda st: st.findings(scan=99),
            "findings: unknown keyword scan= (did you mean scan_id=?); it takes scan_id, kind,",
        ),
        (lambda st: st.findings(kinds="spike"), "findings: unknown keyword kinds= (did you mean"),
    ],
    ids=["since", "published", "save", "progress", "scan", "kinds"],
)
def test_an_api_error_names_the_python_argument(demo_store, call, message):
    """Not the command line's flag (``--since``, ``--published``), nor Python's TypeError
    naming no keyword the function takes; a ``save`` of "no" saved the scan."""
    with pytest.raises(InputError) as err:
        call(demo_store)
    assert str(err.value).startswith(message)
    assert demo_store.con.execute("SELECT count(*) FROM scans").fetchone()[0] == 0


def test_a_blank_classification_is_none(demo_store):
    demo_store.scan()
    every = len(demo_store.findings())
    assert every and len(demo_store.findings(classification="")) == every
    assert len(demo_store.findings(classification="  ")) == every


def test_a_source_is_named_in_any_case(store):
    assert store.ingest(DEMO_CSV, source="CSV").rows_accepted > 0


def test_findings_take_codes_kinds_and_severities_in_any_case(demo_store):
    demo_store.scan()
    found = demo_store.findings(
        kind="Level_Shift", severity=["HIGH"], reporter="chn", flow="EXPORT", commodity="total"
    )
    assert len(found) == 2
    assert {(f["kind"], f["severity"], f["reporter"]) for f in found} == {
        ("level_shift", "high", "CHN")
    }
    assert len(demo_store.findings(classification="hs")) == len(demo_store.findings())


def two_classifications(folder: Path) -> Path:
    """The demo's figures as HS code 8542, once under H5 (as UN Comtrade gives it) and once
    under HS (a plain CSV's default): two series with the same reporter, partner, flow and
    commodity."""
    text = DEMO_CSV.read_text(encoding="utf-8")
    header, *rows = text.splitlines()
    rows = [r.replace(",HS,TOTAL,", f",{c},8542,") for c in ("H5", "HS") for r in rows]
    path = folder / "two_classifications.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_a_series_held_under_two_classifications_is_chosen_by_one(store, tmp_path):
    store.ingest(two_classifications(tmp_path))
    key = ("chn", "prk", "export", "8542")
    with pytest.raises(InputError) as error:
        api.series(store, *key)
    assert str(error.value) == (
        "CHN PRK export 8542 is held under classifications H5, HS: pass --classification"
    )
    whole = api.scan(store, save=False, reporter="CHN", flow="export")
    for saved in (False, True):  # scanned for the view, then from a saved scan
        if saved:
            api.scan(store)
        view = api.series(store, *key, classification="h5")
        assert view.classification == "H5" and view.findings.scan_id == (1 if saved else None)
        months = ["period", "period_months"]
        assert not view.observations.duplicated(months).any() and len(view.observations) == 25
        assert not view.history.duplicated(months).any()
        assert set(view.findings.to_frame()["classification"]) == {"H5"}
        assert len(view.findings) == len(whole.filter(classification="H5"))
    with pytest.raises(
        InputError, match="under classification H4 in the store; it is held under H5, HS"
    ):
        api.series(store, *key, classification="H4")
    mirror = api.mirror(store, "PRK", "CHN", "import", "8542", classification="H5")
    assert mirror is not None and mirror.classification == "H5"


def test_a_series_is_its_total_unless_a_breakdown_is_asked_for(store):
    """UN Comtrade's rows by mode of transport (mot=3200 here) are parts of the flow, not
    more figures of the total: the series is the total, each part one of its own."""
    store.ingest(Path(__file__).parent / "data" / "comtrade_plus.csv")
    total = api.series(store, "CHN", "PRK", "export", "TOTAL")
    assert total.breakdown == ""
    assert total.observations["value"].tolist() == [3000.0, 12978000.0]
    assert not total.history.duplicated(["period", "period_months", "release_id"]).any()
    part = "partner2=0;customs=C00;mot=3200"
    by_sea = api.series(store, "CHN", "PRK", "export", "TOTAL", breakdown=part)
    assert by_sea.breakdown == part and by_sea.observations["value"].tolist() == [8512000.0]
    with pytest.raises(InputError, match="with breakdown 'x'; it has '', 'partner2=0"):
        api.series(store, "CHN", "PRK", "export", "TOTAL", breakdown="x")


def test_the_mirror_of_a_part_of_a_flow_is_the_partners_same_part_or_none(store, tmp_path):
    store.ingest(Path(__file__).parent / "data" / "comtrade_plus.csv")
    part = "partner2=0;customs=C00;mot=3200"
    total = api.mirror(store, "PRK", "CHN", "import", "TOTAL")  # CHN's record, as PRK's mirror
    assert total is not None and total.breakdown == ""
    road = api.mirror(store, "PRK", "CHN", "import", "TOTAL", breakdown=part)
    assert road is not None and road.observations["value"].tolist() == [8512000.0]
    other = "partner2=0;customs=C00;mot=9000"  # a part CHN does not report: no mirror at all
    assert api.mirror(store, "PRK", "CHN", "import", "TOTAL", breakdown=other) is None


# -- one series held monthly and annually: two series ---------------------------------------
@pytest.fixture
def both_freqs_store(tmp_path):
    """USA → CAN exports held monthly and annually, scanned (tests/report/seed.py)."""
    store = both_freqs(tmp_path / "both.duckdb")
    yield store
    store.close()


@pytest.fixture
def annual_store(tmp_path):
    """CHN → PRK imports held by year only, scanned."""
    store = annual(tmp_path / "annual.duckdb")
    yield store
    store.close()


def test_the_series_index_counts_each_frequency_its_own_findings(both_freqs_store):
    """The monthly and the annual series of the same codes each get their own findings and
    money at stake, not the sum of both."""
    found = api.findings(both_freqs_store).to_frame()
    index = api.series_index(both_freqs_store).set_index("freq")
    assert sorted(index.index) == ["A", "M"]
    for freq in ("A", "M"):
        own = found[found["freq"] == freq]
        assert index.loc[freq, "findings"] == len(own) > 0
        assert index.loc[freq, "impact"] == pytest.approx(own["impact"].sum())


@pytest.mark.parametrize(
    ("freq", "held"), [("M", "M"), ("m", "M"), ("A", "A"), (" a ", "A")], ids=str
)
def test_monthly_and_annual_figures_are_two_series(both_freqs_store, freq, held):
    view = api.series(both_freqs_store, "usa", "can", "export", "total", freq=freq)
    assert view.freq == held
    assert set(view.observations["freq"]) == set(view.history["freq"]) == {held}
    assert len(view.observations) == (84 if held == "M" else 16)
    assert len(view.findings) and set(view.findings.to_frame()["freq"]) == {held}
    assert api.series(both_freqs_store, "USA", "CAN", "export", "TOTAL", freq=held).freq == held


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "USA CAN export TOTAL is held at frequencies M (monthly), A (annual): pass --freq"),
        ({"freq": "Q"}, "unknown freq 'Q'; choose from M (monthly), A (annual)"),
    ],
    ids=["no choice", "no such freq"],
)
def test_a_series_held_monthly_and_annually_needs_a_choice(both_freqs_store, options, message):
    with pytest.raises(InputError) as error:
        api.series(both_freqs_store, "USA", "CAN", "export", "TOTAL", **options)
    assert str(error.value) == message
    if not options:
        assert isinstance(error.value, SeriesChoice)
        assert (error.value.param, error.value.held, error.value.asked) == (
            "freq",
            ["M", "A"],
            None,
        )


def test_a_frequency_the_series_is_not_held_at_is_a_choice_naming_the_one_held(annual_store):
    assert api.series(annual_store, "CHN", "PRK", "import", "TOTAL").freq == "A"  # the only one
    with pytest.raises(SeriesChoice) as error:
        api.series(annual_store, "CHN", "PRK", "import", "TOTAL", freq="m")
    assert str(error.value) == (
        "no series CHN PRK import TOTAL at freq M (monthly) in the store; it is held at A (annual)"
    )
    assert (error.value.param, error.value.held, error.value.asked) == ("freq", ["A"], "M")


@pytest.mark.parametrize(
    ("since", "periods"),
    [
        ("2016-01", {("A", "2016-01"), ("M", "2017-05")}),
        ("2016-06", {("A", "2016-01"), ("M", "2017-05")}),  # 2016 runs to December
        ("2016-12", {("A", "2016-01"), ("M", "2017-05")}),
        ("2017-01", {("M", "2017-05")}),
    ],
)
def test_since_keeps_an_annual_finding_whose_year_ends_in_or_after_it(
    both_freqs_store, since, periods
):
    """An annual finding's period_end is its year's first month: ``since`` compares the
    year's December, the last month it covers, in a saved scan's findings and a new scan."""
    saved = api.findings(both_freqs_store, since=since).to_frame()
    scanned = api.scan(both_freqs_store, since=since, save=False).to_frame()
    for frame in (saved, scanned):
        assert set(zip(frame["freq"], frame["period"], strict=True)) == periods


def test_a_series_and_a_pair_count_overlapping_findings_once(demo_store):
    """A spike and a mirror gap on one series and month are one sum of money at stake on
    the series and pair lists, as in the overview (they showed the sum of both)."""
    from tests.report.seed import save_scan

    base = {"reporter": "CHN", "partner": "PRK", "flow": "import", "commodity": "TOTAL"}
    base |= {"observed": 1.0, "expected": 1.0, "currency": "USD", "score": 0.9}
    base |= {"severity": "high", "explanation": "", "evidence": {}}
    save_scan(
        demo_store,
        [
            {
                **base,
                "kind": "spike",
                "period": "2020-05",
                "period_end": "2020-05",
                "impact": 476.0,
            },
            {
                **base,
                "kind": "mirror_gap",
                "period": "2020-04",
                "period_end": "2020-06",
                "impact": 475.1,
            },
            {**base, "kind": "dip", "period": "2021-01", "period_end": "2021-01", "impact": 10.0},
        ],
    )
    series = api.series_index(demo_store).set_index(["flow", "commodity"]).loc[("import", "TOTAL")]
    assert (series["findings"], series["impact"]) == (3, 486.0)
    pair = api.pairs(demo_store).set_index(["reporter", "partner"]).loc[("CHN", "PRK")]
    assert (pair["findings"], pair["impact"]) == (3, 486.0)
    assert api.overview(demo_store)["at_stake"] == {"USD": 486.0}


def test_a_pair_counts_a_total_and_its_commodity_once(demo_store):
    """A spike on the pair's TOTAL and on 2709 in the same month are one sum of money on
    the pair, the larger (the total's holds its commodity's), as in the overview (the pair
    showed both added)."""
    from tests.report.seed import save_scan

    base = {"reporter": "CHN", "partner": "PRK", "flow": "export", "observed": 1.0}
    base |= {"expected": 1.0, "currency": "USD", "score": 0.9, "severity": "high"}
    base |= {"explanation": "", "evidence": {}, "kind": "spike"}
    base |= {"period": "2020-05", "period_end": "2020-05"}
    save_scan(
        demo_store,
        [
            {**base, "commodity": "TOTAL", "impact": 8.1e6},
            {**base, "commodity": "2709", "impact": 7.99e6},
        ],
    )
    pair = api.pairs(demo_store).set_index(["reporter", "partner"]).loc[("CHN", "PRK")]
    assert pair["impact"] == pytest.approx(8.1e6)
    assert api.overview(demo_store)["at_stake"] == {"USD": pytest.approx(8.1e6)}


def test_a_pair_applies_the_overviews_rules_in_its_order(demo_store):
    """The total and its commodities first, then a series' own overlapping findings: a
    commodity's finding inside the total's month goes into the total, and its other
    finding, before that month, then counts on its own (the pair had left it out for the
    first, and then the first for the total)."""
    from tests.report.seed import save_scan

    base = {"reporter": "CHN", "partner": "PRK", "flow": "export", "observed": 1.0}
    base |= {"expected": 1.0, "currency": "USD", "score": 0.9, "severity": "high"}
    base |= {"explanation": "", "evidence": {}}
    save_scan(
        demo_store,
        [
            {**base, "kind": "level_shift", "commodity": "TOTAL", "impact": 1000.0,
             "period": "2020-05", "period_end": "2020-05"},
            {**base, "kind": "mirror_gap", "commodity": "2709", "impact": 100.0,
             "period": "2020-04", "period_end": "2020-05"},
            {**base, "kind": "spike", "commodity": "2709", "impact": 50.0,
             "period": "2020-04", "period_end": "2020-04"},
        ],
    )  # fmt: skip
    pair = api.pairs(demo_store).set_index(["reporter", "partner"]).loc[("CHN", "PRK")]
    assert pair["impact"] == pytest.approx(1050.0)
    assert api.overview(demo_store)["at_stake"] == {"USD": pytest.approx(1050.0)}


def test_a_failed_save_stops_the_engines_reader_at_once(two_releases, monkeypatch):
    """The save failing, its traceback kept (as Jupyter keeps the last one): the engine's
    reader stopped then, not when the traceback let go of it."""
    import threading

    from tradesentry import api as api_module

    monkeypatch.setenv("TRADESENTRY_THREADS", "2")

    def fails(con, scan_id, frame):
        raise OSError("disk full")

    monkeypatch.setattr(api_module, "_insert_findings", fails)
    try:
        api.scan(two_releases, chunk_series=5)
    except OSError as error:
        kept = error  # noqa: F841 (held while the threads are counted)
        alive = [t for t in threading.enumerate() if t.name == "tradesentry-read-ahead"]
    assert alive == []


@pytest.mark.parametrize(
    "call",
    [
        lambda path: api.scan(path),
        lambda path: api.series(path, "CHN", "PRK", "export", "TOTAL"),
        lambda path: api.findings(path),
    ],
    ids=["scan", "series", "findings"],
)
def test_a_path_where_a_store_is_wanted_is_one_clear_error(tmp_path, call):
    """`tradesentry.scan("trade.duckdb")` failed with "'str' object has no attribute 'con'"."""
    from tradesentry.errors import InputError

    with pytest.raises(
        InputError,
        match=r"store: expected a Store, not str '.*; open it with tradesentry.open_store\(path\)",
    ):
        call(str(tmp_path / "trade.duckdb"))
    assert not (tmp_path / "trade.duckdb").exists()


def test_a_fall_to_below_the_smallest_inverse_is_read(store, tmp_path):
    """A level shift from 1e300 to 1e-10: its ratio, 1e-310, has no float for an inverse,
    and writing it as one raised ValueError in the middle of the scan."""
    months = [f"{y}-{m:02}" for y in (2021, 2022) for m in range(1, 13)]
    rows = [f"CHN,PRK,export,TOTAL,{p},{'1e300' if p < '2022' else '1e-10'}" for p in months]
    path = tmp_path / "fall.csv"
    path.write_text("reporter,partner,flow,commodity,period,value\n" + "\n".join(rows) + "\n")
    store.ingest(path)
    found = api.scan(store, save=False).to_records()
    assert any("×1/1.0×10^310" in f["explanation"] for f in found), found


def test_a_figure_near_the_largest_float_is_read_without_warnings(store, tmp_path):
    """A value the ingest takes as finite (1.7e308) overflowed the detectors' products:
    NumPy's warnings on stderr, and its money written in 309 digits."""
    import warnings

    months = [f"2021-{m:02}" for m in range(1, 13)] + [f"2022-{m:02}" for m in range(1, 7)]
    rows = [f"CHN,PRK,export,TOTAL,{m},{'1.7e308' if m == '2022-01' else 1000}" for m in months]
    path = tmp_path / "huge.csv"
    path.write_text("reporter,partner,flow,commodity,period,value\n" + "\n".join(rows) + "\n")
    store.ingest(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (finding,) = api.scan(store, save=False).to_records()
    assert (finding["kind"], finding["period"]) == ("spike", "2022-01")
    assert finding["explanation"].startswith("January 2022 recorded $1.7×10^308, 1.7×10^305")


@pytest.mark.parametrize("code", ["straße", "ﬁsh"])
def test_a_code_beyond_ascii_is_found_as_written_in_the_file(store, tmp_path, code):
    """Ingest upper-cases codes with DuckDB's upper, one character for one ('straße' is
    'STRAẞE', 'ﬁsh' is 'ﬁSH'); the API, the command line and the dashboard had used
    Python's, which makes 'STRASSE' and 'FISH': the code as written in the file, and the
    dashboard's own link to its series, named no series."""
    from fastapi.testclient import TestClient

    from tradesentry.web import create_app

    path = tmp_path / "codes.csv"
    path.write_text(
        f"reporter,partner,flow,commodity,period,value\nDEU,AUT,export,{code},2021-01,5\n"
    )
    store.ingest(path)
    (held,) = store.observations().commodity
    assert api.series(store, "DEU", "AUT", "export", code).key["commodity"] == held
    assert len(api.scan(store, commodity=code, save=False)) == 0  # held: no InputError
    store.close()
    with TestClient(create_app(tmp_path / "store.duckdb")) as client:
        assert client.get(f"/series/DEU/AUT/export/{held}").status_code == 200
        assert client.get("/findings", params={"commodity": code}).status_code == 200
