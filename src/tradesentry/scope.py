"""What a saved scan looked at, so that a page never shows a series it skipped as clean.

``tradesentry scan --flow import`` scans the import series only; its findings say nothing
of the export series, which must read "not scanned", never "0 findings". The scope is
read from the scan's saved parameters (``api.scan_info``); nothing here runs a query. So is
its watermark, the newest release the store held when it ran: a series with figures from
a release ingested since is "not scanned" either, whatever the filters.
``api.covering_scan`` asks the same question of one series: which saved scan covered it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from tradesentry.detectors import registry
from tradesentry.findings import last_month

# The scan filters that select whole series (api.scan), in the order they are described.
KEY_FILTERS = ("reporter", "partner", "flow", "commodity")


def _as_tuple(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """A saved filter (None, one code, or a list of codes) as a tuple; () for "all"."""
    if not value:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


@dataclass(frozen=True)
class ScanScope:
    """A scan's filters on the series key, its detectors and its ``since`` month."""

    scan_id: int | None = None
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    kinds: tuple[str, ...] = ()
    since: str | None = None
    release: int | None = None  # the newest release the store held when the scan ran
    store_release: int | None = None  # the newest release it holds now

    @classmethod
    def of(cls, scan: Mapping | None) -> ScanScope:
        """The scope of ``scan`` (as ``api.scan_info`` returns it; None: no scan yet)."""
        if not scan:
            return cls()
        params = scan.get("parameters") or {}
        filters = {c: _as_tuple(params.get(c)) for c in KEY_FILTERS}
        kinds = _as_tuple(params.get("kinds"))
        return cls(
            scan_id=scan.get("id"),
            filters={c: v for c, v in filters.items() if v},
            # Naming every detector is no limit (as api.covering_scan reads it).
            kinds=() if set(kinds) >= set(registry()) else kinds,
            since=params.get("since"),
            release=_release(scan.get("release")),
            store_release=_release(scan.get("store_release")),
        )

    @property
    def scanned(self) -> bool:
        return self.scan_id is not None

    @property
    def complete(self) -> bool:
        """Whether the scan ran every detector and kept every finding (no ``since``): only
        then does it say of a series it covered that it has no other finding."""
        return self.scanned and not self.kinds and not self.since

    @property
    def stale(self) -> bool:
        """Whether releases were ingested after the scan (a scan saved before scans kept
        their watermark cannot tell, and is taken as current)."""
        return (
            self.scanned
            and self.release is not None
            and self.store_release is not None
            and self.store_release > self.release
        )

    @property
    def after(self) -> tuple[int, int] | None:
        """The releases ingested after the scan, (first, last); None where there are none."""
        return (self.release + 1, self.store_release) if self.stale else None

    @property
    def whole_store(self) -> bool:
        """Whether the scan selected every series of the store as it is now (it may still
        have run some kinds only)."""
        return self.scanned and not self.filters and not self.stale

    def covers(self, row: Mapping) -> bool:
        """Whether the scan looked at the series ``row`` (a mapping with its key columns,
        and its ``newest_release`` where releases came after the scan)."""
        if not self.scanned:
            return False
        newest = row.get("newest_release")
        if self.stale and newest is not None and not pd.isna(newest) and newest > self.release:
            return False
        return all(row[column] in wanted for column, wanted in self.filters.items())

    def outside(
        self,
        filters: Mapping,
        kinds: Iterable[str] | str | None = None,
        since: str | None = None,
    ) -> list[str]:
        """What a query of the scan's findings (``api.findings``: series ``filters`` as
        ``arguments.series_filters`` gives them, ``kinds``, ``since``) asks of that the scan
        did not look at, in words; [] where it looked at all of it. Only what is asked is
        weighed: a query of no flow reads the flows the scan selected (its scope says
        which), but flow export of a scan limited to imports, or level shifts of a scan of
        spikes, read "0 findings", an all-clear no scan gave."""
        out = []
        for column in KEY_FILTERS:
            wanted = self.filters.get(column)
            missed = [v for v in _as_tuple(filters.get(column)) if wanted and v not in wanted]
            if missed:
                out.append(f"{column} {', '.join(missed)}")
        missed = [k for k in _as_tuple(kinds) if self.kinds and k not in self.kinds]
        if missed:
            out.append(f"kind {', '.join(missed)}")
        if since and self.since and since < self.since:
            out.append(f"findings ending before {self.since}")
        return out

    def covered(self, series: pd.DataFrame) -> pd.Series:
        """``covers`` for every row of a frame of series at once (no loop per series)."""
        mask = pd.Series(self.scanned, index=series.index)
        for column, wanted in self.filters.items():
            mask &= series[column].isin(wanted)
        if self.stale and "newest_release" in series:
            mask &= ~(series["newest_release"] > self.release)
        return mask

    def holds(self, found: pd.DataFrame) -> pd.Series:
        """Whether the scan would have kept each finding of ``found`` had it been there:
        its series selected, its kind run, its last month in or after ``since``. Findings
        of two scans of other scopes are compared only where both would hold them."""
        mask = self.covered(found)
        if self.kinds:
            mask &= found["kind"].isin(self.kinds)
        if self.since and len(found):
            mask &= last_month(found) >= self.since
        return mask

    def terms(self) -> list[str]:
        """The scan's limits in words, for the banner: ["flow: import", "detectors: dip"]."""
        out = [f"{column}: {', '.join(self.filters[column])}" for column in self.filters]
        if self.kinds:
            out.append(f"detectors: {', '.join(self.kinds)}")
        if self.since:
            out.append(f"findings ending in or after {self.since}")
        return out

    def summary(self, series_index: pd.DataFrame | None, total_series: int) -> dict:
        """What the banner and the summary read: the limits and the series the scan covered.

        ``series_index`` (``api.series_index``) is only read when the scan was filtered:
        an unfiltered scan covered every series of the store.
        """
        if not self.scanned:
            covered = 0
        elif self.whole_store or series_index is None:
            covered = total_series
        else:
            covered = int(self.covered(series_index).sum())
        return {
            "scan_id": self.scan_id,
            "filtered": bool(self.filters) or self.stale,
            "partial": bool(self.filters or self.kinds or self.since),
            "after": self.after,
            "terms": self.terms(),
            "kinds": list(self.kinds),
            "series_scanned": covered,
            "series_total": total_series,
        }

    def mark_series(self, rows: list[dict]) -> list[dict]:
        """Series rows with ``scanned``: False where the scan's filter left them out."""
        return [{**row, "scanned": self.covers(row)} for row in rows]

    def pair_coverage(self, series_index: pd.DataFrame | None) -> dict[tuple[str, str], int]:
        """Series the scan covered per (reporter, partner); empty when it covered them all."""
        if self.whole_store or series_index is None:
            return {}
        per_pair = (
            self.covered(series_index)
            .groupby([series_index["reporter"], series_index["partner"]])
            .sum()
        )
        return {key: int(n) for key, n in per_pair.items()}

    def mark_pairs(self, rows: list[dict], series_index: pd.DataFrame | None) -> list[dict]:
        """Pair rows with ``series_scanned`` (how many of its ``series`` the scan covered)."""
        if not self.scanned:
            return [{**row, "series_scanned": 0} for row in rows]
        counts = self.pair_coverage(series_index)
        return [
            {**row, "series_scanned": counts.get((row["reporter"], row["partner"]), row["series"])}
            for row in rows
        ]


def _release(value) -> int | None:
    """A release id as saved (NaN or None where the scan kept no watermark)."""
    return None if value is None or pd.isna(value) else int(value)
