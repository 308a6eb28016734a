"""The Spark engine gives the local engine's findings: demo data, a Comext file, generated data."""

from __future__ import annotations

import builtins
import json
import re

import numpy as np
import pandas as pd
import pytest

from tests.conftest import DEMO_CSV, today
from tests.engines.conftest import assert_same_findings
from tests.trade_files import totals_and_chapters_csv, world_and_partners_csv
from tradesentry import api, context
from tradesentry.detectors import default_detectors
from tradesentry.engines import local
from tradesentry.errors import EngineUnavailable, InputError
from tradesentry.export import export_parquet
from tradesentry.generate import generate, load_generated

pytestmark = pytest.mark.spark
COMEXT = "raw/eurostat_comext_ds045409/CN_32151100.csv.gz"


def both_engines(store, spark, **filters):
    from tradesentry.engines import spark as spark_engine

    detectors = default_detectors()
    found_local = local.scan(store.con.cursor(), detectors, filters)
    found_spark = spark_engine.scan(store, detectors, filters, spark=spark)
    return found_local, found_spark


def test_demo_data_same_findings(demo_store, spark):
    found_local, found_spark = both_engines(demo_store, spark)
    assert len(found_local) > 0
    assert_same_findings(found_local, found_spark)


def test_comext_file_same_findings(store, spark, shared_data):
    store.ingest(shared_data / COMEXT)
    found_local, found_spark = both_engines(store, spark)
    assert len(found_local) > 0
    assert_same_findings(found_local, found_spark)


def test_generated_data_same_findings_and_filters(store, spark, tmp_path):
    generate(tmp_path / "gen", rows=6_000, seed=11, anomaly_rate=0.3)
    load_generated(store, tmp_path / "gen")
    found_local, found_spark = both_engines(store, spark)
    assert len(found_local) > 5
    assert_same_findings(found_local, found_spark)
    reporter = found_local["reporter"].iat[0]
    filtered = both_engines(store, spark, reporter=reporter)
    assert_same_findings(*filtered)
    for found in filtered:  # the filter applied by each engine, not ignored by both
        assert 0 < len(found) < len(found_local)
        assert (found["reporter"] == reporter).all()


@pytest.mark.parametrize(
    ("write", "chunk_series", "found_at"),
    [  # a chunk holds at least a partner's series (TOTAL and three chapters)
        (totals_and_chapters_csv, 4, ["FRA", "TOTAL", "2020-06"]),
        (world_and_partners_csv, 1, ["WLD", "01", "2020-03"]),
    ],
    ids=["chapters", "partners"],
)
def test_totals_meet_their_details_in_chunks_smaller_than_their_group(
    store, spark, tmp_path, write, chunk_series, found_at
):
    """Partitioned by the classification's family and cut between partners as local; the
    partners' sums from the whole store."""
    from tradesentry.engines import spark as spark_engine

    store.ingest(write(tmp_path))
    detectors = [d for d in default_detectors() if d.kind == "incoherent"]
    found = spark_engine.scan(store, detectors, {}, chunk_series=chunk_series, spark=spark)
    assert found[["partner", "commodity", "period"]].values.tolist() == [found_at]
    assert_same_findings(found, local.scan(store.con.cursor(), detectors, {}))


def test_current_view_of_several_releases(demo_store, spark, tmp_path):
    """A later release revising figures: both engines scan the latest figure of each cell."""
    revised = pd.read_csv(DEMO_CSV).head(20)
    revised["value"] = revised["value"] * 1.5
    revised.to_csv(tmp_path / "revised.csv", index=False)
    demo_store.ingest(tmp_path / "revised.csv", published=today())
    found_local, found_spark = both_engines(demo_store, spark)
    assert_same_findings(found_local, found_spark)


def test_context_columns_agree(store, spark, shared_data, tmp_path):
    """Every context column (mirror, previous release, reference prices) on Spark as in DuckDB."""
    from tradesentry.engines import spark as spark_engine

    store.ingest(shared_data / COMEXT)
    months = store.con.execute("SELECT DISTINCT period FROM observations ORDER BY 1").df()
    rates = months.iloc[: len(months) // 2].assign(currency="EUR", per_usd=0.9)  # half: NaN
    rates.to_csv(tmp_path / "rates.csv", index=False)
    api.load_rates(store, tmp_path / "rates.csv")
    needs = ["mirror", "mirror_margin", "previous", "reference_unit_value"]
    columns = ["reporter", "partner", "flow", "commodity", "period", "period_months"]
    ours = store.con.execute(context.source_sql("true", needs)).df()
    assert ours["own_per_usd"].notna().any() and ours["own_per_usd"].isna().any()
    export_parquet(store, tmp_path / "export", all_releases=True)
    current = spark_engine.register_views(spark, str(tmp_path / "export"))
    theirs = spark_engine.source_frame(spark, {}, needs).toPandas()
    current.unpersist()
    for frame in (ours, theirs):
        frame["period"] = pd.to_datetime(frame["period"])
    merged = ours.merge(theirs, on=columns, suffixes=("", "_spark"), validate="one_to_one")
    assert len(merged) == len(ours) == len(theirs)
    for column in context.columns_for(needs):
        x = pd.to_numeric(merged[column]).astype(float).to_numpy()
        y = pd.to_numeric(merged[f"{column}_spark"]).astype(float).to_numpy()
        assert np.isclose(x, y, rtol=1e-9, atol=1e-12, equal_nan=True).all(), column


def test_the_mad_sorts_a_groups_list_twice_whatever_its_size():
    """The median, then the distances' median: each sort computed once, not once per value
    (Spark computes an expression each time it is written, inside a lambda for each
    element: sixteen sorts a value took a quarter of an hour on a store of Comext data)."""
    from tradesentry.engines import spark as spark_engine

    sql = spark_engine.spark_dialect(context.mirror_reference_sql())
    assert sql.count("array_sort(") == 2


def test_median_and_mad_as_duckdb_computes_them(spark):
    """Groups of one value, of even and odd sizes, with ties, and a large one."""
    import duckdb

    from tradesentry.engines import spark as spark_engine

    values = {0: [2.5], 1: [1.0, 4.0], 2: [3.0, -1.0, 3.0], 3: [0.5, 0.5, 2.0, 9.0, -4.0, 1.0]}
    values[4] = list(np.random.default_rng(3).normal(size=2_000))
    frame = pd.DataFrame([(g, v) for g, vs in values.items() for v in vs], columns=["g", "x"])
    sql = "SELECT g, median(x) AS m, 1.4826 * mad(x) AS spread FROM frame GROUP BY g ORDER BY g"
    ours = duckdb.sql(sql).df()
    spark.createDataFrame(frame).createOrReplaceTempView("frame")
    theirs = spark.sql(spark_engine.spark_dialect(sql)).toPandas()
    assert theirs["g"].tolist() == ours["g"].tolist()
    for column in ("m", "spread"):
        assert np.allclose(theirs[column], ours[column], rtol=1e-12, atol=0), column


def test_parquet_input_and_findings_output(demo_store, spark, tmp_path):
    from tradesentry.engines import spark as spark_engine

    export_parquet(demo_store, tmp_path / "lake")
    detectors = default_detectors()
    found = spark_engine.scan(
        None, detectors, {}, input=tmp_path / "lake", findings_out=tmp_path / "found", spark=spark
    )
    assert_same_findings(local.scan(demo_store.con.cursor(), detectors, {}), found)
    assert len(pd.read_parquet(tmp_path / "found")) == len(found)


def test_missing_pyspark_names_the_extra(monkeypatch):
    from tradesentry.engines import spark as spark_engine

    real_import = builtins.__import__

    def no_pyspark(name, *args, **kwargs):
        if name.startswith("pyspark"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyspark)
    with pytest.raises(EngineUnavailable, match=r"pip install 'tradesentry\[spark\]'"):
        spark_engine.session("local[1]")


def test_cli_scan_engine_spark(spark, tmp_path):
    from typer.testing import CliRunner

    from tradesentry.cli import app
    from tradesentry.store import open_store

    db = tmp_path / "s.duckdb"
    runner = CliRunner()
    runner.invoke(app, ["ingest", str(DEMO_CSV), "--store", str(db)], catch_exceptions=False)
    args = ["scan", "--engine", "spark", "--format", "json", "--store", str(db)]
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    ids = [f["id"] for f in json.loads(result.stdout)]
    with open_store(db) as st:
        assert sorted(ids) == sorted(local.scan(st.con.cursor(), default_detectors(), {})["id"])


def test_a_cluster_master_without_input_is_one_line_before_any_session(demo_store, monkeypatch):
    """The store's disk is not the executors': refused before a session is even started."""
    from typer.testing import CliRunner

    from tradesentry.cli import app
    from tradesentry.engines import spark as spark_engine

    def no_session(*args, **kwargs):
        raise AssertionError("no Spark session should start")

    monkeypatch.setattr(spark_engine, "session", no_session)
    args = ["scan", "--engine", "spark", "--master", "yarn", "--store", str(demo_store.path)]
    demo_store.close()
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "shared storage" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    nowhere = demo_store.path.parent / "not-made.duckdb"  # and no store is made for it
    result = CliRunner().invoke(app, [*args[:-1], str(nowhere)])
    assert result.exit_code == 2 and not nowhere.exists()


# -- paths, outputs and history (QA's defects) ---------------------------------------------
def cli(*args):
    from typer.testing import CliRunner

    from tradesentry.cli import app

    return CliRunner().invoke(app, [str(a) for a in args])


def no_session(*args, **kwargs):
    raise AssertionError("no Spark session should start")


def lake_rows(store) -> pd.DataFrame:
    """The store's current observations as a data lake would hold them (no release columns)."""
    rows = store.con.execute(
        "SELECT reporter, partner, flow, classification, commodity, breakdown, period, freq, "
        "period_months, value, currency, net_weight_kg FROM current_observations"
    ).df()
    rows["period"] = pd.to_datetime(rows["period"]).dt.date
    return rows


def write_lake(rows: pd.DataFrame, directory) -> None:
    directory.mkdir(parents=True)
    rows.to_parquet(directory / "part-0.parquet", index=False)


def test_findings_parquet_never_replaces_a_used_directory(demo_store, tmp_path, monkeypatch):
    """`--findings-parquet dl` beside `--input dl/trade` deleted all of dl: now refused in one
    line before Spark starts, and dl is left as it was (the command and the engine alike)."""
    from tradesentry.engines import spark as spark_engine

    monkeypatch.setattr(spark_engine, "session", no_session)
    export_parquet(demo_store, tmp_path / "dl" / "trade", all_releases=True)
    (tmp_path / "dl" / "notes.txt").write_text("keep")
    held = sorted((tmp_path / "dl").rglob("*"))
    db, input = demo_store.path, tmp_path / "dl" / "trade"
    demo_store.close()
    args = ["scan", "--engine", "spark", "--input", input, "--findings-parquet", tmp_path / "dl"]
    result = cli(*args, "--store", db)
    assert result.exit_code == 2, result.output
    assert "dl: the directory is not empty" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    for out in (tmp_path / "dl", tmp_path / "dl" / "notes.txt", input / "found"):
        with pytest.raises(InputError, match="not empty|into the input"):
            spark_engine.scan(None, default_detectors(), {}, input=input, findings_out=out)
    assert sorted((tmp_path / "dl").rglob("*")) == held


def test_paths_are_literal_and_the_file_holds_the_findings_returned(
    demo_store, spark, tmp_path, capsys
):
    """`--findings-parquet 'fo[1]'` returned an older `fo1`'s findings, `--input 'q?m'` read
    `qam` too, and the file held the findings before `since`: now paths are names, never
    patterns, and the file holds what the scan returns."""
    from tradesentry.engines import spark as spark_engine

    detectors = default_detectors()
    ours = local.scan(demo_store.con.cursor(), detectors, {})
    since = "2021-01"
    assert (ours["period_end"] < since).any() and (ours["period_end"] >= since).any()
    export_parquet(demo_store, tmp_path / "q?m")  # the current view: one release
    decoy = lake_rows(demo_store).assign(value=lambda f: f["value"] * 1000)
    write_lake(decoy, tmp_path / "qam")
    (tmp_path / "fo1").mkdir()
    spark_engine.encode(ours.head(1).assign(id="older")).to_parquet(tmp_path / "fo1" / "x.parquet")
    found = spark_engine.scan(
        None,
        detectors,
        {},
        input=tmp_path / "q?m",
        findings_out=tmp_path / "fo[1]",
        since=since,
        spark=spark,
    )
    assert_same_findings(ours[ours["period_end"] >= since], found)
    written = pd.read_parquet(tmp_path / "fo[1]")
    assert sorted(written["id"]) == sorted(found["id"])
    said = capsys.readouterr().err
    assert "holds one release: no revision to find (an export keeps" in said
    # what a scan without a store cannot read is said, not left for a reader to find out
    assert "read without a store: series that stopped reporting are not found" in said
    # a lake that gives its release (--all-releases) is not told to give it
    export_parquet(demo_store, tmp_path / "all", all_releases=True)
    spark_engine.scan(None, detectors, {}, input=tmp_path / "all", spark=spark)
    said = capsys.readouterr().err
    assert "holds one release: no revision to find\n" in said and "--all-releases" not in said
    used = tmp_path / "used"  # a URL is checked on Spark's file system, before the scan
    used.mkdir()
    (used / "x.parquet").write_text("")
    with pytest.raises(InputError, match="not empty"):
        spark_engine.scan(
            None, detectors, {}, input=tmp_path / "q?m", findings_out=used.as_uri(), spark=spark
        )
    assert (used / "x.parquet").exists()


def test_what_an_input_scan_cannot_read_is_one_list_not_a_chain_of_ands():
    from tradesentry.detectors import default_detectors
    from tradesentry.engines.spark import _unread_without_store

    said = _unread_without_store(default_detectors())
    assert said.startswith("series that stopped reporting are not found; ")
    assert "gaps carry no reading of their sibling series" in said
    assert ", and " not in said


def test_a_store_scan_with_brackets_in_the_temporary_directory(demo_store, spark, tmp_path):
    """The store's temporary export under TMPDIR=…/t[1] is read as itself."""
    import tempfile

    from tradesentry.engines import spark as spark_engine

    (tmp_path / "t[1]").mkdir()
    saved, tempfile.tempdir = tempfile.tempdir, str(tmp_path / "t[1]")
    try:
        found = spark_engine.scan(demo_store, default_detectors(), {}, spark=spark)
    finally:
        tempfile.tempdir = saved
    assert_same_findings(local.scan(demo_store.con.cursor(), default_detectors(), {}), found)


def test_an_input_scan_is_not_saved_in_the_store(demo_store, spark, tmp_path):
    """Scanning other data saved it as a scan of the store: `--resolved` listed the store's
    own findings as gone, the digest showed the lake's, and a missing store was created."""
    export_parquet(demo_store, tmp_path / "lake", all_releases=True)
    ours = demo_store.scan()  # the store's own scan: its history
    scans = demo_store.con.execute("SELECT count(*) FROM scans").fetchone()[0]
    lake = tmp_path / "lake"
    found = api.scan(demo_store, engine="spark", input=lake, spark=spark)
    assert found.scan_id is None
    assert sorted(found.to_frame()["id"]) == sorted(ours.to_frame()["id"])
    assert demo_store.con.execute("SELECT count(*) FROM scans").fetchone()[0] == scans
    db = demo_store.path
    demo_store.close()
    for flag in ("--new", "--resolved"):
        refused = cli("scan", "--engine", "spark", "--input", lake, flag, "--store", db)
        assert refused.exit_code == 2 and "not saved in the store" in refused.stderr
    missing = tmp_path / "none.duckdb"
    result = cli(
        "scan", "--engine", "spark", "--input", lake, "--format", "json", "--store", missing
    )
    assert result.exit_code == 0, result.output
    assert sorted(f["id"] for f in json.loads(result.stdout)) == sorted(found.to_frame()["id"])
    assert not missing.exists()


def test_a_utc_timestamp_period_keeps_its_month_west_of_utc(demo_store, spark, tmp_path):
    """period as timestamp[us, tz=UTC] with the session in New York: each finding moved a
    month earlier (the date was taken in New York's time)."""
    from tradesentry.engines import spark as spark_engine

    rows = lake_rows(demo_store)
    period = pd.to_datetime(rows["period"]).dt.tz_localize("UTC")
    write_lake(rows.assign(period=period.astype("datetime64[us, UTC]")), tmp_path / "lake")
    before = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", "America/New_York")
    try:
        found = spark_engine.scan(
            None, default_detectors(), {}, input=tmp_path / "lake", spark=spark
        )
        assert spark.conf.get("spark.sql.session.timeZone") == "America/New_York"
    finally:
        spark.conf.set("spark.sql.session.timeZone", before)
    assert_same_findings(local.scan(demo_store.con.cursor(), default_detectors(), {}), found)


def test_annual_parquet_without_freq_is_annual_as_on_ingest(store, spark, tmp_path):
    """Periods 2000…2024 and no freq column: ingest makes them annual; so does Spark."""
    from tradesentry.engines import spark as spark_engine

    rng = np.random.default_rng(3)
    rows, series = [], {"reporter": "CHN", "flow": "export", "commodity": "TOTAL"}
    for partner in ("PRK", "DEU"):
        values = 1e6 * 1.05 ** np.arange(25) * rng.lognormal(0, 0.05, 25)
        values[15] *= 20  # a year far above the trend
        years = [str(2000 + i) for i in range(25)]
        rows += [
            {**series, "partner": partner, "period": y, "value": v}
            for y, v in zip(years, values, strict=True)
        ]
    table = pd.DataFrame(rows)
    table.to_csv(tmp_path / "annual.csv", index=False)
    store.ingest(tmp_path / "annual.csv")
    ours = local.scan(store.con.cursor(), default_detectors(), {})
    assert len(ours) > 0
    write_lake(table, tmp_path / "lake")
    found = spark_engine.scan(None, default_detectors(), {}, input=tmp_path / "lake", spark=spark)
    assert_same_findings(ours, found)


def test_input_refused_in_one_line(demo_store, spark, tmp_path):
    """Duplicate keys, nanosecond timestamps, periods as 202101: one line naming the path and
    the problem (not a traceback, nor findings of duplicated rows); one file is read as is."""
    from tradesentry.engines import spark as spark_engine

    rows = lake_rows(demo_store)
    cases = {
        "dup": (pd.concat([rows, rows.head(3)]), r"3 observation key\(s\) appear more than once"),
        "ns": (rows.assign(period=pd.to_datetime(rows["period"])), "nanoseconds"),
        "yyyymm": (
            rows.assign(period=pd.to_datetime(rows["period"]).dt.strftime("%Y%m")),
            r"period '201901' is not a month \(YYYY-MM, or YYYY-MM-01\) nor a year",
        ),
        # a date is an accepted form: one outside the years is impossible, not a notation
        "old_date": (
            rows.assign(period=pd.to_datetime(rows["period"]).dt.date).assign(
                period=lambda r: r["period"].where(r.index > 0, pd.Timestamp("1850-01-01").date())
            ),
            "impossible period '1850-01-01'; the ingest would quarantine such a row",
        ),
    }
    errors = {}
    for name, (frame, message) in cases.items():
        write_lake(frame, tmp_path / name)
        with pytest.raises(InputError, match=message) as error:
            spark_engine.scan(None, default_detectors(), {}, input=tmp_path / name, spark=spark)
        errors[name] = str(error.value)
        assert errors[name].startswith(str(tmp_path / name)) and "\n" not in errors[name]
    assert "e.g. CHN PRK export HS TOTAL M 2019-01 (2 rows);" in errors["dup"]
    one_file = tmp_path / "one.parquet"
    rows.to_parquet(one_file, index=False)
    found = spark_engine.scan(None, default_detectors(), {}, input=one_file, spark=spark)
    assert_same_findings(local.scan(demo_store.con.cursor(), default_detectors(), {}), found)


def test_a_folders_value_is_a_code_as_written(demo_store, spark, tmp_path):
    """Spark guessed the type of a folder's value: commodity=0101/ read as the number 101,
    and findings came out for commodities 1 and 101."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from tradesentry.engines import spark as spark_engine

    rows = lake_rows(demo_store)
    rows = pd.concat([rows.assign(commodity="01"), rows.assign(commodity="0101")])
    lake = tmp_path / "by_commodity"
    pq.write_to_dataset(pa.Table.from_pandas(rows, preserve_index=False), lake, ["commodity"])
    found = spark_engine.scan(None, default_detectors(), {}, input=lake, spark=spark)
    assert set(found["commodity"]) == {"01", "0101"}


def test_files_of_other_columns_or_types_are_refused_in_one_line(demo_store, spark, tmp_path):
    """Files that disagree: the columns of whichever file Spark read first were taken for
    all (euros read as dollars where one file lacked the currency), a column of two types
    was a Java traceback and exit code 1, and a text release_id a worker's traceback."""
    from tradesentry.engines import spark as spark_engine

    rows = lake_rows(demo_store)
    half = len(rows) // 2
    cases = {
        "columns": (
            rows.head(half).drop(columns="currency"),
            rows.tail(len(rows) - half).assign(currency="EUR"),
            "currency is missing",
        ),
        "types": (
            rows.head(half),
            rows.tail(len(rows) - half).assign(period=lambda r: r["period"].astype(str)),
            "the files give the column period different types",
        ),
        "release": (
            rows.head(half).assign(release_id="2021-01"),
            rows.tail(len(rows) - half).assign(release_id="2021-06"),
            "the release_id column is string, not whole numbers",
        ),
    }
    for name, (first, second, message) in cases.items():
        lake = tmp_path / name
        lake.mkdir()
        first.to_parquet(lake / "a.parquet", index=False)
        second.to_parquet(lake / "b.parquet", index=False)
        with pytest.raises(InputError, match=message) as error:
            spark_engine.scan(None, default_detectors(), {}, input=lake, spark=spark)
        assert str(error.value).startswith(str(lake)) and "\n" not in str(error.value)


def test_a_lake_partitioned_by_release_is_read_with_its_releases(demo_store, spark, tmp_path):
    """Folders release_id=1/, release_id=2/: their values are text once no type is
    guessed, and whole numbers still (the lake was refused as "release_id is string")."""
    from tests.monitor.conftest import vintage
    from tradesentry.engines import spark as spark_engine

    demo_store.ingest(
        vintage(tmp_path / "rev.csv", until="2021-03", edits={("export", "2021-01"): 1})
    )
    lake = tmp_path / "by_release"
    demo_store.con.execute(
        "COPY (SELECT o.*, r.vintage FROM observations o JOIN release_order r USING (release_id)) "
        f"TO '{lake}' (FORMAT parquet, PARTITION_BY (release_id))"
    )
    found = spark_engine.scan(None, default_detectors(), {}, input=lake, spark=spark)
    assert_same_findings(local.scan(demo_store.con.cursor(), default_detectors(), {}), found)
    assert "revision" in set(found["kind"])


def test_an_exports_observations_folder_reads_its_rates_and_releases(demo_store, spark, tmp_path):
    """The folder `export --parquet` writes observations to, given itself, lost the rates
    and releases beside it without a word."""
    from tradesentry.engines import spark as spark_engine

    export_parquet(demo_store, tmp_path / "lake")
    observations = tmp_path / "lake" / "observations"
    assert spark_engine._beside(spark, str(observations))  # read as the export's
    found = spark_engine.scan(None, default_detectors(), {}, input=observations, spark=spark)
    assert_same_findings(local.scan(demo_store.con.cursor(), default_detectors(), {}), found)


# -- rows the ingest would quarantine: refused, in the ingest's words ---------------------
def month_rows(**overrides) -> pd.DataFrame:
    """A year of monthly text periods with every column the checks read, then ``overrides``
    as one more row."""
    series = {"reporter": "CHN", "partner": "PRK", "flow": "export", "commodity": "TOTAL"}
    good = {"freq": "M", "period_months": 1, "currency": "USD", "net_weight_kg": 10.0}
    rows = [{**series, **good, "period": f"2019-{m:02}", "value": 1e6 + m} for m in range(1, 13)]
    rows.append({**series, **good, "period": "2020-01", "value": 5e6, **overrides})
    return pd.DataFrame(rows)


def write_figures(rows: pd.DataFrame, path) -> None:
    """``rows`` as Parquet with figures written as numbers ("NaN" and "Infinity" as such,
    where pandas would write NaN as a missing value)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    figures = {c: rows[c].astype(float) for c in ("value", "net_weight_kg")}
    table = pa.Table.from_pandas(rows.assign(**figures), preserve_index=False)
    for name, numbers in figures.items():
        column = pa.array(numbers.to_numpy(), from_pandas=False)  # NaN kept, not made null
        table = table.set_column(table.schema.get_field_index(name), name, column)
    pq.write_table(table, path)


def test_a_breakdown_no_page_can_open_is_refused(spark, tmp_path):
    """A lake's breakdown (a column only Comtrade's readers fill, so no canonical file of
    the test above can hold one) with a tab in it, as the ingest quarantines it."""
    from tradesentry.engines import spark as spark_engine

    rows = month_rows(breakdown="mot=32\t00")
    rows["breakdown"] = rows["breakdown"].fillna("")
    write_figures(rows, tmp_path / "rows.parquet")
    with pytest.raises(InputError, match="breakdown 'mot=32\t00' holds a control character"):
        spark_engine.scan(
            None, default_detectors(), {}, input=tmp_path / "rows.parquet", spark=spark
        )


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"currency": ""}, "currency is missing"),
        ({"currency": "   "}, "currency is missing"),
        ({"currency": "US"}, "currency 'US' is not an ISO 4217 code (three letters)"),
        ({"period": "2020", "freq": "M"}, "period '2020' is a year but the frequency is M"),
        ({"freq": "A"}, "period '2020-01' is a month but the frequency is A"),
        ({"freq": "q"}, "unknown frequency 'Q'"),
        (
            {"period": "2020", "freq": "A", "period_months": 6},
            "period_months 6 with frequency A (a year is 12 months)",
        ),
        ({"reporter": ""}, "reporter is missing"),
        ({"reporter": "XXX"}, "unknown reporter country 'XXX'"),
        ({"partner": "  "}, "partner is missing"),
        ({"partner": "Atlantis"}, "unknown partner country 'Atlantis'"),
        ({"flow": ""}, "flow is missing"),
        ({"flow": " Transit"}, "unknown flow 'Transit'"),  # as written
        ({"commodity": " "}, "commodity is missing"),
        ({"commodity": ".."}, "commodity '..' is a mark for no code, not a code"),
        ({"commodity": "#N/A"}, "commodity '#N/A' is a spreadsheet's error, not a code"),
        ({"commodity": "=A1"}, "commodity '=A1' is a spreadsheet's formula, not a code"),
        (
            {"commodity": "8.4713E+09"},
            "commodity '8.4713E+09' is a number a spreadsheet wrote in scientific notation: "
            "the code's digits are lost (format the column as text)",
        ),
        (
            {"commodity": "8471\x0b"},
            "commodity '8471\x0b' holds a control character or a blank other than a space at "
            "its ends",
        ),
        (
            {"commodity": "1005", "classification": "H\u2028S"},
            "classification 'H\u2028S' holds a control character or a blank other than a space "
            "at its ends",
        ),
        ({"value": "NaN"}, "value 'NaN' is not a number"),
        ({"value": "Infinity"}, "value 'Infinity' is not finite"),
        ({"value": "-Infinity"}, "value '-Infinity' is not finite"),
        ({"value": -5.0}, "negative value '-5.0'"),
        ({"net_weight_kg": "NaN"}, "net_weight_kg 'NaN' is not a number"),
        ({"net_weight_kg": -1.5}, "negative net_weight_kg '-1.5'"),
        ({"reporter": "XXX", "flow": "transit"}, "unknown reporter country 'XXX'"),  # the first
        # an RMB figure was added to a dollar series; a mistyped year stretched one to 2120
        ({"currency": "RMB"}, "currency 'RMB' is not an ISO 4217 code (the ISO code is CNY)"),
        ({"currency": "XYZ"}, "currency 'XYZ' is not an ISO 4217 code"),
        ({"period": "2120-06"}, "period '2120-06' has not begun (today is {today})"),
        ({"period": "0001-01"}, "impossible period '0001-01'"),
        ({"period": "2021-13"}, "impossible period '2021-13'"),
        (
            {"period": "202107"},
            "period '202107' is not a month (YYYY-MM, or YYYY-MM-01) nor a year (YYYY)",
        ),
    ],
    ids=[
        "empty-currency",
        "blank-currency",
        "two-letter-currency",
        "year-freq-M",
        "month-freq-A",
        "unknown-freq",
        "period-months-6-freq-A",
        "empty-reporter",
        "unknown-reporter",
        "blank-partner",
        "unknown-partner",
        "empty-flow",
        "unknown-flow",
        "blank-commodity",
        "dots-commodity",
        "spreadsheet-error-commodity",
        "spreadsheet-formula-commodity",
        "scientific-notation-commodity",
        "control-character-commodity",
        "line-separator-classification",
        "nan-value",
        "inf-value",
        "minus-inf-value",
        "negative-value",
        "nan-weight",
        "negative-weight",
        "first-of-two-reasons",
        "rmb-currency",
        "unknown-currency",
        "future-month",
        "year-one",
        "month-13",
        "yyyymm",
    ],
)
def test_a_row_the_ingest_quarantines_is_refused_in_one_line(
    store, spark, tmp_path, overrides, reason
):
    """An empty currency was USD, a two-letter one passed, a frequency was never checked
    against the period, nor a country, flow, commodity or figure: the ingest quarantines such
    a row; Spark, which has no quarantine, refuses the input in one line naming the file and
    the ingest's reason (the first, in the ingest's order)."""
    from tradesentry.engines import spark as spark_engine

    rows = month_rows(**overrides)
    rows.to_csv(tmp_path / "rows.csv", index=False)
    first_day = today()
    store.ingest(tmp_path / "rows.csv")
    (quarantined,) = store.con.execute("SELECT reason FROM quarantine").fetchall()
    write_figures(rows, tmp_path / "rows.parquet")
    with pytest.raises(InputError) as error:
        spark_engine.scan(
            None, default_detectors(), {}, input=tmp_path / "rows.parquet", spark=spark
        )
    # "today" in a reason is the day the check ran, which a run crossing midnight moves
    reasons = {reason.format(today=day) for day in (first_day, today())}
    assert quarantined[0] in reasons  # the ingest's own words
    message = str(error.value)
    assert message in {
        f"{tmp_path / 'rows.parquet'}: {r}; the ingest would quarantine such a row" for r in reasons
    }
    assert "\n" not in message


def test_a_figure_too_small_to_hold_is_refused_as_the_ingest_quarantines_it(store, spark, tmp_path):
    """A value written 5e-400 reads as 0, a month without trade: the ingest quarantines it,
    Spark had scanned the zero."""
    from tradesentry.engines import spark as spark_engine

    rows = month_rows(value="5e-400").astype({"value": str})
    rows.to_csv(tmp_path / "rows.csv", index=False)
    store.ingest(tmp_path / "rows.csv")
    reason = "value '5e-400' is too small for a number to hold: it would read as 0"
    assert store.con.execute("SELECT reason FROM quarantine").fetchall() == [(reason,)]
    rows.to_parquet(tmp_path / "rows.parquet", index=False)  # the figures as text
    with pytest.raises(InputError, match=re.escape(f"{reason}; the ingest would quarantine")):
        spark_engine.scan(
            None, default_detectors(), {}, input=tmp_path / "rows.parquet", spark=spark
        )


def test_a_classification_is_upper_cased_as_on_ingest(store, spark, tmp_path):
    """A lake writing "h5" gave findings under h5, every id other than the store's H5."""
    from tradesentry.engines import spark as spark_engine

    rows = pd.read_csv(DEMO_CSV).drop(columns="source_url")
    rows = rows.assign(commodity="2701", classification=" h5")
    rows.to_csv(tmp_path / "rows.csv", index=False)
    store.ingest(tmp_path / "rows.csv")
    ours = local.scan(store.con.cursor(), default_detectors(), {})
    assert len(ours) > 0 and set(ours["classification"]) == {"H5"}
    write_lake(rows, tmp_path / "lake")
    found = spark_engine.scan(None, default_detectors(), {}, input=tmp_path / "lake", spark=spark)
    assert_same_findings(ours, found)


def test_a_country_name_is_refused_naming_the_code_the_ingest_would_store(store, spark, tmp_path):
    """The ingest stores "China" as CHN; Spark does not convert names: such a lake passed as
    a reporter "China" of its own, and is now refused in one line naming CHN."""
    from tradesentry.engines import spark as spark_engine

    rows = month_rows(reporter="China")
    rows.to_csv(tmp_path / "rows.csv", index=False)
    store.ingest(tmp_path / "rows.csv")
    assert store.con.execute("SELECT DISTINCT reporter FROM observations").fetchall() == [("CHN",)]
    rows.to_parquet(tmp_path / "rows.parquet", index=False)
    with pytest.raises(
        InputError,
        match=r"reporter 'China' is not a code as the store keeps "
        r"it \(the ingest would store CHN\)",
    ):
        spark_engine.scan(
            None, default_detectors(), {}, input=tmp_path / "rows.parquet", spark=spark
        )


def test_commodity_and_flow_normalised_as_on_ingest(store, spark, tmp_path):
    """ "all" under H5, " total", "Export": the ingest stores TOTAL under HS and export; Spark
    kept them as written, so the same table gave findings of other series (other ids)."""
    from tradesentry.engines import spark as spark_engine

    rows = pd.read_csv(DEMO_CSV).drop(columns="source_url")
    exports = rows["flow"] == "export"
    rows["commodity"] = np.where(exports, "all", " total")
    rows["classification"] = np.where(exports, "H5", "")
    rows["flow"] = np.where(exports, "Export", " IMPORT ")
    rows.to_csv(tmp_path / "rows.csv", index=False)
    store.ingest(tmp_path / "rows.csv")
    ours = local.scan(store.con.cursor(), default_detectors(), {})
    assert len(ours) > 0 and set(ours["commodity"]) == {"TOTAL"}
    write_lake(rows, tmp_path / "lake")
    found = spark_engine.scan(None, default_detectors(), {}, input=tmp_path / "lake", spark=spark)
    assert_same_findings(ours, found)


def test_a_withheld_value_is_scanned_as_the_store_keeps_it(demo_store, spark, tmp_path):
    """The store keeps a withheld figure (Comext's confidential) as a missing value, and its
    export writes it so: Spark scans it as the local engine does, it refuses no such row."""
    from tradesentry.engines import spark as spark_engine

    demo_store.con.execute("UPDATE observations SET value = NULL WHERE period = DATE '2020-03-01'")
    export_parquet(demo_store, tmp_path / "lake", all_releases=True)
    found = spark_engine.scan(None, default_detectors(), {}, input=tmp_path / "lake", spark=spark)
    assert_same_findings(local.scan(demo_store.con.cursor(), default_detectors(), {}), found)


def test_an_absent_currency_column_is_usd_as_on_ingest(demo_store, spark, tmp_path):
    """Only a currency column left out is USD (an empty one in a row is refused, above)."""
    from tradesentry.engines import spark as spark_engine

    write_lake(lake_rows(demo_store).drop(columns="currency"), tmp_path / "lake")
    found = spark_engine.scan(None, default_detectors(), {}, input=tmp_path / "lake", spark=spark)
    assert len(found) > 0 and set(found["currency"]) == {"USD"}
    assert_same_findings(local.scan(demo_store.con.cursor(), default_detectors(), {}), found)


def test_refused_before_spark_starts(store, tmp_path, monkeypatch):
    """No such input, a master Spark does not take, an empty store: no session, no trace."""
    from tradesentry.engines import spark as spark_engine

    monkeypatch.setattr(spark_engine, "session", no_session)
    with pytest.raises(InputError, match="nothing-here: no such file or directory"):
        spark_engine.scan(None, default_detectors(), {}, input=tmp_path / "nothing-here")
    with pytest.raises(InputError, match="--master 'bogus': Spark takes local"):
        spark_engine.scan(None, default_detectors(), {}, input=tmp_path, master="bogus")
    assert len(spark_engine.scan(store, default_detectors(), {})) == 0
    with pytest.raises(InputError, match="the store holds no figures"):
        api.scan(store, engine="spark")  # refused as a local scan is, before any session


def test_findings_parquet_holds_the_gaps_as_the_scan_returns_them(store, spark, tmp_path):
    """A gap's partner record is read from the store once the gaps are found: the file of
    a Spark scan of the store was written before, with the gap's pointer to `mirror`
    where the scan returned (and saved) the partner's figures."""
    months = [f"{2019 + m // 12}-{m % 12 + 1:02d}" for m in range(24)]
    lines = ["reporter,partner,flow,commodity,period,value"]
    lines += [f"CHN,KOR,export,TOTAL,{p},{100e6 + 1e6 * (i % 3)}" for i, p in enumerate(months)]
    lines += [
        f"KOR,CHN,import,TOTAL,{p},{105e6 + 1e6 * (i % 3)}"
        for i, p in enumerate(months)
        if p not in ("2019-05", "2019-06")
    ]
    source = tmp_path / "gap.csv"
    source.write_text("\n".join(lines) + "\n")
    store.ingest(source)
    out = tmp_path / "found"
    found = api.scan(
        store, engine="spark", kinds=["gap"], findings_out=str(out), spark=spark
    ).to_frame()
    (gap,) = found.to_dict("records")
    assert "partner_months" in gap["evidence"]
    (written,) = pd.read_parquet(out).to_dict("records")
    assert json.loads(written["evidence"]) == gap["evidence"]
    assert written["explanation"] == gap["explanation"]


def test_a_stop_is_read_from_the_store_by_either_engine(store, spark, tmp_path):
    """A series' months after its last report are in no panel: both engines' scans read
    them from the store once (``Gap.from_store``), and the Spark scan's file holds them."""
    from tests.detectors.test_gap import _stopping_csv

    store.ingest(_stopping_csv(tmp_path, stop_after=14))
    out = tmp_path / "found"
    local_found = api.scan(store, kinds="gap", save=False).to_frame()
    spark_found = api.scan(
        store, engine="spark", kinds="gap", findings_out=str(out), spark=spark
    ).to_frame()
    assert len(local_found) == 1 and local_found["evidence"].iat[0]["open_end"]
    assert_same_findings(local_found, spark_found)
    (written,) = pd.read_parquet(out).to_dict("records")
    assert written["id"] == local_found["id"].iat[0]


def test_a_flow_spelled_as_the_ingest_takes_it_is_that_flow(store, spark, tmp_path):
    """The ingest takes EXPORTS, X and M for export and import; Spark's input reads them so,
    rather than refusing a lake the ingest would store whole."""
    from tradesentry.engines import spark as spark_engine

    rows = month_rows().assign(flow=["X", "EXPORTS", " export "] * 4 + ["exports"])
    rows.to_csv(tmp_path / "rows.csv", index=False)
    assert store.ingest(tmp_path / "rows.csv").rows_quarantined == 0
    write_figures(rows, tmp_path / "rows.parquet")
    found = spark_engine.scan(
        None, default_detectors(), {}, input=tmp_path / "rows.parquet", spark=spark
    )
    assert len(found) and set(found["flow"]) == {"export"}  # January 2020's ×5, found


def test_findings_of_an_input_rank_at_its_own_rates(tmp_path):
    """The findings of an export scanned as --input were ranked by impact as given: ¥2.8T
    (about $25B at 110 yen) above $82B, where a scan of the store ranks the dollars first."""
    from tradesentry.findings import rank

    lake = tmp_path / "lake"
    (lake / "observations").mkdir(parents=True)
    rates = pd.DataFrame(
        {"currency": ["JPY"], "period": [pd.Timestamp("2021-01-01").date()], "per_usd": [110.0]}
    )
    rates.to_parquet(lake / "rates.parquet", index=False)
    found = pd.DataFrame(
        {
            "id": ["a", "b"],
            "severity": ["high", "high"],
            "impact": [2.8e12, 8.2e10],
            "currency": ["JPY", "USD"],
            "period": ["2021-01", "2021-01"],
        }
    )
    assert list(rank(found)["currency"]) == ["JPY", "USD"]  # as given
    for given in (lake, lake / "observations"):
        assert list(rank(found, api._input_rates(given))["currency"]) == ["USD", "JPY"]
    assert api._input_rates(tmp_path / "elsewhere") is None  # no rates: as given
    # a rates file's text periods (YYYY-MM) read as months, not a conversion error
    rates.assign(period="2021-01").to_parquet(lake / "rates.parquet", index=False)
    assert list(rank(found, api._input_rates(lake))["currency"]) == ["USD", "JPY"]
