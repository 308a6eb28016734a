"""TOML-mapped tables: the three national tables with the shipped mappings, and the checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
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
    [
        ("n/a", "Exports: value 'n/a' is not a number"),
        ("", "Exports: value is missing"),
        # finite as written, past a float's largest once in thousands: no "not finite"
        (
            "1e308",
            "Exports: value '1e308' is too large to hold in the unit the mapping gives "
            "(values.unit)",
        ),
    ],
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


def test_a_two_digit_year_is_an_impossible_period_not_the_year_20(store, tmp_path):
    """ "%m/%Y" reads "06/20" as June of the year 20: it landed, ran its series two thousand
    years back, and crashed `tradesentry series`. A year outside 1900–2200 is impossible, as
    in every other reader; the other months land."""
    mapping = tmp_path / "de.toml"
    mapping.write_text(
        '[file]\nseparator = ";"\n[period]\ncolumn = "Monat"\nformat = "%m/%Y"\n'
        '[values]\ncurrency = "EUR"\n[fixed]\nreporter = "DEU"\npartner = "CHN"\n'
        'flow = "export"\ncommodity = "8471"\n[columns]\nvalue = "Wert"\n'
    )
    table = tmp_path / "de.csv"
    table.write_text("Monat;Wert\n05/2020;1005\n06/20;1006\n07/2020;1007\n")
    result = store.ingest(table, mapping=mapping)
    assert (result.rows_read, result.rows_accepted, result.rows_quarantined) == (3, 2, 1)
    assert list(store.quarantine().reason) == ["impossible period '06/20'"]


def test_a_month_a_spreadsheet_saved_as_a_number_is_no_other_month(store, tmp_path):
    """A spreadsheet that saved the dates as numbers writes October 2001, 2001.10, as
    2001.1: DuckDB's %m read it as January, so every October was quarantined as a repeat
    of January, and the note advised summing them."""
    table = tmp_path / "kr.csv"
    table.write_text(
        "Country,Date,Exports,Imports\nChina,2001.09,1,2\nChina,2001.1,3,4\nChina,2001.01,5,6\n"
    )
    result = store.ingest(table, mapping=EXAMPLES / "korea_china.toml")
    assert (result.rows_accepted, result.rows_quarantined, result.notes) == (2, 1, ())
    assert sorted(store.observations().value) == [1000, 2000, 5000, 6000]
    reason = (
        "period '2001.1' is not written as '%Y.%m' writes a period: a spreadsheet that saved "
        "the dates as numbers dropped a zero (2001.10, October, is written 2001.1): format "
        "the column as text"
    )
    assert set(store.quarantine().reason) == {f"Exports: {reason}", f"Imports: {reason}"}


@pytest.mark.parametrize(
    ("fmt", "period", "landed"),
    [
        ("%m/%Y", "1/2020", False),  # %m writes two digits
        ("%Y%m", "20201", False),  # 2020-01, or 2020-10 without its 0?
        ("%Y-%m-%d", "2020-1-01", False),
        ("%-m/%Y", "1/2020", True),  # without padding: one digit or two
        ("%-m/%Y", "01/2020", True),
        ("%-m/%-d/%Y", "1/01/2020", True),
        ("%b %Y", "JAN  2020", True),  # strptime reads any case and blanks: as written
    ],
)
def test_a_period_is_read_only_as_its_format_writes_it(store, tmp_path, fmt, period, landed):
    mapping = tmp_path / "de.toml"
    mapping.write_text(
        f'[file]\nseparator = ";"\n[period]\ncolumn = "Monat"\nformat = "{fmt}"\nfreq = "M"\n'
        '[values]\ncurrency = "EUR"\n[fixed]\nreporter = "DEU"\npartner = "CHN"\n'
        'flow = "export"\ncommodity = "8471"\n[columns]\nvalue = "Wert"\n'
    )
    table = tmp_path / "de.csv"
    table.write_text(f"Monat;Wert\n{period};1001\n")
    result = store.ingest(table, mapping=mapping)
    assert result.rows_accepted == int(landed)
    if landed:
        assert list(store.observations().period.dt.strftime("%Y-%m")) == ["2020-01"]
    else:
        assert list(store.quarantine().reason) == [
            f"period '{period}' is not written as '{fmt}' writes a period (%m, %d and %y write "
            "two digits, %j three; %-m, %-d read one digit or two)"
        ]


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
        ("[file]\nrepeated = 'add'\n" + BASE, "'file.repeated' must be one of quarantine, sum"),
        ("[file]\ncommodity_width = 40\n" + BASE, "'file.commodity_width' must be 0"),
        ("[file]\ncommodity_width = 1\n" + BASE, "must be 0 (codes as written) or 2 to 20"),
        (BASE + "[countries]\na = 'PRK'\nA = 'KOR'\n",
         "'countries.A' and 'countries.a' are one name in any case, mapped to PRK and KOR"),
        (BASE + "[countries]\nNarnia = 'NRN'\n",
         "'countries.Narnia' maps to 'NRN', no country code tradesentry knows"),
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


DECLARATIONS = """
[file]
repeated = "sum"
[period]
column = "Date"
format = "%Y-%m-%d"
[values]
currency = "GNF"
[fixed]
reporter = "GIN"
flow = "export"
[columns]
partner = "Partner"
commodity = "Line"
value = "Value"
net_weight_kg = "Kg"
"""


#: the same table read as one of figures: a record a month
FIGURES = DECLARATIONS.replace('repeated = "sum"', "")


def declared(store, tmp_path, rows: str, mapping: str = DECLARATIONS):
    """Ingest ``rows`` (the lines after the header ``Date,Partner,Line,Value,Kg``) through
    ``mapping``; the ingest's result."""
    table = tmp_path / "declarations.csv"
    table.write_text("Date,Partner,Line,Value,Kg\n" + rows)
    return store.ingest(table, mapping=write(tmp_path, mapping))


def test_a_table_of_declarations_lands_its_sums_and_counts_every_declaration(store, tmp_path):
    """A customs table lists each shipment; with ``repeated = "sum"`` the month is their
    sum. A weight given for some shipments only is unknown for the month (a partial sum
    would read as the month's, and its unit value as the price); a key with a withheld
    record has no known total; shipments in another currency do not add up."""
    result = declared(
        store,
        tmp_path,
        "2017-04-01,China,26060000,300,30\n"
        "2017-04-01,China,26060000,50,5\n"  # summed with line 2: 350 GNF, 35 kg
        "2017-05-01,China,26060000,100,10\n"
        "2017-05-01,China,26060000,20,\n"  # no weight: May's weight unknown
        "2017-04-01,France,26060000,7,1\n",  # one declaration: as written
    )
    assert (result.rows_read, result.rows_accepted, result.rows_quarantined) == (5, 5, 0)
    assert result.observations == 3 and result.notes == ()
    obs = store.observations().sort_values(["partner", "period"])
    assert obs[["partner", "value", "net_weight_kg"]].astype(str).values.tolist() == [
        ["CHN", "350.0", "35.0"],
        ["CHN", "120.0", "nan"],
        ["FRA", "7.0", "1.0"],
    ]


def test_two_exports_of_declarations_joined_are_not_added_up(store, tmp_path):
    """Two exports joined with ``cat`` (the header again between them): Guinea's
    declarations joined to themselves landed every month doubled, the repeated header alone
    quarantined. A key's records are summed within the part its first record is in; its
    records in a later part are quarantined naming that record, and a key the later part
    alone holds lands (an export of the next months joined to the first)."""
    result = declared(
        store,
        tmp_path,
        "2017-04-01,China,26060000,300,30\n"
        "2017-04-01,China,26060000,50,5\n"  # line 3: summed with line 2
        "Date,Partner,Line,Value,Kg\n"  # line 4: the second export
        "2017-04-01,China,26060000,300,30\n"
        "2017-04-01,China,26060000,50,5\n"
        "2017-05-01,China,26060000,100,10\n",  # line 7: the next month, in the second only
    )
    assert (result.rows_read, result.rows_accepted, result.rows_quarantined) == (6, 3, 3)
    obs = store.observations().sort_values("period")
    assert obs["value"].tolist() == [350.0, 100.0]
    reasons = store.quarantine().set_index("line")["reason"].to_dict()
    assert reasons[4] == "the header line again (two files joined?)"
    assert reasons[5] == (
        "same observation as line 2, before the header line again at line 4: two files "
        "joined, whose figures are not added up"
    )
    assert reasons[6] == reasons[5]


def test_without_repeated_sum_declarations_are_quarantined_with_a_note_on_what_to_do(
    store, tmp_path
):
    rows = (
        "2017-04-01,China,26060000,300,30\n2017-04-01,China,26060000,50,5\n"
        "2017-04-01,Narnia,26060000,1,1\n"
    )
    result = declared(store, tmp_path, rows, FIGURES)
    assert (result.rows_accepted, result.rows_quarantined) == (1, 2)
    assert [note.split(":")[0] for note in result.notes] == [
        "1 row repeats another row's series and month (1 with another figure), and only the "
        "first stands",
        "1 row names a country tradesentry does not know",
    ]
    assert 'repeated = "sum"' in result.notes[0]
    assert (
        '[countries] table maps each name as the file writes it to its code ("Narnia", '
        'each = "ISO code")'
    ) in result.notes[1]


def test_a_mapping_names_countries_the_file_writes_its_own_way(store, tmp_path):
    """``[countries]``: a name as the file writes it (in any case) -> a code; names
    written inverted for sorting are read the right way round without it."""
    table = tmp_path / "names.csv"
    table.write_text(
        "Date,Partner,Line,Value,Kg\n"
        '2017-04-01,"Corée, Rép. Populaire Démocratique",26060000,5,1\n'
        '2017-04-01,"CORÉE, RÉP. POPULAIRE DÉMOCRATIQUE ",27000000,5,1\n'
        '2017-04-01,"Tchèque, République",26060000,5,1\n'
        '2017-04-01,"Mariannes du Nord, îles",26060000,5,1\n'
    )
    mapping = write(
        tmp_path, DECLARATIONS + '[countries]\n"Corée, Rép. Populaire Démocratique" = "PRK"\n'
    )
    result = store.ingest(table, mapping=mapping)
    assert result.rows_quarantined == 0
    assert sorted(store.observations().partner) == ["CZE", "MNP", "PRK", "PRK"]


@pytest.mark.parametrize(
    ("line", "stored"),
    [("3034900", "03034900"), ("26060000", "26060000"), ("2606A", "2606A"), ("TOTAL", "TOTAL")],
)
def test_commodity_width_gives_back_the_leading_zeros_a_spreadsheet_dropped(
    store, tmp_path, line, stored
):
    table = tmp_path / "t.csv"
    table.write_text(f"Date,Partner,Line,Value,Kg\n2017-04-01,China,{line},5,1\n")
    mapping = write(tmp_path, DECLARATIONS.replace("[file]", "[file]\ncommodity_width = 8"))
    store.ingest(table, mapping=mapping)
    assert list(store.observations().commodity) == [stored]


@pytest.mark.parametrize(
    ("date", "freq", "landed"),
    [
        ("2017-03-01", "M", True),
        ("2017-03-31", "M", True),  # a month dated by its last day is that month
        ("2017-02-28", "M", True),
        ("2017-03-15", "M", False),  # a figure dated within a month is no monthly figure
        ("2016-12-31", "A", True),
        ("2016-06-30", "A", False),
    ],
)
def test_a_full_date_stands_for_its_month_only_on_its_first_or_last_day(
    store, tmp_path, date, freq, landed
):
    table = tmp_path / "t.csv"
    table.write_text(f"Date,Partner,Line,Value,Kg\n{date},China,26060000,5,1\n")
    text = DECLARATIONS.replace('format = "%Y-%m-%d"', f'format = "%Y-%m-%d"\nfreq = "{freq}"')
    text = text.replace('repeated = "sum"', "")  # a table of figures: a month, not a day
    result = store.ingest(table, mapping=write(tmp_path, text))
    assert result.rows_accepted == int(landed)
    if not landed:
        unit = "month" if freq == "M" else "year"
        assert list(store.quarantine().reason) == [
            f"period '{date}' is a day within its {unit}: a {unit} is dated by its first or "
            "last day"
        ]


def test_a_mapping_without_the_later_keys_reads_a_file_as_it_did_before_them(tmp_path):
    """The keys added since (repeated, commodity_width, countries) leave a mapping's digest
    as it was while at their defaults: a file ingested before is the same reading."""
    from tradesentry.ingest import _digest

    plain = load_mapping(write(tmp_path, DECLARATIONS.replace('repeated = "sum"', "")))
    assert _digest(plain) == "7b80d4c4f333b4d7"  # as the code before them made it
    assert _digest(load_mapping(write(tmp_path, DECLARATIONS))) != _digest(plain)


def test_declarations_dated_by_the_day_are_summed_into_their_month(store, tmp_path):
    table = tmp_path / "days.csv"
    table.write_text(
        "Date,Partner,Line,Value,Kg\n2017-04-03,China,26060000,300,30\n"
        "2017-04-17,China,26060000,50,5\n2017-04-30,China,26060000,7,1\n"
    )
    result = store.ingest(table, mapping=write(tmp_path, DECLARATIONS))
    assert (result.rows_accepted, result.observations) == (3, 1)
    assert store.observations()["value"].tolist() == [357.0]


def test_a_month_with_a_quarantined_declaration_lands_none_of_them(store, tmp_path):
    """A month summed without one of its declarations (a value that is not a number)
    landed as the sum of the others, short, read as complete: its records are quarantined
    with it, each naming it. Another month of the series lands."""
    table = tmp_path / "declarations.csv"
    table.write_text(
        "Date,Partner,Line,Value,Kg\n2017-04-01,China,26060000,300,30\n"
        "2017-04-01,China,26060000,n/a,5\n2017-04-01,China,26060000,7,1\n"
        "2017-05-01,China,26060000,40,4\n"
    )
    result = store.ingest(table, mapping=write(tmp_path, DECLARATIONS))
    assert (result.rows_read, result.rows_accepted, result.rows_quarantined) == (4, 1, 3)
    assert store.observations()["value"].tolist() == [40.0]
    reasons = dict(store.quarantine()[["line", "reason"]].itertuples(index=False))
    assert reasons[3] == "value 'n/a' is not a number"
    assert (
        reasons[2]
        == reasons[4]
        == (
            "summed with line 3 of its series and month, which is quarantined: without it the "
            "sum would be short"
        )
    )


def test_declarations_in_two_currencies_are_not_added_up(store, tmp_path):
    """A month's declaration in another currency than most of its records' is quarantined
    (the first record's currency, a minority, had stood), and the month with it: summed
    without it, it would be short. Another month lands."""
    table = tmp_path / "declarations.csv"
    table.write_text(
        "Date,Partner,Line,Value,Kg,Cur\n2017-04-01,China,26060000,50,5,USD\n"
        "2017-04-01,China,26060000,300,30,GNF\n2017-04-01,China,26060000,7,1,GNF\n"
        "2017-05-01,China,26060000,40,4,GNF\n"
    )
    text = DECLARATIONS.replace('currency = "GNF"', "").replace(
        'net_weight_kg = "Kg"', 'net_weight_kg = "Kg"\ncurrency = "Cur"'
    )
    result = store.ingest(table, mapping=write(tmp_path, text))
    assert (result.rows_accepted, result.rows_quarantined, result.notes) == (1, 3, ())
    assert store.observations()["value"].tolist() == [40.0]
    reasons = dict(store.quarantine()[["line", "reason"]].itertuples(index=False))
    assert reasons[2] == (
        "same observation as line 3 in another currency ('USD' against 'GNF'): amounts in "
        "two currencies do not add up"
    )
    assert reasons[3].startswith("summed with line 2 of its series and month, which is")


def test_copies_of_a_row_get_no_advice_to_sum_them(store, tmp_path):
    """A file repeating rows exactly was told to sum them, doubling its figures."""
    rows = "2017-04-01,China,26060000,300,30\n2017-04-01,China,26060000,300,30\n"
    result = declared(store, tmp_path, rows, FIGURES)
    assert (result.rows_quarantined, result.notes) == (1, ())


def test_the_note_names_an_unknown_country_once_in_any_case(store, tmp_path):
    rows = "2017-04-01,Narnia,26060000,1,1\n2017-04-01,NARNIA ,27000000,1,1\n"
    result = declared(store, tmp_path, rows)
    (note,) = result.notes
    assert '("Narnia", each = "ISO code")' in note
    # and a mapping naming it in both spellings, to one code, is no conflict
    again = write(tmp_path, DECLARATIONS + '[countries]\nNarnia = "NLD"\nNARNIA = "NLD"\n')
    assert load_mapping(again).countries == {"narnia": "NLD"}


def test_a_wide_table_of_declarations_sums_each_column_apart(store, tmp_path):
    """A later line's column summed into the first line's, whose other column was
    quarantined, was quarantined too ("completes line 2, which is quarantined") with its
    value already in the sum: the line's good column is what it completes."""
    table = tmp_path / "wide.csv"
    table.write_text(
        "Date,Partner,Exports,Imports\n2017-04-01,China,10,-1\n2017-04-01,China,20,5\n"
    )
    mapping = write(
        tmp_path,
        '[file]\nrepeated = "sum"\n[period]\ncolumn = "Date"\nformat = "%Y-%m-%d"\n'
        '[values]\ncurrency = "USD"\n[fixed]\nreporter = "GIN"\n[columns]\n'
        'partner = "Partner"\n[wide]\nExports = "export"\nImports = "import"\n',
    )
    result = store.ingest(table, mapping=mapping)
    assert (result.rows_read, result.rows_quarantined) == (2, 2)  # a bad cell each line
    obs = store.observations()
    assert obs[["flow", "value"]].values.tolist() == [["export", 30.0]]
    assert sorted(store.quarantine()["reason"]) == [
        "Imports: negative value '-1'",
        "Imports: summed with line 2 of its series and month, which is quarantined: "
        "without it the sum would be short",
    ]


def test_guinea_declarations_through_their_example_mapping(store, shared_data):
    """ITC's Guinean export declarations, one line each: read as a table of figures, 10,181
    declarations were quarantined and bauxite to China in December 2018 stood at its first
    declaration, 3.47 trillion francs of the month's 108.07 trillion."""
    path = shared_data / "raw/itc_guinea_export_declarations/trade.csv.gz"
    result = store.ingest(path, mapping=EXAMPLES / "guinea_declarations.toml")
    assert (result.rows_read, result.rows_accepted, result.rows_quarantined) == (20334, 20334, 0)
    assert result.observations == 10048 and result.notes == ()
    obs = store.observations().set_index(["partner", "commodity", "period"])
    december = obs.loc[("CHN", "26060000", pd.Timestamp("2018-12-01"))]
    assert december["value"] == 108_073_270_745_047.0
    assert december["net_weight_kg"] == 6_548_258_434.0
    assert ("KOR", "03034900") in {(p, c) for p, c, _ in obs.index}  # its leading zero back


def test_declarations_that_sum_past_the_largest_figure_are_quarantined(store, tmp_path):
    """Each declaration is finite, their sum was not: the month landed as infinite, and
    read as a month without a figure (a gap). Every record of it is quarantined; the other
    months land."""
    result = declared(
        store,
        tmp_path,
        "2017-04-01,China,26060000,300,30\n"
        "2017-05-01,China,26060000,1e308,30\n"
        "2017-05-02,China,26060000,1e308,30\n",
    )
    assert (result.rows_read, result.rows_accepted, result.rows_quarantined) == (3, 1, 2)
    reasons = set(store.quarantine().reason)
    assert reasons == {
        "the records of its series and month (from line 3) sum to a figure too large to hold"
    }
    assert np.isfinite(store.observations().value).all()


def test_an_export_in_pages_sums_the_declarations_that_run_over_a_page_break(store, tmp_path):
    """An export printed in pages repeats its header on each page, and a month's
    declarations run on over the break: they are one export's, summed, and only the
    headers are quarantined. Every month recurring across pages had been quarantined as
    two files joined, and only months a single page held landed."""
    result = declared(
        store,
        tmp_path,
        "2017-04-01,China,26060000,300,30\n"
        "2017-04-01,France,26060000,7,1\n"
        "Date,Partner,Line,Value,Kg\n"  # line 4: the next page
        "2017-04-01,China,26060000,50,5\n"  # the same month, another declaration
        "2017-04-01,France,26060000,7,1\n"  # an identical shipment: a real one
        "2017-05-01,China,26060000,100,10\n"
        "Date,Partner,Line,Value,Kg\n"  # line 8
        "2017-05-01,China,26060000,20,2\n",
    )
    assert (result.rows_read, result.rows_accepted, result.rows_quarantined) == (8, 6, 2)
    obs = store.observations().sort_values(["partner", "period"])
    obs["period"] = obs["period"].dt.strftime("%Y-%m")
    assert obs[["partner", "period", "value"]].astype(str).values.tolist() == [
        ["CHN", "2017-04", "350.0"],
        ["CHN", "2017-05", "120.0"],
        ["FRA", "2017-04", "14.0"],
    ]
    assert set(store.quarantine()["line"]) == {4, 8}


def test_an_overlapping_export_joined_is_a_copy_despite_a_revised_declaration(store, tmp_path):
    """A second export overlapping the first begins as the first runs from some record on
    (a run of identical records counted once), give or take a revised record after: the
    overlap's records are not added up (the first export's stand), and the months only
    the second holds land."""
    result = declared(
        store,
        tmp_path,
        "2017-03-01,China,26060000,90,9\n"
        "2017-04-01,China,26060000,300,30\n"
        "2017-04-01,China,26060000,300,30\n"
        "2017-04-01,France,26060000,7,1\n"
        "2017-04-01,China,26060000,50,5\n"
        "2017-04-01,China,26060000,20,2\n"
        "Date,Partner,Line,Value,Kg\n"  # line 8: the second export, from April
        "2017-04-01,China,26060000,300,30\n"
        "2017-04-01,France,26060000,7,1\n"
        "2017-04-01,China,26060000,50,5\n"
        "2017-04-01,China,26060000,25,2\n"  # revised in the second export
        "2017-05-01,China,26060000,100,10\n",
    )
    assert (result.rows_read, result.rows_accepted, result.rows_quarantined) == (12, 7, 5)
    obs = store.observations().sort_values(["partner", "period"])
    obs["period"] = obs["period"].dt.strftime("%Y-%m")
    assert obs[["partner", "period", "value"]].astype(str).values.tolist() == [
        ["CHN", "2017-03", "90.0"],
        ["CHN", "2017-04", "670.0"],
        ["CHN", "2017-05", "100.0"],
        ["FRA", "2017-04", "7.0"],
    ]


def test_an_export_joined_to_one_without_its_last_line_break_is_not_added_up(store, tmp_path):
    """`cat` of two exports, the first ending without a line break, runs its last record
    into the second header: the line was quarantined for its fields, the header unseen,
    and every month of the second export summed with the first's (Guinea joined to itself:
    every month doubled). The line is the header again now: the second export is a copy,
    and the last record's month, short of that record, is quarantined with it."""
    result = declared(
        store,
        tmp_path,
        "2017-04-01,China,26060000,300,30\n"
        "2017-05-01,China,26060000,100,10\n"
        "2017-06-01,China,26060000,70,7"  # line 4, without its break
        "Date,Partner,Line,Value,Kg\n"
        "2017-04-01,China,26060000,300,30\n"
        "2017-05-01,China,26060000,100,10\n"
        "2017-06-01,China,26060000,70,7\n",
    )
    assert (result.rows_read, result.rows_accepted, result.rows_quarantined) == (6, 2, 4)
    obs = store.observations().sort_values("period")
    assert obs["value"].tolist() == [300.0, 100.0]
    reasons = store.quarantine().set_index("line")["reason"].to_dict()
    assert reasons[4].startswith("a record and the header line again on one line")
    assert reasons[5].startswith("same observation as line 2, before the header line again")


@pytest.mark.parametrize(
    ("second", "april", "quarantined"),
    [
        # an export that begins as the first does: a copy, though longer than it
        ("2017-03-01,China,26060000,90,9\n2017-04-01,China,26060000,300,30\n"
         "2017-04-01,China,26060000,50,5\n2017-05-01,China,26060000,100,10\n", 350.0, 4),
        # one that overlaps its last two records only is summed with it: Guinea's pages
        # repeat the last two records of the page before at two of 406 breaks
        ("2017-04-01,China,26060000,300,30\n2017-04-01,China,26060000,50,5\n"
         "2017-05-01,China,26060000,100,10\n", 700.0, 1),
        # a last page of one more identical shipment: a page, summed (one record alike is
        # an identical shipment as often as a copy)
        ("2017-04-01,China,26060000,50,5\n", 400.0, 1),
    ],
    ids=["copy", "overlap-of-two", "one-identical-record"],
)  # fmt: skip
def test_a_part_is_a_copy_where_two_records_or_more_begin_as_an_earlier_part_runs(
    store, tmp_path, second, april, quarantined
):
    result = declared(
        store,
        tmp_path,
        "2017-03-01,China,26060000,90,9\n"
        "2017-04-01,China,26060000,300,30\n"
        "2017-04-01,China,26060000,50,5\n"
        "Date,Partner,Line,Value,Kg\n" + second,
    )
    assert result.rows_quarantined == quarantined
    obs = store.observations().set_index("period")["value"]
    assert obs[pd.Timestamp("2017-04-01")] == april
