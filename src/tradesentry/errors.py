"""The exceptions tradesentry raises, one family so callers can catch them all."""

from __future__ import annotations

import threading

#: Set by the command line's Ctrl-C handler while a command runs. DuckDB raises an error of
#: its own in place of the KeyboardInterrupt it meets in a query (DuckDB 2.0: RuntimeError
#: "Query interrupted"); after Ctrl-C, that error is the interrupt (``raise_if_interrupted``).
INTERRUPTED = threading.Event()


class TradesentryError(Exception):
    """Base class: every error tradesentry raises on purpose is one of these."""


class InputError(TradesentryError):
    """A file or an argument cannot be used as given (exit code 2 on the command line)."""


class SeriesChoice(InputError):
    """Four codes that name no one series: the store holds them under several
    classifications, frequencies (monthly and annual) or breakdowns and none was picked, or
    not under the one asked for.

    What a caller needs to offer the choice (the dashboard links each): ``param``
    ("classification", "freq" or "breakdown"), the values ``held``, the value ``asked``
    (None: none given), the normalised ``key``, every classification the codes are held
    under, the ``classification`` a frequency or a breakdown was looked for under, the
    ``freq`` asked for or chosen so far (None: none yet) and the ``freqs`` held under that
    classification (a link to a monthly series names its frequency only where there are
    several).
    """

    def __init__(
        self,
        message: str,
        *,
        key: dict,
        classifications: list[str],
        param: str,
        held: list[str],
        asked: str | None = None,
        classification: str | None = None,
        freq: str | None = None,
        freqs: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.key, self.classifications, self.param = key, classifications, param
        self.held, self.asked, self.classification = held, asked, classification
        self.freq, self.freqs = freq, freqs or []


class StoreError(TradesentryError):
    """The store cannot be opened or written (locked by another process, wrong schema…)."""


class EngineUnavailable(TradesentryError):
    """An optional engine or extra is not installed; the message names the extra."""


class FetchError(TradesentryError):
    """A remote API answered with an error or could not be reached."""


def raise_if_interrupted(error: BaseException) -> None:
    """Raise KeyboardInterrupt, from ``error``, where Ctrl-C came before it.

    For code that catches ``Exception`` to retry or to carry on (the watcher's steps): the
    error DuckDB raises for an interrupted query would otherwise be retried as a failure,
    and the interrupted command go on to its end and exit 0.
    """
    if INTERRUPTED.is_set():
        raise KeyboardInterrupt from error
