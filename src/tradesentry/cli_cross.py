"""Terminal rendering of the cross checks (revisions, mirror, missing trade, rates).

The commands live in ``cli``; this module only turns the api's results into Rich tables
or JSON, so that ``cli`` stays a list of thin commands. Every function prints to the CLI's
console, whose markup is off: keys, file names and notes are data, never Rich markup.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tradesentry import revisions as rev
from tradesentry.missing import every_period, mirror_ratio
from tradesentry.text import (
    json_text,
    missing,
    money,
    period_label,
    period_unit,
    plural,
    printable,
    relative_change,
    sparkline,
)
from tradesentry.text import ratio as ratio_text


def _num(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if np.isfinite(value) else None


def _records(frame: pd.DataFrame) -> list[dict]:
    return json.loads(frame.to_json(orient="records", date_format="iso", force_ascii=False))


def _ratio(x) -> str:
    """An import/export ratio as the explanations write it (``text.ratio``, three figures):
    1.06, 4,200, 261 million, 1/5,000,000."""
    x = _num(x)
    return "" if x is None else ratio_text(x, figures=3)


# -- revisions ---------------------------------------------------------------------------------
def print_revisions(console: Console, frame: pd.DataFrame, currency: str) -> None:
    """The revised cells of one series: period, before → after, releases and dates."""
    if frame.empty:
        console.print(
            "No revisions: no release changed a figure by more than "
            f"{rev.TOLERANCE:.1%} and {money(rev.MIN_CHANGE, currency)} at once (smaller "
            "changes are not counted as revisions).",
            highlight=False,
        )
        return
    table = Table(title=plural(len(frame), "revised figure"), show_edge=False)
    for column in ("period", "before", "after", "change", "releases"):
        table.add_column(column, justify="right" if column in ("before", "after") else "left")
    for row in frame.itertuples():
        before, after = _num(row.previous_value), _num(row.value)
        # as every text says a change: a percentage, from ten times up a multiple; from a
        # figure of 0 no share ("disclosed" it was not: release 1 had given 0)
        change = ""
        if before is not None and after is not None:
            change = relative_change(after, before) if before else "from 0"
        table.add_row(
            period_label(pd.Timestamp(row.period).strftime("%Y-%m"), row.freq),
            # each revision in its own currency: a series given in euros from a release
            # on keeps its dollar revisions in dollars
            money(before, row.currency),
            money(after, row.currency),
            change or ("suppressed" if after is None else _disclosed(row, after)),
            f"{row.previous_release} ({_date(row.previous_published)}) → "
            f"{row.release} ({_date(row.published)})",
        )
    console.print(table)


def _disclosed(row, after: float) -> str:
    """A figure given again after a release withheld it, against the last one published:
    "disclosed, +25.0% on release 1's €233.0K"."""
    last = _num(getattr(row, "last_figure", None))
    if last is None:
        return "disclosed"
    release = int(row.last_figure_release)
    if after == last:
        return f"disclosed, release {release}'s figure again"
    if not last:
        return f"disclosed; release {release} gave {money(last, row.currency)}"
    return (
        f"disclosed, {relative_change(after, last)} on release {release}'s "
        f"{money(last, row.currency)}"
    )


def _date(value) -> str:
    if value is None or pd.isna(value):
        return "date unknown"
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def print_release_diff(console: Console, diff, as_json: bool) -> None:
    """Summary, months restated and the changed cells of ``releases --diff A B``."""
    if as_json:
        sys.stdout.write(
            json_text(
                {
                    "a": diff.a,
                    "b": diff.b,
                    "summary": diff.summary,
                    "by_month": _records(diff.by_month),
                    "cells": _records(diff.cells),
                },
            )
            + "\n"
        )
        return
    s = diff.summary
    console.print(
        f"Release {diff.b['id']} ({diff.b['file']}, published {diff.b['published'] or 'n/a'}) "
        f"against release {diff.a['id']} ({diff.a['file']}, published "
        f"{diff.a['published'] or 'n/a'}): {plural(s['common'], 'cell')} in both, "
        f"{s['revised']:,} revised{_revised_detail(s)}, {s['unchanged']:,} unchanged, "
        f"{_other_currency(s, diff.b['id'])}"
        f"{s['appeared']:,} appeared, "
        f"{s['vanished']:,} vanished; {plural(s['only_in_b'], 'cell')} beyond release "
        f"{diff.a['id']}'s coverage, {s['only_in_a']:,} beyond release {diff.b['id']}'s"
        f"{_net_text(s)}.",
        highlight=False,
    )
    latest = _latest_text(diff)
    if latest:
        console.print(latest, highlight=False)
    if s.get("b_published_first"):
        console.print(
            f"Release {diff.b['id']} was published before release {diff.a['id']}: this reads "
            f"release {diff.a['id']}'s figures as the earlier ones; `--diff {diff.b['id']} "
            f"{diff.a['id']}` reads them in the order they came out.",
            highlight=False,
        )
    counted = ["revised", "appeared", "vanished", "only_in_b"]
    months = diff.by_month[diff.by_month[counted].gt(0).any(axis=1)]
    if len(months):
        # Monthly and annual figures are rows apart: 2016-01 (a month), 2016 (a year).
        table = Table(title=f"{_periods_word(months['freq'])} changed", show_edge=False)
        for column in (
            "period", "revised", "of", "share", "appeared", "vanished", "new", "net change",
        ):  # fmt: skip
            table.add_column(column)
        for row in months.itertuples():
            table.add_row(
                period_label(row.period, row.freq) + (" restated" if row.restated else ""),
                str(row.revised),
                str(row.common - row.other_currency),  # the cells compared
                _share(row.revised, row.common - row.other_currency),
                str(row.appeared),
                str(row.vanished),
                str(row.only_in_b),
                _changes(row.net_changes),
            )
        console.print(table)
    restated = diff.restated_months()
    if restated:
        freqs = diff.by_month.loc[diff.by_month["restated"], "freq"]
        console.print(f"Whole {_periods_word(freqs).lower()} restated: {', '.join(restated)}.")


def _latest_text(diff) -> str:
    """Where the two releases end in different months, which: "2 beyond release 2's
    coverage" does not say that release 2 stops at May and release 1 went on to June."""
    a, b = diff.summary["latest_month"]["a"], diff.summary["latest_month"]["b"]
    if a is None or b is None or a == b:
        return ""
    text = f"Release {diff.b['id']}'s latest month is {b}, release {diff.a['id']}'s {a}"
    if b < a:
        return (
            f"{text}: the months after {b} are not in release {diff.b['id']} (counted beyond "
            "its coverage, not as vanished)."
        )
    return f"{text}."


def _net_text(s: dict) -> str:
    """The revisions' net change, per currency: '; net change of the revised figures
    +$2.0M' (nothing where none was revised)."""
    sums = s.get("change_by_currency") or {}
    if not sums:
        return ""
    return "; net change of the revised figures " + _changes(
        {cur: v["net"] for cur, v in sums.items()}
    )


def _changes(net: dict) -> str:
    """Net changes by currency, each in its own: '+$2.0M, -¥200.0M'; '' for none."""
    return ", ".join(("+" if v > 0 else "") + money(v, cur) for cur, v in sorted(net.items()))


def _other_currency(s: dict, b: int) -> str:
    """ "95 given by release 5 in another currency (not compared), " where any."""
    n = s.get("other_currency") or 0
    return f"{n:,} given by release {b} in another currency (not compared), " if n else ""


def _revised_detail(s: dict) -> str:
    """What the revised cells include: " (2 within the revision tolerance, 1 now withheld)"."""
    parts = [
        f"{s['small']:,} within the revision tolerance" if s.get("small") else "",
        f"{s['withheld']:,} now withheld" if s.get("withheld") else "",
        f"{s['disclosed']:,} no longer withheld" if s.get("disclosed") else "",
    ]
    parts = [p for p in parts if p]
    return f" ({', '.join(parts)})" if parts else ""


def _share(revised: int, compared: int) -> str:
    """The share of a month's compared cells revised: "0.2%" (one of 427 had read "0%"),
    "" where the month has none to compare (a month in one release only read "0 of 0, 0%")."""
    if not compared:
        return ""
    share = 100 * revised / compared
    if 0 < share < 0.01:  # one of 2,000,000 read "5e-05%"
        return "<0.01%"
    if 99.5 <= share < 100:  # 999 of 1,000 read "100%"
        return ">99.5%"
    return f"{share:.0f}%" if share >= 10 or share == 0 else f"{share:.2g}%"


def _periods_word(freqs: pd.Series) -> str:
    """Months, Years, or Months and years: what the rows of a diff are."""
    held = set(freqs)
    if held == {"A"}:
        return "Years"
    return "Months and years" if "A" in held else "Months"


# -- mirror ----------------------------------------------------------------------------------
SERIES = ["classification", "commodity", "breakdown"]


def print_mirror(console: Console, view, as_json: bool) -> None:
    """Both records and the gap over time; one table per flow, or a summary per commodity."""
    frame = view.frame
    if as_json:
        sys.stdout.write(
            json_text(
                {
                    "reporter": view.reporter,
                    "partner": view.partner,
                    "currency": view.currency,
                    "freq": view.freq,  # A: each row of "months" is a year (period YYYY)
                    "notes": view.notes,
                    "months": _records(frame),
                },
            )
            + "\n"
        )
        return
    for note in view.notes:
        console.print(f"note: {note}", highlight=False)
    several = frame["classification"].nunique() > 1
    for flow, rows in frame.groupby("flow", sort=True):
        if len(rows.drop_duplicates(SERIES)) == 1:
            _mirror_months(console, view, flow, rows)
        else:
            _mirror_commodities(console, view, flow, rows, several)


def _sides(view, flow: str) -> tuple[str, str]:
    if flow == "export":
        return f"{view.reporter} exports", f"{view.partner} imports"
    return f"{view.reporter} imports", f"{view.partner} exports"


def _span(periods: pd.Series) -> str:
    """'2019-01 to 2021-06', or the one month."""
    first, last = periods.min(), periods.max()
    return first if first == last else f"{first} to {last}"


def _label(commodity: str, classification: str, breakdown: str, several: bool) -> Text:
    """The commodity as the tables name it: its classification where the pair holds
    several, its breakdown where it is a part of the flow (as Text: never markup)."""
    label = f"{commodity} ({classification})" if several else str(commodity)
    return Text(printable(f"{label} [{breakdown}]" if breakdown else label))


def _recorded(total, months: int, currency: str, unconverted: int = 0) -> str:
    """A side's total over the months it recorded, or why there is none."""
    if months:
        return f"{money(_num(total), currency)} ({months})"
    return "no rate" if unconverted else "no record"


def _mirror_months(console: Console, view, flow: str, rows: pd.DataFrame) -> None:
    own_label, mirror_label = _sides(view, flow)
    rows = rows.sort_values("period")
    first = rows.iloc[0]
    part = f"; {first['breakdown']}" if first["breakdown"] else ""
    # with no pair of the commodity holding both records, the ratio is the literature's
    # CIF/FOB margin, not a measure of this pair (a reader took it for one)
    measured = _num(first.get("reference_pair_months")) or 0
    basis = "" if measured else " (the CIF/FOB margin: no pair in the store holds both records)"
    usual = (
        f", {first['commodity']} ({first['classification']}{part}; {view.currency}); usual "
        f"import/export ratio {_ratio(first['usual_ratio'])}{basis}, band "
        f"{_ratio(first['band_low'])}–{_ratio(first['band_high'])}"
        + (" (intra-EU)" if first["intra_eu"] else "")
        + _pair_basis(first, period_unit(view.freq))
    )
    console.print(Text.assemble((f"{own_label} vs {mirror_label}", "bold"), usual))
    rows = every_period(rows, view.freq)
    both = rows[["own", "mirror"]].to_numpy(float)  # one scale: one height, one amount
    console.print(f"  own    {sparkline(both[:, 0], shared=both)}", highlight=False)
    console.print(f"  mirror {sparkline(both[:, 1], shared=both)}", highlight=False)
    table = Table(show_edge=False)
    for column in ("period", own_label, mirror_label, "ratio", "gap", "band"):
        table.add_column(column, justify="left" if column in ("period", "band") else "right")
    for row in rows.itertuples():
        table.add_row(
            row.period,
            _figure(row.own, row.own_currency_ok, view.currency),
            _figure(row.mirror, row.mirror_currency_ok, view.currency),
            _ratio(row.ratio),
            _gap(row.gap, view.currency),
            "outside" if row.outside else "",
        )
    console.print(table)
    console.print(_mirror_totals(view, flow, rows), highlight=False)


def _figure(value, converted, currency: str) -> str:
    """A side's figure of a period: n/a where it recorded none, `no rate` where it did in a
    currency the store has no rate for that period (both read n/a, and a reader could not
    tell a month missing from a month unconverted)."""
    if _num(value) is None and not pd.isna(converted) and converted == 0:
        return "no rate"
    return money(_num(value), currency)


def _gap(value, currency: str) -> str:
    """The gap column: empty where nothing is compared; a gap under a cent either way
    "under $0.01", as its sign says nothing at that size ("above -€0.01" read as a riddle)."""
    value = _num(value)
    if value is None:
        return ""
    return money(abs(value) if abs(value) < 0.005 else value, currency)


def _pair_basis(first, unit: str = "month") -> str:
    """Which band the months are marked against and the gap column rests on, as mirror_gap
    judges them: the pair's own (its usual ratio, and its median where shrinking moved it),
    a persistent gap's, or the commodity's."""
    if first["persistent"]:
        return (
            f"; this pair's own ratio, {_ratio(first['pair_usual_ratio'])}, lies outside "
            "the band: a persistent gap, judged by this commodity's band"
        )
    if first["own_habit"]:
        usual, median = _ratio(first["expected_ratio"]), _ratio(first["pair_usual_ratio"])
        moved = "" if usual == median else f": its median, {median}, shrunk towards the commodity's"
        return (
            f"; {unit}s judged by this pair's own band {_ratio(first['pair_band_low'])}–"
            f"{_ratio(first['pair_band_high'])} around its usual ratio {usual} over "
            f"{plural(int(first['pair_months']), unit)}"
            f"{moved}"
        )
    return ""


def _mirror_totals(view, flow: str, rows: pd.DataFrame) -> str:
    """Each side's total over the months (years) it recorded, and the ratio over the months
    both did."""
    own_label, mirror_label = _sides(view, flow)
    cur, unit = view.currency, period_unit(view.freq)
    sides = []
    for label, column in ((own_label, "own"), (mirror_label, "mirror")):
        months = rows.loc[rows[column].notna(), "period"]
        if len(months):
            total = money(_num(rows[column].sum()), cur)
            sides.append(f"{label} {total} over {plural(len(months), unit)} ({_span(months)})")
        elif rows[f"{column}_currency_ok"].fillna(1).eq(0).any():
            sides.append(f"{label}: no rate to {cur} for any {unit}")
        else:
            sides.append(f"{label}: no record")
    both = rows["own"].notna() & rows["mirror"].notna()
    if not both.any():
        compared = f"no {unit} recorded by both, nothing to compare"
    else:
        own, mirror = rows.loc[both, "own"].sum(), rows.loc[both, "mirror"].sum()
        ratio = mirror_ratio(rows, flow)
        compared = (
            f"over the {plural(int(both.sum()), unit)} both recorded "
            f"({_span(rows.loc[both, 'period'])}): {money(_num(own), cur)} against "
            f"{money(_num(mirror), cur)}, ratio {_ratio(ratio) or 'n/a'}, "
            f"{int(rows['outside'].sum())} outside the band they are judged by"
        )
    return f"Totals: {'; '.join(sides)}. Compared: {compared}."


def _mirror_commodities(
    console: Console, view, flow: str, rows: pd.DataFrame, several: bool
) -> None:
    own_label, mirror_label = _sides(view, flow)
    table = Table(
        title=f"{own_label} vs {mirror_label}, {_span(rows['period'])} ({view.currency})",
        caption=(
            "Each side's total over the {0}s it recorded (how many); ratio, and {0}s "
            "outside the band mirror_gap judges them by (the pair's own where it has one) "
            "of those both recorded, over the {0}s both recorded."
        ).format(period_unit(view.freq)),
        show_edge=False,
    )
    for column in (
        "commodity",
        own_label,
        mirror_label,
        "ratio",
        "band",
        "outside/both",
        "ratio over time",
    ):
        table.add_column(column, no_wrap=column in ("commodity", own_label, mirror_label))
    span = rows["period"].min(), rows["period"].max()  # each line over the title's periods
    for (classification, commodity, breakdown), part in rows.groupby(SERIES, sort=True):
        part = part.sort_values("period")
        has_own, has_mirror = part["own"].notna(), part["mirror"].notna()
        both = has_own & has_mirror
        ratio = mirror_ratio(part, flow)
        unconverted = {
            side: int(part[f"{side}_currency_ok"].fillna(1).eq(0).sum())
            for side in ("own", "mirror")
        }
        table.add_row(
            _label(commodity, classification, breakdown, several),
            _recorded(
                part.loc[has_own, "own"].sum(),
                int(has_own.sum()),
                view.currency,
                unconverted["own"],
            ),
            _recorded(
                part.loc[has_mirror, "mirror"].sum(),
                int(has_mirror.sum()),
                view.currency,
                unconverted["mirror"],
            ),
            _ratio(ratio),
            f"{_ratio(part['band_low'].iat[0])}–{_ratio(part['band_high'].iat[0])}",
            f"{int(part['outside'].sum())}/{int(both.sum())}",
            sparkline(every_period(part, view.freq, *span)["ratio"].to_numpy(float)),
        )
    console.print(table)


# -- missing trade ----------------------------------------------------------------------------
def print_missing(console: Console, result, as_json: bool) -> None:
    """Per commodity and flow: each side's record, low / central / high; then the method."""
    if as_json:
        sys.stdout.write(
            json_text(
                {
                    "reporter": result.reporter,
                    "partner": result.partner,
                    "currency": result.currency,
                    "freq": result.freq,  # A: by year (the month counts count years)
                    "from": result.start,
                    "to": result.end,
                    "first": result.first,
                    "last": result.last,
                    "totals": result.totals,
                    "commodities": _records(result.frame),
                    "method": result.method,
                    "notes": result.notes,
                },
            )
            + "\n"
        )
        return
    cur = result.currency
    span = result.first if result.first == result.last else f"{result.first} to {result.last}"
    several = result.frame["classification"].nunique() > 1
    under = "" if several else f"{result.frame['classification'].iat[0]}, "
    for flow, rows in result.frame.groupby("flow", sort=True):
        verb = "exports to" if flow == "export" else "imports from"
        table = Table(
            title=f"Missing from {result.reporter}'s {verb} {result.partner}, {span} "
            f"({under}{cur})",
            show_edge=False,
            pad_edge=False,
        )
        for column in ("commodity", "recorded", "partner's\nrecord", "both"):
            table.add_column(column, justify="left" if column == "commodity" else "right")
        for column in ("low", "central", "high"):
            table.add_column(column, justify="right", no_wrap=True)
        for row in rows.itertuples():
            table.add_row(
                _label(row.commodity, row.classification, row.breakdown, several),
                *_missing_cells(row._asdict(), cur),
            )
        if len(rows) > 1:  # one row is its own total: a second line would repeat it
            total = result.totals.get(flow, {})
            table.add_row("total", *_missing_cells(total, cur), style="bold")
        console.print(table)
    unit = period_unit(result.freq)
    console.print(
        f"recorded, partner's record: each side's total over the {unit}s it recorded (how "
        f"many); both: the {unit}s both recorded, over which the mirror gaps are summed; n/a: "
        f"no {unit} to estimate from.",
        highlight=False,
    )
    for line in _partner_terms_notes(result):
        console.print(line, highlight=False)
    for note in result.notes:
        console.print(f"note: {note}", highlight=False)
    console.print(f"Method: {result.method}", highlight=False)


def _partner_terms_notes(result) -> list[str]:
    """Where most of a commodity's central gap is the partner's correction (its usual
    figures well below the reporter's), say so: it reads as the partner's record out of
    line as much as trade missing from the reporter's."""
    lines = []
    for row in result.frame.itertuples():
        if missing(row.central):  # nothing estimated
            continue
        # the mirror gaps alone (central adds the unit-value gaps of months without a
        # partner record), and the part of them in the partner's terms, of the same sign
        mirror = float(row.central or 0.0) - float(row.unit_value_gap or 0.0)
        theirs = float(row.central_partner_terms or 0.0)
        if not mirror or theirs * mirror <= 0 or abs(theirs) < 0.5 * abs(mirror):
            continue
        cur = result.currency
        part = "all" if abs(theirs - mirror) < 0.005 else f"{money(theirs, cur)}"
        lines.append(
            f"{row.commodity} ({row.flow}): of the mirror gaps' {money(mirror, cur)}, {part} "
            f"is in {result.partner}'s terms: its figures for this flow usually run well "
            f"below {result.reporter}'s, so moving them is the smaller correction; read it as "
            f"{result.partner}'s record out of line as much as trade missing from "
            f"{result.reporter}'s."
        )
    return lines


def _missing_cells(row: dict, cur: str) -> list[str]:
    """recorded, partner's record, both, low, central, high of a commodity or a total."""
    months = int(row.get("months", 0))
    return [
        _recorded(
            row.get("own"),
            int(row.get("own_months", 0)),
            cur,
            int(row.get("own_unconverted_months", 0)),
        ),
        _recorded(
            row.get("mirror"),
            int(row.get("mirror_months", 0)),
            cur,
            int(row.get("mirror_unconverted_months", 0)),
        ),
        str(months),
        *(
            "n/a" if missing(row.get(k)) else money(row.get(k), cur)
            for k in ("low", "central", "high")
        ),
    ]


def print_rates_result(console: Console, result) -> None:
    console.print(
        f"{result.file}: {plural(result.rows, 'monthly rate')} "
        f"({', '.join(result.currencies)}, {result.first}…{result.last}, {result.layout} "
        f"layout) loaded; replaced {plural(result.replaced, 'rate')} already in the store.",
        highlight=False,
    )
