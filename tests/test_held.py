"""What the store holds, named in the error of a selection it does not."""

from __future__ import annotations

import re

import pytest

from tradesentry.errors import InputError
from tradesentry.held import LISTED, not_held


@pytest.fixture
def two_pairs(store, tmp_path):
    rows = ["reporter,partner,flow,classification,commodity,period,value,currency"]
    rows += [f"CHN,PRK,export,HS,TOTAL,2021-{m:02d},{1e6 + m},USD" for m in range(1, 7)]
    rows += [f"USA,MEX,import,HS,2710,2021-{m:02d},{2e6 + m},USD" for m in range(1, 7)]
    source = tmp_path / "two.csv"
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    store.ingest(source)
    return store


@pytest.mark.parametrize(
    ("filters", "said"),
    [
        ({"reporter": "CHNIA"}, "the store holds reporters CHN, USA; nearest to CHNIA: CHN"),
        ({"reporter": ["CHN", "FRA"]}, "the store holds reporters CHN, USA"),
        ({"partner": "MEXX"}, "the store holds partners MEX, PRK; nearest to MEXX: MEX"),
        ({"commodity": "27"}, "the store holds commodity codes 2710, TOTAL; nearest to 27: 2710"),
        ({"reporter": "CHN", "commodity": "2710"}, "each is in the store, but no series has them"),
        # a country held on the other side: WLD typed as the reporter was "nearest: NLD"
        ({"reporter": "MEX"}, "the store holds reporters CHN, USA; MEX is a partner of its series"),
        ({"partner": "USA"}, "the store holds partners MEX, PRK; USA is a reporter of its"),
        # a code as a printed tariff writes it
        (
            {"commodity": "27 10"},
            "the store holds commodity codes 2710, TOTAL; nearest to 27 10: 2710",
        ),
        (
            {"commodity": "27.10"},
            "the store holds commodity codes 2710, TOTAL; nearest to 27.10: 2710",
        ),
    ],
)
def test_what_a_selection_misses_is_named_with_what_the_store_holds(two_pairs, filters, said):
    assert not_held(two_pairs.con.cursor(), filters).startswith(said)


def test_a_long_list_of_codes_is_counted_not_listed(store, tmp_path):
    codes = [f"{8500 + i}" for i in range(LISTED + 5)]
    rows = ["reporter,partner,flow,classification,commodity,period,value,currency"]
    rows += [f"CHN,PRK,export,HS,{c},2021-01,1000,USD" for c in codes]
    source = tmp_path / "many.csv"
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    store.ingest(source)
    said = not_held(store.con.cursor(), {"commodity": "85000"})
    assert said.startswith(f"the store holds {LISTED + 5} commodity codes; nearest to 85000: ")


def test_the_scan_error_says_what_the_store_holds(two_pairs):
    with pytest.raises(InputError, match="matches reporter CHNIA: the store holds reporters"):
        two_pairs.scan(reporter="CHNIA")


def test_one_code_held_is_named_in_the_singular(demo_store):
    said = not_held(demo_store.con.cursor(), {"reporter": "CHNIA"})
    assert said == "the store holds only reporter CHN; nearest to CHNIA: CHN"


@pytest.mark.parametrize(
    ("filters", "said"),
    [
        ({"reporter": ["CHN", "CHNIA"]}, "has reporter CHNIA (of reporter CHN, CHNIA): the store"),
        ({"partner": ["PRK", "MEXX"]}, "has partner MEXX (of partner PRK, MEXX): the store holds"),
    ],
)
def test_one_code_of_several_that_selects_nothing_is_named(two_pairs, filters, said):
    # A scan of the others would read as one that found nothing for the mistyped code.
    with pytest.raises(InputError, match=rf"no series in the store {re.escape(said)}"):
        two_pairs.scan(**filters)


def test_several_codes_each_held_scan_without_complaint(two_pairs):
    assert two_pairs.scan(reporter=["CHN", "USA"], save=False) is not None
