"""Provenance keeps every extra column as written, and a figure written -0 is zero."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tests.ingest.kit import FORMATS, record
from tradesentry.errors import InputError

EXAMPLES = Path(__file__).parents[2] / "examples"
CANONICAL = "reporter,partner,flow,commodity,period,value"


def _provenance(store) -> list[dict]:
    return [json.loads(p) for p in store.observations().sort_values("line").provenance]


# -- provenance ------------------------------------------------------------------------------


def test_canonical_provenance_keeps_names_as_written_and_every_value(store, tmp_path):
    """`note,,"x""y",Note2` stored {"note":"a","x\"y":"d","note2":"e"}: the value under the
    empty name was dropped and Note2 lower-cased."""
    path = tmp_path / "release.csv"
    path.write_text(f'{CANONICAL},note,,"x""y",Note2\nCHN,PRK,export,TOTAL,2021-01,5,a,c,d,e\n')
    store.ingest(path)
    assert _provenance(store) == [{"note": "a", "column_8": "c", 'x"y': "d", "Note2": "e"}]
    assert list(json.loads(store.observations().provenance.iloc[0])) == [
        "note", "column_8", 'x"y', "Note2"
    ]  # fmt: skip


def test_canonical_columns_still_match_in_any_case(store, tmp_path):
    path = tmp_path / "release.csv"
    path.write_text("Reporter,PARTNER,Flow,Commodity,Period,Value,Source_URL\n"
                    "CHN,PRK,export,TOTAL,2021-01,5,https://x/A\n")  # fmt: skip
    store.ingest(path)
    obs = store.observations().iloc[0]
    assert (obs.reporter, obs.partner, obs.value) == ("CHN", "PRK", 5.0)
    assert _provenance(store) == [{"Source_URL": "https://x/A"}]


def test_extra_columns_differing_in_case_are_two_columns(store, tmp_path):
    """`Note` and `note` were one column twice and refused the file; kept as written they
    are two. Two canonical names in any case stay one column twice."""
    path = tmp_path / "release.csv"
    path.write_text(f"{CANONICAL},Note,note\nCHN,PRK,export,TOTAL,2021-01,5,a,b\n")
    store.ingest(path)
    assert _provenance(store) == [{"Note": "a", "note": "b"}]
    twice = tmp_path / "twice.csv"
    twice.write_text(f"{CANONICAL},VALUE\nCHN,PRK,export,TOTAL,2021-02,5,6\n")
    with pytest.raises(InputError, match="column 'VALUE' is in the header twice"):
        store.ingest(twice)


def test_empty_names_each_get_their_position_and_never_a_name_taken(store, tmp_path):
    path = tmp_path / "release.csv"
    path.write_text(f"{CANONICAL},,column_7,\nCHN,PRK,export,TOTAL,2021-01,5,a,b,\n")
    store.ingest(path)
    assert _provenance(store) == [{"column_7_": "a", "column_7": "b", "column_9": None}]


def test_mapped_provenance_keeps_a_column_without_a_name(store, tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("Month;Exports;Imports;Balance;;Source\n"
                     "January 2001;1,187.5;8,427.5;-7,240.0;x;c5700\n")  # fmt: skip
    store.ingest(table, mapping=EXAMPLES / "usa_china.toml")
    assert set(store.observations().provenance) == {'{"column_5":"x","Source":"c5700"}'}


def test_a_mapping_may_ignore_a_column_without_a_name_by_its_position(store, tmp_path):
    mapping = tmp_path / "m.toml"
    text = (EXAMPLES / "usa_china.toml").read_text()
    mapping.write_text(text.replace('ignore = ["Balance"]', 'ignore = ["Balance", "column_5"]'))
    assert mapping.read_text() != text
    table = tmp_path / "t.csv"
    table.write_text("Month;Exports;Imports;Balance;;Source\n"
                     "January 2001;1,187.5;8,427.5;-7,240.0;x;c5700\n")  # fmt: skip
    store.ingest(table, mapping=mapping)
    assert set(store.observations().provenance) == {'{"Source":"c5700"}'}


# -- -0 --------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS.values(), ids=FORMATS)
def test_a_figure_written_minus_zero_lands_as_zero(store, tmp_path, fmt):
    minus_zero = "-0,0" if fmt.name == "mapped" else "-0.0"  # its decimal mark is a comma
    rec = record(value="-0") | {"net_weight_kg": "-0", "cif_value": minus_zero}
    if fmt.name == "sdmx":
        rec = record(value="-0") | {"net_weight_kg": "-0"}  # SDMX has no CIF line here
    path = fmt.file(tmp_path, [rec])
    result = store.ingest(path, **fmt.ingest_args(tmp_path))
    assert result.rows_quarantined == 0
    obs = store.observations().iloc[0]
    figures = [obs.value, obs.net_weight_kg] + ([obs.cif_value] if fmt.name != "sdmx" else [])
    assert figures == [0.0] * len(figures)
    assert [math.copysign(1.0, f) for f in figures] == [1.0] * len(figures)


def test_a_json_minus_zero_lands_as_zero(store, tmp_path):
    text = FORMATS["comtrade-json"].write([record()]).decode()
    path = tmp_path / "answer.json"
    path.write_text(text.replace('"primaryValue": 3000', '"primaryValue": -0.0'))
    store.ingest(path)
    (value,) = store.observations().value
    assert (value, math.copysign(1.0, value)) == (0.0, 1.0)


@pytest.mark.parametrize("thousands", ["", ","], ids=["plain", "thousands"])
def test_a_mapped_minus_zero_with_number_marks_is_zero(store, tmp_path, thousands):
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        f'[file]\nthousands = "{thousands}"\n[period]\ncolumn = "Date"\n'
        '[values]\nunit = "thousand"\ncurrency = "USD"\n'
        '[fixed]\nreporter = "CHN"\npartner = "PRK"\nflow = "export"\n'
        '[columns]\nvalue = "Value"\n'
    )
    table = tmp_path / "t.csv"
    table.write_text('Date,Value\n2021-01,-0\n2021-02,"-0,000.0"\n' if thousands else
                     "Date,Value\n2021-01,-0\n2021-02,-0.000\n")  # fmt: skip
    result = store.ingest(table, mapping=mapping)
    assert (result.rows_accepted, result.rows_quarantined) == (2, 0)
    values = list(store.observations().value)
    assert [math.copysign(1.0, v) for v in values] == [1.0, 1.0] and values == [0.0, 0.0]
