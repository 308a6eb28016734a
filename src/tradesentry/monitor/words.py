"""Figures in the words trade news uses: "$12.98 million", "China's exports to North Korea".

Every phrase here is built from codes and numbers; nothing names a particular country.
Country names come from country_converter's short names (a maintained library), UN
Comtrade's special areas from the table the package ships. The only grammar rules are
general ones: a definite article before names that are plural or describe a union
("the United States", "the Netherlands"), and an apostrophe alone after a name ending in
s ("the Philippines' exports", as AP style has it).
"""

from __future__ import annotations

import calendar
import csv
import logging
from collections.abc import Mapping
from datetime import date
from functools import cache
from importlib import resources

from tradesentry import text
from tradesentry.schema import WORLD

# Words that make an English country name take "the": unions and plurals.
_ARTICLE_WORDS = frozenset(
    {"united", "republic", "kingdom", "islands", "emirates", "federation", "states"}
)
_FLOW_PHRASE = {
    "export": ("exports", "to"),
    "import": ("imports", "from"),
    "re-export": ("re-exports", "to"),
    "re-import": ("re-imports", "from"),
}


@cache
def _special_areas() -> dict[str, str]:
    path = resources.files("tradesentry").joinpath("data/comtrade_areas.csv")
    with path.open(encoding="utf-8") as f:
        return {row["code"]: row["name"] for row in csv.DictReader(f)}


@cache
def country_name(code: str) -> str:
    """Short English name of an alpha-3 code ("North Korea"), "the world" for WLD.

    Unknown codes come back as given, so a sentence never loses its subject.
    """
    if code == WORLD:
        return "the world"
    import country_converter

    logging.getLogger("country_converter").setLevel(logging.CRITICAL)
    name = country_converter.convert(code, src="ISO3", to="name_short", not_found="")
    if not isinstance(name, str) or name in ("", code):  # not found: the code comes back
        return _special_areas().get(code, code)
    return f"the {name}" if _takes_article(name) else name


def _takes_article(name: str) -> bool:
    words = {w.strip(",.").lower() for w in name.split()}
    return bool(words & _ARTICLE_WORDS) or name.endswith(("lands", "ines", "amas", "ives"))


def possessive(name: str) -> str:
    """A possessive as AP style writes it: "China's", "the Netherlands'"."""
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def names(codes: list[str], limit: int = 3) -> str:
    """A list of country names: "China and Japan", "China, Japan, Korea and 4 others"."""
    words = [country_name(c) for c in codes]
    if len(words) > limit + 1:
        words = [*words[:limit], f"{len(codes) - limit} others"]
    return text.joined(words)


#: classifications named by their codes' length: a code of another length is not one of
#: them ("CN8 481141" named a six-digit heading an eight-digit CN code)
_SIZED = {"CN8": ("CN", 8), "HS6": ("HS", 6), "HS4": ("HS", 4), "HS2": ("HS", 2)}


def goods(classification: str, commodity: str) -> str:
    """The goods after a flow: nothing for the total of all goods, else " of HS 2710"."""
    if commodity == "TOTAL":
        return ""
    name, size = _SIZED.get(classification, (classification, None))
    if size is None or len(commodity) == size:
        name = classification
    return f" of {name} {commodity}"


def subject(
    reporter: str,
    partner: str,
    flow: str,
    commodity: str,
    classification: str,
    breakdown: str | None = "",
) -> str:
    """The series as the subject of a sentence: "China's exports to North Korea"; a part
    of the flow says which: "… to Belgium (mode of transport 3200)"."""
    noun, preposition = _FLOW_PHRASE.get(flow, (f"{flow} trade", "with"))
    owner = possessive(country_name(reporter))
    what = goods(classification, commodity)
    if partner == WORLD:
        return f"{owner} total {noun}{what}{part(breakdown)}"
    return f"{owner} {noun}{what} {preposition} {country_name(partner)}{part(breakdown)}"


# UN Comtrade's breakdown codes and the codes of their totals (ingest/comtrade.py).
_PART_NAMES = {
    "partner2": "second partner",
    "customs": "customs procedure",
    "mot": "mode of transport",
}
_PART_TOTALS = {"partner2": "0", "customs": "C00", "mot": "0"}


def part(breakdown: str | None) -> str:
    """Which part of a flow a series is, after its subject: "" for the whole flow,
    " (mode of transport 3200)", " (second partner 156, customs procedure C01)"; a
    breakdown of another form as the store keeps it."""
    if not breakdown:
        return ""
    pairs = [item.partition("=") for item in breakdown.split(";")]
    if not all(sep and key in _PART_NAMES for key, sep, _ in pairs):
        return f" ({breakdown})"
    named = [f"{_PART_NAMES[k]} {v}" for k, _, v in pairs if v != _PART_TOTALS[k]]
    return f" ({', '.join(named) or breakdown})"


def money(value: float | None, currency: str = "USD", *, approx: bool = False) -> str:
    """Money as news writes it: "$3,000", "$12.98 million", "€1.20 billion", "4.10 million KRW".

    ``text.money`` in its long style, so the digest follows the rules of every other page:
    cents under ten units ("$1.35", "$0.48"), "under $0.01" for less than a cent and "$0"
    only for an exact zero. ``approx`` is for estimates: three significant figures, no
    trailing zeros ("$108 million").
    """
    return text.money(value, currency, long=True, approx=approx)


def money_pair(first: float | None, second: float | None, currency: str = "USD") -> tuple[str, str]:
    """Two amounts of one sentence, with the digits it takes to tell them apart."""
    return text.money_pair(first, second, currency, long=True)


def month(period: str | date, *, after: str | date | None = None) -> str:
    """A month: "March 2021"; just "February" when ``after`` (read with it) has its year."""
    year, number = _year_month(period)
    if after is not None and _year_month(after)[0] == year:
        return calendar.month_name[number]
    return f"{calendar.month_name[number]} {year}"


def month_span(start: str | date, end: str | date, freq: str | None = "M") -> str:
    """A span of months: "February–March 2021", "December 2020–January 2021"; of an annual
    series' years (``freq`` "A", periods at their first month): "2016", "2015–2017"."""
    if freq == "A":
        first, last = _year_month(start)[0], _year_month(end)[0]
        return str(first) if first == last else f"{first}–{last}"
    if _year_month(start) == _year_month(end):
        return month(start)
    return f"{month(start, after=end)}–{month(end)}"


MONTH_RUNS_NAMED = 3  # more runs of months than this are given as a span and a count


def months(periods: list[str]) -> str:
    """Months as a heading names them, each run of consecutive months a span: "May and July
    2023", "January–March and May 2023", "November 2022 and January–February 2023"; where
    they fall in more than three runs, "January 2019–June 2021 (24 months)"."""
    keys = sorted({_year_month(p) for p in periods})
    if not keys:
        return ""
    runs: list[list[tuple[int, int]]] = []
    for year, number in keys:
        if runs and (year * 12 + number) - (runs[-1][-1][0] * 12 + runs[-1][-1][1]) == 1:
            runs[-1].append((year, number))
        else:
            runs.append([(year, number)])
    first, last = (f"{y}-{m:02d}" for y, m in (keys[0], keys[-1]))
    if len(runs) == 1:
        return month_span(first, last)
    if len(runs) > MONTH_RUNS_NAMED:
        return f"{month_span(first, last)} ({len(keys)} months)"
    spans = [month_span(*(f"{y}-{m:02d}" for y, m in (r[0], r[-1]))) for r in runs]
    if len({y for y, _ in keys}) == 1:  # one year: said once, at the end
        year = f" {keys[0][0]}"
        spans = [s.removesuffix(year) for s in spans]
        return f"{text.joined(spans)}{year}"
    return text.joined(spans)


def _year_month(period: str | date) -> tuple[int, int]:
    if isinstance(period, date):
        return period.year, period.month
    year, number = str(period)[:7].split("-")
    return int(year), int(number)


def change(value: float, base: float, currency: str) -> str:
    """A change: "up $9.60 million (+353.9%)", "up $12.97 million (4,326 times as much)"."""
    delta = value - base
    direction = "up" if delta > 0 else "down"
    amount = f"{direction} {money(abs(delta), currency)}"
    if base == 0:
        return amount
    return f"{amount} ({text.relative_change(value, base)})"


def move(who: str, value: float, period: str, base: float, base_period: str, currency: str) -> str:
    """One move as a news sentence: "<who> rose to $X in March 2021 from $Y in February, …"."""
    when, then = month(period), month(base_period, after=period)
    if value == base:
        return sentence(f"{who} were unchanged at {money(value, currency)} in {when} and {then}.")
    verb = "rose" if value > base else "fell"
    now, before = money_pair(value, base, currency)
    return sentence(
        f"{who} {verb} to {now} in {when} from {before} in {then}, {change(value, base, currency)}."
    )


def series_subject(rec: Mapping) -> str:
    """``subject`` of a record naming a series (a finding, a cell): "China's exports to
    North Korea"; a record without a classification is read as HS."""
    return subject(
        rec["reporter"],
        rec["partner"],
        rec["flow"],
        rec["commodity"],
        rec.get("classification") or "HS",
        rec.get("breakdown"),
    )


def headline(rec: Mapping) -> str:
    """A finding as a heading: "Level shift, March 2021: China's exports to North Korea"."""
    span = month_span(rec["period"], rec["period_end"], rec.get("freq"))
    return f"{kind_name(rec['kind'])}, {span}: {sentence(series_subject(rec))}"


def kind_name(kind: str) -> str:
    """A kind as a heading: "timing_shift" → "Timing shift"."""
    return kind.replace("_", " ").capitalize()


def sentence(text: str) -> str:
    """Capitalise the first letter ("the United States' …" opens a sentence)."""
    return text[:1].upper() + text[1:]


def count(n: int, noun: str, plural: str | None = None) -> str:
    """A count with its noun: "1 figure", "47 figures"."""
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"
