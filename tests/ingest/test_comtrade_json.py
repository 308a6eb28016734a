"""UN Comtrade API JSON read as `tradesentry fetch` reads the same answer: an error in the
envelope refuses the file, a `data` element that is not an object is named so, a repeated
key takes its last value (as Python's json does), and a code written as a whole-number
float is that code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.ingest.kit import comtrade_fields, record
from tradesentry.errors import InputError


def _answer(data: list[object], error: object = "", count: int | None = None) -> str:
    return json.dumps(
        {
            "elapsedTime": "0.1 secs",
            "count": len(data) if count is None else count,
            "data": data,
            "error": error,
        }  # fmt: skip
    )


def _write(tmp_path: Path, text: str, name: str = "answer.json") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _ingest(store, path: Path):
    result = store.ingest(path)
    assert result.rows_read == result.rows_accepted + result.rows_quarantined
    return result


# -- a. an error beside data ------------------------------------------------------------------


def test_an_error_beside_data_refuses_the_file(store, tmp_path):
    """`fetch` refuses such an answer; the ingest read its records without a word."""
    path = _write(tmp_path, _answer([comtrade_fields(record())], error="Request timed out"))
    with pytest.raises(InputError) as err:
        store.ingest(path)
    message = str(err.value)
    assert message.startswith(f"{path}: the Comtrade API answered with an error: Request timed")
    assert "1 record" in message and "\n" not in message
    assert store.releases().empty and store.observations().empty


def test_an_error_is_quoted_on_one_line_cut_to_a_sensible_length(store, tmp_path):
    error = "quota\nexceeded:  " + "x" * 1000
    path = _write(tmp_path, _answer([comtrade_fields(record())], error=error))
    with pytest.raises(InputError) as err:
        store.ingest(path)
    message = str(err.value)
    assert "\n" not in message and len(message) < len(str(path)) + 400
    assert "error: quota exceeded: xxx" in message and "…" in message


def test_an_error_object_beside_data_refuses_the_file(store, tmp_path):
    path = _write(tmp_path, _answer([comtrade_fields(record())], error={"code": 5, "msg": "busy"}))
    with pytest.raises(InputError, match=r'an error: \{"code": 5, "msg": "busy"\}'):
        store.ingest(path)


@pytest.mark.parametrize("error", ["", None, "  "], ids=["empty", "null", "blank"])
def test_an_empty_error_is_no_error(store, tmp_path, error):
    path = _write(tmp_path, _answer([comtrade_fields(record())], error=error))
    assert _ingest(store, path).rows_accepted == 1


def test_an_error_quoted_with_escapes_reads_as_written(store, tmp_path):
    path = _write(tmp_path, _answer([], error='bad "period" \\ value'))
    with pytest.raises(InputError, match=r'an error: bad "period" \\ value$'):
        store.ingest(path)


# -- b. an element of data that is not an object ---------------------------------------------


def test_elements_that_are_not_objects_are_named_so(store, tmp_path):
    good = comtrade_fields(record())
    path = _write(tmp_path, _answer([None, good, 5, "x", [1], True]))
    result = _ingest(store, path)
    assert (result.rows_read, result.rows_accepted, result.rows_quarantined) == (6, 1, 5)
    q = store.quarantine()
    assert list(zip(q.line, q.raw, q.reason, strict=True)) == [
        (1, "null", "record is not a JSON object"),
        (3, "5", "record is not a JSON object"),
        (4, '"x"', "record is not a JSON object"),
        (5, "[1]", "record is not a JSON object"),
        (6, "true", "record is not a JSON object"),
    ]


# -- c. a key given twice: the last value, as JSON is usually read ----------------------------


def test_a_repeated_key_takes_its_last_value_as_fetch_does(store, tmp_path):
    first = json.dumps(comtrade_fields(record(value="100")))
    # "primaryValue" twice, and "reporterCode" twice, its first value unknown
    text = first[:-1] + ', "primaryValue": 250, "reporterCode": 410}'
    text = '{"reporterCode": 999, ' + text[1:]
    path = _write(tmp_path, '{"elapsedTime": "0", "count": 1, "error": "", "data": [' + text + "]}")
    assert json.loads(text)["primaryValue"] == 250  # what Python's json (and fetch) reads
    result = _ingest(store, path)
    assert (result.rows_accepted, result.rows_quarantined) == (1, 0)
    obs = store.observations().iloc[0]
    assert (obs.reporter, obs.value) == ("KOR", 250.0)


def test_a_record_with_a_repeated_key_keeps_its_raw_text(store, tmp_path):
    rec = json.dumps(comtrade_fields(record(reporter="XXX")))  # quarantined: unknown reporter
    text = rec[:-1] + ', "primaryValue": "7"}'
    path = _write(tmp_path, '{"count": 1, "error": "", "data": [' + text + "]}")
    _ingest(store, path)
    (raw,) = store.quarantine().raw
    assert raw.count('"primaryValue"') == 2


# -- d. codes written as floats ----------------------------------------------------------------


def test_a_whole_number_float_code_is_the_code(store, tmp_path):
    rec = comtrade_fields(record())
    rec |= {"reporterCode": 156.0, "partnerCode": 4.08e2, "period": 202102.0, "motCode": 0.0,
            "partner2Code": 0.0, "cmdCode": 2701.0}  # fmt: skip
    path = _write(tmp_path, _answer([rec]))
    result = _ingest(store, path)
    assert (result.rows_accepted, result.rows_quarantined) == (1, 0)
    obs = store.observations().iloc[0]
    assert (obs.reporter, obs.partner, obs.commodity, obs.breakdown) == ("CHN", "PRK", "2701", "")
    assert obs.period.strftime("%Y-%m") == "2021-02"


@pytest.mark.parametrize(
    ("code", "reason"),
    [(156.5, "unknown reporter country '156.5'"), ("156.0", "unknown reporter country '156.0'")],
    ids=["fraction", "text"],
)
def test_a_code_that_is_not_a_whole_number_stays_an_error(store, tmp_path, code, reason):
    rec = comtrade_fields(record()) | {"reporterCode": code}
    _ingest(store, _write(tmp_path, _answer([rec])))
    assert list(store.quarantine().reason) == [reason]


@pytest.mark.parametrize(
    ("code", "level", "commodity", "reason"),
    [(10110, 6, "010110", None),
     (10110.0, "6", "010110", None),
     (101, 4, "0101", None),
     (10110, 4, None, "commodity '10110' has 5 digits, but its aggrLevel says 4: which HS "
                      "code it stands for cannot be told"),
     (1, 6, None, "commodity '1' has 1 digit, but its aggrLevel says 6: which HS code it "
                  "stands for cannot be told")],
    ids=["subheading", "as-floats", "heading", "level-4", "level-6"],
)  # fmt: skip
def test_an_hs_code_written_as_a_number_is_read_at_its_aggregation_level(
    store, tmp_path, code, level, commodity, reason
):
    """The API's cmdCode 10110 at aggrLevel 6 is 010110, which had landed as '10110' beside
    it; where the level it gives is another, which code was meant cannot be told."""
    rec = comtrade_fields(record()) | {"cmdCode": code, "aggrLevel": level}
    _ingest(store, _write(tmp_path, _answer([rec])))
    assert list(store.quarantine().reason) == ([reason] if reason else [])
    assert store.observations().commodity.tolist() == ([commodity] if commodity else [])


def test_a_key_a_response_gives_twice_is_named_in_plain_words(store, tmp_path):
    """A response with its "error" key twice was refused in DuckDB's words (its own path
    through the file, "JSON transform error … in record/value 1")."""
    text = '{"error": "quota exceeded", "error": "", "data": []}'
    with pytest.raises(InputError) as err:
        _ingest(store, _write(tmp_path, text))
    assert str(err.value).endswith(
        "not a readable Comtrade JSON response (a response gives its key 'error' twice)"
    )


@pytest.mark.parametrize(
    ("period", "reason"),
    [("2021-02", "period '2021-02' is not UN Comtrade's YYYY, YYYYMM or YYYYMMDD"),
     ("2021M02", "period '2021M02' is not UN Comtrade's YYYY, YYYYMM or YYYYMMDD"),
     (202113, "impossible period '202113'"),
     (None, "period is missing")],
    ids=["dashes", "sdmx-month", "month-13", "null"],
)  # fmt: skip
def test_a_period_says_whether_its_notation_or_its_date_is_wrong(store, tmp_path, period, reason):
    """'2021-02' and null were both "impossible period", which a reader takes for a date
    that does not exist; the canonical reader names the notation it expects."""
    good, bad = comtrade_fields(record()), comtrade_fields(record(month="03"))
    bad["period"] = period
    if period is None:  # nor any other field that dates it
        bad |= {k: None for k in ("refPeriodId", "refYear", "refMonth") if k in bad}
    result = _ingest(store, _write(tmp_path, _answer([good, bad])))
    assert (result.rows_accepted, result.rows_quarantined) == (1, 1)
    assert list(store.quarantine().reason) == [reason]


def test_data_that_is_no_list_of_records_says_so(store, tmp_path):
    """DuckDB's own words had reached the user ("JSON transform error in file …: Expected
    ARRAY, but got OBJECT")."""
    path = _write(
        tmp_path, '{"elapsedTime": "0.1 secs", "count": 1, "data": {"x": 1}, "error": ""}'
    )
    with pytest.raises(InputError) as err:
        store.ingest(path)
    assert str(err.value) == (
        f"{path}: not a readable Comtrade JSON response (its data is not a list of records)"
    )
