"""Plotly figures of a series and its findings, for the report and the dashboard alike.

The figures draw what the api returns and nothing more: observed values, combined months
at their per-month average, the reported months a finding covers (shaded where it covers
none, a gap), and for the finding in focus the evidence its detector recorded (the
expected value and band, the amount a timing shift moved, the two levels of a level
shift, the partner's record of a mirror gap). An annual series is drawn by year, its
findings ringed at their years (a view holding a series both monthly and annually draws
the months, with the monthly findings). A figure is returned as a JSON-ready dict
(``data``, ``layout``, ``config``) that the templates embed and ``static/app.js`` draws.
The dicts are built directly in Plotly's JSON schema rather than through
``plotly.graph_objects``, whose validation costs more than the page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

import numpy as np
import pandas as pd

from tradesentry.api import SeriesView
from tradesentry.detectors.level_shift import new_level_lasts
from tradesentry.text import currency_symbol, money, period_span

SEVERITY_COLOURS = {"high": "#c0392b", "medium": "#e67e22", "low": "#7f8c8d"}
OBSERVED = "#1f4e79"
EXPECTED = "#27ae60"
MIRROR = "#8e44ad"
GRID = "#e5eaf0"
# Evidence keys detectors may use for the lower and upper ends of the expected band.
_BAND_KEYS = (
    ("lower", "upper"),
    ("low", "high"),
    ("expected_low", "expected_high"),
    ("expected_lower", "expected_upper"),
    ("band_low", "band_high"),
)
_MOVED_KEYS = ("moved", "amount_moved", "shifted", "amount")
_BEFORE_KEYS = ("before", "level_before", "old_level", "from_level")
_AFTER_KEYS = ("after", "level_after", "new_level", "to_level")
_LOG_SPAN = 100.0  # a log axis once the positive values span two orders of magnitude
CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["lasso2d"]}


class _Figure:
    """The few parts of a Plotly figure these charts use, as plain JSON-ready dicts."""

    def __init__(self) -> None:
        self.data: list[dict] = []
        self.layout: dict = {"annotations": []}

    def add_trace(self, trace: dict) -> None:
        self.data.append(trace)

    def add_annotation(self, **annotation) -> None:
        self.layout["annotations"].append(annotation)

    def update_layout(self, **layout) -> None:
        self.layout.update(layout)


def _scatter(**trace) -> dict:
    return {"type": "scatter", **trace}


def series_figure(
    view: SeriesView,
    *,
    focus: Mapping | None = None,
    mirror: SeriesView | None = None,
    height: int = 340,
    log: bool | None = None,
) -> dict:
    """The series with its flagged months; ``focus`` adds one finding's evidence. ``log``
    sets the money axis' scale (None: ``wants_log``, by the chart's own figures)."""
    currency = str(view.observations["currency"].iat[0])
    fig = _Figure()
    annual = _annual(view.observations)
    monthly = _monthly(view.observations)
    fig.add_trace(_line(monthly, "Observed", OBSERVED, currency, annual))
    _add_combined(fig, view.observations, currency)
    if mirror is not None:
        _add_mirror(fig, mirror, currency, annual)
    records = [r for r in view.findings.to_records() if (r.get("freq") == "A") == annual]
    drawn = _drawn_months(view.observations, monthly)
    _flags_in_observed_hover(fig, _add_flags(fig, records, drawn, annual))
    if focus is not None and (focus.get("freq") == "A") == annual:
        _add_focus(fig, focus, monthly, currency)
    _layout(fig, _positive_values(view, mirror), currency, height, log)
    _few_periods_axis(fig, annual)
    return {"data": fig.data, "layout": fig.layout, "config": CONFIG}


def _axes_type(ticks: Mapping[str, dict], kind: str) -> dict:
    """The relayout of the log/linear toggle: both money axes where the chart has two,
    each with its ``ticks`` on a log axis (``_log_ticks``), plotly.js' own on a linear one."""
    relayout: dict = {}
    for axis, on_log in ticks.items():
        relayout[f"{axis}.type"] = kind
        relayout.update({f"{axis}.{k}": on_log.get(k) if kind == "log" else None for k in _TICKS})
    return relayout


_TICKS = ("dtick", "tickvals", "ticktext")
_LADDER = (1, 2, 5)  # in any 0.7 of a decade two of these steps fall (1, 2, 5, 10, 20…)


def _log_ticks(fig: _Figure, axis: str, sign: str) -> dict:
    """The ticks of a log money axis (``"yaxis"``, ``"yaxis2"``, its amounts written with
    ``sign``), chosen by the span of the positive figures drawn on it so that it has two
    labels or more, none of them a bare digit. Under 0.7 of a decade, plotly.js' own (whole
    amounts: €200k, €300k…). From a decade plotly.js labels the steps between powers of ten
    with bare digits ("2 3 4 5 7", that read as amounts): over two decades or more (or a
    single figure, drawn a decade either side), powers of ten alone ($10M, $100M); between,
    1, 2 and 5 of each decade, labelled here (powers of ten alone left €134K–€709K, drawn
    on a pair page's log scale, with no label, and €200K–€6M with one)."""
    ref = "y" + axis.removeprefix("yaxis")
    values = np.array(
        [
            v
            for trace in fig.data
            if trace.get("yaxis", "y") == ref
            for v in trace.get("y") or ()
            if isinstance(v, int | float) and not isinstance(v, bool)
        ],
        dtype=float,
    )
    values = values[np.isfinite(values) & (values > 0)]
    if not values.size:
        return {}
    low, high = np.log10(values.min()), np.log10(values.max())
    if high - low >= 2.0 or high == low:
        return {"dtick": 1}
    if high - low < 0.7:
        return {}
    decades = range(int(np.floor(low)), int(np.ceil(high)) + 1)
    steps = [step * 10.0**k for k in decades for step in _LADDER]
    # plotly.js writes no tickprefix on ticks given by value: the labels are written here
    return {"tickvals": steps, "ticktext": [sign + _tick_amount(v) for v in steps]}


_TICK_UNITS = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e4, "k"))


def _tick_amount(value: float) -> str:
    """An amount as plotly.js writes a money tick (``exponentformat`` B) beside these:
    whole below ten thousand, then k, M, B, T (500, 5000, 20k, 2M, 5B)."""
    for unit, letter in _TICK_UNITS:
        if value >= unit:
            return f"{value / (1000.0 if letter == 'k' else unit):g}{letter}"
    return f"{value:g}"


def _few_periods_axis(fig: _Figure, annual: bool) -> None:
    """Ticks of months (years) where the chart spans fewer than three: plotly.js fills a
    short date axis with days or milliseconds ("23:59:59.999 May 31, 2021" beside one
    month's figure), which no figure of the series is."""
    xs = sorted({str(x)[:10] for trace in fig.data for x in trace.get("x") or ()})
    if not xs:
        return
    first, last = pd.Timestamp(xs[0]), pd.Timestamp(xs[-1])
    step = pd.DateOffset(years=1) if annual else pd.DateOffset(months=1)
    if last >= first + 2 * step:
        return
    fig.layout["xaxis"].update(
        range=[(first - step).strftime("%Y-%m-%d"), (last + step).strftime("%Y-%m-%d")],
        dtick="M12" if annual else "M1",
        tickformat="%Y" if annual else "%b %Y",
    )


def _is_annual(obs: pd.DataFrame) -> pd.Series:
    """The rows of an annual series (``freq`` A); none in a frame without ``freq``."""
    if "freq" not in obs.columns:
        return pd.Series(False, index=obs.index)
    return obs["freq"] == "A"


def _annual(obs: pd.DataFrame) -> bool:
    """Whether the view is drawn by year: it holds annual figures and no single months."""
    annual = _is_annual(obs)
    return bool(annual.any()) and not ((obs["period_months"] == 1) & ~annual).any()


def _monthly(obs: pd.DataFrame) -> pd.Series:
    """Single-month values on a full monthly axis: NaN where a month was not reported; for
    an annual series (``_annual``), its years on a yearly axis."""
    annual = _annual(obs)
    single = obs[_is_annual(obs)] if annual else obs[(obs["period_months"] == 1)]
    values = single.groupby(pd.to_datetime(single["period"]))["value"].last()
    if values.empty:
        return values.astype(float)
    axis = pd.date_range(values.index.min(), values.index.max(), freq="YS" if annual else "MS")
    return values.reindex(axis).astype(float)


def _hover_date(annual: bool) -> str:
    """Plotly's hover text of a point's date: Feb 2021, or the year 2016 of an annual series."""
    return "%{x|%Y}" if annual else "%{x|%b %Y}"


def _line(
    values: pd.Series, name: str, colour: str, currency: str, annual: bool = False, **kw
) -> dict:
    return _scatter(
        x=[d.strftime("%Y-%m-%d") for d in values.index],
        y=[None if not np.isfinite(v) else float(v) for v in values.to_numpy()],
        customdata=[money(v, currency) for v in values.to_numpy()],
        hovertemplate=_hover_date(annual) + ": %{customdata}<extra>" + name + "</extra>",
        mode="lines+markers",
        name=name,
        line={"color": colour, "width": 2},
        marker={"size": 5},
        connectgaps=False,
        **kw,
    )


def _add_combined(fig: _Figure, obs: pd.DataFrame, currency: str) -> None:
    """A combined release (China's January–February) drawn flat at its per-month average."""
    combined = obs[(obs["period_months"] > 1) & ~_is_annual(obs)]
    for n, row in enumerate(combined.itertuples()):
        start = pd.Timestamp(row.period)
        months = int(row.period_months)
        end = start + pd.DateOffset(months=months - 1)
        per_month = None if pd.isna(row.value) else float(row.value) / months
        label = f"{start:%b}–{end:%b %Y} combined: {money(row.value, currency)}"
        fig.add_trace(
            _scatter(
                x=[start.strftime("%Y-%m-%d"), end.strftime("%Y-%m-%d")],
                y=[per_month, per_month],
                mode="lines+markers",
                name="Combined months (per month)",
                legendgroup="combined",
                showlegend=n == 0,
                line={"color": OBSERVED, "dash": "dot", "width": 2},
                marker={"symbol": "square-open", "size": 7},
                hovertemplate=label + "<extra></extra>",
            )
        )


def _add_mirror(fig: _Figure, mirror: SeriesView, currency: str, annual: bool = False) -> None:
    key = mirror.key
    name = _text(f"{key['reporter']}'s {key['flow']}s (partner's record)")
    mirror_currency = str(mirror.observations["currency"].iat[0])
    if _annual(mirror.observations) != annual:  # one record by year, the other by month
        return
    values = _monthly(mirror.observations)
    extra = {} if mirror_currency == currency else {"yaxis": "y2"}
    fig.add_trace(_line(values, name, MIRROR, mirror_currency, annual, **extra))
    if extra:
        fig.update_layout(
            yaxis2={
                "title": {"text": mirror_currency},
                "overlaying": "y",
                "side": "right",
                "showgrid": False,
                "exponentformat": "B",
                "tickprefix": currency_symbol(mirror_currency),
            }
        )


def _drawn_months(obs: pd.DataFrame, monthly: pd.Series) -> dict[pd.Timestamp, float]:
    """The value the chart draws at each reported month: its own figure, else the
    per-month average of the combined release that covers it (the dotted segment)."""
    drawn = {ts: float(v) for ts, v in monthly.items() if np.isfinite(v)}
    for row in obs[(obs["period_months"] > 1) & ~_is_annual(obs)].itertuples():
        if pd.isna(row.value):
            continue
        months = int(row.period_months)
        for k in range(months):
            drawn.setdefault(pd.Timestamp(row.period) + pd.DateOffset(months=k), row.value / months)
    return drawn


def _add_flags(
    fig: _Figure, records: Sequence[Mapping], drawn: Mapping, annual: bool = False
) -> dict[str, list[str]]:
    """A ring on every reported month a finding covers, at the value drawn there, coloured
    by severity. A finding over months with no figure at all (a gap) has no value to sit
    on: its months are shaded instead (``_add_bands``), never ringed at some other figure.
    Returns each ringed date's findings in a line each, for the observed point's hover."""
    said: dict[str, list[str]] = {}
    for severity, colour in SEVERITY_COLOURS.items():
        xs, ys, texts, bands = [], [], [], []
        for rec in (r for r in records if r["severity"] == severity):
            months = pd.period_range(rec["period"], rec["period_end"]).to_timestamp()
            reported = [ts for ts in months if ts in drawn]
            if not reported:
                bands.append(rec)
            text = _text(
                f"{rec['kind']} ({severity}, {_span_text(rec)}): {_short(rec['explanation'])}"
            )
            line = _text(f"{rec['kind']} ({severity}): {_short(rec['explanation'])}")
            for ts in reported:
                xs.append(ts.strftime("%Y-%m-%d"))
                ys.append(drawn[ts])
                texts.append(text)
                said.setdefault(xs[-1], []).append(line)
        if xs:
            fig.add_trace(
                _scatter(
                    x=xs,
                    y=ys,
                    text=texts,
                    mode="markers",
                    name=f"Flagged ({severity})",
                    marker={
                        "symbol": "circle-open",
                        "size": 16,
                        "color": colour,
                        "line": {"width": 3, "color": colour},
                    },
                    hovertemplate=_hover_date(annual) + ": %{text}<extra></extra>",
                )
            )
        _add_bands(fig, bands, severity, colour, annual)
    return said


def _flags_in_observed_hover(fig: _Figure, said: Mapping[str, list[str]]) -> None:
    """The findings of a ringed month (``said``, by date) in the observed point's hover
    too: at the point's centre plotly.js shows the observed trace's hover, and the
    finding's words came only from the ring's rim, 4 to 6 pixels out (QA in Chromium)."""
    observed = next((t for t in fig.data if t.get("name") == "Observed"), None)
    if observed is None or not said:
        return
    observed["customdata"] = [
        value + "".join(f"<br>{line}" for line in said.get(x, []))
        for x, value in zip(observed["x"], observed["customdata"], strict=True)
    ]


def _add_bands(
    fig: _Figure, records: Sequence[Mapping], severity: str, colour: str, annual: bool = False
) -> None:
    """Findings on months (years) without figures, as shaded bands over their periods."""
    for n, rec in enumerate(records):
        start = pd.Period(rec["period"], freq="M").to_timestamp()
        end = pd.Period(rec["period_end"], freq="M").to_timestamp()
        # points sit on the 1st of a month (of a year): the band is centred on them
        half = pd.Timedelta(days=182 if annual else 15)
        fig.layout.setdefault("shapes", []).append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "x0": (start - half).strftime("%Y-%m-%d"),
                "x1": (end + half).strftime("%Y-%m-%d"),
                "y0": 0,
                "y1": 1,
                "fillcolor": colour,
                "opacity": 0.18,
                "line": {"width": 0},
                "layer": "below",
                "name": f"Flagged, no figure ({severity})",
                "legendgroup": f"band-{severity}",
                "showlegend": n == 0,
                "label": {
                    "text": _text(rec["kind"]),
                    "textposition": "top center",
                    "font": {"size": 10, "color": colour},
                },
            }
        )


def _span_text(rec: Mapping) -> str:
    """A finding's months as text: 2021-02, or 2021-02 to 2021-03; an annual one's years."""
    return period_span(rec["period"], rec["period_end"], rec.get("freq"), " to ")


def _text(text: str) -> str:
    """Data as text for Plotly, which reads a little HTML in labels: escape it all."""
    return escape(text, quote=False)


def _short(text: str | None, limit: int = 120) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _add_focus(fig: _Figure, rec: Mapping, monthly: pd.Series, currency: str) -> None:
    """The evidence of one finding: expected value and band, then what its kind adds."""
    evidence = rec.get("evidence") or {}
    start = pd.Period(rec["period"], freq="M").to_timestamp()
    end = pd.Period(rec["period_end"], freq="M").to_timestamp()
    if rec["kind"] == "level_shift":
        _add_levels(fig, rec, evidence, monthly, start, currency)
    elif rec["kind"] == "mirror_gap":
        _add_mirror_months(fig, evidence, currency)
    else:
        _add_expected(fig, rec, evidence, start, currency)
    if rec["kind"] == "timing_shift" and start != end:
        _add_moved(fig, rec, evidence, monthly, start, end, currency)


def _add_expected(
    fig: _Figure, rec: Mapping, evidence: Mapping, at: pd.Timestamp, currency: str
) -> None:
    # the chart draws each month's own figure (a combined one at its monthly average): an
    # expectation over several months is drawn month by month too, never as its total at
    # the first of them (a gap's year at 15 times the series' month squashed the axis)
    per_month = _across_combined(evidence, evidence.get("expected"))
    if not (isinstance(per_month, list) and len(per_month) > 1):
        per_month = evidence.get("expected_each")  # a gap's months, each priced alone
    if isinstance(per_month, list) and len(per_month) > 1:
        _add_expected_months(fig, per_month, at, currency)
        return
    expected = _number(rec.get("expected"))
    if expected is None:
        return
    months = evidence.get("months") or []
    if evidence.get("combined") and len(months) > 1:
        _add_expected_months(fig, [expected / len(months)] * len(months), at, currency)
        return
    band = _band(evidence)
    error = None
    label = f"expected about {money(expected, currency)}"
    if band is not None:
        lo, hi = band
        error = {
            "type": "data",
            "symmetric": False,
            "array": [max(hi - expected, 0.0)],
            "arrayminus": [max(expected - lo, 0.0)],
            "color": EXPECTED,
            "thickness": 2,
            "width": 8,
        }
        label += f" (band {money(lo, currency)} to {money(hi, currency)})"
    fig.add_trace(
        _scatter(
            x=[at.strftime("%Y-%m-%d")],
            y=[float(expected)],
            error_y=error,
            mode="markers",
            name="Expected" + (" (band)" if band else ""),
            marker={"symbol": "diamond", "size": 11, "color": EXPECTED},
            hovertemplate=label + "<extra></extra>",
        )
    )


def _across_combined(evidence: Mapping, pair):
    """A timing shift's two figures (``pair``) month by month where one side is a combined
    figure: its months at its monthly average, as the chart draws the figure itself (its
    expected sum, drawn at January, had stood at twice the line and lent March's
    expectation to February). Anything else as it is."""
    combined = evidence.get("combined")
    if not (isinstance(combined, Mapping) and isinstance(pair, list) and len(pair) == 2):
        return pair
    n = len(combined.get("months") or ()) or 1
    first = bool(combined.get("first"))
    whole, single = (pair[0], pair[1]) if first else (pair[1], pair[0])
    spread = [whole / n if _number(whole) is not None else None] * n
    return [*spread, single] if first else [single, *spread]


def _add_expected_months(
    fig: _Figure, values: Sequence, start: pd.Timestamp, currency: str
) -> None:
    """One expected value per month of the finding (a timing shift's two months, a gap's
    months, a combined figure's months at its expected monthly average)."""
    months = [start + pd.DateOffset(months=k) for k in range(len(values))]
    numbers = [_number(v) for v in values]
    fig.add_trace(
        _scatter(
            x=[m.strftime("%Y-%m-%d") for m in months],
            y=numbers,
            customdata=[money(v, currency) for v in numbers],
            mode="markers",
            name="Expected",
            marker={"symbol": "diamond", "size": 11, "color": EXPECTED},
            hovertemplate="%{x|%b %Y}: expected about %{customdata}<extra></extra>",
        )
    )


def _add_mirror_months(fig: _Figure, evidence: Mapping, currency: str) -> None:
    """The partner's record of the flagged months, converted into this series' currency."""
    months = [m for m in evidence.get("months") or [] if isinstance(m, Mapping)]
    points = [(m.get("period"), _number(m.get("mirror"))) for m in months]
    points = [(p, v) for p, v in points if isinstance(p, str) and v is not None]
    if not points:
        return
    fig.add_trace(
        _scatter(
            x=[pd.Period(p, freq="M").to_timestamp().strftime("%Y-%m-%d") for p, _ in points],
            y=[v for _, v in points],
            customdata=[money(v, currency) for _, v in points],
            mode="markers",
            name=f"Partner's record, flagged months (in {currency})",
            marker={"symbol": "diamond", "size": 11, "color": MIRROR},
            hovertemplate="%{x|%b %Y}: partner recorded %{customdata}<extra></extra>",
        )
    )


def _band(evidence: Mapping) -> tuple[float, float] | None:
    for lo_key, hi_key in _BAND_KEYS:
        lo, hi = _number(evidence.get(lo_key)), _number(evidence.get(hi_key))
        if lo is not None and hi is not None and hi >= lo:
            return lo, hi
    return None


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if np.isfinite(value) else None


def _first_number(evidence: Mapping, keys: Sequence[str]) -> float | None:
    for key in keys:
        value = _number(evidence.get(key))
        if value is not None:
            return value
    return None


def _add_moved(
    fig: _Figure,
    rec: Mapping,
    evidence: Mapping,
    monthly: pd.Series,
    start: pd.Timestamp,
    end: pd.Timestamp,
    currency: str,
) -> None:
    """A timing shift as an arrow from the short month to the month that holds its value."""
    moved = _first_number(evidence, _MOVED_KEYS)
    moved = moved if moved is not None else _number(rec.get("impact"))
    if moved is None:
        return
    combined = evidence.get("combined")
    if isinstance(combined, Mapping):  # the combined side at its month beside the other
        start, end = _beside_combined(combined, start, end)
        monthly = _with_combined_average(monthly, combined, evidence.get("observed"))
    if moved < 0 or evidence.get("direction") == "earlier":  # value booked a month early
        start, end = end, start
    y_from = _number(monthly.get(start, np.nan)) or _number(rec.get("observed"))
    y_to = _number(monthly.get(end, np.nan)) or y_from
    if y_from is None or y_to is None:
        return
    fig.add_annotation(
        x=end.strftime("%Y-%m-%d"),
        y=y_to,
        ax=start.strftime("%Y-%m-%d"),
        ay=y_from,
        xref="x",
        yref="y",
        axref="x",
        ayref="y",
        showarrow=True,
        arrowhead=3,
        arrowsize=1.4,
        arrowwidth=2,
        arrowcolor=SEVERITY_COLOURS["high"],
        text=f"≈ {money(abs(moved), currency)} moved",
        font={"color": SEVERITY_COLOURS["high"]},
        bgcolor="rgba(255,255,255,0.85)",
    )


def _with_combined_average(monthly: pd.Series, combined: Mapping, observed) -> pd.Series:
    """``monthly`` with the combined figure's months at its monthly average, where the
    chart draws it (the months have no figure of their own)."""
    months = [m for m in combined.get("months") or () if isinstance(m, str)]
    if not (months and isinstance(observed, list) and len(observed) == 2):
        return monthly
    whole = _number(observed[0] if combined.get("first") else observed[1])
    if whole is None:
        return monthly
    average = pd.Series(whole / len(months), index=pd.PeriodIndex(months, freq="M").to_timestamp())
    return average.combine_first(monthly)


def _beside_combined(
    combined: Mapping, start: pd.Timestamp, end: pd.Timestamp
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """A shift across a combined figure drawn between the single month and the combined
    month next to it (February beside March, not January)."""
    n = len(combined.get("months") or ()) or 1
    if combined.get("first"):
        return start + pd.DateOffset(months=n - 1), end
    return start, start + pd.DateOffset(months=1)


def _add_levels(
    fig: _Figure,
    rec: Mapping,
    evidence: Mapping,
    monthly: pd.Series,
    start: pd.Timestamp,
    currency: str,
) -> None:
    """A level shift as the level before its start and the level after it."""
    before = _first_number(evidence, _BEFORE_KEYS)
    after = _first_number(evidence, _AFTER_KEYS)
    before = before if before is not None else _number(rec.get("expected"))
    after = after if after is not None else _number(rec.get("observed"))
    if monthly.empty:
        return
    first = _month(evidence.get("before_from")) or monthly.index.min()
    last = _month(evidence.get("regime_end")) or monthly.index.max()
    before_to = _month(evidence.get("before_to")) or start - pd.DateOffset(months=1)
    segments = [("Level before", first, before_to, before)]
    if new_level_lasts(evidence):
        segments.append(("Level after", start, last, after))
    else:  # as the text: the new level where it was measured, and the segment's last months
        after_to = _month(evidence.get("after_to")) or last
        late_from = _month(evidence.get("late_from")) or after_to
        segments += [
            ("Level after", start, after_to, after),
            ("Level of the last months", late_from, last, _number(evidence.get("late_level"))),
        ]
    back, back_to = _month(evidence.get("return_period")), _month(evidence.get("return_to"))
    if back is not None and back_to is not None:  # a temporary change: the level it returned to
        segments.append(
            ("Level after the return", back, back_to, _number(evidence.get("return_level")))
        )
    for name, x0, x1, level in segments:
        if level is None or x1 < x0:
            continue
        fig.add_trace(
            _scatter(
                x=[x0.strftime("%Y-%m-%d"), x1.strftime("%Y-%m-%d")],
                y=[level, level],
                mode="lines",
                name=name,
                # one dash each: the legend told "Level before" from "Level after" by
                # nothing but its words
                line={"color": EXPECTED, "dash": _LEVEL_DASH.get(name, "dash"), "width": 2},
                hovertemplate=f"{name}: {money(level, currency)}<extra></extra>",
            )
        )


_LEVEL_DASH = {
    "Level before": "dot",
    "Level after": "dash",
    "Level of the last months": "dashdot",
    "Level after the return": "longdashdot",
}


def _month(value) -> pd.Timestamp | None:
    """A YYYY-MM label from evidence as the first day of its month (None if not one)."""
    if not isinstance(value, str):
        return None
    try:
        return pd.Period(value, freq="M").to_timestamp()
    except ValueError:
        return None


def wants_log(view: SeriesView, mirror: SeriesView | None = None) -> bool:
    """Whether a chart of ``view`` (and its partner's record) opens on a log axis: its
    positive figures span two orders of magnitude or more ($3,000 beside $200 million)."""
    positive = _positive_values(view, mirror)
    return bool(positive.size) and positive.max() / positive.min() >= _LOG_SPAN


def _positive_values(view: SeriesView, mirror: SeriesView | None) -> np.ndarray:
    frames = [view.observations] + ([mirror.observations] if mirror is not None else [])
    values = np.concatenate([f["value"].to_numpy(dtype=float) for f in frames])
    return values[np.isfinite(values) & (values > 0)]


#: how far below the smallest positive figure a log axis draws a zero
_ZERO_FOOT = 10.0


def _zeros_at_foot(fig: _Figure, foot: float) -> bool:
    """Draw each zero of the main axis' traces at ``foot``; whether there was one.

    A log axis has no place for zero, and Plotly leaves such points out: a month recorded
    as zero, often the very month a finding is about, vanished from the line and from its
    ring. At the foot (a tenth of the smallest positive figure, labelled "0") it stays in
    sight; its hover still gives the figure as recorded."""
    moved = False
    for trace in fig.data:
        if trace.get("yaxis", "y") != "y" or not any(v == 0 for v in trace.get("y") or []):
            continue
        trace["y"] = [foot if v == 0 else v for v in trace["y"]]
        moved = True
    return moved


def _layout(
    fig: _Figure, positive: np.ndarray, currency: str, height: int, log: bool | None = None
) -> None:
    """Log axis when the values span orders of magnitude ($3K beside $200M), or as ``log``
    says, with a toggle."""
    if log is None:
        log = positive.size > 0 and positive.max() / positive.min() >= _LOG_SPAN
    # a log axis asked for a series of zeros alone (a pair page's charts share one scale)
    # has no figure to place it by: a linear axis, its zeros on the line
    log = bool(log) and positive.size > 0
    foot = float(positive.min()) / _ZERO_FOOT if log else None
    # the zeros first: drawn at the foot, they widen the span the ticks are chosen by
    footed = foot is not None and _zeros_at_foot(fig, foot)
    signs = {"yaxis": currency_symbol(currency)}
    if "yaxis2" in fig.layout:
        signs["yaxis2"] = fig.layout["yaxis2"]["tickprefix"]
    ticks = {axis: _log_ticks(fig, axis, sign) for axis, sign in signs.items()}
    fig.update_layout(  # plotly.js' own defaults plus a few colours: no template to copy
        paper_bgcolor="#ffffff",
        plot_bgcolor="#ffffff",
        font={"family": "system-ui, sans-serif", "size": 12, "color": "#1d2733"},
        height=height,
        margin={"l": 60, "r": 20, "t": 30, "b": 40},
        legend={"orientation": "h", "y": -0.18},
        hovermode="closest",
        yaxis={
            "title": {"text": currency},  # plotly.js (3 on) draws no title given as a string
            "type": "log" if log else "linear",
            **(ticks["yaxis"] if log else {}),
            "rangemode": "tozero",  # a linear axis from zero: no swing drawn larger than it is
            "exponentformat": "B",  # $10B as the text writes billions (SI wrote 10G); $10k
            # where the text writes $10.0K: plotly.js writes no capital K
            "tickprefix": currency_symbol(currency),  # $10B beside "$38.9B" in the text
            "gridcolor": GRID,
            "zeroline": False,
        },
        xaxis={"type": "date", "gridcolor": GRID},
        updatemenus=[
            {
                "type": "buttons",
                "direction": "left",
                "x": 0.0,  # left: plotly.js draws its toolbar over the top right
                "xanchor": "left",
                "y": 1.12,
                "showactive": True,
                "active": 0 if log else 1,
                "buttons": [
                    {
                        "label": "log",
                        "method": "relayout",
                        "args": [_axes_type(ticks, "log")],
                    },
                    {
                        "label": "linear",
                        "method": "relayout",
                        "args": [_axes_type(ticks, "linear")],
                    },
                ],
            }
        ],
    )
    if "yaxis2" in fig.layout:  # the partner's record in its own currency, on the right
        fig.layout["yaxis2"]["type"] = "log" if log else "linear"
        fig.layout["yaxis2"]["rangemode"] = "tozero"
        if log:
            fig.layout["yaxis2"].update(ticks["yaxis2"])
        fig.layout["margin"]["r"] = 70  # room for its title and ticks
    if footed:
        fig.add_annotation(  # the foot's own tick label, where the axis has none
            text="0",
            xref="paper",
            x=0,
            xanchor="right",
            xshift=-4,
            y=foot,
            showarrow=False,
            font={"size": 11, "color": "#5b6675"},
        )
    if log:
        # Annotation positions on a log axis are given in log10 units.
        for ann in fig.layout["annotations"]:
            for axis in ("y", "ay"):
                if ann.get(axis) and ann[axis] > 0:
                    ann[axis] = float(np.log10(ann[axis]))
