"""Side by side: tradesentry and the libraries people would use instead, on the same series.

    python benchmarks/anchors.py [--replicates 4] [--seed 0] [--series N] [--prophet-series 200]
                                 [--anchors trivial,stl,statsforecast,prophet,adtk,ruptures]
                                 [--reuse] [--docs]          (or: make bench-anchors)

The corpus is the accuracy benchmark's (``benchmarks/accuracy.py``: the same real series, the
same seeded injections, the same untouched share); it is written once as JSON and each anchor
reads it in a subprocess run with its own virtual environment (``benchmarks/.venvs/<name>``;
the libraries pin conflicting versions), through a small adapter in ``benchmarks/anchors/``
that writes its flags as JSON (protocol in ``benchmarks/anchors/common.py``). tradesentry runs
in this process through the scan's own path. Everything is graded by ``tradesentry.scoring``
with the accuracy benchmark's rules, twice:

- *kind-blind*: any flag on the event's months (±1) finds it; precision is the share of all
  flags that hit an event;
- *with kinds*: the libraries name no kind, so a month above its expectation is a ``spike``,
  below a ``dip``, below 1 % of it (or above 100 ×: a ×1000 slip) ``implausible``, and a
  change point a ``level_shift``; none can say ``timing_shift``.

Each anchor runs with its documented default configuration, on the published values (as
documented) and on log values (what an analyst would try next for multiplicative data); the
*tuned* row is its best kind-blind F1 over both scales × one threshold grid shared by every
anchor (multiples 0.75–8 of its documented threshold), chosen on this very corpus, as
tradesentry's thresholds were. Gaps (blanked months) are left out of the comparison: the
libraries are told the month is missing and cannot flag it.

Cost: whole-run wall time of one pass over every distinct series of the corpus (each
untouched series once), after a warm-up, in one process; Prophet runs on a random subset of
the base series (``--prophet-series``) and is graded on that subset, with every other tool
graded on it too for a like-for-like row. Installed size: the anchor's whole environment, and
the closure of tradesentry's runtime dependencies in its own.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

# the sibling benchmark: the same corpus, the same injections, the same scoring rules
import accuracy

from tradesentry.scoring import kind_table, size_table

REPO = Path(__file__).resolve().parents[1]
ADAPTERS = REPO / "benchmarks" / "anchors"
VENVS = REPO / "benchmarks" / ".venvs"
OUT = REPO / "benchmarks" / "out" / "anchors"
DOC = REPO / "docs" / "accuracy.md"
BEGIN, END = "<!-- anchors:begin -->", "<!-- anchors:end -->"

#: the kinds compared (gaps left out: the libraries are told a month is missing)
KINDS = ("implausible", "spike", "dip", "timing_shift", "level_shift")
OUTLIER_KINDS = ("implausible", "spike", "dip")
#: threshold multiples every anchor is graded at; the same list as in anchors/common.py
GRID = (0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)
SCALES = ("raw", "log")
TRADESENTRY = "tradesentry"


@dataclass(frozen=True)
class Anchor:
    """One library: its adapter, its environment and the kinds its flags can express."""

    name: str
    label: str
    kinds: tuple[str, ...]
    venv: str | None = None  # None: the project's own interpreter
    subset: bool = False  # too slow for the whole corpus: graded on the subset

    @property
    def python(self) -> Path:
        return Path(sys.executable) if self.venv is None else VENVS / self.venv / "bin" / "python"

    @property
    def adapter(self) -> Path:
        return ADAPTERS / f"{self.name}_adapter.py"


ANCHORS: dict[str, Anchor] = {
    a.name: a
    for a in (
        Anchor("trivial", "rolling median + MAD z", OUTLIER_KINDS),
        Anchor("stl", "statsmodels STL + robust z", OUTLIER_KINDS, "stl"),
        Anchor("statsforecast", "statsforecast AutoETS 99 %", OUTLIER_KINDS, "statsforecast"),
        Anchor("prophet", "Prophet 99 %", OUTLIER_KINDS, "prophet", subset=True),
        Anchor("adtk", "ADTK SeasonalAD + LevelShiftAD", (*OUTLIER_KINDS, "level_shift"), "adtk"),
        Anchor("ruptures", "ruptures Pelt (BIC penalty)", ("level_shift",), "ruptures"),
    )
}


# -- corpus -------------------------------------------------------------------------------------


@dataclass
class Corpus:
    """The accuracy benchmark's series and injections, each distinct series with an id.

    ``slots`` maps every (source, replicate, row) to the id of the series it holds; replicate
    -1 is the untouched data, and an untouched row of a replicate shares its id (it is the
    same series), so no tool runs it twice.
    """

    sources: list[tuple]
    replicates: dict[str, list[tuple]]
    slots: pd.DataFrame
    series: dict[int, tuple[str, np.ndarray]] = field(repr=False)

    def documents(self, ids: Iterable[int] | None = None) -> dict:
        ids = sorted(self.series) if ids is None else sorted(ids)
        return {
            "series": [
                {"id": i, "start": self.series[i][0], "values": _json_values(self.series[i][1])}
                for i in ids
            ]
        }

    def rows_sample(self, n: int, seed: int) -> pd.DataFrame:
        """``n`` base series (source, row) drawn at random: the subset for slow anchors."""
        base = self.slots[self.slots["rep"] == -1][["source", "row"]]
        if n >= len(base):
            return base.reset_index(drop=True)
        return (
            base.sample(n, random_state=seed).sort_values(["source", "row"]).reset_index(drop=True)
        )

    def ids_of(self, rows: pd.DataFrame | None) -> list[int]:
        slots = self.slots if rows is None else self.slots.merge(rows, on=["source", "row"])
        return sorted(slots["id"].unique().tolist())


def _json_values(values: np.ndarray) -> list[float | None]:
    return [float(v) if np.isfinite(v) else None for v in values]


def build_corpus(sources: Sequence[tuple], replicates: int, seed: int) -> Corpus:
    """Inject exactly as ``accuracy.py`` does and give every distinct series an id."""
    slots, series, reps = [], {}, {}
    for source, values, start, _keys in sources:
        ids = np.arange(len(values)) + len(series)
        series.update({int(i): (start, values[r]) for r, i in enumerate(ids)})
        slots.append(
            pd.DataFrame({"source": source, "rep": -1, "row": np.arange(len(values)), "id": ids})
        )
        reps[source] = list(accuracy.injected_replicates(values, replicates, seed))
        for rep, injected, _truth, untouched in reps[source]:
            rep_ids = ids.copy()
            touched = np.setdiff1d(np.arange(len(values)), untouched)
            rep_ids[touched] = np.arange(len(touched)) + len(series)
            series.update({int(rep_ids[r]): (start, injected[r]) for r in touched})
            slots.append(
                pd.DataFrame(
                    {"source": source, "rep": rep, "row": np.arange(len(values)), "id": rep_ids}
                )
            )
    return Corpus(list(sources), reps, pd.concat(slots, ignore_index=True), series)


def subsample_sources(sources: list[tuple], n: int, seed: int) -> list[tuple]:
    """At most ``n`` base series in all, each source cut in proportion (at least one each)."""
    total = sum(len(v) for _, v, _, _ in sources)
    if n >= total:
        return sources
    rng = np.random.default_rng(seed)
    out = []
    for source, values, start, keys in sources:
        k = max(1, round(n * len(values) / total))
        rows = np.sort(rng.choice(len(values), size=min(k, len(values)), replace=False))
        out.append((source, values[rows], start, keys.iloc[rows].reset_index(drop=True)))
    return out


def write_if_changed(path: Path, text: str) -> bool:
    """Write only when the content changes, so that ``--reuse`` can trust modification times."""
    if path.exists() and path.read_text() == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return True


# -- running ------------------------------------------------------------------------------------


@dataclass
class Run:
    """One tool's flags on the corpus at one scale, with its cost."""

    tool: str
    scale: str
    flags: pd.DataFrame  # id, start, end, kind, score (+ settings)
    series: int
    seconds: float
    versions: dict
    config: dict
    cpu_seconds: float = np.nan
    reused: bool = False  # read from an earlier run's output (``--reuse``)

    @property
    def ms_per_series(self) -> float:
        return 1000.0 * self.seconds / max(self.series, 1)

    @property
    def cpu_ms_per_series(self) -> float:
        return 1000.0 * self.cpu_seconds / max(self.series, 1)


def run_tradesentry(corpus: Corpus) -> Run:
    """The scan's own path over every distinct series, timed after a warm-up chunk."""
    source, values, start, keys = corpus.sources[0]
    accuracy.detect(values[:20], start, keys.iloc[:20].reset_index(drop=True))
    frames, n = [], 0
    t0, c0 = time.perf_counter(), _cpu_seconds()
    for source, values, start, keys in corpus.sources:
        panels = [(-1, values, np.arange(len(values)))]
        for rep, injected, _truth, untouched in corpus.replicates[source]:
            panels.append((rep, injected, np.setdiff1d(np.arange(len(values)), untouched)))
        for rep, panel, rows in panels:
            found = accuracy.detect(panel[rows], start, keys.iloc[rows].reset_index(drop=True))
            found["series"] = rows[found["series"].to_numpy()]
            frames.append(found.assign(source=source, rep=rep))
            n += len(rows)
    seconds, cpu = time.perf_counter() - t0, _cpu_seconds() - c0
    found = pd.concat(frames, ignore_index=True).rename(columns={"series": "row"})
    flags = found.merge(corpus.slots, on=["source", "rep", "row"])[
        ["id", "start", "end", "kind", "score"]
    ]
    versions = {"tradesentry": metadata.version("tradesentry"), "python": platform.python_version()}
    config = {
        "detectors": "the scan's defaults (implausible, spike, dip, timing_shift, level_shift)"
    }
    return Run(TRADESENTRY, "log", flags, n, seconds, versions, config, cpu)


def _cpu_seconds() -> float:
    """Processor time of this process (the same measure as the adapters')."""
    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


def run_anchor(anchor: Anchor, corpus_path: Path, scale: str, out: Path, reuse: bool) -> Run:
    """The adapter in the anchor's own interpreter (skipped when ``reuse`` finds it fresh)."""
    result = out / f"{anchor.name}-{scale}.json"
    fresh = result.exists() and result.stat().st_mtime > corpus_path.stat().st_mtime
    if not (reuse and fresh):
        if not anchor.python.exists():
            raise SystemExit(f"{anchor.python} not found: run `make bench-anchors` to create it")
        cmd = [
            str(anchor.python),
            str(anchor.adapter),
            str(corpus_path),
            str(result),
            "--scale",
            scale,
        ]
        subprocess.run(cmd, check=True, cwd=REPO)
    run = read_run(result)
    run.reused = reuse and fresh
    return run


def read_run(path: Path) -> Run:
    """An adapter's output as a ``Run``, its flags named with kinds."""
    doc = json.loads(path.read_text())
    flags = pd.DataFrame(doc["flags"])
    if flags.empty:
        flags = pd.DataFrame(columns=["series", "month", "type", "observed", "expected", "score"])
    flags = flags.rename(columns={"series": "id"})
    flags["start"] = flags["end"] = flags["month"].astype(int)
    flags["kind"] = kind_of(flags)
    return Run(
        doc["anchor"],
        doc["scale"],
        flags,
        doc["series"],
        doc["seconds"],
        doc["versions"],
        doc["config"],
        doc.get("cpu_seconds", np.nan),
    )


def kind_of(flags: pd.DataFrame) -> np.ndarray:
    """The kind a flag of a library that names none is read as (stated in the docs)."""
    typ = flags["type"].to_numpy()
    obs, exp = (_numbers(flags, c) for c in ("observed", "expected"))
    slip = (exp > 0) & ((obs < 0.01 * exp) | (obs > 100.0 * exp))
    return np.where(
        typ == "change",
        "level_shift",
        np.where(slip, "implausible", np.where(obs > exp, "spike", "dip")),
    )


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)


def at_setting(flags: pd.DataFrame, multiple: float) -> pd.DataFrame:
    """The flags the library raises at ``multiple`` × its documented threshold."""
    if "settings" in flags:
        listed = flags["settings"].map(lambda s: isinstance(s, list))
        present = flags["settings"].map(lambda s: isinstance(s, list) and multiple in s)
        keep = np.where(listed, present, flags["score"] >= multiple - 1e-12)
    else:
        keep = flags["score"].to_numpy() >= multiple - 1e-12
    return flags[keep]


# -- grading ------------------------------------------------------------------------------------


@dataclass
class Graded:
    truth: pd.DataFrame
    found: pd.DataFrame
    fa: pd.DataFrame
    years: float


def grade(corpus: Corpus, flags: pd.DataFrame, rows: pd.DataFrame | None = None) -> Graded:
    """Score flags (by corpus id) exactly as ``accuracy.py`` scores its findings."""
    flags = flags[flags["kind"].isin(KINDS)][["id", "start", "end", "kind"]]
    placed = corpus.slots.merge(flags, on="id")
    truths, founds, fas, years = [], [], [], 0.0
    for source, reps in corpus.replicates.items():
        keep = _row_filter(rows, source)
        here = placed[placed["source"] == source]
        clean = _series(here[here["rep"] == -1], keep)
        for rep, injected, truth, untouched in reps:
            found = _series(here[here["rep"] == rep], keep)
            untouched = untouched[keep(untouched)]
            fas.append(found[found["series"].isin(untouched)])
            years += np.isfinite(injected[untouched]).sum() / 12.0
            found["pre_existing"] = accuracy._pre_existing(found, clean)
            truth = truth[keep(truth["series"].to_numpy()) & truth["kind"].isin(KINDS)].copy()
            uid = accuracy.series_uid(source, rep)
            truth["series"] += uid
            found["series"] += uid
            truths.append(truth)
            founds.append(found)
    truth, found = accuracy.score(truths, founds)
    return Graded(truth, found, pd.concat(fas, ignore_index=True), years)


def _row_filter(rows: pd.DataFrame | None, source: str):
    if rows is None:
        return lambda r: np.ones(len(r), dtype=bool)
    chosen = rows.loc[rows["source"] == source, "row"].to_numpy()
    return lambda r: np.isin(np.asarray(r), chosen)


def _series(placed: pd.DataFrame, keep) -> pd.DataFrame:
    out = placed[keep(placed["row"].to_numpy())]
    return out.rename(columns={"row": "series"})[["series", "start", "end", "kind"]].reset_index(
        drop=True
    )


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


def summary(g: Graded, expressible: Sequence[str]) -> dict:
    """Kind-blind and with-kinds scores, false alarms; NaN for kinds the tool cannot name."""
    precision = float(g.found["hit"].mean()) if len(g.found) else 0.0
    recall = float(g.truth["found"].mean()) if len(g.truth) else 0.0
    out = {"precision": precision, "recall": recall, "f1": _f1(precision, recall)}
    strict = kind_table(g.truth, g.found, KINDS).set_index("kind")
    for kind in KINDS:
        r = float(g.truth.loc[g.truth["kind"] == kind, "found"].mean())
        out[f"recall:{kind}"] = r
        out[f"f1:{kind}"] = _f1(precision, r)
        out[f"kf1:{kind}"] = float(strict.loc[kind, "strict_f1"]) if kind in expressible else np.nan
    out["kf1:mean"] = float(
        np.nanmean([out[f"kf1:{k}"] if k in expressible else 0.0 for k in KINDS])
    )
    out["fa"] = 100.0 * len(g.fa) / g.years if g.years else np.nan
    out["flags"] = len(g.found)
    out["events"] = len(g.truth)
    return out


@dataclass
class Result:
    """A tool at one configuration, graded."""

    tool: str
    setting: str  # "default", "tuned" or "-"
    scale: str
    multiple: float
    run: Run
    scores: dict
    graded: Graded
    budget: float = np.inf  # tradesentry's false-alarm rate on the same series

    @property
    def within_budget(self) -> bool:
        return bool(self.scores["fa"] <= self.budget + 1e-9)


def evaluate(
    corpus: Corpus,
    anchor: Anchor,
    runs: dict[str, Run],
    rows: pd.DataFrame | None,
    budget: float,
) -> tuple[list[Result], list[Result]]:
    """``([default, tuned], grid)``: the documented default, the tuned configuration (the
    best kind-blind F1 over scales × the threshold grid among those raising no more false
    alarms on the untouched series than tradesentry, ``budget``; the quietest if none
    does), and every graded setting.

    The budget matters: precision leaves out flags the untouched series already get (real
    events of real data, as in accuracy.py), so without it a tool that flags every lumpy
    month would be credited for the injected events it happens to cover.
    """
    grid = []
    for scale, run in runs.items():
        for m in GRID:
            g = grade(corpus, at_setting(run.flags, m), rows)
            scores = summary(g, anchor.kinds)
            grid.append(Result(anchor.name, "grid", scale, m, run, scores, g, budget))
    default = next((r for r in grid if r.scale == "raw" and r.multiple == 1.0), grid[0])
    within = [r for r in grid if r.within_budget]
    if within:
        best = max(within, key=lambda r: r.scores["f1"])
    else:
        best = min(grid, key=lambda r: (r.scores["fa"], -r.scores["f1"]))
    return [_as(default, "default"), _as(best, "tuned")], grid


def _as(r: Result, setting: str) -> Result:
    return Result(r.tool, setting, r.scale, r.multiple, r.run, r.scores, r.graded, r.budget)


def evaluate_tradesentry(corpus: Corpus, run: Run, rows: pd.DataFrame | None) -> Result:
    g = grade(corpus, run.flags, rows)
    return Result(TRADESENTRY, "-", "log", 1.0, run, summary(g, KINDS), g)


# -- sizes --------------------------------------------------------------------------------------


def tree_bytes(path: Path) -> int:
    """``du``-style size of a directory tree (files and links themselves, links not followed)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


def runtime_closure(package: str = "tradesentry") -> set[str]:
    """The distributions a plain ``pip install package`` brings (extras and dev tools left out)."""
    seen: set[str] = set()
    todo = [package]
    while todo:
        name = _norm(todo.pop())
        if name in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen.add(name)
        for req in dist.requires or []:
            if "extra ==" in req or 'extra=="' in req:
                continue
            todo.append(re.split(r"[ ;<>=!~\[(]", req, maxsplit=1)[0])
    return seen


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def closure_bytes(names: Iterable[str]) -> int:
    """Installed bytes of these distributions in this environment (an editable install counts
    its source package)."""
    total = 0
    for name in names:
        dist = metadata.distribution(name)
        for f in dist.files or []:
            p = Path(dist.locate_file(f))
            if p.is_file():
                total += p.stat().st_size
        if name == TRADESENTRY:
            total += tree_bytes(REPO / "src" / "tradesentry")
    return total


def sizes(anchors: Sequence[Anchor]) -> dict[str, float]:
    """Megabytes: each anchor's environment, and tradesentry's runtime closure."""
    out = {TRADESENTRY: closure_bytes(runtime_closure()) / 1e6}
    for a in anchors:
        if a.venv:
            out[a.name] = tree_bytes(a.python.parents[1]) / 1e6
        else:  # the trivial baseline needs pandas and what pandas needs
            out[a.name] = closure_bytes(runtime_closure("pandas")) / 1e6
    return out


# -- tables -------------------------------------------------------------------------------------


def _name(r: Result) -> str:
    if r.tool == TRADESENTRY:
        return TRADESENTRY
    a = ANCHORS[r.tool]
    mark = " †" if a.subset else ""
    if r.setting == "default":
        return f"{a.label}{mark}"
    if r.setting == "tuned":
        return f"{a.label}{mark}, tuned ({r.scale}, ×{r.multiple:g})"
    return f"{a.label}{mark} ({r.scale}, ×{r.multiple:g})"


def main_table(results: list[Result], size_mb: dict[str, float]) -> pd.DataFrame:
    rows = []
    for r in results:
        s = r.scores
        rows.append(
            {
                "tool": _name(r),
                "precision": s["precision"],
                "recall": s["recall"],
                "F1 kind-blind": s["f1"],
                "F1 with kinds (mean of 5)": s["kf1:mean"],
                "false alarms /100 series-years": s["fa"],
                "ms / series": r.run.ms_per_series,
                "CPU ms / series": r.run.cpu_ms_per_series,
                "installed MB": size_mb.get(r.tool, np.nan),
            }
        )
    return pd.DataFrame(rows)


def kind_frame(results: list[Result], prefix: str) -> pd.DataFrame:
    rows = [{"tool": _name(r), **{k: r.scores[f"{prefix}:{k}"] for k in KINDS}} for r in results]
    return pd.DataFrame(rows)


def lead_table(ts: Result, grid: list[Result]) -> pd.DataFrame:
    """Per kind: tradesentry against the best anchor on that kind, each anchor at whichever
    setting of its grid (scale × threshold) does best on the kind, among the settings within
    tradesentry's false-alarm rate on the untouched series: the strictest comparison."""
    anchors = [r for r in grid if r.within_budget]
    rows = []
    for kind in KINDS:
        named = [r for r in anchors if np.isfinite(r.scores[f"kf1:{kind}"])]
        row = {"kind": kind}
        for label, key, pool in (("with kinds", "kf1", named), ("kind-blind", "f1", anchors)):
            mine = ts.scores[f"{key}:{kind}"]
            if not pool:
                row.update(
                    {f"{label}: tradesentry": mine, f"{label}: best anchor": "none can name it"}
                )
                continue
            best = max(pool, key=lambda r, k=f"{key}:{kind}": r.scores[k])
            theirs = best.scores[f"{key}:{kind}"]
            row.update(
                {
                    f"{label}: tradesentry": mine,
                    f"{label}: best anchor": f"{_name(best)} {theirs:.2f}",
                    f"{label}: lead": mine - theirs,
                }
            )
        rows.append(row)
    return pd.DataFrame(rows)


def size_frame(results: list[Result]) -> pd.DataFrame:
    """Kind-blind recall per injection and size, one column per tool configuration."""
    cols = {}
    for r in results:
        t = size_table(r.graded.truth, r.graded.found)
        cols[_name(r)] = t.set_index(["injection", "size"])["recall"]
    out = pd.DataFrame(cols).reset_index()
    out["size"] = out["size"].map(lambda v: f"{v:g}")
    return out


def cost_table(results: list[Result]) -> pd.DataFrame:
    ts = next(r for r in results if r.tool == TRADESENTRY).run
    rows, seen = [], set()
    for r in results:
        if (r.tool, r.run.scale) in seen:
            continue
        seen.add((r.tool, r.run.scale))
        rows.append(
            {
                "tool": r.tool,
                "scale": r.run.scale,
                "series run": r.run.series,
                "wall s": r.run.seconds,
                "ms / series": r.run.ms_per_series,
                "× tradesentry": r.run.ms_per_series / ts.ms_per_series,
                "CPU ms / series": r.run.cpu_ms_per_series,
                "CPU × tradesentry": r.run.cpu_ms_per_series / ts.cpu_ms_per_series,
            }
        )
    return pd.DataFrame(rows)


def config_table(results: list[Result], size_mb: dict[str, float]) -> pd.DataFrame:
    rows, seen = [], set()
    for r in results:
        if r.tool in seen:
            continue
        seen.add(r.tool)
        versions = ", ".join(f"{k} {v}" for k, v in r.run.versions.items())
        config = "; ".join(f"{k}: {v}" for k, v in r.run.config.items())
        rows.append(
            {
                "tool": r.tool,
                "versions": versions,
                "configuration": config,
                "installed MB": size_mb.get(r.tool),
            }
        )
    return pd.DataFrame(rows)


def markdown(df: pd.DataFrame) -> str:
    """accuracy.py's table style; NaN shown as '–' (a kind the tool cannot name), and a '|'
    inside a cell escaped so that it does not split the cell."""
    safe = df.map(lambda v: v.replace("|", "\\|") if isinstance(v, str) else v)
    return accuracy.markdown(safe).replace("|  |", "| – |").replace("|  |", "| – |")


def report(
    full: list[Result],
    grid: list[Result],
    subset: list[Result],
    size_mb: dict,
    command: str,
    seconds: float,
    n_subset: int,
) -> str:
    parts = [
        _header(command, seconds, any(r.run.reused for r in full), n_subset),
        "### Overall\n\n" + markdown(main_table(full, size_mb)),
        "### Kind by kind: tradesentry against the best anchor setting for each kind\n\n"
        + markdown(lead_table(full[0], grid)),
        "### F1 with kinds (– : the tool cannot name the kind)\n\n"
        + markdown(kind_frame(full, "kf1")),
        "### F1 kind-blind (any flag on the event's months)\n\n" + markdown(kind_frame(full, "f1")),
        "### Recall kind-blind\n\n" + markdown(kind_frame(full, "recall")),
        "### Recall kind-blind by injection and size\n\n"
        + markdown(size_frame([r for r in full if r.setting in ("-", "tuned")])),
        f"### On Prophet's subset ({n_subset} base series, every tool graded on it)\n\n"
        + markdown(main_table(subset, size_mb))
        + "\n\n"
        + markdown(kind_frame(subset, "kf1")),
        "### Cost (one pass over every distinct series, after a warm-up, one process)\n\n"
        + markdown(cost_table(full)),
        "### Versions and configurations\n\n" + markdown(config_table(full, size_mb)),
    ]
    return "\n\n".join(parts)


def _header(command: str, seconds: float, reused: bool, n_subset: int) -> str:
    """The command, the machine and how the run went (a re-grade says so)."""
    machine = f"{platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} CPUs"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    how = (
        "the libraries' flags and timings read back from the outputs of an earlier full run "
        "with `--reuse`, tradesentry run again"
        if reused
        else f"{seconds / 60:.0f} min"
    )
    return (
        f"Command: `{command}` ({how}; {machine}; load average at the end {load}). "
        f"† Prophet ran on the subset of {n_subset} base series only (see the last table); "
        "its rows in the full-corpus tables are its subset scores."
    )


def write_doc(path: Path, text: str) -> None:
    """Replace the generated section of docs/accuracy.md (between its markers), or append it."""
    doc = path.read_text()
    block = f"{BEGIN}\n\n{text}\n\n{END}"
    if BEGIN in doc and END in doc:
        doc = doc[: doc.index(BEGIN)] + block + doc[doc.index(END) + len(END) :]
    else:
        doc = doc.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(doc)


# -- main ---------------------------------------------------------------------------------------


def _command(args: argparse.Namespace) -> str:
    parts = ["python benchmarks/anchors.py"]
    for name, default in (
        ("replicates", 4),
        ("seed", 0),
        ("series", None),
        ("prophet_series", 200),
    ):
        value = getattr(args, name)
        if value != default:
            parts.append(f"--{name.replace('_', '-')} {value}")
    if args.anchors != ",".join(ANCHORS):
        parts.append(f"--anchors {args.anchors}")
    return " ".join(parts)


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--series", type=int, help="at most N base series (default: all of accuracy.py's)"
    )
    ap.add_argument(
        "--prophet-series", type=int, default=200, help="base series for the slow anchors"
    )
    ap.add_argument(
        "--anchors", default=",".join(ANCHORS), help="comma-separated, of: " + ", ".join(ANCHORS)
    )
    ap.add_argument("--scales", default=",".join(SCALES), help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument(
        "--reuse", action="store_true", help="reuse adapter outputs newer than the corpus"
    )
    ap.add_argument(
        "--docs", action="store_true", help="write the comparison into docs/accuracy.md"
    )
    ap.add_argument("--doc-path", type=Path, default=DOC, help=argparse.SUPPRESS)
    return ap.parse_args(argv)


def corpus_files(corpus: Corpus, rows: pd.DataFrame, out: Path) -> dict[bool, Path]:
    """The corpus as JSON: all of it, and the subset for slow anchors."""
    paths = {False: out / "corpus.json", True: out / "corpus-subset.json"}
    write_if_changed(paths[False], json.dumps(corpus.documents()))
    write_if_changed(paths[True], json.dumps(corpus.documents(corpus.ids_of(rows))))
    return paths


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    t0 = time.time()
    anchors = [ANCHORS[name] for name in args.anchors.split(",") if name]
    sources = accuracy.load_sources(seed=args.seed)
    if args.series:
        sources = subsample_sources(sources, args.series, args.seed)
    corpus = build_corpus(sources, args.replicates, args.seed)
    rows = corpus.rows_sample(args.prophet_series, args.seed)
    paths = corpus_files(corpus, rows, args.out)
    ts_run = run_tradesentry(corpus)
    print(f"tradesentry: {ts_run.series} series, {ts_run.seconds:.1f} s")
    full = [evaluate_tradesentry(corpus, ts_run, None)]
    subset = [evaluate_tradesentry(corpus, ts_run, rows)]
    budget = {None: full[0].scores["fa"], "subset": subset[0].scores["fa"]}
    grid: list[Result] = []
    for a in anchors:
        runs = {
            s: run_anchor(a, paths[a.subset], s, args.out, args.reuse)
            for s in args.scales.split(",")
        }
        here = rows if a.subset else None
        shown, graded = evaluate(corpus, a, runs, here, budget["subset" if a.subset else None])
        full.extend(shown)
        grid.extend(graded)
        subset.extend(evaluate(corpus, a, runs, rows, budget["subset"])[0])
    text = report(full, grid, subset, sizes(anchors), _command(args), time.time() - t0, len(rows))
    print(text)
    dump = {
        _name(r): {**r.scores, "ms_per_series": r.run.ms_per_series, "cpu": r.run.cpu_ms_per_series}
        for r in full
    }
    (args.out / "anchors.json").write_text(json.dumps(dump, indent=1, default=float))
    if args.docs:
        write_doc(args.doc_path, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
