"""Findings backed by a saved scan: the store's order is ``rank``'s; len and head read little."""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import re

import numpy as np
import pandas as pd
import pytest

from tests.conftest import DEMO_CSV
from tradesentry import api
from tradesentry.errors import InputError, StoreError
from tradesentry.findings import (
    FINDING_COLUMNS,
    RECORD_COLUMNS,
    Findings,
    csv_frame,
    empty_findings,
    evidence_json,
    figure_terms,
    rank,
    severity_of,
)

# ``tradesentry.findings`` the attribute is the api function; the module is this one.
findings_module = importlib.import_module("tradesentry.findings")


def _frame(n: int, seed: int) -> pd.DataFrame:
    """Findings with ties on severity and impact, missing impacts and a repeated id."""
    rng = np.random.default_rng(seed)
    frame = empty_findings().reindex(range(n))
    frame["id"] = [f"{i:04x}" for i in rng.integers(0, n, n)]  # repeats on purpose
    frame["kind"] = "spike"
    frame["severity"] = rng.choice(["high", "medium", "low"], n)
    impact = rng.choice([0.0, 1.0, 2.5, 1e6, np.nan], n)
    frame["impact"] = impact
    frame["explanation"] = [f"row {i}" for i in range(n)]  # tells equal keys apart
    frame["evidence"] = [{"row": i} for i in range(n)]
    for column in ("reporter", "partner", "flow", "commodity", "period", "period_end"):
        frame[column] = "x"
    frame["observed"] = frame["expected"] = frame["score"] = 1.0
    return frame


def test_the_store_ranks_a_saved_scan_as_rank_does(store):
    parts = [_frame(300, seed) for seed in (1, 2)]
    scan_id = api._save_scan(store, iter(parts), {}, None, None, "local")
    saved = Findings.from_store(store, scan_id)
    want = rank(pd.concat(parts, ignore_index=True))
    assert saved.to_frame()["explanation"].tolist() == want["explanation"].tolist()
    assert [f["explanation"] for f in saved] == want["explanation"].tolist()


def test_length_and_head_of_a_saved_scan_do_not_load_the_frame(demo_store, monkeypatch):
    monkeypatch.setattr(findings_module, "IN_MEMORY_AT_MOST", 2)  # a scan too large to load
    saved = api.scan(demo_store)
    total = demo_store.con.execute("SELECT count(*) FROM findings").fetchall()[0][0]
    calls = []
    real = findings_module.saved_frame

    def recorded(con, scan_id, where="true", params=(), limit=None):
        calls.append(limit)
        return real(con, scan_id, where, params, limit)

    monkeypatch.setattr(findings_module, "saved_frame", recorded)
    assert len(saved) == total >= 3
    assert sum(1 for _ in saved) == total
    assert calls == []
    assert len(saved.head(2)) == 2 and calls == [2]
    assert len(saved.to_frame()) == total and calls == [2, None]
    assert list(saved.to_frame().columns) == list(RECORD_COLUMNS)
    saved.to_records()
    assert calls == [2, None]  # loaded once, then kept


@pytest.mark.parametrize(
    "use",
    [
        lambda found: found.to_records(),
        lambda found: found.to_frame().drop(columns="evidence").to_dict("list"),
        len,
        list,
        lambda found: found.head(2).to_records(),
        lambda found: found.currencies(),
        repr,
    ],
    ids=["records", "frame", "len", "iteration", "head", "currencies", "repr"],
)
def test_a_scans_findings_outlive_the_store_as_a_saved_scans_do(tmp_path, use):
    """``with open_store(p) as store: found = store.scan()``, then ``found.to_frame()``:
    "the findings of scan 1 are read from the store, which was closed before they were
    used", where ``store.findings()`` kept working (QA). A scan's findings are a frame in
    memory, up to ``IN_MEMORY_AT_MOST``."""
    from tradesentry.store import open_store

    with open_store(tmp_path / "s.duckdb") as st:
        st.ingest(DEMO_CSV)
        found = st.scan()
        saved = st.findings()
    assert len(saved) >= 3
    assert use(found) == use(saved)


def test_a_scan_too_large_to_hold_says_what_to_do_once_its_store_is_closed(tmp_path, monkeypatch):
    """More than ``IN_MEMORY_AT_MOST`` findings stay in the store (memory holds a batch of
    them at a time), and are used while it is open, as a DuckDB relation is; after, the
    error says how to read them again."""
    from tradesentry.store import open_store

    monkeypatch.setattr(findings_module, "IN_MEMORY_AT_MOST", 2)
    with open_store(tmp_path / "s.duckdb") as st:
        st.ingest(DEMO_CSV)
        saved = api.scan(st)
        total = len(saved)
        assert total > 2 and saved._stored()
    with pytest.raises(StoreError) as error:
        saved.to_frame()
    assert str(error.value) == (
        f"the findings of scan {saved.scan_id}, {total} (more than 2 are not held in memory), "
        "are read from the store as they are used, and it was closed: use them before "
        f"closing it, or open it again and read them with store.findings(scan_id={saved.scan_id})"
    )
    with open_store(tmp_path / "s.duckdb") as st:  # as the error says
        assert len(st.findings(scan_id=saved.scan_id)) == total


def test_a_closed_stores_findings_still_show_what_they_are(demo_store, monkeypatch):
    """A notebook displays a result with ``repr`` and ``_repr_html_``: raising there broke
    the display once the store was closed."""
    monkeypatch.setattr(findings_module, "IN_MEMORY_AT_MOST", 2)  # read from the store
    saved = api.scan(demo_store)
    demo_store.close()
    assert repr(saved) == f"Findings(scan {saved.scan_id}; its store is closed)"
    assert saved._repr_html_() == f"<p>Findings(scan {saved.scan_id}; its store is closed)</p>"


@pytest.mark.parametrize("n", [-1, 1.5, True, None, "3"])
@pytest.mark.parametrize("where", ["saved", "in memory"])
def test_head_takes_a_whole_number_of_findings_only(demo_store, where, n):
    """A saved scan gave ``n`` to SQL's LIMIT (-1: DuckDB's BinderException), a frame in
    memory to pandas (1.5: a TypeError; -1: all but the last, read as "the worst")."""
    found = api.scan(demo_store, save=where == "saved")
    with pytest.raises(InputError, match=re.escape(f"n {n!r}: expected a whole number, 0 or")):
        found.head(n)
    assert len(found.head(0)) == 0 and len(found.head(2)) == 2


def test_the_notebook_table_says_when_it_is_cut():
    html = Findings(_frame(60, seed=0))._repr_html_()
    assert html.startswith("<p>60 findings: the 50 worst shown</p>")
    assert html.count("<tr>") == 51  # the heading and 50 rows
    assert Findings(_frame(50, seed=0))._repr_html_().startswith("<p>50 findings</p><table>")


def test_the_notebook_table_tells_apart_series_of_the_same_codes():
    """2710 under H5 yearly and under HS monthly read as one row twice; the command line's
    table names what tells them apart, and so does the notebook's."""
    one = _frame(1, seed=0).assign(commodity="2710", classification="H5", freq="A")
    other = one.assign(classification="HS", freq="M", id="other")
    part = one.assign(commodity="27", breakdown="partner2=0;customs=C00;mot=3200")
    html = Findings(pd.concat([one, other, part], ignore_index=True))._repr_html_()
    assert "<td>2710 (H5, annual)</td>" in html and "<td>2710 (HS, monthly)</td>" in html
    assert "<td>27 (mode of transport 3200)</td>" in html  # a part, never read as the whole


def test_evidence_is_written_as_valid_json_whatever_it_holds():
    """Every output (the store, Spark, the CSV) encodes evidence one way: JSON has no NaN."""
    evidence = {
        "z": np.float64("nan"),
        "ratio": float("inf"),
        "n": np.int64(3),
        "months": np.array([1.5, np.nan]),
        "pair": (np.float32(0.5), None),
        "when": pd.Timestamp("2021-02-01"),
    }
    text = evidence_json(evidence)
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {
        "z": None,
        "ratio": None,
        "n": 3,
        "months": [1.5, None],
        "pair": [0.5, None],
        "when": "2021-02-01 00:00:00",
    }
    assert evidence_json(None) == "{}"


@pytest.mark.parametrize("lines", [False, True])
def test_a_saved_scan_writes_json_record_by_record(demo_store, monkeypatch, lines):
    """The same text as the frame in memory gives, without loading the scan (batches of 2)."""
    saved = api.scan(demo_store)
    in_memory = Findings(saved.to_frame(), saved.scan_id)
    want = in_memory.to_json(lines)
    if not lines:
        assert want == json.dumps(in_memory.to_records(), ensure_ascii=False, indent=1)
    stored = Findings.from_store(demo_store, saved.scan_id)
    monkeypatch.setattr(findings_module, "_STREAM_BATCH", 2)
    monkeypatch.setattr(findings_module, "saved_frame", None)  # loading would fail
    out = io.StringIO()
    stored.write_json(out, lines)
    assert out.getvalue() == want
    empty = Findings(empty_findings())
    assert empty.to_json() == "[]" and empty.to_json(lines=True) == ""


def _two_currencies() -> pd.DataFrame:
    """Two high findings: ¥2.4T (about $22B at 110 yen a dollar) and $23B."""
    frame = _frame(2, seed=0)
    frame["severity"] = "high"
    frame["id"] = ["a", "b"]
    frame["currency"] = ["JPY", "USD"]
    frame["period"] = frame["period_end"] = "2021-02"
    frame["impact"] = [2.4e12, 2.3e10]
    return frame


def _rate(store, currency: str, month: str, per_usd: float) -> None:
    store.con.execute("INSERT INTO rates VALUES (?, ?, ?)", [currency, f"{month}-01", per_usd])


def _saved_order(store, frame: pd.DataFrame) -> list[str]:
    scan_id = api._save_scan(store, iter([frame]), {}, None, None, "local")
    return [f["currency"] for f in Findings.from_store(store, scan_id)]


def test_without_rates_impacts_rank_as_they_are(store):
    frame = _two_currencies()
    assert _saved_order(store, frame) == ["JPY", "USD"]
    assert rank(frame, store.con.cursor())["currency"].tolist() == ["JPY", "USD"]


@pytest.mark.parametrize("month", ["2021-02", "2020-11"])
def test_impacts_rank_in_us_dollars_at_the_stores_rate(store, month):
    """The month's rate, or the currency's nearest month's; the findings keep their money."""
    _rate(store, "JPY", month, 110.0)
    frame = _two_currencies()
    assert _saved_order(store, frame) == ["USD", "JPY"]
    ranked = rank(frame, store.con.cursor())
    assert ranked["currency"].tolist() == ["USD", "JPY"]
    assert ranked["impact"].tolist() == [2.3e10, 2.4e12]


def test_the_store_ranks_as_rank_does_with_rates(store):
    """Currencies with and without rates, months with and without one, bad periods."""
    frame = _frame(400, seed=3)
    rng = np.random.default_rng(3)
    frame["currency"] = rng.choice(["USD", "JPY", "EUR", "KRW", None], len(frame))
    frame["period"] = rng.choice(["2021-01", "2021-02", "2021-06", "x", None], len(frame))
    frame["impact"] = frame["impact"] * rng.choice([1.0, 90.0, 0.01], len(frame))
    for currency, month, per_usd in [("JPY", "2021-01", 100.0), ("JPY", "2021-03", 120.0)]:
        _rate(store, currency, month, per_usd)
    _rate(store, "EUR", "2021-06", 0.8)
    scan_id = api._save_scan(store, iter([frame]), {}, None, None, "local")
    saved = Findings.from_store(store, scan_id).to_frame()
    want = rank(frame, store.con.cursor())
    assert saved["explanation"].tolist() == want["explanation"].tolist()


@pytest.mark.parametrize(("n", "sizes"), [(0, [0]), (3, [3]), (25, [10, 10, 5])])
def test_findings_in_memory_come_in_frames_of_a_batch_as_a_saved_scans(monkeypatch, n, sizes):
    monkeypatch.setattr(findings_module, "_STREAM_BATCH", 10)
    frames = list(Findings(_frame(n, seed=1), scan_id=None).frames())
    assert [len(f) for f in frames] == sizes
    assert pd.concat(frames)["id"].tolist() == _frame(n, seed=1)["id"].tolist()


def test_one_finding_is_not_one_findings():
    one = Findings(_frame(1, seed=0), scan_id=4)
    assert repr(one) == "Findings(1 finding, scan 4)"
    assert one._repr_html_().startswith("<p>1 finding</p>")


def test_the_notebook_table_shows_markup_in_findings_as_text():
    frame = _frame(1, seed=0).assign(
        reporter="A&B", commodity="<b>27</b>", explanation="<script>alert(1)</script> & more"
    )
    html = Findings(frame)._repr_html_()
    assert "<script>" not in html and "<b>" not in html
    assert "<td>&lt;script&gt;alert(1)&lt;/script&gt; &amp; more</td>" in html
    assert "<td>A&amp;B</td>" in html and "<td>&lt;b&gt;27&lt;/b&gt;</td>" in html


def test_the_notebook_table_shows_bidi_and_control_characters_as_escapes():
    """A right-to-left override in a code reordered the cells after it; the report, the
    dashboard and the terminal show it as an escape, and so does the notebook."""
    frame = _frame(1, seed=0).assign(commodity="27\u202e01", partner="P\x1bRK")
    html = Findings(frame)._repr_html_()
    assert "\u202e" not in html and "\x1b" not in html
    assert "<td>27\\u202e01</td>" in html and "<td>P\\x1bRK</td>" in html


@pytest.mark.parametrize("lines", [False, True], ids=["json", "jsonl"])
def test_json_shows_bidi_c1_and_line_separators_as_escapes(lines):
    """``scan --format json`` wrote a right-to-left override, a CSI (\\x9b) and a line
    separator raw, reordering or breaking what a terminal or a pager shows; JSON escapes
    them now, and reads back as the same value."""
    odd = "27\u202e01\x9b2J\u2028x"
    text = Findings(_frame(1, seed=0).assign(commodity=odd)).to_json(lines=lines)
    assert not any(ch in text for ch in "\u202e\x9b\u2028")
    assert "27\\u202e01\\u009b2J\\u2028x" in text
    record = json.loads(text) if lines else json.loads(text)[0]
    assert record["commodity"] == odd


SEVERITY_BANDS = [
    (0.0, "low"),
    (0.6, "low"),
    (0.65, "low"),
    (0.6999, "low"),
    (0.7, "medium"),
    (0.7001, "medium"),
    (0.8999, "medium"),
    (0.9, "high"),
    (0.9001, "high"),
    (1.0, "high"),
]


@pytest.mark.parametrize(("score", "severity"), SEVERITY_BANDS)
def test_severity_is_high_from_0_9_medium_from_0_7_low_below(score, severity):
    assert severity_of(score) == severity


def test_severity_of_scores_is_each_ones_band():
    scores, severities = zip(*SEVERITY_BANDS, strict=True)
    assert severity_of(np.array(scores)).tolist() == list(severities)


# -- annual series: their own ids, and ``freq`` beside the findings -------------------------

ANNUAL_CSV = "reporter,partner,flow,commodity,period,value,period_months,freq\n" + "".join(
    f"CHN,PRK,export,TOTAL,{year},{9e8 if year == 2016 else 1e8 * (1 + (year % 3) / 50)},12,A\n"
    for year in range(2005, 2022)
)
MONTHLY_CSV = "".join(
    f"CHN,PRK,export,TOTAL,{year}-{month:02d},"
    f"{9e7 if (year, month) == (2016, 1) else 1e7 * (1 + month % 3 / 50)},1,M\n"
    for year in range(2013, 2018)
    for month in range(1, 13)
)


@pytest.fixture
def annual_and_monthly(store, tmp_path):
    """One series key reported both by year and by month, with a spike in 2016 and in
    January 2016: the same reporter, partner, flow, commodity and period 2016-01."""
    path = tmp_path / "both.csv"
    path.write_text(ANNUAL_CSV + MONTHLY_CSV)
    store.ingest(path)
    return store


def test_an_annual_finding_and_a_monthly_one_of_the_same_key_differ(annual_and_monthly):
    found = api.scan(annual_and_monthly).to_frame()
    spikes = found[(found["kind"] == "spike") & (found["period"] == "2016-01")]
    assert sorted(spikes["freq"]) == ["A", "M"]
    assert spikes["id"].nunique() == 2
    annual = spikes[spikes["freq"] == "A"].iloc[0]
    assert annual["explanation"].startswith("2016 recorded $900.0M")
    assert "reported years from" in annual["explanation"]


def test_monthly_ids_are_as_before_and_annual_ids_hash_their_freq():
    """Saved scans, their comparisons (new and resolved findings) and links rely on the ids
    of monthly findings: they hash no freq, as before it was kept."""
    key = ("CHN", "PRK", "export", "HS", "TOTAL", "")
    before = hashlib.sha1("|".join(["spike", *key, "2016-01", "2016-01"]).encode()).hexdigest()
    assert findings_module.stable_id("spike", key, "2016-01", "2016-01") == before[:16]
    assert findings_module.stable_id("spike", key, "2016-01", "2016-01", "M") == before[:16]
    assert findings_module.stable_id("spike", key, "2016-01", "2016-01", "A") != before[:16]


@pytest.mark.parametrize("saved", [False, True], ids=["in-memory", "saved"])
def test_findings_carry_their_freq_in_every_output(annual_and_monthly, saved):
    found = api.scan(annual_and_monthly, save=saved)
    records = found.to_records()
    assert {r["freq"] for r in records} == {"A", "M"}
    assert list(records[0])[:12] == [
        *FINDING_COLUMNS[:6],
        "classification",
        "breakdown",
        *FINDING_COLUMNS[6:8],
        "freq",
        "observed",
    ]
    assert {(r["classification"], r["breakdown"]) for r in records} == {("HS", "")}
    assert {json.loads(line)["freq"] for line in found.to_json(lines=True).splitlines()} == {
        "A",
        "M",
    }


@pytest.mark.parametrize("how", ["in-memory", "saved", "from-store"])
def test_the_frame_has_the_columns_of_the_json_and_csv_outputs(demo_store, how):
    """``to_frame`` put classification, breakdown and freq last, where JSON and CSV put
    them after commodity and period_end: a frame and a file of the same findings now
    line up, column for column."""
    found = api.scan(demo_store, save=how != "in-memory")
    if how == "from-store":
        found = Findings.from_store(demo_store, found.scan_id)
    frame = found.to_frame()
    assert list(frame.columns) == list(RECORD_COLUMNS)
    assert list(found.to_records()[0]) == list(frame.columns)
    assert list(csv_frame(frame).columns) == list(frame.columns)
    assert frame.columns.get_loc("classification") == frame.columns.get_loc("commodity") + 1
    assert frame.columns.get_loc("freq") == frame.columns.get_loc("period_end") + 1


def test_findings_saved_before_freq_was_kept_read_as_monthly(store):
    """Rows of a scan saved by an earlier version have no freq (NULL): monthly series'."""
    scan_id = api._save_scan(store, iter([_frame(4, seed=3)]), {}, None, None, "local")
    store.con.execute("UPDATE findings SET freq = NULL")
    saved = Findings.from_store(store, scan_id)
    assert set(saved.to_frame()["freq"]) == {"M"}
    assert {r["freq"] for r in saved} == {"M"}


@pytest.mark.parametrize("in_store", [False, True])
def test_impacts_equal_to_the_cent_rank_by_id(store, in_store):
    """The two sides of a mirror pair: 25,342.569704940062 and …055 in one engine, …07 for
    both in the other; ranked to the cent, the id decides in both."""
    frame = _frame(2, 0)
    frame["id"] = ["b", "a"]
    frame["severity"] = "high"
    frame["impact"] = [25342.569704940062, 25342.569704940055]
    frame["explanation"] = ["b", "a"]
    if in_store:
        scan_id = api._save_scan(store, iter([frame]), {}, None, None, "local")
        order = [f["id"] for f in Findings.from_store(store, scan_id)]
    else:
        order = rank(frame)["id"].tolist()
    assert order == ["a", "b"]


@pytest.mark.parametrize("kind", ["level_shift", ["level_shift", "gap"]])
def test_findings_of_a_kind_read_only_that_kinds_rows(demo_store, monkeypatch, kind):
    """A kind or a severity is asked of the store, so the other findings' evidence is never
    read (it was parsed for the whole scan, then filtered)."""
    api.scan(demo_store)
    read = []
    real = api.saved_frame

    def recorded(con, scan_id, where="true", params=(), limit=None):
        frame = real(con, scan_id, where, params, limit)
        read.append(set(frame["kind"]))
        return frame

    monkeypatch.setattr(api, "saved_frame", recorded)
    found = api.findings(demo_store, kind=kind, severity=["high", "medium", "low"])
    wanted = {kind} if isinstance(kind, str) else set(kind)
    assert read and read[0] <= wanted and set(found.to_frame()["kind"]) == read[0]
    assert len(found) == len(api.findings(demo_store).to_frame().query("kind in @wanted"))


def test_filter_reads_its_values_as_scan_does(demo_store):
    """Codes in any case or a country's name, as `scan` takes them: `filter(partner="prk")`
    answered "no findings" where `scan(partner="prk")` found them."""
    found = api.scan(demo_store)
    exports = found.filter(flow="export")
    assert len(exports) and exports.to_frame()["flow"].eq("export").all()
    for spelled in ("prk", "North Korea", ["PRK"]):
        assert len(found.filter(partner=spelled, flow="EXPORT")) == len(exports)
    assert len(found.filter(classification="hs", currency="usd")) == len(found)


@pytest.mark.parametrize(
    ("criteria", "said"),
    [
        ({"kind": "spikes"}, "unknown kind 'spikes'; choose from implausible, spike"),
        ({"severity": "urgent"}, "unknown severity 'urgent'"),
        ({"foo": 1}, "filter: no column 'foo'; filter by kind, severity, reporter"),
    ],
)
def test_filter_refuses_what_would_select_nothing(demo_store, criteria, said):
    from tradesentry.errors import InputError

    with pytest.raises(InputError, match=said.replace("(", r"\(")):
        api.findings(demo_store).filter(**criteria)


def _periods(*spans: tuple[str, str, str]) -> Findings:
    frame = _frame(len(spans), 0)
    frame["id"] = [f"{i:04x}" for i in range(len(spans))]
    frame["period"], frame["period_end"], frame["freq"] = zip(*spans, strict=True)
    frame["score"] = [0.5, 0.9, 0.7][: len(spans)]
    return Findings(frame.reset_index(drop=True))


def test_findings_in_months_end_in_or_after_since_and_start_in_or_before_until():
    """An annual finding ends in its year's December, as ``scan --since`` keeps it."""
    found = _periods(
        ("2020-03", "2020-03", "M"), ("2020-01", "2020-01", "A"), ("2021-06", "2021-07", "M")
    )
    since = [f["period"] for f in found.in_months(since="2020-06").to_records()]
    assert since == ["2020-01", "2021-06"]  # the year 2020 ends in December
    until = [f["period"] for f in found.in_months(until="2020-12").to_records()]
    assert until == ["2020-03", "2020-01"]
    both = found.in_months(since="2020-04", until="2021-06")
    assert [f["period"] for f in both.to_records()] == ["2020-01", "2021-06"]
    assert len(found.in_months()) == 3


@pytest.mark.parametrize(
    ("sort", "order", "periods"),
    [
        ("rank", None, ["2020-03", "2020-01", "2021-06"]),
        ("rank", "asc", ["2021-06", "2020-01", "2020-03"]),
        ("score", None, ["2020-01", "2021-06", "2020-03"]),
        ("period", "asc", ["2020-01", "2020-03", "2021-06"]),
    ],
)
def test_findings_sorted_for_display_keep_their_rank_on_ties(sort, order, periods):
    found = _periods(
        ("2020-03", "2020-03", "M"), ("2020-01", "2020-01", "A"), ("2021-06", "2021-07", "M")
    )
    shown = found.sorted_by(sort, order)
    assert [f["period"] for f in shown.to_records()] == periods


def test_an_unknown_sort_names_the_sorts():
    with pytest.raises(InputError, match="sort: 'size' is none of rank, impact, score"):
        _periods(("2020-03", "2020-03", "M")).sorted_by("size")


@pytest.mark.parametrize(
    ("call", "said"),
    [
        (lambda f: f.in_months("2023-1x"), "since '2023-1x': expected a month as YYYY-MM"),
        (lambda f: f.in_months(until="2023"), "until '2023': expected a month as YYYY-MM"),
        (lambda f: f.sorted_by("score", "up"), "order: 'up' is none of asc, desc"),
        (lambda f: Findings(empty_findings()).sorted_by("bogus"), "sort: 'bogus' is none of"),
    ],
)
def test_months_and_orders_asked_of_findings_are_checked(call, said):
    """``in_months("2023")`` kept none of 2023 and ``sorted_by("score", "up")`` sorted
    descending, silently, where ``filter`` names what it takes."""
    with pytest.raises(InputError, match=re.escape(said)):
        call(_periods(("2020-03", "2020-03", "M")))


@pytest.mark.parametrize(
    ("finding", "terms"),
    [
        ({"kind": "dip", "period": "2021-02", "period_end": "2021-02"}, ("observed", "expected")),
        (
            {"kind": "level_shift", "period": "2020-02", "period_end": "2021-06"},
            ("new level, a month", "old level, a month"),
        ),
        (
            {"kind": "level_shift", "period": "2015-01", "period_end": "2018-01", "freq": "A"},
            ("new level, a year", "old level, a year"),
        ),
        # expected is the reporter's figure at the pair's usual ratio, not the partner's own
        (
            {"kind": "mirror_gap", "period": "2024-06", "period_end": "2024-06"},
            ("this record", "as the partner's record implies"),
        ),
        (
            {"kind": "mirror_gap", "period": "2023-11", "period_end": "2024-03"},
            ("this record, total", "as the partner's record implies, total"),
        ),
        (
            {"kind": "gap", "period": "2020-03", "period_end": "2020-04"},
            ("recorded", "expected, total"),
        ),
        (
            {"kind": "revision", "period": "2020-09", "period_end": "2020-09"},
            ("this release", "earlier release"),
        ),
        (
            {
                "kind": "incoherent",
                "period": "2020-09",
                "period_end": "2020-09",
                "evidence": {"check": "partner"},
            },
            ("total", "sum of its parts"),
        ),
        (
            {
                "kind": "incoherent",
                "period": "2021-01",
                "period_end": "2021-02",
                "evidence": {"check": "combined"},
            },
            ("combined figure", "its single months, summed"),
        ),
        (
            {
                "kind": "incoherent",
                "period": "2021-02",
                "period_end": "2021-02",
                "evidence": {"check": "overlap"},
            },
            ("both figures, summed", "months counted once"),
        ),
    ],
)
def test_the_figures_of_a_finding_are_named_for_what_they_hold(finding, terms):
    assert figure_terms(finding) == terms
