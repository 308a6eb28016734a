"""Fetch clients: bring a remote source's data into the store as releases.

One module per remote source. ``comtrade`` speaks to the UN Comtrade Plus API; each batch
it fetches is saved as the API's own JSON (its records as sent, in a canonical form that
leaves out the call's ``elapsedTime``) next to the store and ingested by the matching
reader, so a fetched release is exactly as reproducible as an ingested file, and the same
figures fetched again are the same file.
"""

from __future__ import annotations

from tradesentry.fetch.comtrade import (
    FetchedRelease,
    FetchReport,
    PlannedRequest,
    fetch_comtrade,
)

__all__ = ["FetchReport", "FetchedRelease", "PlannedRequest", "fetch_comtrade"]
