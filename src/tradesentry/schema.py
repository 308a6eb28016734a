"""The canonical observation: column names, flows, frequencies and severities.

Everything that reads or writes observations agrees on these names; they are the
canonical observation and finding contract (README, "What it reads" and "What it flags")
written once.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

FLOWS: tuple[str, ...] = ("import", "export", "re-import", "re-export")
#: the spellings of each flow every reader takes, in any case (UN Comtrade's codes, the
#: plurals and short forms of trade tables)
FLOW_SPELLINGS: dict[str, tuple[str, ...]] = {
    "import": ("m", "imp", "import", "imports"),
    "export": ("x", "exp", "export", "exports"),
    "re-import": ("rm", "re-import", "re-imports", "reimport", "reimports"),
    "re-export": ("rx", "re-export", "re-exports", "reexport", "reexports"),
}
#: the flow of the same goods in the partner's record (its mirror)
MIRROR_FLOW: dict[str, str] = {
    "export": "import",
    "re-export": "import",
    "import": "export",
    "re-import": "export",
}

#: the Harmonized System's classifications: a national table's HS, its editions H0…H6, and
#: the EU's Combined Nomenclature (CN8, Comext's), whose two-digit codes are the HS
#: chapters. Totals and details are compared across them (``TOTAL``, kept under HS, against
#: the chapters of any of them), so they are one family wherever series are grouped.
HS_EDITION_PATTERN = r"H[S0-9]|CN8?"


def hs_family(classifications: Iterable[str]) -> np.ndarray:
    """Each classification's family: 'HS' for any HS edition or CN (``HS_EDITION_PATTERN``),
    the classification itself otherwise (``hs_family_sql`` in SQL)."""
    names = pd.Series(list(classifications), dtype=object).astype(str)
    return names.where(~names.str.fullmatch(HS_EDITION_PATTERN), "HS").to_numpy()


def hs_family_sql(column: str = "classification") -> str:
    """SQL (DuckDB's and Spark's alike) of a classification's family: 'HS' for any HS
    edition or CN (``HS_EDITION_PATTERN``), the classification itself otherwise."""
    second = f"substr({column}, 2, 1)"
    return (
        f"CASE WHEN (length({column}) = 2 AND substr({column}, 1, 1) = 'H' "
        f"AND ({second} = 'S' OR {second} BETWEEN '0' AND '9')) OR {column} IN ('CN', 'CN8') "
        f"THEN 'HS' ELSE {column} END"
    )


# The series key: one time series per distinct value of these columns.
SERIES_KEY: tuple[str, ...] = (
    "reporter",
    "partner",
    "flow",
    "classification",
    "commodity",
    "freq",
    "breakdown",
)

# The observation key within one release: a second row with the same key is a duplicate.
OBSERVATION_KEY: tuple[str, ...] = (*SERIES_KEY, "period", "period_months")


def latest_rows_sql(source: str = "observations o") -> str:
    """The latest release's row of each cell of ``source`` (a relation aliased ``o`` with a
    ``release_id``, in the order of ``release_order``): the store's current view
    (``current_observations``), and the same over the rows of some series."""
    partition = ", ".join(f"o.{c}" for c in OBSERVATION_KEY)
    return (
        f"SELECT o.* FROM {source} JOIN release_order r USING (release_id) "
        f"QUALIFY row_number() OVER (PARTITION BY {partition} ORDER BY r.vintage DESC) = 1"
    )


# Columns of the observations table, in order, with their DuckDB types.
OBSERVATION_COLUMNS: dict[str, str] = {
    "release_id": "INTEGER NOT NULL",
    "line": "BIGINT NOT NULL",
    "reporter": "VARCHAR NOT NULL",
    "partner": "VARCHAR NOT NULL",
    "flow": "VARCHAR NOT NULL",
    "classification": "VARCHAR NOT NULL",
    "commodity": "VARCHAR NOT NULL",
    "breakdown": "VARCHAR NOT NULL",  # '' or 'partner2=..;customs=..;mot=..' (Comtrade)
    "period": "DATE NOT NULL",
    "freq": "VARCHAR NOT NULL",
    "period_months": "TINYINT NOT NULL",
    "value": "DOUBLE",  # NULL: not available (confidential, suppressed)
    "currency": "VARCHAR NOT NULL",
    "cif_value": "DOUBLE",
    "fob_value": "DOUBLE",
    "net_weight_kg": "DOUBLE",
    "quantity": "DOUBLE",
    "quantity_unit": "VARCHAR",
    "flags": "VARCHAR",
    "provenance": "VARCHAR",  # JSON object of the source's extra columns
}

CANONICAL_CSV_COLUMNS: tuple[str, ...] = (
    "reporter",
    "partner",
    "flow",
    "classification",
    "commodity",
    "period",
    "period_months",
    "freq",
    "value",
    "currency",
    "cif_value",
    "fob_value",
    "net_weight_kg",
    "quantity",
    "quantity_unit",
    "flags",
)
REQUIRED_CSV_COLUMNS: tuple[str, ...] = (
    "reporter",
    "partner",
    "flow",
    "commodity",
    "period",
    "value",
)

SEVERITIES: tuple[str, ...] = ("high", "medium", "low")
SEVERITY_RANK: dict[str, int] = {"high": 0, "medium": 1, "low": 2}

WORLD = "WLD"


def many_goods_code(code: object) -> bool:
    """Whether a commodity code stands for many goods: a total (``TOTAL``), a code of one
    or two characters (an HS chapter, an SITC section or division), or a named group
    without a digit in its code ("RARE EARTHS", "GALLIUM/GERMANIUM": a publisher's or a
    mapping's sum of several lines; every classification's own codes hold digits). Such a
    series moves with demand, prices and its mix of goods, not with one shipment or
    contract; the rule behind ``evidence.many_goods``, unit values that mix goods, the
    aggregates whose details ``drivers`` reads, and the series a record's moves are
    counted over (``context.reporter_along``, which leaves aggregates out)."""
    if code is None or code is pd.NA or (isinstance(code, float) and code != code):
        return False
    text = str(code).strip()
    if text == "TOTAL" or 1 <= len(text) <= 2:
        return True
    return len(text) > 2 and not any(ch.isdigit() for ch in text)


def many_goods_codes(commodity: Iterable[object]) -> np.ndarray:
    """``many_goods_code`` of each code, as a boolean array (one test per distinct code:
    a panel repeats few codes over many series)."""
    codes = pd.Series(list(commodity), dtype="string").fillna("")
    many = {code: many_goods_code(code) for code in codes.unique()}
    return codes.map(many).to_numpy(dtype=bool)
