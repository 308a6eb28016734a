"""Security of the dashboard: escaping, SQL parameters, CSV formulas, static paths, fuzzing."""

from __future__ import annotations

import csv
import http.client
import io
from urllib.parse import quote, urlsplit

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.report.seed import BOTH_SERIES, EVIL, HS_CODE, seeded
from tests.sql_spy import SpyConnection
from tradesentry.web import create_app

EVIL_SERIES = "/series/CHN/PRK/export/" + quote(EVIL, safe="")


def _no_live_markup(html: str) -> None:
    assert "<script>alert" not in html.lower()


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/findings",
        "/findings?commodity=" + quote(EVIL),
        "/findings?reporter=" + quote(EVIL) + "&partner=" + quote(EVIL),
        "/findings?kind=" + quote(EVIL),
        EVIL_SERIES,
        EVIL_SERIES + "?finding=" + quote(EVIL),
        "/pair/CHN/PRK",
        "/pair/" + quote(EVIL, safe="") + "/PRK",
        "/findings?since=" + quote(EVIL),
    ],
)
def test_markup_in_data_and_queries_is_escaped(evil_client, path):
    response = evil_client.get(path)
    assert response.status_code in (200, 404, 422)
    _no_live_markup(response.text)


def test_markup_is_shown_as_text(evil_client):
    page = evil_client.get(EVIL_SERIES).text
    # The code as stored (upper-cased, and <SCRIPT> still a script tag to a browser) in the
    # title and heading, the texts of the series' findings as written: each escaped.
    assert "&lt;SCRIPT&gt;ALERT(&#39;X&#39;)&lt;/SCRIPT&gt;" in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    _no_live_markup(page)
    form = evil_client.get("/findings?commodity=" + quote(EVIL)).text
    # the filter shows the code as it is matched (upper-cased), escaped
    assert 'value="&lt;SCRIPT&gt;ALERT(&#39;X&#39;)&lt;/SCRIPT&gt;"' in form


# A query value the store holds no series for is named in the 404, beside links to those
# it holds (a breakdown); the others are refused before (422). Either way, as text.
MARKUP = "<script>alert(1)</script>"
TOTAL = "/series/CHN/PRK/export/TOTAL"


@pytest.mark.parametrize(
    ("client", "path", "status"),
    [
        ("breakdowns_client", f"{TOTAL}?breakdown=", 404),
        ("evil_client", f"{TOTAL}?breakdown=", 404),
        ("both_client", f"{BOTH_SERIES}?freq=A&breakdown=", 404),
        ("both_client", f"{BOTH_SERIES}?freq=", 422),
        ("breakdowns_client", f"{TOTAL}?freq=", 422),
        ("two_client", f"/series/CHN/PRK/export/{HS_CODE}?classification=", 404),
        ("breakdowns_client", f"{TOTAL}?classification=", 404),
    ],
)
def test_markup_in_a_query_answered_with_choices_is_escaped(request, client, path, status):
    response = request.getfixturevalue(client).get(path + quote(MARKUP, safe=""))
    assert response.status_code == status
    _no_live_markup(response.text)
    if status == 404:  # the value as text (codes read in upper case), then the links
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text.lower()
        assert '<span class="choices">(<a href="' in response.text


def test_query_parameters_never_reach_sql_as_text(evil_store):
    marker = "zq'; DROP TABLE findings; --"
    log: list[str] = []
    evil_store.con = SpyConnection(evil_store.con, log)
    client = TestClient(create_app(evil_store))
    q = quote(marker, safe="")
    urls = [
        f"/api/findings?reporter={q}&partner={q}&commodity={q}",
        f"/findings?reporter={q}&partner={q}&commodity={q}",
        f"/findings?kind={q}",  # refused as an unknown kind (422) before any query
        f"/api/findings.csv?commodity={q}",
        f"/series/{q}/{q}/export/{q}",
        f"/api/series/CHN/PRK/export/{q}",
        f"/pair/{q}/{q}",
        f"/api/pair/CHN/{q}",
        f"/finding/{q}",
        f"/api/findings/{q}",
        f"/series/CHN/PRK/export/TOTAL?finding={q}",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code in (200, 404, 422), url
        if url.startswith("/api/findings?"):  # looked up as data, not as SQL: not held
            assert response.status_code == 422
            assert response.json()["detail"][0]["msg"].startswith(
                "no series in the store has reporter"
            )
    assert log, "the spy saw no query"
    assert not [sql for sql in log if "zq" in sql.lower() or "drop table" in sql.lower()]
    assert len(client.get("/api/findings").json()) == 8  # the findings are all still there


def test_csv_export_neutralises_formulas(evil_client):
    response = evil_client.get("/api/findings.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    explanations = {row["explanation"] for row in rows}
    for formula in ('=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)"):
        assert "'" + formula in explanations and formula not in explanations
    for row in rows:
        for cell in row.values():
            if cell[:1] in ("=", "+", "-", "@"):
                float(cell)  # only numbers may start with a sign


TRAVERSALS = [
    "/static/../pyproject.toml",
    "/static/../../pyproject.toml",
    "/static/../../../../pyproject.toml",
    "/static/../__init__.py",
    "/static/..%2f__init__.py",
    "/static/..%2F..%2F..%2F..%2Fpyproject.toml",
    "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/pyproject.toml",
    "/static/%2e%2e%2f%2e%2e%2fstore.py",
    "/static/..%252f..%252fstore.py",
    "/static/....//....//store.py",
    "/static/..\\..\\store.py",
    "/static/..%5c..%5cstore.py",
    "/static//etc/passwd",
    "/static/%2fetc%2fpasswd",
    "/static/../../../../../../../../etc/passwd",
    "/static/%c0%ae%c0%ae/%c0%ae%c0%ae/store.py",
    "/static/app.css%00.py",
]
SECRETS = ("[build-system]", "def create_app", "class Store", "root:x:0:0")


@pytest.mark.parametrize("path", TRAVERSALS)
def test_no_file_outside_static_is_served(live_url, path):
    """Raw request lines to the real server: no client normalises the dots away first."""
    host = urlsplit(live_url)
    con = http.client.HTTPConnection(host.hostname, host.port, timeout=10)
    con.putrequest("GET", path, skip_accept_encoding=True)
    con.endheaders()
    response = con.getresponse()
    body = response.read().decode("utf-8", "replace")
    con.close()
    assert response.status < 500
    assert not any(secret in body for secret in SECRETS), (path, response.status)


def test_static_still_serves_its_own_files(live_url):
    host = urlsplit(live_url)
    con = http.client.HTTPConnection(host.hostname, host.port, timeout=10)
    con.request("GET", "/static/app.css")
    assert con.getresponse().status == 200
    con.close()


def test_schemathesis_finds_no_server_error(tmp_path):
    """Every operation of the OpenAPI schema, fuzzed in process: never a 5xx."""
    store = seeded(tmp_path / "fuzz.duckdb")
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(store))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=12,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case):
            case.call_and_validate(checks=[not_a_server_error])

        fuzz()
    store.close()


@pytest.mark.parametrize("bind", ["127.0.0.1", "LOCALHOST", "::1", "0:0:0:0:0:0:0:1"])
@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("127.0.0.1:8000", 200),
        ("localhost:8000", 200),
        ("[::1]:8000", 200),
        ("attacker.example:8000", 400),
    ],
)
def test_a_loopback_server_answers_only_to_loopback_names(live_store, bind, host, status):
    """A page elsewhere that points its own name at 127.0.0.1 (DNS rebinding) must not
    read the dashboard: `serve` on loopback, however spelled, answers only its loopback
    names."""
    from tradesentry.web import allowed_hosts

    client = TestClient(create_app(live_store, hosts=allowed_hosts(bind)))
    response = client.get("/api/findings.csv", headers={"Host": host})
    assert response.status_code == status
    assert response.headers["x-frame-options"] == "DENY"  # the refusal has them too
    assert allowed_hosts("0.0.0.0") is None  # on a network: the names its users use


def test_bidi_and_control_characters_are_shown_as_escapes(tmp_path):
    """A right-to-left override in a code would reorder the heading after it; a NUL typed
    into a filter would reach the form raw. Both read as escapes, in the page and the
    report alike (the terminal does the same)."""
    from tradesentry import api
    from tradesentry.report import build_report
    from tradesentry.store import open_store

    rlo = "27\u202eXYZ"
    rows = "".join(
        f"CHN,PRK,export,{rlo},2021-{m:02d},{3e4 if m == 9 else 1e6 + m}\n" for m in range(1, 13)
    )
    rows += "".join(f"CHN,PRK,export,{rlo},2020-{m:02d},{1e6 + m}\n" for m in range(1, 13))
    data = tmp_path / "bidi.csv"
    data.write_text("reporter,partner,flow,commodity,period,value\n" + rows, encoding="utf-8")
    store = open_store(tmp_path / "s.duckdb")
    store.ingest(data)
    api.scan(store)
    report = build_report(store, tmp_path / "report.html").read_text(encoding="utf-8")
    path = store.path
    store.close()
    client = TestClient(create_app(path))
    page = client.get("/findings").text
    download = client.get("/api/findings.csv").text  # as `scan --format csv` writes it
    for text in (page, report, download):
        assert "\u202e" not in text and "27\\u202eXYZ" in text
    echoed = client.get("/findings", params={"reporter": "\x00"}).text
    assert "\x00" not in echoed
    # every JSON twin as the command line's JSON: the same values, the characters escaped
    (finding,) = client.get("/api/findings").json()[:1]
    answers = [
        client.get(f"/api/findings/{finding['id']}"),
        client.get("/api/pair/CHN/PRK"),
        client.get(f"/api/series/CHN/PRK/export/{rlo}?classification=H\x9b"),
    ]
    for answer in answers:
        assert not any(ch in answer.text for ch in "\u202e\x9b"), answer.text[:200]
        assert "\\u202e" in answer.text or "\\u009b" in answer.text
    assert answers[0].json()["commodity"] == rlo
