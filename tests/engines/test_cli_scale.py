"""generate, export and the Spark options of scan, through Typer's runner."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from tests.conftest import DEMO_CSV
from tradesentry.cli import app
from tradesentry.store import open_store

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_generate_csv_then_ingest(tmp_path):
    result = invoke("generate", "--rows", 2_000, "--out", tmp_path / "g", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert "2,000 rows" in result.output
    manifest = json.loads((tmp_path / "g" / "manifest.json").read_text())
    assert manifest["rows"] == 2_000 and manifest["format"] == "csv"
    db = tmp_path / "s.duckdb"
    assert invoke("ingest", tmp_path / "g" / "observations.csv", "--store", db).exit_code == 0
    with open_store(db) as st:
        assert st.releases()["rows_quarantined"].tolist() == [0]


def test_generate_refuses_a_used_directory(tmp_path):
    invoke("generate", "--rows", 100, "--out", tmp_path / "g")
    again = invoke("generate", "--rows", 100, "--out", tmp_path / "g")
    assert again.exit_code == 2 and "not empty" in again.stderr


def test_export_parquet(tmp_path):
    db = tmp_path / "s.duckdb"
    invoke("ingest", DEMO_CSV, "--store", db)
    result = invoke("export", "--parquet", tmp_path / "lake", "--all-releases", "--store", db)
    assert result.exit_code == 0, result.output
    rows = pd.read_parquet(tmp_path / "lake" / "observations")
    assert len(rows) == 47 and {"release_id", "vintage"} <= set(rows.columns)


def test_spark_options_need_the_spark_engine(tmp_path):
    db = tmp_path / "s.duckdb"
    invoke("ingest", DEMO_CSV, "--store", db)
    result = invoke("scan", "--master", "local[2]", "--store", db)
    assert result.exit_code == 2 and "--engine spark" in result.stderr
