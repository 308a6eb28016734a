"""A reporter's record that moved as a whole (``detectors.along``, ``context.reporter_along``):
read once for the findings of every detector that names it, and said in their words."""

from __future__ import annotations

import numpy as np
import pytest

from tradesentry import api

PARTNERS = ["BEL", "DEU", "FRA", "ITA", "ESP", "POL", "SWE", "AUT", "DNK", "FIN"]
CODES = ("3920", "3921", "4811")


def _record(tmp_path, falling: int, near_zero: dict[int, int], world: bool = False):
    """The Netherlands' imports of 30 series (10 partners × 3 codes), 2023–2025: the first
    ``falling`` at a tenth from January 2025; series ``k`` of ``near_zero`` at a
    ten-thousandth in month ``near_zero[k]`` only. With ``world``, each code's sum over the
    partners as the world's series too."""
    rng = np.random.default_rng(3)
    rows = ["reporter,partner,flow,commodity,period,value,currency"]
    world_sums: dict[tuple[str, int], float] = {}
    for k, (partner, code) in enumerate((p, c) for p in PARTNERS for c in CODES):
        for m in range(36):
            value = 1e5 * (k + 1) * np.exp(rng.normal(0, 0.1))
            if k < falling and m >= 24:
                value *= 0.1
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
    assert (month["partner"], month["commodity"], month["period"]) == ("FIN", "4811", "2025-01")
    assert month["evidence"]["along_direction"] == "down"
    assert month["evidence"]["along_moved"] == falling
    assert ("At the same time " in month["explanation"]) is said
    assert ("not a plausible amount of trade" in month["explanation"]) is not said


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
