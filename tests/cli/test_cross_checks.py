"""The cross-check commands through Typer's runner: releases --diff, series revisions,
mirror, gap and rates; effects checked through the API."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.conftest import DEMO_CSV
from tradesentry import api
from tradesentry.cli import app
from tradesentry.store import open_store

runner = CliRunner()
COMEXT = "raw/eurostat_comext_ds045409/CN_39206290.csv.gz"


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def revised_demo(tmp_path) -> Path:
    """The China–North Korea demo as a first release and a second one with two figures changed."""
    frame = pd.read_csv(DEMO_CSV, dtype=str)
    frame["value"] = frame["value"].astype(float)
    exports = (frame["flow"] == "export") & (frame["partner"] == "PRK")
    target = exports & frame["period"].isin(["2020-09", "2020-10"])
    frame.loc[target, "value"] *= 1.5
    second = tmp_path / "cn_kp_revised.csv"
    frame.to_csv(second, index=False)
    db = tmp_path / "s.duckdb"
    assert invoke("ingest", DEMO_CSV, "--published", "2021-04-20", "--store", db).exit_code == 0
    assert invoke("ingest", second, "--published", "2021-05-20", "--store", db).exit_code == 0
    return db


def test_releases_diff_summarises_what_changed(revised_demo):
    result = invoke("releases", "--diff", "1", "2", "--store", revised_demo)
    assert result.exit_code == 0, result.output
    assert "2 revised" in result.output and "2020-09" in result.output
    data = json.loads(
        invoke("releases", "--diff", "1", "2", "--format", "json", "--store", revised_demo).stdout
    )
    assert data["summary"]["revised"] == 2 and data["summary"]["appeared"] == 0
    assert data["b"]["published"] == "2021-05-20"
    assert {c["period"] for c in data["cells"]} == {"2020-09", "2020-10"}


def test_releases_diff_of_an_unknown_release_exits_2(revised_demo):
    result = invoke("releases", "--diff", "1", "9", "--store", revised_demo)
    assert result.exit_code == 2 and "no release 9" in result.stderr


def test_series_shows_its_revised_figures(revised_demo):
    result = invoke("series", "CHN", "PRK", "export", "TOTAL", "--store", revised_demo)
    assert result.exit_code == 0, result.output
    assert "2 revised figures" in result.output
    assert "+50.0%" in result.output and "2021-04-20" in result.output


def test_scan_finds_the_revisions(revised_demo):
    with open_store(revised_demo) as st:
        found = api.scan(st, kinds=["revision"], save=False).to_frame()
    assert list(zip(found["period"], found["period_end"], strict=True)) == [("2020-09", "2020-10")]


def _pair_store(tmp_path: Path) -> Path:
    months = pd.period_range("2022-01", "2023-12", freq="M").astype(str)
    values = [1e6 * (1 + 0.1 * (i % 5)) for i in range(len(months))]
    rows = [("USA", "DEU", "export", m, v, "USD") for m, v in zip(months, values, strict=True)]
    mirror = [
        v * 0.9 * 1.06 * (12 if m in ("2023-03", "2023-04") else 1)
        for m, v in zip(months, values, strict=True)
    ]
    rows += [("DEU", "USA", "import", m, v, "EUR") for m, v in zip(months, mirror, strict=True)]
    frame = pd.DataFrame(
        rows, columns=["reporter", "partner", "flow", "period", "value", "currency"]
    )
    frame.assign(commodity="TOTAL").to_csv(tmp_path / "pair.csv", index=False)
    pd.DataFrame({"currency": "EUR", "period": months, "per_usd": 0.9}).to_csv(
        tmp_path / "rates.csv", index=False
    )
    db = tmp_path / "pair.duckdb"
    assert invoke("ingest", tmp_path / "pair.csv", "--store", db).exit_code == 0
    return db


def test_mirror_and_gap_need_rates_then_show_both_sides(tmp_path):
    db = _pair_store(tmp_path)
    before = invoke("mirror", "USA", "DEU", "--store", db)
    assert before.exit_code == 0 and "tradesentry rates" in before.output
    loaded = invoke("rates", tmp_path / "rates.csv", "--store", db)
    assert loaded.exit_code == 0 and "24 monthly rates" in loaded.output
    shown = invoke("mirror", "USA", "DEU", "--commodity", "TOTAL", "--store", db)
    assert "USA exports vs DEU imports" in shown.output
    assert shown.output.count("outside band") == 2
    data = json.loads(invoke("gap", "USA", "DEU", "--format", "json", "--store", db).stdout)
    export = data["totals"]["export"]
    assert export["low"] <= export["central"] <= export["high"]
    # the partner recorded ×12 in two months: about 11 months' worth missing from USA's record
    assert export["central"] == pytest.approx(11 * (1.4e6 + 1.0e6), rel=0.01)
    assert "Mirror method" in data["method"]


def test_gap_with_a_month_range(tmp_path):
    db = _pair_store(tmp_path)
    invoke("rates", tmp_path / "rates.csv", "--store", db)
    result = invoke("gap", "USA", "DEU", "--from", "2022-01", "--to", "2022-12", "--store", db)
    assert result.exit_code == 0 and "Method:" in result.output
    data = json.loads(
        invoke(
            "gap",
            "USA",
            "DEU",
            "--from",
            "2022-01",
            "--to",
            "2022-12",
            "--format",
            "json",
            "--store",
            db,
        ).stdout
    )
    assert abs(data["totals"]["export"]["central"]) < 0.01 * data["totals"]["export"]["own"]
    bad = invoke("gap", "USA", "DEU", "--from", "2022", "--store", db)
    assert bad.exit_code == 2 and "YYYY-MM" in bad.stderr


def test_rates_ecb_layout_and_listing(tmp_path):
    ecb = tmp_path / "ecb.csv"
    ecb.write_text(
        "KEY,FREQ,CURRENCY,CURRENCY_DENOM,EXR_TYPE,EXR_SUFFIX,TIME_PERIOD,OBS_VALUE\n"
        "EXR.D.USD.EUR.SP00.A,D,USD,EUR,SP00,A,2024-01-02,1.0956\n"
        "EXR.D.USD.EUR.SP00.A,D,USD,EUR,SP00,A,2024-01-03,1.0919\n"
        "EXR.D.JPY.EUR.SP00.A,D,JPY,EUR,SP00,A,2024-01-02,155.52\n"
        "EXR.D.JPY.EUR.SP00.A,D,JPY,EUR,SP00,A,2024-01-03,155.89\n"
    )
    db = tmp_path / "s.duckdb"
    assert invoke("rates", ecb, "--store", db).exit_code == 0
    listed = json.loads(invoke("rates", "--format", "json", "--store", db).stdout)
    rate = {r["currency"]: r["per_usd"] for r in listed}
    usd_per_eur = (1.0956 + 1.0919) / 2
    assert rate["EUR"] == pytest.approx(1 / usd_per_eur)
    assert rate["JPY"] == pytest.approx((155.52 + 155.89) / 2 / usd_per_eur)
    assert listed[0]["period"] == "2024-01-01"


def test_a_bad_rates_file_is_rejected_whole(tmp_path):
    db = tmp_path / "s.duckdb"
    good = tmp_path / "good.csv"
    good.write_text("currency,period,per_usd\nEUR,2024-01,0.91\n")
    invoke("rates", good, "--store", db)
    bad = tmp_path / "bad.csv"
    bad.write_text("currency,period,per_usd\nEUR,2024-01,0.95\nJPY,2024-01,-3\n")
    result = invoke("rates", bad, "--store", db)
    assert result.exit_code == 2 and "line 3" in result.stderr
    with open_store(db) as st:
        assert api.rates(st)["per_usd"].tolist() == [0.91]  # nothing of the bad file landed


@pytest.fixture(scope="module")
def comext_store(tmp_path_factory, request):
    data = Path(request.config.rootpath).parent / "shared" / "data"
    db = tmp_path_factory.mktemp("comext") / "s.duckdb"
    with open_store(db) as st:
        st.ingest(data / COMEXT)
    return db


def test_mirror_and_gap_on_real_comext_pairs(comext_store):
    shown = invoke("mirror", "DEU", "FRA", "--commodity", "39206290", "--store", comext_store)
    assert shown.exit_code == 0, shown.output
    assert "DEU exports vs FRA imports" in shown.output and "intra-EU" in shown.output
    data = json.loads(
        invoke("mirror", "DEU", "FRA", "--format", "json", "--store", comext_store).stdout
    )
    months = pd.DataFrame(data["months"])
    assert set(months["flow"]) == {"export", "import"} and len(months) >= 60
    both = months.dropna(subset=["own", "mirror"])
    assert (both["intra_eu"]).all() and (both["reference_pair_months"] > 1000).all()
    gap = json.loads(
        invoke(
            "gap",
            "DEU",
            "FRA",
            "--from",
            "2024-01",
            "--to",
            "2024-12",
            "--format",
            "json",
            "--store",
            comext_store,
        ).stdout
    )
    for flow in ("export", "import"):
        t = gap["totals"][flow]
        assert t["low"] <= t["central"] <= t["high"] and t["months"] == 12
