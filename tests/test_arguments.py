"""What a caller may pass the API: each normaliser and check on its own (through the API in
tests/test_api.py)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from tradesentry import arguments
from tradesentry.errors import InputError


@pytest.mark.parametrize(
    ("normalise", "raw", "kept"),
    [
        (arguments.country_code, "chn", "CHN"),
        (arguments.country_code, " North Korea ", "PRK"),
        (arguments.country_code, "x899", "X899"),  # a Comtrade special area stays as it is
        (arguments.country_code, "uae", "ARE"),  # as the ingest stores the UAE's rows
        (arguments.country_code, "U.A.E.", "ARE"),
        (arguments.commodity_code, "total", "TOTAL"),
        (arguments.commodity_code, "ALL", "TOTAL"),
        (arguments.commodity_code, "ab12", "AB12"),
        (arguments.flow_name, "EXPORT", "export"),
        (arguments.flow_name, " re-import", "re-import"),
        (arguments.month, "2021-3", "2021-03"),
        (arguments.month, date(2021, 2, 14), "2021-02"),  # a date is its month
        (arguments.month, pd.Timestamp("2021-02-14 10:00"), "2021-02"),
        (arguments.month, pd.Period("2021-02", "M"), "2021-02"),
        (arguments.month, pd.Period("2021", "Y"), "2021-01"),  # a year from its first month
        (arguments.month, pd.Period("2021Q2"), "2021-04"),
    ],
)
def test_values_are_kept_as_the_store_keeps_them(normalise, raw, kept):
    assert normalise(raw, "--since") == kept if normalise is arguments.month else normalise(raw)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: arguments.flow_name("sideways"),
            "unknown flow 'sideways'; choose from import, export",
        ),
        (lambda: arguments.kinds("spikes"), "unknown kind 'spikes'; choose from"),
        (lambda: arguments.kinds([]), "kinds: an empty list selects nothing"),
        (lambda: arguments.severities("critical"), "unknown severity 'critical'"),
        (lambda: arguments.series_filters(reporter=[1]), "reporter: expected a string"),
        (lambda: arguments.month("2021/03", "--since"), "--since '2021/03': expected a month"),
        (lambda: arguments.check_engine("dask", {}, []), "unknown engine 'dask'"),
        # a value of another type is an InputError too, not a TypeError from deep inside
        (lambda: arguments.month(202102, "--since"), "--since 202102: expected a month"),
        (lambda: arguments.series_filters(reporter=["CHN", None]), "reporter: expected a"),
        (lambda: arguments.series_filters(reporter=b"CHN"), "not b'CHN'"),
        (lambda: arguments.commodity_code(0), "commodity: expected a string, not 0"),
        (lambda: arguments.whole_number("5", "chunk_series"), "chunk_series '5': expected"),
        (lambda: arguments.whole_number(0, "chunk_series"), "chunk_series 0: expected"),
        (lambda: arguments.month(pd.NaT, "--since"), "--since NaT: expected a month"),
    ],
)
def test_a_value_outside_its_choices_is_one_clear_error(call, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        call()


@pytest.mark.parametrize(
    ("raw", "one"),
    [
        ("Korea, Rep.", True),  # trade tables' names hold commas
        ("China, Hong Kong SAR", True),
        ("Tchèque, République", True),
        ("USA,HKG", False),  # codes never do
        ("usa, x899, 842", False),
        ("Germany, France", False),  # two names, neither with a comma of its own
        ("USA,", False),
    ],
)
def test_a_country_named_with_a_comma_is_one_country(raw, one):
    """The command line splits its filters at commas, except a name that holds one."""
    assert arguments.one_country(raw) is one


@pytest.mark.parametrize(
    ("call", "asked"),
    [
        (lambda: arguments.country_code("Korea", "partner"), "partner country 'Korea'"),
        (lambda: arguments.series_filters(partner=" korea "), "partner country ' korea '"),
        (lambda: arguments.series_filters(reporter=["CHN", "KOREA"]), "reporter country 'KOREA'"),
    ],
    ids=["code", "filter", "in-a-list"],
)
def test_a_name_of_two_countries_is_ambiguous_as_on_ingest(call, asked):
    """`scan --partner Korea` said "no series … matches partner KOREA", where the ingest
    quarantines the same name as ambiguous between PRK and KOR (QA)."""
    with pytest.raises(InputError) as error:
        call()
    assert str(error.value) == (
        f"ambiguous {asked}: North Korea (PRK) or South Korea (KOR)? Give its code."
    )


def test_one_kind_is_a_list_of_one_and_repeats_are_kept_once():
    assert arguments.kinds("Spike") == ["spike"]
    assert arguments.kinds(["dip", "spike", "dip"]) == ["dip", "spike"]
    assert arguments.kinds(None) is None


def test_an_engine_keyword_is_checked_against_the_engine_that_takes_it():
    arguments.check_engine("spark", {"master": "local[2]"}, ["kinds"])
    with pytest.raises(InputError, match="master= is an option of engine='spark', not 'local'"):
        arguments.check_engine("local", {"master": "local[2]"}, ["kinds"])
    with pytest.raises(InputError, match=r"unknown keyword kind= \(did you mean kinds=\?\)"):
        arguments.check_engine("local", {"kind": "spike"}, ["kinds"])


def test_an_unknown_keyword_lists_what_the_caller_may_pass_once():
    """Spark's ``since`` is scan's own and its ``complete`` api's: the list named ``since``
    twice and an internal ``complete`` a caller cannot usefully pass."""
    with pytest.raises(InputError) as err:
        arguments.check_engine("spark", {"foo": 1}, ["since", "kinds"])
    message = str(err.value)
    assert message.startswith("scan: unknown keyword foo=; it takes since, kinds; with engine=")
    assert message.count("since") == 1 and "complete" not in message
    with pytest.raises(InputError, match=r"^findings: unknown keyword scan= \(did you mean sc"):
        arguments.check_keywords("findings", {"scan": 99}, ["scan_id", "kind"])


def test_a_numpy_whole_number_is_a_whole_number():
    assert arguments.whole_number(np.int64(5), "chunk_series") == 5


@pytest.mark.parametrize(
    ("raw", "countries"),
    [
        ("SWE,Korea, Rep.", ["SWE", "Korea, Rep."]),
        ("Sweden, Congo, Dem. Rep.", ["Sweden", "Congo, Dem. Rep."]),  # not Congo (COG)
        ("Korea, Rep.", ["Korea, Rep."]),
        ("USA,HKG", ["USA", "HKG"]),
        ("Germany, France", ["Germany", "France"]),
        ("China, Hong Kong SAR, USA", ["China, Hong Kong SAR", "USA"]),
    ],
)
def test_a_list_of_countries_keeps_a_name_with_a_comma_whole(raw, countries):
    """Cut at every comma, "Sweden, Congo, Dem. Rep." had read the Republic of the Congo
    (a review): a name holding a comma inside a list is one country too."""
    assert arguments.country_list(raw) == countries
