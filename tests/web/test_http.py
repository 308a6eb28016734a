"""The dashboard over HTTP, in process: pages, JSON twins, filters, errors, read-only."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from importlib import resources
from unittest.mock import ANY
from urllib.parse import urlencode

import duckdb
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.conftest import DEMO_CSV, today
from tests.report.seed import (
    ANNUAL_SERIES,
    BOTH_SERIES,
    BY_ROAD,
    DEMO_FINDINGS,
    HS_CODE,
    TWO_CLASSIFICATIONS,
    revise_february_2020,
    save_scan,
    two_classification_findings,
)
from tradesentry.cli import app as cli
from tradesentry.detectors import registry
from tradesentry.findings import SORT_NAMES
from tradesentry.store import open_store
from tradesentry.web import create_app

SERIES = "/series/CHN/PRK/export/TOTAL"


def _ids(html: str) -> list[str]:
    return re.findall(r'<tr data-id="([0-9a-f]+)">', html)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("/", "series scanned"),
        ("/findings", "3</b> findings"),
        (SERIES, "CHN → PRK export TOTAL"),
        ("/series/chn/prk/EXPORT/total", "CHN → PRK export TOTAL"),  # codes in any case
        ("/pair/CHN/PRK", "Trade with PRK as CHN reports it"),
        ("/releases", "cn_kp_monthly_2019_2021h1.csv"),
    ],
)
def test_pages(client, path, text):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert text in response.text


def test_pages_load_scripts_only_from_the_app(client):
    for path in ("/", "/findings", SERIES, "/pair/CHN/PRK"):
        html = client.get(path).text
        sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
        assert sources and all(s.startswith(("/static/", "data:")) for s in sources), sources
    assert "content-security-policy" in client.get("/").headers


@pytest.mark.parametrize("root", ["", "/trade"])
def test_a_missing_static_file_is_a_404_page_whose_links_work(client, root):
    """The 404 under /static linked its stylesheet at /static/static/app.css and its menu at
    /static/findings: inside the mount, the request's root path holds /static too."""
    # no ``with``: the module's app and store stay open for the tests after this one
    response = TestClient(client.app, root_path=root).get(f"{root}/static/nope.css")
    assert response.status_code == 404
    links = re.findall(r'(?:src|href)="([^"#]+)"', response.text)
    assert f'href="{root}/static/app.css"' in response.text
    assert f'href="{root}/findings"' in response.text
    assert not [link for link in links if "/static/static" in link or "/static/findings" in link]


def test_plotly_is_served_from_the_installed_package(client):
    response = client.get("/static/plotly.min.js")
    assert response.status_code == 200
    shipped = resources.files("plotly").joinpath("package_data/plotly.min.js").read_bytes()
    assert response.content == shipped


def test_api_findings_is_what_scan_json_prints(tmp_path):
    db = tmp_path / "s.duckdb"
    runner = CliRunner()
    runner.invoke(cli, ["ingest", str(DEMO_CSV), "--store", str(db)])
    printed = runner.invoke(cli, ["scan", "--format", "json", "--store", str(db)])
    assert printed.exit_code == 0, printed.output
    with TestClient(create_app(db)) as client:
        served = client.get("/api/findings")
    assert served.status_code == 200
    assert json.loads(served.text) == json.loads(printed.stdout)


def test_json_twins_match_their_pages(client):
    for query in ("", "?severity=high", "?kind=dip", "?sort=impact&order=asc"):
        page = client.get("/findings" + query).text
        twin = client.get("/api/findings" + query).json()
        assert _ids(page) == [f["id"] for f in twin]
    series = client.get("/api" + SERIES).json()
    assert series["key"] == {
        "reporter": "CHN",
        "partner": "PRK",
        "flow": "export",
        "commodity": "TOTAL",
        "classification": "HS",
        "breakdown": "",
        "freq": "M",
    }
    assert {f["kind"] for f in series["findings"]} == {"level_shift", "timing_shift"}
    assert len(series["observations"]) == 25 and series["history"]
    pair = client.get("/api/pair/CHN/PRK").json()
    assert len(pair["series"]) == 2 and len(pair["findings"]) == 3
    releases = client.get("/api/releases").json()
    assert (
        releases[0]["rows_read"] == releases[0]["rows_accepted"] + releases[0]["rows_quarantined"]
    )
    overview = client.get("/api/overview").json()
    assert overview["overview"]["findings"] == 3


@pytest.mark.parametrize(
    ("query", "kinds"),
    [
        ("kind=timing_shift", {"timing_shift"}),
        ("kind=dip&kind=level_shift", {"dip", "level_shift"}),
        ("severity=medium", {"dip"}),
        ("flow=import", {"dip"}),
        ("flow=IMPORT", {"dip"}),  # read as the command line reads it
        ("reporter=chn&partner=prk&commodity=TOTAL", {"dip", "level_shift", "timing_shift"}),
        ("reporter=China&partner=North%20Korea", {"dip", "level_shift", "timing_shift"}),
        ("commodity=total", {"dip", "level_shift", "timing_shift"}),
        ("since=2021-01", {"timing_shift"}),
        ("until=2020-06", {"level_shift"}),
        ("since=2020-01&until=2020-12", {"level_shift", "dip"}),
        ("reporter=&partner=&flow=&since=&until=&order=", {"dip", "level_shift", "timing_shift"}),
    ],
)
def test_filters(client, query, kinds):
    found = client.get(f"/api/findings?{query}").json()
    assert {f["kind"] for f in found} == kinds


@pytest.mark.parametrize("path", ["/api/findings", "/findings", "/api/findings.csv"])
@pytest.mark.parametrize(
    ("query", "said"),
    [("since=9999-12", "since 9999-12 is after the last month the store's series hold"),
     ("until=1900-01", "until 1900-01 is before the first month the store's series hold")],
)  # fmt: skip
def test_months_that_select_nothing_are_a_422_not_0_findings(client, path, query, said):
    """`scan --since` after the store's last month is refused; the dashboard answered the
    same filter, and an `until` before its first month, with an empty list."""
    response = client.get(f"{path}?{query}")
    assert response.status_code == 422 and said in html.unescape(response.text)


@pytest.mark.parametrize("path", ["/api/findings", "/findings", "/api/findings.csv"])
@pytest.mark.parametrize("query", ["reporter=USA", "partner=Narnia", "commodity=27"])
def test_a_code_the_store_does_not_hold_is_a_422_not_0_findings(client, path, query):
    """A typo must not read as a clean result: the answer names what the store holds."""
    response = client.get(f"{path}?{query}")
    assert response.status_code == 422
    assert "no series in the store has" in response.text and "the store holds" in response.text


def test_since_after_until_keeps_the_findings_that_span_both(client):
    """``since`` keeps findings ending in or after it, ``until`` those starting in or before
    it: a finding over both months answers both, and a refusal of the pair (tried) hid
    431 Comext findings, mirror gaps and gaps over a year among them."""
    spans = {(f["period"], f["period_end"]) for f in client.get("/api/findings").json()}
    start, end = max(spans, key=lambda s: (s[1] > s[0], s[1]))
    assert start < end  # the seeded scan holds a finding over two months or more
    both = client.get(f"/api/findings?since={end}&until={start}")
    assert both.status_code == 200
    assert (start, end) in {(f["period"], f["period_end"]) for f in both.json()}


def test_the_flow_list_offers_the_flows_the_store_holds(client):
    """Re-export and re-import were offered in a store of exports and imports, and gave
    "0 findings"; a link that names another flow keeps it selected."""
    options = re.findall(r'<option value="([^"]+)"', _flow_select(client.get("/findings").text))
    assert options == ["import", "export"]
    asked = _flow_select(client.get("/findings?flow=re-export").text)
    assert re.findall(r'<option value="([^"]+)"', asked) == ["import", "export", "re-export"]
    assert '<option value="re-export" selected>' in asked


def _flow_select(html: str) -> str:
    return html.split('<select name="flow">', 1)[1].split("</select>", 1)[0]


def test_a_level_shifts_figures_are_named_as_levels(client):
    """A journalist quoted a level shift's "observed" as its month's figure: it is the
    median of the months after it, and the table and the card say so."""
    html = client.get("/findings?kind=level_shift").text
    assert 'data-label="new level, a month"' in html and 'class="term">old level' in html
    page = client.get("/findings?kind=dip").text
    assert 'data-label="observed"' in page and 'class="term"' not in page


def test_every_pair_is_reachable_a_page_at_a_time(pairs_store):
    """The overview lists the first 50 pairs and said "the first 50 of 742", with no way to
    the others: /pairs lists them all, in the overview's order, a page at a time, and
    narrows to a reporter; /api/pairs is its twin."""
    from tradesentry.web import create_app

    web = TestClient(create_app(pairs_store))
    html = web.get("/pairs?per_page=2").text
    assert "page 1 of 2" in html and 'rel="next"' in html
    first = re.findall(r'<a href="/pair/([A-Z]+/[A-Z]+)">', html)
    second = re.findall(
        r'<a href="/pair/([A-Z]+/[A-Z]+)">', web.get("/pairs?per_page=2&page=2").text
    )
    assert first + second == ["CHN/PRK", "CHN/RUS", "RUS/CHN"]  # high findings first
    twin = web.get("/api/pairs?per_page=2")
    assert [f"{p['reporter']}/{p['partner']}" for p in twin.json()] == first
    assert twin.headers["X-Total-Count"] == "3"
    russia = web.get("/api/pairs?reporter=Russia").json()
    assert [(p["reporter"], p["partner"], p["findings"]) for p in russia] == [("RUS", "CHN", 0)]
    assert web.get("/pairs?reporter=Narnia").status_code == 422
    assert web.get("/pairs?page=9").status_code == 404
    assert '<a href="/pairs">Pairs</a>' in web.get("/").text  # in every page's header


def test_sort_and_pages(client):
    ranked = [f["kind"] for f in client.get("/api/findings").json()]
    assert ranked == ["level_shift", "timing_shift", "dip"]
    by_period = [f["period"] for f in client.get("/api/findings?sort=period&order=asc").json()]
    assert by_period == sorted(by_period)
    pages = [_ids(client.get(f"/findings?per_page=1&page={n}").text) for n in (1, 2, 3)]
    assert [len(p) for p in pages] == [1, 1, 1] and len({p[0] for p in pages}) == 3
    html = client.get("/findings?per_page=1&page=2&kind=dip&kind=level_shift").text
    assert "page 2 of 2" in html and 'rel="prev"' in html
    assert "kind=dip&amp;kind=level_shift" in html  # the pager keeps the filters
    limited = client.get("/api/findings?limit=1&offset=1")
    assert [f["kind"] for f in limited.json()] == ["timing_shift"]
    # the header counts all that match, not the page, so a client knows where paging ends
    assert limited.headers["X-Total-Count"] == str(len(ranked))
    # the CSV twin pages as the JSON does (it gave every row for "?limit=1")
    for query in ("limit=1&offset=1", "page=2&per_page=1"):
        rows = list(csv.DictReader(io.StringIO(client.get(f"/api/findings.csv?{query}").text)))
        assert [row["kind"] for row in rows] == ["timing_shift"]
    assert client.get("/api/findings.csv?limit=abc").status_code == 422
    assert client.get("/api/findings.csv?page=2&limit=3").status_code == 422


def test_a_finding_opens_its_series(client):
    first = client.get("/api/findings").json()[1]
    response = client.get(f"/finding/{first['id']}", follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"].startswith(SERIES + "?finding=")
    page = client.get(response.headers["location"]).text
    assert f'id="f-{first["id"]}"' in page and "focus" in page
    assert client.get(f"/api/findings/{first['id']}").json() == first


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/series/CHN/USA/export/TOTAL", 404),
        ("/api/series/CHN/USA/export/TOTAL", 404),
        ("/pair/CHN/USA", 404),
        ("/api/pair/CHN/USA", 404),
        ("/finding/0000000000000000", 404),
        ("/api/findings/0000000000000000", 404),
        ("/findings?since=2021-13", 422),
        ("/api/findings?since=2021-13", 422),
        ("/api/findings?flow=sideways", 422),
        ("/api/findings?severity=dreadful", 422),
        ("/findings?kind=bogus", 422),
        ("/api/findings?kind=bogus", 422),
        ("/api/findings.csv?kind=bogus", 422),
        (SERIES + "?finding=nope", 404),
        ("/api" + SERIES + "?finding=nope", 404),
        ("/findings?page=0", 422),
        ("/findings?page=5", 404),  # past the last page: not the last page renumbered
        ("/series/CHN/PRK/sideways/TOTAL", 404),  # a path that names nothing held
        # a parameter of one value, given twice: not the last of them silently
        ("/findings?flow=export&flow=import", 422),
        ("/api/findings?limit=1&limit=3", 422),
        ("/api/findings?sort=score&sort=kind", 422),
        ("/api" + SERIES + "?freq=M&freq=A", 422),
        ("/findings?kind=dip&kind=spike&severity=high&severity=low", 200),  # these repeat
        ("/api/findings?per_page=100000", 422),  # the page's per_page, and its bound (500)
        ("/findings?commodity=" + "9" * 201, 422),  # not printed back in full
    ],
)
def test_errors(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    wants_json = path.startswith("/api/")
    assert response.headers["content-type"].startswith(
        "application/json" if wants_json else "text/html"
    )


@pytest.mark.parametrize(
    ("path", "loc", "said"),
    [
        ("/api/findings?kind=bogus", ["query", "kind"], "unknown kind 'bogus'"),
        ("/api/findings?severity=dreadful", ["query", "severity", "0"], "'high'"),
        ("/api/findings?kinds=spike", ["query", "kinds"], "unknown parameter 'kinds'"),
        ("/api/findings?reporter=Narnia", ["query", "reporter"], "reporter NARNIA"),
        ("/api/findings.csv?partner=Narnia", ["query", "partner"], "partner NARNIA"),
        ("/api/findings?commodity=27", ["query", "commodity"], "commodity 27"),
        ("/api/findings?since=9999-12", ["query", "since"], "since 9999-12 is after"),
        ("/api/findings?until=1900-01", ["query", "until"], "until 1900-01 is before"),
        ("/api/findings?flow=export&flow=import", ["query", "flow"], "more than once"),
        ("/api/findings?page=2&limit=3", ["query"], "choose one"),
        ("/api/findings?limit=abc", ["query", "limit"], "integer"),
        ("/api/pairs?reporter=Narnia", ["query", "reporter"], "reporter NARNIA"),
        ("/api" + SERIES + "?freq=Q", ["query", "freq"], "choose M (monthly) or A"),
        ("/api" + SERIES + "?freq=M&freq=A", ["query", "freq"], "more than once"),
    ],
)
def test_every_422_of_the_json_api_has_one_shape(client, path, loc, said):
    """FastAPI's list of errors, each with where (``loc``) and why (``msg``), whoever
    refused the request: `?kind=bogus` answered that shape and `?kinds=spike` or
    `?reporter=Narnia` a bare string, so a client had to read two formats."""
    response = client.get(path)
    assert response.status_code == 422
    assert response.json() == {"detail": [{"loc": loc, "msg": ANY}]}
    assert said in response.json()["detail"][0]["msg"]


def _form_fields(html: str) -> dict[str, list[str]]:
    """The filter form's entries as a browser would send them (text fields and chosen
    options), read from the page's HTML."""
    form = html[html.index('<form class="filters"') : html.index("</form>")]
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input[^>]*? name="(\w+)"[^>]*? value="([^"]*)"', form):
        fields.setdefault(name, []).append(value)
    for name, body in re.findall(r'<select name="(\w+)"[^>]*>(.*?)</select>', form, re.S):
        fields[name] = re.findall(r'<option value="([^"]*)" selected>', body)
    return fields


@pytest.mark.parametrize(
    ("path", "kept"),
    [
        (
            "/findings?kind=dip&kind=bogus&severity=HIGH&reporter=CHN&since=2021-13"
            "&sort=Impact&commodity=%3Cb%3E",
            {
                "kind": ["dip"],  # the known kind kept chosen, the unknown one named above
                "severity": ["high"],
                "reporter": ["CHN"],
                "since": ["2021-13"],  # as typed, to be corrected
                "sort": ["impact"],
                "commodity": ["&lt;b&gt;"],  # escaped
                "per_page": ["50"],
            },
        ),
        ("/findings?partner=Narnia&per_page=20", {"partner": ["Narnia"], "per_page": ["20"]}),
        ("/findings?page=0&per_page=0", {"per_page": ["50"]}),  # a bound it cannot keep
        ("/pairs?reporter=Narnia", {"reporter": ["Narnia"], "per_page": ["100"]}),  # its own
    ],
)
def test_a_refused_filter_page_gives_the_form_back_as_typed(client, path, kept):
    """A 422 of the findings or pairs page shows its filter form with what was asked, so a
    reader corrects the one entry instead of choosing every filter again."""
    response = client.get(path)
    assert response.status_code == 422
    fields = _form_fields(response.text)
    assert {name: fields[name] for name in kept} == kept
    assert "Value error," not in response.text  # pydantic's prefix, no use to a reader


def test_the_findings_form_offers_every_display_order(client):
    for path in ("/findings", "/findings?kind=bogus"):
        form = client.get(path).text
        offered = re.findall(
            r'<option value="(\w+)"', form.split('name="sort"')[1].split("</select>")[0]
        )
        assert tuple(offered) == SORT_NAMES


def test_a_refused_api_query_has_no_form(client):
    response = client.get("/api/findings?kind=bogus")
    assert response.status_code == 422 and "form" not in response.text


def test_an_unknown_kind_names_the_valid_ones(client):
    detail = client.get("/api/findings?kind=dip&kind=bogus").json()["detail"]
    assert "'bogus'" in detail[0]["msg"]
    assert all(kind in detail[0]["msg"] for kind in registry())


def test_a_finding_of_another_series_is_not_found(client):
    dip = next(f for f in client.get("/api/findings").json() if f["kind"] == "dip")
    assert dip["flow"] == "import"  # SERIES is the export series
    response = client.get(f"{SERIES}?finding={dip['id']}")
    assert response.status_code == 404
    assert f"no finding &#39;{dip['id']}&#39; on the series CHN → PRK export TOTAL" in response.text


def test_a_finding_of_a_narrower_scan_opens_its_series(seeded_store):
    # A dip only a `--kind dip` scan holds: the series page reads the older full scan
    # (api.series), yet the finding's link must open it in focus, not answer 404.
    dip = {**DEMO_FINDINGS[2], "flow": "export", "period": "2019-09", "period_end": "2019-09"}
    save_scan(seeded_store, [dip], {"kinds": ["dip"]})
    client = TestClient(create_app(seeded_store))
    (found,) = client.get("/api/findings").json()
    page = client.get(f"/finding/{found['id']}")
    assert (
        page.status_code == 200
        and f'class="finding medium focus" id="f-{found["id"]}"' in page.text
    )


def test_the_overview_says_how_pairs_are_ordered(client):
    html = client.get("/").text
    assert "Pairs ordered by their number of high-severity findings, then by money at stake" in html
    assert "with most findings" not in html and "↔" not in html


@pytest.mark.parametrize(
    ("path", "texts"),
    [
        ("/", ['1</div><div class="l">series scanned of 2', "was limited to flow: import."]),
        (
            "/pair/CHN/PRK",
            ["covered 1 of these 2 series (it was limited to flow: import)", "not scanned</td>"],
        ),
        (SERIES, ["Flags from scan 1, the latest that covered this series with every detector"]),
    ],
)
def test_a_filtered_scan_is_not_shown_as_a_scan_of_the_store(seeded_store, path, texts):
    save_scan(seeded_store, [DEMO_FINDINGS[2]], {"flow": ["import"]})  # the import dip
    html = TestClient(create_app(seeded_store)).get(path).text
    for text in texts:
        assert text in html


def test_figures_by_release_give_the_full_publication_date(seeded_store, tmp_path):
    published = today()
    revise_february_2020(seeded_store, tmp_path, published)
    client = TestClient(create_app(seeded_store))
    history = client.get("/api" + SERIES).json()["history"]
    assert {h["published"] for h in history} == {None, published}
    assert f"<td>{published}</td>" in client.get(SERIES).text


def test_a_release_without_a_publication_date_is_dated_as_the_cli_dates_it(seeded_store, tmp_path):
    """The published cell was blank on /releases and in a series' figures by release for
    the demo release, which gave no date: `releases` prints the day it was ingested with
    an asterisk and a note, `series` "date unknown"; the pages say the same."""
    from tradesentry import cli

    revise_february_2020(seeded_store, tmp_path, today())
    client = TestClient(create_app(seeded_store))
    undated = client.get("/api/releases").json()[0]
    assert undated["published"] is None  # the JSON twin keeps the store's null
    releases = client.get("/releases").text
    assert f"<td>{undated['ingested_at'][:10]}*</td>" in releases
    assert f"* {cli.UNPUBLISHED}" in releases
    assert "<td>date unknown</td>" in client.get(SERIES).text


def test_read_only(seeded_store, tmp_path):
    path = seeded_store.path
    seeded_store.close()
    before = path.read_bytes()
    app = create_app(path)
    with TestClient(app) as client:
        for method in ("post", "put", "delete", "patch"):
            assert getattr(client, method)("/api/findings").status_code == 405
        assert client.head("/api/findings").status_code == 200  # HEAD answers as GET
        for url in ("/", "/findings", SERIES, "/api/findings.csv"):
            assert client.get(url).status_code == 200
    with pytest.raises(duckdb.Error):
        app.state.store.con.execute("CREATE TABLE intruder (i INTEGER)")
    app.state.store.close()
    assert path.read_bytes() == before


def test_many_apps_side_by_side(seeded_store, tmp_path):
    other = open_store(tmp_path / "other.duckdb")
    one, two = TestClient(create_app(seeded_store)), TestClient(create_app(other))
    assert len(one.get("/api/findings").json()) == 3
    assert two.get("/api/findings").json() == []
    assert "No findings" in two.get("/").text or "no series" in two.get("/").text.lower()
    other.close()


def test_openapi_schema_lists_the_json_twins(client):
    schema = client.get("/openapi.json").json()
    for path in (
        "/api/findings",
        "/api/findings.csv",
        "/api/series/{reporter}/{partner}/{flow}/{commodity}",
        "/api/pair/{reporter}/{partner}",
        "/api/releases",
        "/api/overview",
    ):
        assert path in schema["paths"]


def test_an_app_on_an_open_store_sees_a_new_scan(seeded_store):
    client = TestClient(create_app(seeded_store))
    assert len(client.get("/api/findings").json()) == 3
    assert client.get("/api/overview").json()["overview"]["findings"] == 3
    save_scan(seeded_store, DEMO_FINDINGS[:1])
    assert len(client.get("/api/findings").json()) == 1
    assert client.get("/api/overview").json()["overview"]["findings"] == 1
    assert len(_ids(client.get("/findings").text)) == 1


# -- one HS code under two classifications (UN Comtrade's H5, a table's HS) ----------------
TWO = "/series/CHN/PRK/export/" + HS_CODE


def _specs(html: str) -> dict[str, dict]:
    found = re.findall(r'<script type="application/json" id="([^"]+)">(.*?)</script>', html, re.S)
    return {name: json.loads(text) for name, text in found}


def _observed(spec: dict) -> set[float]:
    (trace,) = [t for t in spec["data"] if t.get("name") == "Observed"]
    return set(trace["y"])


def _year(classification: str) -> set[float]:
    figures = TWO_CLASSIFICATIONS[classification]
    return {float(figures["value"]), float(figures["outlier"])}


def test_a_pair_holding_a_code_under_two_classifications_draws_each(two_client):
    page = two_client.get("/pair/CHN/PRK")
    assert page.status_code == 200
    specs = _specs(page.text)
    assert len(specs) == 2
    assert {frozenset(_observed(s)) for s in specs.values()} == {
        frozenset(_year("H5")),
        frozenset(_year("HS")),
    }
    for classification in ("H5", "HS"):  # each chart's heading links its own series
        assert f'href="{TWO}?classification={classification}"' in page.text
    twin = two_client.get("/api/pair/CHN/PRK").json()
    assert sorted(s["classification"] for s in twin["series"] if s["flow"] == "export") == [
        "H5",
        "HS",
    ]
    overview = two_client.get("/")  # the worst finding's chart: the H5 spike's series
    assert overview.status_code == 200
    assert [_observed(s) for s in _specs(overview.text).values()] == [_year("H5")]


@pytest.mark.parametrize(("asked", "held", "other"), [("H5", "H5", "HS"), ("hs", "HS", "H5")])
def test_the_series_page_shows_the_classification_asked_for(two_client, asked, held, other):
    page = two_client.get(f"{TWO}?classification={asked}")
    assert page.status_code == 200
    assert _observed(_specs(page.text)["series-chart-spec"]) == _year(held)
    value, outlier = (TWO_CLASSIFICATIONS[held][k] for k in ("value", "outlier"))
    assert f"${value / 1e6:.1f}M" in page.text and f"${outlier / 1e6:.1f}M" in page.text
    not_shown = TWO_CLASSIFICATIONS[other]["value"]
    assert f"${not_shown / 1e6:.1f}M" not in page.text
    (finding,) = [f for f in two_classification_findings() if f["classification"] == held]
    assert f'class="kind">{finding["kind"]}<' in page.text and finding["explanation"] in page.text
    twin = two_client.get(f"/api{TWO}?classification={asked}").json()
    assert twin["key"]["classification"] == held
    assert {o["value"] for o in twin["observations"]} == _year(held)
    assert [f["kind"] for f in twin["findings"]] == [finding["kind"]]
    # The mirror (PRK's imports) is held under H5 only: the HS series has none.
    if held == "H5":
        assert twin["mirror"]["key"]["classification"] == "H5"
        assert f'href="/series/PRK/CHN/import/{HS_CODE}"' in page.text  # not ambiguous
    else:
        assert twin["mirror"] is None and "The store holds no mirror record" in page.text


def test_without_a_classification_the_series_page_names_them(two_client):
    page = two_client.get(TWO)
    assert page.status_code == 404
    assert f"CHN → PRK export {HS_CODE} is held under classifications H5, HS" in page.text
    assert "choose one with ?classification=H5 or ?classification=HS" in page.text
    for classification in ("H5", "HS"):
        link = f"{TWO}?classification={classification}"
        assert f'<a href="{link}">{classification}</a>' in page.text
        assert two_client.get(link).status_code == 200
    twin = two_client.get("/api" + TWO)
    assert twin.status_code == 404 and "held under classifications H5, HS" in twin.json()["detail"]
    assert twin.json()["choices"] == [
        {"classification": c, "url": f"/api{TWO}?classification={c}"} for c in ("H5", "HS")
    ]
    wrong = two_client.get(f"/api{TWO}?classification=H4").json()
    assert wrong["detail"].startswith(
        f"CHN → PRK export {HS_CODE} is not held under classification H4, only under H5, HS"
    )
    assert two_client.get(f"{TWO}?classification={'H' * 1001}").status_code == 404


def test_the_classification_choice_shows_a_typed_control_character_as_an_escape(two_client):
    """The page offering the series' classifications is markup made by the handler, which
    keeps its characters as they are: a NUL or an ESC typed into the address reached the
    HTML raw."""
    for typed, shown in (("%00", "\\x00"), ("%1b%5b2J", "\\x1b[2J")):
        page = two_client.get(f"{TWO}?classification=H{typed}")
        assert page.status_code == 404 and "\x00" not in page.text and "\x1b" not in page.text
        assert f"classification H{shown}" in page.text


def test_a_finding_opens_its_own_classification_series(two_client):
    findings = two_client.get("/api/findings").json()
    assert len(findings) == 2
    for finding, rec in zip(
        sorted(findings, key=lambda f: f["kind"]),
        sorted(two_classification_findings(), key=lambda f: f["kind"]),
        strict=True,
    ):
        fid, classification = finding["id"], rec["classification"]
        response = two_client.get(f"/finding/{fid}", follow_redirects=False)
        assert response.status_code == 302
        assert response.headers["location"] == (
            f"{TWO}?classification={classification}&finding={fid}#f-{fid}"
        )
        page = two_client.get(response.headers["location"])
        assert page.status_code == 200 and f'id="f-{fid}"' in page.text
        assert _observed(_specs(page.text)["series-chart-spec"]) == _year(classification)
        assert (
            two_client.get(f"/api{TWO}?classification={classification}&finding={fid}").json()[
                "focus"
            ]["id"]
            == fid
        )
        # A finding of the same code under the other classification is on another series.
        other = "HS" if classification == "H5" else "H5"
        assert two_client.get(f"{TWO}?classification={other}&finding={fid}").status_code == 404


def test_series_links_name_the_classification_only_where_needed(two_client, client):
    for path in ("/findings", "/pair/CHN/PRK", f"{TWO}?classification=H5"):
        links = re.findall(r'href="(/series/[^"?#]+)\??([^"#]*)', two_client.get(path).text)
        assert links
        for series, query in links:  # the mirror, PRK's record, is held under H5 only
            assert ("classification=" in query) == (series == TWO)
    for path in ("/", "/findings", "/pair/CHN/PRK", SERIES):  # an ordinary store: plain paths
        assert "classification=" not in client.get(path).text


def test_a_finding_link_on_the_pages_opens_its_series(two_client):
    page = two_client.get("/findings").text
    # as a browser reads an attribute: "&amp;" is "&" (read raw, "amp;finding" had been
    # an ignored parameter, and the page opened without its finding asked for)
    links = [html.unescape(h) for h in re.findall(r'class="finding-link" href="([^"]+)"', page)]
    assert len(links) == 2
    for link in links:
        response = two_client.get(link)
        fid = link.rsplit("#f-", 1)[1]
        assert response.status_code == 200 and f'focus" id="f-{fid}"' in response.text


# -- a flow held as its total and by mode of transport (UN Comtrade) ----------------------
ROAD = f"{SERIES}?{urlencode({'breakdown': BY_ROAD})}"  # breakdown=partner2%3D0%3B…


def test_a_part_of_a_flow_has_its_own_series_page(breakdowns_client):
    page = breakdowns_client.get(ROAD)
    assert page.status_code == 200
    assert f"<h1>CHN → PRK export TOTAL ({BY_ROAD})</h1>" in page.text
    assert _observed(_specs(page.text)["series-chart-spec"]) == {8_512_000.0}
    assert "$8.5M" in page.text and "$13.0M" not in page.text  # not the total's March
    twin = breakdowns_client.get("/api" + ROAD).json()
    assert twin["key"]["breakdown"] == BY_ROAD
    assert [(o["period"], o["value"]) for o in twin["observations"]] == [("2021-03", 8_512_000.0)]
    assert [f["kind"] for f in twin["findings"]] == ["spike"]
    # The total's page is the total's, as before: its figures, none of the part's findings.
    total = breakdowns_client.get(SERIES)
    assert "<h1>CHN → PRK export TOTAL</h1>" in total.text
    assert _observed(_specs(total.text)["series-chart-spec"]) == {3000.0, 12_978_000.0}
    twin = breakdowns_client.get("/api" + SERIES).json()
    assert twin["key"]["breakdown"] == "" and twin["findings"] == []


def test_a_finding_on_a_part_of_a_flow_opens_its_own_series(breakdowns_client):
    (finding,) = breakdowns_client.get("/api/findings").json()
    fid = finding["id"]
    response = breakdowns_client.get(f"/finding/{fid}", follow_redirects=False)
    assert response.headers["location"] == f"{ROAD}&finding={fid}#f-{fid}"
    page = breakdowns_client.get(response.headers["location"])
    assert page.status_code == 200 and f'focus" id="f-{fid}"' in page.text
    assert _observed(_specs(page.text)["series-chart-spec"]) == {8_512_000.0}
    for path in ("/", "/findings", "/pair/CHN/PRK"):
        links = re.findall(r'class="finding-link" href="([^"]+)"', breakdowns_client.get(path).text)
        assert links and set(links) == {f"{ROAD}&amp;finding={fid}#f-{fid}"}
    # On the total it is a finding of another series.
    assert breakdowns_client.get(f"{SERIES}?finding={fid}").status_code == 404


def test_the_pair_page_links_and_draws_each_part_of_a_flow(breakdowns_client):
    page = breakdowns_client.get("/pair/CHN/PRK").text
    links = set(re.findall(r'href="(/series/CHN/PRK/export/TOTAL[^"#&]*)"', page))
    assert links == {SERIES, ROAD}
    assert f">CHN → PRK export TOTAL ({BY_ROAD})</a>" in page
    drawn = [_observed(s) for s in _specs(page).values()]
    assert {8_512_000.0} in drawn and {3000.0, 12_978_000.0} in drawn


def test_an_unknown_breakdown_is_a_404_naming_those_held(breakdowns_client):
    unknown = f"{SERIES}?breakdown=mot%3D9"
    twin = breakdowns_client.get("/api" + unknown)
    assert twin.status_code == 404
    assert twin.json()["detail"].startswith(
        f"CHN → PRK export TOTAL has no breakdown 'mot=9'; its breakdowns are '' (the total), "
        f"'{BY_ROAD}'"
    )
    assert twin.json()["choices"] == [
        {"breakdown": "", "url": "/api" + SERIES},
        {"breakdown": BY_ROAD, "url": "/api" + ROAD},
    ]
    page = breakdowns_client.get(unknown)
    assert page.status_code == 404
    assert f'<a href="{SERIES}">total</a> · <a href="{ROAD}">{BY_ROAD}</a>' in page.text
    assert breakdowns_client.get(f"{SERIES}?breakdown={'x' * 1001}").status_code == 404


def test_an_annual_series_is_shown_by_year(annual_client):
    """The dashboard names an annual series' periods as years (its findings, its figures by
    release, the pair's list of series); the JSON twins keep the contract's YYYY-MM and say
    ``freq`` A."""
    found = annual_client.get("/api/findings").json()
    assert found and {f["freq"] for f in found} == {"A"}
    assert {f["period"] for f in found} >= {"2016-01", "2012-01"}
    spike = next(f for f in found if f["kind"] == "spike")
    assert annual_client.get(f"/api/findings/{spike['id']}").json() == spike
    listed = annual_client.get("/findings").text
    cells = re.findall(r'<td class="period"[^>]*>(20[-0-9→ ]*)</td>', listed)  # the period column
    assert {"2016", "2012"} <= set(cells) and not any("-" in c for c in cells)
    page = annual_client.get(ANNUAL_SERIES).text
    history = re.search(r'<table class="history">.*?</table>', page, re.S).group(0)
    assert "<td>2016</td>" in history and "2016-01" not in history
    assert "2016 recorded $900.0M" in page and "January 2016" not in page
    series = re.search(
        r'<table class="series">.*?</table>', annual_client.get("/pair/CHN/PRK").text, re.S
    )
    assert "<td>2005</td><td>2021</td>" in series.group(0)
    overview = annual_client.get("/").text  # the store's span and the pair's, in years
    assert '<div class="n">2005</div><div class="l">to 2021</div>' in overview
    assert "<td>2005</td><td>2021</td>" in overview and ">2005-01<" not in overview
    twin = annual_client.get("/api" + ANNUAL_SERIES).json()
    assert {o["freq"] for o in twin["observations"]} == {"A"}
    assert {f["freq"] for f in twin["findings"]} == {"A"}


# -- one series held monthly and annually (UN Comtrade's monthly and annual data) ----------
def _highest(spec: dict) -> float:
    """The largest figure the chart draws (a year without a figure is a gap, None)."""
    return max(y for y in _observed(spec) if y is not None)


def _by_freq(client: TestClient) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {"M": [], "A": []}
    for f in client.get("/api/findings").json():
        found[f["freq"]].append(f)
    return found


def test_a_pair_counts_each_frequency_its_own_findings(both_client):
    found = _by_freq(both_client)
    assert found["M"] and found["A"]
    rows = {s["freq"]: s for s in both_client.get("/api/pair/USA/CAN").json()["series"]}
    for freq, own in found.items():
        assert rows[freq]["findings"] == len(own)
        assert rows[freq]["impact"] == pytest.approx(sum(f["impact"] for f in own))
    page = both_client.get("/pair/USA/CAN").text
    table = re.search(r'<table class="series">.*?</table>', page, re.S).group(0)
    cells = re.findall(r"<tr><td>.*?</tr>", table, re.S)
    counts = {
        re.search(r"<td>(\d{4}(?:-\d\d)?)</td>", row).group(1): re.findall(
            r'<td class="num">(\d+)</td>', row
        )[-1]
        for row in cells
    }
    assert counts == {"2005": str(len(found["A"])), "2015-01": str(len(found["M"]))}
    # each series' link and chart is its own frequency's
    links = set(re.findall(r'href="(/series/USA/CAN/export/TOTAL[^"#]*)"', table))
    assert links == {f"{BOTH_SERIES}?freq=M", f"{BOTH_SERIES}?freq=A"}
    years = [s for s in _specs(page).values() if _highest(s) > 5e10]
    assert len(_specs(page)) == 2 and len(years) == 1


@pytest.mark.parametrize("prefix", ["", "/api"])
def test_without_a_frequency_a_series_held_monthly_and_annually_names_both(both_client, prefix):
    answer = both_client.get(prefix + BOTH_SERIES)
    assert answer.status_code == 404
    said = "USA → CAN export TOTAL is held at frequencies M (monthly), A (annual)"
    if prefix:
        assert answer.json()["detail"].startswith(said)
        assert answer.json()["choices"] == [
            {"freq": f, "url": f"/api{BOTH_SERIES}?freq={f}"} for f in ("M", "A")
        ]
    else:
        assert said in answer.text and "choose one with ?freq=M or ?freq=A" in answer.text
        for freq in ("M", "A"):
            assert f'<a href="{BOTH_SERIES}?freq={freq}">{freq}</a>' in answer.text


@pytest.mark.parametrize(
    ("asked", "held", "figures"), [("M", "M", 84), ("m", "M", 84), ("A", "A", 16), ("a", "A", 16)]
)
def test_the_series_page_shows_the_frequency_asked_for(both_client, asked, held, figures):
    page = both_client.get(f"{BOTH_SERIES}?freq={asked}")
    assert page.status_code == 200
    spike = 9e10 if held == "A" else 9e9  # 2016's year, May 2017's month
    assert _highest(_specs(page.text)["series-chart-spec"]) == spike
    assert ("<h1>USA → CAN export TOTAL (annual)</h1>" in page.text) == (held == "A")
    twin = both_client.get(f"/api{BOTH_SERIES}?freq={asked}").json()
    assert twin["key"]["freq"] == held and len(twin["observations"]) == figures
    assert {o["freq"] for o in twin["observations"]} == {held}
    assert {f["freq"] for f in twin["findings"]} == {held}


@pytest.mark.parametrize(
    ("client", "query", "status"),
    [
        ("both_client", "?freq=Q", 422),
        ("both_client", "?freq=MM", 422),
        ("annual_client", "?freq=M", 404),
    ],
)
def test_a_frequency_outside_the_choices_is_refused(request, client, query, status):
    client = request.getfixturevalue(client)
    path = BOTH_SERIES if client is request.getfixturevalue("both_client") else ANNUAL_SERIES
    answer = client.get(f"/api{path}{query}")
    assert answer.status_code == status
    if status == 404:
        assert "is not held at freq M, only at A (annual)" in answer.json()["detail"]
        assert answer.json()["choices"] == [{"freq": "A", "url": f"/api{path}?freq=A"}]


def test_a_finding_opens_the_series_of_its_own_frequency(both_client):
    """An annual finding's page is the annual series, charted with the year it flags."""
    for freq, found in _by_freq(both_client).items():
        for f in found:
            moved = both_client.get(f"/finding/{f['id']}", follow_redirects=False)
            assert moved.headers["location"] == (
                f"{BOTH_SERIES}?freq={freq}&finding={f['id']}#f-{f['id']}"
            )
            page = both_client.get(moved.headers["location"])
            assert page.status_code == 200 and f'id="f-{f["id"]}"' in page.text
            spec = _specs(page.text)["series-chart-spec"]
            (observed,) = [t for t in spec["data"] if t.get("name") == "Observed"]
            assert len(observed["x"]) == (17 if freq == "A" else 84)  # years 2005-2021
            if f["kind"] == "spike":
                year = f["period"][:4]
                assert any(str(x).startswith(year) for x in observed["x"])
                assert _highest(spec) == f["observed"]


@pytest.mark.parametrize(
    ("since", "periods"),
    [
        ("2016-06", {"2016-01", "2017-05"}),
        ("2016-12", {"2016-01", "2017-05"}),
        ("2017-01", {"2017-05"}),
    ],
)
def test_the_since_filter_keeps_an_annual_finding_until_its_year_ends(both_client, since, periods):
    twin = both_client.get(f"/api/findings?since={since}").json()
    assert {f["period"] for f in twin} == periods
    page = both_client.get(f"/findings?since={since}").text
    assert _ids(page) == [f["id"] for f in twin]


def test_the_csv_download_is_the_scan_commands_csv(tmp_path):
    """One CSV of findings, whichever way it is asked for: the JSON records' columns in
    their order (classification and breakdown beside the commodity), evidence as JSON."""
    from typer.testing import CliRunner

    from tests.report.seed import two_classifications
    from tradesentry import cli
    from tradesentry.findings import RECORD_COLUMNS

    store = two_classifications(tmp_path / "two.duckdb")
    path = store.path
    store.close()
    scanned = CliRunner().invoke(cli.app, ["scan", "--format", "csv", "--store", str(path)])
    assert scanned.exit_code == 0, scanned.output
    downloaded = TestClient(create_app(path)).get("/api/findings.csv").text
    assert downloaded.splitlines()[0] == ",".join(RECORD_COLUMNS)
    assert len(downloaded.splitlines()) > 2
    assert downloaded.replace("\r\n", "\n") == scanned.stdout.replace("\r\n", "\n")


def test_a_release_ingested_after_the_scan_is_not_shown_as_scanned(tmp_path):
    """New figures the latest scan never saw read "not scanned", and their series page
    scans them now, never "No findings" from a scan that did not see them."""
    from tests.monitor.conftest import vintage
    from tradesentry import api
    from tradesentry.store import open_store

    store = open_store(tmp_path / "s.duckdb")
    store.ingest(vintage(tmp_path / "r1.csv", until="2020-12"))
    api.scan(store)
    later = tmp_path / "r2.csv"
    rows = "".join(f"CHN,PRK,export,27,2020-{m:02d},{1000 + m}\n" for m in range(1, 13))
    later.write_text("reporter,partner,flow,commodity,period,value\n" + rows)
    store.ingest(later)
    path = store.path
    store.close()
    client = TestClient(create_app(path))
    scope = client.get("/api/overview").json()["scope"]
    assert scope["after"] == [2, 2] and scope["series_scanned"] == 2
    assert scope["series_total"] == 3
    assert "Release 2 was ingested after scan 1" in client.get("/").text
    series = client.get("/api/series/CHN/PRK/export/27").json()
    assert series["findings_scan"] is None  # scanned now: scan 1 never saw it
    assert client.get("/api/series/CHN/PRK/export/TOTAL").json()["findings_scan"] == 1


@pytest.mark.parametrize(("order", "first"), [("desc", "USD"), ("asc", "JPY")])
def test_sorting_by_money_at_stake_compares_it_in_dollars(tmp_path, order, first):
    """¥2.25 trillion (about $20 billion at 110 yen) is less at stake than $82.4 billion."""
    from tests.report.seed import yen_and_dollar_scan
    from tradesentry.store import open_store

    store = open_store(tmp_path / "s.duckdb")
    yen_and_dollar_scan(store, tmp_path)
    path = store.path
    store.close()
    found = TestClient(create_app(path)).get(f"/api/findings?sort=impact&order={order}").json()
    assert [f["currency"] for f in found] == [first, "JPY" if first == "USD" else "USD"]


def test_a_store_never_scanned_says_where_a_series_flags_come_from(tmp_path):
    from tradesentry.store import open_store

    store = open_store(tmp_path / "s.duckdb")
    store.ingest(DEMO_CSV)
    path = store.path
    store.close()
    page = TestClient(create_app(path)).get(SERIES).text
    assert "Flags from a scan run now: no saved scan covered this series" in page


@pytest.mark.parametrize("narrow", [{"kinds": ["spike"]}, {"flow": "import"}, {}])
def test_a_pair_page_describes_the_scan_its_findings_come_from(tmp_path, narrow):
    """A full scan, then a narrower one: the pair's findings and the scope the page tells
    are the latest scan's, both (a first version of ``api.findings`` read an earlier scan
    for the findings while the page told the latest one's scope)."""
    store = open_store(tmp_path / "s.duckdb")
    store.ingest(DEMO_CSV)
    store.scan()
    latest = store.scan(**narrow)
    listed = {f["id"] for f in latest if f["reporter"] == "CHN"}
    path = store.path
    store.close()
    data = TestClient(create_app(path)).get("/api/pair/CHN/PRK").json()
    assert data["scope"]["scan_id"] == 2
    assert {f["id"] for f in data["findings"]} == listed


def test_a_store_never_scanned_lists_no_findings_as_a_clean_result(tmp_path):
    """The pair page's charts ring the flags of a scan run now: its lists say where they
    come from, and neither it nor the findings page reads "No findings." as if the
    figures were clean."""
    from tradesentry.store import open_store

    store = open_store(tmp_path / "s.duckdb")
    store.ingest(DEMO_CSV)
    path = store.path
    store.close()
    client = TestClient(create_app(path))
    findings = client.get("/findings").text
    assert "No scan saved yet" in findings and "No findings." not in findings
    pair = client.get("/pair/CHN/PRK").text
    assert "No findings." not in pair and "From a scan run now" in pair
    # it read "2 series, 0 findings in the 0 scanned" above the flags of a scan run now
    assert "2 series, no scan saved yet ·" in " ".join(pair.split())
    assert "No scan saved yet: run <code>tradesentry scan</code>." in pair
    assert "in the 0 scanned" not in pair
    now = client.get("/api/pair/CHN/PRK").json()["findings_now"]
    assert {f["kind"] for f in now} >= {"level_shift", "implausible"}
    assert "None yet: no scan saved." in client.get("/").text


def test_a_pair_lists_the_flags_its_charts_draw(tmp_path):
    """A release after the scan revises China's imports: the import chart's flags come
    from a scan run now, and so does the list under it; scan 1's finding on that series,
    made before its latest figures, is not listed beside them at another severity."""
    from tests.monitor.conftest import demo_rows, vintage, write_rows
    from tradesentry import api
    from tradesentry.store import open_store

    store = open_store(tmp_path / "s.duckdb")
    store.ingest(vintage(tmp_path / "r1.csv", until="2021-06"))
    api.scan(store)
    imports = [r for r in demo_rows() if r["flow"] == "import" and r["period_months"] == "1"]
    revised = [{**r, "value": "30000000"} if r["period"] == "2019-05" else r for r in imports]
    store.ingest(write_rows(tmp_path / "r2.csv", revised))
    path = store.path
    store.close()
    data = TestClient(create_app(path)).get("/api/pair/CHN/PRK").json()
    saved = {(f["flow"], f["kind"], f["period"]) for f in data["findings"]}
    now = {(f["flow"], f["kind"], f["period"]) for f in data["findings_now"]}
    assert now and {flow for flow, _, _ in now} == {"import"}
    assert not any(flow == "import" for flow, _, _ in saved)
    assert any(flow == "export" for flow, _, _ in saved)


def test_a_long_code_that_ingest_stored_opens_its_pages(tmp_path):
    """A table keying its goods by a description (102 characters) is stored as it is;
    its finding, series page and filter must open, not answer 422."""
    from tradesentry import api
    from tradesentry.store import open_store

    code = "MACHINERY AND MECHANICAL APPLIANCES, BOILERS, NUCLEAR REACTORS AND PARTS THEREOF (HS CHAPTER 84 TOTAL)"
    assert len(code) > 100
    values = [1e6 * (1 + 0.02 * (m % 3)) for m in range(24)]
    values[15] = 3e4
    rows = "".join(
        f'CHN,PRK,export,"{code}",{2019 + m // 12}-{m % 12 + 1:02d},{v}\n'
        for m, v in enumerate(values)
    )
    data = tmp_path / "long.csv"
    data.write_text("reporter,partner,flow,commodity,period,value\n" + rows)
    store = open_store(tmp_path / "s.duckdb")
    store.ingest(data)
    api.scan(store)
    path = store.path
    store.close()
    client = TestClient(create_app(path))
    (finding,) = client.get("/api/findings", params={"commodity": code}).json()
    opened = client.get(f"/finding/{finding['id']}")
    assert opened.status_code == 200 and f'id="f-{finding["id"]}"' in opened.text


@pytest.mark.parametrize("query", ["severity=HIGH", "severity=High&severity=", "severity=%20high"])
def test_severity_is_read_in_any_case_as_flows_are(client, query):
    response = client.get(f"/api/findings?{query}")
    assert response.status_code == 200
    assert {f["severity"] for f in response.json()} == {"high"}


def test_an_empty_finding_parameter_means_none(client):
    assert client.get(f"{SERIES}?finding=").status_code == 200


def test_a_store_of_monthly_and_annual_series_spans_its_months(both_client):
    """The annual series' 2005 is kept at its January: beside months it would read
    "2005-01"; the span is the months', the years said apart."""
    overview = both_client.get("/api/overview").json()["overview"]
    assert (overview["first_period"], overview["annual_span"]) == ("2015-01", ["2005", "2021"])
    assert "(monthly; annual 2005 to 2021)" in both_client.get("/").text
    (pair,) = both_client.get("/api/overview").json()["pairs"]
    assert pair["first_period"] == "2015-01"


def _scanned_demo_then(tmp_path, rows: str, published: str | None = None):
    """The demo store scanned (published 2021-08-01), then a canonical CSV of ``rows``."""
    from tradesentry import api
    from tradesentry.store import open_store

    store = open_store(tmp_path / "s.duckdb")
    store.ingest(DEMO_CSV, published="2021-08-01")
    api.scan(store)
    later = tmp_path / "later.csv"
    later.write_text("reporter,partner,flow,commodity,period,value\n" + rows)
    store.ingest(later, published=published)
    path = store.path
    store.close()
    return TestClient(create_app(path))


@pytest.mark.parametrize(
    ("rows", "published"),
    [
        # the partner's record of the flow arrives: the mirror check was never run on it
        ("".join(f"PRK,CHN,import,TOTAL,2020-{m:02d},{1e6 * m}\n" for m in range(1, 13)), None),
        # a backdated release revising 2019: its rows are not current, the revision check
        # reads them
        ("CHN,PRK,export,TOTAL,2019-01,1\n", "2021-01-15"),
    ],
    ids=["mirror", "backdated"],
)
def test_a_release_the_scan_never_saw_makes_the_series_not_scanned(tmp_path, rows, published):
    client = _scanned_demo_then(tmp_path, rows, published)
    series = client.get("/api/series/CHN/PRK/export/TOTAL").json()
    assert series["findings_scan"] is None  # scanned now, not scan 1's flags
    listed = {s["flow"]: s["scanned"] for s in client.get("/api/pair/CHN/PRK").json()["series"]}
    assert listed["export"] is False
    page = client.get("/pair/CHN/PRK").text
    assert "ingested after it, brings figures it did not see" in page


def test_a_finding_of_an_older_scan_in_focus_says_so(tmp_path):
    """February 2021's $3,000 revised to $5 million: scan 1's finding on it is gone from
    the series' flags (scanned now), and opening it says where it comes from."""
    client = _scanned_demo_then(tmp_path, "CHN,PRK,export,TOTAL,2021-02,5000000\n", "2021-09-01")
    live = {f["id"] for f in client.get("/api/series/CHN/PRK/export/TOTAL").json()["findings"]}
    (old,) = [
        f
        for f in client.get("/api/findings").json()
        if f["flow"] == "export" and f["period"] == "2021-02" and f["id"] not in live
    ]
    page = client.get(f"/finding/{old['id']}").text
    assert "This finding is from scan 1, which ran before this series' latest figures" in page


def test_a_store_holding_lower_case_codes_still_filters_them(tmp_path):
    """A store ingested before ingest upper-cased commodity codes holds "ab12": the filter
    upper-cases the stored side (docs/web.md), and the check that the store holds the code
    does too (it answered 422 "the store holds only commodity code ab12")."""
    from tradesentry import api
    from tradesentry.store import open_store

    rows = "".join(
        f"CHN,PRK,export,AB12,{2019 + m // 12}-{m % 12 + 1:02d},{3e4 if m == 20 else 1e6}\n"
        for m in range(30)
    )
    data = tmp_path / "codes.csv"
    data.write_text("reporter,partner,flow,commodity,period,value\n" + rows)
    store = open_store(tmp_path / "s.duckdb")
    store.ingest(data)
    store.con.execute("UPDATE observations SET commodity = lower(commodity)")
    api.scan(store)
    path = store.path
    store.close()
    response = TestClient(create_app(path)).get("/api/findings?commodity=ab12")
    assert response.status_code == 200 and len(response.json()) >= 1


def test_a_filtered_scan_before_a_release_counts_its_series_once(tmp_path):
    """Both banners (a release after the scan, a scan limited by a filter) said "It
    covered 0 of 2 series"; the filter's banner says it, the release's does not repeat it."""
    from tests.monitor.conftest import vintage
    from tradesentry import api
    from tradesentry.store import open_store

    store = open_store(tmp_path / "s.duckdb")
    store.ingest(vintage(tmp_path / "r1.csv", until="2020-12"))
    api.scan(store, flow="import")
    store.ingest(vintage(tmp_path / "r2.csv", since="2021-01", until="2021-03"))
    path = store.path
    store.close()
    page = TestClient(create_app(path)).get("/").text
    assert "Release 2 was ingested after scan 1" in page and "limited to flow: import" in page
    assert page.count("It covered") == 1


@pytest.mark.parametrize(
    ("query", "same_as"),
    [
        ("order=ASC&sort=IMPACT", "order=asc&sort=impact"),
        ("order=%20Desc&sort=Period", "order=desc&sort=period"),
    ],
)
def test_sort_and_order_are_read_in_any_case_as_severities_are(client, query, same_as):
    ids = [f["id"] for f in client.get(f"/api/findings?{query}").json()]
    assert ids == [f["id"] for f in client.get(f"/api/findings?{same_as}").json()]
    assert ids != [f["id"] for f in client.get("/api/findings").json()]  # not ignored


def test_an_unknown_frequency_is_refused_in_words_not_a_pattern(client):
    response = client.get(SERIES + "?freq=Q")
    assert response.status_code == 422
    assert "choose M (monthly) or A (annual)" in response.text and "[AaMm]" not in response.text


def test_a_page_s_link_under_api_is_that_page(client):
    """/api/findings read limit and offset only: a page's own query (page, per_page) with
    /api before it returned every finding."""
    every = client.get("/api/findings").json()
    second = client.get("/api/findings?page=2&per_page=2").json()
    assert [f["id"] for f in second] == [f["id"] for f in every[2:4]]
    assert client.get("/api/findings?page=2&limit=3").status_code == 422


def test_a_pair_drops_what_its_scan_run_now_no_longer_finds():
    """A series scanned now finds nothing: the saved scan's finding on it, made before its
    latest figures, left the list anyway (the chart rang nothing beside it)."""
    from types import SimpleNamespace

    from tradesentry.findings import Findings, empty_findings
    from tradesentry.web.views import _flags_run_now

    key = {"reporter": "CHN", "partner": "PRK", "flow": "import", "commodity": "TOTAL"}
    view = SimpleNamespace(
        key=key, classification="HS", breakdown="", freq="M",
        findings=Findings(empty_findings(), None),
    )  # fmt: skip
    stale = {**key, "classification": "HS", "breakdown": "", "freq": "M", "kind": "level_shift"}
    assert _flags_run_now({"findings": [stale]}, [view]) == {"findings": [], "findings_now": []}


@pytest.mark.parametrize("rated", [True, False])
def test_the_findings_page_says_amounts_without_a_rate_are_ranked_as_they_are(
    store, tmp_path, rated
):
    """The overview said so, the findings page ranking the same amounts did not."""
    from tests.report.seed import yen_and_dollar_scan

    yen_and_dollar_scan(store, tmp_path)
    if not rated:
        store.con.execute("DELETE FROM rates")
    store.close()
    html = TestClient(create_app(store.path)).get("/findings?sort=impact").text
    said = "Amounts in JPY are ranked beside the others as they are" in html
    assert said is not rated


def test_a_pairs_charts_open_on_one_scale(client):
    """The demo's pair page opened China's exports on a log axis and, under them, its
    imports on a linear one: two pictures of one pair read as two different stories."""
    specs = _specs(client.get("/pair/CHN/PRK").text)
    assert len(specs) >= 2
    assert {s["layout"]["yaxis"]["type"] for s in specs.values()} == {"log"}


@pytest.mark.parametrize(
    "address",
    ["/api/findings?kinds=spike", "/api/findings?sevrity=high", "/findings?country=DEU",
     "/pairs?partner=DEU", "/api/pairs?partner=DEU"],
)  # fmt: skip
def test_a_parameter_an_address_does_not_take_is_refused(client, address):
    """FastAPI ignores a parameter a route does not declare: `?kinds=spike` (the Python
    API's spelling) and `?sevrity=high` gave every finding (QA in Chromium). Refused with
    the parameters the address takes; a campaign tag of a shared link is let through."""
    response = client.get(address)
    assert response.status_code == 422
    name = address.split("?")[1].split("=")[0]
    assert f"unknown parameter &#39;{name}&#39;" in response.text or (
        f"unknown parameter '{name}'" in response.text
    ), response.text[:300]
    assert client.get("/findings?utm_source=newsletter&fbclid=x").status_code == 200


def test_the_findings_page_of_a_scan_older_than_a_release_says_so(tmp_path):
    """A scan saved before the latest release was listed as "6 findings in scan 1." alone,
    its findings on figures since revised (QA in Chromium); the series page said so per
    finding. The findings page now says which releases came after the scan."""
    from tradesentry import api

    db = tmp_path / "stale.duckdb"
    store = open_store(db)
    store.ingest(DEMO_CSV, published="2021-07-20")
    api.scan(store)
    revised = tmp_path / "revised.csv"
    revised.write_text(DEMO_CSV.read_text().replace("2021-02,1,3000.0,", "2021-02,1,1500000.0,"))
    store.ingest(revised, published="2021-08-20")
    store.close()
    fresh = tmp_path / "fresh.duckdb"
    fresh.write_bytes(db.read_bytes())
    with TestClient(create_app(db)) as client:
        page = client.get("/findings").text
    assert "Release 2 was ingested after scan 1:" in page, page[:3000]
    store = open_store(fresh)
    api.scan(store)
    store.close()
    with TestClient(create_app(fresh)) as client:
        assert "ingested after scan" not in client.get("/findings").text
