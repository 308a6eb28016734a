"""What each page shows, as plain data: the HTML page and its JSON twin call the same function.

Every function takes a per-request store and calls the api; filtering a ranked list,
sorting it for display and cutting it into pages is all they add.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, Field, field_validator

from tradesentry import api, arguments
from tradesentry.detectors import registry
from tradesentry.errors import InputError, SeriesChoice
from tradesentry.findings import SORT_NAMES, Findings, csv_frame, empty_findings
from tradesentry.report.charts import wants_log
from tradesentry.report.render import SeriesKey, series_path
from tradesentry.report.sections import (
    chart_for,
    finding_records,
    frame_records,
    history_rows,
    observation_rows,
    release_records,
    series_key,
)
from tradesentry.scope import ScanScope
from tradesentry.store import Store
from tradesentry.text import csv_cells, plural

PAIR_CHARTS = 4
KINDS = tuple(sorted(registry()))


class NotFound(InputError):
    """A series, pair or finding that the store does not hold (404, not 400).

    ``choices`` maps each classification a series is held under (or, with ``param``
    ``"freq"``, each frequency, M or A; with ``"breakdown"``, each breakdown: '' for the
    total) to its page, when the address did not name one of them (the 404 page links
    each).
    """

    def __init__(
        self,
        message: str,
        choices: dict[str, str] | None = None,
        param: Literal["classification", "freq", "breakdown"] = "classification",
    ) -> None:
        super().__init__(message)
        self.choices = choices or {}
        self.param = param


class Memo:
    """Page data made once: parsing a big scan's evidence takes a second, a page must not.

    An app that opened its store itself holds it read-only, and nothing can change under
    it: every page's data is kept (the most recent ``size``). An app handed an open,
    writable store keeps only the latest scan's findings, keyed on the scan's id, and
    computes the rest per request.
    """

    def __init__(self, immutable: bool, size: int = 512) -> None:
        self.immutable = immutable
        self.size = size
        self._lock = threading.Lock()
        self._scan: int | None = None
        self._values: OrderedDict[Hashable, Any] = OrderedDict()

    def get(
        self, store: Store, key: Hashable, compute: Callable[[], Any], scan_bound: bool = False
    ) -> Any:
        if not self.immutable:
            if not scan_bound:
                return compute()
            info = api.scan_info(store)
            with self._lock:
                scan = info["id"] if info else None
                if scan != self._scan:
                    self._scan, self._values = scan, OrderedDict()
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = compute()
        with self._lock:
            self._values[key] = value
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value

    def findings(self, store: Store) -> Findings:
        """All findings of the latest scan, ranked."""
        return self.get(store, "findings", lambda: api.findings(store), scan_bound=True)


def _checked(check, *args):
    """``check(*args)``, an InputError turned into the ValueError pydantic makes a 422 of."""
    try:
        return check(*args)
    except InputError as exc:
        raise ValueError(str(exc)) from None


class Unprocessable(InputError):
    """A query the store cannot answer as asked (a code it holds no series of): 422.

    ``param``: the query parameter refused, where one is (None: their combination), so the
    JSON API names it as FastAPI names a value it refuses.
    """

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class FindingFilters(BaseModel):
    """The filters /findings, /api/findings and /api/findings.csv share.

    Empty form fields arrive as "" and mean "any"; every value is compared as data by
    the api (never spliced into SQL).
    """

    kind: list[str] | None = Field(
        None, description=f"Only these kinds (repeat the parameter): {', '.join(KINDS)}."
    )
    severity: list[Literal["high", "medium", "low"]] | None = Field(
        None, description="Only these severities."
    )
    reporter: str | None = Field(None, max_length=64, description="Reporter: a code or a name.")
    partner: str | None = Field(None, max_length=64, description="Partner: a code, a name or WLD.")
    flow: str | None = Field(None, description="import, export, re-import or re-export.")
    commodity: str | None = Field(
        None, max_length=200, description="TOTAL or a commodity code (HS, CN…)."
    )
    since: str | None = Field(
        None, description="Findings ending in or after YYYY-MM (an annual one in its December)."
    )
    until: str | None = Field(None, description="Findings starting in or before YYYY-MM.")
    sort: Literal[SORT_NAMES] = "rank"  # type: ignore[valid-type]  # findings' own list
    order: Literal["asc", "desc"] | None = Field(None, description="Default: the sort's own.")

    @field_validator(
        "reporter", "partner", "flow", "commodity", "since", "until", "order", mode="before"
    )
    @classmethod
    def _blank_is_any(cls, value):
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    @field_validator("sort", mode="before")
    @classmethod
    def _blank_is_rank(cls, value):
        return "rank" if isinstance(value, str) and not value.strip() else value

    @field_validator("sort", "order", mode="before")
    @classmethod
    def _choice_in_any_case(cls, value):  # as severities and flows are (ASC is asc)
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("kind", "severity", mode="before")
    @classmethod
    def _drop_blank_items(cls, value):
        if isinstance(value, list):
            value = [v for v in value if not (isinstance(v, str) and not v.strip())]
            return value or None
        return value

    @field_validator("severity", mode="before")
    @classmethod
    def _severity_in_any_case(cls, value):  # as flows and codes are read (HIGH is high)
        if isinstance(value, list):
            return [v.strip().lower() if isinstance(v, str) else v for v in value] or None
        return value

    # The api's own checks (tradesentry.arguments), so the dashboard reads codes as the
    # command line does; a value outside its choices (an unknown kind would match nothing
    # and read as "no findings") is a 422 naming them.
    @field_validator("reporter", "partner")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        return value and _checked(arguments.country_code, value)

    @field_validator("commodity")
    @classmethod
    def _commodity(cls, value: str | None) -> str | None:
        return value and _checked(arguments.commodity_code, value)

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: list[str] | None) -> list[str] | None:
        return value and _checked(arguments.kinds, value)

    @field_validator("flow")
    @classmethod
    def _known_flow(cls, value: str | None) -> str | None:
        return value and _checked(arguments.flow_name, value)

    @field_validator("since", "until")
    @classmethod
    def _month(cls, value: str | None) -> str | None:
        return value and _checked(arguments.month, value, "month")


def _commodity(found: Findings, commodity: str | None) -> Findings:
    """The findings of ``commodity`` (upper case, as ingest stores codes), the stored side
    upper-cased too, for a store ingested before ingest did."""
    if not commodity:
        return found
    frame = found.to_frame()
    return Findings(
        frame[frame["commodity"].map(arguments.stored_upper) == commodity], found.scan_id
    )


def select_findings(
    store: Store, filters: FindingFilters, memo: Memo | None = None
) -> tuple[Findings, list[str]]:
    """The latest scan's findings that match, in the order asked; and the kinds on offer.
    A code the store holds no series of is a 422 naming what it holds, not "0 findings"."""
    # One parameter at a time, so the refusal names the one refused (each is checked on
    # its own by the api either way: a code held by no series, a month past the series').
    codes = dict(reporter=filters.reporter, partner=filters.partner, commodity=filters.commodity)
    months = {"since": (filters.since, None), "until": (None, filters.until)}
    selected = (filters.reporter, filters.partner, filters.flow, filters.commodity)
    for param, code in codes.items():
        if code:
            try:
                api.check_codes(store, **{param: code})
            except InputError as exc:
                raise Unprocessable(str(exc), param) from None
    for param, (since, until) in months.items():
        if since or until:
            try:
                api.check_months(store, since, until, *selected)
            except InputError as exc:
                raise Unprocessable(str(exc), param) from None
    everything = (memo or Memo(immutable=False)).findings(store)
    found = everything.filter(
        kind=filters.kind,
        severity=filters.severity,
        reporter=filters.reporter,
        partner=filters.partner,
        flow=filters.flow,
    )
    found = _commodity(found, filters.commodity).in_months(filters.since, filters.until)
    return found.sorted_by(filters.sort, filters.order, store.con.cursor()), list(KINDS)


def findings_page(
    store: Store, filters: FindingFilters, page: int, per_page: int, memo: Memo | None = None
) -> dict:
    memo = memo or Memo(immutable=False)
    key = ("findings", filters.model_dump_json(), page, per_page)
    return memo.get(store, key, lambda: _findings_page(store, filters, page, per_page, memo))


def _findings_page(
    store: Store, filters: FindingFilters, page: int, per_page: int, memo: Memo
) -> dict:
    found, kinds = select_findings(store, filters, memo)
    total = len(found)
    pages = max((total + per_page - 1) // per_page, 1)
    if page > pages:  # not the last page under another number: the address would lie
        raise NotFound(f"no page {page}: the findings selected fill {plural(pages, 'page')}")
    first = (page - 1) * per_page
    records = finding_records(Findings(found.to_frame().iloc[first : first + per_page]))
    return {
        "findings": records,
        "total": total,
        "page": page,
        "pages": pages,
        "per_page": per_page,
        "first": first + 1,
        "scan_id": found.scan_id,
        "kinds": kinds,
        "sorts": SORT_NAMES,
        # the flows the store holds, and the one asked for (a link may name another)
        "flows": _offered_flows(store, filters.flow, memo),
        "filters": filters.model_dump(),
        # amounts in currencies without a rate are ranked as they are: said beside them
        "ranking_note": api.ranking_note(store, found),
        # releases ingested after the scan: its findings may rest on figures since revised
        "after": ScanScope.of(api.scan_info(store, found.scan_id)).after
        if found.scan_id is not None
        else None,
    }


#: the longest text a refused form gives back in a field (the fields' own bound)
FORM_TEXT = 200
#: each list's page size, and the largest a request may ask
FINDINGS_PER_PAGE, PAIRS_PER_PAGE, MAX_PER_PAGE = 50, 100, 500
_LISTED = ("kind", "severity")  # the findings' filters that take several values
_CHOICES = ("kind", "severity", "flow", "sort", "order")  # matched to options in lower case


def refused_form(store: Store, path: str, params: list[tuple[str, str]], memo: Memo) -> dict | None:
    """The filter form of the page at ``path`` (/findings or /pairs; None for any other),
    holding what was asked as it was typed, for the page that refuses it (422): a reader
    corrects the entry there instead of typing every filter again."""
    asked: dict[str, list[str]] = {}
    for name, value in params:
        value = value.strip()[:FORM_TEXT]
        asked.setdefault(name, []).append(value.lower() if name in _CHOICES else value)
    default = PAIRS_PER_PAGE if path == "/pairs" else FINDINGS_PER_PAGE
    try:
        per_page = int(asked.get("per_page", [""])[-1])
    except ValueError:
        per_page = default
    per_page = per_page if 1 <= per_page <= MAX_PER_PAGE else default
    if path == "/pairs":
        return {"page": "pairs", "reporter": asked.get("reporter", [""])[-1], "per_page": per_page}
    if path != "/findings":
        return None
    filters = {name: asked.get(name, [""])[-1] for name in FindingFilters.model_fields}
    filters.update({name: asked.get(name, []) for name in _LISTED})
    return {
        "page": "findings",
        "filters": filters,
        "kinds": list(KINDS),
        "flows": _offered_flows(store, filters.get("flow") or None, memo),
        "sorts": SORT_NAMES,
        "per_page": per_page,
    }


def _offered_flows(store: Store, asked: str | None, memo: Memo) -> list[str]:
    held = memo.get(store, "flows", lambda: api.held_flows(store))
    return held if asked is None or asked in held else [*held, asked]


def findings_csv(found: Findings) -> str:
    """The CSV of `scan --format csv`: evidence as JSON text, formulas neutralised."""
    return csv_cells(csv_frame(found.to_frame())).to_csv(index=False)


def overview(store: Store, memo: Memo | None = None, top: int = 10, pair_limit: int = 50) -> dict:
    memo = memo or Memo(immutable=False)
    return memo.get(store, "overview", lambda: _overview(store, memo, top, pair_limit))


def _overview(store: Store, memo: Memo, top: int, pair_limit: int) -> dict:
    summary = api.overview(store)
    found = memo.findings(store).to_frame()
    records = finding_records(Findings(found.head(top)))
    pairs = api.pairs(store)
    scope = ScanScope.of(summary["scan"])
    index = _index_if_filtered(store, scope)
    listed = frame_records(pairs.head(pair_limit), months=("first_period", "last_period"))
    return {
        "overview": summary,
        "scope": scope.summary(index, summary["series"]),
        "top": records[:top],
        "pairs": scope.mark_pairs(listed, index),
        "pairs_total": len(pairs),
    }


def pairs_page(
    store: Store, reporter: str | None, page: int, per_page: int, memo: Memo | None = None
) -> dict:
    """Every reporter–partner pair (of ``reporter`` where given), a page at a time, in the
    overview's order: the overview lists the first 50, and a store of Comext's 41 files
    holds 742."""
    memo = memo or Memo(immutable=False)
    key = ("pairs", reporter, page, per_page)
    return memo.get(store, key, lambda: _pairs_page(store, reporter, page, per_page))


def _pairs_page(store: Store, reporter: str | None, page: int, per_page: int) -> dict:
    if reporter:
        try:
            reporter = arguments.country_code(reporter, "reporter")
            api.check_codes(store, reporter=reporter)
        except InputError as exc:
            raise Unprocessable(str(exc), "reporter") from None
    pairs = api.pairs(store)
    if reporter:
        pairs = pairs[pairs["reporter"] == reporter]
    total = len(pairs)
    pages = max((total + per_page - 1) // per_page, 1)
    if page > pages:
        raise NotFound(f"no page {page}: the pairs fill {plural(pages, 'page')}")
    first = (page - 1) * per_page
    scope = ScanScope.of(api.overview(store)["scan"])
    listed = frame_records(
        pairs.iloc[first : first + per_page], months=("first_period", "last_period")
    )
    return {
        "pairs": scope.mark_pairs(listed, _index_if_filtered(store, scope)),
        "total": total,
        "page": page,
        "pages": pages,
        "per_page": per_page,
        "first": first + 1,
        "reporter": reporter,
    }


def _index_if_filtered(store: Store, scope: ScanScope) -> pd.DataFrame | None:
    """Every series of the store, read only when the scan's filter left some out."""
    return None if scope.whole_store or not scope.scanned else api.series_index(store)


def overview_page(store: Store, memo: Memo) -> dict:
    """The overview with the chart of its worst finding."""

    def make() -> dict:
        data = overview(store, memo)
        worst = data["top"][0] if data["top"] else None
        return {**data, "worst": worst, "chart": _worst_chart(store, worst)}

    return memo.get(store, "overview-page", make)


def _worst_chart(store: Store, rec: dict | None) -> dict | None:
    if rec is None:
        return None
    key = (rec["reporter"], rec["partner"], rec["flow"], rec["commodity"])
    classification = rec.get("classification")
    try:
        view = api.series(
            store,
            *key,
            classification=classification,
            freq=rec.get("freq"),
            breakdown=rec.get("breakdown"),
        )
    except InputError:  # the finding's series left the current view
        return None
    mirror = api.mirror(
        store, *key, classification=classification, breakdown=view.breakdown, freq=view.freq
    )
    return chart_for(view, rec, mirror)


def ambiguous(store: Store, memo: Memo | None = None) -> dict[SeriesKey, frozenset[str]]:
    """The (reporter, partner, flow, commodity) whose path alone names no one series, each
    with what a link to one of its series must name: ``"classification"`` where the store
    holds it under several classifications, ``"freq"`` where it holds it both monthly and
    annually (``report.render.series_path``)."""

    def make() -> dict[SeriesKey, frozenset[str]]:
        index = api.series_index(store)
        if index.empty:
            return {}
        held = index.groupby(["reporter", "partner", "flow", "commodity"])
        counts = held[["classification", "freq"]].nunique()
        several = counts[(counts > 1).any(axis=1)]
        return {
            key: frozenset(c for c in ("classification", "freq") if row[c] > 1)
            for key, row in several.iterrows()
        }

    return (memo or Memo(immutable=False)).get(store, "ambiguous", make)


def series(
    store: Store,
    reporter: str,
    partner: str,
    flow: str,
    commodity: str,
    finding: str | None,
    memo: Memo | None = None,
    classification: str | None = None,
    breakdown: str | None = None,
    freq: str | None = None,
) -> tuple[dict, api.SeriesView, api.SeriesView | None]:
    """A series with its findings, release history and mirror; ``finding`` picks the focus,
    ``classification`` the series when the store holds it under several, ``freq`` ("M" or
    "A") when it holds it both monthly and annually, ``breakdown`` a part of the flow (UN
    Comtrade's rows by mode of transport…; the total without it).

    Returns the page's data and the two views its chart is drawn from. The mirror is the
    partner's record of the same part of the flow at the same frequency (``api.mirror``).
    """
    view = _series_view(store, reporter, partner, flow, commodity, classification, breakdown, freq)
    key = series_key(view)
    mirror = api.mirror(
        store,
        key["reporter"],
        key["partner"],
        key["flow"],
        key["commodity"],
        classification=view.classification,
        breakdown=view.breakdown,
        freq=view.freq,
    )
    records = finding_records(view.findings)
    focus = _focus(store, key, records, finding, memo or Memo(immutable=False))
    data = {
        "key": key,
        "currency": str(view.observations["currency"].iat[0]),
        "observations": observation_rows(view),
        "findings": records,
        "history": history_rows(view),
        "focus": focus,
        # The scan the findings come from: the latest that covered this series with every
        # detector (api.series), which is not the latest scan when that one was filtered.
        "findings_scan": view.findings.scan_id,
        "latest_scan": (api.scan_info(store) or {}).get("id"),
        "mirror": None
        if mirror is None
        else {"key": series_key(mirror), "observations": observation_rows(mirror)},
    }
    return data, view, mirror


def _series_view(
    store: Store,
    reporter: str,
    partner: str,
    flow: str,
    commodity: str,
    classification: str | None,
    breakdown: str | None = None,
    freq: str | None = None,
) -> api.SeriesView:
    """The series (the api matches codes in any case: ``total`` is ``TOTAL``, ``a`` is A)."""
    try:
        return api.series(
            store,
            reporter,
            partner,
            flow,
            commodity,
            classification=classification,
            freq=freq,
            breakdown=breakdown,
        )
    except SeriesChoice as choice:
        raise _choose(choice) from None
    except InputError as exc:
        raise NotFound(str(exc)) from None


def _choose(choice: SeriesChoice) -> NotFound:
    """The 404 of a series address that picks no one series (the api says which choice is
    missing and what the store holds), naming what there is and linking each."""
    key = choice.key
    name = f"{key['reporter']} → {key['partner']} {key['flow']} {key['commodity']}"
    # What the links must name besides the choice: the classification where the codes are
    # held under several, the frequency where they are held both monthly and annually.
    named = {"classification"} if len(choice.classifications) > 1 else set()
    if len(choice.freqs) > 1:
        named.add("freq")
    rec = {**key, "classification": choice.classification, "freq": choice.freq}
    if choice.param == "breakdown":
        return _no_breakdown(rec, choice.held, choice.asked, named)
    if choice.param == "freq":
        return _no_freq(rec, choice.held, choice.asked, named)
    held = choice.held
    # a frequency asked for is kept (named) in the links to each classification
    ambiguous = {_parts(key): {"classification", "freq"}}
    choices = {c: series_path({**rec, "classification": c}, ambiguous=ambiguous) for c in held}
    ways = " or ".join(f"?classification={c}" for c in held)
    if choice.asked is None:
        said = f"{name} is held under classifications {', '.join(held)}"
    else:
        said = (
            f"{name} is not held under classification {choice.asked}, only under {', '.join(held)}"
        )
    return NotFound(f"{said}: choose one with {ways}", choices)


def _no_breakdown(rec: dict, held: list[str], asked: str | None, named: set[str]) -> NotFound:
    """The 404 of a breakdown the series is not held by (or of none, when the store holds
    only parts of the flow and no total), naming those it is held by and linking each
    (with its classification and frequency where ``named``)."""
    name = f"{rec['reporter']} → {rec['partner']} {rec['flow']} {rec['commodity']}"
    shown = ", ".join("'' (the total)" if b == "" else repr(b) for b in held)
    if asked is None:
        said = f"{name} is held only by breakdown ({shown}), not as a total"
    else:
        said = f"{name} has no breakdown {asked!r}; its breakdowns are {shown}"
    ambiguous = {_parts(rec): named}
    choices = {b: series_path({**rec, "breakdown": b}, ambiguous=ambiguous) for b in held}
    return NotFound(f"{said}: choose one", choices, param="breakdown")


def _no_freq(rec: dict, held: list[str], asked: str | None, named: set[str]) -> NotFound:
    """The 404 of a series address that names no frequency where the store holds the
    series both monthly and annually (or one it is not held at), naming those held and
    linking each (with its classification where ``named``)."""
    name = f"{rec['reporter']} → {rec['partner']} {rec['flow']} {rec['commodity']}"
    shown = ", ".join(f"{f} ({arguments.FREQS.get(f, f)})" for f in held)
    if asked is None:
        said = f"{name} is held at frequencies {shown}"
    else:
        said = f"{name} is not held at freq {asked}, only at {shown}"
    ambiguous = {_parts(rec): {*named, "freq"}}
    choices = {f: series_path({**rec, "freq": f}, ambiguous=ambiguous) for f in held}
    ways = " or ".join(f"?freq={f}" for f in held)
    return NotFound(f"{said}: choose one with {ways}", choices, param="freq")


def _parts(rec: dict) -> SeriesKey:
    return (rec["reporter"], rec["partner"], rec["flow"], rec["commodity"])


def latest_id(memo: Memo, store: Store) -> int | None:
    return memo.findings(store).scan_id


def _focus(
    store: Store, key: dict, records: list[dict], finding: str | None, memo: Memo
) -> dict | None:
    """The finding asked for (404 when this series has no such finding), else the worst.

    The series' findings come from the latest scan that covered it with every detector; a
    finding of a later, narrower scan (``scan --kind dip``) is looked up there too, so that
    every link of the findings list opens its series.
    """
    if finding is None:
        return records[0] if records else None
    match = next((r for r in records if r["id"] == finding), None)
    if match is None:
        latest = memo.findings(store).to_frame()
        same = latest[latest["id"] == finding]
        # The key holds the classification and the breakdown: a finding of the same HS
        # code under another classification, or of another part of the flow, is on another
        # series.
        if len(same) and all(same[column].iat[0] == value for column, value in key.items()):
            # not among the page's flags: the page says which scan it is from
            match = {
                **finding_records(Findings(same.head(1)))[0],
                "scan_id": latest_id(memo, store),
            }
    if match is None:
        name = f"{key['reporter']} → {key['partner']} {key['flow']} {key['commodity']}"
        if key.get("breakdown"):
            name += f" ({key['breakdown']})"
        raise NotFound(f"no finding {finding!r} on the series {name}")
    return match


def pair(store: Store, reporter: str, partner: str) -> dict:
    """A reporter's series with one partner, as that reporter records them."""
    index = api.series_index(store, reporter=reporter, partner=partner)
    if index.empty:
        raise NotFound(f"no series {reporter} → {partner} in the store")
    # the findings and the scope the page tells are one scan's, the latest: findings()
    # refuses a pair that scan did not look at (limited to another reporter), whose
    # series the scope then marks "not scanned"
    try:
        found = api.findings(store, reporter=reporter, partner=partner)
        info = api.scan_info(store, found.scan_id) if found.scan_id is not None else None
    except InputError:  # no saved scan looked at the pair: its series are "not scanned"
        info = api.scan_info(store)
        found = Findings(empty_findings(), None if info is None else info["id"])
    scope = ScanScope.of(info)
    rows = frame_records(index, months=("first_period", "last_period"))
    reverse = api.series_index(store, reporter=partner, partner=reporter, limit=1)
    return {
        "reporter": reporter,
        "partner": partner,
        "scope": scope.summary(index, len(index)),
        "series": scope.mark_series(rows),
        "findings": finding_records(found),
        "reverse": not reverse.empty,  # the store holds the partner's own record too
    }


def pair_views(store: Store, data: dict) -> list[api.SeriesView]:
    """The pair's series most at stake, for its charts."""
    views = []
    for row in data["series"][:PAIR_CHARTS]:
        key = (row["reporter"], row["partner"], row["flow"], row["commodity"])
        views.append(
            api.series(
                store,
                *key,
                classification=row["classification"],
                freq=row["freq"],
                breakdown=row["breakdown"],
            )
        )
    return views


def series_page(
    store: Store,
    key: tuple[str, str, str, str],
    finding: str | None,
    memo: Memo,
    classification: str | None = None,
    breakdown: str | None = None,
    freq: str | None = None,
) -> dict:
    """The series page's data with its chart (kept by the memo); JSON drops the chart."""

    def make() -> dict:
        data, view, mirror = series(store, *key, finding, memo, classification, breakdown, freq)
        return {**data, "chart": chart_for(view, data["focus"], mirror)}

    return memo.get(store, ("series", key, classification, breakdown, freq, finding), make)


def pair_page(store: Store, reporter: str, partner: str, memo: Memo) -> dict:
    """The pair page's data with the charts of its series most at stake."""

    def make() -> dict:
        data = pair(store, reporter, partner)
        shown = pair_views(store, data)
        # one scale for the page's charts: exports on a log axis above imports on a linear
        # one read as two different stories
        log = any(wants_log(v) for v in shown)
        charts = [
            {
                "key": series_key(v),
                "chart": chart_for(v, None, None, log=log),
                "scan_id": v.findings.scan_id,
            }
            for v in shown
        ]
        return {**data, **_flags_run_now(data, shown), "charts": charts}

    return memo.get(store, ("pair", reporter, partner), make)


def _flags_run_now(data: dict, shown: list[api.SeriesView]) -> dict:
    """The findings the pair's charts draw from a scan run now (their series no saved scan
    covered with their figures as they are: ``api.series``), listed apart as the series
    page lists them; the saved scan's findings on those series, made before their latest
    figures, leave the main list (a chart ringed a level shift medium, $63.5M, where the
    table listed it high, $58.4M; with no scan saved, the charts were ringed above "No
    findings.")."""
    fresh = [v for v in shown if v.findings.scan_id is None]  # even where it found nothing
    keys = {_finding_series(series_key(v)) for v in fresh}
    now = [record for v in fresh if len(v.findings) for record in finding_records(v.findings)]
    kept = [f for f in data["findings"] if _finding_series(f) not in keys]
    return {"findings": kept, "findings_now": now}


def _finding_series(record: dict) -> tuple:
    return tuple(
        record.get(k) or ""
        for k in ("reporter", "partner", "flow", "classification", "commodity", "breakdown", "freq")
    )


def finding(store: Store, finding_id: str, memo: Memo | None = None) -> dict:
    found = (memo or Memo(immutable=False)).findings(store).to_frame()
    match = found[found["id"] == finding_id]
    if match.empty:
        raise NotFound(f"no finding {finding_id!r} in the latest scan")
    return finding_records(Findings(match.head(1)))[0]


def releases(store: Store) -> list[dict]:
    return release_records(store)
