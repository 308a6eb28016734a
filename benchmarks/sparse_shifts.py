"""Level shifts injected into sparse real series: the UN Comtrade critical-mineral HS6 lines
that report under half the months of their span (China's exports by destination).

Each replicate injects one ×10 or ×0.1 level shift into 75 % of the lines (``random_plan``,
level shifts only, fixed seeds) and leaves the rest untouched; the scan's own path finds
them (``accuracy.detect``). Printed: events, recall, level-shift precision (findings the
untouched line already had at the same months set apart, as in ``accuracy.py``), and
findings on the untouched lines per 100 reported series-years.

    python benchmarks/sparse_shifts.py                  # 8 replicates, about 10 s
"""

from __future__ import annotations

import argparse

import accuracy
import numpy as np
import pandas as pd

from tradesentry.datasets import inject_plan, random_plan
from tradesentry.scoring import match

SIZES = {"level_shift": (0.1, 10.0)}


def sparse_lines(max_share: float = 0.5):
    """The critical-mineral lines with a positive figure in under ``max_share`` of the
    months from their first to their last (and at least 12 such months)."""
    _, values, start, keys = accuracy.load_comtrade(min_months=12)
    traded = np.isfinite(values) & (values > 0)
    first = traded.argmax(axis=1)
    last = values.shape[1] - 1 - traded[:, ::-1].argmax(axis=1)
    keep = traded.sum(axis=1) < max_share * (last - first + 1)
    return values[keep], start, keys[keep].reset_index(drop=True)


def measure(replicates: int = 8, seed: int = 100) -> dict:
    values, start, keys = sparse_lines()
    clean = accuracy.detect(values, start, keys)
    truths, founds, untouched_found, years = [], [], 0, 0.0
    for rep in range(replicates):
        plan = random_plan(values, seed=seed + rep, injections=("level_shift",), sizes=SIZES)
        injected, truth = inject_plan(values, plan)
        found = accuracy.detect(injected, start, keys)
        untouched = np.setdiff1d(np.arange(len(values)), plan["series"].to_numpy())
        untouched_found += int(found["series"].isin(untouched).sum())
        years += np.isfinite(injected[untouched]).sum() / 12.0
        found["pre_existing"] = accuracy._pre_existing(found, clean)
        truth["series"] += rep * 10**6
        found["series"] += rep * 10**6
        truth["source"] = found["source"] = "sparse"
        truth["noise"] = np.nan
        truths.append(truth)
        founds.append(found)
    truth, found = match(pd.concat(truths, ignore_index=True), pd.concat(founds, ignore_index=True))
    found = found[~(found["pre_existing"] & ~found["hit"])]
    shifts = found[found["kind"] == "level_shift"]
    return {
        "lines": len(values),
        "events": len(truth),
        "recall": float(truth["found"].mean()),
        "precision": float(shifts["hit"].mean()) if len(shifts) else float("nan"),
        "untouched_per_100": 100.0 * untouched_found / years if years else float("nan"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=8)
    args = parser.parse_args(argv)
    accuracy.require_data(accuracy.DATA)
    r = measure(args.replicates)
    print("| lines | events | recall | level-shift precision | untouched per 100 series-years |")
    print("|---:|---:|---:|---:|---:|")
    print(
        f"| {r['lines']} | {r['events']} | {r['recall']:.2f} | {r['precision']:.2f} "
        f"| {r['untouched_per_100']:.1f} |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
