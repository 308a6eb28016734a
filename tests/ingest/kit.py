"""Write the same records in every input format, so one test can run over all of them.

A record is a small dict of text fields (ISO-3 countries, canonical flow, year and month,
the value as written). A bad record is a good one with one field spoilt the way real
files spoil it; each format renders the spoilt field in its own spelling, so the same
mistake is tried in every format.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from tradesentry.ingest.comtrade import FIELDS

# M49 numbers (Comtrade) and ISO-2 codes (Eurostat) of the countries the tests use. This is
# test data: the product normalises with country_converter, never with a table like this.
M49 = {"CHN": "156", "PRK": "408", "KOR": "410", "JPN": "392", "DEU": "276", "FRA": "251"}
ISO2 = {"CHN": "CN", "PRK": "KP", "KOR": "KR", "JPN": "JP", "DEU": "DE", "FRA": "FR"}
UNKNOWN_COUNTRY = {"canonical": "XXX", "comtrade": "999", "legacy": "999", "sdmx": "QQ",
                   "mapped": "Atlantis"}  # fmt: skip

Record = dict[str, str]
# Figures a record may carry beside its value, as written (absent: the file has none).
FIGURES = ("net_weight_kg", "quantity", "cif_value", "fob_value")


def record(reporter="CHN", partner="PRK", flow="export", commodity="TOTAL", year="2021",
           month="02", value="3000") -> Record:  # fmt: skip
    return dict(reporter=reporter, partner=partner, flow=flow, commodity=commodity,
                year=year, month=month, value=value)  # fmt: skip


@dataclass(frozen=True)
class Format:
    """One input format: its reader's name, a file suffix, and how to write records."""

    name: str
    reader: str
    suffix: str
    write: Callable[[list[Record]], bytes]
    lines_per_record: int = 1
    mapping: str | None = None  # TOML text for the mapped format

    def __str__(self) -> str:  # the test id: its name, not a repr with addresses in it
        return self.name

    def file(self, tmp: Path, records: list[Record], stem: str = "release") -> Path:
        path = tmp / f"{stem}{self.suffix}"
        path.write_bytes(self.write(records))
        return path

    def ingest_args(self, tmp: Path) -> dict:
        if self.mapping is None:
            return {}
        m = tmp / "mapping.toml"
        m.write_text(self.mapping)
        return {"mapping": m}


def _csv(rows: list[list[str]], delimiter: str = ",", trailing: str = "") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=trailing + "\n")
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


def _code(table: dict[str, str], fmt: str, iso3: str) -> str:
    return table.get(iso3, UNKNOWN_COUNTRY[fmt] if iso3 == "XXX" else iso3)


# -- canonical ----------------------------------------------------------------------------


def write_canonical(records: list[Record]) -> bytes:
    figures = [f for f in FIGURES if any(f in r for r in records)]  # optional columns
    rows = [["reporter", "partner", "flow", "commodity", "period", "value", "currency", *figures]]
    rows += [[r["reporter"], r["partner"], r["flow"], r["commodity"], f"{r['year']}-{r['month']}",
              r["value"], "USD", *(r.get(f, "") for f in figures)] for r in records]  # fmt: skip
    return _csv(rows)


def _json_number(text: object) -> object:
    """A figure as the API writes it: a JSON number where it is one, null where empty."""
    if not isinstance(text, str):
        return text
    if not text:
        return None
    for kind in (int, float):
        with contextlib.suppress(ValueError):
            number = kind(text)
            return number if math.isfinite(number) else text
    return text


# -- Comtrade Plus --------------------------------------------------------------------------

_FLOW_CODES = {"import": "M", "export": "X", "re-import": "RM", "re-export": "RX"}


def comtrade_fields(r: Record) -> dict[str, object]:
    """A full Comtrade Plus record (every field the API returns) for a test record."""
    flow = _FLOW_CODES.get(r["flow"], r["flow"])
    return {
        "typeCode": "C", "freqCode": "M", "refPeriodId": f"{r['year']}{r['month']}01",
        "refYear": r["year"], "refMonth": r["month"], "period": f"{r['year']}{r['month']}",
        "reporterCode": _code(M49, "comtrade", r["reporter"]), "reporterISO": r["reporter"],
        "reporterDesc": "", "flowCode": flow, "flowDesc": r["flow"].title(),
        "partnerCode": _code(M49, "comtrade", r["partner"]), "partnerISO": r["partner"],
        "partnerDesc": "", "partner2Code": 0, "partner2ISO": "W00", "partner2Desc": "World",
        "classificationCode": "H5", "classificationSearchCode": "HS",
        "isOriginalClassification": True, "cmdCode": r["commodity"],
        "cmdDesc": "All Commodities, described", "aggrLevel": 0, "isLeaf": False,
        "customsCode": "C00", "customsDesc": "TOTAL CPC", "mosCode": "0", "motCode": 0,
        "motDesc": "TOTAL MOT", "qtyUnitCode": -1, "qtyUnitAbbr": "N/A", "qty": 0,
        "isQtyEstimated": False, "altQtyUnitCode": -1, "altQtyUnitAbbr": "N/A", "altQty": 0,
        "isAltQtyEstimated": False, "netWgt": r.get("net_weight_kg"), "isNetWgtEstimated": False,
        "grossWgt": None, "isGrossWgtEstimated": False, "cifvalue": r.get("cif_value"),
        "fobvalue": r.get("fob_value"), "primaryValue": r["value"], "legacyEstimationFlag": 0,
        "isReported": True, "isAggregate": False,
        **({"qtyUnitCode": 8, "qtyUnitAbbr": "kg", "qty": r["quantity"]} if "quantity" in r else {}),
    }  # fmt: skip


def write_comtrade_csv(records: list[Record]) -> bytes:
    def text(v: object) -> str:
        return "" if v is None else str(v)

    rows = [list(FIELDS)] + [[text(v) for v in comtrade_fields(r).values()] for r in records]
    header, *data = _csv(rows).decode().splitlines(keepends=True)
    # The website's export ends each data line with one separator more than the header.
    return (header + "".join(line.rstrip("\n") + ",\n" for line in data)).encode()


def write_comtrade_json(records: list[Record]) -> bytes:
    data = []
    for r in records:
        rec = comtrade_fields(r)
        for key in ("primaryValue", "netWgt", "qty", "cifvalue", "fobvalue"):
            rec[key] = _json_number(rec[key])
        for key in ("reporterCode", "partnerCode", "refPeriodId"):
            rec[key] = int(rec[key]) if str(rec[key]).isdigit() else rec[key]
        data.append(rec)
    doc = {"elapsedTime": "0.1 secs", "count": len(data), "data": data, "error": ""}
    return json.dumps(doc, indent=1).encode()


# -- legacy Comtrade --------------------------------------------------------------------------

LEGACY_HEADER = [
    "Classification", "Year", "Period", "Period Desc.", "Aggregate Level", "Is Leaf Code",
    "Trade Flow Code", "Trade Flow", "Reporter Code", "Reporter", "Reporter ISO",
    "Partner Code", "Partner", "Partner ISO", "2nd Partner Code", "2nd Partner",
    "2nd Partner ISO", "Customs Proc. Code", "Customs", "Mode of Transport Code",
    "Mode of Transport", "Commodity Code", "Commodity", "Qty Unit Code", "Qty Unit", "Qty",
    "Alt Qty Unit Code", "Alt Qty Unit", "Alt Qty", "Netweight (kg)", "Gross weight (kg)",
    "Trade Value (US$)", "CIF Trade Value (US$)", "FOB Trade Value (US$)", "Flag",
]  # fmt: skip
_LEGACY_FLOWS = {"import": "1", "export": "2", "re-export": "3", "re-import": "4"}


def write_legacy(records: list[Record]) -> bytes:
    rows = [LEGACY_HEADER]
    for r in records:
        rows.append([
            "H5", r["year"], r["year"] + r["month"], "", "0", "0",
            _LEGACY_FLOWS.get(r["flow"], r["flow"]), r["flow"].title(),
            _code(M49, "legacy", r["reporter"]), "", r["reporter"],
            _code(M49, "legacy", r["partner"]), "Côte, d'Ivoire or other", r["partner"],
            "", "", "", "", "", "", "", r["commodity"], "All Commodities",
            *(["8", "kg", r["quantity"]] if "quantity" in r else ["1", "No Quantity", ""]),
            "", "", "", r.get("net_weight_kg", ""), "", r["value"], r.get("cif_value", ""),
            r.get("fob_value", ""), "0",
        ])  # fmt: skip
    return _csv(rows).decode().encode("latin-1")


# -- SDMX-CSV (Eurostat Comext) ----------------------------------------------------------------

SDMX_HEADER = ["DATAFLOW", "LAST UPDATE", "freq", "reporter", "partner", "product", "flow",
               "indicators", "TIME_PERIOD", "OBS_VALUE"]  # fmt: skip
_SDMX_FLOWS = {"import": "1", "export": "2"}


def write_sdmx(records: list[Record]) -> bytes:
    rows = [SDMX_HEADER]
    for r in records:
        key = ["ESTAT:DS-045409(1.0)", "13/02/26 11:00:00", "M", _code(ISO2, "sdmx", r["reporter"]),
               _code(ISO2, "sdmx", r["partner"]), r["commodity"],
               _SDMX_FLOWS.get(r["flow"], r["flow"])]  # fmt: skip
        period = f"{r['year']}-{r['month']}"
        rows.append([*key, "VALUE_IN_EUROS", period, r["value"]])
        rows.append([*key, "QUANTITY_IN_100KG", period, r.get("net_weight_kg", "12.5")])
    return _csv(rows)


# -- a mapped national table -----------------------------------------------------------------

MAPPING = """
[file]
separator = ";"
decimal = ","
[period]
column = "Monat"
format = "%m/%Y"
[values]
unit = "thousand"
currency = "EUR"
[columns]
reporter = "Melder"
partner = "Partner"
flow = "Richtung"
commodity = "Ware"
value = "Wert"
net_weight_kg = "Gewicht"
quantity = "Menge"
cif_value = "CIF"
fob_value = "FOB"
[flow_codes]
Einfuhr = "import"
Ausfuhr = "export"
"""
_GERMAN_FLOWS = {"import": "Einfuhr", "export": "Ausfuhr"}


def write_mapped(records: list[Record]) -> bytes:
    names = {"CHN": "China", "PRK": "North Korea", "KOR": "South Korea", "JPN": "Japan",
             "DEU": "Germany", "FRA": "France", "XXX": UNKNOWN_COUNTRY["mapped"]}  # fmt: skip
    rows = [["Melder", "Partner", "Richtung", "Ware", "Monat", "Wert", "Gewicht", "Menge", "CIF",
             "FOB"]]  # fmt: skip
    for r in records:
        value = r["value"]
        # thousand EUR with a decimal comma; not a number, or too long for a Decimal: as it is
        with contextlib.suppress(ArithmeticError):
            value = str(Decimal(value) / 1000).replace(".", ",")
        rows.append([names.get(r["reporter"], r["reporter"]), names.get(r["partner"], r["partner"]),
                     _GERMAN_FLOWS.get(r["flow"], r["flow"]), r["commodity"],
                     f"{r['month']}/{r['year']}", value,
                     *(r.get(f, "") for f in FIGURES)])  # fmt: skip
    return _csv(rows, delimiter=";")


FORMATS = {
    f.name: f
    for f in (
        Format("canonical", "csv", ".csv", write_canonical),
        Format("comtrade-csv", "comtrade", ".csv", write_comtrade_csv),
        Format("comtrade-json", "comtrade", ".json", write_comtrade_json),
        Format("legacy", "comtrade-legacy", ".csv", write_legacy),
        Format("sdmx", "sdmx", ".csv", write_sdmx, lines_per_record=2),
        Format("mapped", "mapped", ".csv", write_mapped, mapping=MAPPING),
    )
}
CURRENCY = {"canonical": "USD", "comtrade-csv": "USD", "comtrade-json": "USD", "legacy": "USD",
            "sdmx": "EUR", "mapped": "EUR"}  # fmt: skip
