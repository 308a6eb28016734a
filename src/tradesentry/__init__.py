"""tradesentry: flag the figures in official trade statistics that do not add up, and say why.

>>> import tradesentry
>>> store = tradesentry.open_store("trade.duckdb")
>>> store.ingest("cn_kp_monthly_2019_2021h1.csv")
>>> findings = store.scan()
>>> findings.to_frame().head()
"""

from tradesentry.api import SeriesView, findings, scan, series
from tradesentry.errors import EngineUnavailable, InputError, StoreError, TradesentryError
from tradesentry.findings import Findings
from tradesentry.panel import Panel
from tradesentry.store import IngestResult, Store, open_store

__version__ = "0.1.0"

__all__ = [
    "EngineUnavailable",
    "Findings",
    "IngestResult",
    "InputError",
    "Panel",
    "SeriesView",
    "Store",
    "StoreError",
    "TradesentryError",
    "findings",
    "open_store",
    "scan",
    "series",
]
