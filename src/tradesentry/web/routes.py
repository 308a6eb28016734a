"""The dashboard's pages and their JSON twins. Each pair of routes calls one function of
``views``; the HTML route renders it with the shared templates, the JSON route returns it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, get_args, get_origin
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from pydantic import AfterValidator, BaseModel

from tradesentry import arguments
from tradesentry.findings import Findings
from tradesentry.report.render import environment, series_path
from tradesentry.store import Store
from tradesentry.text import json_escaped
from tradesentry.web import views
from tradesentry.web.views import FindingFilters


class EscapedJSON(JSONResponse):
    """Every JSON answer of the dashboard, with the command line's escapes
    (``text.json_escaped``: C1, bidirectional controls and line separators as ``\\u``
    escapes): a file name or a code holding one is the same value, read in a terminal or a
    pager as it is."""

    def render(self, content: Any) -> bytes:
        return json_escaped(super().render(content).decode("utf-8")).encode("utf-8")


#: the query parameters that may be given more than once (each value one more choice):
#: the filters that take a list
REPEATABLE = frozenset(
    name
    for name, field in FindingFilters.model_fields.items()
    if any(get_origin(t) is list for t in (field.annotation, *get_args(field.annotation)))
)


async def one_value_each(request: Request) -> None:
    """Refuse a parameter given twice where it takes one value: FastAPI would keep the last
    (`?flow=export&flow=import` read as imports alone, without a word). And refuse one the
    address does not take: FastAPI ignores it, and a typo read as "everything"
    (`/api/findings?kinds=spike`, the Python API's spelling, gave all 581 findings)."""
    route = request.scope.get("route")
    taken = _query_names(route) if route is not None else None
    given = {name for name in request.query_params if not _tracking(name)}
    unknown = sorted(given - taken) if taken is not None else []
    if unknown:
        listed = ", ".join(sorted(taken)) or "none"
        raise views.Unprocessable(
            f"unknown parameter {unknown[0]!r}: {request.url.path} takes {listed}", unknown[0]
        )
    seen: set[str] = set()
    for name, _ in request.query_params.multi_items():
        if name in seen and name not in REPEATABLE:
            raise views.Unprocessable(
                f"{name} is given more than once: it takes one value "
                f"(only {' and '.join(sorted(REPEATABLE))} may be repeated)",
                name,
            )
        seen.add(name)


def _tracking(name: str) -> bool:
    """A parameter a shared link picks up on its way (a campaign tag, a click id), which
    says nothing of what the page shows: a link posted with ``?utm_source=…`` must open."""
    return name.startswith("utm_") or name in ("fbclid", "gclid", "_")


#: each route's query parameters, by the route's id (an APIRoute is not hashable)
_QUERY_NAMES: dict[int, frozenset[str]] = {}


def _query_names(route) -> frozenset[str] | None:
    """The query parameters a route takes (a model's fields one by one, its dependencies'
    too), once per route; None where the route declares none of its own (a static file)."""
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return None
    if id(route) not in _QUERY_NAMES:
        _QUERY_NAMES[id(route)] = _declared_names(dependant)
    return _QUERY_NAMES[id(route)]


def _declared_names(dependant) -> frozenset[str]:
    names: set[str] = set()
    stack = [dependant]
    while stack:
        dep = stack.pop()
        for field in dep.query_params:
            kind = field.field_info.annotation
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                names |= {f.alias or n for n, f in kind.model_fields.items()}
            else:
                names.add(field.alias)
        stack.extend(dep.dependencies)
    return frozenset(names)


class ApiRoute(APIRoute):
    """A route of the JSON API: a query it refuses (``views.Unprocessable``, an unknown or
    repeated parameter, a code the store does not hold) is a 422 in the one shape of
    FastAPI's own (``{"detail": [{"loc": ["query", name], "msg": …}]}``), as a value
    refused by validation is, so a client reads one format; pages keep their error page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await handle(request)
            except views.Unprocessable as exc:
                loc = ("query",) if exc.param is None else ("query", exc.param)
                error = {"type": "value_error", "loc": loc, "msg": str(exc), "input": None}
                raise RequestValidationError([error]) from None

        return handler


pages = APIRouter(dependencies=[Depends(one_value_each)])
api_router = APIRouter(
    prefix="/api", tags=["api"], dependencies=[Depends(one_value_each)], route_class=ApiRoute
)

# No length limit on codes: ingest takes them of any length (a table may key its goods by
# a description), and a code it stored must open its page; the HTTP server bounds a
# request's size.
Segment = Annotated[str, Path(min_length=1)]
Page = Annotated[int, Query(ge=1, le=100_000, description="Page number, from 1.")]
PerPage = Annotated[
    int, Query(ge=1, le=views.MAX_PER_PAGE, description="Findings (or pairs) per page.")
]
Filters = Annotated[FindingFilters, Query()]
FindingId = Annotated[str | None, Query(max_length=64, description="The finding to show in focus.")]
Classification = Annotated[
    str | None,
    Query(
        description="HS, H5, S4…: which series, when the store holds the commodity under "
        "several classifications (else the page lists them).",
    ),
]


def _freq_choice(value: str | None) -> str | None:
    """M or A in any case ("" is any); else a message a reader can act on, not a regex."""
    if value is not None and value.strip().upper() not in ("", "M", "A"):
        raise ValueError(f"freq {value!r}: choose M (monthly) or A (annual)")
    return value


Freq = Annotated[
    str | None,
    Query(
        description="M (monthly) or A (annual), in any case: which series, when the store "
        "holds it both monthly and annually (else the page lists them).",
    ),
    AfterValidator(_freq_choice),
]
Breakdown = Annotated[
    str | None,
    Query(
        description="A part of the flow, as the store keeps it "
        "(partner2=0;customs=C00;mot=3200: UN Comtrade's rows by second partner, customs "
        "procedure or mode of transport); without it, the total.",
    ),
]


class Finding(BaseModel):
    """One finding in the finding contract (as `tradesentry scan --format json`)."""

    id: str
    kind: str
    reporter: str
    partner: str
    flow: str
    commodity: str
    classification: str | None = None  # the commodity's nomenclature (HS, H5…)
    breakdown: str = ""  # the part of the flow ("" the whole flow)
    period: str
    period_end: str
    freq: str = "M"  # the series' frequency: "A" for an annual series (period: its January)
    observed: float | None
    expected: float | None
    currency: str
    impact: float | None
    score: float | None
    severity: str
    explanation: str
    evidence: dict[str, Any]


@contextmanager
def store_view(request: Request) -> Iterator[Store]:
    """The app's store on a cursor of its own, closed on leaving.

    One DuckDB connection must not be used by two threads at once; a cursor per request
    shares the database (and its read-only lock) without sharing the connection.
    """
    base: Store = request.app.state.store
    with request.app.state.cursor_lock:
        cursor = base.cursor()
    view = Store.__new__(Store)  # a Store facade over the cursor; opens nothing
    view.path, view.con = base.path, cursor
    try:
        yield view
    finally:
        cursor.close()


async def request_store(request: Request) -> AsyncIterator[Store]:
    """The store for this request (``store_view``). Making a cursor does no I/O, so this
    runs on the event loop (no thread hop per request)."""
    with store_view(request) as view:
        yield view


Db = Annotated[Store, Depends(request_store)]


async def app_memo(request: Request) -> views.Memo:
    return request.app.state.memo


Memo = Annotated[views.Memo, Depends(app_memo)]


def app_root(request: Request) -> str:
    """The address the app is served under (``--root-path``). Inside a mount Starlette's
    ``root_path`` holds the mount's path too: a 404 under /static linked its stylesheet at
    /static/static/app.css and its menu at /static/findings."""
    scope = request.scope
    return scope.get("app_root_path", scope.get("root_path", ""))


def render(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    """A page from the shared templates; autoescape is on for every one of them."""
    from tradesentry import __version__

    html = (
        environment()
        .get_template(template)
        .render(
            standalone=False,
            root=app_root(request),
            version=__version__,
            store_name=request.app.state.store.path.name,
            **context,
        )
    )
    return HTMLResponse(html, status_code=status_code)


def _query_without(request: Request, *names: str) -> str:
    return urlencode([(k, v) for k, v in request.query_params.multi_items() if k not in names])


def _series_page(db, reporter, partner, flow, commodity, memo, finding, *choices) -> dict:
    """The series page's data for the page and its JSON twin; blank choices are none."""
    key = (*_key(reporter, partner, flow), commodity)
    chosen = (_blank_is_none(c) for c in choices)
    return views.series_page(db, key, _blank_is_none(finding), memo, *chosen)


def _blank_is_none(value: str | None) -> str | None:
    """An empty query value (``?classification=``, ``?freq=``, ``?breakdown=``,
    ``?finding=``) means none was chosen (for ``breakdown``: the total)."""
    return (value.strip() or None) if value is not None else None


def _key(reporter: str, partner: str, flow: str) -> tuple[str, str, str]:
    """Codes as the store keeps them (CHN, export), whatever the case typed in a URL (an
    unknown flow is left for the series lookup to refuse, as a 404)."""
    return (
        arguments.country_code(reporter, "reporter"),
        arguments.country_code(partner, "partner"),
        flow.lower(),
    )


def _pair(reporter: str, partner: str) -> tuple[str, str]:
    return arguments.country_code(reporter, "reporter"), arguments.country_code(partner, "partner")


# -- pages ---------------------------------------------------------------------------------
@pages.get("/", response_class=HTMLResponse, summary="Overview")
def overview_page(request: Request, db: Db, memo: Memo) -> HTMLResponse:
    data = views.overview_page(db, memo)
    return render(request, "overview.html", ambiguous=views.ambiguous(db, memo), **data)


@pages.get("/findings", response_class=HTMLResponse, summary="Findings, filtered")
def findings_page(
    request: Request,
    db: Db,
    memo: Memo,
    filters: Filters,
    page: Page = 1,
    per_page: PerPage = views.FINDINGS_PER_PAGE,
) -> HTMLResponse:
    data = views.findings_page(db, filters, page, per_page, memo)
    return render(
        request,
        "findings.html",
        query=_query_without(request, "page"),
        export_query=_query_without(request, "page", "per_page"),
        ambiguous=views.ambiguous(db, memo),
        **data,
    )


@pages.get("/finding/{finding_id}", summary="One finding: its series page")
def finding_page(request: Request, db: Db, memo: Memo, finding_id: Segment) -> RedirectResponse:
    rec = views.finding(db, finding_id, memo)
    root = app_root(request)
    path = series_path(rec, rec["id"], ambiguous=views.ambiguous(db, memo))
    return RedirectResponse(f"{root}{path}#f-{rec['id']}", status_code=302)


@pages.get(
    "/series/{reporter}/{partner}/{flow}/{commodity:path}",
    response_class=HTMLResponse,
    summary="One series",
)
def series_page(
    request: Request,
    db: Db,
    reporter: Segment,
    partner: Segment,
    flow: Segment,
    commodity: Segment,
    memo: Memo,
    finding: FindingId = None,
    classification: Classification = None,
    breakdown: Breakdown = None,
    freq: Freq = None,
) -> HTMLResponse:
    data = _series_page(db, reporter, partner, flow, commodity, memo, finding,
                        classification, breakdown, freq)  # fmt: skip
    return render(request, "series.html", ambiguous=views.ambiguous(db, memo), **data)


@pages.get("/pair/{reporter}/{partner}", response_class=HTMLResponse, summary="One pair")
def pair_page(
    request: Request, db: Db, memo: Memo, reporter: Segment, partner: Segment
) -> HTMLResponse:
    data = views.pair_page(db, *_pair(reporter, partner), memo)
    return render(request, "pair.html", ambiguous=views.ambiguous(db, memo), **data)


def _pairs(
    db: Db,
    memo: Memo,
    reporter: Annotated[str | None, Query(max_length=64, description="Only this reporter.")] = None,
    page: Page = 1,
    per_page: PerPage = views.PAIRS_PER_PAGE,
) -> dict:
    """The page of pairs /pairs and its twin show (``views.pairs_page``)."""
    return views.pairs_page(db, _blank_is_none(reporter), page, per_page, memo)


Pairs = Annotated[dict, Depends(_pairs)]


@pages.get("/pairs", response_class=HTMLResponse, summary="Every reporter-partner pair")
def pairs_page(request: Request, data: Pairs) -> HTMLResponse:
    return render(request, "pairs.html", query=_query_without(request, "page"), **data)


@pages.get("/releases", response_class=HTMLResponse, summary="Releases")
def releases_page(request: Request, db: Db) -> HTMLResponse:
    return render(request, "releases.html", releases=views.releases(db))


# -- JSON twins ----------------------------------------------------------------------------
@api_router.get("/overview", summary="What the store holds and what the latest scan found")
def overview_json(db: Db, memo: Memo) -> dict:
    return views.overview(db, memo)


Limit = Annotated[int | None, Query(ge=1, le=1_000_000)]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000)]
ApiPage = Annotated[Page | None, Query(description="The HTML page's page, as limit/offset.")]
ApiPerPage = Annotated[
    PerPage | None, Query(description=f"With page: its size ({views.FINDINGS_PER_PAGE}).")
]


def window_query(
    limit: Limit = None, offset: Offset = 0, page: ApiPage = None, per_page: ApiPerPage = None
) -> tuple[int | None, int, int | None, int | None]:
    """The paging an export of findings takes (JSON and CSV alike)."""
    return limit, offset, page, per_page


Window = Annotated[tuple[int | None, int, int | None, int | None], Depends(window_query)]


def _window(
    found: Findings, limit: int | None, offset: int, page: int | None, per_page: int | None
) -> Findings:
    """The findings a JSON or CSV export asks for: limit/offset, or a page's page and size
    (a page's link with /api before it)."""
    if page is not None or per_page is not None:
        if limit is not None or offset:
            raise views.Unprocessable("page and per_page, or limit and offset: choose one")
        limit = per_page or views.FINDINGS_PER_PAGE
        offset = ((page or 1) - 1) * limit
    if not offset and limit is None:
        return found
    frame = found.to_frame().iloc[offset : None if limit is None else offset + limit]
    return Findings(frame, found.scan_id)


@api_router.get(
    "/findings",
    summary="Findings in the finding contract (as `scan --format json`)",
    response_class=EscapedJSON,
    responses={200: {"model": list[Finding]}},
)
def findings_json(db: Db, memo: Memo, filters: Filters, window: Window) -> Response:
    found, _ = views.select_findings(db, filters, memo)
    total = len(found)  # all that match, so a client paging with limit/offset knows the end
    found = _window(found, *window)
    headers = {"X-Total-Count": str(total)}
    return Response(found.to_json(), media_type="application/json", headers=headers)


@api_router.get("/pairs", summary="Every reporter-partner pair, a page at a time")
def pairs_json(data: Pairs) -> Response:
    headers = {"X-Total-Count": str(data["total"])}
    return EscapedJSON(data["pairs"], headers=headers)


@api_router.get(
    "/findings.csv",
    summary="Findings as CSV, spreadsheet formulas neutralised",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def findings_csv(db: Db, memo: Memo, filters: Filters, window: Window) -> Response:
    # the JSON twin's paging too: "?limit=5" gave every row, "?limit=abc" no 422
    found, _ = views.select_findings(db, filters, memo)
    total = len(found)
    return Response(
        views.findings_csv(_window(found, *window)),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="findings.csv"',
            "X-Total-Count": str(total),
        },
    )


@api_router.get("/findings/{finding_id}", summary="One finding", response_model=Finding)
def finding_json(db: Db, memo: Memo, finding_id: Segment) -> dict:
    return views.finding(db, finding_id, memo)


@api_router.get(
    "/series/{reporter}/{partner}/{flow}/{commodity:path}",
    summary="A series: current figures, findings, release history, mirror",
)
def series_json(
    db: Db,
    reporter: Segment,
    partner: Segment,
    flow: Segment,
    commodity: Segment,
    memo: Memo,
    finding: FindingId = None,
    classification: Classification = None,
    breakdown: Breakdown = None,
    freq: Freq = None,
) -> dict:
    data = _series_page(db, reporter, partner, flow, commodity, memo, finding,
                        classification, breakdown, freq)  # fmt: skip
    return {k: v for k, v in data.items() if k != "chart"}


@api_router.get("/pair/{reporter}/{partner}", summary="A reporter–partner pair")
def pair_json(db: Db, memo: Memo, reporter: Segment, partner: Segment) -> dict:
    data = views.pair_page(db, *_pair(reporter, partner), memo)
    return {k: v for k, v in data.items() if k != "charts"}


@api_router.get("/releases", summary="Releases with their counts (as `releases --format json`)")
def releases_json(db: Db) -> list[dict]:
    return views.releases(db)
