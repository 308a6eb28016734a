"""Accuracy benchmark: real trade series with anomalies injected at known places and sizes.

    python benchmarks/accuracy.py [--replicates 4] [--seed 0] [--out benchmarks/out]

Real series come from ../shared/data (Eurostat Comext value series, UN Comtrade critical
minerals by destination, Japan/Korea/US national tables with China). In each replicate a
fixed seed draws one anomaly for 75 % of the series (near zero, ×1000 slip, spike or dip
of 2–20 robust scales, timing shift of 30–90 % of a month, level shift ×0.05–×5, a missing
month) with ``tradesentry.datasets``; the other 25 % stay untouched and count the false
alarms. The detectors run through the same code path as a scan (detectors, supersession,
findings); ``tradesentry.scoring`` grades them. Ground truth and detections are written to
benchmarks/out/ (git-ignored); the tables are printed and can be written to docs/accuracy.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

from tradesentry.datasets import inject_plan, make_panel, random_plan, residual_scale
from tradesentry.detectors import default_detectors, run_detectors
from tradesentry.findings import assemble
from tradesentry.panel import KEY_COLUMNS
from tradesentry.scoring import false_alarms, kind_table, match, size_table

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "raw"
OUT = REPO / "benchmarks" / "out"
NOISE_BANDS = (0.0, 0.15, 0.3, 0.6, 1.2, np.inf)
NOISE_LABELS = ("<0.15", "0.15-0.3", "0.3-0.6", "0.6-1.2", ">1.2")
KINDS = ("implausible", "spike", "dip", "timing_shift", "level_shift", "gap")
SOURCES = ("comext", "comtrade", "national")
#: real series graded the same way but never used to choose a threshold (reported apart)
HELD_OUT = ("guinea",)


# -- real series -------------------------------------------------------------------------------


def _keys(frame: pd.DataFrame, reporter, partner, flow, commodity, currency) -> pd.DataFrame:
    keys = pd.DataFrame(
        {
            "reporter": reporter,
            "partner": partner,
            "flow": flow,
            "classification": "HS",
            "commodity": commodity,
            "freq": "M",
            "breakdown": "",
            "currency": currency,
        },
        index=frame.index,
    )
    return keys[list(KEY_COLUMNS)].reset_index(drop=True)


def load_comext(
    min_months: int = 30, min_median: float = 1e4, max_series: int = 1500, seed: int = 0
):
    """Comext VALUE_IN_EUROS series with at least ``min_months`` positive months of 36 and a
    median month of at least ``min_median`` euros (a material flow: below that a single
    shipment makes the month), sampled at random."""
    parts = []
    for path in sorted((DATA / "eurostat_comext_ds045409").glob("CN_*.csv.gz")):
        with gzip.open(path, "rt") as fh:
            df = pd.read_csv(fh, dtype={"product": str, "flow": str})
        parts.append(df[df["indicators"] == "VALUE_IN_EUROS"])
    df = pd.concat(parts, ignore_index=True)
    wide = df.pivot_table(
        index=["reporter", "partner", "product", "flow"],
        columns="TIME_PERIOD",
        values="OBS_VALUE",
        aggfunc="first",
    )
    wide = wide[((wide > 0).sum(axis=1) >= min_months) & (wide.median(axis=1) >= min_median)]
    if len(wide) > max_series:
        wide = wide.sample(max_series, random_state=seed).sort_index()
    idx = wide.index.to_frame(index=False)
    keys = _keys(
        idx,
        idx["reporter"],
        idx["partner"],
        np.where(idx["flow"] == "1", "import", "export"),
        idx["product"],
        "EUR",
    )
    return "comext", wide.to_numpy(float), str(wide.columns[0]), keys


def load_comtrade(min_months: int = 48):
    """China's exports of critical-mineral HS6 lines by destination, 2017–2024 (USD)."""
    df = pd.read_csv(DATA / "comtrade_china_critical_minerals" / "deep_dive_hs6_monthly.csv")
    df["month"] = df["period_dt"].str[:7]
    wide = df.pivot_table(
        index=["partner_name", "hs6"], columns="month", values="val", aggfunc="sum"
    )
    full = pd.period_range(wide.columns.min(), wide.columns.max(), freq="M").astype(str)
    wide = wide.reindex(columns=full)
    wide = wide[(wide > 0).sum(axis=1) >= min_months]
    idx = wide.index.to_frame(index=False)
    keys = _keys(idx, "CHN", idx["partner_name"], "export", idx["hs6"].astype(str), "USD")
    return "comtrade", wide.to_numpy(float), str(wide.columns[0]), keys


def load_guinea(min_months: int = 30):
    """Guinea's export declarations (ITC), summed into monthly series by partner and
    national tariff line, 2015–2018, in Guinean francs: the lines with at least
    ``min_months`` positive months of 48. Values are written with a decimal comma, some in
    scientific form ("2,10077E+12"); partners are named in French."""
    df = pd.read_csv(
        DATA / "itc_guinea_export_declarations" / "trade.csv.gz",
        sep=";",
        encoding="utf-8-sig",
        dtype=str,
    )
    df["value"] = pd.to_numeric(df["val"].str.replace(",", ".", regex=False))
    df["month"] = df["month"].str[:4] + "-" + df["month"].str[4:]
    df["line"] = df["ntlc"].str.zfill(8)
    wide = df.pivot_table(index=["parttr", "line"], columns="month", values="value", aggfunc="sum")
    full = pd.period_range(wide.columns.min(), wide.columns.max(), freq="M").astype(str)
    wide = wide.reindex(columns=full)
    wide = wide[(wide > 0).sum(axis=1) >= min_months]
    idx = wide.index.to_frame(index=False)
    keys = _keys(idx, "GIN", idx["parttr"], "export", idx["line"], "GNF")
    return "guinea", wide.to_numpy(float), full[0], keys


def load_national():
    """Japan (thousand JPY), Korea (thousand USD) and US (million USD) trade with China."""
    base = DATA / "national_bilateral_china_monthly"
    jp = pd.read_csv(base / "japan-china-trade-data.csv", sep=";")
    jp["month"] = pd.to_datetime(jp["Date"], format="%Y/%m").dt.strftime("%Y-%m")
    kr = pd.read_csv(base / "korea-china-trade-data.csv", dtype={"Date": str})
    kr["month"] = pd.to_datetime(kr["Date"], format="%Y.%m").dt.strftime("%Y-%m")
    us = pd.read_csv(base / "usa-china-trade-data.csv", sep=";", thousands=",")
    us["month"] = pd.to_datetime(us["Month"], format="%B %Y").dt.strftime("%Y-%m")
    series, keys = [], []
    for name, df, cur, unit in (
        ("JPN", jp, "JPY", 1e3),
        ("KOR", kr, "USD", 1e3),
        ("USA", us, "USD", 1e6),
    ):
        df = df.set_index("month")
        for flow, col in (("export", "Exports"), ("import", "Imports")):
            series.append(pd.to_numeric(df[col], errors="coerce") * unit)
            keys.append((name, flow, cur))
    wide = pd.DataFrame(series).reset_index(drop=True)
    full = pd.period_range(min(wide.columns), max(wide.columns), freq="M").astype(str)
    wide = wide.reindex(columns=full)
    k = pd.DataFrame(keys, columns=["reporter", "flow", "currency"])
    return (
        "national",
        wide.to_numpy(float),
        full[0],
        _keys(k, k["reporter"], "CHN", k["flow"], "TOTAL", k["currency"]),
    )


# -- one run -------------------------------------------------------------------------------------


def detect(values: np.ndarray, start: str, keys: pd.DataFrame) -> pd.DataFrame:
    """Findings (as panel rows and columns) through the scan's own path."""
    panel = make_panel(values, start, keys)
    detectors = default_detectors(KINDS)
    found = assemble(panel, run_detectors(panel, detectors), detectors)
    if found.empty:
        return pd.DataFrame(columns=["series", "start", "end", "kind", "score"])
    cols = [c for c in KEY_COLUMNS if c != "freq"]
    row = pd.MultiIndex.from_frame(keys[cols].astype(str)).get_indexer(
        pd.MultiIndex.from_frame(found[cols].astype(str))
    )
    first = pd.Period(start, "M")
    col = lambda s: (pd.PeriodIndex(s, freq="M") - first).map(lambda d: d.n)  # noqa: E731
    return pd.DataFrame(
        {
            "series": row,
            "start": np.asarray(col(found["period"])),
            "end": np.asarray(col(found["period_end"])),
            "kind": found["kind"].to_numpy(),
            "score": found["score"].to_numpy(),
        }
    )


def injected_replicates(values: np.ndarray, replicates: int, seed: int, **plan_options):
    """Yield ``(rep, injected, truth, untouched)`` for each replicate of one source.

    The one place the injections are drawn, so that this benchmark and the comparison with
    other libraries (benchmarks/anchors.py) grade the very same series and events;
    ``plan_options`` (``injections``, ``sizes``) go to ``random_plan`` (benchmarks/
    sparse_shifts.py draws level shifts only)."""
    noise = residual_scale(values)
    for rep in range(replicates):
        plan = random_plan(values, seed=seed + 1000 * rep, **plan_options)
        injected, truth = inject_plan(values, plan, noise)
        truth["noise"] = noise[truth["series"].to_numpy()]
        untouched = np.setdiff1d(np.arange(len(values)), plan["series"].to_numpy())
        yield rep, injected, truth, untouched


def series_uid(source: str, rep: int) -> int:
    """Offset that makes a panel row a series id unique across replicates and sources (rows
    of different sources must never match each other's events)."""
    if source in HELD_OUT:
        return 10**12 + (rep * len(HELD_OUT) + HELD_OUT.index(source)) * 10**7
    return (rep * len(SOURCES) + SOURCES.index(source)) * 10**7


def run_source(source, values, start, keys, replicates: int, seed: int, **plan_options):
    truths, founds, fa_found, fa_years = [], [], [], 0.0
    clean = detect(values, start, keys)
    replicated = injected_replicates(values, replicates, seed, **plan_options)
    for rep, injected, truth, untouched in replicated:
        found = detect(injected, start, keys)
        fa_found.append(found[found["series"].isin(untouched)])
        fa_years += np.isfinite(injected[untouched]).sum() / 12.0
        found["pre_existing"] = _pre_existing(found, clean)
        uid = series_uid(source, rep)
        truth["series"] += uid
        found["series"] += uid
        truth["source"] = found["source"] = source
        truths.append(truth)
        founds.append(found)
    return pd.concat(truths), pd.concat(founds), pd.concat(fa_found), fa_years


def _pre_existing(found: pd.DataFrame, clean: pd.DataFrame, tolerance: int = 1) -> np.ndarray:
    """Findings where the untouched series already gets one (same series, months ±1, any
    kind): real events of the real data, neither hits nor false alarms of the injection."""
    pairs = found.reset_index().merge(clean, on="series", suffixes=("", "_c"))
    near = (pairs["start"] <= pairs["end_c"] + tolerance) & (
        pairs["end"] >= pairs["start_c"] - tolerance
    )
    return found.index.isin(pairs.loc[near, "index"]).astype(bool)


# -- tables -------------------------------------------------------------------------------------

#: the sizes the aim (F1 >= 0.9) is about: spikes and dips of 4 scales and more, level shifts
#: of ×4 and more either way, timing shifts of half a month and more, every implausible value
AIM_SIZES = {
    "spike": lambda s: s >= 4,
    "dip": lambda s: s >= 4,
    "level_shift": lambda s: (s <= 0.25) | (s >= 4),
    "timing_shift": lambda s: s >= 0.5,
    "near_zero": lambda s: s >= 0,
    "unit_slip": lambda s: s > 0,
    "gap": lambda s: s >= 1,
}


def markdown(df: pd.DataFrame) -> str:
    """A GitHub table; floats with two decimals."""

    def cell(v) -> str:
        if isinstance(v, float | np.floating):
            return "" if np.isnan(v) else f"{v:.2f}"
        return str(v)

    head = "| " + " | ".join(map(str, df.columns)) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    rows = ["| " + " | ".join(cell(v) for v in r) + " |" for r in df.itertuples(index=False)]
    return "\n".join([head, rule, *rows])


def _grade(size: float) -> str:
    return f"{size:g}"


def aim_table(truth: pd.DataFrame, found: pd.DataFrame) -> pd.DataFrame:
    """Per injection, at the sizes of the aim: recall, precision of its kind, F1."""
    precision = found.groupby("kind")["hit"].mean()
    rows = []
    for injection, wanted in AIM_SIZES.items():
        t = truth[(truth["injection"] == injection) & wanted(truth["size"])]
        if t.empty:
            continue
        kind = t["kind"].iloc[0]
        r, p = t["found"].mean(), float(precision.get(kind, np.nan))
        rows.append(
            {
                "injection": injection,
                "sizes": ", ".join(_grade(x) for x in sorted(t["size"].unique())),
                "events": len(t),
                "recall": r,
                "precision": p,
                "F1": 2 * p * r / (p + r) if p + r > 0 else 0.0,
                "right kind": t["right_kind"].mean(),
            }
        )
    return pd.DataFrame(rows)


def false_alarm_tables(fa: pd.DataFrame, years: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    total = sum(y for y, _, _ in years.values())
    per_kind = false_alarms(fa, total).rename("per 100 series-years").reset_index()
    per_kind.columns = ["kind", "per 100 series-years"]
    by_source = pd.DataFrame(
        [
            {
                "source": s,
                "series": n,
                "months": T,
                "untouched series-years": y,
                "findings per 100 series-years": 100.0 * (fa["source"] == s).sum() / y,
            }
            for s, (y, n, T) in years.items()
        ]
    )
    return per_kind, by_source


#: documented events in the national series (trade with China), as (first, last) month
EVENTS = {
    "2008 collapse of world trade": ("2008-09", "2009-03"),
    "2018 US–China tariffs": ("2018-06", "2019-03"),
}


def documented_events() -> pd.DataFrame:
    """Level shifts found on the untouched national series, against documented events."""
    _, values, start, keys = load_national()
    found = detect(values, start, keys)
    shifts = found[found["kind"] == "level_shift"]
    first = pd.Period(start, "M")
    rows = []
    for i, k in keys.iterrows():
        months = sorted(str(first + int(c)) for c in shifts.loc[shifts["series"] == i, "start"])
        row = {"series": f"{k['reporter']} {k['flow']}s, China", "level shifts": ", ".join(months)}
        for name, (a, b) in EVENTS.items():
            row[name] = "found" if any(a <= m <= b for m in months) else "-"
        rows.append(row)
    return pd.DataFrame(rows)


def short_series_table(comext) -> pd.DataFrame:
    """Findings per 100 series-years on the untouched Comext series cut to their last
    36, 24, 18 and 12 months: how the rate holds as the history behind each month shrinks."""
    _, values, start, keys = comext
    rows = []
    for months in (36, 24, 18, 12):
        cut = values[:, -months:]
        first = str(pd.Period(start, "M") + (values.shape[1] - months))
        found = detect(cut, first, keys)
        years = np.isfinite(cut).sum() / 12.0
        row = {"months": months, "all": 100.0 * len(found) / years}
        for kind in KINDS:
            row[kind] = 100.0 * (found["kind"] == kind).sum() / years
        rows.append(row)
    return pd.DataFrame(rows)


#: documented events in China's exports of critical minerals, by group: (name, first, last)
MINERAL_EVENTS = {
    "COVID-19 shutdown in China": (None, "2020-01", "2020-03"),
    "export controls from August 2023": ("Gallium/Germanium", "2023-07", "2023-10"),
    "export controls from December 2023": ("Graphite", "2023-10", "2024-01"),
}


def documented_mineral_events() -> pd.DataFrame:
    """Findings on China's monthly exports of each critical-mineral group (UN Comtrade
    totals), against the documented events; an event names the group it concerns."""
    df = pd.read_csv(DATA / "comtrade_china_critical_minerals" / "overview_monthly.csv")
    wide = df.pivot(index="broad_group", columns="period_dt", values="total_value")
    wide.columns = [c[:7] for c in wide.columns]
    groups = wide.index.to_series().reset_index(drop=True)
    keys = _keys(groups.to_frame(), "CHN", "WLD", "export", groups, "USD")
    found = detect(wide.to_numpy(float), wide.columns[0], keys)
    first = pd.Period(wide.columns[0], "M")
    rows = []
    for i, group in enumerate(groups):
        mine = found[found["series"] == i]
        starts = zip(mine["kind"], mine["start"], strict=True)
        flagged = [(k, str(first + int(c))) for k, c in starts]
        row = {"group": group, "findings": ", ".join(f"{k} {m}" for k, m in flagged)}
        for name, (only, a, b) in MINERAL_EVENTS.items():
            hit = [f"{k} {m}" for k, m in flagged if a <= m <= b]
            row[name] = "n/a" if only not in (None, group) else (", ".join(hit) or "-")
        rows.append(row)
    return pd.DataFrame(rows)


def report(
    truth, found, fa, years, seconds: float, command: str, *, held_out, short
) -> tuple[str, dict]:
    """The markdown tables and the JSON summary. ``held_out``: ``run_sources``'s result for
    the held-out sources; ``short``: ``short_series_table``'s."""
    kinds = kind_table(truth, found, KINDS)
    sizes = size_table(truth, found)
    sizes["size"] = sizes["size"].map(_grade)
    aims = aim_table(truth, found)
    per_kind, by_source = false_alarm_tables(fa, years)
    truth = truth.assign(band=pd.cut(truth["noise"], NOISE_BANDS, labels=NOISE_LABELS))
    by_noise = truth.pivot_table(
        index="injection", columns="band", values="found", aggfunc="mean", observed=False
    ).reset_index()
    counts = truth.groupby("band", observed=False).size()
    by_noise.columns = ["injection", *[f"{b} (n={counts[b]})" for b in NOISE_LABELS]]
    text = "\n\n".join(
        [
            f"Command: `{command}` ({seconds:.0f} s on {platform.machine()}, "
            f"Python {platform.python_version()}, {os.cpu_count()} CPUs).",
            "### At the sizes of the aim\n\n" + markdown(aims),
            "### Per kind, all sizes\n\n" + markdown(kinds),
            "### Per injection and size\n\n" + markdown(sizes),
            "### Recall by the series' noise (robust residual scale σ, log units)\n\n"
            + markdown(by_noise),
            "### Findings on untouched series\n\n"
            + markdown(by_source)
            + "\n\n"
            + markdown(per_kind),
            "### Short series: findings per 100 series-years on the untouched Comext series, "
            "cut to their last months\n\n" + markdown(short),
            "### Documented events in the national series\n\n" + markdown(documented_events()),
            "### Documented events in China's exports of critical minerals\n\n"
            + markdown(documented_mineral_events()),
        ]
    )
    text += "\n\n" + held_out_section(*held_out)
    summary = {
        "aims": aims.to_dict("records"),
        "kinds": kinds.to_dict("records"),
        "sizes": sizes.to_dict("records"),
        "untouched": per_kind.to_dict("records"),
        "sources": by_source.to_dict("records"),
        "short_series": short.to_dict("records"),
        "held_out_aims": aim_table(held_out[0], held_out[1]).to_dict("records"),
        "seconds": round(seconds, 1),
        "command": command,
    }
    return text, summary


def held_out_section(truth, found, fa, years) -> str:
    """The tables of the held-out sources: the aim's sizes and the untouched series."""
    per_kind, by_source = false_alarm_tables(fa, years)
    return "\n\n".join(
        [
            "### Held out: Guinea's export declarations (never used to choose a threshold)",
            markdown(aim_table(truth, found)),
            markdown(by_source) + "\n\n" + markdown(per_kind),
        ]
    )


def _command(args: argparse.Namespace) -> str:
    """The command that reproduces the numbers (output paths left out)."""
    parts = ["python benchmarks/accuracy.py"]
    for name, default in (("replicates", 4), ("seed", 0), ("comext_series", 1500)):
        value = getattr(args, name)
        if value != default:
            parts.append(f"--{name.replace('_', '-')} {value}")
    return " ".join(parts)


def require_data(folder: Path) -> None:
    """Stop with one line where the real data are not beside the repository."""
    if not folder.is_dir():
        raise SystemExit(
            f"real data not found at {folder}: the benchmarks read ../shared/data beside the "
            "repository"
        )


def load_sources(comext_series: int = 1500, seed: int = 0) -> list[tuple]:
    """The three real sources as ``(name, values, first month, keys)``, in ``SOURCES`` order."""
    require_data(DATA)
    return [load_comext(max_series=comext_series, seed=seed), load_comtrade(), load_national()]


def score(truths: list[pd.DataFrame], founds: list[pd.DataFrame]):
    """Match detections to events; set apart what the untouched series already had."""
    truth, found = match(pd.concat(truths, ignore_index=True), pd.concat(founds, ignore_index=True))
    # precision counts what the injection changed: findings the untouched series already
    # had (real events of real data) are left out unless they hit an injected event
    return truth, found[~(found["pre_existing"] & ~found["hit"])]


#: the held-out sources are small (39 series): more replicates for as many events
HELD_OUT_REPLICATES = 8


def run_sources(sources, replicates: int, seed: int):
    """Truth, scored findings, untouched findings and series-years by source of ``sources``."""
    truths, founds, fas, years = [], [], [], {}
    for source, values, start, keys in sources:
        t, f, fa, y = run_source(source, values, start, keys, replicates, seed)
        truths.append(t)
        founds.append(f)
        fa["source"] = source
        fas.append(fa)
        years[source] = (y, len(values), values.shape[1])
    truth, found = score(truths, founds)
    return truth, found, pd.concat(fas, ignore_index=True), years


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--comext-series", type=int, default=1500)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--markdown", type=Path, help="also write the tables to this file")
    args = ap.parse_args(argv)
    t0 = time.time()
    sources = load_sources(args.comext_series, args.seed)
    truth, found, fa, years = run_sources(sources, args.replicates, args.seed)
    held_out = run_sources([load_guinea()], args.replicates * HELD_OUT_REPLICATES, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    truth.to_csv(args.out / "accuracy_truth.csv", index=False)
    found.to_csv(args.out / "accuracy_detections.csv", index=False)
    short = short_series_table(sources[0])
    text, summary = report(
        truth, found, fa, years, time.time() - t0, _command(args), held_out=held_out, short=short
    )
    print(text)
    (args.out / "accuracy.json").write_text(json.dumps(summary, indent=1, default=float))
    if args.markdown:
        args.markdown.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
