"""What a caller may pass the API, as the store keeps it: codes normalised, choices checked.

Every caller (the command line, the dashboard, the report, a notebook) goes through
``tradesentry.api``, and the API through these functions. A code that matches nothing
selects no series, and a scan or a query of no series reads as "no findings": so codes are
normalised as the ingest stores them (``chn`` is CHN, ``total`` is TOTAL, a country may be
named), and a value outside its choices is an InputError naming them, never an empty
answer.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import numbers
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime

import pandas as pd

from tradesentry.errors import InputError, SeriesChoice
from tradesentry.schema import FLOWS, SEVERITIES
from tradesentry.scope import KEY_FILTERS

ENGINES = ("local", "spark")

_ALPHA3 = re.compile(r"[A-Z]{3}|X\d{3}")  # ISO alpha-3, or a Comtrade special area (X899)


def text(raw, name: str) -> str:
    """``raw`` if it is a string, else an InputError naming ``name`` (a code typed as a
    number, 0 or 8542, or as bytes would otherwise fail deep inside as an AttributeError)."""
    if not isinstance(raw, str):
        raise InputError(f"{name}: expected a string, not {raw!r}")
    return raw


@functools.lru_cache(maxsize=4096)
def stored_upper(code: str) -> str:
    """``code`` in upper case as the store writes it on ingest: DuckDB's ``upper``, one
    character for one ('ß' is 'ẞ', the ligature 'ﬁ' stays), where Python's full mapping
    makes 'ß' 'SS' and 'ﬁ' 'FI': a code as written in the file, and the links the
    dashboard made to it, then named no series."""
    if code.isascii():
        return code.upper()
    import duckdb

    with duckdb.connect() as con:
        return con.execute("SELECT upper(?)", [code]).fetchall()[0][0]


def country_code(raw: str, name: str = "country") -> str:
    """A country as the store keeps it: alpha-3 in upper case (chn is CHN); a name, an
    ISO alpha-2 code or an M49 number goes through ``countries.to_alpha3``, as on ingest.
    A name that stands for two countries ("Korea") is an InputError naming both, as the
    ingest quarantines it: kept as a code, it had matched no series ("no series … matches
    partner KOREA"), as if the store held neither."""
    from tradesentry.countries import abbreviated, to_alpha3, why_unknown

    code = _named(stored_upper(text(raw, name).strip()), name)
    if _ALPHA3.fullmatch(code):
        return abbreviated(code) or code  # UAE is no alpha-3 code: the store holds ARE
    known = to_alpha3(raw)
    if known:
        return known
    ambiguous = why_unknown(raw)
    if ambiguous:
        raise InputError(f"ambiguous {name} country {raw!r}: {ambiguous} Give its code.")
    return code  # unknown: kept, and then matches nothing (said so)


def one_country(raw: str) -> bool:
    """Whether ``raw``, holding a comma, is one country's name as trade tables write it
    ("Korea, Rep.", "China, Hong Kong SAR", "Tchèque, République") rather than a list of
    codes and names ("USA,HKG", "Germany, France"): the command line splits a filter at
    its commas, and a country code never holds one (the store keeps alpha-3 codes), but a
    name may. Codes only (USA, X899, 842) are a list without asking."""
    from tradesentry.countries import to_alpha3

    parts = [stored_upper(part.strip()) for part in text(raw, "country").split(",")]
    if all(_ALPHA3.fullmatch(part) or part.isdecimal() for part in parts):
        return False
    return to_alpha3(raw) is not None


def country_list(raw: str) -> list[str]:
    """A command line's comma-separated countries, a name that holds a comma kept whole:
    at each part, the longest run of parts that names one country (``one_country``), else
    the part alone. "SWE,Korea, Rep." is SWE and Korea, Rep.; "Sweden, Congo, Dem. Rep."
    is Sweden and the Democratic Republic of the Congo (cut at every comma, its "Congo"
    had been the Republic of the Congo). A value without a comma is one country."""
    if "," not in raw:
        return [raw]
    parts = [part.strip() for part in text(raw, "country").split(",")]
    out, i = [], 0
    while i < len(parts):
        for j in range(len(parts), i + 1, -1):
            joined = ", ".join(parts[i:j])
            if one_country(joined):
                out.append(joined)
                i = j
                break
        else:
            out.append(parts[i])
            i += 1
    return out


def commodity_code(raw: str, name: str = "commodity") -> str:
    """Commodity codes are stored upper-case, the total of all goods as TOTAL (as on ingest)."""
    code = _named(stored_upper(text(raw, name).strip()), name)
    return "TOTAL" if code == "ALL" else code


def _named(code: str, name: str) -> str:
    """``code``, or an InputError where it is blank: an empty reporter read as a code no
    series has ("no series  CHN import TOTAL in the store")."""
    if not code:
        raise InputError(f"{name}: an empty code names nothing")
    return code


def flow_name(raw: str, name: str = "flow") -> str:
    flow = text(raw, name).strip().lower()
    if flow not in FLOWS:
        raise InputError(f"unknown flow {raw!r}; choose from {', '.join(FLOWS)}")
    return flow


# A series' frequency as the store keeps it, and what it is called.
FREQS: dict[str, str] = {"M": "monthly", "A": "annual"}


def freq(raw: str) -> str:
    """A frequency as the store keeps it: M (monthly) or A (annual), in any case."""
    value = text(raw, "freq").strip().upper()
    if value not in FREQS:
        choices = ", ".join(f"{code} ({name})" for code, name in FREQS.items())
        raise InputError(f"unknown freq {raw!r}; choose from {choices}")
    return value


def _choice(choices: Iterable[str], what: str) -> Callable[[str], str]:
    """A check of one value against ``choices`` (kinds, severities), case aside."""
    choices = tuple(choices)

    def check(raw: str) -> str:
        value = raw.strip().lower()
        if value not in choices:
            raise InputError(f"unknown {what} {raw!r}; choose from {', '.join(choices)}")
        return value

    return check


def each(value, one: Callable[[str], str], name: str):
    """``one`` applied to a value given as one string or as a list of them (None: no filter).

    The shape is kept (a string stays a string) as scans are saved with it. An empty list
    is refused: it would select nothing, yet filters treat it as no filter at all.
    """
    if value is None:
        return None
    if isinstance(value, str) and not value.strip():
        raise InputError(f"{name}: an empty code selects nothing; leave it out for all")
    if isinstance(value, str):
        return one(value)
    if not isinstance(value, Iterable) or isinstance(value, bytes | bytearray | Mapping):
        raise InputError(f"{name}: expected a string or a list of strings, not {value!r}")
    values = list(value)
    if not values:
        raise InputError(f"{name}: an empty list selects nothing; give None for all")
    bad = [v for v in values if not isinstance(v, str)]
    if bad:  # None among them too: a list whose only odd one is None passed a None default
        raise InputError(f"{name}: expected a string or a list of strings, not {bad[0]!r}")
    if any(not v.strip() for v in values):
        raise InputError(f"{name}: an empty code selects nothing; leave it out for all")
    return list(dict.fromkeys(one(v) for v in values))  # each once, in the order given


def series_filters(reporter=None, partner=None, flow=None, commodity=None) -> dict:
    """The series filters as the store keeps the codes: CHN, export, TOTAL."""
    return {
        # each country named as its filter, as an ambiguous name's error says
        "reporter": each(reporter, functools.partial(country_code, name="reporter"), "reporter"),
        "partner": each(partner, functools.partial(country_code, name="partner"), "partner"),
        "flow": each(flow, flow_name, "flow"),
        "commodity": each(commodity, commodity_code, "commodity"),
    }


def kinds(value, name: str = "kinds") -> list[str] | None:
    """Detector kinds: one kind, a list of kinds or None (every detector)."""
    from tradesentry.detectors import registry

    checked = each(value, _choice(registry(), "kind"), name)
    return [checked] if isinstance(checked, str) else checked


def severities(severity) -> str | list[str] | None:
    return each(severity, _choice(SEVERITIES, "severity"), "severity")


# Parameters of an engine's scan that api.scan fills itself (not options to pass): Spark's
# ``since`` is scan's own, and its ``complete`` is how api completes Spark's findings.
_ENGINE_FILLED = (
    "store", "con", "detectors", "filters", "chunk_series", "progress", "since", "complete"
)  # fmt: skip


def engine_options(engine: str) -> tuple[str, ...]:
    """The keyword options ``engine``'s scan takes beyond what api.scan passes itself."""
    if engine == "local":
        from tradesentry.engines.local import scan_chunks as run
    else:
        from tradesentry.engines.spark import scan as run
    return tuple(p for p in inspect.signature(run).parameters if p not in _ENGINE_FILLED)


def check_engine(engine: str, options: dict, own: Iterable[str]) -> None:
    """An unknown engine, or a keyword neither scan nor the engine takes, is an InputError.

    A misspelled keyword (``kind=``, ``reportr=``) would otherwise be taken for an engine
    option and ignored, and the scan would run unfiltered.
    """
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}")
    own = list(own)
    accepted = engine_options(engine)
    for name in options:
        if name in accepted:
            continue
        other = next((e for e in ENGINES if e != engine and name in engine_options(e)), None)
        if other is not None:
            raise InputError(f"scan: {name}= is an option of engine={other!r}, not {engine!r}")
        extra = f"; with engine={engine!r} also {', '.join(accepted)}" if accepted else ""
        check_keywords("scan", {name: options[name]}, own, [*own, *accepted], extra)


def check_keywords(
    function: str,
    given: Mapping,
    own: Iterable[str],
    near: Iterable[str] | None = None,
    extra: str = "",
) -> None:
    """An InputError for the first keyword of ``given`` ``function`` does not take (none of
    ``own``), with the nearest of ``near`` (default: ``own``): Python's own TypeError ("got
    an unexpected keyword argument 'scan'") names no keyword it does take."""
    own = list(own)
    for name in given:
        if name in own:
            continue
        close = difflib.get_close_matches(name, own if near is None else list(near), n=1)
        hint = f" (did you mean {close[0]}=?)" if close else ""
        raise InputError(
            f"{function}: unknown keyword {name}={hint}; it takes {', '.join(own)}{extra}"
        )


def flag(value, name: str) -> bool:
    """``value`` if it is True or False: ``save="no"`` is a true string, and saved."""
    if not isinstance(value, bool):
        raise InputError(f"{name}: expected True or False, not {value!r}")
    return value


def callback(value, name: str, takes: str) -> Callable | None:
    """``value`` if it can be called (None stays None), else an InputError saying what it
    is called with: ``progress=5`` failed mid-scan as "'int' object is not callable"."""
    if value is not None and not callable(value):
        raise InputError(f"{name}: expected a function taking {takes}, not {value!r}")
    return value


def describe(filters: dict) -> str:
    """``reporter XYZ; flow export, import`` for the filters given."""
    terms = []
    for column in KEY_FILTERS:
        value = filters.get(column)
        if value:
            terms.append(f"{column} {value if isinstance(value, str) else ', '.join(value)}")
    return "; ".join(terms)


def whole_number(value, name: str, least: int = 1) -> int | None:
    """``value`` if it is a whole number of at least ``least`` (None stays None)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
        raise InputError(f"{name} {value!r}: expected a whole number, {least} or more")
    return int(value)  # a NumPy integer too


def month(value, option: str) -> str | None:
    """A month as YYYY-MM (None stays None): a string, or a date, datetime, pandas
    Timestamp or Period (its month); ``option`` names it in the error."""
    if value is None:
        return None
    if value is pd.NaT:
        raise InputError(f"{option} NaT: expected a month as 'YYYY-MM'")
    if isinstance(value, pd.Period):  # a year or a quarter from its first month
        return value.start_time.strftime("%Y-%m")
    if isinstance(value, date):  # a datetime and a Timestamp are dates
        return value.strftime("%Y-%m")
    if not isinstance(value, str):  # 202102 is no month: a number is not guessed at
        raise InputError(f"{option} {value!r}: expected a month as 'YYYY-MM'")
    try:
        return datetime.strptime(value, "%Y-%m").strftime("%Y-%m")
    except ValueError as exc:
        raise InputError(f"{option} {value!r}: expected a month as YYYY-MM") from exc


def held_classification(wanted: str, held: list[str], what: str, **choice) -> str:
    """``wanted`` in upper case if the codes that ``what`` names are held under it (one of
    ``held``), else a ``SeriesChoice`` naming those they are held under; ``choice`` is the
    rest of what the error carries (its ``key`` and ``classifications``, ...)."""
    asked = stored_upper(wanted.strip())
    if asked not in held:
        raise SeriesChoice(
            f"no {what} under classification {asked} in the store; "
            f"it is held under {', '.join(held)}",
            **choice,
            param="classification",
            held=held,
            asked=asked,
        )
    return asked
