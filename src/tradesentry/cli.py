"""The command line: parse options, call the api, render. No logic of its own.

Exit codes: 0 ok, 1 findings at or above --fail-on, 2 bad input or usage (one line on stderr).
"""

from __future__ import annotations

import functools
import sys
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from tradesentry import api, cli_cross
from tradesentry.errors import TradesentryError
from tradesentry.findings import evidence_json
from tradesentry.store import open_store
from tradesentry.text import money, plural, sparkline

app = typer.Typer(
    name="tradesentry",
    help="Flag the figures in official trade statistics that do not add up, and say why.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Markup and emoji codes off: what these consoles print is mostly data (file names, keys,
# explanations), and a commodity "[/]Z" or ":x:" is text, never a style or an emoji. Styled
# output is built as Text objects instead.
out = Console(soft_wrap=True, markup=False, emoji=False)
err = Console(stderr=True, soft_wrap=True, markup=False, emoji=False)

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


def command(*args, **kwargs):
    """app.command that turns a TradesentryError into one line on stderr and exit code 2."""

    def wrap(fn):
        @functools.wraps(fn)
        def run(*a, **kw):
            try:
                return fn(*a, **kw)
            except TradesentryError as exc:
                err.print(f"error: {exc}", markup=False, highlight=False)
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
        str | None, typer.Option(help="utf-8 or latin-1 (default: detected).")
    ] = None,
    store: StoreOption = None,
) -> None:
    """Read customs releases into the store; bad rows go to the quarantine with a reason."""
    failed = False
    with open_store(store) as st:
        for path in files:
            try:
                result = st.ingest(
                    path, source=source, mapping=mapping, published=published, encoding=encoding
                )
            except TradesentryError as exc:
                err.print(f"error: {exc}", markup=False, highlight=False)
                failed = True
                continue
            if result.already_ingested:
                out.print(f"{path}: already ingested as release {result.release_id}; nothing to do")
                continue
            out.print(
                f"{path}: release {result.release_id} ({result.source}): "
                f"{plural(result.rows_read, 'row')} read, {result.rows_accepted:,} accepted, "
                f"{result.rows_quarantined:,} quarantined",
                highlight=False,
            )
            if result.rows_quarantined:
                _print_quarantine_sample(st, result.release_id, str(path))
    if failed:
        raise typer.Exit(2)


def _print_quarantine_sample(st, release_id: int, path: str, limit: int = 5) -> None:
    sample = st.quarantine(release_id).head(limit)
    for row in sample.itertuples():
        err.print(f"{path}:{row.line}: {row.reason}", markup=False, highlight=False)
    total = len(st.quarantine(release_id))
    if total > limit:
        err.print(
            f"… and {total - limit:,} more: tradesentry quarantine --release {release_id}",
            markup=False,
        )


@command()
def releases(
    format: Annotated[TableFormat, typer.Option("--format")] = TableFormat.table,
    diff: Annotated[
        tuple[int, int] | None,
        typer.Option(help="Compare two releases A B: what B revised, added or dropped."),
    ] = None,
    store: StoreOption = None,
) -> None:
    """Each release with its counts: rows read = accepted + quarantined."""
    if diff is not None:
        with open_store(store) as st:
            result = api.release_diff(st, *diff)
        cli_cross.print_release_diff(out, result, as_json=format is not TableFormat.table)
        return
    with open_store(store) as st:
        frame = st.releases()
    frame = frame.assign(
        published=frame["published"].map(_iso_date), ingested_at=frame["ingested_at"].map(_iso_time)
    )
    _emit(frame, format, title="Releases")


@command()
def quarantine(
    release: Annotated[int | None, typer.Option(help="Only this release.")] = None,
    format: Annotated[TableFormat, typer.Option("--format")] = TableFormat.table,
    store: StoreOption = None,
) -> None:
    """Lines that did not land, with their line number, raw text and reason."""
    with open_store(store) as st:
        frame = st.quarantine(release)
    _emit(frame, format, title="Quarantine")


# -- scan --------------------------------------------------------------------------------
@command()
def scan(
    reporter: Annotated[list[str] | None, typer.Option(help="ISO alpha-3 reporter(s).")] = None,
    partner: Annotated[list[str] | None, typer.Option(help="ISO alpha-3 partner(s).")] = None,
    flow: Annotated[
        list[str] | None, typer.Option(help="import, export, re-import, re-export.")
    ] = None,
    commodity: Annotated[list[str] | None, typer.Option(help="TOTAL or an HS code.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Only findings ending in or after YYYY-MM.")
    ] = None,
    kind: Annotated[list[str] | None, typer.Option(help="Only these detectors.")] = None,
    format: Annotated[FindingFormat, typer.Option("--format")] = FindingFormat.table,
    engine: Annotated[str, typer.Option(help="local or spark.")] = "local",
    limit: Annotated[int, typer.Option(help="Rows shown in the table format.")] = 30,
    fail_on: Annotated[
        Severity | None, typer.Option(help="Exit 1 if a finding is this severe.")
    ] = None,
    new: Annotated[
        bool, typer.Option("--new", help="Only findings the previous scan did not have.")
    ] = False,
    resolved: Annotated[
        bool, typer.Option("--resolved", help="Only findings of the previous scan now gone.")
    ] = False,
    master: Annotated[
        str | None, typer.Option(help="Spark master (--engine spark): local[*] or a cluster URL.")
    ] = None,
    input: Annotated[
        str | None,
        typer.Option("--input", help="Spark: canonical Parquet to scan instead of the store."),
    ] = None,
    findings_parquet: Annotated[
        str | None, typer.Option(help="Spark: also write the findings as Parquet here.")
    ] = None,
    store: StoreOption = None,
) -> None:
    """Run every detector over every series and print the findings, worst first."""
    spark_options = {
        k: v
        for k, v in {"master": master, "input": input, "findings_out": findings_parquet}.items()
        if v is not None
    }
    if spark_options and engine != "spark":
        from tradesentry.errors import InputError

        raise InputError("--master, --input and --findings-parquet need --engine spark")
    if new and resolved:
        from tradesentry.errors import InputError

        raise InputError("--new and --resolved: choose one")
    with open_store(store) as st:
        found = api.scan(
            st,
            reporter=reporter,
            partner=partner,
            flow=flow,
            commodity=commodity,
            since=since,
            kinds=kind,
            engine=engine,
            progress=None,
            **spark_options,
        )
        if new or resolved:  # against the previous scan with the same options
            found = (api.new_findings if new else api.resolved_findings)(st, found.scan_id)
        # Inside the store's block: a saved scan's findings are read from the store as shown.
        _emit_findings(found, format, limit)
        worst = {f["severity"] for f in found} if fail_on is not None else set()
    if fail_on is not None:
        order = ["high", "medium", "low"]
        if any(order.index(s) <= order.index(fail_on.value) for s in worst):
            raise typer.Exit(1)


def _emit_findings(found: api.Findings, format: FindingFormat, limit: int) -> None:
    """Write the findings; json, jsonl and csv stream a saved scan batch by batch."""
    if format is FindingFormat.json:
        found.write_json(sys.stdout)
        sys.stdout.write("\n")
    elif format is FindingFormat.jsonl:
        found.write_json(sys.stdout, lines=True)
    elif format is FindingFormat.csv:
        for i, frame in enumerate(found.frames()):  # at least one: the header is written
            frame["evidence"] = frame["evidence"].map(evidence_json)
            _write_csv(frame, header=i == 0)
    else:
        _findings_table(found, limit)


_SEVERITY_STYLE = {
    "high": "bold white on red",
    "medium": "black on yellow",
    "low": "black on grey70",
}


def _findings_table(found: api.Findings, limit: int) -> None:
    """Each finding as a heading line (severity, kind, series, months, money) and its text.

    A block per finding rather than a table: explanations are sentences, and a table
    column squeezes them into a few words a line on an ordinary terminal.
    """
    if not len(found):
        out.print("No findings.")
        return
    count = Text(plural(len(found), "finding"), style="bold")
    out.print(Text.assemble(count, f" (scan {found.scan_id}), worst first\n"))
    for n, f in enumerate(found.head(limit).to_records(), start=1):
        period = (
            f["period"] if f["period"] == f["period_end"] else f"{f['period']}…{f['period_end']}"
        )
        heading = Text.assemble(
            f"{n:>2}. ",
            (f" {f['severity']} ", _SEVERITY_STYLE.get(f["severity"], "")),
            " ",
            (f["kind"], "bold"),
            f"  {f['reporter']}→{f['partner']} {f['flow']} {f['commodity']}  {period}  ",
            (f"{money(f['impact'], f['currency'])} at stake", "bold"),
        )
        out.print(heading)
        out.print(Padding(Text(f["explanation"]), (0, 0, 1, 4)), soft_wrap=False)
    if len(found) > limit:
        out.print(f"… {len(found) - limit} more (--limit, or --format json for all)")


@command()
def series(
    reporter: str,
    partner: str,
    flow: str,
    commodity: str,
    store: StoreOption = None,
) -> None:
    """One series in the terminal: its values, a chart in text, its findings and revisions."""
    key = (reporter.upper(), partner.upper(), flow.lower(), commodity.upper())
    with open_store(store) as st:
        view = api.series(st, *key)
        revised = api.revisions(st, reporter=key[0], partner=key[1], flow=key[2], commodity=key[3])
    obs = view.observations
    currency = obs["currency"].iat[0]
    monthly = obs[obs["period_months"] == 1].set_index("period")["value"]
    months = pd.date_range(monthly.index.min(), monthly.index.max(), freq="MS")
    name = f"{reporter.upper()} → {partner.upper()} {flow} {commodity}"
    out.print(Text.assemble((name, "bold"), f" ({currency})"))
    out.print(sparkline(monthly.reindex(months).to_numpy()), highlight=False)
    flagged = _flagged_months(view.findings)
    table = Table(show_edge=False)
    for column in ("period", "months", "value", "flags"):
        table.add_column(column, justify="right" if column == "value" else "left")
    for row in obs.itertuples():
        month = pd.Timestamp(row.period).strftime("%Y-%m")
        table.add_row(
            month,
            str(row.period_months),
            money(row.value, currency),
            ", ".join(sorted(flagged.get(month, ()))),
        )
    out.print(table)
    _findings_table(view.findings, limit=50)
    if view.history["release_id"].nunique() > 1:
        cli_cross.print_revisions(out, revised, currency)


# -- cross checks ------------------------------------------------------------------------
@command()
def mirror(
    reporter: str,
    partner: str,
    commodity: Annotated[str | None, typer.Option(help="One commodity (default: all).")] = None,
    format: Annotated[TableFormat, typer.Option("--format")] = TableFormat.table,
    store: StoreOption = None,
) -> None:
    """Both records of a pair's trade and the gap between them, month by month."""
    with open_store(store) as st:
        view = api.mirror_pair(st, reporter.upper(), partner.upper(), commodity)
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
    format: Annotated[TableFormat, typer.Option("--format")] = TableFormat.table,
    store: StoreOption = None,
) -> None:
    """What the partner's record and unit values imply is missing from the reporter's."""
    with open_store(store) as st:
        result = api.missing_trade(st, reporter.upper(), partner.upper(), start, end)
    if format is TableFormat.csv:
        _write_csv(result.frame)
        return
    cli_cross.print_missing(out, result, as_json=format is TableFormat.json)


@command()
def rates(
    file: Annotated[
        Path | None, typer.Argument(help="CSV currency,period,per_usd, or ECB's EXR layout.")
    ] = None,
    format: Annotated[TableFormat, typer.Option("--format")] = TableFormat.table,
    store: StoreOption = None,
) -> None:
    """Load monthly exchange rates into the store (or list them, without FILE)."""
    with open_store(store) as st:
        if file is None:
            frame = api.rates(st)
            _emit(frame.assign(period=frame["period"].map(_iso_date)), format, title="Rates")
            return
        result = api.load_rates(st, file)
    cli_cross.print_rates_result(out, result)


def _flagged_months(found: api.Findings) -> dict[str, set[str]]:
    months: dict[str, set[str]] = {}
    for f in found:
        for month in pd.period_range(f["period"], f["period_end"], freq="M").strftime("%Y-%m"):
            months.setdefault(month, set()).add(f["kind"])
    return months


# -- fetch -------------------------------------------------------------------------------
fetch_app = typer.Typer(help="Fetch a remote source's data into the store.", no_args_is_help=True)
app.add_typer(fetch_app, name="fetch")


@fetch_app.command("comtrade")
def fetch_comtrade(
    reporter: Annotated[str, typer.Option(help="ISO alpha-3, name or M49 code (CHN).")],
    partner: Annotated[str, typer.Option(help="ISO alpha-3, name, M49 code or WLD (PRK).")],
    period: Annotated[str, typer.Option(help="YYYY (its months for --freq M), YYYY-MM, lists.")],
    freq: Annotated[str, typer.Option(help="M (monthly) or A (annual).")] = "M",
    flow: Annotated[str, typer.Option(help="Comtrade flow codes: X,M,RX,RM.")] = "X,M",
    commodity: Annotated[str, typer.Option(help="TOTAL or HS codes (27,2710).")] = "TOTAL",
    classification: Annotated[str, typer.Option(help="HS, H5, S4…")] = "HS",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the requests only.")] = False,
    store: StoreOption = None,
) -> None:
    """UN Comtrade, one release per period (key in COMTRADE_API_KEY, else the preview)."""
    from rich.progress import Progress

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
        bar = Progress(console=err, transient=True, disable=not err.is_terminal)
        with bar, open_store(store) as st:
            report = fetch(st, **query, progress=bar)
    except TradesentryError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
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
    format: Annotated[DigestFormat, typer.Option("--format")] = DigestFormat.md,
    output: Annotated[Path | None, typer.Option("--out", help="Write to this file.")] = None,
    store: StoreOption = None,
) -> None:
    """A briefing on a release: what it covers, what moved, new findings, revisions."""
    with open_store(store) as st:
        text = api.digest(st, release).render(format.value)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        out.print(f"digest written to {output}", markup=False, highlight=False)


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
    import logging

    from tradesentry.monitor import watch as run_watch
    from tradesentry.store import resolve_store_path

    log = logging.getLogger("tradesentry")  # each step, on stderr, while watching
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
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
        return
    finally:
        log.removeHandler(handler)
    if once and reports and reports[-1].errors:
        failed = plural(len(reports[-1].errors), "step")
        err.print(f"{failed} failed; see the log above", markup=False)


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
        int | None, typer.Option("--scan", help="A saved scan (default: the latest).")
    ] = None,
    store: StoreOption = None,
) -> None:
    """One self-contained HTML file with the findings and their charts; opens offline."""
    with open_store(store) as st:
        if scan_id is None and api.scan_info(st) is None:
            err.print("no scan saved yet: scanning first", markup=False, highlight=False)
            api.scan(st)
        path = _write_report(st, output, top=top, scan_id=scan_id)
    out.print(f"report written to {path}", markup=False, highlight=False)


def _write_report(st, output: Path, top: int = 25, scan_id: int | None = None) -> Path:
    from tradesentry.report import build_report

    return build_report(st, output, top=top, scan_id=scan_id)


@command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind (loopback by default).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port.")] = 8000,
    store: StoreOption = None,
) -> None:
    """The web dashboard over the store, read-only: pages and their JSON twins."""
    from tradesentry.errors import EngineUnavailable
    from tradesentry.store import resolve_store_path
    from tradesentry.web import create_app

    try:
        import uvicorn
    except ImportError as exc:
        raise EngineUnavailable("serve needs uvicorn: pip install 'tradesentry[web]'") from exc
    app = create_app(resolve_store_path(store))
    out.print(
        f"tradesentry dashboard on http://{host}:{port}/ (read-only; Ctrl+C stops it)",
        markup=False,
        highlight=False,
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")


# -- scale -------------------------------------------------------------------------------
class DataFormat(StrEnum):
    parquet = "parquet"
    csv = "csv"


@command()
def generate(
    directory: Annotated[Path, typer.Option("--out", help="New directory to write into.")],
    rows: Annotated[int | None, typer.Option(help="Exactly this many observations.")] = None,
    series: Annotated[int | None, typer.Option(help="Or: this many series.")] = None,
    format: Annotated[DataFormat, typer.Option("--format")] = DataFormat.parquet,
    seed: Annotated[int, typer.Option(help="Same seed, same data.")] = 0,
    months: Annotated[int, typer.Option(help="Months on the axis.")] = 50,
    start: Annotated[str, typer.Option(help="First month, YYYY-MM.")] = "2019-01",
    anomaly_rate: Annotated[float, typer.Option(help="Share of series given an anomaly.")] = 0.02,
) -> None:
    """Write Comtrade-like data of any size, with injected anomalies and their ground truth."""
    from tradesentry.generate import generate as run

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
    out.print(f"{result.out}: {counts} ({result.format})", highlight=False)


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

    with open_store(store, read_only=True) as st:
        result = export_parquet(st, parquet, all_releases=all_releases)
    out.print(
        f"{result.out}: {plural(result.observations, 'observation')}, "
        f"{plural(result.releases, 'release')}, {plural(result.rates, 'rate')}",
        highlight=False,
    )


# -- demo --------------------------------------------------------------------------------
@command()
def demo(store: StoreOption = None) -> None:
    """The China–North Korea case on bundled real data: ingest, scan, show."""
    data = resources.files("tradesentry").joinpath("data/cn_kp_monthly_2019_2021h1.csv")
    with resources.as_file(data) as path, open_store(store) as st:
        result = st.ingest(path)
        out.print(
            f"Ingested {path.name}: release {result.release_id}, "
            f"{plural(result.rows_accepted, 'row')} accepted, {result.rows_quarantined} quarantined"
            + (" (already in the store)" if result.already_ingested else "")
        )
        _emit(
            st.releases()[
                ["id", "source", "file", "rows_read", "rows_accepted", "rows_quarantined"]
            ],
            TableFormat.table,
            title="Releases",
        )
        found = api.scan(st)
        _findings_table(found, limit=10)
        store_path = st.path
    series(reporter="CHN", partner="PRK", flow="export", commodity="TOTAL", store=store_path)
    with open_store(store_path) as st:
        out.print(f"Report: {_write_report(st, store_path.with_name('report.html'))}", markup=False)
        out.print()  # the demo ends with the digest of its release
        out.print(api.digest(st, result.release_id).to_markdown(), markup=False, highlight=False)


# -- helpers -----------------------------------------------------------------------------
def _emit(frame: pd.DataFrame, format: TableFormat, title: str) -> None:
    if format is TableFormat.json:
        sys.stdout.write(
            frame.to_json(orient="records", date_format="iso", force_ascii=False) + "\n"
        )
    elif format is TableFormat.csv:
        _write_csv(frame)
    else:
        table = Table(title=title)
        for column in frame.columns:
            table.add_column(str(column), overflow="fold")
        for row in frame.itertuples(index=False):
            table.add_row(*("" if _missing(v) else str(v) for v in row))
        out.print(table)


def _write_csv(frame: pd.DataFrame, header: bool = True) -> None:
    from tradesentry.text import csv_safe

    frame.map(csv_safe).to_csv(sys.stdout, index=False, header=header)


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT


def _iso_date(value) -> str | None:
    return None if _missing(value) or pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def _iso_time(value) -> str | None:
    return (
        None
        if _missing(value) or pd.isna(value)
        else pd.Timestamp(value).isoformat(timespec="seconds")
    )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
