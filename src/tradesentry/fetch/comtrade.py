"""Fetch UN Comtrade Plus data into the store: one release per reporter-period batch.

The calls follow the official client ``comtradeapicall`` (same endpoints, path layout and
query parameters; ``tests/fetch`` checks our URLs against the ones it builds), but are made
with httpx, because that client hard-codes the host (no mirror or test server can stand in),
prints a failed reply and returns ``None`` (no status code, no Retry-After), sends the key
as a query parameter (it ends up in logs) and converts to pandas (the raw JSON, our
provenance, is lost). Its country lookup downloads a reference file on every call; codes
are translated offline here (country_converter plus Comtrade's own M49 codes).

One batch is one period: Comtrade publishes each reporter's period as its own dataset with
its own release date, which the availability endpoint (``getDa``) reports as
``lastReleased``. So each batch lands as a release carrying that date, and a revised month
arrives as a new release while the unchanged months are no-ops.
"""

from __future__ import annotations

import contextlib
import csv
import email.utils
import hashlib
import json
import logging
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from tradesentry.errors import EngineUnavailable, FetchError, InputError, TradesentryError
from tradesentry.ingest.comtrade import OTHER_FLOW_CODES
from tradesentry.store import (
    IngestResult,
    Store,
    checked_published,  # the store's own rule
    open_store,
    remove_if_empty,
    resolve_store_path,
)
from tradesentry.text import plural

try:  # only a fetch needs it; a dry run and the rest of tradesentry do not
    import httpx
except ImportError:  # pragma: no cover - depends on the install
    httpx = None

if TYPE_CHECKING:
    from rich.progress import Progress

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://comtradeapi.un.org"
ENV_BASE_URL = "COMTRADE_API_URL"
ENV_API_KEY = "COMTRADE_API_KEY"
KEY_HEADER = "Ocp-Apim-Subscription-Key"
PREVIEW_LIMIT = 500  # records a call on the public preview endpoint
FULL_LIMIT = 100_000  # records a call with a (free) subscription key
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_WAIT_SECONDS = 120.0  # a Retry-After beyond this is a quota, not a hiccup: fail instead
TIMEOUT_SECONDS = 60.0
MIN_INTERVAL_SECONDS = 1.0  # between two calls: the API limits calls per second and per IP
PERIODS_PER_AVAILABILITY_CALL = 12
FLOW_WORDS = {"EXPORT": "X", "IMPORT": "M", "RE-EXPORT": "RX", "RE-IMPORT": "RM"}
# The flow codes the API takes: the four with a canonical flow first, then the others (their
# rows land in the quarantine, named, as on ingest).
FLOW_CODE_CHOICES: tuple[str, ...] = (*FLOW_WORDS.values(), *OTHER_FLOW_CODES)
_WORLD_SPELLINGS = {"0", "WLD", "W00", "WORLD"}


class KeyRefused(FetchError):
    """401/403: the key (or its absence) is the problem, so no later call can succeed."""


class Unreachable(FetchError):
    """The host cannot be reached: every later call goes to the same host, so the fetch stops."""


class Terminated(BaseException):
    """SIGTERM during a fetch, raised so that the fetch unwinds as on Ctrl-C (``_sigterm_unwinds``).

    A BaseException, as KeyboardInterrupt is, so that no ``except Exception`` takes it for
    an error to report and go on from.
    """


# -- the requests ----------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedRequest:
    """One HTTP call, as the dry run shows it. The key travels in a header, never here."""

    method: str
    url: str
    params: tuple[tuple[str, str], ...]
    kind: str  # "data" or "availability"
    periods: tuple[str, ...]
    flows: tuple[str, ...] = ()

    @property
    def full_url(self) -> str:
        return f"{self.url}?{urlencode(self.params, safe=',')}"

    @property
    def path_and_query(self) -> str:
        """The request without its host: what names the cached file, so a mirror maps to it."""
        return f"{urlsplit(self.url).path}?{urlencode(self.params, safe=',')}"

    def __str__(self) -> str:
        """The call as messages and the dry run show it: without any user:password@ the
        API's URL may carry, which logs and cron mail would otherwise keep."""
        parts = urlsplit(self.full_url)
        shown = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
        return f"{self.method} {shown}"

    def summary(self) -> str:
        """The line for a call that found nothing (a month not yet published, say)."""
        return f"{','.join(self.periods)} {','.join(self.flows)}: no data"


@dataclass(frozen=True)
class Query:
    """What the user asked for, in Comtrade's codes."""

    reporter: int
    partner: int
    freq: str
    periods: tuple[str, ...]
    flows: tuple[str, ...]
    commodity: str
    classification: str


@dataclass(frozen=True)
class FetchedRelease(IngestResult):
    """An ingest result plus what was fetched: the period, flows, publication date, URL."""

    period: str = ""
    flows: str = ""
    published: date | None = None
    url: str = ""

    def summary(self) -> str:
        """One line for the terminal: which period, what landed, when it was published."""
        state = "already in the store" if self.already_ingested else "new"
        published = self.published.isoformat() if self.published else "unknown"
        return (
            f"{self.period} {self.flows}: release {self.release_id} ({state}), "
            f"{plural(self.rows_accepted, 'row')} accepted, {self.rows_quarantined:,} quarantined, "
            f"published {published}"
        )


class FetchReport(list):
    """The releases a fetch made or found (a list), plus the batches that had no data."""

    def __init__(self, items: Iterable[FetchedRelease] = (), empty: Sequence[PlannedRequest] = ()):
        super().__init__(items)
        self.empty: list[PlannedRequest] = list(empty)


def _endpoint(base_url: str, keyed: bool, name: str, query: Query) -> str:
    """``/public/v1/preview`` without a key, ``/data/v1/get`` with one (as comtradeapicall)."""
    root = "data" if keyed else "public"
    if name == "data":
        name = "get" if keyed else "preview"
    return f"{base_url}/{root}/v1/{name}/C/{query.freq}/{query.classification}"


def data_request(
    query: Query, base_url: str, keyed: bool, period: str, flows: Sequence[str]
) -> PlannedRequest:
    """The data call for one period and some flows: classic totals, with descriptions."""
    params = (
        ("reporterCode", str(query.reporter)),
        ("partnerCode", str(query.partner)),
        ("period", period),
        ("flowCode", ",".join(flows)),
        ("cmdCode", query.commodity),
        ("maxRecords", str(FULL_LIMIT if keyed else PREVIEW_LIMIT)),
        ("format", "JSON"),
        ("breakdownMode", "classic"),
        ("includeDesc", "True"),
    )
    url = _endpoint(base_url, keyed, "data", query)
    return PlannedRequest("GET", url, params, "data", (period,), tuple(flows))


def availability_requests(query: Query, base_url: str, keyed: bool) -> list[PlannedRequest]:
    """The ``getDa`` calls that give each period's release date, a dozen periods a call."""
    url = _endpoint(base_url, keyed, "getDa", query)
    step = PERIODS_PER_AVAILABILITY_CALL
    chunks = [query.periods[i : i + step] for i in range(0, len(query.periods), step)]
    return [
        PlannedRequest(
            "GET",
            url,
            (("reporterCode", str(query.reporter)), ("period", ",".join(chunk))),
            "availability",
            tuple(chunk),
        )
        for chunk in chunks
    ]


def plan(query: Query, base_url: str, keyed: bool) -> list[PlannedRequest]:
    """Every call a fetch makes when no answer hits the record cap (the dry run's list)."""
    calls = availability_requests(query, base_url, keyed)
    return calls + [data_request(query, base_url, keyed, p, query.flows) for p in query.periods]


# -- arguments -------------------------------------------------------------------------


@cache
def _comtrade_codes() -> tuple[dict[str, int], dict[str, int]]:
    """Comtrade's own M49 numbers: of today's areas (USA 842, FRA 251), and of former ones
    (the rows of ``data/comtrade_areas.csv`` marked ``former``). A former area may have the
    code of today's country (280 DEU, the Federal Republic; 841 USA before 1981), and a
    fetch asks for today's: so the former rows count only for codes nothing else knows.
    """
    path = resources.files("tradesentry").joinpath("data/comtrade_areas.csv")
    current: dict[str, int] = {}
    former: dict[str, int] = {}
    with path.open() as f:
        for row in csv.DictReader(f):
            into = former if row["former"] == "1" else current
            into.setdefault(row["code"], int(row["m49"]))
    return current, former


def area_code(text: str, role: str = "area") -> int:
    """Translate an ISO alpha-3 code, a name or an M49 number to Comtrade's M49 number."""
    from tradesentry.countries import to_alpha3

    raw = str(text).strip()
    if raw.isascii() and raw.isdigit():  # str.isdigit alone takes '²', which int() refuses
        return int(raw)
    if raw.upper() in _WORLD_SPELLINGS:
        return 0
    alpha3 = to_alpha3(raw)
    current, former = _comtrade_codes()
    if alpha3 in current:
        return current[alpha3]
    number = (_iso_numeric(alpha3) or former.get(alpha3)) if alpha3 else None
    if number is None:
        raise InputError(f"--{role} {text!r}: not a country or area known to Comtrade")
    return number


@cache
def _iso_numeric(alpha3: str) -> int | None:
    logging.getLogger("country_converter").setLevel(logging.CRITICAL)
    result = _converter().convert(alpha3, src="ISO3", to="ISOnumeric", not_found=None)
    return result if isinstance(result, int) else None


@cache
def _converter():
    """Building a converter reads its tables (a fraction of a second): once is enough."""
    import country_converter

    return country_converter.CountryConverter()


def expand_periods(freq: str, period: str) -> tuple[str, ...]:
    """``2021`` is its twelve months for freq M; ``2021-03`` or ``202103`` one month.

    ASCII digits only: ``\\d`` alone would pass full-width ones, sent to the API as typed.
    """
    out: list[str] = []
    for item in (p.strip() for p in str(period).split(",")):
        digits = item.replace("-", "")
        if freq == "A" and re.fullmatch(r"[0-9]{4}", digits):
            out.append(digits)
        elif freq == "M" and re.fullmatch(r"[0-9]{4}", digits):
            out.extend(f"{digits}{m:02d}" for m in range(1, 13))
        elif freq == "M" and re.fullmatch(r"[0-9]{4}(0[1-9]|1[0-2])", digits):
            out.append(digits)
        else:
            unit = "YYYY" if freq == "A" else "YYYY or YYYY-MM"
            raise InputError(f"--period {item!r}: expected {unit} (a comma list is fine)")
    return tuple(dict.fromkeys(out))


def parse_flows(flow: str | Iterable[str]) -> tuple[str, ...]:
    """Comtrade flow codes from ``X,M`` or words (export, import, re-export, re-import).

    Any case; a code the API does not know is refused, naming those it does (the API would
    answer it with no data, which reads as a quiet month).
    """
    items = flow.split(",") if isinstance(flow, str) else list(flow)
    if not all(isinstance(i, str) for i in items):
        raise InputError(f"--flow {flow!r}: expected Comtrade flow codes such as X,M")
    codes = [FLOW_WORDS.get(i.strip().upper(), i.strip().upper()) for i in items if i.strip()]
    if not codes:
        raise InputError(f"--flow {flow!r}: expected Comtrade flow codes such as X,M")
    bad = [c for c in codes if c not in FLOW_CODE_CHOICES]
    if bad:
        raise InputError(
            f"--flow {flow!r}: unknown Comtrade flow code {', '.join(bad)}; choose from "
            f"{', '.join(FLOW_CODE_CHOICES)} (or export, import, re-export, re-import)"
        )
    return tuple(dict.fromkeys(codes))


def build_query(
    reporter: str,
    partner: str,
    freq: str,
    period: str,
    flow: str | Iterable[str] = ("X", "M"),
    commodity: str = "TOTAL",
    classification: str = "HS",
) -> Query:
    """Check and translate the arguments; InputError (exit 2) names the one that is wrong."""
    freq = str(freq).strip().upper()
    if freq not in ("A", "M"):
        raise InputError(f"--freq {freq!r}: expected M (monthly) or A (annual)")
    classification = str(classification).strip().upper()
    if not re.fullmatch(r"[A-Z0-9]{1,6}", classification):
        raise InputError(f"--classification {classification!r}: expected a code such as HS or H5")
    commodity = str(commodity).strip().upper().replace(" ", "")
    if not re.fullmatch(r"[A-Z0-9]+(,[A-Z0-9]+)*", commodity):
        raise InputError(f"--commodity {commodity!r}: expected TOTAL or HS codes such as 27,2710")
    return Query(
        reporter=area_code(reporter, "reporter"),
        partner=area_code(partner, "partner"),
        freq=freq,
        periods=expand_periods(freq, period),
        flows=parse_flows(flow),
        commodity=commodity,
        classification=classification,
    )


def api_root(base_url: str | None = None) -> str:
    """The API's root URL (``base_url``, else ``$COMTRADE_API_URL``, else the official host).

    A URL httpx cannot call is refused here, at once and in one line: without a scheme
    httpx took it for a network failure and retried it for half a minute, naming no host,
    and a malformed one (``http://[::1``) escaped as a traceback.
    """
    given = base_url or os.environ.get(ENV_BASE_URL)
    if not given:
        return DEFAULT_BASE_URL
    if not _callable_url(given):
        name = "base_url" if base_url else ENV_BASE_URL
        raise InputError(
            f"{name} {given!r}: expected an http(s) URL with a host, such as {DEFAULT_BASE_URL}"
        )
    return given.rstrip("/")


def _callable_url(text: str) -> bool:
    """An http(s) URL with a host and a valid port, and no query (the paths go after it)."""
    if not text.isprintable() or any(c.isspace() for c in text):
        return False
    invalid = (ValueError,) if httpx is None else (ValueError, httpx.InvalidURL)
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
        if httpx is not None:  # the client that will be given it must take it too
            httpx.URL(text)
    except invalid:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and parts.port != 0
        and not parts.query
        and not parts.fragment
    )


# -- the HTTP client -------------------------------------------------------------------


@dataclass
class Client:
    """GET and decode the API's JSON, with bounded retries and one-line errors."""

    base_url: str
    api_key: str | None = None
    sleep: Callable[[float], None] = time.sleep
    max_attempts: int = 5
    backoff: float = 1.0  # first wait; doubles each retry
    min_interval: float = 1.0  # pause between calls: the API limits calls per second
    http: httpx.Client = field(default_factory=lambda: _http_client())
    _last_call: float = field(default=0.0, repr=False)

    def get(self, request: PlannedRequest) -> tuple[bytes, dict[str, Any]]:
        """The body and its decoded envelope; FetchError when it cannot be had."""
        for attempt in range(1, self.max_attempts + 1):
            sent = self._send(request, attempt)
            if sent is None:
                continue
            response, doc = _decoded(sent, request)
            if response.status_code in RETRY_STATUSES or _is_short_quota(response):
                if attempt < self.max_attempts:
                    self._wait(response, attempt, request)
                    continue
                raise FetchError(f"{_describe(response)} after {attempt} attempts: {request}")
            self._check_status(response, request)
            return response.content, _envelope(doc, request)
        raise Unreachable(f"cannot reach {_host(request.url)}: {request}")

    def _send(self, request: PlannedRequest, attempt: int) -> httpx.Response | None:
        """One try; a network failure is retried like a 503, then reported in one line."""
        self._pace()
        headers = {"Accept": "application/json"}
        if self.api_key:
            headers[KEY_HEADER] = self.api_key
        try:
            return self.http.get(request.url, params=dict(request.params), headers=headers)
        except httpx.LocalProtocolError as exc:  # a request not sent: no retry mends it
            raise FetchError(
                f"the request to {_host(request.url)} could not be sent "
                f"({self._said(exc)}): {request}"
            ) from exc
        except httpx.TransportError as exc:
            if attempt >= self.max_attempts:
                if isinstance(exc, httpx.RemoteProtocolError):  # the host answered, badly
                    raise FetchError(
                        f"the reply from {_host(request.url)} broke off ({self._said(exc)}) "
                        f"after {attempt} attempts: {request}"
                    ) from exc
                raise Unreachable(
                    f"cannot reach {_host(request.url)} ({self._said(exc, 'no answer')}) "
                    f"after {attempt} attempts: {request}"
                ) from exc
            if isinstance(exc, httpx.TimeoutException):  # minutes pass: say why
                log.warning(
                    "no answer from %s within %g s; trying again (attempt %d of %d)",
                    _host(request.url),
                    TIMEOUT_SECONDS,
                    attempt + 1,
                    self.max_attempts,
                )
            self.sleep(self._backoff_delay(attempt))
            return None
        except httpx.DecodingError as exc:  # a body that does not match its Content-Encoding
            raise FetchError(
                f"the API's reply cannot be decoded ({self._said(exc)}): {request}"
            ) from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:  # anything else httpx may refuse
            raise FetchError(
                f"the call to {_host(request.url)} failed ({self._said(exc)}): {request}"
            ) from exc

    def _said(self, exc: Exception, empty: str = "no message") -> str:
        """``_exception``'s line with the key, wherever httpx quoted it, left out."""
        line = _exception(exc, empty)
        return line.replace(self.api_key, "(the key)") if self.api_key else line

    def _pace(self) -> None:
        wait = self._last_call + self.min_interval - time.monotonic()
        if self._last_call and wait > 0:
            self.sleep(wait)
        self._last_call = time.monotonic()

    def _backoff_delay(self, attempt: int) -> float:
        return min(MAX_WAIT_SECONDS, self.backoff * 2 ** (attempt - 1))

    def _wait(self, response: httpx.Response, attempt: int, request: PlannedRequest) -> None:
        """Honour Retry-After when the server gives one, else back off exponentially."""
        after = _retry_after(response)
        if after is not None and after > MAX_WAIT_SECONDS:
            raise FetchError(
                f"{_describe(response)}; the API asks to wait {after:.0f}s, "
                f"try again later: {request}"
            )
        delay = after if after is not None else self._backoff_delay(attempt)
        log.info("%s; retrying in %.1fs", _describe(response), delay)
        self.sleep(delay)

    def _check_status(self, response: httpx.Response, request: PlannedRequest) -> None:
        status = response.status_code
        if 300 <= status < 400:
            # Not followed: the key header would go along to whatever address it names.
            raise FetchError(
                f"HTTP {status} redirect to {response.headers.get('Location') or 'nowhere'} "
                f"(not followed, so that the key goes to no other address; if the API has "
                f"moved, set {ENV_BASE_URL}): {request}"
            )
        if status in (401, 403):
            what = "the API refused the key" if self.api_key else "the API refused the request"
            hint = "" if self.api_key else f" (no key given; set {ENV_API_KEY})"
            raise KeyRefused(f"{what}: {_message(response)}{hint}")
        if status >= 400:
            raise FetchError(f"{_describe(response)}: {request}")

    def close(self) -> None:
        self.http.close()


def _http_client() -> httpx.Client:
    return httpx.Client(timeout=TIMEOUT_SECONDS, headers={"User-Agent": "tradesentry"})


def _host(url: str) -> str:
    """``host:port`` of a URL, for a message (without any user:password@ it may carry)."""
    return urlsplit(url).netloc.rpartition("@")[2]


def checked_key(key: str | None) -> str | None:
    """The API key without the whitespace around it (a key file's line break); None for
    none. A key holding a space, a control character or a non-ASCII letter, which no HTTP
    header carries, is an InputError that does not show it (httpx's own error quoted it,
    after five attempts read as a host that cannot be reached)."""
    if key and not key.strip():  # set, but blank: no silent switch to the preview's cap
        raise InputError(
            f"the API key (${ENV_API_KEY} or api_key=) is blank: give the key, or unset it "
            "for the public preview"
        )
    key = (key or "").strip()
    if key and not re.fullmatch(r"[\x21-\x7e]+", key):
        raise InputError(
            f"the API key (${ENV_API_KEY} or api_key=) holds a space, a control character "
            "or a non-ASCII letter, which an HTTP header cannot carry: check it (it is not "
            "shown here)"
        )
    return key or None


def _exception(exc: Exception, empty: str = "no message") -> str:
    """``ConnectError: [Errno 111] Connection refused``, on one line."""
    return f"{type(exc).__name__}: {' '.join(str(exc).split()) or empty}"


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds from a Retry-After header, given as seconds or as an HTTP date."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _is_short_quota(response: httpx.Response) -> bool:
    """Comtrade answers 403 with a Retry-After when a call quota runs out: wait, not a key error."""
    return response.status_code == 403 and _retry_after(response) is not None


def _message(response: httpx.Response) -> str:
    """The API's own words: APIM's ``message``, the envelope's ``error``, else the text."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("message", "error", "title"):
            if isinstance(body.get(key), str) and body[key].strip():
                return " ".join(body[key].split())
        nested = body.get("errorObject")
        if isinstance(nested, dict) and nested.get("errorMessage"):
            return " ".join(str(nested["errorMessage"]).split())
    text = " ".join(response.text.split())
    return text[:200] or "no message"


def _describe(response: httpx.Response) -> str:
    return f"HTTP {response.status_code} from the API ({_message(response)})"


def _decoded(response: httpx.Response, request: PlannedRequest) -> tuple[httpx.Response, Any]:
    """A successful reply's JSON, read once (FetchError when it is not JSON).

    The API gateway sometimes sends its error body (``{"statusCode": 429, "message": …}``)
    with status 200. Such a reply is given back as a reply of the status it names, so that
    it is retried, waited for or refused like one, and never read as an answer.
    """
    if not response.is_success:
        return response, None
    try:
        doc = json.loads(response.content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FetchError(f"the API returned malformed JSON ({exc}): {request}") from exc
    status = doc.get("statusCode") if isinstance(doc, dict) and "data" not in doc else None
    if isinstance(status, int) and not isinstance(status, bool) and 400 <= status <= 599:
        after = {k: v for k, v in response.headers.items() if k.lower() == "retry-after"}
        named = httpx.Response(status, headers=after, content=response.content)
        return named, None
    return response, doc


def _envelope(doc: Any, request: PlannedRequest) -> dict[str, Any]:
    """Check ``{"elapsedTime", "count", "data", "error"}``; FetchError on anything else.

    Without a ``data`` list a reply is not an answer, even one of no records: ``{}`` read
    as "no data" would pass a broken reply off as a month not yet published.
    """
    error = doc.get("error") if isinstance(doc, dict) else None
    if error:
        text = error if isinstance(error, str) else json.dumps(error)
        raise FetchError(f"the API reported an error ({' '.join(text.split())}): {request}")
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
        raise FetchError(f"the API returned JSON without a data list: {request}")
    return doc


def _check_count(doc: dict[str, Any], request: PlannedRequest) -> None:
    """Refuse an answer whose ``count`` disagrees with its ``data``: records were lost.

    The API's ``count`` is the number of records the call gives: the length of ``data`` in
    every recorded reply, and what ``comtradeapicall`` reads as the count for
    ``countOnly``. A reply cut off at a record boundary is still valid JSON; only the count
    shows what is missing (a count of 2.0 is 2). A reply without a whole-number ``count``
    is taken as it is.
    Answers at the record cap are left to the cap rule (``fetch_batch``).
    """
    count, records = doc.get("count"), doc["data"]
    if isinstance(count, float) and count.is_integer():  # 2.0, as a proxy may rewrite 2
        count = int(count)
    if isinstance(count, int) and not isinstance(count, bool) and count != len(records):
        raise FetchError(
            f"the API's answer is incomplete: its count says {plural(count, 'record')} but "
            f"its data holds {len(records):,}; nothing from that call is stored: {request}"
        )


# -- publication dates -----------------------------------------------------------------


def publication_dates(
    client: Client, query: Query, requests: Sequence[PlannedRequest]
) -> dict[str, list]:
    """Period -> its datasets' (classification, lastReleased date), from ``getDa``.

    The release date is auxiliary: when the availability call fails the fetch goes on
    and the releases get no publication date (ordering then falls back to ingestion),
    unless the key is refused or the host cannot be reached: the data calls would fail
    the same way, after as many retries. A row that cannot be used dates nothing, which a
    warning says, and the rest of its answer still counts (``_usable_dates``).
    """
    dates: dict[str, list] = {}
    for request in requests:
        try:
            _, doc = client.get(request)
            _check_count(doc, request)
        except (KeyRefused, Unreachable):
            raise  # every later call would be refused too, or go to the same missing host
        except FetchError as exc:
            log.warning("no publication dates: %s", exc)
            continue
        for period, classification, released in _usable_dates(query, request, doc["data"]):
            dates.setdefault(period, []).append((classification, released))
    return dates


def _usable_dates(
    query: Query, request: PlannedRequest, rows: Sequence[Any]
) -> Iterator[tuple[str, str | None, date]]:
    """(period, classification, date) of each availability row that dates a release.

    A row of another reporter, type, frequency or classification (read as
    ``check_records`` reads a data record) would date a dataset that is not the one
    fetched, and one that is no JSON object dates nothing: such rows are skipped, the
    first named in one warning. A row of a period the call did not ask for is skipped
    without one: it is a dataset of the reporter, just not one of this call, and answers
    listing more of them are harmless. A date the store would refuse (in the future,
    before 1900) is dropped with a warning and the release lands undated: a bad metadata
    field must not cost the figures, and an undated release is dated by the next fetch
    that has its date.
    """
    skipped: list[tuple[int, str, Any]] = []
    for number, row in enumerate(rows, start=1):
        wrong = _availability_mismatch(query, row)
        if wrong:
            skipped.append((number, wrong, row))
            continue
        period = _field(row, "period") or ""
        released = _as_date(row.get("lastReleased") or row.get("publicationDate"))
        if released is None or period not in request.periods:
            continue
        try:
            released = checked_published(released)
        except InputError as exc:
            log.warning(
                "publication date of %s dropped (%s); it lands undated: %s", period, exc, request
            )
            continue
        yield period, row.get("classificationCode"), released
    if skipped:
        number, wrong, row = skipped[0]
        log.warning(
            "publication dates: %s of %s skipped: row %d %s (%s): %s",
            plural(len(skipped), "availability row"),
            f"{len(rows):,}",
            number,
            wrong,
            _identity(row, _AVAILABILITY_FIELDS),
            request,
        )


# The fields that say which dataset an availability row dates.
_AVAILABILITY_FIELDS = ("period", "reporterCode", "freqCode", "classificationCode")


def _availability_mismatch(query: Query, row: Any) -> str | None:
    """How an availability row differs from the request ("has reporterCode 842, not 156")."""
    if not isinstance(row, dict):
        return "is not a JSON object"
    period = _field(row, "period")
    freq = _field(row, "freqCode")
    if freq is None and period is not None:  # as the reader guesses a record's
        freq = "A" if len(period) == 4 else "M"
    asked = [
        ("period", period, None),  # any: one the call did not ask for is skipped quietly
        ("reporterCode", _field(row, "reporterCode"), (str(query.reporter),)),
        ("typeCode", _upper(_field(row, "typeCode")) or "C", ("C",)),
        ("freqCode", _upper(freq), (query.freq,)),
        ("classificationCode", _classification(row, query), (query.classification,)),
    ]
    for name, got, values in asked:
        if got is None:
            return f"has no {name}"
        if values is not None and got not in values:
            return f"has {name} {_shown(got)}, not {' or '.join(values)}"
    return None


def _as_date(value: Any) -> date | None:
    """``2021-04-19T10:22:31.4233333`` (seven decimals, so not fromisoformat) -> a date."""
    if not isinstance(value, str) or not re.match(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def batch_date(dates: dict[str, list], period: str, records: list[dict]) -> date | None:
    """The release date of the dataset these records come from (its classification wins)."""
    entries = dates.get(period, [])
    used = {r.get("classificationCode") for r in records}
    matching = [d for cl, d in entries if cl in used] or [d for _, d in entries]
    return max(matching) if matching else None


# -- batches ---------------------------------------------------------------------------


def fetch_batch(
    client: Client, request: PlannedRequest, limit: int
) -> list[tuple[PlannedRequest, dict[str, Any], list[dict]]]:
    """Fetch one period; when the answer hits the record cap, ask again flow by flow.

    A capped answer is never stored as if whole: it would look complete and be wrong.
    """
    _, doc = client.get(request)
    records = doc["data"]
    if len(records) < limit:  # at the cap, the count may say more: narrowed or refused below
        _check_count(doc, request)
        return [(request, doc, records)]
    if len(request.flows) > 1:
        out = []
        for flow in request.flows:
            params = tuple((k, flow if k == "flowCode" else v) for k, v in request.params)
            single = PlannedRequest(
                request.method, request.url, params, "data", request.periods, (flow,)
            )
            out.extend(fetch_batch(client, single, limit))
        return out
    raise FetchError(
        f"the answer for {request.periods[0]} flow {request.flows[0]} reached the cap of "
        f"{limit} records a call and would be cut off; ask for fewer commodities"
        + ("" if client.api_key else f" or set {ENV_API_KEY} (up to {FULL_LIMIT:,} a call)")
    )


# -- checking an answer against its request -------------------------------------------

# The fields that say which series and period a record is, as the reader names them.
_SHOWN_FIELDS = ("period", "reporterCode", "partnerCode", "flowCode", "cmdCode")


def check_records(query: Query, request: PlannedRequest, records: Sequence[Any]) -> None:
    """Refuse an answer holding a record the request did not ask for; nothing of it lands.

    Stored, a record of another month, partner or flow would land among the figures of the
    requested month's release (as December's inside February's). An API, or a mirror,
    that answers what was not asked is broken, not a source. Each record is read as the
    reader (``tradesentry.ingest.comtrade``) reads it, so what passes lands where asked.
    """
    for number, record in enumerate(records, start=1):
        wrong = _mismatch(query, request, record)
        if wrong:
            raise FetchError(
                f"the API answered a record the request did not ask for: record {number} of "
                f"{len(records):,} {wrong} ({_identity(record)}); nothing from that call is "
                f"stored: {request}"
            )


def _mismatch(query: Query, request: PlannedRequest, record: Any) -> str | None:
    """How ``record`` differs from the request ("has period 202112, not 202102"), or None."""
    if not isinstance(record, dict):
        return "is not a JSON object"
    for name, got, asked in _asked(query, request, record):
        if asked is None:  # the request leaves it open (commodity AG2, ALL)
            continue
        if got is None:
            return f"has no {name}"
        if got not in asked:
            return f"has {name} {_shown(got)}, not {' or '.join(asked)}"
    return None


def _asked(query: Query, request: PlannedRequest, record: dict) -> list[tuple]:
    """(field, the record's value as the reader takes it, the values asked for or None)."""
    period = request.periods[0]
    given = _field(record, "period") or _field(record, "refPeriodId")
    if given is not None and len(given) == 8 and given.isdigit():
        given = given[: len(period)]  # refPeriodId 20210201: the reader takes its month
    freq = _field(record, "freqCode")
    if freq is None and given is not None:  # the reader's guess: by the period's length
        freq = "A" if len(given) == 4 else "M"
    codes = query.commodity.split(",")
    open_codes = any(c == "ALL" or re.fullmatch(r"AG[0-9]", c) for c in codes)
    return [
        ("period", given, (period,)),
        ("reporterCode", _field(record, "reporterCode"), (str(query.reporter),)),
        ("partnerCode", _field(record, "partnerCode"), (str(query.partner),)),
        ("flowCode", _upper(_field(record, "flowCode")), request.flows),
        ("freqCode", _upper(freq), (query.freq,)),
        ("classificationCode", _classification(record, query), (query.classification,)),
        ("cmdCode", _upper(_field(record, "cmdCode")), None if open_codes else tuple(codes)),
    ]


def _classification(record: dict, query: Query) -> str | None:
    """The record's classification, or the one asked for when it searched for that.

    ``HS`` asks for any HS edition: its records say ``H5`` in ``classificationCode`` and
    ``HS`` in ``classificationSearchCode``.
    """
    codes = [_upper(_field(record, f)) for f in ("classificationCode", "classificationSearchCode")]
    return query.classification if query.classification in codes else codes[0] or codes[1]


def _field(record: dict, name: str) -> str | None:
    """A field as the reader takes it: its text (numbers as JSON writes them, a whole
    number written as a float, 156.0, as 156: a proxy re-serialising numbers does so),
    trimmed; None when missing or empty."""
    value = record.get(name)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = value if isinstance(value, str) else _dumps(value)
    return text.strip() or None


def _upper(text: str | None) -> str | None:
    return text.upper() if text is not None else None


def _shown(text: str) -> str:
    """A value from the API in a one-line message: no line breaks, at most 40 characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= 40 else f"{flat[:40]}…"


def _identity(record: Any, fields: Sequence[str] = _SHOWN_FIELDS) -> str:
    """``period 202112, reporterCode 156, …``: which record, in the message."""
    if not isinstance(record, dict):
        return _shown(_dumps(record))
    return ", ".join(f"{f} {_shown(_field(record, f) or '(none)')}" for f in fields)


def cache_dir(store_path: str | os.PathLike) -> Path:
    """``<store>.fetch/``: the fetched files live next to the store they were fetched for."""
    return Path(f"{store_path}.fetch")


def save_batch(folder: Path, query: Query, request: PlannedRequest, doc: dict[str, Any]) -> Path:
    """Write the answer in its canonical form (``canonical_body``), named by request and content.

    The same figures always give the same bytes, so the store's sha256 no-op holds
    whether the file is still there or not, and whatever order the records came in. An
    answer a file of an earlier version already holds (saved as sent, with its
    ``elapsedTime``) maps to that file, so upgrading does not make new releases either.
    A revised answer gets a file of its own beside the earlier vintage.
    """
    body = canonical_body(doc)
    request_hash = hashlib.sha256(request.path_and_query.encode()).hexdigest()[:12]
    stem = (
        f"comtrade-{query.classification}-{query.freq}{request.periods[0]}-r{query.reporter}"
        f"-p{query.partner}-{''.join(request.flows)}-{request_hash}"
    )
    path = folder / f"{stem}-{hashlib.sha256(body).hexdigest()[:12]}.json"
    if path.exists():
        return path
    earlier = _earlier_copy(folder, stem, body)
    if earlier is not None:
        return earlier
    folder.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.write_bytes(body)
    partial.replace(path)
    return path


# The identifying fields of a record, which order the saved records (then the whole record).
_ORDER_FIELDS = (
    "period", "flowCode", "partnerCode", "partner2Code", "cmdCode", "customsCode", "motCode",
    "mosCode", "classificationCode",
)  # fmt: skip


def canonical_body(doc: dict[str, Any]) -> bytes:
    """The answer as saved: ``count``, ``data`` and ``error`` as the API sent them, in one form.

    Each record keeps every field and value the API sent, written with its keys sorted,
    one record a line, the records in a stable order (by their identifying fields, then
    their text). Of the envelope only ``count`` and ``error`` are kept: ``elapsedTime``
    (the seconds the server took) describes the call, not the figures, and differs on
    every call. So identical figures give identical bytes, and a revision different ones.
    """
    records = sorted((_order_key(r), _dumps(r)) for r in doc.get("data") or [])
    lines = ",\n".join(text for _, text in records)
    parts = [f'"count":{_dumps(doc["count"])}'] if "count" in doc else []
    parts.append(f'"data":[\n{lines}\n]' if lines else '"data":[]')
    if "error" in doc:
        parts.append(f'"error":{_dumps(doc["error"])}')
    return ("{" + ",".join(parts) + "}\n").encode("utf-8")


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _order_key(record: Any) -> tuple:
    fields = record if isinstance(record, dict) else {}
    return tuple(_sortable(fields.get(name)) for name in _ORDER_FIELDS)


def _sortable(value: Any) -> tuple:
    """Numbers before text before the rest, so that codes of either type compare."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, value, "")
    if isinstance(value, str):
        return (1, 0, value)
    return (2, 0, _dumps(value))


def _earlier_copy(folder: Path, stem: str, body: bytes) -> Path | None:
    """A file of the same request whose canonical form is ``body`` (saved by an older version)."""
    if not folder.is_dir():
        return None
    for path in sorted(folder.glob(f"{stem}-*.json")):
        try:
            doc = json.loads(path.read_bytes())
        except (OSError, ValueError):
            continue
        if (
            isinstance(doc, dict)
            and isinstance(doc.get("data"), list)
            and canonical_body(doc) == body
        ):
            return path
    return None


def wait(seconds: float) -> None:
    """The pause between calls and before retries (``time.sleep``); one name to replace in
    a test, so that patching it never reaches another library's threads."""
    time.sleep(seconds)


# -- the entry point -------------------------------------------------------------------


def fetch_comtrade(
    store: Store | str | os.PathLike | None,
    reporter: str,
    partner: str,
    freq: str,
    period: str,
    flow: str | Iterable[str] = ("X", "M"),
    commodity: str = "TOTAL",
    classification: str = "HS",
    api_key: str | None = None,
    base_url: str | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    *,
    sleep: Callable[[float], None] | None = None,
    max_attempts: int = 5,
    min_interval: float | None = None,
    http: httpx.Client | None = None,
) -> FetchReport | list[PlannedRequest]:
    """Fetch a series from UN Comtrade and ingest each period's answer as a release.

    Without a key (``api_key`` or ``$COMTRADE_API_KEY``) the public preview endpoint is
    used (at most 500 records a call); with one, the full endpoint. ``base_url`` (or
    ``$COMTRADE_API_URL``) lets a mirror or a test server stand in. ``dry_run`` returns the
    planned requests without calling anything. Fetching the same data again is a no-op.
    A fetch that fails or is interrupted after storing some batches says which (see
    ``_tell_what_was_stored``); the exception carries them as ``exc.fetched``.
    """
    query = build_query(reporter, partner, freq, period, flow, commodity, classification)
    key = checked_key(api_key if api_key is not None else os.environ.get(ENV_API_KEY))
    base = api_root(base_url)
    if dry_run:
        return plan(query, base, bool(key))
    if store is None:
        raise InputError("fetch needs a store (or dry_run=True)")
    if httpx is None:
        raise EngineUnavailable("fetching needs httpx: pip install 'tradesentry[comtrade]'")
    target = StoreByPath(store) if isinstance(store, (str, os.PathLike)) else store
    client = Client(
        base,
        key,
        sleep=sleep or wait,
        max_attempts=max_attempts,
        min_interval=MIN_INTERVAL_SECONDS if min_interval is None else min_interval,
        http=http or _http_client(),
    )
    report = FetchReport()
    with _sigterm_unwinds():
        try:
            _run(target, client, query, progress, report)
        except BaseException as exc:
            _tell_what_was_stored(exc, report)
            raise
        finally:
            if http is None:
                client.close()
    return report


class StoreByPath:
    """The store at a path, opened for each answer's ingest and closed after it.

    A fetch spends nearly all its time waiting on the network (retry waits, timeouts of a
    minute). Holding DuckDB's write lock through that shut out every other process, even
    `tradesentry releases`, for as long as the API stalled. Each ingest is one transaction
    either way, so what lands is the same. An existing store is opened once at the start
    too, so that one in use or not a store is said before any call is made; a new one is
    made only by the first ingest (a fetch that got nothing leaves no empty store).
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = resolve_store_path(path)
        if self.path.exists():  # a store made here only once there is something to keep
            open_store(self.path).close()

    def ingest(self, path: Path, source: str, published: date | None) -> IngestResult:
        """One answer into the store; a store this ingest made is removed if it fails
        (a refused answer, a full disk, Ctrl-C), as ``ingest`` does for the files it made."""
        made = not self.path.exists()
        try:
            with open_store(self.path) as store:
                return store.ingest(path, source=source, published=published)
        except BaseException:
            if made:
                remove_if_empty(self.path)
            raise


@contextlib.contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """SIGTERM during the fetch unwinds it like Ctrl-C, then ends the process as SIGTERM does.

    By default SIGTERM ends the process on the spot, and the line naming the months
    already stored (``_tell_what_was_stored``) was lost. Here it raises ``Terminated``;
    once the fetch has said what it stored and let go of the store, the signal is sent
    again with its default action, so the exit status stays SIGTERM's (143 in a shell).
    A handler someone else installed, or a fetch outside the main thread, is left alone.
    """
    main = threading.current_thread() is threading.main_thread()
    if not main or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return
    received = False

    def stop(signum: int, frame: Any) -> None:
        nonlocal received
        received = True
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the unwinding
        raise Terminated

    signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if received:  # whatever the exception became on its way (DuckDB wraps what it meets)
            os.kill(os.getpid(), signal.SIGTERM)


def _run(
    store: Store | StoreByPath,
    client: Client,
    query: Query,
    progress: Progress | None,
    report: FetchReport,
) -> None:
    """Dates first (one call a dozen periods), then one data call per period, into ``report``."""
    keyed = bool(client.api_key)
    dates = publication_dates(client, query, availability_requests(query, client.base_url, keyed))
    requests = [data_request(query, client.base_url, keyed, p, query.flows) for p in query.periods]
    task = progress.add_task("UN Comtrade", total=len(requests)) if progress else None
    limit = FULL_LIMIT if keyed else PREVIEW_LIMIT
    folder = cache_dir(store.path)
    for request in requests:
        if progress is not None:
            progress.update(task, description=f"UN Comtrade {request.periods[0]}")
        batches = fetch_batch(client, request, limit)
        for sub, _, records in batches:  # all of the period's calls before any of it lands
            check_records(query, sub, records)
        for sub, doc, records in batches:
            if not records:
                report.empty.append(sub)
                continue
            report.append(_ingest(store, folder, query, sub, doc, records, dates))
        if progress is not None:
            progress.advance(task)


def stored_note(report: FetchReport) -> str:
    """What a fetch that stopped had stored, in one line (they stay; a re-run skips them)."""
    items = [
        f"{r.period} {r.flows} as release {r.release_id} "
        f"({'already in the store' if r.already_ingested else 'new'})"
        for r in report
    ]
    if len(items) > 4:
        items = [f"{len(items)} releases: {items[0]}", items[1], "…", items[-1]]
    return (
        f"before it stopped, the fetch stored {', '.join(items)}; running the same command "
        "again resumes (what is stored is a no-op)"
    )


def _tell_what_was_stored(exc: BaseException, report: FetchReport) -> None:
    """A fetch that fails or is interrupted says which months it had stored (they stay).

    The partial report goes with the exception as ``exc.fetched``. A tradesentry error
    carries the note as a second line of its message, which the caller prints or logs;
    anything else (Ctrl-C above all) would end with nothing said, so it is written on stderr.
    """
    if not report:
        return
    with contextlib.suppress(AttributeError):  # an exception type without a __dict__
        exc.fetched = report  # type: ignore[attr-defined]
    note = stored_note(report)
    if isinstance(exc, TradesentryError) and exc.args and isinstance(exc.args[0], str):
        exc.args = (f"{exc.args[0]}\n{note}", *exc.args[1:])
        return
    words = ((KeyboardInterrupt, "interrupted"), (Terminated, "terminated"))
    what = next((word for kind, word in words if isinstance(exc, kind)), "stopped")
    print(f"tradesentry: fetch {what}; {note}", file=sys.stderr, flush=True)
    with contextlib.suppress(AttributeError):
        exc.told = True  # type: ignore[attr-defined]  # the CLI says no more of it


def _ingest(
    store: Store | StoreByPath,
    folder: Path,
    query: Query,
    request: PlannedRequest,
    doc: dict[str, Any],
    records: list[dict],
    dates: dict[str, list],
) -> FetchedRelease:
    period = request.periods[0]
    published = batch_date(dates, period, records)
    path = save_batch(folder, query, request, doc)
    result = store.ingest(path, source="comtrade", published=published)
    return FetchedRelease(
        **result.to_dict(),
        period=period,
        flows=",".join(request.flows),
        published=published,
        url=request.full_url,
    )
