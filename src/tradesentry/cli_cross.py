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

from tradesentry.text import money, plural, sparkline


def _num(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if np.isfinite(value) else None


def _records(frame: pd.DataFrame) -> list[dict]:
    return json.loads(frame.to_json(orient="records", date_format="iso", force_ascii=False))


def _ratio(x) -> str:
    x = _num(x)
    if x is None:
        return ""
    return f"{x:.3g}" if x < 1000 else f"{x:,.0f}"


# -- revisions ---------------------------------------------------------------------------------
def print_revisions(console: Console, frame: pd.DataFrame, currency: str) -> None:
    """The revised cells of one series: period, before → after, releases and dates."""
    if frame.empty:
        console.print("No revisions: every release that reported a month gave the same figure.")
        return
    table = Table(title=plural(len(frame), "revised figure"), show_edge=False)
    for column in ("period", "before", "after", "change", "releases"):
        table.add_column(column, justify="right" if column in ("before", "after") else "left")
    for row in frame.itertuples():
        share = _num(row.change_share)
        change = "" if share is None else f"{share:+.1%}"
        table.add_row(
            pd.Timestamp(row.period).strftime("%Y-%m"),
            money(_num(row.previous_value), currency),
            money(_num(row.value), currency),
            change or ("suppressed" if _num(row.value) is None else "disclosed"),
            f"{row.previous_release} ({_date(row.previous_published)}) → "
            f"{row.release} ({_date(row.published)})",
        )
    console.print(table)


def _date(value) -> str:
    if value is None or pd.isna(value):
        return "date unknown"
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def print_release_diff(console: Console, diff, as_json: bool) -> None:
    """Summary, months restated and the changed cells of ``releases --diff A B``."""
    if as_json:
        sys.stdout.write(
            json.dumps(
                {
                    "a": diff.a,
                    "b": diff.b,
                    "summary": diff.summary,
                    "by_month": _records(diff.by_month),
                    "cells": _records(diff.cells),
                },
                ensure_ascii=False,
            )
            + "\n"
        )
        return
    s = diff.summary
    console.print(
        f"Release {diff.b['id']} ({diff.b['file']}, published {diff.b['published'] or 'n/a'}) "
        f"against release {diff.a['id']} ({diff.a['file']}, published "
        f"{diff.a['published'] or 'n/a'}): {plural(s['common'], 'cell')} in both, "
        f"{s['revised']:,} revised, {s['unchanged']:,} unchanged, {s['appeared']:,} appeared, "
        f"{s['vanished']:,} vanished; {plural(s['only_in_b'], 'cell')} beyond release "
        f"{diff.a['id']}'s coverage, {s['only_in_a']:,} beyond release {diff.b['id']}'s.",
        highlight=False,
    )
    months = diff.by_month[
        (diff.by_month["revised"] > 0)
        | (diff.by_month["appeared"] > 0)
        | (diff.by_month["vanished"] > 0)
    ]
    if len(months):
        table = Table(title="Months changed", show_edge=False)
        for column in ("period", "revised", "of", "share", "appeared", "vanished", "net change"):
            table.add_column(column)
        for row in months.itertuples():
            table.add_row(
                row.period + (" restated" if row.restated else ""),
                str(row.revised),
                str(row.common),
                f"{row.share_revised:.0%}",
                str(row.appeared),
                str(row.vanished),
                f"{row.net_change:,.0f}",
            )
        console.print(table)
    restated = diff.restated_months()
    if restated:
        console.print(f"Whole months restated: {', '.join(restated)}.")


# -- mirror ----------------------------------------------------------------------------------
def print_mirror(console: Console, view, as_json: bool) -> None:
    """Both records and the gap over time; one table per flow, or a summary per commodity."""
    frame = view.frame
    if as_json:
        sys.stdout.write(
            json.dumps(
                {
                    "reporter": view.reporter,
                    "partner": view.partner,
                    "currency": view.currency,
                    "notes": view.notes,
                    "months": _records(frame),
                },
                ensure_ascii=False,
            )
            + "\n"
        )
        return
    for note in view.notes:
        console.print(f"note: {note}", highlight=False)
    for flow, rows in frame.groupby("flow", sort=True):
        if rows["commodity"].nunique() == 1:
            _mirror_months(console, view, flow, rows)
        else:
            _mirror_commodities(console, view, flow, rows)


def _sides(view, flow: str) -> tuple[str, str]:
    if flow == "export":
        return f"{view.reporter} exports", f"{view.partner} imports"
    return f"{view.reporter} imports", f"{view.partner} exports"


def _mirror_months(console: Console, view, flow: str, rows: pd.DataFrame) -> None:
    own_label, mirror_label = _sides(view, flow)
    commodity = rows["commodity"].iat[0]
    first = rows.iloc[0]
    usual = (
        f", {commodity} ({view.currency}); usual "
        f"import/export ratio {_ratio(first['usual_ratio'])}, band "
        f"{_ratio(first['band_low'])}–{_ratio(first['band_high'])}"
        + (" (intra-EU)" if first["intra_eu"] else "")
    )
    console.print(Text.assemble((f"{own_label} vs {mirror_label}", "bold"), usual))
    console.print(f"  own    {sparkline(rows['own'].to_numpy(float))}", highlight=False)
    console.print(f"  mirror {sparkline(rows['mirror'].to_numpy(float))}", highlight=False)
    table = Table(show_edge=False)
    for column in ("period", own_label, mirror_label, "ratio", "gap", ""):
        table.add_column(column, justify="left" if column in ("period", "") else "right")
    for row in rows.itertuples():
        table.add_row(
            row.period,
            money(_num(row.own), view.currency),
            money(_num(row.mirror), view.currency),
            _ratio(row.ratio),
            money(_num(row.gap), view.currency) if _num(row.gap) is not None else "",
            "outside band" if row.outside else "",
        )
    console.print(table)


def _mirror_commodities(console: Console, view, flow: str, rows: pd.DataFrame) -> None:
    own_label, mirror_label = _sides(view, flow)
    table = Table(title=f"{own_label} vs {mirror_label} ({view.currency})", show_edge=False)
    for column in (
        "commodity",
        own_label,
        mirror_label,
        "ratio",
        "band",
        "outside",
        "ratio over time",
    ):
        table.add_column(column)
    for commodity, part in rows.groupby("commodity", sort=True):
        both = part["own"].notna() & part["mirror"].notna()
        own, mirror = part.loc[both, "own"].sum(), part.loc[both, "mirror"].sum()
        ratio = (mirror / own if flow == "export" else own / mirror) if own and mirror else None
        table.add_row(
            str(commodity),
            money(own, view.currency),
            money(mirror, view.currency),
            _ratio(ratio),
            f"{_ratio(part['band_low'].iat[0])}–{_ratio(part['band_high'].iat[0])}",
            f"{int(part['outside'].sum())}/{plural(int(both.sum()), 'month')}",
            sparkline(part["ratio"].to_numpy(float)),
        )
    console.print(table)


# -- missing trade ----------------------------------------------------------------------------
def print_missing(console: Console, result, as_json: bool) -> None:
    """Per commodity and flow: recorded, implied, low / central / high; then the method."""
    if as_json:
        sys.stdout.write(
            json.dumps(
                {
                    "reporter": result.reporter,
                    "partner": result.partner,
                    "currency": result.currency,
                    "from": result.start,
                    "to": result.end,
                    "totals": result.totals,
                    "commodities": _records(result.frame),
                    "method": result.method,
                    "notes": result.notes,
                },
                ensure_ascii=False,
            )
            + "\n"
        )
        return
    cur = result.currency
    span = f"{result.start or 'start'} to {result.end or 'end'}"
    for flow, rows in result.frame.groupby("flow", sort=True):
        verb = "exports to" if flow == "export" else "imports from"
        table = Table(
            title=f"Missing from {result.reporter}'s {verb} {result.partner}, {span} ({cur})",
            show_edge=False,
        )
        for column in (
            "commodity",
            "months",
            "recorded",
            "partner's record",
            "low",
            "central",
            "high",
        ):
            table.add_column(column, justify="left" if column == "commodity" else "right")
        for row in rows.itertuples():
            table.add_row(
                str(row.commodity),
                str(row.months),
                money(row.own, cur),
                money(row.mirror, cur),
                money(row.low, cur),
                money(row.central, cur),
                money(row.high, cur),
            )
        total = result.totals.get(flow, {})
        table.add_row(
            "total",
            str(int(total.get("months", 0))),
            money(total.get("own"), cur),
            money(total.get("mirror"), cur),
            money(total.get("low"), cur),
            money(total.get("central"), cur),
            money(total.get("high"), cur),
            style="bold",
        )
        console.print(table)
    for note in result.notes:
        console.print(f"note: {note}", highlight=False)
    console.print(f"Method: {result.method}", highlight=False)


def print_rates_result(console: Console, result) -> None:
    console.print(
        f"{result.file}: {plural(result.rows, 'monthly rate')} "
        f"({', '.join(result.currencies)}, {result.first}…{result.last}, {result.layout} "
        f"layout) loaded; replaced {plural(result.replaced, 'rate')} already in the store.",
        highlight=False,
    )
