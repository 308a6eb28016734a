"""A reporter's record that moved as a whole (``detectors.along``, ``context.reporter_along``):
read once for the findings of every detector that names it, and said in their words."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradesentry import api
from tradesentry.context import reporter_along
from tradesentry.store import open_store

PARTNERS = ["BEL", "DEU", "FRA", "ITA", "ESP", "POL", "SWE", "AUT", "DNK", "FIN"]
CODES = ("3920", "3921", "4811")


def _record(
    tmp_path,
    falling: int,
    near_zero: dict[int, int],
    world: bool = False,
    rise_from: int | None = None,
    last_partners: int | None = None,
    partial_from: int = 35,
    fall_at: int = 24,
):
    """The Netherlands' imports of 30 series (10 partners × 3 codes), 2023–2025: the first
    ``falling`` at a tenth from January 2025 (month ``fall_at`` of 36), those from
    ``rise_from`` three times as much;
    series ``k`` of ``near_zero`` at a ten-thousandth in month ``near_zero[k]`` only. With
    ``world``, each code's sum over the partners as the world's series too; with
    ``last_partners``, the months from ``partial_from`` (December 2025) hold only that
    many partners' figures."""
    rng = np.random.default_rng(3)
    rows = ["reporter,partner,flow,commodity,period,value,currency"]
    world_sums: dict[tuple[str, int], float] = {}
    for k, (partner, code) in enumerate((p, c) for p in PARTNERS for c in CODES):
        for m in range(36):
            value = 1e5 * (k + 1) * np.exp(rng.normal(0, 0.1))
            if k < falling and m >= fall_at:
                value *= 0.1
            if rise_from is not None and k >= rise_from and m >= 24:
                value *= 3.0
            if last_partners is not None and m >= partial_from and k >= 3 * last_partners:
                continue
            if near_zero.get(k) == m:
                value *= 1e-4
            world_sums[code, m] = world_sums.get((code, m), 0.0) + value
            period = f"{2023 + m // 12}-{m % 12 + 1:02d}"
            rows.append(f"NLD,{partner},import,{code},{period},{value},EUR")
    if world:
        for (code, m), value in world_sums.items():
            period = f"{2023 + m // 12}-{m % 12 + 1:02d}"
            rows.append(f"NLD,WLD,import,{code},{period},{value},EUR")
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    return tmp_path / "t.csv"


@pytest.mark.parametrize(("falling", "said"), [(24, True), (2, False)], ids=["record", "two"])
def test_a_month_near_zero_says_where_the_record_fell_with_it(store, tmp_path, falling, said):
    """China's graphite to the US, $2,246 in December 2023 among months of millions, was
    "not a plausible amount of trade", high, the month 44 of China's 77 series in the store
    fell to half or less (its export controls). A single month's finding is counted with
    the level shifts of its record and month (two level shifts and it make three findings,
    which the record is read for, but two series of thirty are no record moving), and
    where the record moved as a whole it says so, and is no implausible amount."""
    store.ingest(_record(tmp_path, falling, {29: 24}))
    found = api.scan(store, kinds=["implausible", "level_shift"], save=False).to_records()
    (month,) = [f for f in found if f["kind"] == "implausible"]
    # a scan of the month's own series reads it as the full scan does (a sanctions
    # monitor's read: China's graphite to the US "not a plausible amount of trade" when
    # scanned alone, the record's fall when scanned with the rest)
    (alone,) = api.scan(store, partner="FIN", commodity="4811", save=False).to_records()
    assert alone["explanation"] == month["explanation"]
    assert (month["partner"], month["commodity"], month["period"]) == ("FIN", "4811", "2025-01")
    # two series of thirty could not have moved the record: it is not read further (read
    # in its month alone, the month's own series fell with the others)
    assert month["evidence"].get("along_moved") == (falling + 1 if said else None)
    assert ("At the same time " in month["explanation"]) is said
    assert ("not a plausible amount of trade" in month["explanation"]) is not said
    # the month's own series need not have fallen over the three months the others did
    assert "fell to half or less too" not in month["explanation"]


def test_a_named_group_beside_its_lines_is_not_counted_again(store, tmp_path):
    """A named group of lines ("PLASTICS": a publisher's or a mapping's sum, here of two
    codes for each partner) beside its lines is an aggregate, as a total or a chapter is:
    China's "51 of the 108 series" of critical minerals that fell counted 7 group totals
    beside their own HS6 lines."""
    path = _record(tmp_path, 24, {29: 24})
    lines = pd.read_csv(path, dtype={"commodity": str})
    group = (
        lines[lines["commodity"].isin(["3920", "3921"])]
        .groupby(["reporter", "partner", "flow", "period", "currency"], as_index=False)["value"]
        .sum()
        .assign(commodity="PLASTICS")
    )
    pd.concat([lines, group[lines.columns]]).to_csv(path, index=False)
    store.ingest(path)
    found = api.scan(store, kinds=["implausible", "level_shift"], save=False).to_records()
    (month,) = [f for f in found if f["kind"] == "implausible"]
    assert month["evidence"]["along_moved"] == 25  # the 24 that fell and its own
    assert month["evidence"]["along_trading"] == 30


def test_a_month_alone_in_its_record_is_read_for_nothing(store, tmp_path):
    """Fewer than three findings of a record and month, whatever their kinds, are no sign
    of the record moving: no read, no words."""
    store.ingest(_record(tmp_path, 0, {29: 24, 28: 24}))
    found = api.scan(store, kinds=["implausible", "level_shift"], save=False).to_records()
    months = [f for f in found if f["kind"] == "implausible"]
    assert len(months) == 2
    assert not any("along_moved" in f["evidence"] for f in months)


def test_a_world_series_keeps_its_partners_once_completed(store, tmp_path):
    """A world series' level shift read for the record lost the sentence that names the
    partners its change is in ("By partner, most of the fall is in …"): written again
    from the detector's words alone. Twenty Comext world series had lost it."""
    store.ingest(_record(tmp_path, 24, {}, world=True))
    found = api.scan(store, kinds=["level_shift"], save=False).to_records()
    worlds = [f for f in found if f["partner"] == "WLD" and f["period"] == "2025-01"]
    assert worlds
    for f in worlds:
        assert "along_moved" in f["evidence"]
        assert "By partner, " in f["explanation"], f["explanation"]


def test_a_record_whose_trade_moved_between_its_series_did_not_fall(store, tmp_path):
    """Estonia's imports of January 2025: 84 of 120 series halved, 16 doubled, and the
    record's trade was ×1.11; "something moved EST's imports at once" was not true of it.
    Half the series halving while the larger half triples: the falls say nothing of the
    record, the rises do (the record's trade ×2.25)."""
    store.ingest(_record(tmp_path, 15, {}, rise_from=15))
    found = api.scan(store, kinds=["level_shift"], save=False).to_records()
    month = [f for f in found if f["period"] == "2025-01"]
    falls = [f for f in month if f["evidence"]["direction"] == "down"]
    rises = [f for f in month if f["evidence"]["direction"] == "up"]
    assert len(falls) == len(rises) == 15
    assert all(f["evidence"]["along_total"] > 2 for f in rises)
    # the falls' record rose: it is not read for them further, nor said
    assert not any("along_total" in f["evidence"] for f in falls)
    assert not any("At the same time" in f["explanation"] for f in falls)
    assert all("doubled or more too" in f["explanation"] for f in rises)
    assert "all the series' trade ×2.2" in rises[0]["explanation"]


def _asked(reporter: str, partners: list[str], period: str, kind: str = "dip") -> pd.DataFrame:
    """Findings of one record and month, a fall each, as the scan assembles them."""
    return pd.DataFrame(
        {
            "kind": kind,
            "reporter": reporter,
            "partner": partners,
            "flow": "import",
            "commodity": "4811",
            "freq": "M",
            "period": period,
            "observed": 1.0,
            "expected": 2.0,
            "evidence": [{} for _ in partners],
        }
    )


def test_the_record_is_read_the_same_whichever_findings_ask(store, tmp_path):
    """The read is of the store, not of the scan: one finding of the month (a scan of one
    series) gets the record a scan of every series gives it, a world series the same; and
    a month the record did not move in gets none (a scan's count of findings in the month
    decided once, and a finding read one way alone and another way with the rest)."""
    store.ingest(_record(tmp_path, 24, {}))
    con = store.con.cursor()
    every = reporter_along(_asked("NLD", ["FIN", "DNK", "SWE", "WLD"], "2025-01"), con)
    assert sorted(every) == [0, 1, 2, 3] and every[3]["along_moved"] == 24
    for k, partner in enumerate(["FIN", "DNK", "SWE", "WLD"]):
        assert reporter_along(_asked("NLD", [partner], "2025-01"), con) == {0: every[k]}
    assert reporter_along(_asked("NLD", ["FIN", "DNK", "SWE"], "2024-06"), con) == {}


def test_a_month_whose_next_months_are_not_complete_is_not_read(store, tmp_path):
    """Comext's December 2025 held 2,243 partner cells where 7,800 are usual: a fall from
    October read December as part of it, and most of a record's series as fallen. A
    change is read only where the record's months after it are complete (a single month,
    in its month alone, only where that month is)."""
    for fall_at, month, read in ((33, "2025-10", False), (32, "2025-09", True)):
        store = open_store(tmp_path / f"{month}.duckdb")
        folder = tmp_path / month
        folder.mkdir()
        store.ingest(_record(folder, 24, {}, last_partners=2, fall_at=fall_at))
        con = store.con.cursor()
        asked = _asked("NLD", ["FIN", "DNK", "SWE"], month, kind="level_shift")
        assert bool(reporter_along(asked, con)) is read
        store.close()


def test_a_drop_of_coverage_before_the_latest_months_is_read(store, tmp_path):
    """Only a record's latest two months may be partial: a record that lost most of its
    series from August 2025, five months before its end, moved as a whole then, and is
    read (trimming every incomplete month from the end left that month unread)."""
    store.ingest(_record(tmp_path, 24, {}, last_partners=2, partial_from=31))
    con = store.con.cursor()
    assert reporter_along(_asked("NLD", ["FIN", "DNK", "SWE"], "2025-08"), con) != {}


def test_a_single_month_that_rose_across_the_record_is_read_in_its_month(store, tmp_path):
    """The Netherlands' exports of CN 85235910 rose at once on five partners in December
    2023 and were back the month after (QA): a single month's finding was read over the
    three months from it, so a one-month move of the record never registered. A spike, a
    dip or a figure near zero is read in its month alone."""
    path = _record(tmp_path, 0, {})
    rows = pd.read_csv(path, dtype={"commodity": str})
    month = rows["period"] == "2024-09"
    series = rows.groupby(["partner", "commodity"], sort=False).ngroup()
    moved = month & (series < 20)  # 20 of the 30 series, that month only
    rows.loc[moved, "value"] *= 8.0
    rows.to_csv(path, index=False)
    store.ingest(path)
    spikes = [f for f in api.scan(store, kinds=["spike"], save=False).to_records()
              if f["period"] == "2024-09"]  # fmt: skip
    assert len(spikes) >= 3
    ev = spikes[0]["evidence"]
    assert (ev["along_direction"], ev["along_trading"], ev["along_moved"]) == ("up", 30, 20)
    assert "At the same time 20 of the 30 series of NLD's imports" in spikes[0]["explanation"]
    assert "doubled or more (" in spikes[0]["explanation"]  # its own month, no "too"
