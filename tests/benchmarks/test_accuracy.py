"""The accuracy benchmark's sources: what it reads from the real data is what the data says."""

from __future__ import annotations

import gzip

import accuracy
import numpy as np
import pandas as pd


def test_guinea_declarations_are_summed_into_monthly_lines(shared_data):
    """Values with a decimal comma (some in scientific form) are read as numbers, and the
    declarations of a line, partner and month are summed, never one of them picked."""
    path = shared_data / "raw" / "itc_guinea_export_declarations" / "trade.csv.gz"
    with gzip.open(path, "rt", encoding="utf-8-sig") as fh:
        raw = pd.read_csv(fh, sep=";", dtype=str)
    assert raw["val"].str.contains("E+", regex=False).any()  # the case the parser must read
    name, values, start, keys = accuracy.load_guinea()
    assert name == "guinea" and start == "2015-01" and values.shape == (len(keys), 48)
    assert len(keys) >= 30 and set(keys["currency"]) == {"GNF"}
    assert ((values > 0).sum(axis=1) >= 30).all()
    i = int(np.nanargmax(np.nansum(values, axis=1)))  # the largest line: check it by hand
    line, partner = keys.loc[i, "commodity"], keys.loc[i, "partner"]
    rows = raw[(raw["ntlc"].str.zfill(8) == line) & (raw["parttr"] == partner)]
    by_month = rows.groupby("month")["val"].apply(
        lambda v: sum(float(x.replace(",", ".")) for x in v)
    )
    assert len(rows) > len(by_month)  # several declarations in some months
    month = by_month.index[0]
    column = (int(month[:4]) - 2015) * 12 + int(month[4:]) - 1
    assert values[i, column] == by_month.iloc[0]


def test_documented_events_are_found(shared_data):
    """Real events with dates on record, found on the untouched real series."""
    national = accuracy.documented_events()
    assert (national["2008 collapse of world trade"] == "found").all()
    assert (national["2018 US–China tariffs"] == "found").sum() >= 3
    minerals = accuracy.documented_mineral_events().set_index("group")
    graphite = minerals.loc["Graphite", "export controls from December 2023"]
    assert graphite == "level_shift 2023-12"
    assert minerals.loc["Rare Earths", "COVID-19 shutdown in China"] == "dip 2020-02"


def test_the_sparse_lines_benchmark_measures_injected_shifts(shared_data):
    import sparse_shifts

    result = sparse_shifts.measure(replicates=1)
    assert result["lines"] > 10 and result["events"] > 0
    assert 0.0 <= result["recall"] <= 1.0 and result["untouched_per_100"] >= 0.0
