"""Numbers and periods as people read them: one formatter each, for every explanation and page."""

from __future__ import annotations

import pytest

from tradesentry.text import (
    factor,
    money,
    money_pair,
    period_label,
    period_name,
    period_span,
    ratio,
    times,
)


@pytest.mark.parametrize(
    ("value", "currency", "text"),
    [
        (0.0, "USD", "$0"),  # only an exact zero reads $0
        (0.2, "USD", "$0.20"),  # cents below one unit, never "$0"
        (0.999, "USD", "$1"),
        (0.006, "USD", "$0.01"),
        (1e-9, "USD", "under $0.01"),  # too small for a cent, still not nothing
        (-1e-9, "USD", "above -$0.01"),
        (-0.2, "USD", "-$0.20"),
        (3.0, "USD", "$3"),
        (250.4, "USD", "$250"),
        (3000.0, "USD", "$3.0K"),
        (12.9e6, "USD", "$12.9M"),
        (0.25, "KRW", "0.25 KRW"),
        (1e-9, "EUR", "under €0.01"),
        (None, "USD", "n/a"),
        (float("nan"), "USD", "n/a"),
    ],
)
def test_money(value, currency, text):
    assert money(value, currency) == text


def test_money_pair_tells_cents_apart():
    assert money_pair(0.0001, 0.0002) == ("$0.0001", "$0.0002")
    assert money_pair(0.2, 3.0) == ("$0.20", "$3")


@pytest.mark.parametrize(
    ("value", "as_ratio", "as_factor", "as_times"),
    [
        (5e-6, "1/200,000", "×1/200,000", "1/200,000 of"),  # not 5e-06
        (3.3e-6, "1/300,000", "×1/300,000", "1/300,000 of"),  # two figures: 303,030 is not known
        (1e-3, "1/1,000", "×1/1,000", "1/1,000 of"),
        (0.35, "0.35", "×0.35", "1/2.9 of"),
        (0.025, "0.025", "×0.025", "1/40 of"),
        (2.34, "2.3", "×2.3", "2.3 times"),
        (83.0, "83", "×83", "83 times"),
        (4200.0, "4,200", "×4,200", "4,200 times"),
        (2e5, "200,000", "×200,000", "200,000 times"),  # not "200.0 thousand"
        (3.4e6, "3.4 million", "×3.4 million", "3.4 million times"),
        (1.23e8, "123 million", "×123 million", "123 million times"),
        (0.0, "0", "×0", "0 times"),
        (None, "n/a", "×n/a", "n/a times"),
    ],
)
def test_one_ratio_formatter(value, as_ratio, as_factor, as_times):
    assert (ratio(value), factor(value), times(value)) == (as_ratio, as_factor, as_times)


@pytest.mark.parametrize(
    ("label", "freq", "name", "short"),
    [
        ("2021-02", "M", "February 2021", "2021-02"),
        ("2021-02", None, "February 2021", "2021-02"),
        ("2016-01", "A", "2016", "2016"),  # an annual series' year, kept at its first month
        ("2016", "A", "2016", "2016"),
        (None, "A", "?", ""),
    ],
)
def test_periods(label, freq, name, short):
    assert period_name(label, freq) == name
    assert period_label(label, freq) == short


def test_period_spans():
    assert period_span("2021-02", "2021-02") == "2021-02"
    assert period_span("2021-02", "2021-03") == "2021-02 → 2021-03"
    assert period_span("2016-01", "2016-01", "A") == "2016"
    assert period_span("2015-01", "2017-01", "A", " to ") == "2015 to 2017"
