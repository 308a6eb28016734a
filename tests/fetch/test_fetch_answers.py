"""Answers that are not what was asked for: other records, no envelope, bad bytes, redirects.

Each is refused in one line naming the request, and nothing of it is saved or stored. An
availability row of another dataset only dates nothing (the date is auxiliary), with a warning.
"""

from __future__ import annotations

import json
import logging
from datetime import date

import pytest
from comtrade_fake import Reply, envelope, month_records, recorded

from tradesentry.errors import FetchError
from tradesentry.fetch import fetch_comtrade

AVAILABILITY = Reply(200, recorded("getDa-C-M-HS-r156-2021.json"))


def fetch(store, api, waits, period="2021-02", **options):
    return fetch_comtrade(
        store, "CHN", "PRK", "M", period, base_url=api.url, sleep=waits.append, min_interval=0,
        **options,
    )  # fmt: skip


def refused(store, api, waits, *replies: Reply, **options) -> str:
    """The one-line message of a fetch of 2021-02 answered with ``replies``; nothing stored."""
    api.script(AVAILABILITY, *replies)
    with pytest.raises(FetchError) as caught:
        fetch(store, api, waits, **options)
    message = str(caught.value)
    assert "\n" not in message
    assert store.ingested == []
    assert not store.path.parent.joinpath("store.duckdb.fetch").exists()
    return message


def as_period(record: dict, period: str) -> dict:
    """The record as the API would write it for another month."""
    year, month = int(period[:4]), int(period[4:])
    return {**record, "period": period, "refYear": year, "refMonth": month,
            "refPeriodId": int(f"{period}01")}  # fmt: skip


# -- records the request did not ask for ---------------------------------------------------


def test_an_answer_for_another_month_is_refused(stub_store, comtrade_api, no_sleep):
    """The QA case: --period 2021-02 answered with December's records landed as 2021-12."""
    december = [as_period(r, "202112") for r in month_records("202102")]
    message = refused(stub_store, comtrade_api, no_sleep, Reply(200, envelope(december)))
    assert message.startswith(
        "the API answered a record the request did not ask for: record 1 of 2 has period "
        "202112, not 202102 (period 202112, reporterCode 156, partnerCode 408, flowCode X, "
        "cmdCode TOTAL); nothing from that call is stored: GET "
    )
    assert "period=202102" in message


def test_an_extra_record_of_another_month_and_partner_is_refused(
    stub_store, comtrade_api, no_sleep
):
    extra = {**as_period(month_records("202102")[0], "202109"), "partnerCode": 0}
    answer = envelope([*month_records("202102"), extra])
    message = refused(stub_store, comtrade_api, no_sleep, Reply(200, answer))
    assert message.startswith(
        "the API answered a record the request did not ask for: record 3 of 3 has period "
        "202109, not 202102 (period 202109, reporterCode 156, partnerCode 0, flowCode X, "
    )


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"reporterCode": 842}, "has reporterCode 842, not 156"),
        ({"partnerCode": "0"}, "has partnerCode 0, not 408"),
        ({"flowCode": "RX"}, "has flowCode RX, not X or M"),
        ({"freqCode": "A"}, "has freqCode A, not M"),
        ({"cmdCode": "27"}, "has cmdCode 27, not TOTAL"),
        (
            {"classificationCode": "S4", "classificationSearchCode": "SS"},
            "has classificationCode S4, not HS",
        ),
        ({"period": None, "refPeriodId": None}, "has no period"),
        ({"partnerCode": ""}, "has no partnerCode"),
    ],
)
def test_each_identifying_field_is_checked(stub_store, comtrade_api, no_sleep, change, says):
    first, second = month_records("202102")
    answer = envelope([first, {**second, **change}])
    message = refused(stub_store, comtrade_api, no_sleep, Reply(200, answer))
    assert f"record 2 of 2 {says} (" in message


def test_records_the_reader_takes_as_asked_are_accepted(stub_store, comtrade_api, no_sleep):
    """Codes as text or numbers, whole numbers as floats (a proxy re-serialising them:
    156.0), any case, and a period given only as refPeriodId."""
    first, second = month_records("202102")
    first = {**first, "reporterCode": 156.0, "partnerCode": 408.0}
    second = {**second, "reporterCode": "156", "flowCode": "m", "period": None}
    comtrade_api.script(AVAILABILITY, Reply(200, envelope([first, second])))
    (release,) = fetch(stub_store, comtrade_api, no_sleep)
    assert release.rows_read == 2


def test_nothing_of_a_month_lands_when_one_flow_of_it_is_wrong(stub_store, comtrade_api, no_sleep):
    """Split by flow at the cap, the exports were right and the imports not: neither lands."""
    exports, imports = month_records("202103")
    capped = envelope([exports] * 500)
    message = refused(
        stub_store,
        comtrade_api,
        no_sleep,
        Reply(200, capped),
        Reply(200, envelope([exports])),
        Reply(200, envelope([as_period(imports, "202104")])),
        period="2021-03",
    )
    assert "record 1 of 1 has period 202104, not 202103" in message
    assert "flowCode=M&" in message


# -- replies that are not the API's envelope -----------------------------------------------


@pytest.mark.parametrize("body", [b"{}", b"[]", b'{"count": 0}', b'{"data": null}', b"7"])
def test_json_without_the_envelope_is_an_error(stub_store, comtrade_api, no_sleep, body):
    message = refused(stub_store, comtrade_api, no_sleep, Reply(200, body))
    assert message.startswith("the API returned JSON without a data list: GET ")


def test_a_rate_limit_sent_with_200_is_retried_like_a_429(stub_store, comtrade_api, no_sleep):
    comtrade_api.script(AVAILABILITY, Reply(200, recorded("error-429.json")))
    (release,) = fetch(stub_store, comtrade_api, no_sleep)
    assert release.rows_read == 2
    assert no_sleep == [1.0]
    assert [s.query["period"] for s in comtrade_api.data_calls()] == ["202102", "202102"]


def test_a_rate_limit_sent_with_200_every_time_gives_up(stub_store, comtrade_api, no_sleep):
    limited = Reply(200, recorded("error-429.json"), {"Retry-After": "3"})
    message = refused(stub_store, comtrade_api, no_sleep, *[limited] * 5)
    assert message.startswith(
        "HTTP 429 from the API (Rate limit is exceeded. Try again in 2 seconds.) after 5 "
        "attempts: GET "
    )
    assert no_sleep == [3.0] * 4  # its Retry-After is kept


def test_a_key_error_sent_with_200_is_a_refused_key(stub_store, comtrade_api, no_sleep):
    body = json.dumps({"statusCode": 401, "message": "Access denied"}).encode()
    comtrade_api.script(Reply(200, body))
    with pytest.raises(FetchError, match=r"^the API refused the key: Access denied$"):
        fetch(stub_store, comtrade_api, no_sleep, api_key="k")
    assert len(comtrade_api.seen) == 1


# -- replies that cannot be read -----------------------------------------------------------


def test_a_reply_whose_gzip_is_broken_is_one_line(stub_store, comtrade_api, no_sleep):
    broken = Reply(200, b"this is not gzip", {"Content-Encoding": "gzip"})
    message = refused(stub_store, comtrade_api, no_sleep, broken)
    assert message.startswith("the API's reply cannot be decoded (DecodingError: ")
    assert message.endswith("period=202102&flowCode=X,M&cmdCode=TOTAL&maxRecords=500&"
                            "format=JSON&breakdownMode=classic&includeDesc=True")  # fmt: skip


def test_a_redirect_is_named_and_not_followed(stub_store, comtrade_api, no_sleep):
    moved = Reply(302, b"", {"Location": f"{comtrade_api.url}/elsewhere"})
    message = refused(stub_store, comtrade_api, no_sleep, moved, api_key="k3y")
    assert message.startswith(
        f"HTTP 302 redirect to {comtrade_api.url}/elsewhere (not followed, so that the key "
        "goes to no other address; if the API has moved, set COMTRADE_API_URL): GET "
    )
    assert [s.path for s in comtrade_api.seen] == ["/data/v1/getDa/C/M/HS", "/data/v1/get/C/M/HS"]


# -- availability rows of another dataset ------------------------------------------------

FEBRUARY = json.loads(recorded("getDa-C-M-HS-r156-2021.json"))["data"][1]  # 2021-04-28
LATER = "2021-06-30T09:00:00"  # what a row of another dataset would make February's date


def warnings_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize(
    ("row", "says"),
    [
        (None, "is not a JSON object (null)"),
        ("202102", 'is not a JSON object ("202102")'),
        ({**FEBRUARY, "reporterCode": 842, "lastReleased": LATER}, "has reporterCode 842, not 156"),
        ({**FEBRUARY, "reporterCode": None, "lastReleased": LATER}, "has no reporterCode"),
        ({**FEBRUARY, "typeCode": "S", "lastReleased": LATER}, "has typeCode S, not C"),
        ({**FEBRUARY, "freqCode": "A", "lastReleased": LATER}, "has freqCode A, not M"),
        (
            {
                **FEBRUARY,
                "classificationCode": "S4",
                "classificationSearchCode": "SS",
                "lastReleased": LATER,
            },
            "has classificationCode S4, not HS",
        ),
    ],
    ids=["null", "text", "reporter", "no-reporter", "type", "freq", "classification"],
)
def test_an_availability_row_of_another_dataset_dates_nothing(
    stub_store, comtrade_api, no_sleep, caplog, row, says
):
    """QA: a row of reporter 842 dated China's release, and a null row was a traceback.
    Skipped with one warning naming it and the call; the answer's other rows still date."""
    comtrade_api.script(Reply(200, envelope([row, FEBRUARY])))
    with caplog.at_level(logging.WARNING, logger="tradesentry.fetch"):
        (release,) = fetch(stub_store, comtrade_api, no_sleep)
    assert release.published == date(2021, 4, 28) and release.rows_read == 2
    (warning,) = warnings_of(caplog)
    assert warning.startswith(f"publication dates: 1 availability row of 2 skipped: row 1 {says}")
    assert warning.endswith("/public/v1/getDa/C/M/HS?reporterCode=156&period=202102")


def test_an_availability_row_of_a_period_another_call_asked_dates_nothing(
    stub_store, comtrade_api, no_sleep, caplog
):
    """Thirteen months are two availability calls; a row of January in the second call's
    answer is none of its periods: January keeps the date its own call gave, unwarned."""
    january = json.loads(recorded("getDa-C-M-HS-r156-2021.json"))["data"][0]
    comtrade_api.script(AVAILABILITY, Reply(200, envelope([{**january, "lastReleased": LATER}])))
    with caplog.at_level(logging.WARNING, logger="tradesentry.fetch"):
        report = fetch(stub_store, comtrade_api, no_sleep, period="2021,2022-01")
    assert [s.query["period"] for s in comtrade_api.seen[:2]] == [
        ",".join(f"2021{m:02d}" for m in range(1, 13)), "202201",
    ]  # fmt: skip
    assert (report[0].period, report[0].published) == ("202101", date(2021, 4, 28))
    assert warnings_of(caplog) == []
