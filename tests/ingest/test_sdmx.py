"""SDMX-CSV: real Eurostat Comext extracts, confidential blanks, and the IMF/OECD style."""

from __future__ import annotations

import csv
import gzip
import io

import pandas as pd
import pytest

from tests.ingest.kit import FORMATS, record

COMEXT = "raw/eurostat_comext_ds045409"
BILATERAL = "CN_39206290.csv.gz"  # all 29 partners: intra-EU mirror pairs
SMALL = "CN_39100000.csv.gz"  # partner WORLD only


def comext_rows(shared_data, name: str) -> list[list[str]]:
    with gzip.open(shared_data / COMEXT / name, "rt", newline="") as f:
        return list(csv.reader(f))


def write_gz(path, rows: list[list[str]]) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_bytes(gzip.compress(out.getvalue().encode()))


def one(df, **where):
    for column, value in where.items():
        df = df[df[column].astype(str) == value]
    assert len(df) == 1, df
    return df.iloc[0]


def test_real_comext_file_reconciles_and_joins_value_with_weight(store, shared_data):
    lines = len(comext_rows(shared_data, BILATERAL)) - 1
    result = store.ingest(shared_data / COMEXT / BILATERAL)
    assert result.source == "sdmx"
    assert result.rows_read == lines == 46524
    assert (result.rows_accepted, result.rows_quarantined) == (lines, 0)
    assert result.observations == lines // 2  # one value and one weight line each
    obs = store.observations()
    assert set(obs.currency) == {"EUR"} and set(obs.classification) == {"CN8"}
    assert {"GRC", "WLD", "CHN"} <= set(obs.partner) and "GRC" in set(obs.reporter)
    # AT imports from BE, January 2023: VALUE_IN_EUROS and QUANTITY_IN_100KG 68.97.
    at_be = one(obs, reporter="AUT", partner="BEL", flow="import", period="2023-01-01")
    assert at_be.net_weight_kg == pytest.approx(6897.0)
    assert at_be.value > 0


def test_real_comext_mirror_pairs_are_both_there(store, shared_data):
    store.ingest(shared_data / COMEXT / BILATERAL)
    obs = store.observations()
    # Belgium's exports to Austria and Austria's imports from Belgium, January 2023.
    exported = one(obs, reporter="BEL", partner="AUT", flow="export", period="2023-01-01")
    imported = one(obs, reporter="AUT", partner="BEL", flow="import", period="2023-01-01")
    assert (exported.value, imported.value) == (19995.0, 22699.0)
    mirrored = store.con.execute(
        """SELECT count(*) FROM observations x JOIN observations m
           ON x.reporter = m.partner AND x.partner = m.reporter AND x.period = m.period
          AND x.commodity = m.commodity AND x.flow = 'export' AND m.flow = 'import'
           WHERE x.partner NOT IN ('WLD', 'CHN')"""
    ).fetchone()[0]
    assert mirrored > 1000


def test_confidential_blanks_are_kept_as_not_available(store, shared_data, tmp_path):
    """Comext publishes a confidential figure as an empty OBS_VALUE: NULL, flagged, kept."""
    header, *rows = comext_rows(shared_data, SMALL)
    value_lines = [i for i, r in enumerate(rows) if r[7] == "VALUE_IN_EUROS"][:5]
    weight_lines = [i for i, r in enumerate(rows) if r[7] == "QUANTITY_IN_100KG"][-3:]
    for i in value_lines + weight_lines:
        rows[i][9] = ""
    path = tmp_path / "confidential.csv.gz"
    write_gz(path, [header, *rows])
    result = store.ingest(path)
    assert (result.rows_read, result.rows_quarantined) == (len(rows), 0)
    assert result.observations == len(rows) // 2  # nothing lost
    obs = store.observations()
    secret = obs[obs.value.isna()]
    assert len(secret) == 5 and set(secret["flags"]) == {"confidential"}
    assert (obs.value == 0).sum() == 0  # not zero either
    no_weight = obs[obs.net_weight_kg.isna()]
    assert len(no_weight) == 3 and set(no_weight["flags"]) == {"weight confidential"}


@pytest.mark.parametrize(
    ("mark", "status", "flag"),
    [
        ("", None, "confidential"),  # Comext's confidential figure: an empty OBS_VALUE
        ("NA", None, "not available"),  # marks of a figure not available
        (":", None, "not available"),
        ("NaN", None, "not available"),
        ("NA", "c", "confidential"),  # unless the status says confidential
    ],
)
def test_a_mark_for_not_available_is_not_confidential(
    store, shared_data, tmp_path, mark, status, flag
):
    """An OBS_VALUE of "NA" (not available) was flagged confidential, as Comext's empty
    one is: withheld by the source and missing for want of a figure are not the same."""
    header, *rows = comext_rows(shared_data, SMALL)
    if status is not None:
        header = [*header, "OBS_FLAG"]
        rows = [[*r, ""] for r in rows]
    line = next(i for i, r in enumerate(rows) if r[7] == "VALUE_IN_EUROS")
    rows[line][9] = mark
    if status is not None:
        rows[line][10] = status
    path = tmp_path / "marked.csv.gz"
    write_gz(path, [header, *rows])
    assert store.ingest(path).rows_quarantined == 0
    (withheld,) = store.observations().query("value.isna()")["flags"]
    assert withheld.split(",")[0] == flag


@pytest.mark.parametrize(
    ("mark", "flag"),
    [
        ("", "weight confidential"),  # Comext's confidential figure: an empty OBS_VALUE
        ("NA", "weight not available"),  # marks of a figure not available, as for values
        (":", "weight not available"),
        ("NaN", "weight not available"),
        ("nan", "weight not available"),
    ],
)
def test_a_weight_marked_not_available_lands_without_its_weight(
    store, shared_data, tmp_path, mark, flag
):
    """A weight line's "NaN" was quarantined as "not finite" (its value line kept alone)
    while ":" and "NA", marks of the same thing, passed: each is a weight not given, and
    flagged as a value's mark is (it was "weight confidential" for every mark)."""
    header, *rows = comext_rows(shared_data, SMALL)
    line = next(i for i, r in enumerate(rows) if r[7] == "QUANTITY_IN_100KG")
    rows[line][9] = mark
    path = tmp_path / "marked.csv.gz"
    write_gz(path, [header, *rows])
    result = store.ingest(path)
    assert result.rows_quarantined == 0 and result.observations == len(rows) // 2
    (flags,) = store.observations().query("net_weight_kg.isna()")["flags"]
    assert flags == flag


def test_weight_without_value_line_is_still_an_observation(store, shared_data, tmp_path):
    header, *rows = comext_rows(shared_data, SMALL)
    dropped = [i for i, r in enumerate(rows) if r[7] == "VALUE_IN_EUROS"][:4]
    kept = [r for i, r in enumerate(rows) if i not in dropped]
    path = tmp_path / "no_value.csv.gz"
    write_gz(path, [header, *kept])
    result = store.ingest(path)
    assert (result.rows_read, result.rows_accepted) == (len(kept), len(kept))
    assert result.observations == len(rows) // 2
    orphans = store.observations().query("value.isna()")
    assert len(orphans) == 4 and orphans.net_weight_kg.notna().all()
    assert set(orphans["flags"]) == {"value not reported"}


SDMX_HEADER = (
    "DATAFLOW,LAST UPDATE,freq,reporter,partner,product,flow,indicators,TIME_PERIOD,OBS_VALUE\n"
)
DF = "ESTAT:DS-045409(1.0),13/02/26 11:00:00,M"


def test_eurostat_country_codes_and_quarantined_value_takes_its_weight_along(store, tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text(
        SDMX_HEADER
        + f"{DF},EL,UK,27011210,1,VALUE_IN_EUROS,2024-01,1000\n"
        + f"{DF},EL,UK,27011210,1,QUANTITY_IN_100KG,2024-01,5\n"
        + f"{DF},GR,EL,27011210,2,VALUE_IN_EUROS,2024-01,lots\n"
        + f"{DF},GR,EL,27011210,2,QUANTITY_IN_100KG,2024-01,5\n"
        + f"{DF},GR,WORLD,27011210,2,QUANTITY_IN_100KG,2024-01,-5\n"
        + f"{DF},GR,WORLD,27011210,2,VALUE_IN_EUROS,2024-01,900\n"
        + f"{DF},GR,WORLD,27011210,2,VALUE_IN_EUROS,2024-01,901\n"
    )
    result = store.ingest(path)
    assert (result.rows_read, result.rows_accepted, result.rows_quarantined) == (7, 3, 4)
    obs = store.observations()
    greek = one(obs, reporter="GRC", partner="GBR")
    assert (greek.value, greek.net_weight_kg, greek.flow) == (1000.0, 500.0, "import")
    world = one(obs, partner="WLD")
    assert world.value == 900.0 and pd.isna(world.net_weight_kg)  # its weight was negative
    reasons = dict(zip(store.quarantine().line, store.quarantine().reason, strict=True))
    assert reasons == {
        4: "value 'lots' is not a number",
        5: "completes line 4, which is quarantined",
        6: "negative QUANTITY_IN_100KG '-5'",
        8: "same observation as line 7, with another value: '901' against '900'",
    }


@pytest.mark.parametrize(
    ("weight", "reason"),
    [
        ("1e999", "QUANTITY_IN_100KG '1e999' is not finite"),
        ("inf", "QUANTITY_IN_100KG 'inf' is not finite"),
        ("1e307", "QUANTITY_IN_100KG '1e307' is not finite"),  # × 100 kg overflows
        ("12kg", "QUANTITY_IN_100KG '12kg' is not a number"),
    ],
)
def test_a_weight_that_is_no_finite_number_is_quarantined_and_its_value_kept(
    store, tmp_path, weight, reason
):
    records = [record(), {**record(flow="import"), "net_weight_kg": weight}]
    path = FORMATS["sdmx"].file(tmp_path, records)
    result = store.ingest(path)
    assert (result.rows_read, result.rows_quarantined) == (4, 1)
    (row,) = store.quarantine().itertuples()
    assert (row.line, row.reason) == (5, reason)
    imports = one(store.observations(), flow="import")
    assert imports.value == 3000.0 and pd.isna(imports.net_weight_kg)


IMF = """DATAFLOW,FREQ,REF_AREA,INDICATOR,COUNTERPART_AREA,TIME_PERIOD,OBS_VALUE,UNIT_MULT,OBS_STATUS
IMF:DOT(1.0),M,US,TXG_FOB_USD,CN,2021-01,11.5,9,
IMF:DOT(1.0),M,US,TMG_CIF_USD,CN,2021-01,41.2,9,
IMF:DOT(1.0),M,US,TMG_FOB_USD,CN,2021-01,39.9,9,
IMF:DOT(1.0),M,US,TBG_USD,CN,2021-01,-28.4,9,
IMF:DOT(1.0),Q,US,TXG_FOB_USD,CN,2021-Q1,35.5,9,
IMF:DOT(1.0),M,US,TXG_FOB_USD,CN,2021-M02,10.1,9,e
"""


def test_generic_sdmx_imf_style(store, tmp_path):
    path = tmp_path / "imf_dots.csv"
    path.write_text(IMF)
    result = store.ingest(path)
    assert (result.source, result.rows_read, result.rows_accepted) == ("sdmx", 6, 4)
    obs = store.observations()
    imports = one(obs, flow="import")
    assert (imports.value, imports.cif_value, imports.fob_value) == (41.2e9, 41.2e9, 39.9e9)
    assert set(obs.currency) == {"USD"} and set(obs.reporter) == {"USA"}
    february = one(obs, period="2021-02-01")
    assert (february.value, february["flags"]) == (10.1e9, "status=e")
    reasons = sorted(store.quarantine().reason)
    assert (
        reasons[0]
        == "indicator 'TBG_USD' is not a trade value, weight or quantity tradesentry reads"
    )
    assert reasons[1].startswith("quarterly period '2021-Q1'")


def test_a_weight_in_100_kg_is_the_weight_as_written(store, tmp_path):
    """Comext's 0.14 (×100 kg) is 14 kg, not the double product 14.000000000000002 (33,622
    such cells in the Comext files)."""
    from tests.ingest.kit import write_sdmx

    rec = {**record(reporter="DEU", partner="FRA", commodity="39201024"), "net_weight_kg": "0.14"}
    source = tmp_path / "w.csv"
    source.write_bytes(write_sdmx([rec]))
    store.ingest(source)
    (weight,) = store.observations().net_weight_kg
    assert weight == 14.0


def test_a_duplicate_of_a_withheld_figure_under_another_code_says_so(store, tmp_path):
    """EL and GR are both Greece: the second record of a key is quarantined; where the
    first held no figure (confidential), the reason says so rather than passing it over for
    the next record's value, and 7 against 7.0 is the same value."""
    head = (
        "DATAFLOW,LAST UPDATE,freq,reporter,partner,product,flow,indicators,TIME_PERIOD,OBS_VALUE"
    )
    row = "ESTAT:DS-045409(1.0),13/02/26 11:00:00,M,{r},DE,32121000,1,VALUE_IN_EUROS,{p},{v}"
    lines = [
        head,
        row.format(r="EL", p="2024-04", v=""),
        row.format(r="GR", p="2024-04", v="5000"),
        row.format(r="EL", p="2024-05", v="7"),
        row.format(r="GR", p="2024-05", v="7.0"),
    ]
    path = tmp_path / "greece.csv"
    path.write_text("\n".join(lines) + "\n")
    assert store.ingest(path).rows_quarantined == 2
    assert store.quarantine().reason.tolist() == [
        "same observation as line 2, with another value: '5000' against no figure (withheld)",
        "same observation as line 4",
    ]


UNITS = """DATAFLOW,LAST UPDATE,freq,flow,product,partner,reporter,unit,TIME_PERIOD,OBS_VALUE,UNIT_MULT
ESTAT:X(1.0),x,M,1,TOTAL,CN,DE,MIO_EUR,2021-01,8123.4,
ESTAT:X(1.0),x,M,1,TOTAL,CN,DE,THS_EUR,2021-02,8123400,
ESTAT:X(1.0),x,M,1,TOTAL,CN,DE,EUR,2021-03,8123400000,
ESTAT:X(1.0),x,M,1,TOTAL,CN,DE,PC,2021-04,12.5,
ESTAT:X(1.0),x,M,1,TOTAL,CN,DE,EUR,2021-05,7,Thousands
ESTAT:X(1.0),x,M,1,TOTAL,CN,DE,EUR,2021-06,7,2.5
ESTAT:X(1.0),x,M,1,TOTAL,CN,DE,EUR,2021-07,7,3
ESTAT:X(1.0),x,M,1,TOTAL,CN,DE,EUR,2021-08,7,3.0
ESTAT:X(1.0),x,M,1,TOTAL,CN,DE,EUR,2021-09,7,+3
ESTAT:X(1.0),x,M,1,TOTAL,CN,DE,THS_EUR,2021-10,8,3
"""


def test_a_unit_of_money_is_multiplied_out_and_anything_else_is_quarantined(store, tmp_path):
    """Eurostat's MIO_EUR and THS_EUR are millions and thousands of euros: they had landed
    as euros, a million and a thousand times too small, and a percentage as money. A
    UNIT_MULT that is no whole number had been dropped (Thousands) or rounded (2.5); one
    beside a unit of thousands is quarantined, not applied twice."""
    path = tmp_path / "units.csv"
    path.write_text(UNITS)
    result = store.ingest(path)
    assert (result.rows_read, result.rows_accepted, result.rows_quarantined) == (10, 6, 4)
    obs = store.observations().sort_values("period")
    # 3.0 (a column with blanks, written by pandas) and +3 are the whole number 3
    assert list(obs.value) == [8123.4e6, 8123.4e6, 8123.4e6, 7000.0, 7000.0, 7000.0]
    assert set(obs.currency) == {"EUR"}
    assert sorted(store.quarantine().reason) == [
        "UNIT_MULT '2.5' is not a power of ten (a whole number such as 3, for thousands)",
        "UNIT_MULT 'Thousands' is not a power of ten (a whole number such as 3, for thousands)",
        "unit 'PC' is not an amount of money (a currency code, or THS_, MIO_ or BIO_ and one)",
        "unit 'THS_EUR' and UNIT_MULT '3' both scale the value: which one does is not said",
    ]


@pytest.mark.parametrize("period", ["2021-W01", "2021-S1", "2021-B1", "2021-D001"])
def test_a_period_of_another_length_is_named_so(store, tmp_path, period):
    """Weeks, half-years, two-month periods and days had read "impossible period", as if
    the date did not exist."""
    path = tmp_path / "odd.csv"
    path.write_text(
        "DATAFLOW,LAST UPDATE,freq,reporter,partner,product,flow,indicators,TIME_PERIOD,"
        "OBS_VALUE\n"
        f"ESTAT:X(1.0),x,M,CN,KP,1000,2,VALUE_IN_EUROS,{period},100\n"
        "ESTAT:X(1.0),x,M,CN,KP,1000,2,VALUE_IN_EUROS,2021-01,100\n"
    )
    result = store.ingest(path)
    assert (result.rows_accepted, result.rows_quarantined) == (1, 1)
    assert list(store.quarantine().reason) == [
        f"period '{period}' is not a month or a year: only monthly and annual data"
    ]
