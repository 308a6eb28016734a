"""Helpers shared by the detector tests."""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import numpy as np
import pandas as pd

from tradesentry.detectors import run_detectors
from tradesentry.findings import assemble
from tradesentry.panel import KEY_COLUMNS, Panel


def findings(panel: Panel, detectors) -> pd.DataFrame:
    """Findings of ``detectors`` on ``panel`` through the scan's own assembly."""
    return assemble(panel, run_detectors(panel, detectors), detectors)


def as_cells(panel: Panel, found: pd.DataFrame) -> pd.DataFrame:
    """Findings as panel rows and columns (series, start, end, kind)."""
    if found.empty:
        return pd.DataFrame(columns=["series", "start", "end", "kind"])
    row = {p: i for i, p in enumerate(panel.keys["partner"])}
    first = pd.Period(str(panel.start), "M")
    col = lambda s: np.array([(pd.Period(p, "M") - first).n for p in s])  # noqa: E731
    return pd.DataFrame(
        {
            "series": found["partner"].map(row).to_numpy(),
            "start": col(found["period"]),
            "end": col(found["period_end"]),
            "kind": found["kind"].to_numpy(),
        }
    )


def keyed_panel(
    values,
    *,
    start: str = "2023-01",
    weights=None,
    context: dict | None = None,
    reporter: str = "CHN",
    flow: str = "export",
    classification: str = "HS",
    commodity: str = "TOTAL",
    currency: str = "USD",
) -> Panel:
    """A monthly panel of ``values`` (one row per partner P0, P1…) with optional context."""
    values = np.atleast_2d(np.asarray(values, dtype=float))
    n, t = values.shape
    keys = pd.DataFrame(
        {
            "reporter": reporter,
            "partner": [f"P{i}" for i in range(n)],
            "flow": flow,
            "classification": classification,
            "commodity": commodity,
            "freq": "M",
            "breakdown": "",
            "currency": currency,
        }
    )[list(KEY_COLUMNS)]
    weights = np.full((n, t), np.nan) if weights is None else np.atleast_2d(weights).astype(float)
    return Panel(
        keys,
        np.datetime64(start, "M"),
        values,
        weights,
        np.full((n, t), np.nan),
        np.zeros((n, t), np.int8),
        "M",
        context or {},
    )


# -- the other records the cross checks compare with (see tradesentry.context) -------------


def china_style_panel(rng, n: int = 3, low_share: float = 0.6) -> tuple[Panel, np.ndarray]:
    """``n`` series of four years (from 2018-01) of a steady flow whose January and February
    are published together, each pair at ``low_share`` of two ordinary months (New Year),
    and those pairs' values (series × year)."""
    v = 1e6 * np.exp(rng.normal(0, 0.05, (n, 48)))
    v[:, np.arange(48) % 12 < 2] = np.nan
    panel = keyed_panel(v, start="2018-01")
    pairs = low_share * 2e6 * np.exp(rng.normal(0, 0.05, (n, 4)))
    for year in range(4):
        panel.combined[:, 12 * year] = pairs[:, year]
        panel.combined_span[:, 12 * year] = 2
    return panel, pairs


def mirror_context(
    mirror,
    *,
    ok: float = 1.0,
    margin: float | None = None,
    spread: float = 0.3,
    n: float = 0,
    intra: float = 0,
    per_usd=None,
) -> dict[str, np.ndarray]:
    """The partner's record ``mirror`` of each cell, convertible where ``ok``, with the usual
    log margin import/export of the commodity (the CIF/FOB 6 % unless ``margin``), its spread
    and count, and units of the series' currency per US dollar (``per_usd``, NaN: no rate)."""
    mirror = np.atleast_2d(np.asarray(mirror, dtype=float))
    full = np.ones(mirror.shape)
    context = {
        "mirror_value": mirror,
        "mirror_currency_ok": full * ok,
        "mirror_margin": full * (math.log(1.06) if margin is None else margin),
        "mirror_margin_spread": full * spread,
        "mirror_margin_n": full * n,
        "mirror_intra_eu": full * intra,
    }
    if per_usd is not None:
        context["own_per_usd"] = full * np.asarray(per_usd, dtype=float)
    return context


def revision_context(
    values, previous, release: float = 2.0, prev_release: float = 1.0
) -> dict[str, np.ndarray]:
    """The figures ``previous`` of each cell in the release before the one ``values`` come
    from, with both releases' numbers and publication dates."""
    values = np.atleast_2d(np.asarray(values, dtype=float))
    previous = np.atleast_2d(np.asarray(previous, dtype=float))
    return {
        "previous_value": previous,
        "previous_release": np.where(np.isfinite(previous), prev_release, np.nan),
        "release": np.where(np.isfinite(values), release, np.nan),
        "release_published": np.full(values.shape, 19_800.0),
        # as the store's context: no earlier release's date where it had no figure
        "previous_published": np.where(np.isfinite(previous), 19_770.0, np.nan),
    }


def unit_value_context(shape: tuple[int, int], reference, same=None) -> dict[str, np.ndarray]:
    """The market's unit value ``reference`` (money per kg) of each cell, over 25 figures of
    which a share ``same`` (4 % unless given) share one unit value."""
    return {
        "reference_unit_value": np.broadcast_to(reference, shape).astype(float),
        "reference_unit_value_n": np.full(shape, 25.0),
        "reference_unit_value_same": np.full(shape, 0.04 if same is None else same),
    }


def scaled_comext_copy(
    src: Path, dst: Path, changes: dict[tuple[str, str, str, str], float | tuple[str, float]]
) -> None:
    """Copy a Comext SDMX-CSV, multiplying one indicator of the (reporter, partner, flow,
    TIME_PERIOD) cells in ``changes`` by a factor: a bare factor scales VALUE_IN_EUROS, an
    ``(indicator, factor)`` pair the indicator named (``QUANTITY_IN_100KG``)."""
    with gzip.open(src, "rt") as fh:
        lines = fh.read().splitlines()
    col = {name: i for i, name in enumerate(lines[0].split(","))}
    out = [lines[0]]
    for line in lines[1:]:
        f = line.split(",")
        key = (f[col["reporter"]], f[col["partner"]], f[col["flow"]], f[col["TIME_PERIOD"]])
        change = changes.get(key, ("", 1.0))
        indicator, factor = change if isinstance(change, tuple) else ("VALUE_IN_EUROS", change)
        if f[col["indicators"]] == indicator and f[col["OBS_VALUE"]]:
            f[col["OBS_VALUE"]] = f"{float(f[col['OBS_VALUE']]) * factor:.2f}"
        out.append(",".join(f))
    with gzip.open(dst, "wt") as fh:
        fh.write("\n".join(out) + "\n")


def china_exports(shared_data, partner: str, hs6: int) -> np.ndarray:
    """China's monthly exports of one HS6 line to one partner, 2017–2024, as published."""
    table = shared_data / "raw" / "comtrade_china_critical_minerals" / "deep_dive_hs6_monthly.csv"
    rows = pd.read_csv(table).query("partner_name == @partner and hs6 == @hs6")
    months = pd.PeriodIndex(rows["period_dt"].str[:7], freq="M")
    series = pd.Series(rows["val"].to_numpy(), index=months)
    return series.reindex(pd.period_range("2017-01", "2024-12", freq="M")).to_numpy(float)


def comext_series(shared_data, cn: str, reporter: str, partner: str, flow: int) -> np.ndarray:
    """One Comext value series (EUR, 2023–2025) as published: reporter and partner as the
    file's two-letter codes, flow 1 imports, 2 exports."""
    table = shared_data / "raw" / "eurostat_comext_ds045409" / f"CN_{cn}.csv.gz"
    rows = pd.read_csv(table, dtype={"product": str}).query(
        "reporter == @reporter and partner == @partner and flow == @flow "
        "and indicators == 'VALUE_IN_EUROS'"
    )
    series = pd.Series(
        rows["OBS_VALUE"].to_numpy(), index=pd.PeriodIndex(rows["TIME_PERIOD"], freq="M")
    )
    return series.reindex(pd.period_range("2023-01", "2025-12", freq="M")).to_numpy(float)
