"""Numbers and text as people read them: money, ratios, periods, sparklines, safe CSV cells.

One formatter for each: every explanation, table and page says an amount with ``money``, a
ratio with ``ratio``/``factor``/``times`` and a period with ``period_name``/``period_label``,
so a figure reads the same wherever it is shown.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def currency_symbol(currency: str | None) -> str:
    """The symbol amounts in ``currency`` are written with ("$"), or "" where they are
    written with the code after them ("1.2M KRW")."""
    return _SYMBOLS.get(currency or "", "")


_BLOCKS = "▁▂▃▄▅▆▇█"


def money(
    value: float | None, currency: str = "USD", *, long: bool = False, approx: bool = False
) -> str:
    """$3.0K, $12.9M, €1.2B, $250, $1.35, $0.20; other currencies as '1.2M KRW'. Missing
    values as 'n/a'.

    Amounts under ten units show their cents ($1.35, $0.20; a whole amount as $3), and only
    an exact zero reads $0: an amount too small for a cent reads "under $0.01" (never $0,
    which would say nothing was recorded). Above a thousand trillion the digits are grouped
    ($3,000,000T), never "$3000000.0T"; from a trillion trillion a power of ten ($1.7×10^308).

    ``long`` is the style of news prose (the release digest): "$3,000", "$12.98 million",
    "€1.20 billion", "4.10 million KRW", with the same rules below ten units; a missing value
    reads "an unknown amount". ``approx`` is for estimates: three significant figures, no
    trailing zeros ("$108 million", "$191,000").
    """
    if approx and not missing(value):
        value = _significant(float(value), 3)
    return _money(value, currency, 0, long=long, approx=approx)


def money_pair(
    first: float | None, second: float | None, currency: str = "USD", *, long: bool = False
) -> tuple[str, str]:
    """Two amounts compared in one sentence, as ``money`` prints them, but with as many more
    digits as it takes for different amounts to read differently (€1.20M and €1.17M, not
    €1.2M twice): a reader shown the same number twice cannot see the change."""
    texts = (money(first, currency, long=long), money(second, currency, long=long))
    if missing(first) or missing(second) or first == second:
        return texts
    extra = 1
    while texts[0] == texts[1] and extra <= _MAX_EXTRA_DIGITS:
        texts = (
            _money(first, currency, extra, long=long),
            _money(second, currency, extra, long=long),
        )
        extra += 1
    return texts


def about(value: float | str | None, currency: str = "USD", *, long: bool = False) -> str:
    """An estimate inside a sentence: "about $3.0K"; an amount under a cent "less than
    $0.01" (never "about under $0.01"). ``value`` may be an amount ``money_pair`` wrote."""
    text = value if isinstance(value, str) else money(value, currency, long=long)
    if text.startswith("under "):
        return less_than(text)
    if text in ("n/a", "an unknown amount") or text.startswith("above "):
        return text
    return f"about {text}"


def less_than(value: float | str | None, currency: str = "USD", *, long: bool = False) -> str:
    """``money``, with an amount under a cent as "less than $0.01", which reads where
    "under $0.01" does not ("against less than $0.01 expected")."""
    text = value if isinstance(value, str) else money(value, currency, long=long)
    return "less than " + text[len("under ") :] if text.startswith("under ") else text


def the_expected(value: float | None, currency: str = "USD") -> str:
    """'the $3.0K expected', after '2.3 times' or '40% below'; an expectation under a cent
    as 'an expected value of less than $0.01' (never 'the under $0.01 expected')."""
    text = money(value, currency)
    if text.startswith("under "):
        return f"an expected value of {less_than(text)}"
    return f"the {text} expected"


def plural(count: int, word: str, many: str | None = None) -> str:
    """'1 month', '3 months' (``many`` for irregular plurals)."""
    return f"{count:,} {word if count == 1 else many or word + 's'}"


_MAX_EXTRA_DIGITS = 6


def missing(value: float | None) -> bool:
    """No figure: None, or NaN (a frame's empty cell)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def _significant(value: float, digits: int) -> float:
    """``digits`` significant figures: an estimate ($190,558 at stake) read as $191,000."""
    if not math.isfinite(value) or value == 0 or abs(value) >= _POWER_FROM:
        return value  # a power of ten shows its own figures (rounding 1.8e308 overflowed)
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def _money(
    value: float | None, currency: str, extra: int, *, long: bool = False, approx: bool = False
) -> str:
    """``money`` with ``extra`` more decimals than its usual ones."""
    if missing(value) or not math.isfinite(float(value)):  # an overflowed sum: no amount
        return "an unknown amount" if long else "n/a"
    amount = abs(float(value))
    if 0 < amount < _CENT / 2 * 10.0**-extra:  # too small for the digits shown
        smallest = _amount(_CENT * 10.0**-extra, currency, extra, long, False)
        return f"under {smallest}" if value > 0 else f"above -{smallest}"
    text = _amount(amount, currency, extra, long, approx)
    return f"-{text}" if value < 0 and text != _amount(0.0, currency, 0, long, False) else text


_CENT = 0.01
_SCALES = ((1e12, "T", " trillion"), (1e9, "B", " billion"), (1e6, "M", " million"))
_SHORT_SCALES = (*_SCALES, (1e3, "K", " thousand"))


#: from a trillion trillion on, an amount or a ratio is a power of ten (1.7×10^308): no
#: trade figure is that large, and its digits grouped ran over a dozen lines
_POWER_FROM = 1e24


def _power_of_ten(value: float, decimals: int = 1, inverse: bool = False) -> str:
    """``value`` (positive, finite) as 1.7×10^308, or its inverse as one where ``inverse``
    (from logarithms: the inverse of a value below 5.6e-309 is no float)."""
    exponent10 = -math.log10(value) if inverse else math.log10(value)
    exponent = math.floor(exponent10)
    mantissa = round(10 ** (exponent10 - exponent), decimals)
    if mantissa >= 10:  # 9.96 rounds to 10.0: one more power
        mantissa, exponent = mantissa / 10, exponent + 1
    return f"{mantissa:.{decimals}f}×10^{exponent}"


def _amount(amount: float, currency: str, extra: int, long: bool, approx: bool) -> str:
    """A non-negative amount with its currency's symbol (or code)."""
    scales = _SCALES if long else _SHORT_SCALES
    unit = _unit(amount, scales, extra, long)
    if amount >= _POWER_FROM:
        text = _power_of_ten(amount, 1 + extra)
    elif unit is None:
        text = _units(amount, extra)
    else:
        limit, suffix, word = scales[unit]
        scaled = amount / limit
        # above a thousand of the largest unit, whole units: $3,000,000T
        decimals = extra if scaled >= 1000 else (2 if long else 1) + extra
        text = f"{scaled:,.{decimals}f}"
        if approx and "." in text:
            text = text.rstrip("0").rstrip(".")
        text += word if long else suffix
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


def _unit(amount: float, scales: tuple, extra: int, long: bool) -> int | None:
    """The index of the scale an amount is written in (None: in units), the next one up
    where its digits would round to a thousand of its own ($999,960 is $1.0M, never
    $1,000.0K; $999.996 is $1.0K)."""
    unit = next((i for i, (limit, _, _) in enumerate(scales) if amount >= limit), None)
    if unit is None:
        return len(scales) - 1 if round(amount, extra) >= scales[-1][0] else None
    decimals = (2 if long else 1) + extra
    if unit > 0 and round(amount / scales[unit][0], decimals) >= 1000:
        return unit - 1
    return unit


def _units(amount: float, extra: int) -> str:
    """An amount under the first scale: cents under ten units ($1.35, $0.20, a whole $3),
    whole units from ten ($250, $3,000)."""
    if amount == 0:
        return "0"
    if round(amount, 2 + extra) < 10:  # cents: $1.35, $0.20, never $0 for something
        text = f"{amount:.{2 + extra}f}"
        return text[:-3] if not extra and text.endswith(".00") else text
    return f"{amount:,.{extra}f}"


def percent(value: float | None, *, digits: int = 1, signed: bool = False) -> str:
    """A percentage as people read it: '7.1%', '+353.9%', '-99.97%', '+51,365,070%'.

    Thousands are grouped and from 1,000% there are no decimals; a share that is neither
    0 nor 100 % never reads as one ('-99.9997%', not '-100.0%'), with as many decimals as
    that takes ('99.99999999%': a caller with shares that close to 100 % reads better
    with a fraction, ``times``). A change of ten times or more reads better as a
    multiple: ``relative_change`` says it so.
    """
    if missing(value) or not math.isfinite(value):
        return "n/a"
    shown = digits if abs(value) < 1000 else 0
    while (
        shown < _PERCENT_DIGITS
        and abs(value) not in (0.0, 100.0)
        and round(abs(value), shown) in (0.0, 100.0)
    ):
        shown += 1
    return f"{value:{'+' if signed else ''},.{shown}f}%"


#: decimals a percentage may take not to read 0 % or 100 % (what a double can tell from 100)
_PERCENT_DIGITS = 14


def relative_change(value: float | None, base: float | None) -> str:
    """A change as news quotes it: '+7.1%', '-99.97%'; from ten times the base up, a
    multiple: '4,326 times as much' (never '+432,500%'). 'n/a' without a base to compare."""
    if missing(value) or missing(base) or not base:
        return "n/a"
    multiple = value / base
    if multiple >= 10:
        return f"{times(multiple)} as much"
    return percent((value - base) / abs(base) * 100, signed=True)


def figures_apart(x, edges, write: Callable[[float, int], str]) -> int:
    """The fewest significant figures (3 to 6) at which ``write(x, figures)`` reads apart
    from each of the ``edges`` it is compared with (None: not compared): a figure outside
    a band is never written equal to the band's edge (0.01349 outside a band from 0.01352,
    never 0.0135 and 0.0135)."""
    if x is None:
        return 3
    for figures in range(3, 6):
        shown = write(x, figures)
        if all(e is None or e == x or write(e, figures) != shown for e in edges):
            return figures
    return 6


def ratio(value: float | None, figures: int = 2) -> str:
    """A ratio as people read it: 0.35, 2.3, 83, 4,200, 200,000, 3.4 million; from 1/1000
    down, as a fraction with its digits (1/1,000, 1/200,000, 1/1,000,000), never in
    scientific notation (5e-06) nor as "1/1 million".

    ``figures`` = 3 keeps three significant figures below 100 (1.06, 0.355, 83.4), for
    ratios that matter close to 1 (the import/export ratio). The one formatter of ratios:
    ``factor`` and ``times`` are built on it.
    """
    if missing(value) or not math.isfinite(value):
        return "n/a"
    if value < 0:
        return "-" + ratio(-value, figures)
    if value == 0:
        return "0"
    if value <= 1e-15:  # beyond 2^53 the inverse's digits are a float's noise
        return f"1/{_power_of_ten(value, inverse=True)}"
    if value <= 1e-3:
        return f"1/{_two_figures(1.0 / value):,.0f}"
    if figures > 2 and value < 100:
        return f"{value:.{figures}g}"
    if value < 1:
        return f"{value:.2g}"
    if value < 10:
        return f"{value:.1f}"
    return _grouped(value)


def _grouped(value: float) -> str:
    """A whole number with thousands separated up to a million, then in words (3.4 million,
    261 million; above a thousand trillion, grouped: 3,000,000 trillion; from a trillion
    trillion, a power of ten: 1.7×10^308)."""
    if value >= _POWER_FROM:
        return _power_of_ten(value)
    for limit, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if value >= limit:
            scaled = value / limit
            return f"{scaled:,.0f} {word}" if scaled >= 10 else f"{scaled:.2g} {word}"
    return f"{value:,.0f}"


def _two_figures(value: float) -> float:
    """Two significant figures: the inverse of a tiny ratio is not known closer (303,030 →
    300,000)."""
    return float(f"{value:.2g}")


def factor(value: float | None) -> str:
    """A ratio as a multiplier: ×2.3, ×0.35, ×200,000, ×1/200,000."""
    return "×" + ratio(value)


def weight(kg: float | None) -> str:
    """A weight as people read it: whole kilograms below a tonne (239 kg; under 10 kg three
    significant digits, 0.383 kg, 1.63 kg: a price per kg of a few kilograms is read back
    from them, and "$3.6M for 1.6 kg is 2,205,000 USD/kg" did not divide), tonnes from a
    tonne on, to three significant digits below a thousand tonnes (3.19 t, 14.3 t, 310 t)
    and whole above (1,700 t, 254,368 t)."""
    if kg is None or not math.isfinite(kg):
        return "an unknown weight"
    if kg < 999.5:  # what rounds to 1,000 kg is a tonne
        if kg < 10 and kg != round(kg):
            return f"{_three_digits(kg)} kg"
        return f"{kg:,.0f} kg"
    tonnes = kg / 1000.0
    if tonnes >= 999.5:
        return f"{tonnes:,.0f} t"
    return f"{_three_digits(tonnes)} t"


def _three_digits(x: float) -> str:
    """``x`` to three significant digits, positional, trailing zeros dropped (1.63, 0.383)."""
    return np.format_float_positional(x, precision=3, unique=False, fractional=False, trim="-")


def power_step(step: float) -> str:
    """A unit error's power-of-ten step, both directions in digits: ×100, ×1,000,
    ×1,000,000, ×1/100, ×1/1,000,000 (never "×0.01" beside "×1/1,000")."""
    return f"×{step:,.0f}" if step >= 1 else f"×1/{1.0 / step:,.0f}"


def times(value: float | None) -> str:
    """A ratio in words before an amount: '2.3 times', '4,200 times', '3.4 million times';
    from a half up to 1, a percentage: '83% of', '63% of', '50% of' (never '1/1.2 of', which
    a reader has to work out, nor '100% of' for what is not all of it); below a half, a
    fraction: '1/2.1 of', '1/40 of', '1/200,000 of', '1/1,000,000 of'."""
    if missing(value) or not math.isfinite(value) or value <= 0:
        return f"{ratio(value)} times"
    if value >= 1:
        return f"{ratio(value)} times"
    if value >= 0.5:
        return f"{percent(value * 100, digits=0)} of"
    if value <= 1e-3:
        return f"{ratio(value)} of"
    return f"1/{ratio(1.0 / value)} of"


_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


def joined(items: list[str]) -> str:
    """Items as a sentence lists them: "a", "a and b", "a, b and c"."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def period_name(label: str | None, freq: str | None = "M") -> str:
    """A period in words: '2021-02' → 'February 2021'; for an annual series (``freq`` "A"),
    its first month's label '2016-01' (or '2016') → '2016'. Missing as '?'."""
    if not label:
        return "?"
    year, _, month = str(label).partition("-")
    if freq == "A" or not month:
        return year
    return f"{_MONTHS[int(month[:2]) - 1]} {year}"


def period_label(label: str | None, freq: str | None = "M") -> str:
    """A period as tables show it: '2021-02', or the year '2016' for an annual series."""
    if not label:
        return ""
    text = str(label)
    return text[:4] if freq == "A" else text[:7]


def period_span(
    start: str | None, end: str | None, freq: str | None = "M", sep: str = " → "
) -> str:
    """A finding's periods as tables show them: '2021-02', '2021-02 → 2021-03', '2016'."""
    first, last = period_label(start, freq), period_label(end, freq)
    return first if not last or first == last else f"{first}{sep}{last}"


def period_unit(freq: str | None = "M") -> str:
    """What one period of a series is called: 'month', or 'year' for an annual series."""
    return "year" if freq == "A" else "month"


#: the least ratio a sparkline's full height spans, as a log10: a doubling. Scaled to its
#: own lowest and highest figure, a flat series' 5 % noise filled all eight heights and read
#: as volatile; against a doubling it moves a step.
_SPARK_FLOOR = math.log10(2.0)


def sparkline_step(count: int, width: int | None) -> int:
    """How many periods one mark of a sparkline of ``count`` periods stands for, to be at
    most ``width`` marks wide (None: one mark a period)."""
    return max(1, math.ceil(count / width)) if width and width > 0 else 1


def sparkline(
    values: np.ndarray, *, shared: np.ndarray | None = None, width: int | None = None
) -> str:
    """The series on a log scale in eight block heights: a gap for a month not reported,
    "0" for one reported as zero (a log scale has no height for it, and it is often the
    very month a finding is about) and "-" for a negative figure.

    The height spans the figures' lowest to highest, but never less than a doubling, centred
    on them (a flat series is drawn flat, mid-height). ``shared``: the figures of every line
    of one chart (a pair's own and mirror records), whose range every line is drawn on, so
    that one height is one amount on each (drawn each on its own range, $2.0M stood higher
    on one line than $2.1M on the other). ``width``: the most marks; a longer series is
    drawn one mark for ``sparkline_step`` periods, the median of its reported ones, counted
    back from the last period (a terminal wraps a line wider than itself, and a 19-year
    series was 228 marks); the caller says so.
    """
    v = np.asarray(values, dtype=float)
    v = _spark_medians(v, sparkline_step(len(v), width))
    if not np.isfinite(v).any():
        return ""
    ok = np.isfinite(v) & (v > 0)
    logs = np.log10(np.where(ok, v, np.nan))
    lo, hi = _spark_range(v if shared is None else shared)
    idx = np.round((logs - lo) / (hi - lo) * (len(_BLOCKS) - 1))
    idx = np.where(ok, np.clip(idx, 0, len(_BLOCKS) - 1), -1).astype(int)
    marks = np.where(v == 0, "0", np.where(v < 0, "-", " "))
    return "".join(_BLOCKS[i] if i >= 0 else mark for i, mark in zip(idx, marks, strict=True))


def _spark_medians(v: np.ndarray, step: int) -> np.ndarray:
    """``v`` as one figure for each ``step`` periods, the median of its reported ones (NaN
    where none is), counted back from the last: the latest periods are a whole mark."""
    if step == 1:
        return v
    padded = np.concatenate([np.full(-len(v) % step, np.nan), v]).reshape(-1, step)
    return np.array(
        [np.median(r[np.isfinite(r)]) if np.isfinite(r).any() else np.nan for r in padded]
    )


def _spark_range(figures: np.ndarray) -> tuple[float, float]:
    """The log10 range a sparkline's heights span: its positive figures', widened about
    its middle to ``_SPARK_FLOOR``."""
    f = np.asarray(figures, dtype=float).ravel()
    f = np.log10(f[np.isfinite(f) & (f > 0)])
    lo, hi = (float(f.min()), float(f.max())) if f.size else (0.0, 0.0)
    if hi - lo < _SPARK_FLOOR:
        middle = (lo + hi) / 2
        lo, hi = middle - _SPARK_FLOOR / 2, middle + _SPARK_FLOOR / 2
    return lo, hi


def csv_safe(value):
    """Neutralise spreadsheet formulas: a text cell starting with = + - @ gets a leading quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


#: the note under a table that dates a release without a publication date by the day it was
#: ingested, marked with an asterisk: one wording for the command line, the dashboard and
#: the report
UNPUBLISHED = "the day it was ingested: no publication date was given (ingest --published)"

# The bidirectional formatting characters (LRM, RLM, LRE…RLO, LRI…PDI): invisible, they
# reorder what follows them ("Trojan source"), so a code holding one could make a heading
# read otherwise than it is.
BIDI = {
    c: f"\\u{c:04x}"
    for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
}
# The line and paragraph separators break a line as a newline does.
_SEPARATORS = {c: f"\\u{c:04x}" for c in (0x2028, 0x2029)}
#: control characters (all of C0, DEL and C1) and the escapes a terminal is shown instead
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))}
_CONTROLS |= BIDI | _SEPARATORS


#: DEL and C1 as JSON escapes (json.dumps escapes only C0): a terminal reads \x9b as CSI;
#: and the bidirectional controls and line separators, which reorder or break what a
#: terminal or a pager shows (BIDI's and _SEPARATORS' escapes are JSON's too)
_JSON_CONTROLS = {c: f"\\u{c:04x}" for c in (0x7F, *range(0x80, 0xA0))} | BIDI | _SEPARATORS


def json_text(value: object, indent: int | None = None) -> str:
    """``value`` as JSON, non-ASCII kept, with DEL, C1, bidirectional controls and line
    separators escaped too."""
    return json_escaped(json.dumps(value, ensure_ascii=False, indent=indent))


def json_escaped(text: str) -> str:
    """JSON text (pandas' too) with ``json_text``'s escapes: outside its strings JSON holds
    none of these characters, so the value it stands for is the same."""
    return text.translate(_JSON_CONTROLS)


def printable(value: object) -> str:
    """Text from a file as a terminal may show it: control characters as escapes (``\\x1b``).

    A series' key, a file name or a quarantined line can hold ESC, BEL, a carriage return
    or a newline; written raw they would move the cursor, retitle the window, clear the
    screen or split one line in two.
    """
    return str(value).translate(_CONTROLS)


def csv_cell(value):
    """A cell of every CSV the tool writes (the command line's and the dashboard's): its
    formula neutralised first (a tab that makes one keeps its mark), then its control and
    bidirectional characters escaped, as the terminal shows them."""
    value = csv_safe(value)
    return printable(value) if isinstance(value, str) else value


def csv_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell through ``csv_cell``: the one guard of the command
    line's CSV and the dashboard's download. Numbers keep their type (a cell-wise map over
    the whole frame wrote a nullable flag as 1.0)."""
    text = frame.select_dtypes(include="object").columns  # only text holds a formula
    return frame.assign(**{c: frame[c].map(csv_cell) for c in text})
