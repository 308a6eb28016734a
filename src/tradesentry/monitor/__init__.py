"""The monitor: what is new since the last scan, the digest of a release, and the watch loop.

``history`` compares scans by the findings' stable ids; ``digest`` writes the briefing on
a release (``render`` as Markdown or HTML, ``words`` for the phrasing); ``watch`` ingests
files as they appear (or fetches a watchlist), scans, writes digests and posts the new
findings to a webhook (``webhook``).
"""

from tradesentry.monitor.digest import Digest, Move, Revision
from tradesentry.monitor.history import compare, previous_scan, scans
from tradesentry.monitor.watch import CycleReport, Watcher, Watchlist, load_watchlist, watch

__all__ = [
    "CycleReport",
    "Digest",
    "Move",
    "Revision",
    "Watcher",
    "Watchlist",
    "compare",
    "load_watchlist",
    "previous_scan",
    "scans",
    "watch",
]
