"""The Spark engine: the local engine's scan, partitioned over a cluster (extra ``[spark]``).

Same data path as the local engine, step for step, so the findings are the same:

1. read canonical observations as Parquet (``tradesentry export --parquet DIR`` or any data
   lake path with the canonical columns), take the current view (latest release of each
   figure) when release columns are there;
2. add the context columns detectors ask for with the very SQL of ``tradesentry.context``
   (a few DuckDB functions rewritten into Spark's names);
3. gather each series into one row of lists (``groupBy`` the series key), partition by
   ``GROUP_KEY`` (so series compared with each other meet), sort within partitions;
4. ``mapInArrow``: cut each partition into chunks of whole groups and run ``scan_frame``,
   the one function both engines call, on the long frame ``series_frame`` rebuilds;
5. findings come back with evidence as JSON text, optionally written as Parquet.

PySpark is imported lazily: without it, ``EngineUnavailable`` names the extra to install.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa

from tradesentry import context
from tradesentry.detectors import Detector
from tradesentry.engines import scan_frame
from tradesentry.engines.local import (
    DEFAULT_CHUNK_SERIES,
    GROUP_KEY,
    ROW_COLUMNS,
    SERIES_ORDER,
    series_filter_sql,
    series_frame,
    whole_group_chunks,
)
from tradesentry.errors import EngineUnavailable, InputError
from tradesentry.findings import EXTRA_COLUMNS, FINDING_COLUMNS, empty_findings, evidence_json
from tradesentry.schema import OBSERVATION_KEY, SERIES_KEY

DEFAULT_MASTER = "local[*]"
INSTALL_HINT = "pip install 'tradesentry[spark]'"
_FLOAT_COLUMNS = ("observed", "expected", "impact", "score")
OUTPUT_COLUMNS: tuple[str, ...] = (*FINDING_COLUMNS, *EXTRA_COLUMNS)
#: defaults for canonical columns a data-lake table may leave out, as ingest fills them
_DEFAULTS: dict[str, tuple[str, str]] = {
    "classification": ("'HS'", "string"),
    "breakdown": ("''", "string"),
    "freq": ("'M'", "string"),
    "currency": ("'USD'", "string"),
    "net_weight_kg": ("CAST(NULL AS DOUBLE)", "double"),
}
_REQUIRED = ("reporter", "partner", "flow", "commodity", "period", "value")


def _pyspark():
    try:
        import pyspark  # noqa: F401
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise EngineUnavailable(
            f"the Spark engine needs PySpark: {INSTALL_HINT} (and Java 17)"
        ) from exc
    return SparkSession


def session(master: str | None = None, app_name: str = "tradesentry"):
    """The active SparkSession, or a new one on ``master`` (default ``local[*]``).

    Local sessions get few shuffle partitions, no UI and quiet logs; the Python workers
    run this interpreter, so they import the same tradesentry.
    """
    spark_session = _pyspark()
    active = spark_session.getActiveSession()
    if active is not None and master is None:
        return active
    master = master or DEFAULT_MASTER
    if master.startswith("local"):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = (
        spark_session.builder.master(master)
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.log.level", "ERROR")
        .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={_quiet_log4j()}")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    if master.startswith("local"):
        builder = builder.config("spark.sql.shuffle.partitions", str(2 * (os.cpu_count() or 2)))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _quiet_log4j() -> str:
    """A log4j2 configuration that keeps Spark's start-up chatter (WARN lines) off stderr."""
    path = Path(tempfile.gettempdir()) / "tradesentry-log4j2.properties"
    if not path.exists():
        path.write_text(
            "rootLogger.level = error\nrootLogger.appenderRef.stderr.ref = console\n"
            "appender.console.type = Console\nappender.console.name = console\n"
            "appender.console.target = SYSTEM_ERR\nappender.console.layout.type = PatternLayout\n"
            "appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n\n"
        )
    return str(path)


def scan(
    store,
    detectors: Sequence[Detector],
    filters: dict | None = None,
    *,
    input: str | os.PathLike | None = None,
    master: str | None = None,
    findings_out: str | os.PathLike | None = None,
    chunk_series: int = DEFAULT_CHUNK_SERIES,
    spark=None,
) -> pd.DataFrame:
    """Findings of the series selected by ``filters``, computed on Spark.

    ``input`` is Parquet with the canonical columns (a directory from ``tradesentry
    export``, or any path Spark reads); without it the store is exported to a temporary
    directory first, which only a local master can read. ``findings_out`` also writes the
    findings there as Parquet.
    """
    if input is None and master is not None and not master.startswith("local"):
        raise _needs_input()  # before starting a session that cannot read our disk anyway
    spark = spark or session(master)
    if input is None:
        if not spark.sparkContext.master.startswith("local"):
            raise _needs_input()
        from tradesentry.export import export_parquet

        with tempfile.TemporaryDirectory(prefix="tradesentry-spark-") as tmp:
            export_parquet(store, Path(tmp) / "export", all_releases=True)
            return _scan(
                spark, str(Path(tmp) / "export"), detectors, filters, findings_out, chunk_series
            )
    return _scan(spark, str(input), detectors, filters, findings_out, chunk_series)


def _needs_input() -> InputError:
    return InputError(
        "a cluster reads its input from shared storage: export the store with "
        "`tradesentry export --parquet DIR --all-releases` and pass --input DIR"
    )


def _scan(spark, path, detectors, filters, findings_out, chunk_series) -> pd.DataFrame:
    spark.conf.set("spark.sql.ansi.enabled", "false")  # x/0 is NULL, as in DuckDB
    current = register_views(spark, path)
    try:
        needs = sorted({need for d in detectors for need in d.needs})
        row_columns = (*ROW_COLUMNS, *context.columns_for(needs))
        rows = source_frame(spark, filters or {}, needs)
        found = findings_frame(gather(rows, row_columns), detectors, row_columns, chunk_series)
        if findings_out is not None:
            found.write.mode("overwrite").parquet(str(findings_out))
            found = spark.read.parquet(str(findings_out))
        return decode(found.toPandas())
    finally:
        current.unpersist()


# -- input: the store's tables as Spark views ---------------------------------------------
def register_views(spark, path: str):
    """Views named as the store's tables, so ``context`` SQL runs on Spark unchanged.

    ``observations`` (with ``release_id``), ``release_order``, ``releases``, ``rates`` and
    ``current_observations`` (the latest release of each figure), which is returned,
    persisted for the scan (the caller unpersists it).
    """
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    base = path.rstrip("/")
    exported = _exists(spark, f"{base}/observations")
    obs_path = f"{base}/observations" if exported else path
    obs = canonical(spark.read.option("basePath", obs_path).parquet(obs_path))
    has_release = "release_id" in obs.columns
    if not has_release:
        obs = obs.withColumn("release_id", F.lit(0))
    if "vintage" not in obs.columns:
        obs = obs.withColumn("vintage", F.col("release_id").cast("long"))
    order = obs.select("release_id", "vintage").distinct()
    order.createOrReplaceTempView("release_order")
    obs.drop("vintage").createOrReplaceTempView("observations")
    releases_path = f"{base}/releases.parquet" if exported else None
    if releases_path and _exists(spark, releases_path):
        spark.read.parquet(releases_path).createOrReplaceTempView("releases")
    else:
        spark.sql(
            "SELECT release_id AS id, CAST(NULL AS DATE) AS published FROM release_order"
        ).createOrReplaceTempView("releases")
    rates_path = f"{base}/rates.parquet" if exported else None
    if rates_path and _exists(spark, rates_path):
        spark.read.parquet(rates_path).createOrReplaceTempView("rates")
    else:
        spark.createDataFrame(
            [], "currency string, period date, per_usd double"
        ).createOrReplaceTempView("rates")
    current = obs if not has_release else _latest(obs)
    # the context SQL reads the current view several times (mirror, references): keep it
    current = current.drop("vintage").persist(StorageLevel.MEMORY_AND_DISK)
    current.createOrReplaceTempView("current_observations")
    return current


def _exists(spark, path: str) -> bool:
    jvm = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    fs = hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    return bool(fs.exists(hpath))


def canonical(frame):
    """Canonical column types, with the defaults ingest gives to columns a table leaves out."""
    from pyspark.sql import functions as F

    missing = [c for c in _REQUIRED if c not in frame.columns]
    if missing:
        raise InputError(f"the input lacks canonical column(s) {', '.join(missing)}")
    for name, (default, typ) in _DEFAULTS.items():
        if name not in frame.columns:
            frame = frame.withColumn(name, F.expr(default).cast(typ))
    if "period_months" not in frame.columns:
        frame = frame.withColumn("period_months", F.when(F.col("freq") == "A", 12).otherwise(1))
    period = F.col("period")
    if dict(frame.dtypes)["period"] == "string":  # YYYY, YYYY-MM or YYYY-MM-01
        period = F.when(F.length(period) == 4, F.to_date(period, "yyyy")).otherwise(
            F.to_date(F.substring(period, 1, 7), "yyyy-MM")
        )
    return (
        frame.withColumn("period", period.cast("date"))
        .withColumn("period_months", F.col("period_months").cast("tinyint"))
        .withColumn("value", F.col("value").cast("double"))
        .withColumn("net_weight_kg", F.col("net_weight_kg").cast("double"))
    )


def _latest(obs):
    """The current view: each figure from the latest release (by vintage) that reports it."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    window = Window.partitionBy(*OBSERVATION_KEY).orderBy(F.col("vintage").desc())
    return (
        obs.withColumn("_recency", F.row_number().over(window))
        .where("_recency = 1")
        .drop("_recency")
    )


# -- the scan ------------------------------------------------------------------------------
def source_frame(spark, filters: dict, needs: Sequence[str]):
    """The current rows of the selected series, with the context columns ``needs`` asks for."""
    where, params = series_filter_sql(filters)
    sql = (
        context.source_sql(where, needs)
        if needs
        else (f"SELECT * FROM current_observations WHERE {where}")
    )
    return spark.sql(spark_dialect(sql), args=params or None)


def spark_dialect(sql: str) -> str:
    """The DuckDB functions ``context`` uses, in Spark SQL's names.

    ``list_contains([..], x)`` → ``x IN (..)``; ``datediff('day', a, b)``
    → ``datediff(b, a)``; ``quantile_cont`` → ``percentile`` (both interpolate);
    ``mad(x)`` (median absolute deviation) → the same computed on the sorted list.
    """
    sql = re.sub(r"list_contains\(\[([^\]]*)\],\s*([\w.]+)\)", r"(\2 IN (\1))", sql)
    sql = re.sub(r"datediff\('day',\s*([^,()]+),\s*([^,()]+)\)", r"datediff(\2, \1)", sql)
    sql = re.sub(r"\bquantile_cont\(", "percentile(", sql)
    return re.sub(r"\bmad\(([^()]+)\)", lambda m: _mad_sql(m.group(1)), sql)


def _array_median(array: str) -> str:
    s = f"array_sort({array})"
    lower, upper = f"CAST((size({s}) + 1) div 2 AS INT)", f"CAST(size({s}) div 2 + 1 AS INT)"
    return f"((element_at({s}, {lower}) + element_at({s}, {upper})) / 2)"


def _mad_sql(column: str) -> str:
    values = f"collect_list({column})"
    return _array_median(f"transform({values}, v -> abs(v - {_array_median(values)}))")


def gather(rows, row_columns: Sequence[str]):
    """One row per series (its key, currency and cells), partitioned and sorted as local."""
    from pyspark.sql import functions as F

    cells = F.collect_list(F.struct(*[F.col(c) for c in row_columns])).alias("cells")
    currency = F.min_by("currency", F.struct("period", "period_months")).alias("currency")
    return (
        rows.groupBy(*SERIES_KEY)
        .agg(currency, cells)
        .repartition(*GROUP_KEY)
        .sortWithinPartitions(*SERIES_ORDER)
    )


def findings_frame(series, detectors, row_columns, chunk_series: int):
    """mapInArrow over the gathered series: whole-group chunks → scan_frame → findings."""
    schema = ", ".join(
        f"{c} {'double' if c in _FLOAT_COLUMNS else 'string'}" for c in OUTPUT_COLUMNS
    )
    arrow_schema = pa.schema(
        [(c, pa.float64() if c in _FLOAT_COLUMNS else pa.string()) for c in OUTPUT_COLUMNS]
    )
    detectors, row_columns = list(detectors), tuple(row_columns)

    def scan_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        unnested = (unnest_cells(b, row_columns) for b in batches)
        for table in whole_group_chunks(unnested, chunk_series):
            found = scan_frame(series_frame(table, row_columns), detectors)
            if len(found):
                yield pa.RecordBatch.from_pandas(
                    encode(found), schema=arrow_schema, preserve_index=False
                )

    return series.mapInArrow(scan_partition, schema)


def unnest_cells(batch: pa.RecordBatch, row_columns: Sequence[str]) -> pa.RecordBatch:
    """list<struct<cells>> → one list column per cell field (the local engine's shape).

    Spark's ``collect_list`` skips NULLs, so cells travel as structs (never NULL) and are
    split here into aligned lists.
    """
    cells = batch.column(batch.schema.get_field_index("cells"))
    structs = cells.values
    offsets = cells.offsets
    arrays = [batch.column(i) for i, n in enumerate(batch.schema.names) if n != "cells"]
    names = [n for n in batch.schema.names if n != "cells"]
    for name in row_columns:
        arrays.append(pa.ListArray.from_arrays(offsets, structs.field(name)))
        names.append(name)
    return pa.RecordBatch.from_arrays(arrays, names=names)


def encode(found: pd.DataFrame) -> pd.DataFrame:
    """Findings with evidence as JSON text and every column in the output schema's type."""
    out = found[list(OUTPUT_COLUMNS)].copy()
    out["evidence"] = out["evidence"].map(evidence_json)
    for column in _FLOAT_COLUMNS:
        out[column] = pd.to_numeric(out[column], errors="coerce").astype(float)
    for column in OUTPUT_COLUMNS:
        if column not in _FLOAT_COLUMNS:
            out[column] = out[column].map(lambda v: None if v is None else str(v))
    return out


def decode(frame: pd.DataFrame) -> pd.DataFrame:
    """The collected findings in the local engine's shape (evidence back to dicts)."""
    if frame.empty:
        return empty_findings()
    frame = frame[list(OUTPUT_COLUMNS)].copy()
    frame["evidence"] = frame["evidence"].map(lambda s: json.loads(s) if s else {})
    return frame.reset_index(drop=True)
