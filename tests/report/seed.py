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
    as ``{"flow": ["import"]}`` for a filtered scan); returns the scan id."""
    con = store.con.cursor()
    scan_id = con.execute(
        "INSERT INTO scans (started_at, parameters, findings) VALUES (?, ?, ?) RETURNING id",
        [datetime.now(), json.dumps({"engine": "test", **(parameters or {})}), len(records)],
    ).fetchone()[0]
    for rec in records:
        key = (rec["reporter"], rec["partner"], rec["flow"], "HS", rec["commodity"], "")
        con.execute(
            "INSERT INTO findings (scan_id, id, kind, reporter, partner, flow, commodity, "
            "classification, breakdown, period, period_end, observed, expected, currency, "
            "impact, score, severity, explanation, evidence) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 'HS', '', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                scan_id,
                rec.get("id") or stable_id(rec["kind"], key, rec["period"], rec["period_end"]),
                rec["kind"],
                rec["reporter"],
                rec["partner"],
                rec["flow"],
                rec["commodity"],
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
    """A canonical CSV whose commodity is markup (ingest keeps commodity text as given)."""
    path = folder / "evil.csv"
    rows = ["reporter,partner,flow,classification,commodity,period,period_months,value,currency"]
    for month in range(1, 13):
        value = 1000.0 if month != 6 else 5.0
        rows.append(f'CHN,PRK,export,HS,"{EVIL}",2021-{month:02d},1,{value},USD')
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def evil_findings() -> list[dict]:
    """Findings whose text invites markup and spreadsheet formulas."""
    base = {
        "reporter": "CHN",
        "partner": "PRK",
        "flow": "export",
        "commodity": EVIL,
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
