"""tradesentry: flag the figures in official trade statistics that do not add up, and say why.

>>> import tradesentry
>>> store = tradesentry.open_store("trade.duckdb")
>>> result = store.ingest(tradesentry.demo_file())  # the bundled China–North Korea case
>>> findings = store.scan()
>>> findings.to_frame().head()
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING

__version__ = "0.1.0"

# The public names, imported on first use: ``import tradesentry`` (and the command line,
# whose entry point lives in the package) starts without loading pandas, DuckDB and NumPy,
# so a Ctrl-C in the first second is the command's to handle, not a traceback in an import.
_PUBLIC: dict[str, str] = {
    "EngineUnavailable": "tradesentry.errors",
    "Findings": "tradesentry.findings",
    "IngestResult": "tradesentry.store",
    "InputError": "tradesentry.errors",
    "Panel": "tradesentry.panel",
    "SeriesView": "tradesentry.api",
    "Store": "tradesentry.store",
    "StoreError": "tradesentry.errors",
    "TradesentryError": "tradesentry.errors",
    "findings": "tradesentry.api",
    "open_store": "tradesentry.store",
    "scan": "tradesentry.api",
    "series": "tradesentry.api",
}

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
    "demo_file",
    "findings",
    "open_store",
    "scan",
    "series",
]

if TYPE_CHECKING:  # what type checkers and editors read
    from pathlib import Path

    from tradesentry.api import SeriesView, findings, scan, series
    from tradesentry.errors import EngineUnavailable, InputError, StoreError, TradesentryError
    from tradesentry.findings import Findings
    from tradesentry.panel import Panel
    from tradesentry.store import IngestResult, Store, open_store


class _Package(types.ModuleType):
    """The package, whose ``findings`` is the api's function, as ``__all__`` says. A
    submodule's first import sets its name on the package, and ``tradesentry.findings``
    (the module of the finding contract) would shadow the function once loaded; the
    eager imports this package once made bound the function after it."""

    def __getattribute__(self, name: str):
        if name == "findings":
            from tradesentry.api import findings

            return findings
        return super().__getattribute__(name)


sys.modules[__name__].__class__ = _Package


def demo_file() -> Path:
    """The bundled release of China's exports to and imports from North Korea, 2019 to mid
    2021 (``make demo``'s and ``tradesentry demo``'s data; its sources in the data folder's
    ``cn_kp_README.md``), to ``ingest``. A bare file name only worked run from the package's
    data folder; this is its path wherever the package is installed."""
    from importlib import resources
    from pathlib import Path

    return Path(str(resources.files(__name__).joinpath("data/cn_kp_monthly_2019_2021h1.csv")))


def __getattr__(name: str):
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'tradesentry' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # once: later reads find it without this function
    return value
