"""Numbers and text as people read them: money, sparklines, CSV cells that are safe to open."""

from __future__ import annotations

import math

import numpy as np

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
_BLOCKS = "▁▂▃▄▅▆▇█"


def money(value: float | None, currency: str = "USD") -> str:
    """$3.0K, $12.9M, €1.2B; other currencies as '1.2M KRW'. Missing values as 'n/a'."""
    return _money(value, currency, 0)


def money_pair(first: float | None, second: float | None, currency: str = "USD") -> tuple[str, str]:
    """Two amounts compared in one sentence, as ``money`` prints them, but with as many more
    digits as it takes for different amounts to read differently (€1.20M and €1.17M, not
    €1.2M twice): a reader shown the same number twice cannot see the change."""
    texts = (money(first, currency), money(second, currency))
    if _missing(first) or _missing(second) or first == second:
        return texts
    extra = 1
    while texts[0] == texts[1] and extra <= _MAX_EXTRA_DIGITS:
        texts = (_money(first, currency, extra), _money(second, currency, extra))
        extra += 1
    return texts


def plural(count: int, word: str, many: str | None = None) -> str:
    """'1 month', '3 months' (``many`` for irregular plurals)."""
    return f"{count:,} {word if count == 1 else many or word + 's'}"


_MAX_EXTRA_DIGITS = 6


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _money(value: float | None, currency: str, extra: int) -> str:
    """``money`` with ``extra`` more decimals than its usual one (none below a thousand)."""
    if _missing(value):
        return "n/a"
    sign = "-" if value < 0 else ""
    amount = abs(float(value))
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if amount >= limit:
            text = f"{amount / limit:.{1 + extra}f}{suffix}"
            break
    else:
        text = f"{amount:,.{extra}f}"
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
