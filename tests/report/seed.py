"""Stores with findings known in advance, for the report and dashboard tests.

The views must be tested whatever the detectors find on a given day, so these helpers
save a scan whose findings are written here, in the contract's shape, beside the real
data they point at.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from tradesentry.findings import stable_id
from tradesentry.store import Store

EVIL = "<script>alert('x')</script>"
# The markup as a commodity code in the store: ingest upper-cases codes, and <SCRIPT> is a
# script tag to a browser all the same.
EVIL_CODE = EVIL.upper()

DEMO_FINDINGS = [
    {
        "kind": "timing_shift",
        "reporter": "CHN",
        "partner": "PRK",
        "flow": "export",
        "commodity": "TOTAL",
        "period": "2021-02",
        "period_end": "2021-03",
        "observed": 3000.0,
        "expected": 1650000.0,
        "impact": 1647000.0,
        "score": 0.97,
        "severity": "high",
        "explanation": "February recorded $3.0K against about $1.6M expected, and March "
        "$13.0M: about $1.6M looks recorded in March instead of February.",
        "evidence": {"moved": 1647000.0, "lower": 400000.0, "upper": 5000000.0},
    },
    {
        "kind": "level_shift",
        "reporter": "CHN",
        "partner": "PRK",
        "flow": "export",
        "commodity": "TOTAL",
        "period": "2020-02",
        "period_end": "2020-02",
        "observed": 10300000.0,
        "expected": 186900000.0,
        "impact": 176600000.0,
        "score": 0.95,
        "severity": "high",
        "explanation": "From February 2020 the level fell from about $186.9M to $10.3M a month.",
        "evidence": {"before": 186900000.0, "after": 10300000.0},
    },
    {
        "kind": "dip",
        "reporter": "CHN",
        "partner": "PRK",
        "flow": "import",
        "commodity": "TOTAL",
        "period": "2020-11",
        "period_end": "2020-11",
        "observed": 1125000.0,
        "expected": 2500000.0,
        "impact": 1375000.0,
        "score": 0.75,
        "severity": "medium",
        "explanation": "November 2020 imports $1.1M against about $2.5M expected.",
        "evidence": {"lower": 1800000.0, "upper": 3300000.0},
    },
]


def save_scan(store: Store, records: list[dict], parameters: dict | None = None) -> int:
    """Save ``records`` as a new scan, as ``api.scan`` would (with its ``parameters``, such
    as ``{"flow": ["import"]}`` for a filtered scan); returns the scan id. A record's
    series is under classification HS unless it names another (``"classification"``), and
    is the total unless it names a part of the flow (``"breakdown"``)."""
    con = store.con.cursor()
    scan_id = con.execute(
        "INSERT INTO scans (started_at, parameters, findings) VALUES (?, ?, ?) RETURNING id",
        [datetime.now(), json.dumps({"engine": "test", **(parameters or {})}), len(records)],
    ).fetchone()[0]
    for rec in records:
        classification, breakdown = rec.get("classification", "HS"), rec.get("breakdown", "")
        key = (rec["reporter"], rec["partner"], rec["flow"], classification, rec["commodity"])
        key += (breakdown,)
        con.execute(
            "INSERT INTO findings (scan_id, id, kind, reporter, partner, flow, commodity, "
            "classification, breakdown, period, period_end, observed, expected, currency, "
            "impact, score, severity, explanation, evidence) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                scan_id,
                rec.get("id") or stable_id(rec["kind"], key, rec["period"], rec["period_end"]),
                rec["kind"],
                rec["reporter"],
                rec["partner"],
                rec["flow"],
                rec["commodity"],
                classification,
                breakdown,
                rec["period"],
                rec["period_end"],
                rec["observed"],
                rec["expected"],
                rec.get("currency", "USD"),
                rec["impact"],
                rec["score"],
                rec["severity"],
                rec["explanation"],
                json.dumps(rec["evidence"]),
            ],
        )
    con.close()
    return scan_id


def revise_february_2020(store: Store, folder: Path, published: str) -> None:
    """A second release of the demo data revising February 2020's exports to $11M."""
    revised = folder / "revised.csv"
    revised.write_text(
        "reporter,partner,flow,classification,commodity,period,period_months,value,currency\n"
        "CHN,PRK,export,HS,TOTAL,2020-02,1,11000000,USD\n"
    )
    store.ingest(revised, published=published)


def evil_csv(folder: Path) -> Path:
    """A canonical CSV whose commodity is markup (stored upper-cased: EVIL_CODE)."""
    path = folder / "evil.csv"
    rows = ["reporter,partner,flow,classification,commodity,period,period_months,value,currency"]
    for month in range(1, 13):
        value = 1000.0 if month != 6 else 5.0
        rows.append(f'CHN,PRK,export,HS,"{EVIL}",2021-{month:02d},1,{value},USD')
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def evil_findings() -> list[dict]:
    """Findings on the markup series (its code as stored) whose text invites markup and
    spreadsheet formulas."""
    base = {
        "reporter": "CHN",
        "partner": "PRK",
        "flow": "export",
        "commodity": EVIL_CODE,
        "observed": 5.0,
        "expected": 1000.0,
        "impact": 995.0,
        "score": 0.93,
        "severity": "high",
        "evidence": {"note": EVIL},
    }
    texts = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", EVIL]
    return [
        {
            **base,
            "kind": "implausible",
            "period": f"2021-{m:02d}",
            "period_end": f"2021-{m:02d}",
            "explanation": text,
        }
        for m, text in zip(range(2, 7), texts, strict=True)
    ]


def seeded(path: Path) -> Store:
    """The demo release with a scan of DEMO_FINDINGS (known findings whatever detectors run)."""
    from tests.conftest import DEMO_CSV
    from tradesentry.store import open_store

    store = open_store(path)
    store.ingest(DEMO_CSV)
    save_scan(store, DEMO_FINDINGS)
    return store


def with_evil(store: Store, folder: Path) -> Store:
    """Add a series whose commodity is markup and a scan whose texts are formulas and markup."""
    store.ingest(evil_csv(folder))
    save_scan(store, DEMO_FINDINGS + evil_findings())
    return store


def pairs_csv(folder: Path) -> Path:
    """Two more pairs beside CHN → PRK: CHN's exports to RUS and RUS's imports from CHN."""
    path = folder / "pairs.csv"
    rows = ["reporter,partner,flow,classification,commodity,period,period_months,value,currency"]
    for reporter, partner, flow in (("CHN", "RUS", "export"), ("RUS", "CHN", "import")):
        rows += [
            f"{reporter},{partner},{flow},HS,TOTAL,2021-{m:02d},1,5000,USD" for m in range(1, 13)
        ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


# A finding on CHN → RUS: with DEMO_FINDINGS, two pairs have findings and RUS → CHN has none.
RUS_FINDING = {
    **DEMO_FINDINGS[2],
    "reporter": "CHN",
    "partner": "RUS",
    "flow": "export",
    "period": "2021-06",
    "period_end": "2021-06",
    "explanation": "June 2021 exports to RUS $1.1M against about $2.5M expected.",
}


def with_pairs(store: Store, folder: Path) -> Store:
    """Three pairs: two with findings (CHN → PRK, CHN → RUS), one without (RUS → CHN)."""
    store.ingest(pairs_csv(folder))
    save_scan(store, DEMO_FINDINGS + [RUS_FINDING])
    return store


@pytest.fixture
def pairs_store(tmp_path: Path) -> Store:
    store = with_pairs(seeded(tmp_path / "pairs.duckdb"), tmp_path)
    yield store
    store.close()


@pytest.fixture
def seeded_store(tmp_path: Path) -> Store:
    store = seeded(tmp_path / "seeded.duckdb")
    yield store
    store.close()


@pytest.fixture
def evil_store(tmp_path: Path) -> Store:
    store = with_evil(seeded(tmp_path / "evil.duckdb"), tmp_path)
    yield store
    store.close()


# -- one HS code under two classifications -------------------------------------------------
HS_CODE = "8542"
# CHN's monthly exports of HS_CODE to PRK in 2021 as each source gives them, distinct so a
# page shows which series it read; one month of each stands out, and each has a finding.
TWO_CLASSIFICATIONS = {
    "H5": {"value": 4_300_000, "month": 6, "outlier": 9_900_000},  # UN Comtrade's HS 2017
    "HS": {"value": 7_600_000, "month": 9, "outlier": 1_200_000},  # a table's default
}
# PRK's own record (its imports from CHN), under H5 only: the mirror of the H5 series.
MIRROR_VALUE = 4_100_000


def two_classification_findings() -> list[dict]:
    """A spike on the H5 series, a dip on the HS series."""
    h5, hs = TWO_CLASSIFICATIONS["H5"], TWO_CLASSIFICATIONS["HS"]
    base = {"reporter": "CHN", "partner": "PRK", "flow": "export", "commodity": HS_CODE}
    return [
        {
            **base,
            "classification": "H5",
            "kind": "spike",
            "period": f"2021-{h5['month']:02d}",
            "period_end": f"2021-{h5['month']:02d}",
            "observed": float(h5["outlier"]),
            "expected": float(h5["value"]),
            "impact": float(h5["outlier"] - h5["value"]),
            "score": 0.96,
            "severity": "high",
            "explanation": "June 2021 under H5: $9.9M against about $4.3M expected.",
            "evidence": {"lower": 3_900_000.0, "upper": 4_700_000.0},
        },
        {
            **base,
            "classification": "HS",
            "kind": "dip",
            "period": f"2021-{hs['month']:02d}",
            "period_end": f"2021-{hs['month']:02d}",
            "observed": float(hs["outlier"]),
            "expected": float(hs["value"]),
            "impact": float(hs["value"] - hs["outlier"]),
            "score": 0.8,
            "severity": "medium",
            "explanation": "September 2021 under HS: $1.2M against about $7.6M expected.",
            "evidence": {"lower": 6_900_000.0, "upper": 8_300_000.0},
        },
    ]


def _year_2021(reporter: str, partner: str, flow: str, value: int, outlier=None) -> list:
    """Records of HS_CODE for the twelve months of 2021 at ``value``; ``outlier``, a
    (month, value), sets one month apart."""
    from tests.ingest.kit import record

    figures = {m: value for m in range(1, 13)} | dict([outlier] if outlier else [])
    return [
        record(reporter, partner, flow, HS_CODE, "2021", f"{m:02d}", str(v))
        for m, v in figures.items()
    ]


def two_classifications(path: Path) -> Store:
    """A store holding HS_CODE of CHN → PRK exports twice: under H5 from a UN Comtrade
    CSV and under HS from a canonical CSV (the tests/ingest kit writes both), with PRK's
    imports under H5 and a scan of ``two_classification_findings``."""
    from tests.ingest.kit import FORMATS
    from tradesentry.store import open_store

    h5, hs = TWO_CLASSIFICATIONS["H5"], TWO_CLASSIFICATIONS["HS"]
    comtrade = _year_2021("CHN", "PRK", "export", h5["value"], (h5["month"], h5["outlier"]))
    comtrade += _year_2021("PRK", "CHN", "import", MIRROR_VALUE)
    table = _year_2021("CHN", "PRK", "export", hs["value"], (hs["month"], hs["outlier"]))
    store = open_store(path)
    store.ingest(FORMATS["comtrade-csv"].file(path.parent, comtrade, stem="comtrade"))
    store.ingest(FORMATS["canonical"].file(path.parent, table, stem="table"))
    save_scan(store, two_classification_findings())
    return store


@pytest.fixture
def two_classifications_store(tmp_path: Path) -> Store:
    store = two_classifications(tmp_path / "two.duckdb")
    yield store
    store.close()


# -- a flow held as its total and by mode of transport (UN Comtrade) ------------------------
# tests/data/comtrade_plus.csv: CHN's exports to PRK (TOTAL, stored under HS) in 2021-03 are
# $12,978,000 in all, $8,512,000 of it by road (mot 3200), a series of its own.
BY_ROAD = "partner2=0;customs=C00;mot=3200"
BREAKDOWN_VALUES = {"": {"2021-02": 3000.0, "2021-03": 12978000.0}, BY_ROAD: {"2021-03": 8512000.0}}
# A scan finds nothing in two months of data: a finding on the part, known in advance.
ROAD_FINDING = {
    "kind": "spike",
    "reporter": "CHN",
    "partner": "PRK",
    "flow": "export",
    "commodity": "TOTAL",
    "breakdown": BY_ROAD,
    "period": "2021-03",
    "period_end": "2021-03",
    "observed": 8512000.0,
    "expected": 2000000.0,
    "impact": 6512000.0,
    "score": 0.9,
    "severity": "high",
    "explanation": "March 2021 exports by road $8.5M against about $2.0M expected.",
    "evidence": {"lower": 1500000.0, "upper": 2500000.0},
}


def breakdowns(path: Path) -> Store:
    """tests/data/comtrade_plus.csv ingested, with a scan of ``ROAD_FINDING``."""
    from tradesentry.store import open_store

    store = open_store(path)
    store.ingest(Path(__file__).parents[1] / "data" / "comtrade_plus.csv")
    save_scan(store, [ROAD_FINDING])
    return store


@pytest.fixture
def breakdowns_store(tmp_path: Path) -> Store:
    store = breakdowns(tmp_path / "breakdowns.duckdb")
    yield store
    store.close()


# UN Comtrade's annual data for one series: a spike in 2016, no figure for 2012.
ANNUAL_CSV = "reporter,partner,flow,commodity,period,value,period_months,freq\n" + "".join(
    f"CHN,PRK,import,TOTAL,{year},{9e8 if year == 2016 else 1e8 * (1 + (year % 3) / 50)},12,A\n"
    for year in range(2005, 2022)
    if year != 2012
)
ANNUAL_SERIES = "/series/CHN/PRK/import/TOTAL"


def scanned(path: Path, csv_text: str) -> Store:
    """A store at ``path`` holding ``csv_text`` (canonical CSV), ingested and scanned."""
    from tradesentry import api
    from tradesentry.store import open_store

    data = path.with_suffix(".csv")
    data.write_text(csv_text, encoding="utf-8")
    store = open_store(path)
    store.ingest(data)
    api.scan(store)
    return store


def annual(path: Path) -> Store:
    """An annual series with the findings a real scan gives it (a spike, a gap)."""
    return scanned(path, ANNUAL_CSV)


@pytest.fixture
def annual_store(tmp_path: Path) -> Store:
    store = annual(tmp_path / "annual.duckdb")
    yield store
    store.close()


# -- one series held both monthly and annually (UN Comtrade's monthly and annual data) -----
# USA's exports to CAN: monthly 2015-2021 with a spike in May 2017, annual 2005-2021 with a
# spike in 2016 and no figure for 2012: two series of the same codes.
BOTH_SERIES = "/series/USA/CAN/export/TOTAL"
BOTH_CSV = (
    "reporter,partner,flow,commodity,period,value,period_months,freq\n"
    + "".join(
        f"USA,CAN,export,TOTAL,{year}-{month:02d},"
        f"{9e9 if (year, month) == (2017, 5) else 1e9 * (1 + (month % 3) / 50)},1,M\n"
        for year in range(2015, 2022)
        for month in range(1, 13)
    )
    + "".join(
        f"USA,CAN,export,TOTAL,{year},{9e10 if year == 2016 else 1.2e10 * (1 + (year % 3) / 50)}"
        ",12,A\n"
        for year in range(2005, 2022)
        if year != 2012
    )
)


def both_freqs(path: Path) -> Store:
    """USA → CAN exports held monthly and annually, scanned (findings on each series)."""
    return scanned(path, BOTH_CSV)


@pytest.fixture
def both_freqs_store(tmp_path: Path) -> Store:
    store = both_freqs(tmp_path / "both.duckdb")
    yield store
    store.close()


def yen_and_dollar_scan(store: Store, folder: Path) -> int:
    """A saved scan of two spikes in January 2021: ¥2.25 trillion at stake in Japan's
    imports from China (about $20 billion at the store's 110 yen to the dollar) and $82.4
    billion in the United States': the dollars are more at stake, the yen the larger
    number. Returns the scan id."""
    from tradesentry import api

    rates = folder / "rates.csv"
    rates.write_text("currency,period,per_usd\nJPY,2021-01,110\n")
    api.load_rates(store, rates)
    base = {"kind": "spike", "partner": "CHN", "flow": "import", "commodity": "TOTAL"}
    base |= {"period": "2021-01", "period_end": "2021-01", "observed": 1.0, "expected": 1.0}
    base |= {"score": 0.9, "severity": "high", "explanation": "", "evidence": {}}
    return save_scan(
        store,
        [
            {**base, "reporter": "JPN", "currency": "JPY", "impact": 2.25e12},
            {**base, "reporter": "USA", "currency": "USD", "impact": 8.24e10},
        ],
    )
