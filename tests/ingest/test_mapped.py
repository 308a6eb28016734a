"""TOML-mapped tables: the three national tables with the shipped mappings, and the checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tradesentry.errors import InputError
from tradesentry.ingest.mapped import load_mapping

EXAMPLES = Path(__file__).parents[2] / "examples"
NATIONAL = "raw/national_bilateral_china_monthly"

# First month, 2001-01, in whole currency units (the files give thousand JPY, thousand USD,
# million USD).
FIRST_MONTH = {
    "japan": ("JPN", "JPY", 231_700_220_000.0, 586_529_635_000.0),
    "korea": ("KOR", "USD", 1_239_083_000.0, 999_763_000.0),
    "usa": ("USA", "USD", 1_187_500_000.0, 8_427_500_000.0),
}


@pytest.mark.parametrize("country", FIRST_MONTH)
def test_national_table_through_its_example_mapping(store, shared_data, country):
    table = shared_data / NATIONAL / f"{country}-china-trade-data.csv"
    result = store.ingest(table, mapping=EXAMPLES / f"{country}_china.toml")
    assert (result.source, result.rows_read, result.rows_accepted) == ("mapped", 228, 228)
    assert result.observations == 456  # 228 months x (exports, imports)
    obs = store.observations()
    reporter, currency, exports, imports = FIRST_MONTH[country]
    assert set(obs.reporter) == {reporter} and set(obs.partner) == {"CHN"}
    assert set(obs.currency) == {currency}
    first = obs[obs.period.astype(str).str.startswith("2001-01")].set_index("flow").value
    assert first["export"] == pytest.approx(exports, rel=1e-12)
    assert first["import"] == pytest.approx(imports, rel=1e-12)
    assert obs.period.min().strftime("%Y-%m") == "2001-01"
    assert obs.period.max().strftime("%Y-%m") == "2019-12"
    assert obs.provenance.isna().all()  # USA's Balance is ignored, Korea's Country mapped


def test_scaled_figures_are_the_figures_as_written(store, shared_data):
    """The US table in million USD: 8,383.3 million is 8,383,300,000 exactly, not the
    double product 8,383,299,999.999999 (13 such cells landed off by a millionth)."""
    table = shared_data / NATIONAL / "usa-china-trade-data.csv"
    store.ingest(table, mapping=EXAMPLES / "usa_china.toml")
    values = store.observations().value.to_numpy()
    assert (values == np.round(values)).all()  # every figure in whole dollars
    assert 8_383_300_000.0 in set(values)


@pytest.mark.parametrize(
    ("cell", "reason"),
    [("n/a", "Exports: value 'n/a' is not a number"), ("", "Exports: value is missing")],
)
def test_wide_line_counts_once_and_a_bad_cell_names_its_column(store, tmp_path, cell, reason):
    table = tmp_path / "jp.csv"
    table.write_text(
        f"Date;Exports;Imports\n2001/01;231700220;586529635\n2001/02;{cell};421893617\n"
    )
    result = store.ingest(table, mapping=EXAMPLES / "japan_china.toml")
    assert (result.rows_read, result.rows_accepted, result.rows_quarantined) == (2, 1, 1)
    assert result.observations == 3  # February's imports are good and kept
    (row,) = store.quarantine().itertuples()
    assert (row.line, row.reason) == (3, reason)
    assert row.raw == f"2001/02;{cell};421893617"


def test_unmapped_columns_are_kept_as_provenance(store, tmp_path):
    table = tmp_path / "t.csv"
    table.write_text(
        "Month;Exports;Imports;Balance;Source\nJanuary 2001;1,187.5;8,427.5;-7,240.0;c5700\n"
    )
    store.ingest(table, mapping=EXAMPLES / "usa_china.toml")
    assert set(store.observations().provenance) == {'{"Source":"c5700"}'}


def test_impossible_month_is_quarantined(store, tmp_path):
    table = tmp_path / "kr.csv"
    table.write_text(
        '"Country","Date",Exports,Imports\n"China","2001.13",1,2\n"China","2001.12",1,2\n'
    )
    result = store.ingest(table, mapping=EXAMPLES / "korea_china.toml")
    assert (result.rows_read, result.rows_quarantined) == (2, 1)
    assert set(store.quarantine().reason) == {
        "Exports: impossible period '2001.13'",
        "Imports: impossible period '2001.13'",
    }


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    return path


BASE = """
[period]
column = "Date"
[values]
currency = "USD"
[fixed]
reporter = "USA"
partner = "CHN"
flow = "export"
[columns]
value = "Value"
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[file\nseparator=';'", "not a valid TOML mapping"),
        ("[file]\nseperator = ';'\n" + BASE, "unknown key 'file.seperator'"),
        ("[files]\n" + BASE, "unknown section or key 'files'"),
        ("[file]\nskip_lines = 'two'\n" + BASE, "'file.skip_lines' has the wrong type"),
        ("[file]\nseparator = ';;'\n" + BASE, "'file.separator' must be one character"),
        ("[file]\nthousands = '.'\ndecimal = '.'\n" + BASE, "'file.thousands' cannot be the same"),
        (BASE.replace('currency = "USD"', 'currency = "USD"\nunit = "lakh"'), "'values.unit' must be one of"),
        (BASE.replace('currency = "USD"', 'currency = "dollars"'), "'values.currency' must be an ISO 4217"),
        (BASE.replace('flow = "export"', 'flow = "outbound"'), "'fixed.flow' must be one of"),
        # a typo in a fixed country quarantined every row, one by one (a QA read)
        (BASE.replace('reporter = "USA"', 'reporter = "Germny"'),
         "'fixed.reporter' 'Germny' is no country code or name tradesentry knows"),
        (BASE.replace('reporter = "USA"', 'reporter = "Korea"'),
         "'fixed.reporter' 'Korea' is ambiguous: North Korea (PRK) or South Korea (KOR)?"),
        (BASE.replace('partner = "CHN"\n', ""), "give partner exactly once"),
        (BASE.replace('column = "Date"', ""), "'period.column' is required"),
        (BASE.replace('flow = "export"', "") + '[wide]\nX = "export"\n',
         "'columns.value' or [wide] is required"),
        (BASE.replace('value = "Value"', "").replace('flow = "export"\n', "")
         + '[wide]\nX = "export"\nY = "export"\n', "'wide' maps two columns to the same flow"),
    ],
)  # fmt: skip
def test_bad_mapping_names_the_file_and_key(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(InputError) as err:
        load_mapping(path)
    assert str(err.value).startswith(f"{path}: ")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_column_missing_from_header_names_mapping_key_and_file(store, tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("Day,Value\n2001-01,5\n")
    with pytest.raises(
        InputError, match=r"t\.csv:1: column 'Date' named by bad\.toml \(period\.column\)"
    ):
        store.ingest(table, mapping=write(tmp_path, BASE))
    assert store.releases().empty


def test_a_column_to_ignore_missing_from_the_header_names_it(store, tmp_path):
    """``ignore = ["Saldo"]`` passed silently where the header had no Saldo (other keys
    naming a missing column stop the ingest): a mapping for another table, or a typo."""
    table = tmp_path / "t.csv"
    table.write_text("Date,Value\n2001-01,5\n")
    mapping = write(tmp_path, '[file]\nignore = ["Saldo"]\n' + BASE)
    with pytest.raises(
        InputError, match=r"t\.csv:1: column 'Saldo' that bad\.toml ignores \(file\.ignore\)"
    ):
        store.ingest(table, mapping=mapping)
    assert store.releases().empty


def test_examples_load(tmp_path):
    for path in sorted(EXAMPLES.glob("*_china.toml")):
        spec = load_mapping(path)
        assert spec.wide == {"Exports": "export", "Imports": "import"}
        assert spec.unit in (1e3, 1e6) and spec.freq == "M"
