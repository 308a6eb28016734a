"""The Spark engine: the local engine's scan, partitioned over a cluster (extra ``[spark]``).

Same data path as the local engine, step for step, so the findings are the same:

1. read canonical observations as Parquet (``tradesentry export --parquet DIR`` or any data
   lake path with the canonical columns; every path literally, never as a glob pattern),
   normalise and check them as the ingest would (country codes as the store keeps them,
   flows, commodities, periods, frequencies, period_months, figures and currencies it
   accepts, one row per observation key), take the current view (latest release of each
   figure) when release columns are there;
2. add the context columns detectors ask for with the very SQL of ``tradesentry.context``
   (a few DuckDB functions rewritten into Spark's names);
3. gather each series into one row of lists (``groupBy`` the series key), partition by
   ``GROUP_KEY`` (so series compared with each other meet), sort within partitions;
4. ``mapInArrow``: cut each partition into chunks of whole groups and run ``scan_frame``,
   the one function both engines call, on the long frame ``series_frame`` rebuilds;
5. findings come back with evidence as JSON text, optionally written as Parquet (only into
   a new or empty directory: an existing one is never overwritten).

PySpark is imported lazily: without it, ``EngineUnavailable`` names the extra to install.
Spark's own errors about the input (no such path, no Parquet there, a column of a type it
cannot read) become ``InputError`` here, at the engine's boundary, in one line.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import signal
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

import pandas as pd
import pyarrow as pa

from tradesentry import context, countries, currencies
from tradesentry.detectors import Detector
from tradesentry.engines import scan_frame
from tradesentry.engines.local import (
    DEFAULT_CHUNK_SERIES,
    GROUP_KEY_SQL,
    ROW_COLUMNS,
    SERIES_ORDER_SQL,
    series_filter_sql,
    series_frame,
    whole_group_chunks,
)
from tradesentry.errors import EngineUnavailable, InputError
from tradesentry.findings import EXTRA_COLUMNS, FINDING_COLUMNS, empty_findings, evidence_json
from tradesentry.ingest.validate import SPREADSHEET_ERROR, SPREADSHEET_FLOAT
from tradesentry.schema import FLOW_SPELLINGS, FLOWS, OBSERVATION_KEY, SERIES_KEY

DEFAULT_MASTER = "local[*]"
INSTALL_HINT = "pip install 'tradesentry[spark]'"
_FLOAT_COLUMNS = ("observed", "expected", "impact", "score")
OUTPUT_COLUMNS: tuple[str, ...] = (*FINDING_COLUMNS, *EXTRA_COLUMNS)
#: defaults for canonical columns a data-lake table may leave out, as ingest fills them
#: (``classification``, ``freq`` and ``period_months`` depend on other columns, and
#: ``currency``, USD when left out, is never filled in a row: see ``canonical``)
_DEFAULTS: dict[str, tuple[str, str]] = {
    "breakdown": ("''", "string"),
    "net_weight_kg": ("CAST(NULL AS DOUBLE)", "double"),
}
_REQUIRED = ("reporter", "partner", "flow", "commodity", "period", "value")
#: the figures ``ingest.validate`` checks, in its order: each a finite number >= 0 if given
_FIGURES = ("value", "cif_value", "fob_value", "net_weight_kg", "quantity")
#: a number as written in text, as the ingest's cast reads one (``ingest.staging.number_sql``)
_NUMBER = r"(?i)^\s*[+-]?(([0-9]+([.][0-9]*)?|[.][0-9]+)(e[+-]?[0-9]+)?|inf|infinity|nan)\s*$"
#: a count Spark takes as threads, task failures, workers, cores or MB: 1 or more
_COUNT = r"0*[1-9][0-9]*"
#: a standalone master's HOST:PORT (an IPv6 host in brackets); Spark checks the host itself
_HOST_PORT = r"(\[[0-9A-Fa-f:.]+\]|[^\s,/:@\[\]]+):([0-9]+)"
#: the masters Spark takes, as its ``SparkMasterRegex`` reads them (any other fails as the
#: context starts, with a Java stack trace): local, with N threads (``*``: every core) and
#: F task failures allowed; local-cluster[workers, cores, MB]; standalone masters (several
#: for high availability); YARN; Kubernetes. Spark 4 has no Mesos (``_mesos``).
_MASTER = re.compile(
    rf"local(\[({_COUNT}|\*)(\s*,\s*{_COUNT})?\])?"
    rf"|local-cluster\[\s*{_COUNT}\s*,\s*{_COUNT}\s*,\s*{_COUNT}\s*\]"
    rf"|spark://{_HOST_PORT}(,{_HOST_PORT})*|yarn|k8s://.+"
)
MASTER_FORMS = (
    "local, local[N], local[*], local[N,F], local[*,F] (N threads, F task failures: 1 or "
    "more), local-cluster[N,C,M], spark://HOST:PORT (several: spark://H1:P1,H2:P2), yarn "
    "or k8s://URL"
)


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

    Local sessions get few shuffle partitions; every session gets no UI, quiet logs and
    UTC as its time zone (a timestamp's date is the same wherever the driver runs). The
    Python workers of a local session run this interpreter, so they import the same
    tradesentry. A master of no form Spark takes is an ``InputError``, and so is one Spark
    does not start on (``_start_failure``: no master answers, say); no Java is an
    ``EngineUnavailable``.
    """
    spark_session = _pyspark()
    active = spark_session.getActiveSession()
    if active is not None and master is None:
        return active
    master = _checked_master(master or DEFAULT_MASTER)
    if active is not None:  # Spark runs one context a process: getOrCreate would return it
        running = active.sparkContext.master
        if running != master:
            raise InputError(
                f"--master {master}: this process already runs Spark on {running}, and Spark "
                "runs one context a process; scan on that master, or stop its session first"
            )
        return active
    if master == "yarn" and not (
        os.environ.get("HADOOP_CONF_DIR") or os.environ.get("YARN_CONF_DIR")
    ):
        raise InputError(  # Spark's own rule, which it states with a Java stack trace
            "--master yarn: Spark finds the cluster through HADOOP_CONF_DIR or YARN_CONF_DIR; "
            "set one of them"
        )
    if master.startswith("local"):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = (
        spark_session.builder.master(master)
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={_quiet_log4j()}")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.session.timeZone", "UTC")
    )
    if master.startswith("local"):
        builder = builder.config("spark.sql.shuffle.partitions", str(2 * (os.cpu_count() or 2)))
        # the driver is the executor: Spark's 1g ran out at 10^6 rows (BytesToBytesMap)
        builder = builder.config("spark.driver.memory", driver_memory())
    from py4j.protocol import Py4JError
    from pyspark import SparkContext

    before = SparkContext._active_spark_context
    try:
        spark = builder.getOrCreate()
    except Py4JError as exc:  # the JVM's own error: the context or the session did not start
        _stop_new_context(before)
        raise _start_failure(master, _java_messages(exc)) from None
    except Exception as exc:
        if _condition(exc) != "JAVA_GATEWAY_EXITED":
            raise
        raise EngineUnavailable(
            f"Spark did not start on master {master!r} (Java's reason, if any, is above): "
            "check that Java 17 is installed (java on the PATH, or JAVA_HOME), then "
            f"--master ({MASTER_FORMS})"
        ) from None
    # A standalone master that never answers: Spark gives up after a minute and stops the
    # context, mostly before the session is made (above), else as it is returned.
    if spark.sparkContext._jsc.sc().isStopped():
        _stop_new_context(before)
        raise _start_failure(master, [_STOPPED[0]])
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def driver_memory() -> str:
    """The JVM heap of a local session: ``TRADESENTRY_SPARK_MEMORY`` ("4g", "512m"), else a
    quarter of the machine's memory, at least 1g and at most 8g (a cluster's memory is the
    cluster's configuration). Spark's own 1g could not grow the hash map of a join at 10^6
    rows, where the local engine needs about 1 GB."""
    wanted = os.environ.get("TRADESENTRY_SPARK_MEMORY", "").strip().lower()
    if wanted:
        if not re.fullmatch(r"\d+[mg]", wanted):
            raise InputError(
                f"TRADESENTRY_SPARK_MEMORY={wanted!r}: expected a size such as 4g or 512m"
            )
        return wanted
    total = _memory_bytes()
    if total is None:
        return "1g"
    return f"{int(min(max(total / 2**30 / 4, 1), 8))}g"


def _memory_bytes() -> int | None:
    """The memory this process may use: the machine's, or its container's where that is
    less (cgroup v2's ``memory.max``: a JVM sized from the host is killed in a container);
    None where the system says neither (``os.sysconf`` is POSIX)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
    except OSError:
        return total
    return min(total, int(limit)) if limit.isdigit() else total


#: Spark's words for a context it stopped while starting (on a standalone master: no master
#: answered in a minute; its scheduler logs the reason at ERROR, which is left on: the same
#: line says why a master kills an application later, in the middle of a scan)
_STOPPED = (
    "Cannot call methods on a stopped SparkContext",
    "Spark context stopped while waiting for backend",
)


def _start_failure(master: str, messages: list[str]) -> InputError:
    """One line for a Spark that did not start on ``master``, with Spark's reason: the
    messages of the Java error and of its root cause (``_java_messages``)."""
    if any(text.startswith(_STOPPED) for text in messages):
        messages = ["Spark stopped as it started"]
        if master.startswith("spark://"):
            messages = ["no master answered (Spark stopped after trying for a minute)"]
    reason = " ".join([messages[0], *(f"({m})" for m in messages[1:])]) if messages else ""
    return InputError(f"cannot start Spark on master {master}: {reason or 'no reason given'}")


def _java_messages(exc: BaseException) -> list[str]:
    """The first lines of the messages of the Java exception behind ``exc`` and of its root
    cause where they differ (Kubernetes' client says "An error has occurred." over a refused
    connection); Python's message where there is no Java exception."""
    from py4j.protocol import Py4JError

    error, messages = getattr(exc, "java_exception", None), []
    with suppress(Py4JError):  # a Java side that is gone: what was read
        for _ in range(20):  # a chain of causes is short; a cycle is not followed
            if error is None:
                break
            text = str(error.getMessage() or error.getClass().getSimpleName()).strip()
            messages.append(text.splitlines()[0] if text else "")
            cause = error.getCause()
            error = None if cause is None or cause.equals(error) else cause
    if not messages:
        messages = str(exc).strip().splitlines()[:1]
    return [m for m in dict.fromkeys([messages[0], messages[-1]]) if m] if messages else []


def _stop_new_context(before) -> None:
    """Stop the context a failed start left behind (not one that was there ``before``): a
    stopped context stays PySpark's active one, and every later session would be refused."""
    from pyspark import SparkContext

    started = SparkContext._active_spark_context
    if started is not None and started is not before:
        with suppress(Exception):  # stopped already, or its JVM gone: nothing to stop
            started.stop()


def check_options(master: str | None, input, findings_out) -> None:
    """Refuse, before any session (or store) is opened: a master of no form Spark takes;
    a cluster master without ``input`` (it cannot read the store's export on this disk); a
    local ``input`` that is not there; a ``findings_out`` that holds anything or lies over
    the input (``_check_output``)."""
    if master is not None:
        _checked_master(master)
        if input is None and not master.startswith("local"):
            raise _needs_input()
    if input is not None and not _is_url(input) and not Path(input).exists():
        raise InputError(f"{input}: no such file or directory")
    if findings_out is not None:
        _check_output(findings_out, input)


def _checked_master(master: str) -> str:
    """``master`` if Spark takes it, else an InputError (Spark would print a Java stack
    trace, or try a port that cannot be for a minute)."""
    form = _MASTER.fullmatch(master)
    if form is not None and master.startswith("spark://"):
        ports = (int(port) for _, port in re.findall(_HOST_PORT, master))
        form = form if all(1 <= port <= 65535 for port in ports) else None
    if form is None and not _mesos(master):
        raise InputError(f"--master {master!r}: Spark takes {MASTER_FORMS}")
    return master


def _mesos(master: str) -> bool:
    """Whether ``master`` is a Mesos URL and this PySpark's Spark still has Mesos (3.x:
    Spark 4 removed it, and its spark-submit exits on one with a Java stack trace)."""
    from importlib.metadata import PackageNotFoundError, version

    if not re.fullmatch(r"mesos://.+", master):
        return False
    try:
        return int(version("pyspark").split(".")[0]) < 4
    except (PackageNotFoundError, ValueError):
        return False


# Spark's log4j2 configuration, errors only. The ``org.apache.spark`` logger is named so
# that Spark sees a level set on purpose and keeps its "Setting default log level" lines
# for itself (it prints them when a shell-like driver finds only the root level). A failed
# task is not logged by the executor and the scheduler (the stack trace of a file Spark
# cannot read, say): the driver raises the same error, and the engine words it. So is a
# context that fails to start ("Error initializing SparkContext." and Java's stack trace):
# that one message is filtered out, not the context's other errors (a jar it cannot add).
# Nor are the clean-up steps of a context that failed ("Uncaught exception in thread", Spark's
# words for a step of its stop that failed: a Kubernetes master that does not answer gave
# four Java stack traces, one for each resource it could not delete, above the one line).
_LOG4J = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
logger.spark.name = org.apache.spark
logger.spark.level = error
logger.context.name = org.apache.spark.SparkContext
logger.context.level = error
logger.context.filter.start.type = RegexFilter
logger.context.filter.start.regex = Error initializing SparkContext[.]
logger.context.filter.start.onMatch = DENY
logger.context.filter.start.onMismatch = NEUTRAL
logger.cleanup.name = org.apache.spark.util.Utils
logger.cleanup.level = error
logger.cleanup.filter.stop.type = RegexFilter
logger.cleanup.filter.stop.regex = Uncaught exception in thread .*
logger.cleanup.filter.stop.onMatch = DENY
logger.cleanup.filter.stop.onMismatch = NEUTRAL
logger.executor.name = org.apache.spark.executor.Executor
logger.executor.level = fatal
logger.tasks.name = org.apache.spark.scheduler.TaskSetManager
logger.tasks.level = fatal
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""


def _quiet_log4j() -> str:
    """The URI of a log4j2 configuration that keeps Spark's start-up chatter off stderr.

    Rewritten when it differs (a file left by an older version); a URI, so that a space
    in the temporary directory's name does not split the JVM's options.
    """
    path = Path(tempfile.gettempdir()) / "tradesentry-log4j2.properties"
    if not path.exists() or path.read_text() != _LOG4J:
        handle, fresh = tempfile.mkstemp(dir=path.parent, prefix=".tradesentry-log4j2-")
        with os.fdopen(handle, "w") as file:
            file.write(_LOG4J)
        os.replace(fresh, path)  # whole, even with another scan starting beside this one
    return path.resolve().as_uri()


def scan(
    store,
    detectors: Sequence[Detector],
    filters: dict | None = None,
    *,
    input: str | os.PathLike | None = None,
    master: str | None = None,
    findings_out: str | os.PathLike | None = None,
    since: str | None = None,
    chunk_series: int = DEFAULT_CHUNK_SERIES,
    spark=None,
    complete: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Findings of the series selected by ``filters``, computed on Spark.

    ``input`` is Parquet with the canonical columns: a directory (from ``tradesentry
    export``, or a data lake's table) or one file, a local path or a URL Spark reads,
    taken literally (``[``, ``*``, ``?`` are characters of the name, not a pattern).
    Without it the store is exported to a temporary directory first, which only a local
    master can read. ``since`` (YYYY-MM) keeps the findings that end in or after that
    month (an annual finding ends in its year's December). ``findings_out`` also writes the findings there as Parquet: a new or empty
    directory, else an ``InputError`` (a local path is checked before Spark starts).
    ``complete`` completes the collected findings from the store (``api``: a gap's
    partner record) before they are written, so the file holds what the scan returns.
    """
    check_options(master, input, findings_out)
    if (
        input is None
        and store.con.cursor().execute("SELECT 1 FROM observations LIMIT 1").fetchone() is None
    ):
        return empty_findings()  # an empty store: nothing to scan, as the local engine says
    spark = spark or session(master)
    run = functools.partial(
        _scan,
        spark,
        detectors=detectors,
        filters=filters or {},
        findings_out=findings_out,
        since=since,
        chunk_series=chunk_series,
        complete=complete,
    )
    if input is None:
        if not spark.sparkContext.master.startswith("local"):
            raise _needs_input()
        from tradesentry.export import export_parquet

        with tempfile.TemporaryDirectory(prefix="tradesentry-spark-") as tmp:
            export_parquet(store, Path(tmp) / "export", all_releases=True)
            return run(str(Path(tmp) / "export"), from_store=True)
    return run(str(input), from_store=False)


def _needs_input() -> InputError:
    return InputError(
        "a cluster reads its input from shared storage: export the store with "
        "`tradesentry export --parquet DIR --all-releases` and pass --input DIR"
    )


def _is_url(path: str | os.PathLike) -> bool:
    """Whether ``path`` names a file system by its scheme (s3a://…, hdfs://…, file:/…)."""
    return re.match(r"[A-Za-z][A-Za-z0-9+.-]+:", str(path)) is not None


def _check_output(findings_out: str | os.PathLike, input) -> None:
    """Refuse, before Spark starts, a local ``findings_out`` that holds anything, or that
    lies over or inside the input: writing there would delete it (URLs: see ``_scan``)."""
    if _is_url(findings_out):
        return
    out = Path(findings_out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"{out}: the directory is not empty; give a new one")
    if input is not None and not _is_url(input):
        a, b = out.resolve(), Path(input).resolve()
        if a == b or a in b.parents or b in a.parents:
            raise InputError(f"{out}: the findings would be written into the input {input}")


def literal(path: str) -> str:
    """``path`` for Spark's readers, which take it as a Hadoop glob pattern: its pattern
    characters escaped, so ``fo[1]`` reads the directory ``fo[1]``, never ``fo1``."""
    return re.sub(r"([\\\[\]*?{}])", r"\\\1", path)


def _condition(exc: BaseException) -> str | None:
    """The error condition of a PySpark exception (``PATH_NOT_FOUND``…), else None."""
    get = getattr(exc, "getCondition", None) or getattr(exc, "getErrorClass", None)
    try:
        return get() if get is not None else None
    except Exception:  # a Py4J error whose Java side is gone: no condition to read
        return None


@contextmanager
def _input_errors(path: str) -> Iterator[None]:
    """Spark's errors about the input as one ``InputError`` line naming ``path``; any other
    error is left as it is (a bug is not the user's to fix)."""
    try:
        yield
    except InputError:
        raise
    except Exception as exc:
        condition, text = _condition(exc), str(exc)
        if condition == "PATH_NOT_FOUND":
            raise InputError(f"{path}: no such file or directory") from None
        if condition == "UNABLE_TO_INFER_SCHEMA":
            raise InputError(f"{path}: no Parquet files there") from None
        if condition == "PARQUET_TYPE_ILLEGAL" and "NANOS" in text:
            raise InputError(
                f"{path}: a column is a timestamp in nanoseconds (pandas' datetime64[ns]), "
                "which Spark cannot read: write period as a date, a timestamp in "
                "microseconds or text YYYY-MM (df.period = df.period.dt.date)"
            ) from None
        mismatch = re.search(
            r"PARQUET_COLUMN_DATA_TYPE_MISMATCH|CANNOT_MERGE|Failed to merge", f"{condition} {text}"
        )
        if mismatch:
            column = _mismatched_column(text)
            which = f"the column {column}" if column else "a column"
            raise InputError(
                f"{path}: the files give {which} different types; write it with one type in "
                "every file"
            ) from None
        if "is not a Parquet file" in text:
            raise InputError(f"{path}: not Parquet (the Spark engine reads Parquet)") from None
        scheme = re.search(r'No FileSystem for scheme "?([\w+.-]+)', text)
        if scheme:
            raise InputError(
                f"{path}: this Spark has no file system for {scheme.group(1)}:// "
                "(add its connector, e.g. hadoop-aws for s3a://)"
            ) from None
        raise


@contextmanager
def _worker_errors() -> Iterator[None]:
    """A Python worker that cannot import what the scan runs (another interpreter than
    this one, without pyarrow or tradesentry), or a scan that ran out of memory, as one
    line saying what to do, not a traceback of a hundred (or 1,200) lines. PySpark warns
    of the same failure first (its Arrow conversion "has reached the error below", with
    the worker's traceback): the warnings of a scan that fails so are dropped, those of
    one that ends are shown."""
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        try:
            yield
        except Exception as exc:
            error = _worker_error(exc)
            if error is exc:
                raise
            raise error from None
    for warning in said:
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)


def _worker_error(exc: Exception) -> Exception:
    """The one-line error of a failed scan (``_worker_errors``), or ``exc`` itself."""
    if _OUT_OF_MEMORY.search(str(exc)):
        return EngineUnavailable(
            "Spark ran out of memory: on a local master set TRADESENTRY_SPARK_MEMORY above "
            f"{driver_memory()} (its heap), on a cluster spark.executor.memory; or scan "
            "fewer series at once (--reporter)"
        )
    missing = re.search(r"ModuleNotFoundError: No module named '([\w.]+)'", str(exc))
    if missing is None:
        return exc
    worker = os.environ.get("PYSPARK_PYTHON") or "python3"
    return EngineUnavailable(
        f"Spark's Python workers ({worker}) cannot import {missing.group(1)}: run them with "
        f"the interpreter tradesentry is installed in (PYSPARK_PYTHON={sys.executable})"
    )


#: Spark's and Java's words for memory it could not get (a task's or the JVM's)
_OUT_OF_MEMORY = re.compile(
    r"Could not allocate memory|SparkOutOfMemoryError|java\.lang\.OutOfMemoryError|"
    r"Unable to acquire \d+ bytes of memory"
)


def _mismatched_column(text: str) -> str | None:
    """The column two Parquet files give different types, from Spark's message: "Parquet
    column [value]", or the first field whose type differs between the two schemas that
    CANNOT_MERGE_SCHEMAS prints."""
    named = re.search(r"Parquet column \[(\w+)\]", text)
    if named:
        return named.group(1)
    schemas = [
        dict(re.findall(r"(\w+): ([A-Z]+)", body)) for body in re.findall(r"STRUCT<([^>]*)>", text)
    ]
    if len(schemas) >= 2:
        first, other = schemas[:2]
        return next((c for c, t in first.items() if other.get(c, t) != t), None)
    return None


def _scan(
    spark, path, *, detectors, filters, findings_out, since, chunk_series, from_store, complete
) -> pd.DataFrame:
    settings = {
        "spark.sql.ansi.enabled": "false",  # x/0 is NULL, as in DuckDB
        "spark.sql.session.timeZone": "UTC",  # a timestamp's date: the same on every machine
        # a folder's value (commodity=0101/) is text: guessed, 0101 was the number 101
        "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    }
    with _interruptible(spark):
        before = {key: spark.conf.get(key, None) for key in settings}
        for key, value in settings.items():
            spark.conf.set(key, value)
        try:
            mode = None
            if findings_out is not None:
                with _input_errors(str(findings_out)):
                    mode = _output_mode(spark, str(findings_out))
            with _input_errors(path):
                current = register_views(spark, path)
            try:
                options = (findings_out, mode, since, chunk_series, from_store, complete)
                with _worker_errors():
                    return _findings(spark, path, detectors, filters, *options)
            finally:
                current.unpersist()
        finally:
            for key, value in before.items():
                if value is None:
                    spark.conf.unset(key)
                else:
                    spark.conf.set(key, value)


def _findings(
    spark, path, detectors, filters, findings_out, mode, since, chunk_series, from_store, complete
) -> pd.DataFrame:
    """The scan over the registered views; the findings written to ``findings_out`` too."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    if not from_store:  # a store's selection is checked by ``api.scan``, on the store
        _check_selection(spark, filters, path)
    needs = sorted({need for d in detectors for need in d.needs})
    if "previous" in needs and not from_store:  # a store's releases are its own
        _say_if_one_release(spark, path)
    unread = _unread_without_store(detectors)
    if not from_store and unread:
        print(
            f"tradesentry: {path} is read without a store: {unread} (those are read from a "
            "store: ingest the data and scan it)",
            file=sys.stderr,
        )
    row_columns = (*ROW_COLUMNS, *context.columns_for(needs))
    rows = source_frame(spark, filters, needs)
    found = findings_frame(gather(rows, row_columns), detectors, row_columns, chunk_series)
    if since:  # the same findings in the file as in the answer (findings.last_month):
        # an annual finding's period_end is its year's first month; the year ends in December
        end = F.col("period_end")
        year_end = F.concat(F.substring(end, 1, 4), F.lit("-12"))
        found = found.where(F.when(F.col("freq") == "A", year_end).otherwise(end) >= since)
    if complete is not None:  # completed on the driver, then written as returned
        frame = complete(decode(found.toPandas()))
        if findings_out is not None:
            rows = spark.createDataFrame(encode(frame), schema=_OUTPUT_SCHEMA)
            rows.write.mode(mode).parquet(str(findings_out))
        return frame
    if findings_out is None:
        return decode(found.toPandas())
    # Written, then collected from the same computed rows: never read back from the path,
    # which Spark would take as a pattern (``fo[1]`` reading ``fo1``).
    found = found.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        found.write.mode(mode).parquet(str(findings_out))
        return decode(found.toPandas())
    finally:
        found.unpersist()


def _check_selection(spark, filters: dict, path: str) -> None:
    """Filters that select no series of the input: refused as ``api.scan`` refuses them on
    a store, by the same function in the same words ("no series in the input matches
    reporter ZZZ: the input holds only reporter CHN"). It reads the views as a store's
    tables (``_Views``): one query stopping at the first row selected (the partition
    directories a reporter filter names, in an export); only a refusal reads more."""
    from tradesentry.api import check_selection as check_store

    try:
        check_store(_Views(spark), filters, source="the input")
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None


class _Views:
    """The views ``register_views`` made, read as ``api`` reads a store
    (``store.con.cursor().execute(sql, params).fetchone()``; Spark takes ``?`` too)."""

    def __init__(self, spark) -> None:
        self.con, self._spark, self._rows = self, spark, []

    def cursor(self) -> _Views:
        return self

    def execute(self, sql: str, params: Sequence | None = None) -> _Views:
        self._rows = self._spark.sql(sql, args=list(params) if params else None).collect()
        return self

    def fetchone(self):
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list:
        return self._rows


@contextmanager
def _interruptible(spark) -> Iterator[None]:
    """Ctrl-C during the scan: Spark's jobs cancelled, then a plain KeyboardInterrupt.

    PySpark's own SIGINT handler raises KeyboardInterrupt wherever Python is, mostly in
    the middle of a call to the JVM, and calls the JVM from there again to cancel the
    jobs; that call fails ("reentrant call"), the cancelled job comes back as a Py4J error
    with Java's stack trace, after a warning about PySpark's Arrow fallback: some fifty
    lines. Here the first Ctrl-C cancels the jobs from another thread (its own connection
    to the JVM) and the call in progress returns; the error it returns, or the end of the
    scan, becomes the KeyboardInterrupt; a second Ctrl-C interrupts at once. Warnings
    raised meanwhile are shown unless it was interrupted. Only the main thread receives
    signals; elsewhere nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    interrupted = False

    def cancel(signum, frame) -> None:
        nonlocal interrupted
        if interrupted:
            raise KeyboardInterrupt
        interrupted = True
        threading.Thread(target=_cancel_jobs, args=(spark,), daemon=True).start()

    previous = signal.signal(signal.SIGINT, cancel)
    try:
        with warnings.catch_warnings(record=True) as caught:
            try:
                yield
            except Exception:
                if interrupted:
                    raise KeyboardInterrupt from None
                raise
            finally:
                signal.signal(signal.SIGINT, previous)
            if interrupted:  # the scan ended before the cancellation reached it
                raise KeyboardInterrupt
    finally:
        if not interrupted:
            for w in caught:
                warnings.showwarning(w.message, w.category, w.filename, w.lineno)


def _cancel_jobs(spark) -> None:
    """Cancel the session's jobs (from a thread of its own: see ``_interruptible``)."""
    from py4j.protocol import Py4JError

    # The JVM may have stopped already (a terminal's Ctrl-C reaches it too): no job left.
    with suppress(Py4JError):
        spark.sparkContext.cancelAllJobs()


def _output_mode(spark, path: str) -> str:
    """How to write the findings to ``path``: into a new or empty directory only.

    Checked on Spark's file system, so URLs (s3a://…) are refused here, once the session
    has started but before the scan runs, as local paths are before it starts. An empty
    directory is written into ("overwrite" deletes nothing there); anything else fails
    should it appear meanwhile, rather than be replaced.
    """
    fs, hpath = _file_status(spark, path)
    if not fs.exists(hpath):
        return "errorifexists"
    if fs.getFileStatus(hpath).isDirectory() and len(fs.listStatus(hpath)) == 0:
        return "overwrite"
    raise InputError(f"{path}: the directory is not empty; give a new one")


#: what a finding of the store reads that a scan of --input cannot, by ``finding_needs``
_UNREAD_NEEDS = {
    "reporter_along": "findings carry no reading of the reporter's whole record",
    "sibling_months": "gaps carry no reading of their sibling series",
    "mirror_months": "gaps carry no reading of the partner's record of their months",
}


def _unread_without_store(detectors) -> str:
    """What the ``detectors`` read from a store that a scan of --input goes without, in
    words ("" for none): the series that stopped reporting (a ``from_store`` of their
    own), and each context of findings they name."""
    from tradesentry.detectors.base import Detector

    said = []
    if any(type(d).from_store is not Detector.from_store for d in detectors):
        said.append("series that stopped reporting are not found")
    needs = dict.fromkeys(n for d in detectors for n in d.finding_needs)
    said += [_UNREAD_NEEDS.get(n, f"findings carry no {n} reading") for n in needs]
    return "; ".join(said)  # "…, and …, and …" read as one clause repeating itself


def _say_if_one_release(spark, path: str) -> None:
    """One line on stderr when the input holds a single release: no revision can be found
    (an export without ``--all-releases`` keeps only the current view; one with it, of a
    store of one release, has nothing more to say)."""
    if spark.table("release_order").select("release_id").distinct().limit(2).count() >= 2:
        return
    given = spark.conf.get(INPUT_RELEASES, "false") == "true"
    hint = "" if given else " (an export keeps a store's earlier releases with --all-releases)"
    print(f"tradesentry: {path} holds one release: no revision to find{hint}", file=sys.stderr)


#: the session's note of whether the input gave its releases (a ``release_id`` column)
INPUT_RELEASES = "tradesentry.input.releases"


# -- input: the store's tables as Spark views ---------------------------------------------
def input_rates(path: str) -> pd.DataFrame | None:
    """The exchange rates of an export given as ``--input`` (its ``rates.parquet``, beside
    ``observations``), read on the driver for ranking the findings in US dollars as a scan
    of the store ranks them; None where the input is no local export with rates (its
    findings are then ranked by impact as given)."""
    base = Path(path.rstrip("/"))
    if base.name == "observations":
        base = base.parent
    rates = base / "rates.parquet"
    if not rates.exists():
        return None
    return pd.read_parquet(rates, columns=["currency", "period", "per_usd"])


def register_views(spark, path: str):
    """Views named as the store's tables, so ``context`` SQL runs on Spark unchanged.

    ``observations`` (with ``release_id``), ``release_order``, ``releases``, ``rates`` and
    ``current_observations`` (the latest release of each figure), which is returned,
    persisted for the scan (the caller unpersists it). ``path`` is taken literally.
    """
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    base = path.rstrip("/")
    exported = _exists(spark, f"{base}/observations")
    if not exported and base.endswith("/observations") and _beside(spark, base):
        # the export's observations folder named itself: its rates and releases are beside
        base, exported = base.rsplit("/", 1)[0], True
    obs_path = f"{base}/observations" if exported else path
    # files of other columns are merged (a column some lack is NULL in their rows), not
    # read with the columns of whichever file Spark looked at first
    reader = spark.read.option("mergeSchema", "true")
    if _is_dir(spark, obs_path):  # partition columns (reporter=…) from below it
        reader = reader.option("basePath", obs_path)
    try:
        obs = canonical(reader.parquet(literal(obs_path)))
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None
    _check_rows(obs, path)
    obs = obs.drop(*CHECK_COLUMNS)
    has_release = "release_id" in obs.columns
    spark.conf.set(INPUT_RELEASES, "true" if has_release else "false")
    obs = _whole_release_numbers(obs, path)
    if not has_release:
        obs = obs.withColumn("release_id", F.lit(0))
    if "vintage" not in obs.columns:
        obs = obs.withColumn("vintage", F.col("release_id").cast("long"))
    _check_unique(obs, path, has_release)
    order = obs.select("release_id", "vintage").distinct()
    order.createOrReplaceTempView("release_order")
    obs.drop("vintage").createOrReplaceTempView("observations")
    releases_path = f"{base}/releases.parquet" if exported else None
    if releases_path and _exists(spark, releases_path):
        spark.read.parquet(literal(releases_path)).createOrReplaceTempView("releases")
    else:
        spark.sql(
            "SELECT release_id AS id, CAST(NULL AS DATE) AS published FROM release_order"
        ).createOrReplaceTempView("releases")
    rates_path = f"{base}/rates.parquet" if exported else None
    if rates_path and _exists(spark, rates_path):
        spark.read.parquet(literal(rates_path)).createOrReplaceTempView("rates")
    else:
        spark.createDataFrame(
            [], "currency string, period date, per_usd double"
        ).createOrReplaceTempView("rates")
    current = obs if not has_release else _latest(obs)
    # the context SQL reads the current view several times (mirror, references): keep it
    current = current.drop("vintage").persist(StorageLevel.MEMORY_AND_DISK)
    current.createOrReplaceTempView("current_observations")
    return current


def _file_status(spark, path: str):
    """Hadoop's status of ``path`` (the literal path, on whatever file system it names)."""
    jvm = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    fs = hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    return fs, hpath


#: Spark's whole-number types
WHOLE_TYPES = ("tinyint", "smallint", "int", "bigint")


def _whole_release_numbers(obs, path: str):
    """``release_id`` and ``vintage`` as whole numbers: text of digits (a folder's value,
    ``release_id=3/``, read as written) is cast; other text ("2021-06") or a fraction is
    refused in one line, since the releases' order cannot be read from it."""
    from pyspark.sql import functions as F

    for name, kind in obs.dtypes:
        if name not in ("release_id", "vintage") or kind in WHOLE_TYPES:
            continue
        whole = F.col(name).cast("string").rlike(r"^\s*[0-9]+\s*$")
        if kind != "string" or obs.where(F.col(name).isNotNull() & ~whole).limit(1).count():
            raise InputError(
                f"{path}: the {name} column is {kind}, not whole numbers: give them in the "
                "order the releases came (as `tradesentry export --parquet --all-releases` "
                "writes them)"
            )
        obs = obs.withColumn(name, F.trim(F.col(name)).cast("bigint"))
    return obs


def _beside(spark, observations: str) -> bool:
    """Whether an export's releases or rates lie beside the folder ``observations``."""
    parent = observations.rsplit("/", 1)[0]
    return any(_exists(spark, f"{parent}/{name}.parquet") for name in ("releases", "rates"))


def _exists(spark, path: str) -> bool:
    fs, hpath = _file_status(spark, path)
    return bool(fs.exists(hpath))


def _is_dir(spark, path: str) -> bool:
    fs, hpath = _file_status(spark, path)
    return bool(fs.exists(hpath) and fs.getFileStatus(hpath).isDirectory())


# Periods as the canonical CSV takes them (``ingest.canonical``): a year, a month, or the
# first day of a month; months 01 to 12.
#: the years a period may be in, as every reader of the ingest holds them
YEARS = (1900, 2200)
_YEAR = r"^[0-9]{4}$"
_MONTH = r"^[0-9]{4}-(0[1-9]|1[0-2])(-01)?$"
PERIOD_FORMS = "text YYYY, YYYY-MM or YYYY-MM-01, a date or a timestamp"


def canonical(frame):
    """Canonical column types, normalised and given defaults as ``ingest.validate`` does.

    Flows are trimmed and lower-cased, commodities trimmed and upper-cased, and the total of
    all goods (``TOTAL`` or ``ALL``) is ``TOTAL`` under HS. A column left out, or empty in a
    row, gets ingest's default: classification HS (else trimmed and upper-cased), breakdown
    empty, currency USD, frequency A for a period given as a year (text YYYY) and M otherwise, period_months
    12 for A and 1 for M; except currency: a row without one is quarantined ("currency is
    missing"). Frequency and currency are trimmed and upper-cased, and period_months read,
    as ingest does. Figures are numbers (text as the ingest's cast reads it); a missing value
    is kept, as the store keeps a withheld one. Country codes are not converted (see
    ``_problem``). The first check of the ingest's the row fails, if any, is named in
    ``_problem``; it and the columns ``_check_rows`` words it with are ``CHECK_COLUMNS``, to
    drop once checked.
    """
    from pyspark.sql import functions as F

    missing = [c for c in _REQUIRED if c not in frame.columns]
    if missing:
        raise InputError(f"no canonical column(s) {', '.join(missing)}")
    types = dict(frame.dtypes)
    kind = types["period"]
    frame = frame.withColumns(
        {
            "_period_text": F.trim(F.col("period").cast("string")),
            # a date or timestamp outside the years is impossible, never another notation
            "_period_typed": F.lit(kind != "string"),
        }
    )
    text = F.col("_period_text")  # the period as given, once ``period`` is a date
    if kind == "string":
        year, month = F.substring(text, 1, 4).cast("int"), F.substring(text, 6, 2).cast("int")
        period = F.when(text.rlike(_YEAR), F.make_date(year, F.lit(1), F.lit(1))).when(
            text.rlike(_MONTH), F.make_date(year, month, F.lit(1))
        )
        # the years every reader holds (``staging.month_sql``): "0001-01" is impossible
        period = F.when(F.year(period).between(*YEARS), period)
        # the frequency the text is written in, as ``ingest.canonical`` reads it
        period_freq = F.when(text.rlike(_YEAR), F.lit("A")).when(text.rlike(_MONTH), F.lit("M"))
    elif kind in ("date", "timestamp", "timestamp_ntz"):
        period = F.col("period").cast("date")  # a timestamp's date in UTC (the session's zone)
        period = F.when(F.year(period).between(*YEARS), period)
        period_freq = F.lit(None).cast("string")  # a date is either (the store's years: Jan 1)
    else:
        raise InputError(f"the period column is {kind}: give {PERIOD_FORMS}")
    # flow, commodity and classification as ``ingest.validate`` normalises them
    commodity = F.upper(F.trim(F.col("commodity").cast("string")))
    total = commodity.isin("TOTAL", "ALL")  # the total of all goods belongs to no nomenclature
    classification = F.lit("HS")
    if "classification" in frame.columns:
        given = F.upper(F.trim(F.col("classification").cast("string")))
        classification = F.coalesce(F.when(given != "", given), classification)
    given_flow = F.lower(F.trim(F.col("flow").cast("string")))
    flow = given_flow
    for canonical, words in FLOW_SPELLINGS.items():  # EXPORTS, X, M … as the ingest takes them
        flow = F.when(given_flow.isin(*words), F.lit(canonical)).otherwise(flow)
    columns = {
        "period": period,
        "flow": flow,
        "_flow_given": F.trim(F.col("flow").cast("string")),
        "commodity": F.when(total, F.lit("TOTAL")).otherwise(commodity),
        "classification": F.when(total, F.lit("HS")).otherwise(classification),
        # the columns as given, where replaced, for ``_check_rows`` to quote
        "_period_months_given": F.col("period_months") if "period_months" in types else None,
        "_currency_given": F.col("currency") if "currency" in types else None,
    }
    for name, (default, typ) in _DEFAULTS.items():
        value = F.expr(default).cast(typ)
        if name in frame.columns:
            value = F.coalesce(F.col(name).cast(typ), value)
        columns[name] = value
    for name in _FIGURES:  # each a number, its text kept where the table writes it as text
        columns[f"_{name}_given"] = None
        if types.get(name) == "string":
            written = F.trim(F.col(name))
            columns[f"_{name}_given"] = F.col(name)
            columns[name] = F.when(written.rlike(_NUMBER), written).cast("double")
        elif name in frame.columns:
            columns[name] = F.col(name).cast("double")
    columns = {k: F.lit(None).cast("string") if v is None else v for k, v in columns.items()}
    freq = F.coalesce(period_freq, F.lit("M"))
    if "freq" in frame.columns:  # an empty cell is the period's, as in the canonical CSV
        given = F.upper(F.trim(F.col("freq").cast("string")))
        freq = F.coalesce(F.when(given != "", given), freq)
    months = default_months = F.when(freq == "A", 12).otherwise(1)
    months_text = F.trim(F.col("period_months").cast("string"))  # (used if there)
    if types.get("period_months") in ("tinyint", "smallint", "int", "bigint"):
        given = F.col("period_months")  # a negative one: not a whole number, as its text
        whole = F.least(given.cast("long"), F.lit(2**31 - 1)).cast("int")
        months = F.when(given.isNull(), default_months).when(given >= 0, whole)
    elif "period_months" in frame.columns:  # a whole number, also as 12.0 (ingest.canonical)
        digits = F.regexp_extract(months_text, r"^0*([0-9]+)", 1)
        whole = F.when(F.length(digits) <= 9, digits.cast("int")).otherwise(F.lit(2**31 - 1))
        months = F.when(months_text.isNull() | (months_text == ""), default_months).when(
            months_text.rlike(r"^[0-9]+([.]0*)?$"), whole
        )
    currency = F.lit("USD")  # only a currency column left out is USD
    if "currency" in frame.columns:
        currency = F.upper(F.trim(F.col("currency").cast("string")))
    # Computed once per row, then checked (the checks refer to each several times).
    frame = frame.withColumns(
        {
            **columns,
            "_period_freq": period_freq,
            "_freq": freq,
            "_months": months,
            "_currency": currency,
        }
    )
    return frame.withColumns(
        {
            "_problem": _problem(types),
            "freq": F.col("_freq"),
            "period_months": F.col("_months").cast("tinyint"),
            "currency": F.col("_currency"),
        }
    ).drop("_period_freq", "_freq", "_months", "_currency")


#: The reasons ``ingest.validate`` quarantines a row for, in its order and words; ``{}`` is
#: the row's text of the column ``_check_rows`` shows. A check of ``_problem`` is named by
#: its key, or by the first word of its keys (``reporter``: missing or unknown), and a
#: figure's ``figure <name>`` (``_reason`` picks the key).
_REASONS: dict[str, str] = {
    "reporter missing": "reporter is missing",
    "reporter unknown": "unknown reporter country {}",
    "partner missing": "partner is missing",
    "partner unknown": "unknown partner country {}",
    "flow missing": "flow is missing",
    "flow unknown": "unknown flow {}",
    "commodity missing": "commodity is missing",
    "commodity dots": "commodity {} is a mark for no code, not a code",
    "commodity error": "commodity {} is a spreadsheet's error, not a code",
    "commodity formula": "commodity {} is a spreadsheet's formula, not a code",
    "commodity float": (
        "commodity {} is a number a spreadsheet wrote in scientific notation: the code's "
        "digits are lost (format the column as text)"
    ),
    **{
        f"{name} blank": (
            f"{name} {{}} holds a control character or a blank other than a space at its ends"
        )
        for name in ("commodity", "classification", "breakdown")
    },
    "freq unknown": "unknown frequency {}",
    "year_freq_m": "period {} is a year but the frequency is M",
    "month_freq_a": "period {} is a month but the frequency is A",
    "months_not_whole": "period_months {} is not a whole number",
    "months_range": "period_months must be 1 to 12",
    "months_annual": "period_months {} with frequency A (a year is 12 months)",
    "figure nan": "{name} {} is not a number",
    "figure inf": "{name} {} is not finite",
    "figure negative": "negative {name} {}",
    "currency missing": "currency is missing",
    "currency code": "currency {} is not an ISO 4217 code (three letters)",
    "currency iso": "currency {} is not an ISO 4217 code{}",
    "period future": "period {} has not begun (today is {})",
    "tiny": "{name} {} is too small for a number to hold: it would read as 0",
    "period missing": "period is missing",
    "period impossible": "impossible period {}",
    "period notation": "period {} is not a month (YYYY-MM, or YYYY-MM-01) nor a year (YYYY)",
}
#: the columns ``canonical`` adds for ``_check_rows`` only
CHECK_COLUMNS: tuple[str, ...] = (
    "_problem",
    "_period_text",
    "_period_typed",
    "_flow_given",
    "_period_months_given",
    "_currency_given",
    *(f"_{name}_given" for name in _FIGURES),
)


def _problem(types: dict[str, str]):
    """The first check of ``ingest.validate``'s a row of ``canonical``'s fails, in its
    order, or NULL: its name, a constant (``_check_rows`` words it for the one row refused;
    a CASE building the words for every row made the pass five times slower).

    A reporter or partner missing or not a code the store keeps (``countries.stored_codes``:
    the ingest converts names, Spark does not), a flow missing or not one of ``FLOWS``, a
    commodity missing or only dots (a mark for no code), a spreadsheet's error, formula or
    number in scientific notation (``ingest.validate``'s), a commodity, classification or
    breakdown holding a control character or a blank other than a space at its ends, an
    impossible period, a frequency
    the ingest does not know or that contradicts the period's text, period_months not a
    whole number from 1 to 12 (12 for A), a figure that is not a finite number >= 0, a
    currency missing or not three letters. A missing value is no reason: it is how the
    store keeps a withheld figure.
    """
    from pyspark.sql import functions as F

    period_freq, freq, months = F.col("_period_freq"), F.col("_freq"), F.col("_months")

    def outside(column, values):  # a missing one too (NULL is in no set)
        return F.coalesce(~column.isin(*values), F.lit(True))

    codes = countries.stored_codes()
    checks = [
        ("reporter", outside(F.col("reporter").cast("string"), codes)),
        ("partner", outside(F.col("partner").cast("string"), codes)),
        ("flow", outside(F.col("flow"), FLOWS)),
        ("commodity missing", F.coalesce(F.col("commodity"), F.lit("")) == ""),
        # ".." marks a figure or code not available in many statistical tables
        ("commodity dots", F.trim(F.col("commodity")).rlike(r"^\.+\z")),
        ("commodity error", F.upper(F.trim(F.col("commodity"))).rlike(f"^{SPREADSHEET_ERROR}\\z")),
        ("commodity formula", F.trim(F.col("commodity")).startswith("=")),
        ("commodity float", F.upper(F.trim(F.col("commodity"))).rlike(f"^{SPREADSHEET_FLOAT}\\z")),
        *(
            (f"{name} blank", F.trim(F.col(name)).rlike(r"[\p{Cc}\p{Zl}\p{Zp}]|^\p{Z}|\p{Z}\z"))
            for name in ("commodity", "classification", "breakdown")
        ),
        ("period", F.col("period").isNull()),
        ("freq unknown", ~freq.isin("M", "A")),
        ("year_freq_m", (period_freq == "A") & (freq == "M")),
        ("month_freq_a", (period_freq == "M") & (freq == "A")),
        ("months_not_whole", months.isNull()),
        ("months_range", ~months.between(1, 12)),
        ("months_annual", (freq == "A") & (months != 12)),
        # a month that has not begun holds no trade yet (nor a combined figure's last month)
        ("period future", F.add_months(F.col("period"), months - 1) > F.current_date()),
    ]
    for name in _FIGURES:
        if name not in types:
            continue
        # Spark orders NaN above infinity: this is false for NaN, ±inf and negatives alike
        number = F.col(name)
        bad = ~((number >= 0) & (number < float("inf")))
        if types[name] == "string":  # text that is no number (NULL here), as written
            given = F.trim(F.col(f"_{name}_given"))
            bad = bad | (number.isNull() & (F.coalesce(given, F.lit("")) != ""))
        checks.append((f"figure {name}", bad))
        if types[name] == "string":  # a digit that is not 0 before its exponent, read as 0
            tiny = (number == 0) & F.coalesce(given, F.lit("")).rlike(r"^[^eE]*[1-9]")
            checks.append((f"tiny {name}", tiny))
    if "currency" in types:
        currency = F.col("_currency")
        checks += [
            ("currency missing", F.coalesce(currency, F.lit("")) == ""),
            ("currency code", ~currency.rlike(r"^[A-Z]{3}\z")),
            ("currency iso", ~currency.isin(*sorted(currencies.iso_codes()))),
        ]
    (key, condition), *rest = checks
    reason = F.when(condition, F.lit(key))
    for key, condition in rest:
        reason = reason.when(condition, F.lit(key))
    return reason


@functools.cache
def _quoted(text: str | None) -> str:
    """``ingest.validate``'s ``quoted``: the text in single quotes, cut at 40 characters."""
    text = "" if text is None else text
    return "'" + text[:40] + ("…" if len(text) > 40 else "") + "'"


def _check_rows(obs, path: str) -> None:
    """Refuse, in one line, an input with a row the ingest would quarantine: the first of
    ``canonical``'s reasons, in the ingest's words, or a period it does not take. A reporter
    or partner the ingest would convert (a name, ``chn``) is refused too, naming the code it
    would store. One narrow pass over the columns checked; only a row refused is worded."""
    from pyspark.sql import functions as F

    def text(name: str):
        return F.trim(F.col(name).cast("string"))

    figures = [name for name in _FIGURES if name in obs.columns]
    shown = {
        "reporter": F.col("reporter").cast("string"),
        "partner": F.col("partner").cast("string"),
        "flow": F.col("_flow_given"),
        "commodity": text("commodity"),
        "classification": text("classification"),
        "breakdown": text("breakdown"),
        "freq": F.col("freq"),
        "period": F.col("_period_text"),
        "period_typed": F.col("_period_typed"),
        "period_months": text("_period_months_given"),
        "months": F.col("period_months").cast("string"),
        "currency": text("_currency_given"),
        **{f"{n}_text": F.coalesce(text(f"_{n}_given"), F.col(n).cast("string")) for n in figures},
        **{f"{n}_number": F.col(n) for n in figures},
    }
    bad = (
        obs.where(F.col("_problem").isNotNull())
        .select("_problem", *(column.alias(name) for name, column in shown.items()))
        .limit(1)
        .collect()
    )
    if not bad:
        return
    row = bad[0].asDict()
    problem = row["_problem"]
    if problem == "period":
        raise InputError(
            f"{path}: {_period_reason(row['period'], row['period_typed'])}; the ingest would "
            "quarantine such a row"
        )
    if problem in ("reporter", "partner"):
        from tradesentry.countries import to_alpha3

        given = row[problem]
        code = None if given is None else to_alpha3(given)
        if code is not None:
            raise InputError(
                f"{path}: {problem} {_quoted(given)} is not a code as the store keeps it "
                f"(the ingest would store {code}); give ISO alpha-3 codes, WLD and X… "
                "areas, as `tradesentry export --parquet` writes them"
            )
    raise InputError(f"{path}: {_reason(problem, row)}; the ingest would quarantine such a row")


def _period_reason(given: str | None, typed: bool = False) -> str:
    """The ingest's words for a period it cannot read: missing, in another notation, or a
    month or year that cannot be (2021-13, 0001-01, or a date or timestamp, ``typed``,
    outside the years)."""
    if given is None or given.strip() == "":
        return _REASONS["period missing"]
    written = typed or re.fullmatch(r"[0-9]{4}(-[0-9]{2}(-01)?)?", given.strip())
    return _REASONS["period impossible" if written else "period notation"].format(_quoted(given))


def _reason(problem: str, row: dict) -> str:
    """The ingest's words for ``problem`` (a name of ``_problem``'s) in ``row``."""
    name = problem.split(" ")[-1]
    if problem.startswith("tiny "):
        return _REASONS["tiny"].format(_quoted(row[f"{name}_text"]), name=name)
    if problem == "period future":
        today = pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%d")
        return _REASONS[problem].format(_quoted(row["period"]), today)
    if problem == "currency iso":
        iso = currencies.SPELLINGS.get((row["currency"] or "").strip().upper())
        return _REASONS[problem].format(
            _quoted(row["currency"]), f" (the ISO code is {iso})" if iso else ""
        )
    if problem in ("reporter", "partner", "flow"):
        blank = (row[problem] or "").strip() == ""
        return _REASONS[f"{problem} {'missing' if blank else 'unknown'}"].format(
            _quoted(row[problem])
        )
    if problem.startswith("figure "):
        number = row[f"{name}_number"]
        kind = (
            "nan"
            if number is None or math.isnan(number)
            else ("inf" if math.isinf(number) else "negative")
        )
        return _REASONS[f"figure {kind}"].format(_quoted(row[f"{name}_text"]), name=name)
    shown = {
        **{
            f"commodity {check}": _quoted(row["commodity"])
            for check in ("dots", "error", "formula", "float")
        },
        **{f"{n} blank": _quoted(row[n]) for n in ("commodity", "classification", "breakdown")},
        "freq unknown": _quoted(row["freq"]),
        "year_freq_m": _quoted(row["period"]),
        "month_freq_a": _quoted(row["period"]),
        "months_not_whole": _quoted(row["period_months"]),
        "months_annual": row["months"],
        "currency code": _quoted(row["currency"]),
    }
    return _REASONS[problem].format(shown.get(problem, ""))


def _check_unique(obs, path: str, has_release: bool) -> None:
    """Refuse an input holding the same observation twice in a release.

    The ingest keeps the first line and quarantines the second ("same observation as line
    N"); Parquet rows have no such order (files and row groups are read in parallel), so
    keeping "one of them" would make the findings depend on how the files were written.
    Refused instead, naming a key and how many keys are repeated: one narrow aggregate of
    the key columns.
    """
    from pyspark.sql import functions as F

    key = [*OBSERVATION_KEY, "release_id"]
    repeated = obs.groupBy(*key).agg(F.count(F.lit(1)).alias("n")).where("n > 1")
    row = repeated.agg(F.count(F.lit(1)).alias("keys"), F.min(F.struct(*key, "n")).alias("first"))
    keys, first = row.collect()[0]
    if keys:
        example = " ".join(str(first[c]) for c in SERIES_KEY if first[c] not in (None, ""))
        where = f" in release {first['release_id']}" if has_release else ""
        raise InputError(
            f"{path}: {keys} observation key(s) appear more than once in a release, e.g. "
            f"{example} {first['period']:%Y-%m} ({first['n']} rows{where}); the ingest "
            "keeps the first of such rows, but Parquet rows have no order: remove the duplicates"
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
    ``mad(x)`` (median absolute deviation) → the same computed on the sorted list
    (``_mad_sql``: each list sorted once); ``length(list_distinct(list(x)))`` →
    ``count(DISTINCT x)``.
    """
    sql = re.sub(r"list_contains\(\[([^\]]*)\],\s*([\w.]+)\)", r"(\2 IN (\1))", sql)
    sql = re.sub(r"length\(list_distinct\(list\((\w+)\)\)\)", r"count(DISTINCT \1)", sql)
    sql = re.sub(r"datediff\('day',\s*([^,()]+),\s*([^,()]+)\)", r"datediff(\2, \1)", sql)
    sql = re.sub(r"\bquantile_cont\(", "percentile(", sql)
    return re.sub(r"\bmad\(([^()]+)\)", lambda m: _mad_sql(m.group(1)), sql)


def _bound(value: str, name: str, body: str) -> str:
    """SQL of ``body`` with ``value`` computed once and named ``name`` in it (a lambda over a
    one-element array): Spark computes an expression each time it is written, inside a
    lambda once per element. Written inline, the MAD sorted its group's list sixteen times
    for each value (the inner median, its sorted list written four times, inside the
    outer one, its argument written four times): with 8,000 mirror pairs of a commodity
    inside the EU, a scan of Comext data spent 14 of its 16 minutes on the margins."""
    return f"element_at(transform(array({value}), {name} -> {body}), 1)"


def _array_median(array: str) -> str:
    """The median of a numeric array without NULLs, the two middle values averaged: one
    sort."""
    s = "sorted_values"
    lower, upper = f"CAST((size({s}) + 1) div 2 AS INT)", f"CAST(size({s}) div 2 + 1 AS INT)"
    return _bound(
        f"array_sort({array})", s, f"((element_at({s}, {lower}) + element_at({s}, {upper})) / 2)"
    )


def _mad_sql(column: str) -> str:
    """The median absolute deviation of ``column`` in its group: the median of the values'
    distances to their median, computed once (``_bound``); two sorts of the group's list."""
    values = f"collect_list({column})"
    distances = f"transform({values}, v -> abs(v - centre))"
    return _bound(_array_median(values), "centre", _array_median(distances))


def gather(rows, row_columns: Sequence[str]):
    """One row per series (its key, currency and cells), partitioned and sorted as local."""
    from pyspark.sql import functions as F

    cells = F.collect_list(F.struct(*[F.col(c) for c in row_columns])).alias("cells")
    currency = F.min_by("currency", F.struct("period", "period_months")).alias("currency")
    return (
        rows.groupBy(*SERIES_KEY)
        .agg(currency, cells)
        .repartition(*map(F.expr, GROUP_KEY_SQL))
        .sortWithinPartitions(*map(F.expr, SERIES_ORDER_SQL))
    )


#: the findings' columns in Spark's DDL (evidence as JSON text)
_OUTPUT_SCHEMA = ", ".join(
    f"{c} {'double' if c in _FLOAT_COLUMNS else 'string'}" for c in OUTPUT_COLUMNS
)


def findings_frame(series, detectors, row_columns, chunk_series: int):
    """mapInArrow over the gathered series: whole-group chunks → scan_frame → findings."""
    schema = _OUTPUT_SCHEMA
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
