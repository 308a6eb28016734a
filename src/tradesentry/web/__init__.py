"""The web dashboard: ``create_app(store)`` makes a read-only FastAPI app over a store.

No module globals: each call builds a new app with its own store, so tests build many.
Pages and their JSON twins live in ``routes``; static files (plotly.js included) are
served from the package, never from a CDN. Every response carries a strict
Content-Security-Policy: the pages run only the scripts the app serves itself.
"""

from __future__ import annotations

import ipaddress
import os
import threading
from importlib import resources

from tradesentry.errors import EngineUnavailable

try:
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import FileResponse, Response
    from fastapi.staticfiles import StaticFiles
    from starlette.exceptions import HTTPException
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise EngineUnavailable(
        "the dashboard needs FastAPI and uvicorn: pip install 'tradesentry[web]'"
    ) from exc

import duckdb
from markupsafe import Markup

from tradesentry.errors import StoreError, TradesentryError
from tradesentry.report.render import plotly_js_path
from tradesentry.store import Store
from tradesentry.text import printable
from tradesentry.web import routes, views

__all__ = ["create_app"]

SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


#: the names a loopback server answers to: any other Host header is a page elsewhere
#: that pointed its own name at 127.0.0.1 (DNS rebinding) to read the dashboard
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


def allowed_hosts(bind: str) -> list[str] | None:
    """The Host headers to answer when serving on ``bind``: the loopback names (and the
    address itself, as a browser writes it) for a loopback address however it is spelled
    (``LOCALHOST``, ``0:0:0:0:0:0:0:1``, ``127.0.0.2``); None (any) for an address on a
    network, which its users reach by names the server cannot know."""
    if not is_loopback(bind):
        return None
    return sorted({*LOOPBACK_HOSTS, bind.lower(), url_host(bind)})


def is_loopback(bind: str) -> bool:
    name = bind.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def url_host(bind: str) -> str:
    """The host as a URL writes it: an IPv6 address in brackets (``[::1]``)."""
    name = bind.strip().strip("[]")
    try:
        return f"[{name}]" if ipaddress.ip_address(name).version == 6 else name
    except ValueError:
        return name


def create_app(store: Store | str | os.PathLike, hosts: list[str] | None = None) -> FastAPI:
    """A read-only dashboard over ``store`` (a path is opened read-only; a Store is used as
    is). ``hosts``: the Host headers it answers (400 for others; None: any)."""
    from tradesentry import __version__

    base = store if isinstance(store, Store) else Store(store, read_only=True)
    app = FastAPI(
        title="tradesentry",
        version=__version__,
        description="Findings in official trade statistics: pages and their JSON twins.",
        docs_url=None,  # Swagger UI would load from a CDN; the schema is at /openapi.json
        redoc_url=None,
        default_response_class=routes.EscapedJSON,
    )
    app.state.store = base
    app.state.cursor_lock = threading.Lock()
    app.state.memo = views.Memo(immutable=not isinstance(store, Store))
    app.include_router(routes.pages)
    app.include_router(routes.api_router)
    _static(app)
    _errors(app)
    if hosts is not None:
        from starlette.middleware.trustedhost import TrustedHostMiddleware

        app.add_middleware(TrustedHostMiddleware, allowed_hosts=hosts)
    app.add_middleware(SecurityHeaders)  # the last added is outermost: its 400 gets them too
    return app


def _static(app: FastAPI) -> None:
    """/static from the package; plotly.min.js straight from the installed plotly package."""
    plotly_js = plotly_js_path()

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly() -> FileResponse:
        with resources.as_file(plotly_js) as path:
            return FileResponse(
                path,
                media_type="text/javascript",
                headers={"cache-control": "public, max-age=86400"},
            )

    folder = resources.files("tradesentry").joinpath("web/static")
    app.mount("/static", StaticFiles(directory=str(folder)), name="static")


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path == "/openapi.json"


def _refused_form(request: Request) -> dict | None:
    """The refused page's filter form as the reader filled it in (``views.refused_form``);
    None where the page has none or the store cannot say which flows it holds."""
    root = routes.app_root(request)
    path = request.url.path
    path = path[len(root) :] if root and path.startswith(root) else path
    try:
        with routes.store_view(request) as store:
            return views.refused_form(
                store, path, request.query_params.multi_items(), request.app.state.memo
            )
    except (TradesentryError, duckdb.Error):  # the refusal is shown without its form
        return None


def _errors(app: FastAPI) -> None:
    """Errors as JSON under /api and as a page elsewhere; never a traceback."""

    def page(request: Request, status: int, title: str, detail) -> Response:
        if _wants_json(request):
            return routes.EscapedJSON({"detail": detail}, status_code=status)
        form = _refused_form(request) if status == 422 else None
        return routes.render(
            request,
            "error.html",
            status_code=status,
            status=status,
            title=title,
            detail=detail,
            form=form,
        )

    @app.exception_handler(HTTPException)
    def http_error(request: Request, exc: HTTPException) -> Response:
        title = "Not found" if exc.status_code == 404 else "Request refused"
        response = page(request, exc.status_code, title, exc.detail)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(RequestValidationError)
    def invalid(request: Request, exc: RequestValidationError) -> Response:
        detail = [
            # pydantic's "Value error, " before the api's own message says nothing to a reader
            {
                "loc": [str(p) for p in e.get("loc", ())],
                "msg": str(e.get("msg", "")).removeprefix("Value error, "),
            }
            for e in exc.errors()
        ]
        return page(request, 422, "Some parameters are not valid", detail)

    @app.exception_handler(views.NotFound)
    def not_found(request: Request, exc: views.NotFound) -> Response:
        if not exc.choices:
            return page(request, 404, "Not found", str(exc))
        # A series held under several classifications (or breakdowns): a link to each (the
        # API's own address under /api), the text escaped, the links made here; markup
        # keeps its characters as they are (``_shown``), so the text's control characters
        # (a NUL typed into the address) are made escapes first.
        root = routes.app_root(request)
        prefix = root + ("/api" if _wants_json(request) else "")
        if _wants_json(request):
            choices = [{exc.param: c, "url": prefix + path} for c, path in exc.choices.items()]
            return routes.EscapedJSON({"detail": str(exc), "choices": choices}, status_code=404)
        links = Markup(" · ").join(
            Markup('<a href="{}">{}</a>').format(prefix + path, printable(c) if c else "total")
            for c, path in exc.choices.items()
        )
        detail = Markup('{} <span class="choices">({})</span>').format(printable(str(exc)), links)
        return page(request, 404, "Not found", detail)

    @app.exception_handler(views.Unprocessable)
    def unprocessable(request: Request, exc: views.Unprocessable) -> Response:
        return page(request, 422, "Some parameters are not valid", str(exc))

    @app.exception_handler(StoreError)
    def store_error(request: Request, exc: StoreError) -> Response:
        return page(request, 503, "The store is not available", str(exc))

    @app.exception_handler(TradesentryError)
    def bad_input(request: Request, exc: TradesentryError) -> Response:
        return page(request, 400, "Request refused", str(exc))


class SecurityHeaders:
    """Adds the security headers to every response (plain ASGI: no per-request overhead).

    It also answers HEAD as GET (the server sends no body for HEAD), which FastAPI's routes
    do not by themselves: link checkers and uptime probes send HEAD.
    """

    def __init__(self, app):
        self.app = app
        self.headers = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope["method"] == "HEAD":
            scope = {**scope, "method": "GET"}

        async def with_headers(message):
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.headers if k not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        return await self.app(scope, receive, with_headers)
