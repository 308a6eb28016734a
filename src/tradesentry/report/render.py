"""The Jinja environment the report and the dashboard share, and the assets they embed.

One environment, one set of templates (``tradesentry/templates``), autoescape on for
every template: a country, a commodity or a query string is text, never markup.
"""

from __future__ import annotations

import math
from functools import lru_cache
from importlib import resources
from urllib.parse import quote

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from tradesentry.text import money

STATIC = "web/static"


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The shared environment (cached: templates compile once per process)."""
    env = Environment(
        loader=PackageLoader("tradesentry", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        money=_money, month=month, number=number, pct=pct, quote=quote_segment, span=span
    )
    env.globals.update(series_path=series_path, pair_path=pair_path)
    return env


def _money(value, currency: str = "USD") -> str:
    return money(None if value is None or _nan(value) else float(value), currency or "")


def _nan(value) -> bool:
    return isinstance(value, float) and math.isnan(value)


def month(value) -> str:
    """A date, timestamp or YYYY-MM text as YYYY-MM; missing as an empty string."""
    if value is None or _nan(value) or value is pd.NaT:
        return ""
    if isinstance(value, str):
        return value[:7]
    return pd.Timestamp(value).strftime("%Y-%m")


def number(value, digits: int = 0) -> str:
    if value is None or _nan(value):
        return ""
    return f"{value:,.{digits}f}"


def pct(value) -> str:
    return "" if value is None or _nan(value) else f"{100 * float(value):.0f}%"


def span(rec) -> str:
    """A finding's months: 2021-02, or 2021-02 → 2021-03."""
    if rec["period"] == rec["period_end"]:
        return rec["period"]
    return f"{rec['period']} → {rec['period_end']}"


def quote_segment(value) -> str:
    """One URL path segment: every reserved character encoded, slashes included."""
    return quote(str(value), safe="")


def series_path(rec) -> str:
    parts = (rec["reporter"], rec["partner"], rec["flow"], rec["commodity"])
    return "/series/" + "/".join(quote_segment(p) for p in parts)


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
