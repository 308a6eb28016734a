"""incoherent: combined months against their months, details against totals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradesentry.datasets import make_panel, synthetic_keys, synthetic_values
from tradesentry.detectors import default_detectors
from tradesentry.detectors.incoherent import Incoherent, _rounding_unit

from ._helpers import findings, keyed_panel


def _keys(rows: list[tuple[str, str]]) -> pd.DataFrame:
    keys = synthetic_keys(len(rows), reporter="DEU")
    keys["partner"] = [p for p, _ in rows]
    keys["commodity"] = [c for _, c in rows]
    return keys


def test_combined_months_against_their_sum():
    v = synthetic_values(3, 24, seed=1)
    panel = make_panel(v)
    panel.combined[:, 12] = v[:, 12] + v[:, 13]
    panel.combined_span[:, 12] = 2
    panel.combined[1, 12] *= 1.10  # 10 % more than its months
    panel.combined[2, 12] *= 1.01  # within the 2 % tolerance
    out = Incoherent().detect(panel)
    assert list(out["series"]) == [1]
    assert (out["start"] == 12).all() and (out["end"] == 13).all()
    f = findings(panel, [Incoherent()]).iloc[0]
    assert "combined figure" in f["explanation"] and "January 2020" in f["explanation"]


def test_rounded_press_figures_are_coherent():
    panel = make_panel(np.array([[29000.0, 3000.0, 12_978_000.0]]), start="2021-01")
    panel.combined[0, 0], panel.combined_span[0, 0] = 33000.0, 2
    assert len(Incoherent().detect(panel)) == 0


def test_chapters_against_total():
    rng = np.random.default_rng(0)
    ch = rng.lognormal(12, 0.3, (3, 24))
    total = ch.sum(axis=0, keepdims=True)
    ch[1, 5] *= 3  # details exceed the total in 2020-06
    ch[2, 9] = np.nan  # a chapter missing in 2020-10, the set is complete elsewhere
    v = np.vstack([total, ch])
    keys = _keys([("FRA", "TOTAL"), ("FRA", "01"), ("FRA", "02"), ("FRA", "03")])
    panel = make_panel(v, keys=keys)
    out = Incoherent().detect(panel)
    assert sorted(out["start"]) == [5, 9]
    assert (out["series"] == 0).all()
    texts = findings(panel, [Incoherent()])["explanation"]
    assert texts.str.contains("HS chapters").all()


def test_partial_partner_set_is_not_an_error():
    rng = np.random.default_rng(1)
    partners = rng.lognormal(12, 0.3, (2, 24))
    world = partners.sum(axis=0, keepdims=True) * 3  # the listed partners are a third
    world[0, 7] = partners[:, 7].sum() * 0.5  # but here they exceed the world
    keys = _keys([("WLD", "TOTAL"), ("FRA", "TOTAL"), ("ITA", "TOTAL")])
    out = Incoherent().detect(make_panel(np.vstack([world, partners]), keys=keys))
    assert list(out["start"]) == [7]


def test_a_total_and_its_details_that_round_alike_print_with_more_digits():
    rng = np.random.default_rng(2)
    partners = rng.lognormal(0, 0.2, (3, 24))
    partners *= 1.22e6 / partners[:, 9].sum()  # the details sum to €1.22M in 2020-10
    world = partners.sum(axis=0, keepdims=True)
    world[0, 9] = 1.25e6  # the total is €1.25M: 2.4 % more, both "€1.2M" at one decimal
    keys = _keys([("WLD", "TOTAL"), ("FRA", "TOTAL"), ("ITA", "TOTAL"), ("ESP", "TOTAL")])
    keys["currency"] = "EUR"
    panel = make_panel(np.vstack([world, partners]), keys=keys)
    text = findings(panel, [Incoherent()]).iloc[0]["explanation"]
    assert "the total is €1.25M but" in text and "sum to €1.22M, 2.4% less" in text


def test_one_detail_against_its_total_is_named_in_the_singular():
    rng = np.random.default_rng(3)
    partner = rng.lognormal(12, 0.2, (1, 24))
    world = partner * 1.0
    world[0, 9] = partner[0, 9] * 4  # the total is four times its one detail
    keys = _keys([("WLD", "TOTAL"), ("FRA", "TOTAL")])
    text = findings(make_panel(np.vstack([world, partner]), keys=keys), [Incoherent()])
    assert len(text)
    explanation = text.iloc[0]["explanation"]
    assert "the one figure for the individual partners is" in explanation
    assert "1 figures" not in explanation


@pytest.mark.parametrize(
    ("total", "parts", "flagged"),
    [
        (300.0, (400.0, 500.0), True),  # small figures: parts above the total
        (1e-5, (1000.0, 0.0), True),  # a total of next to nothing
        (3000.0, (2000.0, 1000.0), False),
        (33_000.0, (29_000.0, 3_000.0), False),  # published in thousands: rounding
    ],
)
def test_the_rounding_allowance_comes_from_the_figures_not_past_them(total, parts, flagged):
    """A figure below a power of ten is no multiple of it: $300 is not a number of
    billions, so small parts above their total are not forgiven as rounding."""
    unit = _rounding_unit(np.array([total]), np.array([list(parts)]))[0]
    assert unit <= max(total, *parts)
    v = np.array([[total] * 8, [parts[0]] * 8, [parts[1]] * 8])
    panel = keyed_panel(v, commodity="TOTAL")
    panel.keys["commodity"] = ["TOTAL", "01", "02"]
    panel.keys["partner"] = "USA"
    out = default_detectors(["incoherent"])[0].detect(panel)
    assert (len(out) > 0) == flagged


@pytest.mark.parametrize(
    ("short", "says"),
    [
        ((9,), ["match the total (within 2%) in 23.", "A figure missing among the details"]),
        (
            (3, 9, 15),
            [
                "match the total (within 2%) in 21 and fall short of it in 2.",
                "The details fall short in 3 of the 24 months: more likely some of the total's "
                "partners are not in the store",
            ],
        ),
    ],
)
def test_the_other_months_are_counted_not_said_to_match(short, says):
    """The partners sum to half the total in the ``short`` months and match it (one within
    the tolerance) in the others: the text counts both from the evidence, never "while in
    other months they match", and a shortfall that recurs reads as partners missing from
    the store (a Comext file holds the EU partners and China only)."""
    rng = np.random.default_rng(4)
    partners = rng.lognormal(12, 0.3, (3, 24))
    world = partners.sum(axis=0, keepdims=True)
    world[0, list(short)] *= 2.0
    world[0, 20] *= 1.01  # within the 2 % tolerance: a match
    keys = _keys([("WLD", "TOTAL"), ("FRA", "TOTAL"), ("ITA", "TOTAL"), ("ESP", "TOTAL")])
    found = findings(make_panel(np.vstack([world, partners]), keys=keys), [Incoherent()])
    assert len(found) == len(short)
    for f in found.to_dict("records"):
        ev, text = f["evidence"], f["explanation"]
        assert (ev["other_months"], ev["other_matching"]) == (23, 24 - len(short))
        assert (ev["other_short"], ev["other_over"]) == (len(short) - 1, 0)
        assert "Of the other 23 months with a total and details, the details " in text
        assert "they match" not in text and "duplicated" not in text
        for said in says:
            assert said in text, text
