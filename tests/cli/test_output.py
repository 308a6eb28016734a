"""What the CLI prints: data (keys, file names, raw lines) as text, never as Rich markup;
counts in words that agree with them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.conftest import DEMO_CSV
from tradesentry import cli
from tradesentry.findings import Findings, empty_findings

runner = CliRunner()


def invoke(*args):
    return runner.invoke(cli.app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def wide(monkeypatch):
    """A terminal wide enough that no table folds a cell: the text is searched whole."""
    monkeypatch.setattr(cli.out, "width", 300)


def _store_with_commodity(tmp_path, commodity: str):
    """The demo release with its commodity renamed: a series whose key reads as markup."""
    text = DEMO_CSV.read_text(encoding="utf-8").replace(",TOTAL,", f",{commodity},")
    source = tmp_path / "markup.csv"
    source.write_text(text, encoding="utf-8")
    db = tmp_path / "s.duckdb"
    assert invoke("ingest", source, "--store", db).exit_code == 0
    return db


# `series` upper-cases its arguments, so these keys are their own upper case (Rich reads
# a tag starting with a slash or a hash whatever its case).
@pytest.mark.parametrize("commodity", ["[/]Z", "[/BOLD]", "[#FF0000]RED", ":X:"])
def test_series_prints_a_key_that_looks_like_markup_as_text(tmp_path, wide, commodity):
    db = _store_with_commodity(tmp_path, commodity)
    invoke("scan", "--store", db)  # the series shows the findings of the latest scan
    result = invoke("series", "CHN", "PRK", "export", commodity, "--store", db)
    assert result.exit_code == 0, result.output
    assert f"CHN → PRK export {commodity} (USD)" in result.stdout
    assert f"CHN→PRK export {commodity}" in result.stdout  # the findings' headings


# Commodity codes are stored upper-case, and Rich reads a tag starting with a slash or a
# hash whatever its case.
@pytest.mark.parametrize("commodity", ["[/]", "[/BOLD]", "[#FF0000]RED[/]"])
def test_scan_table_prints_a_key_that_looks_like_markup_as_text(tmp_path, wide, commodity):
    db = _store_with_commodity(tmp_path, commodity)
    result = invoke("scan", "--store", db)
    assert result.exit_code == 0, result.output
    assert f"CHN→PRK export {commodity}" in result.stdout


def test_releases_and_quarantine_print_file_names_and_raw_lines_as_text(tmp_path, wide):
    source = tmp_path / "[bold]bad[link=x].csv"
    source.write_text(
        "reporter,partner,flow,commodity,period,value,currency\n"
        "CHN,PRK,export,TOTAL,2021-01,100,USD\n"
        "CHN,PRK,export,[/],2021-13,100,USD\n",
        encoding="utf-8",
    )
    db = tmp_path / "s.duckdb"
    ingested = invoke("ingest", source, "--store", db)
    assert ingested.exit_code == 0
    assert "[bold]bad[link=x].csv: release 1" in ingested.stdout
    releases = invoke("releases", "--store", db)
    assert releases.exit_code == 0 and "[bold]bad[link=x].csv" in releases.stdout
    quarantine = invoke("quarantine", "--store", db)
    assert quarantine.exit_code == 0
    assert "CHN,PRK,export,[/],2021-13,100,USD" in quarantine.stdout
    # nothing quarantined is said, not an empty table's header
    clean = tmp_path / "clean.csv"
    clean.write_text(
        source.read_text(encoding="utf-8").splitlines()[0]
        + "\nCHN,PRK,export,TOTAL,2021-02,1,USD\n"
    )
    assert invoke("ingest", clean, "--store", db).exit_code == 0
    none = invoke("quarantine", "--release", "2", "--store", db)
    assert none.stdout.strip() == "Nothing quarantined of release 2: every row read landed."


def test_rates_prints_its_file_name_as_text_and_counts_in_words(tmp_path, wide):
    rates = tmp_path / "[bold]rates.csv"
    rates.write_text("currency,period,per_usd\nJPY,2021-01,103.8\n", encoding="utf-8")
    db = tmp_path / "s.duckdb"
    first = invoke("rates", rates, "--store", db)
    assert first.exit_code == 0, first.output
    assert "[bold]rates.csv: 1 monthly rate (JPY" in first.stdout
    assert "replaced 1 rate already" in invoke("rates", rates, "--store", db).stdout


def _one_finding() -> Findings:
    frame = empty_findings().reindex(range(1))
    frame.loc[0, ["reporter", "partner", "flow", "commodity"]] = ["CHN", "PRK", "export", "TOTAL"]
    frame.loc[0, ["kind", "severity", "period", "period_end", "currency"]] = [
        "spike",
        "high",
        "2021-02",
        "2021-02",
        "USD",
    ]
    frame.loc[0, ["impact", "explanation"]] = [3000.0, "February is far above the rest."]
    return Findings(frame, scan_id=4)


def test_one_finding_is_counted_as_one_finding(capsys, wide):
    cli._findings_table(_one_finding(), limit=30)
    printed = capsys.readouterr().out
    assert "1 finding (scan 4), worst first" in printed and "findings" not in printed


def test_findings_of_one_commodity_under_two_classifications_say_which(tmp_path, wide):
    """The demo's series held under HS and again under H5 is two series: the JSON names each
    finding's classification (and breakdown), and the table, where the same keys name two
    series, says which."""
    import json

    text = DEMO_CSV.read_text(encoding="utf-8").replace(",TOTAL,", ",2710,")  # not a total:
    header, *rows = text.splitlines()  # a total of all goods is the same under any edition
    source = tmp_path / "two_editions.csv"
    source.write_text(
        "\n".join([header, *rows, *(r.replace(",HS,", ",H5,") for r in rows)]) + "\n",
        encoding="utf-8",
    )
    db = tmp_path / "s.duckdb"
    assert invoke("ingest", source, "--store", db).exit_code == 0
    found = json.loads(invoke("scan", "--format", "json", "--store", db).stdout)
    editions = {(f["period"], f["kind"]): set() for f in found}
    for f in found:
        assert f["breakdown"] == ""
        editions[(f["period"], f["kind"])].add(f["classification"])
    assert editions and all(e == {"HS", "H5"} for e in editions.values())
    table = invoke("scan", "--store", db).stdout
    assert "CHN→PRK export 2710 (HS)" in table and "CHN→PRK export 2710 (H5)" in table


def test_the_scan_table_names_a_part_of_a_flow(capsys):
    """A finding on a flow's part (UN Comtrade's by mode of transport) is never headed as
    the whole flow, even where no finding of the whole flow is shown beside it."""
    import pandas as pd

    from tradesentry import cli
    from tradesentry.findings import Findings, empty_findings

    row = {c: None for c in empty_findings().columns}
    row |= {"id": "f1", "kind": "spike", "reporter": "CHN", "partner": "PRK", "flow": "export"}
    row |= {"commodity": "TOTAL", "classification": "H5", "freq": "M", "currency": "USD"}
    row |= {"breakdown": "partner2=0;customs=C00;mot=3200", "period": "2021-03"}
    row |= {"period_end": "2021-03", "impact": 6.5e6, "score": 0.9, "severity": "high"}
    row |= {"explanation": "March 2021 by road.", "evidence": {}}
    cli._findings_table(Findings(pd.DataFrame([row]), None), 20, None)
    shown = " ".join(capsys.readouterr().out.split())
    assert "CHN→PRK export TOTAL (mode of transport 3200)" in shown


def test_the_series_heading_names_a_part_of_a_flow(tmp_path, wide):
    """`series --breakdown` of UN Comtrade's rows by sea was headed as the whole flow."""
    from pathlib import Path

    db = tmp_path / "s.duckdb"
    source = Path(__file__).parents[1] / "data" / "comtrade_plus.csv"
    assert invoke("ingest", source, "--store", db).exit_code == 0
    part = "partner2=0;customs=C00;mot=3200"
    shown = invoke("series", "CHN", "PRK", "export", "TOTAL", "--breakdown", part, "--store", db)
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.splitlines()[0] == "CHN → PRK export TOTAL (mode of transport 3200) (USD)"
    whole = invoke("series", "CHN", "PRK", "export", "TOTAL", "--store", db)
    assert whole.stdout.splitlines()[0] == "CHN → PRK export TOTAL (USD)"


def test_scan_says_when_amounts_of_several_currencies_are_ranked_as_they_are(tmp_path):
    """The demo release and a copy of it in yen: without the yen's rate the ranking
    compares ¥ and $ amounts as numbers, and stderr says so; with rates it does not."""
    lines = DEMO_CSV.read_text(encoding="utf-8").splitlines()
    yen = [line.replace("CHN,PRK,", "JPN,PRK,").replace(",USD,", ",JPY,") for line in lines[1:]]
    source = tmp_path / "two-currencies.csv"
    source.write_text("\n".join([*lines, *yen]) + "\n", encoding="utf-8")
    db = tmp_path / "s.duckdb"
    assert invoke("ingest", source, "--store", db).exit_code == 0
    unrated = invoke("scan", "--store", db, "--format", "json")
    assert unrated.exit_code == 0
    assert "note: Amounts in JPY are ranked beside the others as they are" in unrated.stderr
    rates = tmp_path / "rates.csv"
    months = [f"{y}-{m:02d}" for y in (2019, 2020, 2021) for m in range(1, 13)]
    rates.write_text("currency,period,per_usd\n" + "".join(f"JPY,{p},110\n" for p in months))
    assert invoke("rates", rates, "--store", db).exit_code == 0
    rated = invoke("scan", "--store", db, "--format", "json")
    assert rated.exit_code == 0 and "note:" not in rated.stderr


def test_a_store_of_one_currency_without_a_rate_says_severity_weighs_it_as_it_stands(tmp_path):
    """A store of Guinean francs alone had "high" findings worth about a dollar (12 GNF
    where 9,200 were expected), with no word that the money bar was read in francs."""
    lines = DEMO_CSV.read_text(encoding="utf-8").splitlines()
    francs = tmp_path / "francs.csv"
    francs.write_text(
        "\n".join(line.replace(",USD,", ",GNF,") for line in lines) + "\n", encoding="utf-8"
    )
    db = tmp_path / "s.duckdb"
    assert invoke("ingest", francs, "--store", db).exit_code == 0
    scanned = invoke("scan", "--store", db, "--format", "json")
    assert scanned.exit_code == 0
    assert (
        "note: Severity weighs money in GNF as it stands, against a bar of 2,000 units meant "
        "as dollars: the store has no exchange rate for it"
    ) in " ".join(scanned.stderr.split())
    assert "ranked beside the others" not in scanned.stderr  # one currency ranks right


@pytest.mark.parametrize(
    ("rows", "drawn"),
    [
        ([("2021-01-01", 2, 10.0), ("2021-03-01", 1, 7.0)], [5.0, 5.0, 7.0]),
        (  # the months published beside the pair are drawn, not its average
            [("2021-01-01", 2, 10.0), ("2021-01-01", 1, 3.0), ("2021-02-01", 1, 4.0),
             ("2021-04-01", 1, 8.0)],
            [3.0, 4.0, np.nan, 8.0],
        ),
    ],
    ids=["pair alone", "pair and its months"],
)  # fmt: skip
def test_the_sparkline_draws_a_combined_figures_months_at_its_average(rows, drawn):
    """China's January–February, one figure: its months are drawn at its monthly average,
    not as two months without a figure (the report draws them too)."""
    from tradesentry.cli import _sparkline_values

    obs = pd.DataFrame(rows, columns=["period", "period_months", "value"]).assign(freq="M")
    np.testing.assert_array_equal(_sparkline_values(obs), drawn)
