"""The command line: parse options, call the api, render what it returns.

Exit codes: 0 ok, 1 findings at or above --fail-on, 2 bad input or usage (one line on stderr),
130 interrupted (Ctrl-C), 141 a reader that stopped early (``scan | head``: a broken pipe).
"""

from __future__ import annotations

import functools
import logging
import os
import re
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.padding import Padding
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from tradesentry import api, arguments, cli_cross
from tradesentry.errors import INTERRUPTED, InputError, StoreError, TradesentryError
from tradesentry.findings import csv_frame, series_apart
from tradesentry.monitor import words
from tradesentry.schema import FLOWS, SEVERITY_RANK
from tradesentry.store import (
    is_duckdb_file,
    open_store,
    read_else_write,
    remove_if_empty,
    resolve_store_path,
)
from tradesentry.text import (
    UNPUBLISHED,
    json_escaped,
    missing,
    money,
    period_span,
    period_unit,
    plural,
    printable,
    sparkline,
    sparkline_step,
)

# Markup and emoji codes off: what these consoles print is mostly data (file names, keys,
# explanations), and a commodity "[/]Z" or ":x:" is text, never a style or an emoji. Styled
# output is built as Text objects instead.
BROKEN_PIPE = 141  # the shell's code for a writer whose reader stopped (128 + SIGPIPE)


def _silence_stdout() -> None:
    """Point stdout at the null device, so flushing it at exit raises nothing more."""
    with suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


class _Console(Console):
    """Rich's console, but a reader that stops (`scan | head`) ends the command with 141:
    Rich's own 1 means "findings at or above --fail-on" here."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        _silence_stdout()
        raise SystemExit(BROKEN_PIPE)


out = _Console(soft_wrap=True, markup=False, emoji=False)
err = _Console(stderr=True, soft_wrap=True, markup=False, emoji=False)

# click's UsageError, from whichever click typer uses (recent typer carries its own copy, so
# `import click` may name other classes): BadParameter, which typer exports, derives from it.
_UsageError: type[Exception] = typer.BadParameter.__base__


# The type checker's wording, in the words of the rest of the tool (click's own, and the
# pydantic-style wording of recent typer).
_PLAIN_WORDS = {
    # an option where a value was due: `releases --diff 1 --store s.duckdb` gave "--store"
    # as the second release id
    r"'(--[\w-]+)' is not a valid int(eger)?\b": (
        r"expected a whole number, not the option \1: give every value the option takes"
    ),
    r"Input should be a valid integer, unable to parse string as an integer": (
        "expected a whole number"
    ),
    r"Input should be a valid number, unable to parse string as a number": "expected a number",
    r"'[^']*' is not a valid int(eger)?\b": "expected a whole number",
    r"'[^']*' is not a valid float\b": "expected a number",
    r"\S+ is not in the range x>=(-?[\d.]*\d)": r"expected \1 or more",
    r"\S+ is not in the range x<=(-?[\d.]*\d)": r"expected \1 or less",
    r"\S+ is not in the range (-?[\d.]*\d)<=x<=(-?[\d.]*\d)": r"expected \1 to \2",
    r"Input should be greater than or equal to (\S+)": r"expected \1 or more",
    r"Input should be less than or equal to (\S+)": r"expected \1 or less",
}


def _usage_line(exc: Exception) -> str:
    """click's message as one line: "error: invalid value for '--format': 'xml' is not …".

    typer's pydantic-style "Value error, " prefix says nothing the line does not.
    """
    message = " ".join(exc.format_message().split()).replace("Value error, ", "")
    for said, plain in _PLAIN_WORDS.items():
        message = re.sub(said, plain, message)
    if message[1:2].islower():  # "Missing argument …", not an upper-case code
        message = message[0].lower() + message[1:]
    return f"error: {printable(message.removesuffix('.'))}"


def _stdout_silenced() -> bool:
    """Whether stdout now points at the null device, as a console that met a closed pipe
    leaves it (``_silence_stdout``, and Rich's own ``on_broken_pipe``)."""
    try:
        here, null = os.fstat(sys.stdout.fileno()), os.stat(os.devnull)
    except (OSError, ValueError):
        return False
    return (here.st_dev, here.st_ino) == (null.st_dev, null.st_ino)


@contextmanager
def _one_line_usage_errors() -> Iterator[None]:
    """A usage error as one line on stderr and exit code 2, instead of click's boxed help.

    The help is printed by typer's console, whose closed pipe (`--help | head`) ends the
    process with Rich's 1: the tool's 141 instead, as for every other output."""
    try:
        yield
    except SystemExit as exc:
        if exc.code == 1 and _stdout_silenced():
            raise SystemExit(BROKEN_PIPE) from None
        raise
    except _UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # the help itself: typer prints it
            raise
        err.print(_usage_line(exc), markup=False, highlight=False)
        raise typer.Exit(2) from None


#: what a command interrupted by Ctrl-C leaves, said after "tradesentry: NAME interrupted"
_INTERRUPTED_LEAVES = {"scan": "; no scan of it was saved, the store is as it was"}
#: what a command has committed by now, for its interruption's line (the scan it saved,
#: whose output an interruption then cuts short); cleared as each command starts
_DONE: dict[str, object] = {}


def _say_interrupted(command: Callable[[], str | None]) -> None:
    name = command()
    leaves = _INTERRUPTED_LEAVES.get(name or "", "")
    if name == "scan" and _DONE.get("scan") is not None:
        leaves = f"; scan {_DONE['scan']} was saved, its output is incomplete"
    err.print(
        f"tradesentry: {name or 'command'} interrupted{leaves}", markup=False, highlight=False
    )


@contextmanager
def _ctrl_c_exits_130(command: Callable[[], str | None] = lambda: None) -> Iterator[None]:
    """Ctrl-C ends with exit code 130 and no traceback, even in the middle of a DuckDB query.

    DuckDB turns the KeyboardInterrupt it meets in a query into an error of its own (DuckDB
    2.0: RuntimeError "Query interrupted"), which escaped as a traceback and exit code 1.
    So the signal is noted on its way to Python's own handler, and whatever error follows
    it is taken for the interrupt it was. A SIGINT ignored or handled elsewhere is left so.
    """
    in_main_thread = threading.current_thread() is threading.main_thread()
    if not in_main_thread or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    interrupted = False
    INTERRUPTED.clear()
    _DONE.clear()

    def note(signum: int, frame) -> None:
        nonlocal interrupted
        interrupted = True
        INTERRUPTED.set()
        signal.default_int_handler(signum, frame)

    signal.signal(signal.SIGINT, note)
    try:
        yield
    except typer.Exit:  # a command that said what its interruption left (ingest) and exits
        raise
    except KeyboardInterrupt as exc:
        if not getattr(exc, "told", False):  # a fetch says what it had stored, in one line
            _say_interrupted(command)
        raise typer.Exit(130) from None
    except Exception:
        if interrupted:
            _say_interrupted(command)
            raise typer.Exit(130) from None
        raise
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        INTERRUPTED.clear()  # an interrupt is this command's: later errors are errors again


class CliGroup(TyperGroup):
    """The app's group: usage errors in one line, Ctrl-C without a traceback.

    Its own parsing, then the command's (inside ``invoke``), go through here. Hooked in
    the group rather than in ``main`` so that every way in, the console script and Typer's
    test runner alike, keeps typer's handling of exit codes and closed pipes.
    """

    def make_context(self, info_name: str | None, args: list[str], parent=None, **extra: Any):
        with _one_line_usage_errors():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx) -> Any:
        # the command's name is known once the group has resolved it, inside ``invoke``
        with _one_line_usage_errors(), _ctrl_c_exits_130(lambda: ctx.invoked_subcommand):
            return super().invoke(ctx)


app = typer.Typer(
    name="tradesentry",
    help="Flag the figures in official trade statistics that do not add up, and say why.",
    cls=CliGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--store",
        envvar="TRADESENTRY_STORE",
        help="The store (DuckDB file).",
        show_default="./tradesentry.duckdb",
    ),
]


class TableFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class FindingFormat(StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


class Severity(StrEnum):
    high = "high"
    medium = "medium"
    low = "low"


class Encoding(StrEnum):
    utf8 = "utf-8"
    latin1 = "latin-1"


def _comma_list(
    choices: Sequence[str] | None = None, split: Callable[[str], list[str]] | None = None
) -> Callable[[str], list[str]]:
    """The parser of one occurrence of a repeatable filter option: a value, or several
    separated by commas (``--partner USA,HKG`` is ``--partner USA --partner HKG``), as
    ``fetch --commodity 27,2710`` and the api's lists take them (``--partner USA,HKG`` had
    been one code no series has). Each occurrence gives a list; ``key_filter`` flattens
    them. ``choices``: the values each part must be, in any case (a bad one is a usage
    error, "'sideways' is not one of …", as a choice option's). ``split``: how a value is
    cut at its commas where a part may hold one (a country's name, "Korea, Rep.":
    ``arguments.country_list``). No code is
    split: the store keeps countries as alpha-3 codes, flows and kinds are fixed words, and
    HS, CN and SITC codes are digits (the ingest refuses no comma in a commodity code, but
    no nomenclature writes one). An empty part ("USA,") is left for the api to refuse as
    an empty code."""

    def parse(value: str) -> list[str]:
        if split is not None:
            parts = split(value)
        else:
            parts = [value] if "," not in value else [part.strip() for part in value.split(",")]
        if choices is None:
            return parts
        listed = ", ".join(f"'{c}'" for c in choices)
        for part in parts:
            if part.strip().lower() not in choices:
                raise typer.BadParameter(f"{part.strip()!r} is not one of {listed}")
        return [part.strip().lower() for part in parts]

    return parse


def _flattened(ctx, param, lists):
    """The parts of every occurrence of a ``key_filter`` option, in order (None: none)."""
    return [part for parts in lists for part in parts] if lists else None


def key_filter(
    help: str,
    metavar: str,
    choices: Sequence[str] | None = None,
    split: Callable[[str], list[str]] | None = None,
):
    """A repeatable filter option (scan's --reporter, --partner, --flow, --commodity,
    --kind) that takes several values in one occurrence too, separated by commas: the one
    way every such option reads its values (see ``_comma_list``)."""
    return typer.Option(
        parser=_comma_list(choices, split),
        callback=_flattened,
        metavar=f"{metavar}[,{metavar}…]",
        help=f"{help} Several: repeat the option or separate them by commas.",
    )


#: an error line longer than this is cut in its middle: a 100,000-character code typed by
#: mistake came back whole, a screenful of one line
MAX_ERROR_LINE = 1_000


def _error_text(exc: Exception) -> str:
    """An error's message as the terminal may show it: control characters escaped, so a
    code typed with ESC cannot retitle the window, but the lines the message has itself
    kept (a failed fetch adds what it stored before it stopped), each at most
    ``MAX_ERROR_LINE`` characters (its start and end kept, where the reason is)."""
    return "\n".join(_cut(printable(line)) for line in str(exc).split("\n"))


def _cut(line: str, most: int = MAX_ERROR_LINE) -> str:
    if len(line) <= most:
        return line
    half = most // 2
    return f"{line[:half]} … ({len(line) - 2 * half:,} characters left out) … {line[-half:]}"


def _write_error(exc: OSError | UnicodeEncodeError) -> str:
    """An OS error in words: "out.html: No space left on device", "cannot write the
    output: No space left on device" (stdout),
    "the output's encoding (ascii) cannot write '→': set PYTHONIOENCODING=utf-8"."""
    if isinstance(exc, UnicodeEncodeError):
        text = printable(exc.object[exc.start : exc.end])
        return f"the output's encoding ({exc.encoding}) cannot write '{text}': set PYTHONIOENCODING=utf-8"
    if exc.filename:  # a file read or written: named, whichever it was
        return f"{printable(str(exc.filename))}: {exc.strerror or exc}"
    return f"cannot write the output: {exc.strerror or exc}"


def command(*args, **kwargs):
    """app.command that turns a TradesentryError into one line on stderr and exit code 2."""

    def wrap(fn):
        @functools.wraps(fn)
        def run(*a, **kw):
            try:
                return fn(*a, **kw)
            except TradesentryError as exc:
                err.print(f"error: {_error_text(exc)}", markup=False, highlight=False)
                raise typer.Exit(2) from None
            except BrokenPipeError:
                # The reader stopped (`| head`) while the command wrote without Rich:
                # quietly, with 141 as above, not click's 1.
                _silence_stdout()
                raise typer.Exit(BROKEN_PIPE) from None
            except (OSError, UnicodeEncodeError) as exc:
                # An output that cannot be written (a full disk, a terminal in ASCII) is
                # no finding: one line and 2, never a traceback and --fail-on's 1.
                _silence_stdout()  # nor a second error when Python flushes it at exit
                err.print(f"error: {_write_error(exc)}", markup=False, highlight=False)
                raise typer.Exit(2) from None

        return app.command(*args, **kwargs)(run)

    return wrap


# -- ingest ------------------------------------------------------------------------------
@command()
def ingest(
    files: Annotated[list[Path], typer.Argument(help="Files to ingest (gzip is fine).")],
    source: Annotated[
        str, typer.Option(help="auto, comtrade, comtrade-legacy, sdmx, csv or mapped.")
    ] = "auto",
    mapping: Annotated[
        Path | None, typer.Option(help="TOML column mapping for other tables.")
    ] = None,
    published: Annotated[
        str | None, typer.Option(help="Release date YYYY-MM-DD (for vintages).")
    ] = None,
    encoding: Annotated[
        Encoding | None,
        typer.Option(case_sensitive=False, help="utf-8 or latin-1 (default: detected)."),
    ] = None,
    store: StoreOption = None,
) -> None:
    """Read customs releases into the store; bad rows go to the quarantine with a reason."""
    options = dict(
        source=source,
        mapping=mapping,
        published=published,
        encoding=encoding.value if encoding else None,
    )
    failed = False
    # files of this command in the store (ingested now, or there already), noted as each
    # one's transaction ends: a Ctrl-C while its lines are printed leaves it whole in there
    stored: list[Path] = []
    target = resolve_store_path(store)
    new = not target.exists()
    try:
        with open_store(store) as st:
            for n, path in enumerate(files, start=1):
                doing = f"ingesting {path.name}" + (
                    f" ({n} of {len(files)})" if len(files) > 1 else ""
                )
                failed = not _ingest_file(st, path, options, doing, stored) or failed
    except _IngestInterrupted as stop:
        if new and not stored:  # the store as it was: none, not an empty one
            _remove_store(target)
        err.print(stop.line(len(stored)), markup=False, highlight=False)
        raise typer.Exit(130) from None
    except BaseException as exc:
        # Ctrl-C between files or on closing the store: what is in it is whole
        if not (isinstance(exc, KeyboardInterrupt) or INTERRUPTED.is_set()):
            raise
        if new and not stored:  # the store as it was: none, not an empty one
            _remove_store(target)
        err.print(
            f"tradesentry: ingest interrupted; {len(stored)} of {plural(len(files), 'file')} "
            f"of this command {'is' if len(stored) == 1 else 'are'} in the store, each whole",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(130) from None
    if failed and new and not stored:  # the store as it was: none, not an empty one
        _remove_store(target)
    if failed:
        raise typer.Exit(2)


def _remove_store(target: Path) -> None:
    """Remove a store this command made and left empty (``store.remove_if_empty``)."""
    remove_if_empty(target)


class _IngestInterrupted(BaseException):
    """Ctrl-C while a file was read into the store: its transaction was rolled back."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.path = path

    def line(self, kept: int) -> str:
        """What the store holds, in one line, after ``kept`` files of the command went in."""
        name = printable(self.path.name)
        if not kept:
            return (
                "tradesentry: ingest interrupted; the store is as it was "
                f"(nothing of {name} was kept)"
            )
        stay = "stays" if kept == 1 else "stay"
        return (
            f"tradesentry: ingest interrupted; the store is as it was before {name} (nothing "
            f"of it was kept); the {plural(kept, 'file')} before it {stay}, and running the "
            "same command again reads the rest (what is stored is a no-op)"
        )


def _ingest_file(st, path: Path, options: dict, doing: str, stored: list[Path]) -> bool:
    """Ingest one file and say what landed; False (the reason on stderr) if it could not.
    The file goes into ``stored`` as soon as the store holds it, before anything is said."""
    try:
        # The store's ingest reports nothing until the file is in: a spinner and the time,
        # gone before the file's lines are printed (the bar would garble stdout's lines).
        with _progress(err, doing):
            result = st.ingest(path, **options)
            stored.append(path)  # committed: a Ctrl-C as the spinner goes leaves it in
    except TradesentryError as exc:
        err.print(f"error: {_error_text(exc)}", markup=False, highlight=False)
        return False
    except BaseException as exc:
        # Ctrl-C (or DuckDB's error in its place) inside the store's ingest: rolled back,
        # unless the file was in already (the command's own handler counts it in)
        if (isinstance(exc, KeyboardInterrupt) or INTERRUPTED.is_set()) and path not in stored:
            raise _IngestInterrupted(path) from exc
        raise
    if result.already_ingested:
        out.print(
            f"{printable(path)}: already ingested as release {result.release_id}; nothing to do",
            markup=False,
        )
        # a file none of whose rows landed fails again: a pipeline retrying it must not
        # read the second run as the file going in
        return _landed(path, result)
    out.print(
        f"{printable(path)}: release {result.release_id} ({result.source}): "
        f"{plural(result.rows_read, 'row')} read, {result.rows_accepted:,} accepted, "
        f"{result.rows_quarantined:,} quarantined",
        markup=False,
        highlight=False,
    )
    if result.rows_quarantined:
        _print_quarantine_sample(st, result.release_id, str(path))
    for note in result.notes:  # it may quote the file's own text: escaped, as every line
        err.print(
            f"note: {printable(path)}: {printable(note)} (docs/ingest.md)",
            markup=False,
            highlight=False,
        )
    return _landed(path, result)


def _landed(path: Path, result) -> bool:
    """False, saying so, where no row of the file landed: the release and its quarantine
    stay, for the reader to see why; but a pipeline must not read a file of which no figure
    landed as one that went in."""
    if result.rows_read and not result.rows_accepted:
        err.print(
            f"error: {printable(path)}: no row landed: "
            f"{'the' if result.rows_read == 1 else 'all'} "
            f"{plural(result.rows_read, 'row')} quarantined "
            f"(tradesentry quarantine --release {result.release_id})",
            markup=False,
            highlight=False,
        )
        return False
    return True


def _print_quarantine_sample(st, release_id: int, path: str, limit: int = 5) -> None:
    sample = st.quarantine(release_id).head(limit)
    for row in sample.itertuples():
        err.print(printable(f"{path}:{row.line}: {row.reason}"), markup=False, highlight=False)
    total = len(st.quarantine(release_id))
    if total > limit:
        err.print(
            f"… and {total - limit:,} more: tradesentry quarantine --release {release_id}",
            markup=False,
        )


@command()
def releases(
    format: Annotated[
        TableFormat, typer.Option("--format", case_sensitive=False)
    ] = TableFormat.table,
    diff: Annotated[
        tuple[int, int] | None,
        typer.Option(
            help="Compare two releases A B: what B revised, added or dropped (with --format "
            "csv, one row per changed figure)."
        ),
    ] = None,
    store: StoreOption = None,
) -> None:
    """Each release with its counts: rows read = accepted + quarantined."""
    if diff is not None:
        with open_store(store, read_only=True) as st:
            result = api.release_diff(st, *diff)
        if format is TableFormat.csv:  # the changed figures: the table a spreadsheet wants
            _write_csv(result.cells)
            return
        cli_cross.print_release_diff(out, result, as_json=format is TableFormat.json)
        return
    with open_store(store, read_only=True) as st:
        frame = st.releases()
    frame = frame.assign(
        published=frame["published"].map(_iso_date), ingested_at=frame["ingested_at"].map(_iso_time)
    )
    if format is TableFormat.table:  # fits 80 columns: the full record is in json and csv
        frame = _releases_table(frame)
    short = ("id", "published", "read", "accepted", "quarantined")
    marked = format is TableFormat.table and frame["published"].astype(str).str.endswith("*").any()
    caption = f"* {UNPUBLISHED}" if marked else None
    _emit(frame, format, title="Releases", whole=short, caption=caption)


def _releases_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The releases as an 80-column terminal shows them: each release's counts, its file
    and when it was published (else the day it was ingested, marked so); the digests, the
    times and the reading are in json and csv."""
    ingested = frame["ingested_at"].astype(str).str[:10] + "*"
    table = pd.DataFrame(
        {
            "id": frame["id"],
            "file": frame["file"],
            "source": frame["source"],
            "published": frame["published"].where(frame["published"].astype(bool), ingested),
            "read": frame["rows_read"],
            "accepted": frame["rows_accepted"],
            "quarantined": frame["rows_quarantined"],
        }
    )
    if frame["reading"].fillna("").astype(str).str.strip().any():
        table["reading"] = frame["reading"]
    return table


@command()
def quarantine(
    release: Annotated[int | None, typer.Option(help="Only this release.")] = None,
    format: Annotated[
        TableFormat, typer.Option("--format", case_sensitive=False)
    ] = TableFormat.table,
    store: StoreOption = None,
) -> None:
    """Lines that did not land, with their line number, raw text and reason."""
    with open_store(store, read_only=True) as st:
        # An unknown release is a mistake to name, as `digest` does, not an empty table.
        if release is not None and release not in set(st.releases()["id"]):
            raise InputError(f"no release {release} in the store (see `tradesentry releases`)")
        frame = st.quarantine(release)
    if frame.empty and format is TableFormat.table:  # an empty table reads as a failure
        of = f" of release {release}" if release is not None else ""
        out.print(f"Nothing quarantined{of}: every row read landed.", markup=False)
        return
    _emit(frame, format, title="Quarantine")


# -- scan --------------------------------------------------------------------------------
@command()
def scan(
    # Codes in any case (chn is CHN): the api normalises them as the store keeps them.
    reporter: Annotated[
        list[str] | None,
        key_filter(
            "Reporter(s): a country code or name (a name with a comma, 'Korea, Rep.', is one).",
            "COUNTRY",
            split=arguments.country_list,
        ),
    ] = None,
    partner: Annotated[
        list[str] | None,
        key_filter(
            "Partner(s): a country code or name (a name with a comma, 'Korea, Rep.', is one).",
            "COUNTRY",
            split=arguments.country_list,
        ),
    ] = None,
    flow: Annotated[
        list[str] | None,
        key_filter(f"Only these flows: {', '.join(FLOWS)}.", "FLOW", choices=FLOWS),
    ] = None,
    commodity: Annotated[
        list[str] | None, key_filter("TOTAL or a commodity code (HS, CN…).", "CODE")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only findings ending in or after YYYY-MM.")
    ] = None,
    kind: Annotated[list[str] | None, key_filter("Only these detectors.", "KIND")] = None,
    format: Annotated[
        FindingFormat, typer.Option("--format", case_sensitive=False)
    ] = FindingFormat.table,
    engine: Annotated[str, typer.Option(help="local or spark.")] = "local",
    limit: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Only the N worst findings (default: 30 in the table, all in json, jsonl, csv).",
        ),
    ] = None,
    fail_on: Annotated[
        Severity | None,
        typer.Option(
            case_sensitive=False,
            help="Exit 1 if a finding is this severe or worse (high > medium > low).",
        ),
    ] = None,
    new: Annotated[
        bool, typer.Option("--new", help="Only findings the previous scan did not have.")
    ] = False,
    resolved: Annotated[
        bool, typer.Option("--resolved", help="Only findings of the previous scan now gone.")
    ] = False,
    baseline: Annotated[
        int | None,
        typer.Option(
            "--baseline",
            min=1,
            metavar="SCAN",
            help="--new/--resolved: compare with this saved scan (default: the previous "
            "scan with the same options).",
        ),
    ] = None,
    master: Annotated[
        str | None, typer.Option(help="Spark master (--engine spark): local[*] or a cluster URL.")
    ] = None,
    input: Annotated[
        str | None,
        typer.Option(
            "--input",
            help="Spark: canonical Parquet to scan instead of the store (not saved in it).",
        ),
    ] = None,
    findings_parquet: Annotated[
        str | None,
        typer.Option(help="Spark: also write the findings as Parquet in this new directory."),
    ] = None,
    store: StoreOption = None,
) -> None:
    """Run every detector over every series and print the findings, worst first."""
    spark_options = {
        k: v
        for k, v in {"master": master, "input": input, "findings_out": findings_parquet}.items()
        if v is not None
    }
    _check_scan_options(engine, spark_options, new, resolved, baseline, fail_on)
    selection = dict(
        reporter=reporter or None,
        partner=partner or None,
        flow=flow or None,
        commodity=commodity or None,
        since=since,
        kinds=kind or None,
        engine=engine,
        **spark_options,
    )
    if input is not None:  # not the store's data: the store is neither read nor written
        with _progress(err, "scanning", "observations") as advance:
            found = api.scan(None, progress=advance, **selection)
        _emit_findings(found, format, limit)
        _exit_on(found, fail_on)
        return
    with _existing_store(store) as st:  # a scan writes its findings, but makes no store
        if baseline is not None:
            api.scan_info(st, baseline)  # an unknown scan is refused before scanning
        with _progress(err, "scanning", "observations") as advance:
            # Filters that match no series of the store are an InputError of the api, so
            # exit 2 with its line, as for an unknown series, release or scan: a mistyped
            # code is bad input, and a pipeline's `--fail-on` must not pass it as "No findings."
            found = api.scan(st, progress=advance, **selection)
        _DONE["scan"] = found.scan_id  # saved: an interruption from here leaves it
        caption = None
        if new or resolved:
            found, caption = _compared(st, found, new, baseline)
        # Inside the store's block: a saved scan's findings are read from the store as shown.
        _emit_findings(found, format, limit, caption)
        _note_unconverted(st, found, selection)
        _exit_on(found, fail_on)


def _note_unconverted(st, found: api.Findings, selection: dict) -> None:
    """One line on stderr where the ranking compared amounts of several currencies, some
    without a rate to the US dollar, as they are; and one where the mirror check could not
    compare figures for want of a rate."""
    keys = ("reporter", "partner", "flow", "commodity", "kinds")
    for note in (
        api.ranking_note(st, found),
        api.mirror_note(st, **{k: selection.get(k) for k in keys}),
    ):
        if note:
            err.print(f"note: {note}", markup=False, highlight=False)


def _check_scan_options(
    engine: str, spark_options: dict, new: bool, resolved: bool, baseline, fail_on
) -> None:
    """Refuse, before anything is read, the combinations of ``scan``'s options that
    cannot work together."""
    if spark_options and engine != "spark":
        raise InputError("--master, --input and --findings-parquet need --engine spark")
    if new and resolved:
        raise InputError("--new and --resolved: choose one")
    if baseline is not None and not (new or resolved):
        raise InputError("--baseline compares with a scan: give --new or --resolved too")
    if resolved and fail_on is not None:
        raise InputError(
            "--fail-on judges the findings a scan has, --resolved lists those gone: choose one"
        )
    if "input" in spark_options and (new or resolved):
        raise InputError(
            "--new and --resolved compare with the store's saved scans; an --input scan "
            "reads other data and is not saved in the store"
        )
    out = spark_options.get("findings_out")
    if out is not None and "://" not in out:  # a URL: Spark's to check
        _check_writable(Path(out), directory=True)
    if engine == "spark":  # what Spark cannot use is refused before the store is opened
        from tradesentry.engines.spark import check_options

        check_options(spark_options.get("master"), spark_options.get("input"), out)


def _compared(st, found: api.Findings, new: bool, baseline: int | None):
    """``--new``/``--resolved``: the findings new in, or gone from, the scan just saved,
    against ``baseline`` or else the previous scan with the same options; and the caption
    that says against what."""
    compare = api.new_findings if new else api.resolved_findings
    current = found.scan_id
    if baseline is None:
        baseline = api.previous_scan(st, current)
    found = compare(st, current, baseline=baseline)
    since = "no earlier scan of these options" if baseline is None else f"scan {baseline}"
    if baseline is not None and not api.same_scope(st, current, baseline):
        since += ", where both scans looked"
    return found, f"scan {current}: {'new since' if new else 'gone since'} {since}"


def _exit_on(found: api.Findings, fail_on: Severity | None) -> None:
    """Exit code 1 when a finding is at least as severe as ``--fail-on``."""
    if fail_on is None:
        return
    bar = SEVERITY_RANK[fail_on.value]
    if any(SEVERITY_RANK[f["severity"]] <= bar for f in found):
        raise typer.Exit(1)


#: findings the table shows where no --limit is given (the exports write them all)
TABLE_LIMIT = 30


def _emit_findings(
    found: api.Findings, format: FindingFormat, limit: int | None, caption: str | None = None
) -> None:
    """Write the findings, the ``limit`` worst where given; json, jsonl and csv stream a
    saved scan batch by batch. ``caption``: what the table's heading says the findings are,
    where not their scan."""
    if format is FindingFormat.table:
        # How to see the rest, only as it works: --limit applies in every format, so where
        # one was given an export is no way to see more than it lets through.
        more = f"--limit {len(found)} for all"  # as typed: no thousands separator
        if limit is None:
            more = f"--limit {len(found)}, or --format json for all"
        _findings_table(found, TABLE_LIMIT if limit is None else limit, caption, more)
        return
    if not len(found):  # said on stderr, so an empty export is told from a failed run
        err.print(f"note: no findings ({_findings_of(found, caption)})", highlight=False)
    if limit is not None:
        found = found.head(limit)
    if format is FindingFormat.json:
        found.write_json(sys.stdout)
        sys.stdout.write("\n")
    elif format is FindingFormat.jsonl:
        found.write_json(sys.stdout, lines=True)
    elif format is FindingFormat.csv:
        for i, frame in enumerate(found.frames()):  # at least one: the header is written
            _write_csv(csv_frame(frame), header=i == 0)


_SEVERITY_STYLE = {
    "high": "bold white on red",
    "medium": "black on yellow",
    "low": "black on grey70",
}


def _findings_of(found: api.Findings, caption: str | None) -> str:
    """What the findings are, as headings and notes name them: ``caption``, else their
    scan (its id: a later ``--baseline`` names it)."""
    return caption or (f"scan {found.scan_id}" if found.scan_id is not None else "not saved")


def _findings_table(
    found: api.Findings, limit: int, caption: str | None = None, more: str = ""
) -> None:
    """Each finding as a heading line (severity, kind, series, months, money) and its text;
    ``more``: how to see those past ``limit`` with the options of the command shown (the
    count alone where it has none).

    A block per finding rather than a table: explanations are sentences, and a table
    column squeezes them into a few words a line on an ordinary terminal.
    """
    if not len(found):
        out.print(f"No findings ({_findings_of(found, caption)}).")
        return
    count = Text(plural(len(found), "finding"), style="bold")
    out.print(Text.assemble(count, f" ({_findings_of(found, caption)}), worst first\n"))
    shown = found.head(limit)  # a saved scan reads only these rows: never the whole scan
    names = series_apart(shown.to_frame())
    for n, (f, apart) in enumerate(zip(shown.to_records(), names, strict=True), start=1):
        period = period_span(f["period"], f["period_end"], f.get("freq"), "…")
        series = f"{f['reporter']}→{f['partner']} {f['flow']} {f['commodity']}{apart}"
        heading = Text.assemble(
            f"{n:>2}. ",
            (f" {f['severity']} ", _SEVERITY_STYLE.get(f["severity"], "")),
            " ",
            (f["kind"], "bold"),
            printable(f"  {series}  {period}  "),
            (f"{money(f['impact'], f['currency'])} at stake", "bold"),
        )
        out.print(heading)
        out.print(Padding(Text(printable(f["explanation"])), (0, 0, 1, 4)), soft_wrap=False)
    if len(found) > limit:
        out.print(f"… {len(found) - limit:,} more" + (f" ({more})" if more else ""))


@command()
def series(
    reporter: str,
    partner: str,
    flow: str,
    commodity: str,
    classification: Annotated[
        str | None,
        typer.Option(help="HS, H5…: which, when the store holds the series under several."),
    ] = None,
    freq: Annotated[
        str | None,
        typer.Option(help="M or A: which, when the store holds the series monthly and annually."),
    ] = None,
    breakdown: Annotated[
        str | None,
        typer.Option(help="A part of the flow (UN Comtrade: partner2=0;customs=C00;mot=3200)."),
    ] = None,
    store: StoreOption = None,
) -> None:
    """One series in the terminal: its values, a chart in text, its findings and revisions."""
    with open_store(store, read_only=True) as st:  # an unsaved scan, if any: it only reads
        view = api.series(
            st,
            reporter,
            partner,
            flow,
            commodity,
            classification=classification,
            freq=freq,
            breakdown=breakdown,
        )
        key = view.key  # the codes as the store keeps them: chn prk export total is CHN…TOTAL
        revised = api.revisions(
            st,
            **key,
            classification=view.classification,
            breakdown=view.breakdown,
            freq=view.freq,
        )
    obs = view.observations
    currency = obs["currency"].iat[0]
    name = f"{key['reporter']} → {key['partner']} {key['flow']} {key['commodity']}"
    name += words.part(view.breakdown)  # a part of the flow is never headed as the whole
    under = f"{view.classification}, " if classification else ""
    under += "annual, " if view.freq == "A" else ""
    out.print(Text.assemble((printable(name), "bold"), printable(f" ({under}{currency})")))
    for line in _series_chart(_sparkline_values(obs), currency, view.freq, out.width):
        out.print(line, highlight=False)
    flagged = _flagged_periods(view.findings)
    table = Table(show_edge=False)
    for column in ("period", "months", "value", "flags"):
        table.add_column(column, justify="right" if column == "value" else "left")
    # Every period of the series' span has a row, to the last a finding names (a stop runs
    # past its last figure): one the store does not hold has an empty value, as has one it
    # holds without a figure (withheld by the source, so flagged).
    step = 12 if view.freq == "A" else 1
    index = _months_of(obs["period"])
    covered = {m for i, n in zip(index, obs["period_months"], strict=True) for m in range(i, i + n)}
    held = [(i, row.period_months, row) for i, row in zip(index, obs.itertuples(), strict=True)]
    last = max([index.max(), *_months_of(view.findings.to_frame()["period_end"])])
    gaps = [(i, 0, None) for i in range(index.min(), last + 1, step) if i not in covered]
    for i, _, row in sorted(held + gaps, key=lambda cell: cell[:2]):
        month = f"{i // 12:04d}-{i % 12 + 1:02d}"
        withheld = row is not None and pd.isna(row.value)
        marks = (["withheld"] if withheld else []) + sorted(flagged.get((view.freq, month), ()))
        # a combined figure (China's January–February) is labelled by its span, as the
        # scan's headings write it: by its first month it read as a second January
        end = i + (1 if row is None else row.period_months) - 1
        table.add_row(
            period_span(month, f"{end // 12:04d}-{end % 12 + 1:02d}", view.freq, "…"),
            "" if row is None else str(row.period_months),
            "" if row is None or withheld else money(row.value, currency),
            ", ".join(marks),
        )
    out.print(table)
    _findings_table(view.findings, limit=50)
    if view.history["release_id"].nunique() > 1:
        cli_cross.print_revisions(out, revised, currency)


# -- cross checks ------------------------------------------------------------------------
ClassificationOption = Annotated[
    str | None,
    typer.Option(help="HS, H5…: which, where the store holds a commodity under several."),
]
BreakdownOption = Annotated[
    str | None,
    typer.Option(help="A part of each flow (UN Comtrade: partner2=0;customs=C00;mot=3200)."),
]
PairFreqOption = Annotated[
    str | None,
    typer.Option(
        "--freq", help="M or A: by month or by year (default: monthly where the store has it)."
    ),
]


@command()
def mirror(
    reporter: str,
    partner: str,
    commodity: Annotated[str | None, typer.Option(help="One commodity (default: all).")] = None,
    classification: ClassificationOption = None,
    breakdown: BreakdownOption = None,
    freq: PairFreqOption = None,
    format: Annotated[
        TableFormat, typer.Option("--format", case_sensitive=False)
    ] = TableFormat.table,
    store: StoreOption = None,
) -> None:
    """Both records of a pair's trade and the gap between them, month by month (by year for a pair held only by year, or with --freq A)."""
    with open_store(store, read_only=True) as st:
        view = api.mirror_pair(
            st,
            reporter,
            partner,
            commodity,
            classification=classification,
            breakdown=breakdown,
            freq=freq,
        )
    if format is TableFormat.csv:
        _write_csv(view.frame)
        return
    cli_cross.print_mirror(out, view, as_json=format is TableFormat.json)


@command()
def gap(
    reporter: str,
    partner: str,
    start: Annotated[str | None, typer.Option("--from", help="First month, YYYY-MM.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last month, YYYY-MM.")] = None,
    classification: ClassificationOption = None,
    breakdown: BreakdownOption = None,
    freq: PairFreqOption = None,
    format: Annotated[
        TableFormat, typer.Option("--format", case_sensitive=False)
    ] = TableFormat.table,
    store: StoreOption = None,
) -> None:
    """What the partner's record and unit values imply is missing from the reporter's."""
    with open_store(store, read_only=True) as st:
        result = api.missing_trade(
            st,
            reporter,
            partner,
            start,
            end,
            classification=classification,
            breakdown=breakdown,
            freq=freq,
        )
    if format is TableFormat.csv:
        _write_csv(result.frame)
        return
    cli_cross.print_missing(out, result, as_json=format is TableFormat.json)


@command()
def rates(
    file: Annotated[
        Path | None, typer.Argument(help="CSV currency,period,per_usd, or ECB's EXR layout.")
    ] = None,
    format: Annotated[
        TableFormat, typer.Option("--format", case_sensitive=False)
    ] = TableFormat.table,
    store: StoreOption = None,
) -> None:
    """Load monthly exchange rates into the store (or list them, without FILE)."""
    if file is not None:  # before the store is opened (and made, if it is new)
        _check_input_file(file)
    target = resolve_store_path(store)
    new = file is not None and not target.exists()
    try:
        with open_store(store, read_only=file is None) as st:
            if file is None:
                frame = api.rates(st)
                # monthly rates, named as every period is (YYYY-MM), as the file gives them
                months = frame["period"].map(lambda p: None if pd.isna(p) else f"{p:%Y-%m}")
                _emit(frame.assign(period=months), format, title="Rates")
                return
            result = api.load_rates(st, file)
    except TradesentryError:
        if new:  # the store as it was: none, not an empty one
            _remove_store(target)
        raise
    cli_cross.print_rates_result(out, result)


#: the fewest marks a series' chart keeps beside its lowest and highest figure: on a
#: narrower terminal the figures are left out
_CHART_MARKS = 24


def _series_chart(values: np.ndarray, currency: str, freq: str, width: int) -> list[str]:
    """The series' sparkline within ``width`` columns, its lowest and highest figure beside
    it where there is room, and, where it is drawn one mark for several periods, a line
    saying so: a terminal wraps a longer line, and a 19-year series was 228 marks."""
    unit = period_unit(freq)
    finite = values[np.isfinite(values)]
    beside = (
        f"  {money(finite.min(), currency)} to {money(finite.max(), currency)} a {unit}"
        if finite.size
        else ""
    )
    if width - len(beside) < min(_CHART_MARKS, len(values)):
        beside = ""
    room = max(1, width - len(beside))
    lines = [sparkline(values, width=room) + beside]
    step = sparkline_step(len(values), room)
    if step > 1:
        lines.append(f"(each mark the median of {plural(step, unit)})")
    return lines


def _sparkline_values(obs: pd.DataFrame) -> np.ndarray:
    """The series' monthly figures on a full monthly axis, a combined figure's months (China's
    January–February) at its monthly average where they have no figure of their own; an
    annual series' years on a yearly one (NaN where a period was not reported)."""
    monthly = obs[obs["freq"] != "A"]
    step = "MS"
    if monthly.empty:
        monthly, step = obs[obs["freq"] == "A"], "YS"
    if monthly.empty:
        return np.array([])
    months = monthly["period_months"].to_numpy() if step == "MS" else np.ones(len(monthly), int)
    spread = monthly.loc[monthly.index.repeat(months)]  # a row per month a figure covers
    within = spread.groupby(level=0).cumcount().to_numpy()
    at = (pd.PeriodIndex(pd.to_datetime(spread["period"]), freq="M") + within).to_timestamp()
    each = spread["value"].to_numpy(dtype=float) / np.repeat(months, months)
    values = pd.Series(each, index=at)
    single = np.repeat(months == 1, months)
    # a month's own figure first; where two combined figures cover one month (an
    # incoherent release, flagged so), their averages are averaged, not a crash
    own, combined = (values[mask].groupby(level=0).mean() for mask in (single, ~single))
    values = own.combine_first(combined)
    axis = pd.date_range(values.index.min(), values.index.max(), freq=step)
    return values.reindex(axis).to_numpy(dtype=float)


def _freq(freq) -> str:
    return "A" if freq == "A" else "M"


def _months_of(periods: pd.Series) -> np.ndarray:
    """Periods (dates, or YYYY-MM labels) as month numbers (year × 12 + month − 1)."""
    months = pd.to_datetime(periods.dropna().astype(str).str[:7], format="%Y-%m").dt.to_period("M")
    return (months.dt.year * 12 + months.dt.month - 1).to_numpy()


def _flagged_periods(found: api.Findings) -> dict[tuple[str, str], set[str]]:
    """The kinds flagged at each (frequency, YYYY-MM) of a series: an annual finding flags
    its years' rows (at their first month), never the months of a monthly series."""
    periods: dict[tuple[str, str], set[str]] = {}
    for f in found:
        freq = _freq(f.get("freq"))
        months = pd.period_range(f["period"], f["period_end"], freq="M")
        for month in (months[::12] if freq == "A" else months).strftime("%Y-%m"):
            periods.setdefault((freq, month), set()).add(f["kind"])
    return periods


# -- fetch -------------------------------------------------------------------------------
fetch_app = typer.Typer(help="Fetch a remote source's data into the store.", no_args_is_help=True)
app.add_typer(fetch_app, name="fetch")


@fetch_app.command("comtrade")
def fetch_comtrade(
    reporter: Annotated[str, typer.Option(help="ISO alpha-3, name or M49 code (CHN).")],
    partner: Annotated[str, typer.Option(help="ISO alpha-3, name, M49 code or WLD (PRK).")],
    period: Annotated[str, typer.Option(help="YYYY (its months for --freq M), YYYY-MM, lists.")],
    freq: Annotated[str, typer.Option(help="M (monthly) or A (annual).")] = "M",
    flow: Annotated[
        str, typer.Option(help="Comtrade flow codes: X,M,RX,RM (also DX,FM,MIP,MOP,XIP,XOP).")
    ] = "X,M",
    commodity: Annotated[str, typer.Option(help="TOTAL or HS codes (27,2710).")] = "TOTAL",
    classification: Annotated[str, typer.Option(help="HS, H5, S4…")] = "HS",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the requests only.")] = False,
    store: StoreOption = None,
) -> None:
    """UN Comtrade, one release per period (key in COMTRADE_API_KEY, else the preview)."""
    from tradesentry.fetch import fetch_comtrade as fetch

    query = dict(
        reporter=reporter,
        partner=partner,
        freq=freq,
        period=period,
        flow=flow,
        commodity=commodity,
        classification=classification,
    )
    try:
        if dry_run:
            for request in fetch(None, **query, dry_run=True):
                out.print(str(request), markup=False, highlight=False)
            return
        bar = Progress(console=err, transient=True, disable=not _wants_progress(err))
        with bar, _fetch_notices():  # the path: the query is checked before a new store is made
            report = fetch(resolve_store_path(store), **query, progress=bar)
    except TradesentryError as exc:
        err.print(f"error: {_error_text(exc)}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    for line in [r.summary() for r in report] + [e.summary() for e in report.empty]:
        out.print(line, markup=False, highlight=False)


# -- monitor -----------------------------------------------------------------------------
class DigestFormat(StrEnum):
    md = "md"
    html = "html"
    json = "json"


@command()
def digest(
    release: Annotated[int | None, typer.Option(help="Release id (default: the newest).")] = None,
    format: Annotated[
        DigestFormat, typer.Option("--format", case_sensitive=False)
    ] = DigestFormat.md,
    output: Annotated[Path | None, typer.Option("--out", help="Write to this file.")] = None,
    store: StoreOption = None,
) -> None:
    """A briefing on a release: what it covers, what moved, new findings, revisions."""
    if output is not None:
        _check_writable(output)
    # Read-only unless the digest must scan first (no full scan has seen the newest release).
    text = read_else_write(store, lambda st: api.digest(st, release).render(format.value))
    if output is None:
        sys.stdout.write(text)
        return
    with _writing(output):
        output.parent.mkdir(parents=True, exist_ok=True)  # as `report --out` does
        output.write_text(text, encoding="utf-8")
    out.print(f"digest written to {printable(output)}", markup=False, highlight=False)


@command()
def watch(
    folder: Annotated[Path | None, typer.Argument(help="Folder where releases appear.")] = None,
    interval: Annotated[float, typer.Option(help="Seconds between looks.")] = 60.0,
    webhook: Annotated[str | None, typer.Option(help="POST new findings here (JSON).")] = None,
    fetch: Annotated[
        Path | None, typer.Option("--fetch", help="TOML watchlist of UN Comtrade series.")
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="One cycle, then exit.")] = False,
    output: Annotated[
        Path | None, typer.Option("--out", help="Digest folder (default FOLDER/digests).")
    ] = None,
    digest_format: Annotated[DigestFormat, typer.Option("--digest-format")] = DigestFormat.md,
    store: StoreOption = None,
) -> None:
    """Ingest files as they appear (or fetch a watchlist), scan, write digests, notify."""
    from tradesentry.monitor import watch as run_watch

    if output is not None:
        _check_writable(output, directory=True)
    log = logging.getLogger("tradesentry")  # each step, on stderr, while watching
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_PrintableFormatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        reports = run_watch(
            resolve_store_path(store),
            folder,
            interval=interval,
            webhook=webhook,
            watchlist=fetch,
            out=output,
            digest_format=digest_format.value,
            max_iterations=1 if once else None,
        )
    except KeyboardInterrupt:
        # Stopping a running watch is how it ends (as `serve`): 0. A `--once` run
        # interrupted did not do its cycle: 130, as any other command.
        if once:  # each step is whole or not at all, and a run takes up what is left
            err.print(
                "tradesentry: watch interrupted; the steps logged as done are kept, and the "
                "next run takes up the rest (files not yet read, a scan not yet made)",
                markup=False,
                highlight=False,
            )
            raise typer.Exit(130) from None
        return
    finally:
        log.removeHandler(handler)
    if once and reports and reports[-1].errors:  # cron mails a failed run
        failed = plural(len(reports[-1].errors), "step")
        err.print(f"{failed} failed; see the log above", markup=False)
        raise typer.Exit(2)


# -- report and dashboard ----------------------------------------------------------------
@command()
def report(
    output: Annotated[Path, typer.Option("--out", help="The HTML file to write.")] = Path(
        "report.html"
    ),
    top: Annotated[
        int, typer.Option(min=0, help="Findings drawn with a chart; the rest are listed.")
    ] = 25,
    scan_id: Annotated[
        int | None, typer.Option("--scan", min=1, help="A saved scan (default: the latest).")
    ] = None,
    store: StoreOption = None,
) -> None:
    """One self-contained HTML file with the findings and their charts; opens offline."""
    _check_writable(output)  # before a scan that may take minutes
    with open_store(store, read_only=True) as st:
        must_scan = scan_id is None and api.scan_info(st) is None
    # A report of a saved scan only reads, so it runs beside the dashboard; scanning writes.
    with open_store(store, read_only=not must_scan) as st:
        if must_scan:
            err.print("no scan saved yet: scanning first", markup=False, highlight=False)
            with _progress(err, "scanning", "observations") as advance:
                api.scan(st, progress=advance)
        with _writing(output):
            path = _write_report(st, output, top=top, scan_id=scan_id)
    out.print(f"report written to {printable(path)}", markup=False, highlight=False)


def _write_report(st, output: Path, top: int = 25, scan_id: int | None = None) -> Path:
    from tradesentry.report import build_report

    return build_report(st, output, top=top, scan_id=scan_id)


@command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind (loopback by default).")] = (
        "127.0.0.1"
    ),
    # Not 0: the OS would choose a port and the address printed would be wrong.
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    store: StoreOption = None,
) -> None:
    """The web dashboard over the store, read-only: pages and their JSON twins."""
    from tradesentry.errors import EngineUnavailable
    from tradesentry.store import resolve_store_path
    from tradesentry.web import allowed_hosts, create_app, url_host

    try:
        import uvicorn
    except ImportError as exc:
        raise EngineUnavailable("serve needs uvicorn: pip install 'tradesentry[web]'") from exc
    app = create_app(resolve_store_path(store), hosts=allowed_hosts(host))
    _check_listenable(host, port)
    out.print(
        f"tradesentry dashboard on http://{url_host(host)}:{port}/ (read-only; Ctrl+C stops it)",
        markup=False,
        highlight=False,
    )
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    except SystemExit as exc:  # uvicorn's 3, "startup failure", after its own line on stderr
        if exc.code in (None, 0):
            raise
        raise typer.Exit(2) from None


# -- scale -------------------------------------------------------------------------------
class DataFormat(StrEnum):
    parquet = "parquet"
    csv = "csv"


@command()
def generate(
    directory: Annotated[Path, typer.Option("--out", help="New directory to write into.")],
    rows: Annotated[int | None, typer.Option(min=1, help="Exactly this many observations.")] = None,
    series: Annotated[int | None, typer.Option(min=1, help="Or: this many series.")] = None,
    format: Annotated[
        DataFormat, typer.Option("--format", case_sensitive=False)
    ] = DataFormat.parquet,
    # NumPy seeds are non-negative: -1 was a traceback from deep in numpy.random.
    seed: Annotated[int, typer.Option(min=0, help="Same seed, same data.")] = 0,
    # the last month must have begun: the ingest quarantines a month that has not
    months: Annotated[
        int,
        typer.Option(
            min=1,
            help="Months on the axis, from --start; the last (--start + --months − 1) must "
            "have begun.",
        ),
    ] = 50,
    start: Annotated[
        str,
        typer.Option(
            help="First month, YYYY-MM, from 1900-01; the last month (--start + --months − 1) "
            "must have begun.",
        ),
    ] = "2019-01",
    anomaly_rate: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of series given an anomaly.")
    ] = 0.02,
) -> None:
    """Write Comtrade-like data of any size, with injected anomalies and their ground truth."""
    from tradesentry.generate import generate as run

    _check_writable(directory, directory=True)
    with _writing(directory):
        result = run(
            directory,
            rows=rows,
            series=series,
            format=format.value,
            seed=seed,
            months=months,
            start=start,
            anomaly_rate=anomaly_rate,
        )
    counts = ", ".join(
        [
            plural(result.rows, "row"),
            plural(result.series, "series", "series"),
            plural(result.anomalies, "anomaly", "anomalies"),
        ]
    )
    # a path as typed: no markup, its control characters as escapes
    out.print(f"{printable(result.out)}: {counts} ({result.format})", markup=False, highlight=False)


@command()
def export(
    parquet: Annotated[Path, typer.Option("--parquet", help="New directory to write into.")],
    all_releases: Annotated[
        bool, typer.Option("--all-releases", help="Every release's rows, not the current view.")
    ] = False,
    store: StoreOption = None,
) -> None:
    """Write the store as Parquet partitioned by reporter, for Spark or a data lake."""
    from tradesentry.export import export_parquet

    _check_writable(parquet, directory=True)
    with open_store(store, read_only=True) as st, _writing(parquet):
        result = export_parquet(st, parquet, all_releases=all_releases)
    out.print(
        f"{printable(result.out)}: {plural(result.observations, 'observation')}, "
        f"{plural(result.releases, 'release')}, {plural(result.rates, 'rate')}",
        markup=False,
        highlight=False,
    )


# -- demo --------------------------------------------------------------------------------
@command()
def demo(store: StoreOption = None) -> None:
    """The China–North Korea case on bundled real data: ingest, scan, show."""
    data = resources.files("tradesentry").joinpath("data/cn_kp_monthly_2019_2021h1.csv")
    report = resolve_store_path(store).with_name("report.html")
    _check_writable(report)  # before the demo's work, as `report --out` does
    with resources.as_file(data) as path, open_store(store) as st:
        result = st.ingest(path)
        out.print(
            # within 80 columns: "47 rows accepted" ran the line to 82
            f"Ingested {path.name}: release {result.release_id}, "
            f"{result.rows_accepted:,} accepted, {result.rows_quarantined:,} quarantined"
            + ("\n(already in the store)" if result.already_ingested else "")
        )
        # the headings `releases` gives these counts: the full names split a heading and
        # folded the table on an 80-column terminal
        counts = {
            "rows_read": "read",
            "rows_accepted": "accepted",
            "rows_quarantined": "quarantined",
        }
        _emit(
            st.releases()[["id", "source", "file", *counts]].rename(columns=counts),
            TableFormat.table,
            title="Releases",
            whole=("id", "source", *counts.values()),
        )
        found = api.scan(st)
        _findings_table(found, limit=10)
        store_path = st.path
    series(reporter="CHN", partner="PRK", flow="export", commodity="TOTAL", store=store_path)
    with open_store(store_path) as st:
        with _writing(report):
            out.print(f"Report: {printable(_write_report(st, report))}", markup=False)
        out.print()  # the demo ends with the digest of its release
        out.print(api.digest(st, result.release_id).to_markdown(), markup=False, highlight=False)


# -- helpers -----------------------------------------------------------------------------
class _ConsoleHandler(logging.Handler):
    """Log records as "tradesentry: message" lines on the error console, which prints them
    above a live progress bar instead of through it."""

    def emit(self, record: logging.LogRecord) -> None:
        err.print(f"tradesentry: {printable(record.getMessage())}", markup=False, highlight=False)


@contextmanager
def _fetch_notices() -> Iterator[None]:
    """The fetch's warnings (an API that has not answered for a minute, retried) on stderr
    while it runs: five timeouts are five silent minutes otherwise."""
    log = logging.getLogger("tradesentry.fetch")
    handler = _ConsoleHandler(logging.WARNING)
    log.addHandler(handler)
    try:
        yield
    finally:
        log.removeHandler(handler)


class _PrintableFormatter(logging.Formatter):
    """Log lines with the control characters of file names escaped (``text.printable``)."""

    def format(self, record) -> str:
        return printable(super().format(record))


def _existing_store(store: Path | None):
    """The store opened for writing, refused if it does not exist yet, as a read-only open is.

    For commands that read or scan a store (a scan saves its findings): only the commands
    that put data in (ingest, fetch, rates FILE, watch, demo) make a new one.
    """
    path = resolve_store_path(store)
    if not path.exists():
        raise StoreError(f"{path}: no store here (ingest something first)")
    return open_store(path)


def _check_input_file(path: Path) -> None:
    """An input file that is a directory or missing, in one line (as ingest says it)."""
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a file")
    if not path.exists():
        raise InputError(f"{path}: no such file")


def _check_listenable(host: str, port: int) -> None:
    """An address the dashboard cannot listen on, in one line, before uvicorn tries.

    uvicorn would log its own error and exit 3, a code the command line does not use. Each
    address the host names is bound and let go, as asyncio's server binds them: an address
    of a family the system lacks is passed over, unless none is left.
    """
    import errno
    import socket

    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise InputError(f"--host {host!r}: not an address to listen on ({reason})") from None
    passed_over: list[OSError] = []
    bound = False
    for family, kind, proto, _, address in addresses:
        try:
            probe = socket.socket(family, kind, proto)
        except OSError as exc:
            passed_over.append(exc)
            continue
        with probe:
            if os.name == "posix":  # as asyncio sets it: a port left in TIME_WAIT is free
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:  # as asyncio does: IPv4 is bound on its own
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                if exc.errno != errno.EADDRNOTAVAIL:
                    raise InputError(_cannot_listen(host, port, exc)) from None
                passed_over.append(exc)
                continue
        bound = True
    if not bound and passed_over:
        raise InputError(_cannot_listen(host, port, passed_over[0]))


def _cannot_listen(host: str, port: int, exc: OSError) -> str:
    return f"{host}:{port}: cannot listen there ({exc.strerror or exc})"


def _wants_progress(console: Console) -> bool:
    """A bar is for a person at a terminal: none when the stream is piped or captured."""
    return console.is_terminal


def _no_progress(count: int) -> None:
    return None


@contextmanager
def _progress(
    console: Console, doing: str, unit: str | None = None
) -> Iterator[Callable[[int], None]]:
    """A transient bar on ``console`` while the block runs; yields ``advance(count)``.

    No total: a scan reports the observations of each chunk it has done, and counting
    those of the current view beforehand would cost a pass of its own. So the bar is a
    spinner, what is being done, the count of ``unit`` so far (if given) and the time.
    Print nothing to stdout inside the block: the bar cannot clear its line for another
    console's output.
    """
    if not _wants_progress(console):
        yield _no_progress
        return
    # The description is data (a file name may hold "{" or "[bold]"), never a format or markup.
    columns = [SpinnerColumn(), TextColumn("{task.description}", markup=False)]
    if unit:
        columns.append(TextColumn("{task.completed:,} " + unit))
    columns.append(TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(doing, total=None)
        yield lambda count: bar.advance(task, count)


def _check_writable(path: Path, directory: bool = False) -> None:
    """Refuse, in one line, an output path that cannot be written, before any work.

    The work (a scan, a render, an export) can take minutes and would end in a traceback
    at its first write. ``directory``: a folder to write into, else a file; missing
    folders are made on the way, so the nearest existing one must take a new file.
    """
    with _writing(path):
        if directory and path.exists() and not path.is_dir():
            raise InputError(f"{path}: is a file, not a directory; give a new directory")
        if not directory and path.is_dir():
            raise InputError(f"{path}: is a directory; give a file name")
        if not directory and _a_database(path):
            what = (
                "the log of a DuckDB database"
                if path.name.endswith(".wal")
                else "a DuckDB database"
            )
            raise InputError(f"{path}: is {what} (a store?); give another file name")
        start = path if directory else path.parent
        anchor = next((p for p in (start, *start.parents) if p.exists()), start)
        if not anchor.is_dir():
            raise InputError(f"{path}: cannot write it: {anchor} is a file, not a directory")
    try:  # the one sure test that a file can be made there (permissions, /proc, read-only disk)
        handle, probe = tempfile.mkstemp(dir=anchor, prefix=".tradesentry-")
    except OSError as exc:
        raise InputError(f"{path}: cannot write in {anchor} ({exc.strerror or exc})") from None
    os.close(handle)
    os.unlink(probe)


def _a_database(path: Path) -> bool:
    """Whether writing ``path`` would overwrite a DuckDB database or its write-ahead log
    (`report --out store.duckdb` replaced the store with the report)."""
    if path.name.endswith(".wal") and is_duckdb_file(path.with_name(path.name[: -len(".wal")])):
        return True
    return path.is_file() and is_duckdb_file(path)


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    """An OS error writing ``path`` (or a folder on its way) as one line, not a traceback.

    Errors about other files (a template of the package, say) are not the user's to fix:
    they keep their traceback.
    """
    try:
        yield
    except OSError as exc:
        if exc.filename is not None and not _on_the_way(path, Path(exc.filename)):
            raise
        raise InputError(f"{path}: cannot write it ({exc.strerror or exc})") from None


def _on_the_way(path: Path, other: Path) -> bool:
    """Whether ``other`` is ``path``, a folder above it or a file under it."""
    path, other = path.absolute(), other.absolute()
    return other == path or other in path.parents or path in other.parents


def _emit(
    frame: pd.DataFrame,
    format: TableFormat,
    title: str,
    whole: Sequence[str] = (),
    caption: str | None = None,
) -> None:
    """The frame as JSON, CSV or a table; ``whole``: columns the table never wraps (short
    figures and dates: a narrow terminal wraps the others); ``caption``: under the table."""
    if format is TableFormat.json:
        sys.stdout.write(
            json_escaped(frame.to_json(orient="records", date_format="iso", force_ascii=False))
            + "\n"
        )
    elif format is TableFormat.csv:
        _write_csv(frame)
    else:
        table = Table(title=Text(printable(title)), caption=caption)
        for column in frame.columns:
            table.add_column(Text(printable(column)), overflow="fold", no_wrap=column in whole)
        for row in frame.itertuples(index=False):  # cells as Text: file contents, not markup
            table.add_row(*(Text("" if _missing(v) else printable(v)) for v in row))
        out.print(table)


def _write_csv(frame: pd.DataFrame, header: bool = True) -> None:
    """CSV on stdout, as a terminal may show it: control characters escaped (a quarantined
    line's ESC would retitle the window), formulas neutralised (``text.csv_cells``)."""
    from tradesentry.text import csv_cells

    csv_cells(frame).to_csv(sys.stdout, index=False, header=header)


def _missing(value) -> bool:
    return missing(value) or value is pd.NaT


def _iso_date(value) -> str | None:
    return None if _missing(value) or pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def _iso_time(value) -> str | None:
    return (
        None
        if _missing(value) or pd.isna(value)
        else pd.Timestamp(value).isoformat(timespec="seconds")
    )


if __name__ == "__main__":  # ``python -m tradesentry.cli`` did nothing, and said nothing
    app(prog_name="tradesentry")
