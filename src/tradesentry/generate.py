"""Comtrade-like trade data of any size, with injected anomalies and their ground truth.

The scale tests and benchmarks need data far larger than any real file we can ship, with
the shape of real customs data: reporters × partners × flows × HS6 codes × months, sizes
spread over many orders of magnitude (log-normal), trends, seasonality, intermittent small
series with missing months and reported zeros, and a known share of anomalies injected at
known places. ``generate`` writes it chunk by chunk, so memory is bounded by the chunk and
not by ``rows``.

Determinism: series come in blocks of ``BLOCK_SERIES``, each drawn from its own random
stream (the seed and the block number), so the same seed gives the same rows whatever the
chunk size. Series keys are distinct by construction (an affine bijection of the series
number onto the key space).

Layout of the output directory::

    manifest.json                   parameters and counts
    observations.csv                --format csv: canonical CSV, `tradesentry ingest` reads it
    observations/part-00000.parquet --format parquet: the same columns, one file per chunk
    ground_truth.csv|.parquet       one row per injected anomaly

``load_generated`` puts generated Parquet into a store as one release without the
line-by-line CSV ingest: a benchmark fixture for data that is canonical by construction
(it still checks the rows and refuses any that ingest would quarantine).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from tradesentry.arguments import month
from tradesentry.errors import InputError
from tradesentry.ingest.source import escape_glob
from tradesentry.schema import CANONICAL_CSV_COLUMNS, FLOWS
from tradesentry.store import NEXT_RELEASE_ID

BLOCK_SERIES = 1000  # series per random stream: part of the determinism contract
DEFAULT_CHUNK_ROWS = 1_000_000
DEFAULT_MONTHS = 50
DEFAULT_START = "2019-01"
DEFAULT_ANOMALY_RATE = 0.02
ANOMALY_KINDS: tuple[str, ...] = ("implausible", "spike", "dip", "timing_shift", "level_shift")
GROUND_TRUTH_COLUMNS: tuple[str, ...] = (
    "reporter",
    "partner",
    "flow",
    "classification",
    "commodity",
    "kind",
    "period",
    "period_end",
    "size",
)
_FLOWS = FLOWS[:2]  # import, export: re-imports and re-exports are rare enough to leave out
_AFFINE_STEP = 1_000_003  # a prime: coprime with the key space, so series → key is a bijection
_INTERMITTENT_SHARE = 0.3
_LATE_START_SHARE = 0.1


@dataclass(frozen=True)
class Generated:
    """What ``generate`` wrote: where, how much, and with which parameters."""

    out: str
    format: str
    rows: int
    series: int
    anomalies: int
    seed: int
    months: int
    start: str
    files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class _Block:
    """One block of series: observation rows (Arrow) and ground truth (pandas)."""

    rows: pa.Table
    truth: pd.DataFrame
    series: int
    # of each row, its series' number in the block and its month on the axis: a series
    # with no reported month has no row, so numbering rows by key changes would not match
    # the truth's series numbers
    row_series: np.ndarray
    row_month: np.ndarray


# -- the key space ---------------------------------------------------------------------
@cache
def _countries() -> tuple[str, ...]:
    """ISO 3166 alpha-3 codes from pycountry (a maintained list), sorted for determinism."""
    import pycountry

    return tuple(sorted(c.alpha_3 for c in pycountry.countries))


@cache
def _hs6_codes() -> tuple[str, ...]:
    """Plausible HS6 codes: chapters 01–97 (77 is reserved) × 6 headings × 9 subheadings."""
    chapters = [c for c in range(1, 98) if c != 77]
    return tuple(
        f"{c:02d}{h:02d}{s:02d}" for c in chapters for h in range(1, 7) for s in range(10, 100, 10)
    )


def key_space() -> int:
    """How many distinct series the generator can make (reporter ≠ partner)."""
    n = len(_countries())
    return n * (n - 1) * len(_FLOWS) * len(_hs6_codes())


def _series_keys(first: int, count: int) -> dict[str, np.ndarray]:
    """Indices of reporter, partner, flow and commodity for series first..first+count-1."""
    n_countries, n_hs = len(_countries()), len(_hs6_codes())
    k = (np.arange(first, first + count, dtype=np.int64) * _AFFINE_STEP) % key_space()
    k, hs = np.divmod(k, n_hs)
    k, flow = np.divmod(k, len(_FLOWS))
    reporter, partner = np.divmod(k, n_countries - 1)
    partner = partner + (partner >= reporter)  # skip the reporter itself
    return {"reporter": reporter, "partner": partner, "flow": flow, "commodity": hs}


# -- one block of series -----------------------------------------------------------------
def _block(block_no: int, months: int, start: np.datetime64, seed: int, rate: float) -> _Block:
    """Draw BLOCK_SERIES series from the block's own random stream."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(block_no,)))
    n = BLOCK_SERIES
    shape = _shape_params(rng, n)
    clean = _values(rng, shape, months, start)
    reported = _reported(rng, shape, months)
    values, truth = _inject(rng, shape, clean, rate)
    price = np.exp(rng.normal(1.5, 1.2, n))[:, None] * np.exp(rng.normal(0, 0.1, (n, months)))
    weights = np.where(truth["weight_follows"], values, clean) / price
    zeros = shape["intermittent"][:, None] & (rng.random((n, months)) < 0.1)
    values, weights = np.where(zeros, 0.0, values), np.where(zeros, 0.0, weights)
    keys = _series_keys(block_no * n, n)
    series, month = np.nonzero(reported)  # series by series, month by month
    rows = _rows_table(keys, series, month, np.round(values), np.round(weights), start)
    return _Block(rows, _truth_frame(truth, keys, start), n, series, month)


def _shape_params(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Per-series size, trend, season, noise; a share of small intermittent series."""
    intermittent = rng.random(n) < _INTERMITTENT_SHARE
    return {
        "intermittent": intermittent,
        "log_level": np.where(intermittent, rng.normal(8, 1.5, n), rng.normal(13, 2.0, n)),
        "slope": np.where(intermittent, 0.0, rng.normal(0, 0.004, n)),
        "amplitude": rng.uniform(0, 0.35, n),
        "phase": rng.uniform(0, 2 * np.pi, n),
        "sigma": np.where(intermittent, 0.6, rng.uniform(0.05, 0.25, n)),
        "fill": rng.uniform(0.3, 0.9, n),
        "late": np.where(
            ~intermittent & (rng.random(n) < _LATE_START_SHARE), rng.integers(1, 25, n), 0
        ),
    }


def _values(rng: np.random.Generator, shape: dict, months: int, start: np.datetime64) -> np.ndarray:
    """Log-normal level × trend × seasonality × noise, float64 [series, months]."""
    t = np.arange(months)
    month_of_year = (start.astype(int) + t) % 12
    log_v = (
        shape["log_level"][:, None]
        + shape["slope"][:, None] * (t - months / 2)
        + shape["amplitude"][:, None]
        * np.sin(2 * np.pi * month_of_year / 12 + shape["phase"][:, None])
        + shape["sigma"][:, None] * rng.standard_normal((len(shape["sigma"]), months))
    )
    return np.exp(log_v)


def _reported(rng: np.random.Generator, shape: dict, months: int) -> np.ndarray:
    """Which months have a row: all from the series' start, or a random share if intermittent."""
    t = np.arange(months)
    regular = t[None, :] >= shape["late"][:, None]
    sparse = rng.random((len(shape["fill"]), months)) < shape["fill"][:, None]
    return np.where(shape["intermittent"][:, None], sparse, regular)


def _inject(
    rng: np.random.Generator, shape: dict, clean: np.ndarray, rate: float
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Put one anomaly into a share of the complete regular series; return values and truth.

    Anomalies go at month 24 or later (or the middle of short axes) so a detector has
    history to judge them against, and never in the last month (a timing shift needs two).
    """
    n, months = clean.shape
    values = clean.copy()
    eligible = ~shape["intermittent"] & (shape["late"] == 0) & (months >= 4)
    chosen = eligible & (rng.random(n) < rate)
    kind = rng.integers(0, len(ANOMALY_KINDS), n)
    at = rng.integers(min(24, months // 2), max(months - 1, 2), n)
    size = _sizes(rng, kind, shape["sigma"])
    rows = np.flatnonzero(chosen)
    k, t, s = kind[rows], at[rows], size[rows]
    end = np.where(k == 3, t + 1, np.where(k == 4, months - 1, t))
    point = np.isin(k, (0, 1, 2))
    values[rows[point], t[point]] *= s[point]
    shift = k == 3
    moved = values[rows[shift], t[shift]] * s[shift]
    values[rows[shift], t[shift]] -= moved
    values[rows[shift], t[shift] + 1] += moved
    level = np.flatnonzero(k == 4)
    after = np.arange(months)[None, :] >= t[level][:, None]
    values[rows[level]] = np.where(
        after, values[rows[level]] * s[level][:, None], values[rows[level]]
    )
    weight_follows = np.ones_like(values, dtype=bool)
    weight_follows[rows[k == 0], t[k == 0]] = False  # a unit slip changes the value, not the kg
    truth = {"series": rows, "kind": k, "start": t, "end": end, "size": s}
    return values, {**truth, "weight_follows": weight_follows}


def _sizes(rng: np.random.Generator, kind: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """The size of each kind: a factor on the value, or the share moved for a timing shift.

    implausible: near zero (×1e-4 to ×1e-3) or a ×1000 unit slip; spike and dip: 6 to 12
    times the series' noise on the log scale (at least ×3); timing shift: 30–90 % of the
    month moved to the next; level shift: ×0.05–0.3 or ×3–5 from its start.
    """
    n = len(kind)
    slip = np.where(rng.random(n) < 0.5, rng.uniform(1e-4, 1e-3, n), 1000.0)
    jump = np.maximum(np.exp(rng.uniform(6, 12, n) * sigma), 3.0)
    level = np.where(rng.random(n) < 0.5, rng.uniform(0.05, 0.3, n), rng.uniform(3, 5, n))
    moved = rng.uniform(0.3, 0.9, n)
    return np.choose(kind, [slip, jump, 1 / jump, moved, level])


def _rows_table(
    keys: dict[str, np.ndarray],
    series: np.ndarray,
    month: np.ndarray,
    values: np.ndarray,
    weights: np.ndarray,
    start: np.datetime64,
) -> pa.Table:
    """The reported cells (``series``, ``month``) as canonical observation rows."""
    n = len(series)
    period = (start + month.astype("timedelta64[M]")).astype("datetime64[D]")

    def coded(index: np.ndarray, codes: tuple[str, ...]) -> pa.DictionaryArray:
        return pa.DictionaryArray.from_arrays(
            pa.array(index[series].astype(np.int32)), pa.array(codes)
        )

    def constant(text: str) -> pa.DictionaryArray:
        return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), pa.array([text]))

    columns = {
        "reporter": coded(keys["reporter"], _countries()),
        "partner": coded(keys["partner"], _countries()),
        "flow": coded(keys["flow"], _FLOWS),
        "classification": constant("HS"),
        "commodity": coded(keys["commodity"], _hs6_codes()),
        "period": pa.array(period, pa.date32()),
        "period_months": pa.array(np.ones(n, np.int8)),
        "freq": constant("M"),
        "value": pa.array(values[series, month]),
        "currency": constant("USD"),
        "cif_value": pa.nulls(n, pa.float64()),
        "fob_value": pa.nulls(n, pa.float64()),
        "net_weight_kg": pa.array(weights[series, month]),
        "quantity": pa.nulls(n, pa.float64()),
        "quantity_unit": pa.nulls(n, pa.string()),
        "flags": pa.nulls(n, pa.string()),
    }
    return pa.table({name: columns[name] for name in CANONICAL_CSV_COLUMNS})


def _truth_frame(truth: dict, keys: dict[str, np.ndarray], start: np.datetime64) -> pd.DataFrame:
    rows = truth["series"]

    def label(t: np.ndarray) -> np.ndarray:
        return np.datetime_as_string(start + t.astype("timedelta64[M]"), unit="M")

    return pd.DataFrame(
        {
            "series": rows,
            "reporter": np.asarray(_countries())[keys["reporter"][rows]],
            "partner": np.asarray(_countries())[keys["partner"][rows]],
            "flow": np.asarray(_FLOWS)[keys["flow"][rows]],
            "classification": "HS",
            "commodity": np.asarray(_hs6_codes())[keys["commodity"][rows]],
            "kind": np.asarray(ANOMALY_KINDS)[truth["kind"]],
            "at": truth["start"],
            "period": label(truth["start"]),
            "period_end": label(truth["end"]),
            "size": truth["size"],
        }
    )


# -- the stream of blocks, cut to the size asked for -------------------------------------
def iter_blocks(
    *,
    rows: int | None = None,
    series: int | None = None,
    months: int = DEFAULT_MONTHS,
    start: str = DEFAULT_START,
    seed: int = 0,
    anomaly_rate: float = DEFAULT_ANOMALY_RATE,
) -> Iterator[tuple[pa.Table, pd.DataFrame]]:
    """Observation rows and ground truth, block by block, until ``rows`` or ``series``.

    With ``rows`` the output has exactly that many rows (the last series may keep only its
    latest months, as a series that starts late: ``_cut``); with ``series``, that many
    series. The ground truth lists every anomaly the rows hold, and only those.
    """
    start = _check(rows, series, months, start, seed, anomaly_rate)
    first = np.datetime64(start, "M")
    rows_left = rows if rows is not None else np.iinfo(np.int64).max
    series_left = series if series is not None else np.iinfo(np.int64).max
    block_no = 0
    while rows_left > 0 and series_left > 0:
        block = _block(block_no, months, first, seed, anomaly_rate)
        present = np.unique(block.row_series)  # an intermittent series may have no row
        table, truth = _cut(block, present, series_left, rows_left)
        rows_left -= table.num_rows
        series_left -= len(present)
        block_no += 1
        yield table, truth.drop(columns=["series", "at"])


def _check(
    rows: int | None, series: int | None, months: int, start: str, seed: int, anomaly_rate: float
) -> str:
    """Every argument of the stream checked, in one line naming it; the first month as YYYY-MM."""
    _check_size(rows, series, months)
    if not isinstance(start, str):
        raise InputError(f"--start {start!r}: expected a month as YYYY-MM")
    start = month(start.strip(), "--start")
    if np.datetime64(start, "M") < np.datetime64("1900-01", "M"):
        # the ingest's readers hold the years 1900 to 2200 and refuse any other period
        raise InputError(
            f"--start {np.datetime64(start, 'M')}: before 1900-01, which the ingest refuses "
            "as an impossible period; start in 1900-01 or later"
        )
    if np.datetime64(start, "M").astype(int) + months > np.datetime64("9999-12", "M").astype(int):
        raise InputError(f"--start {start} --months {months:,}: the axis would pass 9999-12")
    # ingest quarantines a month that has not begun (it holds no trade yet): data reaching
    # past this month were written whole and then lost their last months at the ingest
    last = np.datetime64(start, "M") + np.timedelta64(months - 1, "M")
    this_month = np.datetime64(date.today(), "M")
    if last > this_month:
        raise InputError(
            f"--start {start} --months {months:,}: the last month would be {last}, which has "
            f"not begun (this month is {this_month}); start earlier or give fewer months"
        )
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError(f"--seed {seed!r}: expected a whole number, 0 or more")
    if not 0.0 <= anomaly_rate <= 1.0:
        raise InputError(f"--anomaly-rate {anomaly_rate!r}: expected a share from 0 to 1")
    return start


def _check_size(rows: int | None, series: int | None, months: int) -> None:
    if (rows is None) == (series is None):
        raise InputError("give the size as exactly one of --rows or --series")
    if (rows is not None and rows < 1) or (series is not None and series < 1) or months < 1:
        raise InputError("--rows, --series and --months must be positive")
    if series is not None and series > key_space():
        raise InputError(f"--series {series:,}: at most {key_space():,} distinct series")
    if rows is not None and rows > key_space() * months:
        raise InputError(f"--rows {rows:,}: at most {key_space() * months:,} with these months")


def _cut(
    block: _Block, present: np.ndarray, series: int, rows: int
) -> tuple[pa.Table, pd.DataFrame]:
    """The block's first ``series`` series of those ``present`` (with a row), then at most
    ``rows`` of their rows, and the ground truth of what is kept (rows are in series order,
    each series' months in order).

    Where ``rows`` ends inside a series, that series keeps its latest months, not its
    first: cut at the end, it read as a series that stopped reporting while its reporter's
    record went on, and the scan flagged the cut as a high gap with the money of the missing
    months, which no ground truth lists. Its latest months read as a series that starts
    late, as a share of the generated series do, and the output keeps exactly ``rows``.
    Its anomaly stays in the ground truth if the months kept hold it (a level shift from a
    month after the first one kept: from that month on it is no shift, only a level).
    """
    limit = present[series] if series < len(present) else block.series
    kept = int(np.searchsorted(block.row_series, limit))  # the rows of those series
    truth = block.truth[block.truth["series"] < limit]
    if rows >= kept:
        return block.rows.slice(0, kept), truth
    cut = int(block.row_series[rows])  # the first series not kept whole
    head = int(np.searchsorted(block.row_series, cut))  # the rows before it
    tail = rows - head  # the latest months of it that fit
    end = int(np.searchsorted(block.row_series, cut, side="right"))
    table = pa.concat_tables([block.rows.slice(0, head), block.rows.slice(end - tail, tail)])
    written = truth["series"] < cut
    if tail:  # the anomaly of the series cut, where the months kept hold it
        first = block.row_month[end - tail]
        held = truth["at"] >= first + (truth["kind"] == "level_shift")
        written |= (truth["series"] == cut) & held
    return table, truth[written]


def _series_of_rows(table: pa.Table) -> np.ndarray:
    """Series number (within the block) of each row: a new series wherever the key changes."""
    changed = np.zeros(table.num_rows, dtype=bool)
    for name in ("reporter", "partner", "flow", "commodity"):
        codes = table.column(name).combine_chunks().indices.to_numpy()
        changed[1:] |= codes[1:] != codes[:-1]
    return np.cumsum(changed)


# -- writing -----------------------------------------------------------------------------
def generate(
    out: str | Path,
    *,
    rows: int | None = None,
    series: int | None = None,
    format: str = "parquet",
    seed: int = 0,
    months: int = DEFAULT_MONTHS,
    start: str = DEFAULT_START,
    anomaly_rate: float = DEFAULT_ANOMALY_RATE,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> Generated:
    """Write generated observations and their ground truth into directory ``out``.

    Memory is bounded by ``chunk_rows`` (one chunk of blocks is held at a time), not by
    ``rows``. The directory must be new or empty. Every argument is checked before anything
    is written; a run that fails all the same removes what it made. The ``months`` from
    ``start`` (1900-01 or later) must end by this month: ingest quarantines a month that has
    not begun.
    """
    if format not in ("parquet", "csv"):
        raise InputError(f"--format {format!r}: choose parquet or csv")
    start = _check(rows, series, months, start, seed, anomaly_rate)
    out = Path(out)
    made = _empty_dir(out)
    try:
        return _write(out, rows, series, format, seed, months, start, anomaly_rate, chunk_rows)
    except BaseException:
        _remove_made(out, made, format)
        raise


def _write(
    out: Path,
    rows: int | None,
    series: int | None,
    format: str,
    seed: int,
    months: int,
    start: str,
    anomaly_rate: float,
    chunk_rows: int,
) -> Generated:
    writer = _CsvWriter(out) if format == "csv" else _ParquetWriter(out)
    truth_writer = _TruthWriter(out / f"ground_truth.{format}", format)
    pending: list[pa.Table] = []
    written = series_done = anomalies = 0
    stream = iter_blocks(
        rows=rows, series=series, months=months, start=start, seed=seed, anomaly_rate=anomaly_rate
    )
    for table, truth in stream:
        pending.append(table)
        truth_writer.write(truth)
        anomalies += len(truth)
        series_done += len(np.unique(_series_of_rows(table))) if table.num_rows else 0
        if sum(t.num_rows for t in pending) >= chunk_rows:
            written += writer.write(pa.concat_tables(pending))
            pending = []
    if pending:
        written += writer.write(pa.concat_tables(pending))
    writer.close()
    truth_writer.close()
    result = Generated(
        str(out), format, written, series_done, anomalies, seed, months, start, writer.files
    )
    manifest = {**result.to_dict(), "anomaly_rate": anomaly_rate, "created": _now()}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return result


def _empty_dir(out: Path) -> list[Path]:
    """Make ``out`` (new, or empty); the folders made for it, ``out`` first, then its parents."""
    if out.exists() and any(out.iterdir()):
        raise InputError(f"{out}: the directory is not empty; give a new one")
    made = [p for p in (out, *out.parents) if not p.exists()]
    out.mkdir(parents=True, exist_ok=True)
    return made


def _remove_made(out: Path, made: list[Path], format: str) -> None:
    """Remove what a failed ``generate`` wrote into ``out``, and the folders it made.

    Only the files it writes, by name (the directory was empty before), then each folder
    it made while it is empty: whatever else appeared there meanwhile is left alone.
    """
    for name in ("observations", "observations.csv", f"ground_truth.{format}", "manifest.json"):
        path = out / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    for folder in made:
        try:
            folder.rmdir()
        except OSError:
            return


def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")


class _ParquetWriter:
    """One Parquet file per chunk under observations/, so readers can split the work."""

    def __init__(self, out: Path):
        self.dir = out / "observations"
        self.dir.mkdir()
        self.files: list[str] = []

    def write(self, table: pa.Table) -> int:
        name = f"part-{len(self.files):05d}.parquet"
        pq.write_table(table, self.dir / name, compression="zstd")
        self.files.append(f"observations/{name}")
        return table.num_rows

    def close(self) -> None:
        pass


class _CsvWriter:
    """One canonical CSV (one release when ingested), appended chunk by chunk."""

    def __init__(self, out: Path):
        self.path = out / "observations.csv"
        self.writer: pacsv.CSVWriter | None = None
        self.files = ["observations.csv"]

    def write(self, table: pa.Table) -> int:
        plain = _plain_text(table)
        if self.writer is None:
            options = pacsv.WriteOptions(quoting_style="none")
            self.writer = pacsv.CSVWriter(self.path, plain.schema, write_options=options)
        self.writer.write_table(plain)
        return table.num_rows

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _plain_text(table: pa.Table) -> pa.Table:
    """Dictionary columns as text and periods as YYYY-MM, as the canonical CSV has them."""
    columns = []
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_dictionary(column.type):
            column = column.cast(pa.string())
        elif name == "period":
            column = pc.strftime(column.cast(pa.timestamp("s")), format="%Y-%m")
        columns.append(column)
    return pa.table(dict(zip(table.column_names, columns, strict=True)))


class _TruthWriter:
    """Ground truth appended as it is made (small: one row per injected anomaly)."""

    def __init__(self, path: Path, format: str):
        self.path, self.format = path, format
        self.parts: list[pd.DataFrame] = []

    def write(self, truth: pd.DataFrame) -> None:
        if len(truth):
            self.parts.append(truth[list(GROUND_TRUTH_COLUMNS)])

    def close(self) -> None:
        columns = list(GROUND_TRUTH_COLUMNS)
        frame = (
            pd.concat(self.parts, ignore_index=True)
            if self.parts
            else pd.DataFrame(
                {c: pd.Series(dtype=float if c == "size" else object) for c in columns}
            )
        )
        if self.format == "csv":
            frame.to_csv(self.path, index=False)
        else:
            frame.to_parquet(self.path, index=False)


def read_ground_truth(out: str | Path) -> pd.DataFrame:
    """The ground truth of a generated directory, whichever format it was written in."""
    out = Path(out)
    if (out / "ground_truth.parquet").exists():
        return pd.read_parquet(out / "ground_truth.parquet")
    return pd.read_csv(out / "ground_truth.csv", dtype={"commodity": str})


# -- benchmark fixture: generated Parquet into a store ------------------------------------
_FIXTURE_CHECK = """
    SELECT count(*) FILTER (WHERE reporter IS NULL OR partner IS NULL OR commodity IS NULL
                              OR flow NOT IN ({flows}) OR period IS NULL
                              OR freq NOT IN ('M', 'A') OR period_months NOT BETWEEN 1 AND 12
                              OR NOT isfinite(value) OR value < 0 OR net_weight_kg < 0
                              OR nullif(currency, '') IS NULL) AS bad
    FROM staged_fixture
"""


def load_generated(store, path: str | Path):
    """Load generated Parquet into ``store`` as one release (a benchmark fixture).

    Why not ``ingest``: the canonical CSV path reads every line as text for the quarantine,
    which at 5×10^7 rows costs far more than the scan being measured. Generated data is
    canonical by construction, so this loads it with one INSERT … SELECT from read_parquet
    inside a transaction, after checking in SQL what ingest would quarantine (bad flows,
    periods, negative or non-finite values) and refusing the load if any row fails; keys
    are distinct by construction, so the costly duplicate check is left out. The release
    is recorded like any other (source ``generated``, the sha256 of the manifest), and
    loading the same directory twice is a no-op. Lines are numbered as in the CSV twin.
    """
    from tradesentry.store import IngestResult

    path = Path(path)
    manifest = path / "manifest.json"
    # the directory is taken literally (a "gen[1]" must not glob "gen1"), the parts globbed
    files = escape_glob(str((path / "observations").resolve())) + "/*.parquet"
    if not manifest.exists() or not (path / "observations").is_dir():
        raise InputError(
            f"{path}: not a directory written by `tradesentry generate --format parquet`"
        )
    sha = hashlib.sha256(manifest.read_bytes()).hexdigest()
    con = store.con.cursor()
    con.execute("BEGIN TRANSACTION")
    try:
        existing = con.execute(
            "SELECT id, rows_read FROM releases WHERE sha256 = ?", [sha]
        ).fetchone()
        if existing:
            con.execute("ROLLBACK")
            rid, n = existing
            return IngestResult(rid, path.name, "generated", sha, n, n, 0, n, already_ingested=True)
        release_id, n = _insert_fixture(con, str(files), path.name, sha)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.close()
    return IngestResult(release_id, path.name, "generated", sha, n, n, 0, n)


def _insert_fixture(con, files: str, name: str, sha: str) -> tuple[int, int]:
    literal = "'" + files.replace("'", "''") + "'"
    con.execute(
        "CREATE OR REPLACE TEMP VIEW staged_fixture AS "
        f"SELECT *, row_number() OVER () + 1 AS line FROM read_parquet({literal})"
    )
    flows = ", ".join(f"'{f}'" for f in FLOWS)
    (bad,) = con.execute(_FIXTURE_CHECK.format(flows=flows)).fetchone()
    if bad:
        raise InputError(
            f"{name}: {bad} rows that ingest would quarantine; not generated data? "
            "use `tradesentry ingest` on the CSV instead"
        )
    release_id = con.execute(
        "INSERT INTO releases (id, source, file, sha256, ingested_at) "
        f"VALUES ({NEXT_RELEASE_ID}, 'generated', ?, ?, ?) RETURNING id",
        [name, sha, datetime.now()],
    ).fetchone()[0]
    con.execute(
        "INSERT INTO observations BY NAME SELECT ? AS release_id, line, reporter, partner, flow, "
        "classification, commodity, '' AS breakdown, period, freq, period_months, value, "
        "currency, cif_value, fob_value, net_weight_kg, quantity, quantity_unit, flags, "
        "NULL AS provenance FROM staged_fixture",
        [release_id],
    )
    n = con.execute("SELECT count(*) FROM observations WHERE release_id = ?", [release_id])
    n = n.fetchone()[0]
    con.execute(
        "UPDATE releases SET rows_read = ?, rows_accepted = ?, rows_quarantined = 0, "
        "observations = ? WHERE id = ?",
        [n, n, n, release_id],
    )
    con.execute("DROP VIEW staged_fixture")
    return release_id, n
