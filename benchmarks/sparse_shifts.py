"""Level shifts injected into sparse real series: the UN Comtrade critical-mineral HS6 lines
that report under half the months of their span (China's exports by destination).

Each replicate injects one ×10 or ×0.1 level shift into 75 % of the lines and leaves the
rest untouched, drawn, found and scored as ``accuracy.py`` does its sources
(``accuracy.run_source``, fixed seeds). Printed: events, recall, level-shift precision (findings the
untouched line already had at the same months set apart, as in ``accuracy.py``), and
findings on the untouched lines per 100 reported series-years.

    python benchmarks/sparse_shifts.py                  # 8 replicates, a few seconds
"""

from __future__ import annotations

import argparse

import accuracy
import numpy as np

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


def measure(replicates: int = 8, seed: int = 0) -> dict:
    """The lines' events and findings through ``accuracy.run_source`` (the accuracy
    benchmark's own drawing, detection and scoring), level shifts only."""
    values, start, keys = sparse_lines()
    truth, found, untouched, years = accuracy.run_source(
        "comtrade", values, start, keys, replicates, seed, injections=("level_shift",), sizes=SIZES
    )
    truth, found = accuracy.score([truth], [found])
    shifts = found[found["kind"] == "level_shift"]
    return {
        "lines": len(values),
        "events": len(truth),
        "recall": float(truth["found"].mean()),
        "precision": float(shifts["hit"].mean()) if len(shifts) else float("nan"),
        "untouched_per_100": 100.0 * len(untouched) / years if years else float("nan"),
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
