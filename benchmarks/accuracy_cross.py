"""Accuracy of the cross checks: revisions, mirror gaps and unit-value slips injected into
real Comext data at known places and sizes, found through the store and the scan.

    python benchmarks/accuracy_cross.py [--replicates 2] [--seed 0] [--files 6]
                                        [--markdown docs/accuracy_cross.md]

The cross checks compare a figure with another record of it (an earlier release, the
partner's record, the market price), which the engine joins in SQL; so, unlike the
single-series benchmark, each replicate builds real stores (releases and observations
written directly, without the ingest's validation, which the data pass anyway) and runs
``api.scan`` on them. The base is Eurostat Comext DS-045409 (the ``--files`` CN8 products
with the most intra-EU mirror pairs, value in EUR and net mass). Per replicate:

- **mirror_gap**: among the pairs whose two records the clean scan finds consistent, 60 %
  get one side moved beyond the usual band for 1–3 consecutive months (the import/export
  log ratio set to 1.25–3 band half-widths from the commodity's usual ratio, up or down,
  exporter's or importer's record); 40 % stay untouched. Pairs with a finding in the clean
  scan are left out: their truth is unknown (intra-EU CN8 mirror records often disagree).
- **unit_value**: among the series with weights whose clean scan has no unit-value finding,
  60 % get one month's value or weight multiplied or divided by 100 or 1000; the pattern
  named (value slip / weight slip) is scored as attribution.
- **revision**: a second release of the whole data set where 60 % of sampled series get
  one cell changed by 1–50 %, or a cell the first release had left out; 20 % get a decoy
  change of 0.2 % (below the tolerance, must not be found). Every revision finding that is
  not an injected change counts against precision: the clean data hold no revision.

Scored with ``tradesentry.scoring`` (event level; ±1 month for mirror gaps and unit values,
the exact month for revisions).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from tradesentry import api
from tradesentry.countries import normalise_many
from tradesentry.detectors.mirror_gap import MirrorGap
from tradesentry.scoring import kind_table, match
from tradesentry.store import open_store

REPO = Path(__file__).resolve().parents[1]
COMEXT = REPO.parent / "shared" / "data" / "raw" / "eurostat_comext_ds045409"
OUT = REPO / "benchmarks" / "out"
FIRST = pd.Period("2023-01", "M")
KINDS = ("revision", "mirror_gap", "unit_value")


# -- data and stores -------------------------------------------------------------------------------


def load(files: int) -> pd.DataFrame:
    """Canonical monthly observations of the ``files`` CN8 products with most bilateral rows."""
    if not COMEXT.is_dir():
        raise SystemExit(
            f"real data not found at {COMEXT}: the benchmarks read ../shared/data beside the "
            "repository"
        )
    paths = sorted(COMEXT.glob("CN_*.csv.gz"), key=_bilateral_rows, reverse=True)[:files]
    parts = []
    for path in paths:
        with gzip.open(path, "rt") as fh:
            parts.append(pd.read_csv(fh, dtype={"product": str, "flow": str}))
    raw = pd.concat(parts, ignore_index=True)
    wide = raw.pivot_table(
        index=["reporter", "partner", "flow", "product", "TIME_PERIOD"],
        columns="indicators",
        values="OBS_VALUE",
        aggfunc="first",
    ).reset_index()
    wide = wide[wide["VALUE_IN_EUROS"].notna()]
    codes = normalise_many(sorted(set(wide["reporter"]) | set(wide["partner"])))
    return pd.DataFrame(
        {
            "reporter": wide["reporter"].map(codes),
            "partner": wide["partner"].map(codes),
            "flow": np.where(wide["flow"] == "1", "import", "export"),
            "classification": "CN8",
            "commodity": wide["product"],
            "breakdown": "",
            "period": pd.PeriodIndex(wide["TIME_PERIOD"], freq="M").to_timestamp(),
            "freq": "M",
            "period_months": 1,
            "value": wide["VALUE_IN_EUROS"].astype(float),
            "currency": "EUR",
            "net_weight_kg": wide.get("QUANTITY_IN_100KG", np.nan) * 100.0,
        }
    ).reset_index(drop=True)


def _bilateral_rows(path: Path) -> int:
    with gzip.open(path, "rt") as fh:
        return sum(1 for line in fh if ",WORLD," not in line and ",CN," not in line)


def make_store(path: Path, releases: list[tuple[pd.DataFrame, str]]):
    """A store holding the given releases (frame, published date), written directly."""
    st = open_store(path)
    for i, (frame, published) in enumerate(releases, 1):
        n = len(frame)
        rid = st.con.execute(
            "INSERT INTO releases (source, file, sha256, published, ingested_at, rows_read, "
            "rows_accepted, rows_quarantined, observations) "
            "VALUES ('benchmark', ?, ?, ?, now(), ?, ?, 0, ?) RETURNING id",
            [f"release{i}", f"{path.stem}-{i}", published, n, n, n],
        ).fetchone()[0]
        st.con.register("bench", frame.assign(release_id=rid, line=np.arange(n) + 2))
        st.con.execute("INSERT INTO observations BY NAME SELECT * FROM bench")
        st.con.unregister("bench")
    return st


def scan(st, kind: str) -> pd.DataFrame:
    found = api.scan(st, kinds=[kind], save=False).to_frame()
    for col in ("period", "period_end"):
        found[col] = _month(found[col])
    return found


def _month(period: pd.Series) -> np.ndarray:
    """Months since 2023-01 of 'YYYY-MM' strings or timestamps."""
    text = pd.Series(period).astype(str).str[:7]
    if text.empty:
        return np.empty(0, dtype=np.int64)
    year, month = text.str[:4].astype(int), text.str[5:7].astype(int)
    return ((year - FIRST.year) * 12 + month - FIRST.month).to_numpy()


def _series_id(frame: pd.DataFrame) -> pd.Series:
    return (
        frame["reporter"] + "|" + frame["partner"] + "|" + frame["flow"] + "|" + frame["commodity"]
    )


def _pair_id(frame: pd.DataFrame) -> pd.Series:
    exporter = np.where(frame["flow"] == "export", frame["reporter"], frame["partner"])
    importer = np.where(frame["flow"] == "export", frame["partner"], frame["reporter"])
    return pd.Series(exporter, index=frame.index) + ">" + importer + "|" + frame["commodity"]


def _found(found: pd.DataFrame, ids: pd.Series, kind: str) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "series": ids.to_numpy(),
            "start": found["period"],
            "end": found["period_end"],
            "kind": kind,
        }
    )
    if "evidence" in found:
        out["pattern"] = found["evidence"].map(lambda e: (e or {}).get("pattern", "")).to_numpy()
    return out.drop_duplicates(["series", "start", "end"]).reset_index(drop=True)


# -- mirror gaps ---------------------------------------------------------------------------------


def mirror_pairs(obs: pd.DataFrame) -> pd.DataFrame:
    """Both records of every pair-month: x (exporter's), m (importer's), with the usual band."""
    x = obs[obs["flow"] == "export"].rename(columns={"value": "x"})
    m = obs[obs["flow"] == "import"].rename(
        columns={"value": "m", "reporter": "partner", "partner": "reporter"}
    )
    key = ["reporter", "partner", "commodity", "period"]
    both = x[[*key, "x"]].merge(m[[*key, "m"]], on=key)
    both = both[(both["x"] > 0) & (both["m"] > 0)].copy()
    both["lr"] = np.log(both["m"] / both["x"])
    stats = both.groupby("commodity")["lr"].agg(
        data_margin="median",
        n="count",
        data_spread=lambda s: 1.4826 * (s - s.median()).abs().median(),
    )
    margin, spread = MirrorGap().usual_band(
        stats["data_margin"].to_numpy(),
        stats["data_spread"].to_numpy(),
        stats["n"].to_numpy(float),
        np.ones(len(stats), dtype=bool),
    )
    stats["margin"], stats["spread"] = margin, spread
    both = both.join(stats[["margin", "spread"]], on="commodity")
    both["pair"] = both["reporter"] + ">" + both["partner"] + "|" + both["commodity"]
    both["t"] = _month(both["period"])
    return both


def inject_mirror(obs, pairs, calm, rng, share=0.6):
    """Move one record of some calm pairs beyond the band; return the data and the truth."""
    k = MirrorGap().threshold
    chosen = rng.permutation(calm)[: int(share * len(calm))]
    out = obs.copy()
    index = out.set_index(["reporter", "partner", "flow", "commodity", "period"]).index
    truth = []
    for pair in chosen:
        rows = pairs[pairs["pair"] == pair].sort_values("t")
        typical = np.median(np.maximum(rows["x"], rows["m"]))
        ok = ((rows["x"] > 0.5 * typical) & (rows["m"] > 0.5 * typical)).to_numpy()
        length = int(rng.choice([1, 2, 3]))
        t = rows["t"].to_numpy()
        starts = [i for i in range(len(rows) - length + 1) if ok[i : i + length].all()]
        starts = [i for i in starts if t[i + length - 1] - t[i] == length - 1]
        if not starts:
            continue
        i = int(rng.choice(starts))
        size, sign = float(rng.choice([1.25, 1.5, 2.0, 3.0])), float(rng.choice([-1.0, 1.0]))
        move_import = bool(rng.random() < 0.5)
        for _, r in rows.iloc[i : i + length].iterrows():
            target = r["margin"] + sign * size * k * r["spread"]
            factor = np.exp(target - r["lr"])
            if move_import:
                key = (r["partner"], r["reporter"], "import", r["commodity"], r["period"])
                out.loc[index.get_loc(key), "value"] *= factor
            else:
                key = (r["reporter"], r["partner"], "export", r["commodity"], r["period"])
                out.loc[index.get_loc(key), "value"] /= factor
        truth.append(
            {
                "series": pair,
                "start": int(t[i]),
                "end": int(t[i + length - 1]),
                "kind": "mirror_gap",
                "injection": f"{'import' if move_import else 'export'} record moved",
                "size": f"{size:g} × band",
            }
        )
    return out, pd.DataFrame(truth)


# -- unit-value slips --------------------------------------------------------------------------------


def inject_slips(obs, candidates, rng, share=0.6):
    """One cell's value or weight ×/÷ 100 or 1000 in some series; the data and the truth."""
    out = obs.copy()
    ids = _series_id(out)
    truth = []
    for sid in rng.permutation(candidates)[: int(share * len(candidates))]:
        rows = out.index[(ids == sid).to_numpy()]
        cells = out.loc[rows]
        ok = cells[(cells["value"] >= cells["value"].median()) & (cells["net_weight_kg"] > 0)]
        if ok.empty:
            continue
        at = int(rng.choice(ok.index))
        base, up = float(rng.choice([100.0, 1000.0])), bool(rng.random() < 0.5)
        factor = base if up else 1.0 / base
        column = str(rng.choice(["value", "net_weight_kg"]))
        out.loc[at, column] *= factor
        t = int(_month(out.loc[[at], "period"])[0])
        pattern = "value slip" if column == "value" else "weight slip"
        truth.append(
            {
                "series": sid,
                "start": t,
                "end": t,
                "kind": "unit_value",
                "injection": pattern,
                "size": f"{'×' if up else '÷'}{base:g}",
            }
        )
    return out, pd.DataFrame(truth)


# -- revisions ---------------------------------------------------------------------------------------


def inject_revisions(obs, rng, n_series=600, min_change=1000.0):
    """Release 1 and release 2 of the data with known revisions, appeared cells and decoys."""
    ids = _series_id(obs)
    counts = ids.value_counts()
    series = rng.permutation(counts[counts >= 12].index.to_numpy())[:n_series]
    first, second = obs.copy(), obs.copy()
    drop, truth, decoys = [], [], []
    for j, sid in enumerate(series):
        rows = obs.index[(ids == sid).to_numpy()]
        cells = obs.loc[rows].sort_values("period")
        inner = cells.iloc[1:-1]
        if j % 5 == 4:  # a decoy: 0.2 %, below the tolerance
            at = int(rng.choice(inner.index))
            second.loc[at, "value"] *= 1.002
            decoys.append((sid, int(_month(obs.loc[[at], "period"])[0])))
            continue
        if j % 5 == 3:  # untouched
            continue
        kind = str(rng.choice(["revised", "revised", "revised", "appeared"]))
        if kind == "appeared":
            at = int(rng.choice(inner.index))
            drop.append(at)
            size = 0.0
        else:
            size = float(rng.choice([0.01, 0.05, 0.2, 0.5]))
            big = inner[inner["value"] * size > 2 * min_change]
            if big.empty:
                continue
            at = int(rng.choice(big.index))
            second.loc[at, "value"] *= 1 + size * float(rng.choice([-1, 1]))
        t = int(_month(obs.loc[[at], "period"])[0])
        truth.append(
            {
                "series": sid,
                "start": t,
                "end": t,
                "kind": "revision",
                "injection": kind,
                "size": f"{size:.0%}" if size else "",
            }
        )
    return first.drop(index=drop), second, pd.DataFrame(truth), decoys


# -- one replicate -------------------------------------------------------------------------------------


def replicate(obs, pairs, clean, tmp: Path, rng) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    truths, founds, extra = [], [], {}
    # mirror gaps
    flagged_pairs = set(_pair_id(clean["mirror_gap"]))
    long_pairs = pairs.groupby("pair")["t"].count()
    calm = np.array([p for p in long_pairs[long_pairs >= 24].index if p not in flagged_pairs])
    moved, truth = inject_mirror(obs, pairs, calm, rng)
    with make_store(tmp / "mirror.duckdb", [(moved, "2026-02-13")]) as st:
        found = scan(st, "mirror_gap")
    found = _found(found, _pair_id(found), "mirror_gap")
    truths.append(truth)
    founds.append(found[found["series"].isin(calm)])
    # unit-value slips
    ids = _series_id(obs)
    weighted = obs[obs["net_weight_kg"] > 0]
    long_series = _series_id(weighted).value_counts()
    flagged = set(_series_id(clean["unit_value"]))
    candidates = np.array([s for s in long_series[long_series >= 24].index if s not in flagged])
    slipped, truth = inject_slips(obs, candidates, rng)
    with make_store(tmp / "uv.duckdb", [(slipped, "2026-02-13")]) as st:
        found = scan(st, "unit_value")
    found = _found(found, _series_id(found), "unit_value")
    truths.append(truth)
    founds.append(found[found["series"].isin(candidates)])
    # revisions
    first, second, truth, decoys = inject_revisions(obs, rng)
    with make_store(tmp / "rev.duckdb", [(first, "2026-02-13"), (second, "2026-03-13")]) as st:
        found = scan(st, "revision")
    found = _found(found, _series_id(found), "revision")
    truths.append(truth)
    founds.append(found)
    on_decoys = found.merge(
        pd.DataFrame(decoys, columns=["series", "start"]), on=["series", "start"]
    )
    extra["revision decoys (0.2 %)"] = len(decoys)
    extra["revision findings on decoys"] = len(on_decoys)
    del ids
    return pd.concat(truths, ignore_index=True), pd.concat(founds, ignore_index=True), extra


def clean_scans(obs: pd.DataFrame, tmp: Path) -> dict[str, pd.DataFrame]:
    with make_store(tmp / "clean.duckdb", [(obs, "2026-02-13")]) as st:
        return {kind: scan(st, kind) for kind in ("mirror_gap", "unit_value", "revision")}


# -- tables --------------------------------------------------------------------------------------


def tables(truth: pd.DataFrame, found: pd.DataFrame, extra: dict) -> tuple[str, dict]:
    rev = truth["kind"] == "revision"
    t_exact, f_exact = match(truth[rev], found[found["kind"] == "revision"], tolerance=0)
    t_near, f_near = match(truth[~rev], found[found["kind"] != "revision"], tolerance=1)
    t_all = pd.concat([t_exact, t_near], ignore_index=True)
    f_all = pd.concat([f_exact, f_near], ignore_index=True)
    kinds = kind_table(t_all, f_all, KINDS).drop(columns=["attribution", "strict_f1"])
    sizes = (
        t_all.groupby(["kind", "injection", "size"])["found"].agg(events="size", recall="mean")
    ).reset_index()
    uv_truth = t_near[t_near["kind"] == "unit_value"]
    uv_found = f_near[f_near["kind"] == "unit_value"]
    named, confusion = _patterns_right(uv_truth, uv_found)
    lines = [
        "### Per kind (event level)\n\n" + _fmt(kinds),
        "### Recall per injection and size\n\n" + _fmt(sizes),
        f"Unit-value slips found and named right (value slip / weight slip): {named:.2f}.\n\n"
        + _fmt(confusion),
        "Revision decoys (cells changed by 0.2 %, below the tolerance): "
        f"{extra['revision decoys (0.2 %)']}, flagged: {extra['revision findings on decoys']}.",
    ]
    summary = {"kinds": kinds.to_dict("records"), "sizes": sizes.to_dict("records"), **extra}
    summary["unit_value_pattern_named_right"] = named
    return "\n\n".join(lines), summary


def _patterns_right(truth: pd.DataFrame, found: pd.DataFrame) -> tuple[float, pd.DataFrame]:
    """Share of found slips whose finding names the injected pattern, and the confusion."""
    hits = truth[truth["found"]].merge(found, on="series", suffixes=("", "_f"))
    hits = hits[(hits["start_f"] <= hits["end"] + 1) & (hits["end_f"] >= hits["start"] - 1)]
    if hits.empty:
        return float("nan"), pd.DataFrame()
    hits = hits.assign(right=hits["pattern"] == hits["injection"])
    best = hits.sort_values("right").drop_duplicates(["series", "start"], keep="last")
    confusion = pd.crosstab(best["injection"] + " " + best["size"], best["pattern"]).reset_index()
    confusion.columns.name = None
    return float(best["right"].mean()), confusion.rename(columns={"row_0": "injected"})


def _fmt(df: pd.DataFrame) -> str:
    try:
        return df.to_markdown(index=False, floatfmt=".2f")
    except ImportError:  # tabulate is optional: a fixed-width table in a code block
        return "```\n" + df.to_string(index=False, float_format=lambda x: f"{x:.2f}") + "\n```"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--files", type=int, default=6)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--markdown", type=Path, help="also write the tables to this file")
    args = ap.parse_args(argv)
    t0 = time.time()
    obs = load(args.files)
    pairs = mirror_pairs(obs)
    truths, founds, extras = [], [], {}
    with tempfile.TemporaryDirectory() as tmp:
        clean = clean_scans(obs, Path(tmp))
        assert clean["revision"].empty, "one release holds no revision"
        for rep in range(args.replicates):
            rng = np.random.default_rng(args.seed + 1000 * rep)
            rep_dir = Path(tmp) / f"rep{rep}"
            rep_dir.mkdir()
            truth, found, extra = replicate(obs, pairs, clean, rep_dir, rng)
            truth["series"] = f"{rep}:" + truth["series"]
            found["series"] = f"{rep}:" + found["series"]
            truths.append(truth)
            founds.append(found)
            for k, v in extra.items():
                extras[k] = extras.get(k, 0) + v
    text, summary = tables(
        pd.concat(truths, ignore_index=True), pd.concat(founds, ignore_index=True), extras
    )
    head = (
        f"Comext DS-045409, {args.files} CN8 products, {len(obs):,} observations, "
        f"{pairs['pair'].nunique():,} mirror pairs; {args.replicates} replicates, seed {args.seed}."
    )
    text = head + "\n\n" + text
    print(text)
    summary |= {
        "seconds": round(time.time() - t0, 1),
        "machine": f"{platform.machine()} {platform.python_version()}",
        "command": "python benchmarks/accuracy_cross.py " + " ".join(argv or sys.argv[1:]),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "accuracy_cross.json").write_text(json.dumps(summary, indent=1, default=float))
    if args.markdown:
        footer = (
            f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
            f"{platform.python_version()}; {summary['seconds']} s. Command: `{summary['command']}`."
        )
        args.markdown.write_text(text + "\n\n" + footer + "\n")
    print(f"\n{time.time() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
