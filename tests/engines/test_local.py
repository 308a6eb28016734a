"""The local engine: chunking never changes findings; the current view without its window."""

from __future__ import annotations

import threading

import pandas as pd
import pytest

from tests.conftest import DEMO_CSV, today
from tests.detectors._helpers import scaled_comext_copy
from tests.engines.conftest import assert_same_findings
from tests.report.seed import pairs_csv
from tests.sql_spy import SpyConnection
from tests.trade_files import comext_totals_sdmx, totals_and_chapters_csv, world_and_partners_csv
from tradesentry import api, arguments, context
from tradesentry.detectors import default_detectors, run_detectors
from tradesentry.engines import local
from tradesentry.errors import InputError
from tradesentry.export import export_parquet
from tradesentry.findings import assemble
from tradesentry.generate import generate, load_generated
from tradesentry.panel import Panel
from tradesentry.schema import SERIES_KEY, hs_family, hs_family_sql


@pytest.fixture
def generated_store(store, tmp_path):
    generate(tmp_path / "gen", rows=4_000, seed=7, anomaly_rate=0.3)
    load_generated(store, tmp_path / "gen")
    store.ingest(DEMO_CSV)  # a second release, and a TOTAL series among HS6 ones
    return store


@pytest.mark.parametrize("chunk_series", [1, 7])
def test_chunk_size_does_not_change_findings(generated_store, chunk_series):
    detectors = default_detectors()
    large = local.scan(generated_store.con.cursor(), detectors, {}, chunk_series=1_000_000)
    assert len(large) > 0
    small = local.scan(generated_store.con.cursor(), detectors, {}, chunk_series=chunk_series)
    assert_same_findings(large, small)


def test_gathering_in_reporter_ranges_does_not_change_findings(generated_store, monkeypatch):
    detectors = default_detectors()  # the cross checks too: their context joins every range
    whole = local.scan(generated_store.con.cursor(), detectors, {})
    con = generated_store.con.cursor()
    ranges = local.key_ranges(con, "reporter", "true", [], 400)
    assert len(ranges) > 5 and ranges[0][0] <= ranges[0][1] < ranges[1][0]
    monkeypatch.setattr(local, "GATHER_ROWS", 400)
    in_ranges = local.scan(con, detectors, {})
    assert len(whole) > 0
    assert_same_findings(whole, in_ranges)


def test_reporter_ranges_hold_at_most_their_rows_unless_one_reporter_is_larger(store, tmp_path):
    generate(tmp_path / "gen", rows=3_000, seed=3)
    load_generated(store, tmp_path / "gen")
    con = store.con.cursor()
    counts = dict(
        con.execute("SELECT reporter, count(*) FROM observations GROUP BY ALL").fetchall()
    )
    assert local.key_ranges(con, "reporter", "true", [], 10**9) == [None]
    ranges = local.key_ranges(con, "reporter", "true", [], 500)
    covered = [r for r in sorted(counts) for lo, hi in ranges if lo <= r <= hi]
    assert covered == sorted(counts)  # every reporter in exactly one range
    for lo, hi in ranges:
        inside = [n for r, n in counts.items() if lo <= r <= hi]
        assert sum(inside) <= 500 or len(inside) == 1


@pytest.mark.parametrize("read_rows", [1, 7, 100_000])
def test_sorted_rows_regroup_into_the_series_lists_give(generated_store, monkeypatch, read_rows):
    """The two gatherings (lists by DuckDB; sorted rows made into lists in Arrow, whose
    batches cut series anywhere) give the same series, cells and currencies."""
    monkeypatch.setattr(local, "_READ_ROWS", read_rows)
    con = generated_store.con.cursor()
    releases = con.execute("SELECT count(*) FROM releases").fetchall()[0][0]
    source, vintage = local._source("true", [], releases, {})
    assert vintage  # two releases: the latest figure of each cell is chosen from the lists

    def frame(context: bool) -> pd.DataFrame:
        batches = local.gathered_series(con, source, [], local.ROW_COLUMNS, vintage, context)
        chunks = local.whole_group_chunks(batches, 50)
        out = pd.concat(local.series_frame(t, local.ROW_COLUMNS) for t in chunks)
        key = [*SERIES_KEY, "period", "period_months"]
        return out.drop(columns="series_no").astype({c: str for c in key[:7]}).sort_values(key)

    lists, rows = frame(False), frame(True)
    assert len(lists) > 1000
    pd.testing.assert_frame_equal(rows.reset_index(drop=True), lists.reset_index(drop=True))


def test_chunks_hold_whole_series_and_whole_groups(generated_store):
    chunks = list(local.iter_chunks(generated_store.con.cursor(), {}, chunk_series=50))
    keys = [c.groupby(list(SERIES_KEY), observed=True).ngroups for c in chunks]
    assert (
        sum(keys)
        == generated_store.con.execute(
            "SELECT count(DISTINCT (reporter, partner, flow, commodity)) FROM observations"
        ).fetchall()[0][0]
    )
    assert max(keys) <= 50
    rows = sum(len(c) for c in chunks)
    assert rows == generated_store.con.execute("SELECT count(*) FROM observations").fetchall()[0][0]


@pytest.mark.parametrize(
    ("chunk_series", "six_digit"),
    [(1, 0), (2, 0), (3, 0), (4, 0), (5, 0), (7, 0), (10_000, 0), (2, 6), (5, 6), (9, 6)],
)
def test_a_total_meets_its_chapters_however_a_large_group_is_cut(
    store, tmp_path, chunk_series, six_digit
):
    """TOTAL under HS and its chapters under H6 are one group; a group larger than a
    chunk is cut between partners, and a partner larger than a chunk after its TOTAL and
    chapters, which come first: FRA's break is found whatever the chunk size (with the
    classifications apart and cuts anywhere, small chunks never held both), and no other
    total reads short of chapters a chunk smaller than them left out (sizes 1–3)."""
    store.ingest(totals_and_chapters_csv(tmp_path, six_digit))
    detectors = [d for d in default_detectors() if d.kind == "incoherent"]
    found = local.scan(store.con.cursor(), detectors, {}, chunk_series=chunk_series)
    assert found[["partner", "commodity", "period"]].values.tolist() == [
        ["FRA", "TOTAL", "2020-06"]
    ]


@pytest.mark.parametrize("chunk_series", [1, 3, 10_000])
@pytest.mark.parametrize("fra_currency", ["USD", "JPY"])
def test_the_world_meets_its_partners_in_chunks_of_any_size(
    store, tmp_path, chunk_series, fra_currency
):
    """The partners' sums come from the whole store (the context), not from the chunk: the
    world's March 2020 is found however the series are cut, and is the very finding the
    detector makes from one panel of the whole store, summing the partners itself. A
    partner in another currency is no detail of the world's figure in dollars (its yen
    once made every month's details 25 times the world), nor is its figure known: the
    others are a lower bound, whose excess alone is judged."""
    store.ingest(world_and_partners_csv(tmp_path, fra_currency))
    detectors = [d for d in default_detectors() if d.kind == "incoherent"]
    found = local.scan(store.con.cursor(), detectors, {}, chunk_series=chunk_series)
    assert found[["partner", "commodity", "period"]].values.tolist() == [["WLD", "01", "2020-03"]]
    if fra_currency == "USD":
        whole = Panel.from_frame(store.observations())
        assert "partners_sum" not in whole.context
        by_panel = assemble(whole, run_detectors(whole, detectors), detectors)
        assert_same_findings(found, by_panel)
    else:
        (evidence,) = found["evidence"]
        assert (evidence["details"], evidence["details_unknown"]) == (2, 1)
        said = "individual partners (besides 1 partner withheld or in another currency) sum to"
        assert said in found["explanation"].iat[0]


def test_a_partner_that_no_longer_exists_is_a_detail_of_the_world(store, tmp_path):
    """The Netherlands Antilles (ANT, dissolved in 2010 and in ISO 3166-3 since) is a
    country in the records of its years: a world figure that counts it is coherent with its
    partners (Guinea's exports of plastics in March 2016, ANT's one month: the partners
    without it were "3.0% less" than the world, by exactly its figure)."""
    rows = ["reporter,partner,flow,commodity,period,value,currency"]
    for m in range(24):
        period = f"{2015 + m // 12}-{m % 12 + 1:02d}"
        parts = {"MLI": 4.9e9 + 1e7 * m, "BFA": 7.9e8, **({"ANT": 2.1e8} if m == 14 else {})}
        rows += [f"GIN,{p},export,392329,{period},{v:.0f},GNF" for p, v in parts.items()]
        rows.append(f"GIN,WLD,export,392329,{period},{sum(parts.values()):.0f},GNF")
    path = tmp_path / "historic.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    store.ingest(path)
    assert "ANT" in set(store.observations()["partner"])
    detectors = [d for d in default_detectors() if d.kind == "incoherent"]
    assert local.scan(store.con.cursor(), detectors, {}).empty


def test_a_withheld_partner_explains_a_shortfall_of_the_world(store, tmp_path):
    """FRA's figure withheld (confidential) in two months: the published partners fall
    short of the world there, as they must; only March 2020, where they exceed it, is
    incoherent. A panel of the store's rows tells withheld from missing too (a row without
    a figure), and finds the same."""
    store.ingest(world_and_partners_csv(tmp_path, withheld=(4, 19)))
    assert store.observations()["value"].isna().sum() == 2
    detectors = [d for d in default_detectors() if d.kind == "incoherent"]
    found = local.scan(store.con.cursor(), detectors, {})
    assert found[["partner", "commodity", "period"]].values.tolist() == [["WLD", "01", "2020-03"]]
    whole = Panel.from_frame(store.observations())
    assert_same_findings(found, assemble(whole, run_detectors(whole, detectors), detectors))


@pytest.mark.parametrize("withheld", [None, 6])
def test_comext_s_total_meets_its_chapters_and_a_withheld_one_bounds_them(
    store, tmp_path, withheld
):
    """Comext's chapters are CN8 codes, its total kept under HS: one family, compared (they
    never met). A chapter withheld in July 2019 leaves the others short of the total there,
    as they must be: only November 2019 is incoherent."""
    store.ingest(comext_totals_sdmx(tmp_path, withheld))
    keys = store.observations()[["commodity", "classification"]].drop_duplicates()
    assert sorted(keys.itertuples(index=False)) == [
        ("01", "CN8"), ("02", "CN8"), ("03", "CN8"), ("TOTAL", "HS")
    ]  # fmt: skip
    detectors = [d for d in default_detectors() if d.kind == "incoherent"]
    found = local.scan(store.con.cursor(), detectors, {}, chunk_series=4)
    assert found[["commodity", "period"]].values.tolist() == [["TOTAL", "2019-11"]]
    assert found["evidence"].iat[0]["details_classification"] == "CN8"


def test_the_classification_family_is_one_rule_in_sql_and_in_python():
    """The engines order series by ``schema.hs_family_sql`` and cut chunks, and incoherent
    groups editions, by ``schema.hs_family``: the two writings agree."""
    import duckdb

    names = ["HS", "H0", "H6", "H9", "CN8", "CN", "S4", "BEC", "HSX", "H", "CN88", "EB02"]
    sql = f"SELECT {hs_family_sql('c')} FROM unnest(?::VARCHAR[]) AS t(c)"
    in_sql = [row[0] for row in duckdb.connect().execute(sql, [names]).fetchall()]
    in_python = hs_family(names).tolist()
    assert in_sql == in_python
    assert in_python[:6] == ["HS"] * 6 and in_python[6:] == names[6:]


@pytest.mark.parametrize(("world", "summed"), [(False, False), (True, True)])
def test_the_partners_are_summed_only_where_a_world_series_is_scanned(
    store, tmp_path, world, summed
):
    """The partners' context costs an incoherent scan the gathering of sorted rows: it is
    asked only where a selected series is a world series."""
    store.ingest(world_and_partners_csv(tmp_path))
    log: list[str] = []
    spy = SpyConnection(store.con.cursor(), log)
    detectors = [d for d in default_detectors() if d.kind == "incoherent"]
    filters = {} if world else {"partner": ["BRA", "FRA"]}
    local.scan(spy, detectors, filters)
    assert any("partners_sum" in sql for sql in log) == summed


def test_latest_release_wins_as_in_the_current_view(demo_store, tmp_path):
    revised = pd.read_csv(DEMO_CSV).head(10)
    revised["value"] = revised["value"] + 1.0
    revised.to_csv(tmp_path / "revised.csv", index=False)
    demo_store.ingest(tmp_path / "revised.csv", published=today())
    frame = pd.concat(local.iter_chunks(demo_store.con.cursor(), {}))
    current = demo_store.observations()
    got = frame.sort_values(["flow", "period", "period_months"])["value"].to_numpy()
    want = current.sort_values(["flow", "period", "period_months"])["value"].to_numpy()
    assert list(got) == list(want)


def test_export_writes_the_current_view(demo_store, tmp_path):
    result = export_parquet(demo_store, tmp_path / "lake")
    assert result.observations == 47
    back = pd.read_parquet(tmp_path / "lake" / "observations")
    assert len(back) == 47 and set(back["reporter"].astype(str)) == {"CHN"}
    assert (tmp_path / "lake" / "releases.parquet").exists()


MIRROR_COMEXT = "raw/eurostat_comext_ds045409/CN_39206290.csv.gz"


@pytest.mark.parametrize(("releases", "gather_rows"), [(1, None), (2, None), (2, 3_000)])
def test_context_tables_give_the_inline_context(
    store, shared_data, tmp_path, releases, gather_rows, monkeypatch
):
    """The context's aggregates computed first into temporary tables (on a large store,
    range of commodities by range), then joined, give the very rows of the one inline
    query (the SQL the Spark engine runs)."""
    if gather_rows:
        monkeypatch.setattr(local, "GATHER_ROWS", gather_rows)
    src = shared_data / MIRROR_COMEXT
    store.ingest(src)
    if releases == 2:  # a later release revising some export figures: previous values
        moved = tmp_path / "moved.csv.gz"
        scaled_comext_copy(src, moved, {("DE", "CN", "2", "2024-05"): 2.0})
        store.ingest(moved, published=today())
    key = ["reporter", "partner", "flow", "commodity", "period", "period_months"]
    columns = [*key, "value", *context.columns_for(context.NEEDS)]
    inline = store.con.cursor().execute(context.source_sql("true", context.NEEDS)).df()
    con = store.con.cursor()
    chunks = pd.concat(local.iter_chunks(con, {}, 500, context.NEEDS))
    got = chunks.astype({c: str for c in key[:4]})[columns].sort_values(key, ignore_index=True)
    want = inline[columns].sort_values(key, ignore_index=True)
    want["period"] = want["period"].astype("datetime64[ns]")
    got["period"] = got["period"].astype("datetime64[ns]")
    assert len(got) == len(want) > 1000
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    assert got["mirror_value"].notna().any() and got["mirror_margin"].notna().any()
    assert got["reference_unit_value"].notna().any()
    assert got["previous_value"].notna().any() == (releases == 2)
    temporary = "SELECT count(*) FROM duckdb_tables() WHERE temporary"  # dropped after the scan
    assert con.execute(temporary).fetchall()[0][0] == 0


def test_a_scan_leaves_duckdbs_settings_as_they_were(generated_store):
    con = generated_store.con.cursor()
    read = "SELECT current_setting('memory_limit'), current_setting('threads')"
    before = con.execute(read).fetchall()
    for _ in range(3):  # a rounded limit set back each time would shrink a little each scan
        local.scan(con, default_detectors(["spike"]), {})
    assert con.execute(read).fetchall() == before
    con.execute("RESET memory_limit")
    assert con.execute(read).fetchall() == before  # still DuckDB's own default


# -- filters are values, bound as parameters, never SQL -------------------------------------


@pytest.fixture
def pairs(demo_store, tmp_path):
    """CHN → PRK exports and imports, CHN → RUS exports, RUS → CHN imports."""
    demo_store.ingest(pairs_csv(tmp_path))
    return demo_store


def _series_read(con, **filters) -> set[tuple[str, str, str]]:
    """The series (reporter, partner, flow) a scan with ``filters`` reads."""
    chunks = list(local.iter_chunks(con, arguments.series_filters(**filters)))
    keys = [c[["reporter", "partner", "flow"]].astype(str) for c in chunks]
    return {tuple(k) for frame in keys for k in frame.drop_duplicates().to_numpy()}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"commodity": "TOTAL' OR '1'='1"}, set()),
        ({"reporter": "CHN'"}, set()),
        ({"reporter": "RUS' OR reporter <> '"}, set()),
        ({"reporter": ["RUS", "O'Brien"]}, {("RUS", "CHN", "import")}),
        (
            {"reporter": "CHN", "commodity": ["TOTAL", "X') OR true OR ('"]},
            {("CHN", "PRK", "export"), ("CHN", "PRK", "import"), ("CHN", "RUS", "export")},
        ),
    ],
)
def test_filters_holding_quotes_and_sql_are_matched_as_values(pairs, filters, expected):
    # the engine reads the series whose keys equal the values, nothing more
    assert _series_read(pairs.con.cursor(), **filters) == expected
    # and the scan says which value the store holds no series of, as for any code
    with pytest.raises(InputError, match="no series in the store (matches|has)"):
        api.scan(pairs, save=False, **filters)


@pytest.mark.parametrize("marker", ["zqx", "zqx'; DROP TABLE observations; --"])
def test_scan_filters_never_reach_sql_as_text(pairs, marker):
    log: list[str] = []
    pairs.con = SpyConnection(pairs.con, log)
    filters = {"reporter": ["CHN", marker], "partner": ["PRK", marker]}
    filters |= {"commodity": ["TOTAL", marker]}
    read = _series_read(pairs.con.cursor(), **filters)
    assert read and {partner for _, partner, _ in read} == {"PRK"}
    with pytest.raises(InputError, match="no series in the store has reporter ZQX"):
        api.scan(pairs, **filters)  # looked up as a value, and named
    assert log, "the spy saw no query"
    assert not [sql for sql in log if "zqx" in sql.lower()]


@pytest.mark.parametrize("threads", ["1", "2"])
def test_reading_ahead_does_not_change_findings(generated_store, monkeypatch, threads):
    detectors = default_detectors()
    one_chunk = local.scan(generated_store.con.cursor(), detectors, {}, chunk_series=1_000_000)
    read, real = [], local.read_ahead
    monkeypatch.setattr(
        local, "read_ahead", lambda chunks, con: read.append(1) or real(chunks, con)
    )
    monkeypatch.setenv("TRADESENTRY_THREADS", threads)
    chunked = local.scan(generated_store.con.cursor(), detectors, {}, chunk_series=7)
    assert len(one_chunk) > 0
    assert_same_findings(one_chunk, chunked)
    assert read == ([1] if threads == "2" else [])  # one thread: no thread to read ahead on


def _chunks(done: list, fail_after: int | None = None):
    """Chunks 0, 1, 2…; what closed them, and on which thread, recorded in ``done``."""
    import threading

    try:
        for i in range(10):
            if i == fail_after:
                raise ValueError(f"bad chunk {i}")
            yield i
    except BaseException as error:
        done.append(type(error).__name__)
        raise
    finally:
        done.append(threading.current_thread().name)


def test_read_ahead_keeps_the_order_and_cleans_up_on_its_own_thread(store):
    done = []
    assert list(local.read_ahead(_chunks(done), store.con.cursor())) == list(range(10))
    assert done == ["tradesentry-read-ahead"]


def test_read_ahead_raises_the_readers_error_in_the_scans_thread(store):
    done, got = [], []
    with pytest.raises(ValueError, match="bad chunk 3"):
        for chunk in local.read_ahead(_chunks(done, fail_after=3), store.con.cursor()):
            got.append(chunk)
    assert got == [0, 1, 2]
    assert done == ["ValueError", "tradesentry-read-ahead"]


def test_a_scan_stopped_early_stops_the_reader_and_interrupts_its_query(store):
    """The consumer stops after one chunk while the reader runs a query of minutes: the
    query is interrupted (else this test would run for minutes), the reader cleans up."""
    con, done = store.con.cursor(), []

    def endless():
        yield 0
        con.execute("SELECT sum(i % 7) FROM range(1_000_000_000_000) AS t(i)").fetchall()
        yield 1

    def recorded():
        try:
            yield from endless()
        except BaseException as error:
            done.append(type(error).__name__)
            raise
        finally:
            done.append("closed")

    ahead = local.read_ahead(recorded(), con)
    assert next(ahead) == 0
    ahead.close()
    assert done == ["InterruptException", "closed"]
    assert con.execute("SELECT 42").fetchall() == [(42,)]  # the cursor still serves queries


@pytest.mark.parametrize("threads", ["1", "2"])
def test_a_scan_stopped_early_on_the_stores_own_connection_leaves_its_view_as_it_was(
    generated_store, monkeypatch, threads
):
    """The gathering query's reader held an open result on the cursor: the clean-up's DROP
    failed (silently), and the store's own connection kept the scan's copy of the current
    view, stale once another release came in."""
    monkeypatch.setenv("TRADESENTRY_THREADS", threads)
    monkeypatch.setattr(local, "_READ_BATCH", 3)  # the query not read to its end
    monkeypatch.setattr(local, "_READ_ROWS", 40)
    read, real = [], local.read_ahead
    monkeypatch.setattr(
        local, "read_ahead", lambda chunks, con: read.append(1) or real(chunks, con)
    )
    con = generated_store.con
    count = "SELECT count(*) FROM current_observations"
    before = con.execute(count).fetchall()
    for _ in local.scan_chunks(con, default_detectors(), {}, chunk_series=5):
        break
    assert read == ([1] if threads == "2" else [])
    assert not [t for t in threading.enumerate() if t.name == "tradesentry-read-ahead"]
    assert not con.execute(
        "SELECT count(*) FROM duckdb_views() WHERE temporary AND view_name = 'current_observations'"
    ).fetchall()[0][0]
    assert not con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name LIKE 'context_%'"
    ).fetchall()[0][0]
    assert con.execute(count).fetchall() == before


@pytest.mark.parametrize("threads", ["1", "2"])
@pytest.mark.parametrize("where", ["gathering", "detectors"])
def test_an_error_in_a_scan_is_the_error_raised(generated_store, monkeypatch, threads, where):
    """A detector's error, or one gathering the series, came out as DuckDB's 'connection
    has an open result' from the restore of the scan's settings."""
    monkeypatch.setenv("TRADESENTRY_THREADS", threads)
    monkeypatch.setattr(local, "_READ_BATCH", 3)
    monkeypatch.setattr(local, "_READ_ROWS", 40)
    real = local.series_frame if where == "gathering" else local.scan_frame
    calls = []

    def fails_third(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise LookupError("the third chunk")
        return real(*args, **kwargs)

    monkeypatch.setattr(
        local, "series_frame" if where == "gathering" else "scan_frame", fails_third
    )
    with pytest.raises(LookupError, match="the third chunk"):
        local.scan(generated_store.con.cursor(), default_detectors(), {}, chunk_series=5)


def test_a_second_ctrl_c_while_the_reader_cleans_up_is_raised_once_it_is_done(store):
    """Ctrl-C twice: the second arrived while the scan waited for the reader and the wait
    was abandoned, leaving a thread in DuckDB that aborted the process at exit."""
    import signal
    import time

    done = []

    def slow_to_clean():
        try:
            yield 0
            yield 1
        finally:
            time.sleep(0.5)  # the reader's clean-up, in its own thread
            done.append("cleaned")

    def second_ctrl_c(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, second_ctrl_c)
    try:
        ahead = local.read_ahead(slow_to_clean(), store.con.cursor())
        assert next(ahead) == 0
        signal.setitimer(signal.ITIMER_REAL, 0.1)  # while close() waits for the reader
        with pytest.raises(KeyboardInterrupt):
            ahead.close()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert done == ["cleaned"]
    assert not [t for t in threading.enumerate() if t.name == "tradesentry-read-ahead"]


def test_the_reader_reads_one_chunk_ahead_not_more(store):
    """The scan holds chunk 0: the reader may have made chunk 1, and waits before chunk 2."""
    import time

    made = []

    def counted():
        for i in range(10):
            made.append(i)
            yield i

    ahead = local.read_ahead(counted(), store.con.cursor())
    assert next(ahead) == 0
    time.sleep(0.3)
    assert made == [0, 1]
    assert next(ahead) == 1
    time.sleep(0.3)
    assert made == [0, 1, 2]
    ahead.close()
