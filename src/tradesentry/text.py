"""Numbers and text as people read them: money, sparklines, CSV cells that are safe to open."""

from __future__ import annotations

import math

import numpy as np

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
_BLOCKS = "▁▂▃▄▅▆▇█"


def money(value: float | None, currency: str = "USD") -> str:
    """$3.0K, $12.9M, €1.2B; other currencies as '1.2M KRW'. Missing values as 'n/a'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    sign = "-" if value < 0 else ""
    amount = abs(float(value))
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if amount >= limit:
            text = f"{amount / limit:.1f}{suffix}"
            break
    else:
        text = f"{amount:,.0f}"
    symbol = _SYMBOLS.get(currency)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency}"


def sparkline(values: np.ndarray) -> str:
    """The series on a log scale in eight block heights; a gap for a missing month."""
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v) & (v > 0)
    if not ok.any():
        return ""
    logs = np.log10(np.where(ok, v, np.nan))
    lo, hi = np.nanmin(logs), np.nanmax(logs)
    span = hi - lo or 1.0
    idx = np.where(ok, np.round((logs - lo) / span * (len(_BLOCKS) - 1)), -1).astype(int)
    return "".join(_BLOCKS[i] if i >= 0 else " " for i in idx)


def csv_safe(value):
    """Neutralise spreadsheet formulas: a text cell starting with = + - @ gets a leading quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
