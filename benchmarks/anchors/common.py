"""The adapter protocol shared by every anchor (imported by the adapters beside it).

Each anchor library runs in its own virtual environment (they pin conflicting versions), so
an adapter is a small script run with that environment's interpreter:

    <venv>/bin/python benchmarks/anchors/<name>_adapter.py CORPUS.json FLAGS.json [--scale raw|log]

It may import only the standard library, NumPy and its own library: never tradesentry.
Adapters are named ``<library>_adapter.py`` because the script's directory comes first on
``sys.path``: a script called ``prophet.py`` would import itself instead of Prophet.

*Corpus* (written by benchmarks/anchors.py): ``{"series": [{"id": 7, "start": "2023-01",
"values": [1.0, null, ...]}, ...]}``, monthly, ``null`` for a month not reported.

*Flags* (written here): ``{"anchor", "versions", "config", "scale", "series", "seconds",
"cpu_seconds", "warmup_series", "flags": [...]}``; one flag per month the library calls anomalous:
``{"series": id, "month": index into the series' values, "type": "outlier" | "change",
"observed", "expected" (in the series' own units; outliers only), "score", "stat"}``.
``score`` is the library's own statistic divided by its documented threshold, so 1.0 is the
documented default and the benchmark can apply stricter or looser thresholds afterwards
(every anchor gets the same grid). Adapters report flags from ``LOOSEST`` up. A flag whose
presence cannot be read from a score (a change point of a segmentation re-run at another
penalty) lists the threshold multiples it is present at in ``"settings"`` instead.

``seconds`` is the wall time of one pass over all the series, measured after a warm-up on the
first few (imports, JIT compilation and first-call caches are not what a monitor pays per
series); ``cpu_seconds`` the processor time of the same pass, this process's and its
children's (Prophet's Stan optimiser runs as a child process), which a busy shared machine
inflates far less than wall time.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import resource
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

#: the threshold multiples every anchor is graded at (1.0 = the library's documented default)
GRID: tuple[float, ...] = (0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)
LOOSEST = GRID[0]
#: normal quantile of a two-sided 99 % interval: a residual outside it scores above 1
Z99 = 2.5758293035489
#: score of a residual when the library's own spread is zero (JSON has no infinity)
SCORE_CAP = 1e6


@dataclass(frozen=True)
class Series:
    """One corpus series: ``values`` on the model scale, ``raw`` as published (NaN = missing)."""

    id: int
    start: str
    values: np.ndarray
    raw: np.ndarray


#: a flag before the harness fills in the observed value and converts ``expected`` back
Flag = dict


def read_corpus(path: Path, scale: str = "raw") -> list[Series]:
    """The corpus, each series moved to the model scale (``log``: log1p of the value)."""
    doc = json.loads(Path(path).read_text())
    out = []
    for s in doc["series"]:
        raw = np.array([np.nan if v is None else float(v) for v in s["values"]])
        out.append(Series(int(s["id"]), str(s["start"]), to_scale(raw, scale), raw))
    return out


def to_scale(values: np.ndarray, scale: str) -> np.ndarray:
    """Trade is multiplicative: ``log`` is the transform an analyst would try first; log1p
    keeps a reported zero finite (and far below any month of a material flow)."""
    if scale == "raw":
        return values.astype(float)
    if scale == "log":
        return np.log1p(np.maximum(values, 0.0))
    raise ValueError(f"unknown scale {scale!r}")


def from_scale(values: np.ndarray | float, scale: str) -> np.ndarray | float:
    return values if scale == "raw" else np.expm1(values)


def span(values: np.ndarray) -> tuple[int, int]:
    """First and one-past-last reported month (leading and trailing gaps are cut)."""
    ok = np.flatnonzero(np.isfinite(values))
    return (int(ok[0]), int(ok[-1]) + 1) if ok.size else (0, 0)


def filled(values: np.ndarray) -> tuple[int, np.ndarray]:
    """``(offset, values)`` with leading and trailing gaps cut and inner gaps interpolated
    linearly, for libraries that cannot take a missing month."""
    a, b = span(values)
    y = values[a:b].astype(float)
    bad = ~np.isfinite(y)
    if bad.any():
        idx = np.arange(len(y))
        y[bad] = np.interp(idx[bad], idx[~bad], y[~bad])
    return a, y


def robust_z(residual: np.ndarray) -> np.ndarray:
    """(r − median) / (1.4826 · MAD): the classic robust z-score (Iglewicz and Hoaglin)."""
    r = residual[np.isfinite(residual)]
    if not r.size:
        return np.full_like(residual, np.nan)
    med = np.median(r)
    mad = 1.4826 * np.median(np.abs(r - med))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (residual - med) / mad
    return np.where(np.isfinite(z), z, np.where(residual == med, 0.0, SCORE_CAP))


def outlier(month: int, expected: float, stat: float, threshold: float) -> Flag:
    """A month off its expectation: ``stat`` is the library's statistic (absolute)."""
    return {
        "month": int(month),
        "type": "outlier",
        "expected": float(expected),
        "stat": _finite(stat),
        "score": _finite(abs(stat) / threshold),
    }


def change(month: int, stat: float, settings: Sequence[float] | None = None) -> Flag:
    """A change point: the first month of a new segment."""
    flag = {"month": int(month), "type": "change", "stat": _finite(stat), "score": 1.0}
    if settings is not None:
        flag["settings"] = sorted(float(s) for s in settings)
    return flag


def outliers(
    values: np.ndarray, expected: np.ndarray, stat: np.ndarray, threshold: float
) -> list[Flag]:
    """Every reported month whose statistic reaches ``LOOSEST`` × the threshold."""
    stat = np.where(np.isfinite(stat), np.abs(stat), 0.0)
    keep = np.flatnonzero(np.isfinite(values) & (stat >= LOOSEST * threshold))
    return [outlier(t, expected[t], stat[t], threshold) for t in keep]


def _finite(x: float) -> float:
    x = float(x)
    return SCORE_CAP if not math.isfinite(x) else min(x, SCORE_CAP)


def cpu_seconds() -> float:
    """Processor time used so far by this process and its finished children."""
    own, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def versions(*packages: str) -> dict[str, str]:
    """Installed versions of the packages that shape the result, and Python's."""
    out = {"python": platform.python_version()}
    for p in packages:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = "not installed"
    return out


#: detect over a batch of series: returns flags with their ``series`` id set
Detector = Callable[[list[Series]], list[Flag]]


def per_series(fn: Callable[[Series], Iterable[Flag]]) -> Detector:
    """A batch detector from a one-series function (the usual way these libraries are used)."""

    def run(batch: list[Series]) -> list[Flag]:
        out = []
        for s in batch:
            out.extend({**f, "series": s.id} for f in fn(s))
        return out

    return run


def finish(flags: list[Flag], corpus: list[Series], scale: str) -> list[Flag]:
    """Observed values as published and expectations back on the published scale."""
    by_id = {s.id: s for s in corpus}
    for f in flags:
        raw = by_id[f["series"]].raw
        f["observed"] = None if not np.isfinite(raw[f["month"]]) else float(raw[f["month"]])
        if "expected" in f:
            f["expected"] = float(from_scale(f["expected"], scale))
    return flags


def main(
    name: str,
    detect: Detector,
    config: dict,
    packages: Sequence[str],
    extra: Detector | None = None,
    argv: list[str] | None = None,
) -> int:
    """Run an adapter: warm up, time one pass over the corpus, write the flags.

    ``extra`` (untimed), when given, replaces the timed pass's flags with what only the
    grading needs, such as a segmentation re-run at every penalty of the grid; the timed pass
    is the documented default alone.
    """
    ap = argparse.ArgumentParser(description=f"{name} adapter")
    ap.add_argument("corpus", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--scale", choices=("raw", "log"), default="raw")
    ap.add_argument("--warmup", type=int, default=5, help="series run once before timing")
    args = ap.parse_args(argv)
    corpus = read_corpus(args.corpus, args.scale)
    detect(corpus[: args.warmup])
    t0, c0 = time.perf_counter(), cpu_seconds()
    flags = detect(corpus)
    seconds, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    if extra is not None:
        flags = extra(corpus)
    doc = {
        "anchor": name,
        "versions": versions(*packages),
        "config": config,
        "scale": args.scale,
        "series": len(corpus),
        "seconds": seconds,
        "cpu_seconds": cpu,
        "warmup_series": min(args.warmup, len(corpus)),
        "flags": finish(flags, corpus, args.scale),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc))
    print(f"{name} ({args.scale}): {len(corpus)} series, {len(flags)} flags, {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit("common.py is imported by the adapters, not run")
