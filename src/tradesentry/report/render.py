"""The Jinja environment the report and the dashboard share, and the assets they embed.

One environment, one set of templates (``tradesentry/templates``), autoescape on for
every template: a country, a commodity or a query string is text, never markup.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from functools import lru_cache
from importlib import resources
from urllib.parse import quote, urlencode

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context
from markupsafe import Markup

from tradesentry.findings import figure_terms
from tradesentry.text import BIDI, UNPUBLISHED, money, period_label, period_span, plural, printable

STATIC = "web/static"
# Groups thousands in evidence: a narrow no-break space, since a comma would blur a list.
_THOUSANDS = "\u202f"


def _shown(value):
    """Every value a page shows, before Jinja2 escapes it for HTML: text with its control
    and bidirectional formatting characters as escapes (``\\x00``, ``\\u202e``: a NUL
    typed into a filter, a right-to-left override in a commodity code); markup a filter or
    the page made (its CSS, its charts) keeps its own line breaks."""
    if isinstance(value, Markup):
        return Markup(str(value).translate(BIDI))
    return printable(value) if isinstance(value, str) else value


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The shared environment (cached: templates compile once per process)."""
    env = Environment(
        loader=PackageLoader("tradesentry", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_shown,
    )
    env.filters.update(
        money=_money,
        month=month,
        number=number,
        pct=pct,
        quote=quote_segment,
        span=span,
        plural=plural,
        noun=noun,
        evidence_items=evidence_items,
        plain=plain,
        published=published,
    )
    env.globals.update(
        series_path=_series_path_in_page,
        pair_path=pair_path,
        figure_terms=figure_terms,
        unpublished=UNPUBLISHED,
    )
    return env


def _money(value, currency: str = "USD") -> str:
    return money(None if value is None or _nan(value) else float(value), currency or "")


def _nan(value) -> bool:
    return isinstance(value, float) and math.isnan(value)


def month(value, freq: str | None = "M") -> str:
    """A date, timestamp or YYYY-MM text as YYYY-MM, or as the year (YYYY) for an annual
    series (``freq`` "A"); missing as an empty string."""
    if value is None or _nan(value) or value is pd.NaT:
        return ""
    text = value if isinstance(value, str) else pd.Timestamp(value).strftime("%Y-%m")
    return period_label(text, freq)


def published(value, ingested=None) -> str:
    """A release's publication date as the command line writes it: without one, the day it
    was ingested with an asterisk (``UNPUBLISHED`` says why), as `tradesentry releases`
    does, or "date unknown" where that day is not at hand, as `tradesentry series` does. A
    blank cell had read as a missing figure."""
    if value:
        return str(value)
    return f"{str(ingested)[:10]}*" if ingested else "date unknown"


def number(value, digits: int = 0) -> str:
    if value is None or _nan(value):
        return ""
    return f"{value:,.{digits}f}"


def pct(value) -> str:
    return "" if value is None or _nan(value) else f"{100 * float(value):.0f}%"


def span(rec) -> str:
    """A finding's months: 2021-02, or 2021-02 → 2021-03; an annual series' years: 2016."""
    return period_span(rec["period"], rec["period_end"], rec.get("freq"))


def noun(count: int, word: str, many: str | None = None) -> str:
    """The noun alone for a count shown elsewhere (a card's big number): finding, findings."""
    return word if count == 1 else many or word + "s"


def plain(value) -> str:
    """A value of a finding's evidence as people read it, not as Python prints it.

    Missing as "–", booleans as yes/no, numbers from 1,000 as whole numbers and others to
    four significant digits, lists joined with ", ". Thousands are grouped from 10,000 (years
    and release ids stay as they are) with a narrow space, not a comma, so that a list of
    numbers still reads as a list. Text only: the template escapes it.
    """
    if isinstance(value, np.ndarray | np.generic):  # a scan not read back from the store
        value = value.tolist()
    if value is None or _nan(value) or (isinstance(value, float) and math.isinf(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return _plain_number(value)
    if isinstance(value, list | tuple):
        return ", ".join(plain(v) for v in value) if value else "–"
    return str(value)


def _plain_number(value: int | float) -> str:
    if abs(value) >= 1e15:
        return f"{value:.4g}"
    if abs(value) >= 1000 or float(value).is_integer():
        whole = round(value)
        return f"{whole:,}".replace(",", _THOUSANDS) if abs(whole) >= 10_000 else str(whole)
    return f"{value:.4g}"


def evidence_items(evidence) -> list[dict]:
    """A finding's evidence as rows for the template, ``{"key", "text", "children"}``:
    ``children`` (rows again) for a nested mapping or a list holding mappings, numbered
    from 1, so nested evidence reads as nested key: value lines; else None and ``text``."""
    if isinstance(evidence, Mapping):
        pairs = evidence.items()
    else:
        pairs = ((str(n), v) for n, v in enumerate(evidence, start=1))
    return [_evidence_item(str(key), value) for key, value in pairs]


def _evidence_item(key: str, value) -> dict:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    nested = isinstance(value, Mapping) or (
        isinstance(value, list | tuple) and any(isinstance(v, Mapping) for v in value)
    )
    if nested and value:
        return {"key": key, "text": "", "children": evidence_items(value)}
    return {"key": key, "text": plain(value), "children": None}


def quote_segment(value) -> str:
    """One URL path segment: every reserved character encoded, slashes included."""
    return quote(str(value), safe="")


SeriesKey = tuple[str, str, str, str]
# What a link to a series must name beyond its path, per (reporter, partner, flow,
# commodity): "classification" where the store holds those four under several
# classifications, "freq" where it holds them both monthly and annually.
Ambiguous = Mapping[SeriesKey, Collection[str]] | Collection[SeriesKey]
_NAMED = ("classification", "freq")


def _to_name(ambiguous: Ambiguous | None, parts: SeriesKey) -> Collection[str]:
    """What a link to ``parts`` names: everything it knows when ``ambiguous`` is None; the
    mapping's entry; for a plain collection of keys (no frequencies known), the
    classification of those keys."""
    if ambiguous is None:
        return _NAMED
    if isinstance(ambiguous, Mapping):
        return ambiguous.get(parts, ())
    return ("classification",) if parts in ambiguous else ()


def series_path(rec, finding: str | None = None, *, ambiguous: Ambiguous | None = None) -> str:
    """The series page of ``rec`` (a finding, a series-index row or a series' key), with
    ``?finding=`` when ``finding`` is given.

    A series is named by its reporter, partner, flow and commodity, and by its
    classification when the store holds those four under several (UN Comtrade's H5 and a
    table's HS for one HS code): the path alone is then not one series, and the page asks
    which. ``?classification=`` is added only where it is needed, the keys ``ambiguous``
    names for it (``(reporter, partner, flow, commodity)``, from the store: a mapping of
    each such key to what its links must name, ``"classification"`` and/or ``"freq"``;
    a plain collection of keys means their classification), so the ordinary case keeps
    a short, readable address and the other always opens the right series (an address
    saved before the store took a second classification then gets the 404 that links
    each: it never opens the wrong one). When ``ambiguous`` is not known (None) it is
    added whenever ``rec`` names a classification: a longer address, never a wrong one.

    The frequency follows the same rule, except that an annual series (``rec["freq"]``
    "A") always carries ``?freq=A``: monthly is the ordinary case, and ``?freq=M`` is added
    only for keys the store holds both monthly and annually (or when ``ambiguous`` is
    None and ``rec`` names it).

    A part of a flow (UN Comtrade's rows by second partner, customs procedure or mode of
    transport: ``rec["breakdown"]`` such as ``partner2=0;customs=C00;mot=3200``) is a series
    of its own beside the total: ``?breakdown=`` names it always; the total ('') needs none,
    being what the path alone opens.
    """
    parts = (rec["reporter"], rec["partner"], rec["flow"], rec["commodity"])
    path = "/series/" + "/".join(quote_segment(p) for p in parts)
    query = []
    named = _to_name(ambiguous, parts)
    classification = rec.get("classification")
    if classification and "classification" in named:
        query.append(("classification", classification))
    freq = rec.get("freq")
    if freq == "A" or (freq and "freq" in named):
        query.append(("freq", freq))
    breakdown = rec.get("breakdown")
    if breakdown:
        query.append(("breakdown", breakdown))
    if finding is not None:
        query.append(("finding", finding))
    return f"{path}?{urlencode(query)}" if query else path


@pass_context
def _series_path_in_page(context, rec, finding: str | None = None) -> str:
    """``series_path`` for the templates: the page's ``ambiguous`` keys (the dashboard
    passes them; a page without them names the classification whenever it knows one)."""
    return series_path(rec, finding, ambiguous=context.get("ambiguous"))


def pair_path(rec) -> str:
    return f"/pair/{quote_segment(rec['reporter'])}/{quote_segment(rec['partner'])}"


def static_text(name: str) -> str:
    """A file of web/static as text (the report inlines them; nothing is fetched)."""
    return resources.files("tradesentry").joinpath(f"{STATIC}/{name}").read_text("utf-8")


def plotly_js_path():
    """plotly.min.js of the installed plotly package: the dashboard serves it, the report inlines it."""
    return resources.files("plotly").joinpath("package_data/plotly.min.js")


def inline_script(source: str) -> Markup:
    """JavaScript safe to place inside <script>…</script> (no early end tag)."""
    return Markup(source.replace("</script", "<\\/script").replace("<!--", "<\\!--"))


def inline_style(source: str) -> Markup:
    return Markup(source.replace("</style", "<\\/style"))
