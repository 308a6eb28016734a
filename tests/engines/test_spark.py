"""The Spark engine gives the local engine's findings: demo data, a Comext file, generated data."""

from __future__ import annotations

import builtins
import json

import numpy as np
import pandas as pd
import pytest

from tests.conftest import DEMO_CSV
from tests.engines.conftest import assert_same_findings
from tradesentry import api, context
from tradesentry.detectors import default_detectors
from tradesentry.engines import local
from tradesentry.errors import EngineUnavailable
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
    assert_same_findings(*both_engines(store, spark, reporter=reporter))


def test_current_view_of_several_releases(demo_store, spark, tmp_path):
    """A later release revising figures: both engines scan the latest figure of each cell."""
    revised = pd.read_csv(DEMO_CSV).head(20)
    revised["value"] = revised["value"] * 1.5
    revised.to_csv(tmp_path / "revised.csv", index=False)
    demo_store.ingest(tmp_path / "revised.csv", published="2030-01-01")
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
