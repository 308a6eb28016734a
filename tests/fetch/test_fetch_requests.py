"""What a fetch asks for: country codes, periods, flows, endpoints, the dry run. No HTTP."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from tradesentry.errors import InputError
from tradesentry.fetch import PlannedRequest, fetch_comtrade
from tradesentry.fetch.comtrade import area_code, build_query, expand_periods, parse_flows


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("CHN", 156),
        ("PRK", 408),
        ("North Korea", 408),
        ("china", 156),
        ("USA", 842),  # Comtrade's own number, not ISO's 840
        ("FRA", 251),  # not 250
        ("World", 0),
        ("WLD", 0),
        ("156", 156),
    ],
)
def test_area_codes_are_comtrades_m49(text, code):
    assert area_code(text) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("DEU", 276),  # not 280, the Federal Republic before 1990
        ("USA", 842),  # not 841, the USA before 1981
        ("ETH", 231),
        ("PAN", 591),
        ("SDN", 729),
        ("YEM", 887),
        ("SUN", 810),  # a former area is asked for by its own code
        ("DDR", 278),
        ("YUG", 890),
    ],
)
def test_a_fetch_asks_for_todays_area_under_a_code(text, code):
    """data/comtrade_areas.csv lists former areas too, some under today's code."""
    assert area_code(text) == code


def test_unknown_country_is_an_input_error():
    with pytest.raises(InputError, match="--partner 'Atlantis'"):
        area_code("Atlantis", "partner")


def test_a_year_of_months_is_twelve_periods():
    assert expand_periods("M", "2021") == tuple(f"2021{m:02d}" for m in range(1, 13))
    assert expand_periods("M", "2021-03,202104,2021-03") == ("202103", "202104")
    assert expand_periods("A", "2019,2020") == ("2019", "2020")


@pytest.mark.parametrize(("freq", "period"), [("M", "2021-13"), ("A", "202103"), ("M", "21")])
def test_bad_periods_are_input_errors(freq, period):
    with pytest.raises(InputError, match="--period"):
        expand_periods(freq, period)


def test_flows_take_codes_or_words():
    assert parse_flows("X,M") == ("X", "M")
    assert parse_flows(["export", "re-import"]) == ("X", "RM")
    with pytest.raises(InputError, match="--flow"):
        parse_flows("")


def test_bad_frequency_is_an_input_error():
    with pytest.raises(InputError, match="--freq"):
        build_query("CHN", "PRK", "Q", "2021")


def _params(request: PlannedRequest) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(request.full_url).query))


def test_dry_run_plans_one_data_call_per_month_on_the_preview():
    planned = fetch_comtrade(
        None, "CHN", "PRK", "M", "2021", base_url="http://mirror.test", dry_run=True
    )
    assert all(isinstance(p, PlannedRequest) for p in planned)
    availability, *data = planned
    assert availability.url == "http://mirror.test/public/v1/getDa/C/M/HS"
    assert _params(availability)["period"].split(",") == [f"2021{m:02d}" for m in range(1, 13)]
    assert [_params(d)["period"] for d in data] == [f"2021{m:02d}" for m in range(1, 13)]
    first = data[0]
    assert first.url == "http://mirror.test/public/v1/preview/C/M/HS"
    assert _params(first) == {
        "reporterCode": "156",
        "partnerCode": "408",
        "period": "202101",
        "flowCode": "X,M",
        "cmdCode": "TOTAL",
        "maxRecords": "500",
        "format": "JSON",
        "breakdownMode": "classic",
        "includeDesc": "True",
    }
    assert str(first).startswith("GET http://mirror.test/public/v1/preview/C/M/HS?reporterCode=156")


def test_a_key_switches_to_the_full_endpoint_and_never_shows(monkeypatch):
    monkeypatch.setenv("COMTRADE_API_KEY", "s3cret-key")
    monkeypatch.setenv("COMTRADE_API_URL", "http://mirror.test/")
    planned = fetch_comtrade(None, "CHN", "PRK", "A", "2020", dry_run=True)
    assert [p.url for p in planned] == [
        "http://mirror.test/data/v1/getDa/C/A/HS",
        "http://mirror.test/data/v1/get/C/A/HS",
    ]
    assert _params(planned[1])["maxRecords"] == "100000"
    assert not any("s3cret" in str(p) for p in planned)


def test_the_default_host_is_the_official_one():
    planned = fetch_comtrade(None, "CHN", "PRK", "A", "2020", dry_run=True)
    assert planned[1].url == "https://comtradeapi.un.org/public/v1/preview/C/A/HS"


def test_dry_run_makes_no_call(comtrade_api):
    fetch_comtrade(None, "CHN", "PRK", "M", "2021", base_url=comtrade_api.url, dry_run=True)
    assert comtrade_api.seen == []


def test_urls_match_the_official_client(monkeypatch):
    """Our preview and full URLs are the ones comtradeapicall builds (caught, not sent)."""
    comtradeapicall = pytest.importorskip("comtradeapicall")
    import urllib3

    sent: list[tuple[str, dict]] = []

    def capture(self, method, url, fields=None, **kwargs):
        sent.append((url, fields))
        raise urllib3.exceptions.RequestError(None, url, "captured, not sent")

    monkeypatch.setattr(urllib3.PoolManager, "request", capture)
    common = dict(
        typeCode="C",
        freqCode="M",
        clCode="HS",
        period="202103",
        reporterCode="156",
        cmdCode="TOTAL",
        flowCode="X,M",
        partnerCode="408",
        partner2Code=None,
        customsCode=None,
        motCode=None,
        maxRecords=500,
        format_output="JSON",
        breakdownMode="classic",
        includeDesc=True,
    )
    comtradeapicall.previewFinalData(**common)
    comtradeapicall.getFinalData("key", **common)
    ours = [
        p
        for p in (
            fetch_comtrade(None, "CHN", "PRK", "M", "202103", dry_run=True)[1],
            fetch_comtrade(None, "CHN", "PRK", "M", "202103", dry_run=True, api_key="key")[1],
        )
    ]
    assert [url for url, _ in sent] == [p.url for p in ours]
    for (_, fields), planned in zip(sent, ours, strict=True):
        theirs = {k.lower(): str(v) for k, v in fields.items() if k != "subscription-key"}
        mine = {k.lower(): v for k, v in planned.params}
        assert {
            k: theirs[k]
            for k in (
                "reportercode",
                "partnercode",
                "period",
                "flowcode",
                "cmdcode",
                "format",
                "breakdownmode",
            )
        } == {
            k: mine[k]
            for k in (
                "reportercode",
                "partnercode",
                "period",
                "flowcode",
                "cmdcode",
                "format",
                "breakdownmode",
            )
        }


@pytest.mark.parametrize("text", ["²", "٣", "\x00"])
def test_only_ascii_digits_are_an_m49_number(text):
    """'²'.isdigit() is true but int('²') fails: such text is a name, and no known one."""
    with pytest.raises(
        InputError, match=r"^--partner .*: not a country or area known to Comtrade$"
    ):
        area_code(text, "partner")


def test_full_width_digits_go_through_the_country_normaliser():
    assert area_code("１５６") == 156


@pytest.mark.parametrize("period", ["２０２１-01", "２０２１", "2021-０３", "٢٠٢١"])
def test_periods_are_ascii_digits_only(period):
    """Full-width digits would otherwise be sent to the API as they are."""
    with pytest.raises(InputError, match=r"^--period .*: expected YYYY or YYYY-MM"):
        expand_periods("M", period)


@pytest.mark.parametrize(
    "url",
    [
        "127.0.0.1:18777",  # no scheme: httpx took it for a network failure and retried
        "http://[::1",  # httpx.InvalidURL
        "ftp://mirror.test",
        "http://",
        "http://:8080",
        "http://mirror.test:port",
        "http://mirror .test",
        "http://mirror.test/?key=1",
    ],
)
def test_an_unusable_api_url_is_refused_before_any_call(monkeypatch, stub_store, url):
    monkeypatch.setenv("COMTRADE_API_URL", url)
    expected = (
        f"COMTRADE_API_URL {url!r}: expected an http(s) URL with a host, such as "
        "https://comtradeapi.un.org"
    )
    for store, dry_run in ((stub_store, False), (None, True)):
        with pytest.raises(InputError) as caught:
            fetch_comtrade(store, "CHN", "PRK", "M", "2021-03", dry_run=dry_run, sleep=print)
        assert str(caught.value) == expected
    assert stub_store.ingested == []


def test_an_unusable_base_url_argument_is_named_as_such():
    with pytest.raises(InputError, match=r"^base_url 'mirror.test': expected an http\(s\) URL"):
        fetch_comtrade(None, "CHN", "PRK", "M", "2021-03", base_url="mirror.test", dry_run=True)
