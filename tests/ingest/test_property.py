"""Property: for any mix of good and bad records, in any format, nothing is lost.

The counts reconcile (every line read is accepted or quarantined) and the good records come
back exactly: the same keys, the same values, no more, no fewer.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.ingest.kit import FORMATS, record
from tradesentry.store import open_store

KEY = ("reporter", "partner", "flow", "commodity", "year", "month")

good_records = st.builds(
    record,
    reporter=st.sampled_from(["CHN", "DEU", "KOR"]),
    partner=st.sampled_from(["PRK", "FRA", "JPN"]),
    flow=st.sampled_from(["import", "export"]),
    commodity=st.sampled_from(["TOTAL", "27", "2701"]),
    year=st.sampled_from(["2019", "2020", "2021"]),
    month=st.integers(1, 12).map(lambda m: f"{m:02d}"),
    value=st.one_of(
        st.integers(0, 10**12).map(str),
        st.decimals(0, 10**9, places=2, allow_nan=False).map(str),
    ),
)
# How a record goes bad; each keeps a key of its own (commodity BAD…), so it cannot hide a
# good record.
SPOIL = {
    "not a number": {"value": "12x4"},
    "negative": {"value": "-7"},
    "month 13": {"month": "13"},
    "unknown partner": {"partner": "XXX"},
    "unknown flow": {"flow": "transit"},
}
entries = st.one_of(
    good_records.map(lambda r: ("good", r)),
    st.tuples(st.sampled_from(sorted(SPOIL)), good_records).map(lambda t: ("bad", t)),
    st.integers(0, 50).map(lambda i: ("duplicate", i)),
)


def build(drawn: list) -> tuple[list[dict], list[dict], int]:
    """The file's records, the good ones expected back, and how many are bad."""
    records: list[dict] = []
    kept: dict[tuple, dict] = {}
    bad = 0
    for kind, what in drawn:
        if kind == "good":
            key = tuple(what[k] for k in KEY)
            if key in kept:
                bad += 1  # a repeat of a key: a duplicate
            else:
                kept[key] = what
            records.append(what)
        elif kind == "bad":
            spoil, base = what
            records.append({**base, **SPOIL[spoil], "commodity": f"BAD{len(records)}"})
            bad += 1
        elif kept:  # an exact copy of a good record seen before
            records.append(dict(list(kept.values())[what % len(kept)]))
            bad += 1
    return records, list(kept.values()), bad


@pytest.mark.parametrize("fmt", FORMATS.values(), ids=FORMATS)
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=st.lists(entries, min_size=1, max_size=30))
def test_counts_reconcile_and_good_records_come_back(fmt, drawn):
    records, good, bad = build(drawn)
    if not records:
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with open_store(work / "store.duckdb") as store:
            result = store.ingest(fmt.file(work, records), **fmt.ingest_args(work))
            n = fmt.lines_per_record
            assert result.rows_read == len(records) * n
            assert result.rows_read == result.rows_accepted + result.rows_quarantined
            assert result.rows_quarantined == bad * n
            assert len(store.quarantine()) == result.rows_quarantined
            got = sorted(
                (r.reporter, r.partner, r.flow, r.commodity, r.period.strftime("%Y-%m"), r.value)
                for r in store.observations().itertuples()
            )
    want = sorted(
        (r["reporter"], r["partner"], r["flow"], r["commodity"], f"{r['year']}-{r['month']}",
         float(r["value"]))
        for r in good
    )  # fmt: skip
    assert [g[:5] for g in got] == [w[:5] for w in want]
    assert [g[5] for g in got] == pytest.approx([w[5] for w in want], rel=1e-12)
