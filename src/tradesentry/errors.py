"""The exceptions tradesentry raises, one family so callers can catch them all."""

from __future__ import annotations


class TradesentryError(Exception):
    """Base class: every error tradesentry raises on purpose is one of these."""


class InputError(TradesentryError):
    """A file or an argument cannot be used as given (exit code 2 on the command line)."""


class StoreError(TradesentryError):
    """The store cannot be opened or written (locked by another process, wrong schema…)."""


class EngineUnavailable(TradesentryError):
    """An optional engine or extra is not installed; the message names the extra."""


class FetchError(TradesentryError):
    """A remote API answered with an error or could not be reached."""
