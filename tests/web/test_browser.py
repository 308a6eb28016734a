"""The dashboard and the report in real headless Chromium (Debian's package via Playwright)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.report.seed import DEMO_FINDINGS, EVIL, EVIL_CODE, HS_CODE, save_scan
from tests.report.test_charts import KEY, _view
from tradesentry.report import build_report
from tradesentry.report.charts import series_figure
from tradesentry.report.render import plotly_js_path
from tradesentry.store import open_store

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def context(browser):
    """One browser context for the module: plotly.js is fetched and cached once."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context
    context.close()


@pytest.fixture
def page(context):
    """A fresh page that records console errors, page errors and dialogs (alert = XSS)."""
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.on("dialog", lambda d: (page.problems.append(f"dialog: {d.message}"), d.dismiss()))
    yield page
    page.close()


def _chart_drawn(page) -> None:
    page.wait_for_selector(".chart .main-svg", timeout=15_000)
    assert page.locator(".chart .main-svg").count() >= 1


def test_overview_filter_open_a_finding(page, live_url, artifacts):
    page.goto(live_url + "/")
    assert "series scanned" in page.content()
    _chart_drawn(page)
    page.screenshot(path=artifacts / "dashboard-overview.png", full_page=True)

    page.click("header nav >> text=Findings")
    page.wait_for_url("**/findings")
    page.select_option("select[name=kind]", ["timing_shift"])
    page.fill("input[name=reporter]", "chn")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/findings?*kind=timing_shift*")
    rows = page.locator("table.findings tbody tr")
    assert rows.count() == 1
    assert rows.first.locator("td.kind").inner_text() == "timing_shift"
    page.screenshot(path=artifacts / "dashboard-findings.png", full_page=True)

    rows.first.locator("a.finding-link").click()
    page.wait_for_url("**/series/CHN/PRK/export/TOTAL?finding=*")
    _chart_drawn(page)
    assert page.locator("article.finding.focus .kind").first.inner_text() == "timing_shift"
    moved = page.locator(".chart .annotation-text", has_text="moved")
    assert moved.count() == 1
    page.screenshot(path=artifacts / "dashboard-series.png", full_page=True)
    assert page.problems == []


def test_pair_page_draws_its_charts(page, live_url, artifacts):
    page.goto(live_url + "/pair/CHN/PRK")
    _chart_drawn(page)
    page.wait_for_function("document.querySelectorAll('.chart .main-svg').length >= 2")
    page.screenshot(path=artifacts / "dashboard-pair.png", full_page=True)
    assert page.problems == []


def test_markup_never_runs_in_the_dashboard(page, live_url):
    page.goto(live_url + "/series/CHN/PRK/export/" + quote(EVIL, safe=""))
    _chart_drawn(page)
    # The code as stored, upper-cased (<SCRIPT> is a script tag all the same), and the
    # findings' texts as written: shown as text, no element made of either.
    heading = page.locator("h1")
    assert EVIL_CODE in heading.inner_text() and heading.locator("*").count() == 0
    assert EVIL in page.locator("main").inner_text()
    page.goto(live_url + "/findings?commodity=" + quote(EVIL))
    # the filter shows the code as it is matched (upper-cased), as text
    assert page.locator("input[name=commodity]").input_value() == EVIL.upper()
    assert page.problems == []


def test_report_opens_offline_and_draws(page, live_store, tmp_path, artifacts):
    with open_store(live_store, read_only=True) as store:
        report = build_report(store, tmp_path / "report.html", top=4)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.route("http*://**", lambda route: route.abort())  # no network at all
    page.goto(report.as_uri())
    _chart_drawn(page)
    page.screenshot(path=artifacts / "report.png", full_page=False)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_function("document.querySelectorAll('.chart .main-svg').length >= 4")
    assert [u for u in requests if not u.startswith(("file:", "data:", "blob:"))] == []
    assert page.problems == []  # includes: no alert from the markup in the data


def test_a_gap_is_drawn_as_a_band(page, seeded_store, tmp_path, artifacts):
    gap = {
        **DEMO_FINDINGS[1],
        "kind": "gap",
        "period": "2019-06",
        "period_end": "2019-06",
        "observed": None,
        "explanation": "No figure for June 2019.",
        "evidence": {"months": ["2019-06"]},
    }
    save_scan(seeded_store, [gap])
    report = build_report(seeded_store, tmp_path / "report.html", top=1)
    page.goto(report.as_uri())
    _chart_drawn(page)
    assert page.locator(".chart .shapelayer path").count() >= 1
    assert page.locator(".chart .legendtext", has_text="Flagged, no figure (high)").count() == 1
    page.screenshot(path=artifacts / "report-gap.png", full_page=False)
    assert page.problems == []


def test_a_code_under_two_classifications_is_chosen_and_drawn(page, two_url, artifacts):
    page.goto(two_url + "/pair/CHN/PRK")
    page.wait_for_function("document.querySelectorAll('.chart .main-svg').length >= 2")
    page.goto(two_url + f"/series/CHN/PRK/export/{HS_CODE}")  # which of the two?
    assert "held under classifications H5, HS" in page.locator("p.error").inner_text()
    page.click("p.error a >> text=H5")
    page.wait_for_url(f"**/series/CHN/PRK/export/{HS_CODE}?classification=H5")
    _chart_drawn(page)
    history = page.locator("table.history").text_content()  # in a closed <details>
    assert "$4.3M" in history and "$9.9M" in history and "$7.6M" not in history
    page.screenshot(path=artifacts / "dashboard-two-classifications.png", full_page=True)
    # The bare address answered 404 (the console says so), and nothing else went wrong.
    assert page.problems == [
        "Failed to load resource: the server responded with a status of 404 (Not Found)"
    ]


def test_a_series_column_keeps_a_code_on_one_line(page, live_url):
    """Squeezed by the figures' columns, the series column broke "48114100" as "48114 / 1"
    in every findings table (QA in Chromium at 1,200 px), read as code 48114: it keeps the
    width of a 12-digit code."""
    page.set_viewport_size({"width": 700, "height": 900})
    page.goto(live_url + "/findings")
    # the narrowest the column may be, against a 12-digit code in its own font
    fits = page.evaluate(
        """() => [...document.querySelectorAll('td[data-label="series"]')].map(td => {
            const probe = document.createElement('span');
            probe.textContent = '123456789012';
            probe.style.whiteSpace = 'nowrap';
            td.appendChild(probe);
            const least = parseFloat(getComputedStyle(td).minWidth) || 0;
            const ok = least + 1 >= probe.offsetWidth && td.clientWidth >= probe.offsetWidth;
            probe.remove();
            return ok;
        })"""
    )
    assert fits and all(fits), fits


@pytest.fixture(scope="module")
def chart_page(tmp_path_factory) -> str:
    """A page with the plotly.js the report inlines and room for one chart."""
    path = tmp_path_factory.mktemp("chart") / "chart.html"
    script = Path(str(plotly_js_path())).as_uri()
    path.write_text(f'<script src="{script}"></script><div id="chart" style="width:900px"></div>')
    return path.as_uri()


def _draw_figure(page, chart_page: str, spec: dict) -> None:
    """One chart spec drawn alone on a page, as app.js draws it."""
    page.goto(chart_page)
    page.evaluate("s => Plotly.newPlot('chart', s.data, s.layout, s.config)", spec)


def _money_axes(page) -> dict[str, list[str]]:
    """The money axes as drawn: each one's tick labels and title, read from the SVG."""
    return page.evaluate(
        """() => Object.fromEntries(['ytick', 'y2tick', 'g-ytitle', 'g-y2title'].map(c =>
            [c, [...document.querySelectorAll(`#chart .${c} text`)].map(t => t.textContent)]))"""
    )


def _months(*values: float) -> dict[str, tuple[float, int]]:
    return {f"2024-{m:02d}": (v, 1) for m, v in enumerate(values, start=1)}


@pytest.mark.parametrize(
    ("values", "log"),
    [
        # DEU → AUT of 32121000 on the log scale its pair page shares: no label at all
        ((1.34e5, 3.1e5, 7.09e5), True),
        ((2.0e5, 9.0e5, 6.0e6), True),  # a decade and a half: €1M alone
        ((4.2e5,), True),  # one figure, drawn a decade either side
        ((3.0e3, 1.0e6, 1.05e6), None),  # decades: its powers of ten
    ],
    ids=["under-a-decade", "a-decade-and-a-half", "one-figure", "decades"],
)
def test_a_log_money_axis_writes_two_amounts_or_more(page, chart_page, values, log):
    """A log axis given a tick a decade apart whatever its span drew €134K to €709K with
    no label at all, and €200K to €6M with one (QA, 12 of 89 pair-page charts); left to
    plotly.js from a decade up, it writes bare digits ("2 5 €1M 2 5") that read as
    amounts. Opened, and once toggled to linear and back, it writes amounts, two or more."""
    _draw_figure(page, chart_page, series_figure(_view(_months(*values), []), log=log))
    opened = _money_axes(page)["ytick"]
    assert len(opened) >= 2 and all(t.startswith("€") for t in opened), opened
    page.locator(".updatemenu-button", has_text="linear").click()
    page.locator(".updatemenu-button", has_text="log").click()
    assert _money_axes(page)["ytick"] == opened
    assert page.problems == []


def test_each_money_axis_is_titled_with_its_currency(page, chart_page):
    """plotly.js (3 on) draws no axis title given as a string: the currency of each axis,
    "EUR" and the partner's "USD", was named nowhere on the chart."""
    view = _view(_months(1.0e6, 1.1e6, 0.9e6), [])
    mirror = _view(_months(1.0e6, 1.04e6, 0.96e6), [])
    mirror.observations["currency"] = "USD"
    mirror = dataclasses.replace(mirror, key={**KEY, "reporter": "ROU", "partner": "DEU"})
    _draw_figure(page, chart_page, series_figure(view, mirror=mirror))
    axes = _money_axes(page)
    assert (axes["g-ytitle"], axes["g-y2title"]) == (["EUR"], ["USD"])
    assert all(t.startswith("$") for t in axes["y2tick"]) and axes["y2tick"]
    assert page.problems == []
