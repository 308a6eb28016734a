"""unit_value: value per kg against the usual price; slips told from price outliers.

Synthetic panels for each pattern, then real data: Comext CN 39206290 with slips injected
into the published file, and UN Comtrade's critical minerals (China's exports by partner),
whose 2017 quantities are Comtrade's estimates (one unit value for every partner).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.detectors._helpers import keyed_panel, scaled_comext_copy, unit_value_context
from tradesentry import api
from tradesentry.detectors.unit_value import UnitValue
from tradesentry.findings import severity_of
from tradesentry.panel import Panel
from tradesentry.text import money, times, weight

COMEXT = "raw/eurostat_comext_ds045409/CN_39206290.csv.gz"
MINERALS = "raw/comtrade_china_critical_minerals/deep_dive_hs6_monthly.csv"

RNG = np.random.default_rng(3)
T = 36
WEIGHT = 1e5 * np.exp(RNG.normal(0, 0.4, T))
PRICE = 3.0 * np.exp(RNG.normal(0, 0.08, T))
VALUE = WEIGHT * PRICE


def panel(values, weights, reference=None, same=None) -> Panel:
    values = np.atleast_2d(np.asarray(values, dtype=float))
    context = {} if reference is None else unit_value_context(values.shape, reference, same)
    return keyed_panel(
        values,
        weights=weights,
        context=context,
        reporter="DEU",
        classification="CN8",
        commodity="39206290",
        currency="EUR",
    )


def detect(values, weights, reference=PRICE, **kw) -> pd.DataFrame:
    return UnitValue().detect(panel(values, weights, reference, **kw))


def test_no_weights_no_findings():
    assert detect(VALUE, np.full(T, np.nan)).empty


def test_usual_prices_give_nothing():
    assert detect(VALUE, WEIGHT).empty
    assert detect(VALUE, WEIGHT, reference=None).empty  # own history only


def test_a_weight_recorded_a_thousand_times_too_large_is_a_weight_slip():
    weight = WEIGHT.copy()
    weight[12] *= 1000
    found = detect(VALUE, weight)
    assert list(found["start"]) == [12]
    row = found.iloc[0]
    assert row["evidence"]["pattern"] == "weight slip"
    assert row["evidence"]["slip_factor"] == pytest.approx(1000)
    assert row["expected"] == row["observed"] and row["impact"] == 0  # the value is right
    assert row["evidence"]["weight_at_usual_price"] == pytest.approx(WEIGHT[12], rel=0.3)


def test_a_slip_read_against_the_series_own_price_says_so_and_corrects_by_its_factor():
    """China's exports of gallium and germanium to Korea, January 2017: $27.8M for 17.6 t,
    1,581 USD/kg "against a usual 270 USD/kg" (the market's price that month at the
    series' premium), "off by about ×1/100: a weight slip (about 103 t at the usual
    price)". The ×100 was read against the series' own 14.8 USD/kg, at which the weight
    is 1,757 t: the factor and the figure came from two prices. The text names the price
    the factor was read against and gives the weight the factor corrects."""
    kg = WEIGHT.copy()
    kg[12] /= 100
    reference = PRICE.copy()
    reference[12] *= 20  # the market's price that month: the month is ×5 of it, ×100 of its own
    row = detect(VALUE, kg, reference=reference).iloc[0]
    evidence = row["evidence"]
    assert evidence["pattern"] == "weight slip"
    assert evidence["slip_against"] == "series"
    assert evidence["corrected_weight_kg"] == pytest.approx(WEIGHT[12], rel=1e-3)
    text = _explain(row)
    assert "off by about ×1/100 against the series' own usual €3/kg" in text
    assert f"a weight slip (about {weight(WEIGHT[12])} corrected)" in text


def test_a_value_slip_read_against_the_series_own_price_gives_no_market_worth():
    """Its corrected figure is the value over the slip; the weight at the market's usual
    price beside it was the two-prices mix the weight slip's words had."""
    evidence = {
        "pattern": "value slip", "slip_factor": 1e-3, "slip_against": "series",
        "series_unit_value": 3.0, "value_at_usual_price": 5.4e6, "unit_value": 0.003,
        "usual_unit_value": 60.0, "band": [10.0, 300.0], "net_weight_kg": 9e4,
        "value_vs_usual_month": 1e-3, "weight_vs_usual_month": 1.0,
    }  # fmt: skip
    row = pd.Series({"observed": 272.3, "expected": 272_300.0, "impact": -272_027.7,
                     "evidence": evidence})  # fmt: skip
    text = _explain(row)
    assert "off by about ×1/1,000 against the series' own usual €3/kg" in text
    assert "would be worth" not in text


def test_a_slip_read_against_the_market_names_no_other_price():
    kg = WEIGHT.copy()
    kg[12] *= 1000
    row = detect(VALUE, kg).iloc[0]
    assert row["evidence"]["slip_against"] == "market"
    text = _explain(row)
    assert "off by about ×1,000: a weight slip (about" in text
    assert "series' own usual" not in text


@pytest.mark.parametrize(
    ("moved", "words"),
    [
        (1.0, "the value is about as usual for this series but the weight is off"),
        (
            0.48,
            "the value is 1/2.1 of its usual month but the weight is off",
        ),
        (
            0.7,
            "the value is 70% of its usual month but the weight is off",
        ),
        (
            15.0,
            "the value is 15 times its usual month but the weight is off",
        ),
    ],
)
def test_a_slip_says_how_far_the_other_figure_moved(moved, words):
    """The other figure of a slip is within the series' swings (robust z ≤ 3), which for a
    swinging series is 0.48 of a usual month, or 15 times it: "normal", but not "as
    usual", and never "within the usual swings" beside 15 times a usual month: it moved
    less than the slipped one."""
    weight = WEIGHT.copy()
    weight[12] *= 1000
    row = detect(VALUE, weight).iloc[0]
    evidence = {**row["evidence"], "value_vs_usual_month": moved}
    text = _explain(pd.Series({**row.to_dict(), "evidence": evidence}))
    assert words in text
    assert "swings" not in text


def test_a_value_in_thousands_is_a_value_slip():
    value = VALUE.copy()
    value[20] /= 1000
    row = detect(value, WEIGHT).iloc[0]
    assert row["evidence"]["pattern"] == "value slip"
    assert row["evidence"]["slip_factor"] == pytest.approx(1e-3)
    assert row["expected"] == pytest.approx(VALUE[20])  # the corrected figure
    assert row["impact"] == pytest.approx(VALUE[20] - value[20])
    # the corrected figure is not the weight at the usual price, and is not called so
    text = _explain(row)
    assert "off by about ×1/1,000: a value slip (corrected, about €" in text
    assert "; at the usual price this weight would be worth about €" in text


def test_a_price_far_from_the_market_is_a_price_outlier():
    value = VALUE.copy()
    value[7] *= 6  # weight normal, value six times the usual price: no power of ten
    row = detect(value, WEIGHT).iloc[0]
    assert row["evidence"]["pattern"] == "price outlier"
    assert row["expected"] == pytest.approx(WEIGHT[7] * 3.0, rel=0.15)  # the value at usual price
    assert row["impact"] == pytest.approx(value[7] - row["expected"])
    lo, hi = row["evidence"]["band"]
    assert not lo <= row["evidence"]["unit_value"] <= hi


@pytest.mark.parametrize(
    ("their_value", "their_weight", "kept"),
    [
        (1.02, 0.98, False),  # the partner declared the same: no slip in one record
        (0.85, 1.1, False),  # a CIF/FOB margin and rounding apart
        (1.0, 1.0, True),  # the very same figures: one record copied, no second declaration
        (1.0, 1e-3, True),  # the partner's weight is not the one off: the slip stands
        (None, None, True),  # no partner's record of the month
    ],
)
def test_a_slip_the_partners_record_repeats_is_no_slip(their_value, their_weight, kept):
    """Finland's exports of CN 39206900 to Belgium, May 2025, €2,373 for 566 kg, and
    Belgium's record of them, €2,848 for 644 kg, were each "a weight slip ×100" (high),
    against a series' usual price of €490/kg that was the odd one. A slip in one record is
    not made again, the same, in the other's: where the partner's value and weight of the
    month are each within ×1.5 of the series' own, there is no slip. Unless they are the
    very same figures: Estonia's imports equal the partner's exports to the euro in a
    third of its months, one record copied into the other, which confirms nothing."""
    weight = WEIGHT.copy()
    weight[12] *= 1000
    p = panel(VALUE, weight, PRICE)
    # a partner whose record runs at the series' size (3 % apart, as a margin makes it)
    mirror, mirror_kg = (VALUE * 1.03)[None, :], (WEIGHT * 0.97)[None, :]
    if their_value is None:
        mirror[0, 12] = mirror_kg[0, 12] = np.nan
    else:
        mirror[0, 12], mirror_kg[0, 12] = VALUE[12] * their_value, weight[12] * their_weight
    p.context.update(mirror_value=mirror, mirror_weight_kg=mirror_kg)
    found = UnitValue().detect(p)
    assert list(found["start"]) == ([12] if kept else [])
    if kept:
        assert "partner_value" not in found.iloc[0]["evidence"]


def test_an_outlier_the_partners_record_repeats_is_low_and_says_so():
    """Germany's exports of CN 39206900 to Poland, October 2025: €2.04M for 145 t, five
    times the series' usual price, was a high "price outlier (misinvoicing, another
    product, or unrecorded quantities)" with €1.6M at stake, though Poland declared €1.58M
    for 160 t. Two records that agree rule out a record's error: the finding is low, and
    says so with the partner's figures."""
    value = VALUE.copy()
    value[7] *= 6
    p = panel(value, WEIGHT, PRICE)
    p.context.update(mirror_value=(value * 1.05)[None, :], mirror_weight_kg=(WEIGHT * 0.9)[None, :])
    (row,) = UnitValue().detect(p).to_dict("records")
    assert row["evidence"]["pattern"] == "price outlier"
    assert row["evidence"]["partner_value"] == pytest.approx(value[7] * 1.05, rel=1e-3)
    assert severity_of(np.array([row["score"]]))[0] == "low"
    text = UnitValue().explain({**row, "period": "2024-08", "currency": "EUR", "partner": "EST"})
    assert "EST's record of the same flow that month agrees: €" in text, text
    assert "within ×1.5 of both figures. Two records of the shipment say the same" in text
    assert "misinvoicing" not in text


@pytest.mark.parametrize(
    ("their_value", "their_weight", "scale", "pattern", "figure"),
    [
        (20.0, 20.0, 1.0, "weight outlier", "weight"),  # the same value at the usual price
        (0.2, 0.2, 1.0, "price outlier", "value"),  # the same weight at the usual price
        (20.0, 0.2, 1.0, "price outlier", None),  # the partner's price is as odd
        (2.0, 20.0, 1.0, "price outlier", None),  # neither figure agrees with the partner's
        # a record that runs at a hundredth of the series' (ROU's of NLD's exports of CN
        # 39209959) measures neither figure, nor one usually 2.2 times it (BEL's of FRA's
        # imports of CN 39199020): a month agrees with a pair's usual relation, not its own
        (20.0, 20.0, 0.01, "price outlier", None),
        (12.73, 12.73, 2.2, "price outlier", None),  # its value 1.4 times the series'
    ],
)
def test_the_partners_record_at_a_usual_price_points_to_the_figure_off(
    their_value, their_weight, scale, pattern, figure
):
    """Italy's exports of CN 48114900 to Poland, December 2024: €611.0K for 9.01 t, while
    Poland recorded €634.9K for 72.9 t at a usual price: Italy's weight was the figure off.
    Where the partner's record of the month, in a pair whose records run at one size,
    holds a usual price for the series and agrees with one of its value and weight, the
    other is the figure off. A record at another size (Romania's of the Netherlands'
    exports of CN 39209959, a hundredth of them) measures neither."""
    value, weight = VALUE.copy(), WEIGHT.copy()
    value[7] *= 20
    weight[7] *= 0.2  # 100 times the usual price: the value moved further
    p = panel(value, weight, PRICE)
    month = np.arange(T) == 7
    p.context.update(
        mirror_value=(np.where(month, VALUE * their_value, VALUE) * scale)[None, :],
        mirror_weight_kg=(np.where(month, WEIGHT * their_weight, WEIGHT) * scale)[None, :],
    )
    (row,) = UnitValue().detect(p).to_dict("records")
    ev = row["evidence"]
    assert ev["pattern"] == pattern
    assert ev.get("partner_reading") == figure
    if figure == "weight":
        assert row["impact"] == 0  # the value is right
    if figure == "value":  # the weight is right: the value is off, not the month's size
        assert row["expected"] == pytest.approx(ev["value_at_usual_price"], rel=1e-3)
        assert row["impact"] == pytest.approx(value[7] - row["expected"])
    text = UnitValue().explain(
        {**row, "period": "2024-08", "currency": "EUR", "partner": "EST", "reporter": "FIN"}
    )
    if figure:
        assert f"FIN's {figure}, " in text and "is the figure off" in text, text
        assert "EST's record of the same flow that month holds €" in text
    if figure == "value":
        assert f"a gap of {money(row['impact'], 'EUR')} (misinvoicing" in text, text


@pytest.mark.parametrize(("kilos", "flagged"), [(1.0, False), (1.3, True), (40.0, True)])
def test_a_weight_of_a_kilogram_or_two_is_no_price_outlier_by_its_rounding(kilos, flagged):
    """Comext gives weights in hundreds of kilograms to two decimals: whole kilograms. A
    month of 1 kg stands for anything from 0.5 to 1.5 kg, its unit value ±50 % (435 of
    3,352 unit-value findings on the Comext store had exactly 1 kg). In a series whose
    weights are whole kilograms the rounding's error (1/√12 kg) is added to its spread: 1
    kg at five times the usual price is then within its reach, 1.3 kg (weights not whole)
    and 40 kg are not."""
    rng = np.random.default_rng(8)
    weight = np.round(20.0 * rng.lognormal(0.0, 0.3, T))
    value = weight * 1000.0 * rng.lognormal(0.0, 0.05, T)
    weight[9] = kilos
    value[9] = kilos * 5000.0  # five times the usual price
    found = detect(value, weight, reference=None)
    assert (9 in set(found["start"])) == flagged


@pytest.mark.parametrize("commodity", ["TOTAL", "26"])
def test_a_total_or_a_chapter_has_slips_but_no_outliers(commodity):
    """Guinea's TOTAL exports to Germany: 114 t in a month its bauxite was not shipped were
    read as "weight under-recorded (about 9,395 t)". A total's or a chapter's value per kg
    moves with its mix of goods: an outlier there is a change of the mix, a power of ten
    off is still a slip."""
    value = VALUE.copy()
    value[7] *= 6  # a price outlier in a product
    value[20] *= 1000  # a value slip anywhere
    aggregate = keyed_panel(
        value,
        weights=WEIGHT,
        context=unit_value_context((1, T), PRICE, None),
        reporter="DEU",
        classification="CN8",
        commodity=commodity,
        currency="EUR",
    )
    found = UnitValue().detect(aggregate)
    assert [ev["pattern"] for ev in found["evidence"]] == ["value slip"]
    assert [ev["pattern"] for ev in detect(value, WEIGHT)["evidence"]] == [
        "price outlier",
        "value slip",
    ]


def test_a_price_outlier_is_high_only_with_money_at_stake():
    """The same price six times the market's, in a series of some €300K a month, or of €3
    (BEL→LVA 48114900, December 2024: €13 for 13 kg, €120 at stake, had been high): the
    distance alone scores the first, the money caps the second."""
    value = VALUE.copy()
    value[7] *= 6
    uncapped = UnitValue(material_money=1e-12)
    for scale in (1.0, 1e-5):
        p = panel(value * scale, WEIGHT * scale, PRICE)
        row, far = UnitValue().detect(p).iloc[0], uncapped.detect(p).iloc[0]
        assert row["evidence"]["pattern"] == "price outlier"
        if scale == 1.0:
            assert row["score"] == far["score"] and severity_of(far[["score"]])[0] != "low"
        else:
            assert row["score"] == pytest.approx(abs(row["impact"]) / UnitValue.material_money)
            assert severity_of(row[["score"]].astype(float))[0] == "low"


@pytest.mark.parametrize(("per_usd", "severity"), [(None, "medium"), (9000.0, "low")])
def test_the_money_cap_is_in_dollars_where_the_store_has_the_rate(per_usd, severity):
    """A series in Guinean francs: 125,000 francs at stake weigh as much as €125,000
    without a rate; at 9,000 francs a dollar they are about $14, and the score is capped."""
    value = VALUE.copy()
    value[7] *= 6
    p = panel(value * 0.1, WEIGHT * 0.1, PRICE)
    if per_usd is not None:
        p.context["own_per_usd"] = np.full(p.values.shape, per_usd)
    row = UnitValue().detect(p).iloc[0]
    assert row["evidence"]["pattern"] == "price outlier"
    assert severity_of(row[["score"]].astype(float))[0] == severity
    if per_usd is not None:
        assert row["score"] == pytest.approx(
            abs(row["impact"]) / per_usd / UnitValue.material_money
        )


def test_a_weight_alone_off_is_a_weight_outlier_without_money_at_stake():
    weight = WEIGHT.copy()
    weight[30] *= 8
    row = detect(VALUE, weight).iloc[0]
    assert row["evidence"]["pattern"] == "weight outlier" and row["impact"] == 0


@pytest.mark.parametrize("step", [8.0, 1000.0], ids=["outlier", "slip"])
def test_a_weight_off_is_at_most_low(step):
    """A weight off with its value right puts no money at stake: 557 of the Comext scan's
    high findings were weights off at €0 at stake, ranked above the money that was, and
    capped at medium they still ranked above a $1.0B level shift (low). However sure the
    weight's error, at most low; a price off as far stays high."""
    weight = WEIGHT.copy()
    weight[30] *= step
    row = detect(VALUE, weight).iloc[0]
    assert row["evidence"]["pattern"] in ("weight outlier", "weight slip")
    assert severity_of(row[["score"]].astype(float))[0] == "low"
    value = VALUE.copy()
    value[30] /= step
    price = detect(value, WEIGHT).iloc[0]
    assert price["evidence"]["pattern"] in ("price outlier", "value slip")
    assert severity_of(price[["score"]].astype(float))[0] == "high"


def test_a_weight_that_moved_far_more_than_the_value_is_a_weight_outlier():
    """Value ×30, weight ×10,000 (a Comext case: €15.3K for 142.9 t in a series of a few kg):
    valuing that weight at the usual price would put €8M of fiction at stake."""
    value, weight = VALUE.copy(), WEIGHT.copy()
    value[30] *= 30
    weight[30] *= 10_000
    row = detect(value, weight).iloc[0]
    assert row["evidence"]["pattern"] == "weight outlier" and row["impact"] == 0
    assert row["evidence"]["weight_vs_usual_month"] > 300 * row["evidence"]["value_vs_usual_month"]
    value_moved = row["evidence"]["value_vs_usual_month"]
    text = _explain(row)
    assert f"the value {value_moved:.2g} times it: the weight is further out of line" in text
    assert "the weight, not the value" not in text  # the value moved too: ×30


# A series whose weights (and values) swing widely from month to month at a steady price:
# a weight 22 times its usual month is within 3 of its own robust σ.
WIDE = 1e5 * np.exp(np.random.default_rng(5).normal(0, 1.5, T))


@pytest.mark.parametrize(
    ("value_moved", "weight_moved", "pattern"),
    [
        (0.52, 21.6, "weight outlier"),  # the Comext case: €7.7K for 113.6 t
        (2.0, 0.04, "weight outlier"),
        (0.05, 1.9, "price outlier"),
        (12.0, 0.6, "price outlier"),
        # China's HS 811292 to Taiwan, September 2024: both moves printed "2.6", a weight
        # outlier with nothing at stake beside a price outlier at the same price; as far
        (1 / 2.58, 2.74, "price outlier"),  # measured: 1/2.58 and 2.63 of the usual month
        (1 / 2.0, 2.63, "weight outlier"),  # ×1.3 further: clearly the weight's
    ],
)
def test_which_of_value_and_weight_moved_more_decides_the_outlier(
    value_moved, weight_moved, pattern
):
    value, weight = WIDE * PRICE, WIDE.copy()
    value[30] = np.median(value) * value_moved
    weight[30] = np.median(weight) * weight_moved
    row = detect(value, weight).iloc[0]
    ev = row["evidence"]
    assert row["start"] == 30 and ev["pattern"] == pattern
    assert ev["value_vs_usual_month"] == pytest.approx(value_moved, rel=0.1)
    if pattern == "weight outlier":
        assert row["impact"] == 0
        text = _explain(row)
        value_words = times(ev["value_vs_usual_month"])
        assert f"and the value {value_words} it: the weight is further out of line" in text
        assert "about as usual" not in text and "the weight, not the value" not in text


def test_a_weight_outlier_with_the_value_as_usual_says_so():
    value, weight = VALUE.copy(), WEIGHT.copy()
    value[30], weight[30] = np.median(VALUE), np.median(WEIGHT) * 8
    text = _explain(detect(value, weight).iloc[0])
    assert "the value about as usual: the weight, not the value, is out of line" in text


def _explain(row: pd.Series, period: str = "2025-07") -> str:
    fields = row[["observed", "expected", "impact", "evidence"]]
    return UnitValue().explain({"period": period, "currency": "EUR", **fields})


def test_a_weight_outlier_reads_in_the_direction_of_its_unit_value():
    heavy, light = WEIGHT.copy(), WEIGHT.copy()
    heavy[30] *= 8  # eight times the weight for a normal value: value per kg far below usual
    light[30] /= 8  # an eighth of it: value per kg far above usual
    low = detect(VALUE, heavy).iloc[0]
    high = detect(VALUE, light).iloc[0]
    assert low["evidence"]["pattern"] == high["evidence"]["pattern"] == "weight outlier"
    low_text, high_text = _explain(low), _explain(high)
    moved = low["evidence"]["weight_vs_usual_month"]
    assert f"the weight is {moved:.2g} times the series' usual month" in low_text
    assert "It is probably over-recorded" in low_text and "under-invoicing" in low_text
    assert "really was shipped" in low_text
    assert "It is probably under-recorded" in high_text and "over-invoicing" in high_text
    assert "under-invoicing" not in high_text and "that much more" not in high_text
    assert f"unless only {weight(light[30])} was shipped at the declared €" in high_text


def test_a_market_wide_price_move_is_not_an_outlier():
    price = PRICE.copy()
    price[18:] *= 10  # the commodity's price jumps for every partner
    assert detect(WEIGHT * price, WEIGHT, reference=price).empty


@pytest.mark.parametrize(
    ("months", "factor"),
    [
        (slice(18, 19), 300.0),  # the Guinea case: other partners' quantities in another unit
        (slice(18, 19), 1 / 300),
        (slice(18, 24), 40.0),  # six months of it: the series' premium holds
    ],
)
def test_a_reference_that_moved_while_the_series_did_not_flags_nothing(months, factor):
    reference = PRICE.copy()
    reference[months] *= factor
    assert detect(VALUE, WEIGHT, reference=reference).empty


@pytest.mark.parametrize(
    ("value_factor", "found"),
    [
        (6.0, False),  # above its own usual price, while the moved reference puts it below
        (1 / 1000, True),  # below both: a value in thousands is still found
    ],
)
def test_a_cell_is_flagged_only_off_both_the_market_and_its_own_habit_on_one_side(
    value_factor, found
):
    reference = PRICE.copy()
    reference[18] *= 300
    value = VALUE.copy()
    value[18] *= value_factor
    result = detect(value, WEIGHT, reference=reference)
    assert list(result["start"]) == ([18] if found else [])


def _steady(months: int, seed: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Value, weight and price of a steady series of ``months``."""
    rng = np.random.default_rng(seed)
    weight = 1e5 * np.exp(rng.normal(0, 0.4, months))
    price = 3.0 * np.exp(rng.normal(0, 0.08, months))
    return weight * price, weight, price


@pytest.mark.parametrize("market", [True, False], ids=["market", "own history only"])
@pytest.mark.parametrize(
    ("months", "other", "found"),
    [
        # two habits: 5 of 11 months at another grade (×8 the weight for the value)
        (11, [1, 3, 4, 7, 9], []),
        (36, list(range(0, 36, 3)), []),  # 12 of 36
        (20, [2, 9, 15], []),  # 3 of 20: each has 2 others, over a tenth of 19
        (36, [12], [12]),  # a lone month at another price in a steady series
        (11, [6], [6]),
        (40, [5, 30], [5, 30]),  # two of 40: each has 1 other, below 2 and a tenth
        (40, [5, 17, 30], [5, 17, 30]),  # three of 40: 2 others, below a tenth of 39
    ],
)
def test_a_unit_value_the_series_reports_in_a_tenth_of_its_months_is_its_habit(
    months, other, found, market
):
    """Months whose weight is ×8 are off the series' median unit value; where at least
    a tenth of its other months, and 2 of them, are off with them (within the own test's
    band) the series reports that unit value and none is flagged; fewer are outliers."""
    value, weight, price = _steady(months)
    weight[other] *= 8
    result = detect(value, weight, reference=price if market else None)
    assert list(result["start"]) == found


@pytest.mark.parametrize("market", [True, False], ids=["market", "own history only"])
def test_a_unit_error_made_again_is_still_a_slip_and_says_it_recurs(market):
    """The Guinea case: sawn wood to Senegal with the weight ×1000 in 5 of 11 months. A
    power of ten off the usual unit value is a unit error however often it is made; each
    month is a weight slip and the text says how many others share its unit value."""
    value, weight, price = _steady(11)
    slipped = [1, 3, 4, 7, 9]
    weight[slipped] *= 1000
    result = detect(value, weight, reference=price if market else None)
    assert list(result["start"]) == slipped
    evidence = result.iloc[0]["evidence"]
    assert evidence["pattern"] == "weight slip"
    assert (evidence["months_at_this_unit_value"], evidence["tested_months"]) == (4, 11)
    text = UnitValue().explain(result.iloc[0].to_dict())
    said = "about this unit value in 4 other months of the 11 tested, about ×1,000 off its usual"
    if market:  # the price across partners says the usual months are right
        assert f"{said} one: the error recurs (the price across partners, " in text
        assert "agrees with the usual one)." in text
    else:
        assert f"{said} one: the error recurs, or the usual one, the majority's, is the one" in text


def test_an_outlier_that_a_few_other_months_share_says_so():
    """Three months of 40 at another grade: below a tenth, each is still an outlier, and
    the text counts the two others that share its unit value."""
    value, weight, price = _steady(40)
    weight[[5, 17, 30]] *= 8
    result = detect(value, weight, reference=price)
    evidence = result.iloc[0]["evidence"]
    assert (evidence["months_at_this_unit_value"], evidence["tested_months"]) == (2, 40)
    text = UnitValue().explain(result.iloc[0].to_dict())
    assert text.endswith(
        "The series has about this unit value in 2 other months of the 40 tested: it may mix "
        "two products or grades."
    )


@pytest.mark.parametrize("market", [5.8, 750.0], ids=["market at the usual", "market apart"])
def test_a_price_outlier_a_power_of_ten_off_names_no_error_that_recurs(market):
    """Czechia's exports of CN 39201081 to the world, June 2024, at €793/kg against a usual
    €7.34/kg and in 2 other months at that price: the months around were off the usual
    price, so no slip (``_slip_stands``) but a price outlier, whose text still said "the
    error recurs" as a slip's does. It counts the months and names no error."""
    ev = {
        "unit_value": 792.652,
        "usual_unit_value": 7.339,
        "band": [0.977, 55.1],
        "net_weight_kg": 293.0,
        "value_at_usual_price": 2150.0,
        "reference_unit_value": market,
        "series_unit_value": 7.542,
        "pattern": "price outlier",
        "months_at_this_unit_value": 2,
        "tested_months": 36,
        "own_power_step": 100.0,
    }
    finding = {"period": "2024-06", "currency": "EUR", "observed": 232_200.0, "impact": 2.3e5}
    text = UnitValue().explain({**finding, "evidence": ev})
    assert "about this unit value in 2 other months of the 36 tested, about ×100 off its" in text
    assert "error" not in text
    if market < 10:
        assert "off its usual one (the price across partners is €5.8/kg)." in text


def test_a_slip_away_from_both_habits_of_a_series_is_still_found():
    value, weight, price = _steady(36)
    weight[::3] *= 8  # a second habit in 12 of 36 months, at 1/8 of the usual price
    value[10] *= 1000  # a value in milli-units in a month of the usual habit: ×1000
    result = detect(value, weight, reference=price)
    assert list(result["start"]) == [10]
    assert result.iloc[0]["evidence"]["pattern"] == "value slip"
    assert "months_at_this_unit_value" not in result.iloc[0]["evidence"]


def test_months_near_the_edge_of_the_usual_band_do_not_vouch_for_a_cell_beyond_it():
    """The near months must be off the median themselves: a series whose price follows the
    market with swings of ±0.6 (log) has many months within its own band (3 σ) of a
    month at ×5, yet none of them is off its usual unit value: the month is still found."""
    months = 36
    swing = np.random.default_rng(0).permutation(np.linspace(-0.6, 0.6, months))
    price = 3.0 * np.exp(swing)
    weight = WEIGHT[:months].copy()
    value = weight * price
    at = int(np.argmin(np.abs(swing)))
    value[at] *= 5.0
    result = detect(value, weight, reference=price)
    assert list(result["start"]) == [at]
    assert result.iloc[0]["evidence"]["pattern"] == "price outlier"


def test_months_with_estimated_quantities_are_not_tested_and_are_named():
    value, weight = VALUE.copy(), WEIGHT.copy()
    same = np.where(np.arange(T) < 12, 1.0, 0.04)  # 2023: one unit value for every partner
    reference = PRICE.copy()
    reference[:12] = value[:12] / weight[:12]
    value[5] *= 50
    weight[5] *= 50  # an estimated quantity follows the value: the unit value cannot tell
    value[25] *= 6
    found = detect(value, weight, reference=reference, same=same)
    assert list(found["start"]) == [25]
    assert found.iloc[0]["evidence"]["months_with_estimated_quantities"] == 12
    text = UnitValue().explain(
        {
            "period": "2025-02",
            "currency": "EUR",
            **found.iloc[0][["observed", "expected", "impact", "evidence"]],
        }
    )
    assert "In 12 months of this series the quantities look estimated" in text


def test_one_month_of_estimated_quantities_is_named_in_the_singular():
    value = VALUE.copy()
    same = np.where(np.arange(T) == 0, 1.0, 0.04)
    reference = PRICE.copy()
    reference[0] = value[0] / WEIGHT[0]  # the one month every partner shares a unit value
    value[25] *= 6
    found = detect(value, WEIGHT, reference=reference, same=same)
    assert found.iloc[0]["evidence"]["months_with_estimated_quantities"] == 1
    text = _explain(found.iloc[0])
    assert "In 1 month of this series the quantities look estimated" in text
    assert "(one unit value for all partners); that month is not tested." in text


# -- real data ---------------------------------------------------------------------------------


def _steady_cells(src: Path, n: int) -> list[tuple]:
    """Cells of long series with a steady unit value, one per series, at a usual month."""
    frame = pd.read_csv(src, dtype=str)
    frame["v"] = pd.to_numeric(frame["OBS_VALUE"], errors="coerce")
    wide = frame.pivot_table(
        index=["reporter", "partner", "flow", "TIME_PERIOD"], columns="indicators", values="v"
    ).dropna()
    wide = wide[(wide["VALUE_IN_EUROS"] > 5e4) & (wide["QUANTITY_IN_100KG"] > 10)]
    log_uv = np.log(wide["VALUE_IN_EUROS"] / wide["QUANTITY_IN_100KG"])
    stats = log_uv.groupby(level=[0, 1, 2]).agg(["count", "std"])
    steady = stats[(stats["count"] >= 30) & (stats["std"] < 0.3)].index[: 2 * n]
    rng = np.random.default_rng(0)
    months = pd.period_range("2023-06", "2025-06", freq="M").astype(str)
    cells = [(*s, str(rng.choice(months))) for s in steady]
    return [c for c in cells if c in wide.index]


@pytest.fixture(scope="module")
def slipped(tmp_path_factory, request):
    from tradesentry.store import open_store

    src = Path(request.config.rootpath).parent / "shared" / "data" / COMEXT
    cells = _steady_cells(src, 10)
    value_slips, weight_slips = cells[0::2], cells[1::2]
    changes = {c: ("VALUE_IN_EUROS", 1000.0) for c in value_slips}
    changes |= {c: ("QUANTITY_IN_100KG", 1000.0) for c in weight_slips}
    tmp = tmp_path_factory.mktemp("uv")
    scaled_comext_copy(src, tmp / "slipped.csv.gz", changes)
    st = open_store(tmp / "store.duckdb")
    st.ingest(tmp / "slipped.csv.gz")
    yield st, value_slips, weight_slips
    st.close()


def test_slips_injected_into_real_comext_series_are_found_and_told_apart(slipped):
    from tradesentry.countries import to_alpha3

    st, value_slips, weight_slips = slipped
    found = api.scan(st, kinds=["unit_value"], save=False).to_frame()
    flows = {"1": "import", "2": "export"}
    by_cell = {
        (r.reporter, r.partner, r.flow, r.period): r.evidence["pattern"] for r in found.itertuples()
    }

    def key(c):
        return (to_alpha3(c[0]), to_alpha3(c[1]), flows[c[2]], c[3])

    value_hits = [by_cell.get(key(c)) for c in value_slips]
    weight_hits = [by_cell.get(key(c)) for c in weight_slips]
    assert value_hits.count("value slip") >= 0.9 * len(value_slips), value_hits
    assert weight_hits.count("weight slip") >= 0.9 * len(weight_slips), weight_hits
    # Comext itself holds a few dozen real slips (weights in 100 kg read as kg): 47 cells a
    # power of ten off the market or the series' own unit value, 0.2 % of them; no flood
    slips = found[found["evidence"].map(lambda e: e["pattern"].endswith("slip"))]
    cells = st.con.execute("SELECT count(*) FROM observations").fetchone()[0]
    assert len(slips) - len(value_slips) - len(weight_slips) < 0.0025 * cells


def test_critical_minerals_estimated_quantities(store, shared_data, tmp_path):
    raw = pd.read_csv(shared_data / MINERALS, dtype={"hs6": str})
    canonical = pd.DataFrame(
        {
            "reporter": "CHN",
            "partner": raw["partner_name"],
            "flow": "export",
            "classification": "HS",
            "commodity": raw["hs6"],
            "period": raw["period_dt"].str[:7],
            "value": raw["val"],
            "currency": "USD",
            "net_weight_kg": raw["qty"],
        }
    )
    canonical.to_csv(tmp_path / "minerals.csv", index=False)
    # every partner name lands (a stricter reading of names once quarantined "Turkey")
    assert store.ingest(tmp_path / "minerals.csv").rows_quarantined == 0
    found = api.scan(store, kinds=["unit_value"], save=False).to_frame()
    assert 10 <= len(found) <= 0.03 * len(raw)  # a few outliers, not a flood
    ev = found["evidence"]
    estimated = found[ev.map(lambda e: e.get("months_with_estimated_quantities", 0) >= 10)]
    assert len(estimated) > 0  # series whose 2017 quantities Comtrade estimated say so
    assert not (
        found["period"].str.startswith("2017") & ~found["commodity"].eq("811292")
    ).any()  # the estimated months themselves are not tested
    assert set(ev.map(lambda e: e["pattern"])) <= {
        "price outlier",
        "weight outlier",
        "value slip",
        "weight slip",
    }
    # HS 250410 to Hong Kong, February 2022: $1.19/kg, the price across partners $1.41, in
    # a series usually at $14.7/kg whose 20 or so bulk months at $0.25–1.5/kg had no
    # finding; its finding said "…look off, not this one, whose value stands"
    bulk = found[found["partner"].eq("HKG") & found["commodity"].eq("250410")]
    assert "2022-02" not in set(bulk["period"]), bulk["explanation"].tolist()


def test_contract_with_context_messy_permuted_and_scaled():
    rng = np.random.default_rng(9)
    weight = 1e4 * np.exp(rng.normal(0, 0.5, (25, T)))
    value = weight * PRICE * np.exp(rng.normal(0, 0.1, weight.shape))
    weight[rng.random(weight.shape) < 0.1] = np.nan
    value[rng.random(value.shape) < 0.05] = 0.0
    value[0] = np.nan
    weight[3, 8] *= 1000
    value[4, 9] /= 1000
    base = detect(value, weight)
    assert {(3, 8), (4, 9)} <= set(zip(base["series"], base["start"], strict=True))
    order = rng.permutation(25)
    permuted = detect(value[order], weight[order])
    assert sorted(zip(order[permuted["series"]], permuted["start"], strict=True)) == sorted(
        zip(base["series"], base["start"], strict=True)
    )
    scaled = detect(value * 1000, weight, reference=PRICE * 1000)  # another currency unit
    assert list(zip(scaled["series"], scaled["start"], strict=True)) == list(
        zip(base["series"], base["start"], strict=True)
    )


def test_the_market_price_is_one_currency_whatever_the_figures_are_in(tmp_path):
    """Six reporters sell the same product at about €3/kg, three of them in their own
    currencies (forints, koruny, kronor); one euro series sells at €12/kg in one month.
    The market price was the median of every figure's value per kg whatever its currency:
    some 18 "EUR"/kg, half-way between the euro and the krona figures, against which the
    €12 month was no outlier. In dollars where the store has the month's rate (within one
    currency where it has none) the market is €3/kg whatever the figures are in, and the
    findings are those of the same figures all in euros."""
    from tradesentry.store import open_store

    months = pd.period_range("2023-01", "2025-12", freq="M").astype(str)
    rng = np.random.default_rng(5)
    per_eur = {"EUR": 1.0, "HUF": 390.0, "CZK": 25.0, "SEK": 11.5}
    own = {"DEU": "EUR", "FRA": "EUR", "ITA": "EUR", "HUN": "HUF", "CZE": "CZK", "SWE": "SEK"}
    usd_per_eur = 1.08
    rows = []
    for reporter in own:
        weight_kg = 1e5 * np.exp(rng.normal(0, 0.3, len(months)))
        price = 3.0 * np.exp(rng.normal(0, 0.05, len(months)))
        if reporter == "DEU":
            price[20] = 12.0  # four times the market in one month
        for m, kg, p in zip(months, weight_kg, price, strict=True):
            rows.append((reporter, "POL", m, kg * p, kg))
    frame = pd.DataFrame(rows, columns=["reporter", "partner", "period", "value", "net_weight_kg"])
    frame = frame.assign(flow="export", commodity="39206290", classification="CN8")
    rates = pd.concat(
        pd.DataFrame({"currency": c, "period": months, "per_usd": n / usd_per_eur})
        for c, n in per_eur.items()
    )
    rates.to_csv(tmp_path / "rates.csv", index=False)
    found = {}
    for name in ("euros", "own currencies"):
        figures = frame.assign(currency="EUR")
        if name == "own currencies":
            figures["currency"] = figures["reporter"].map(own)
            figures["value"] *= figures["currency"].map(per_eur)
        st = open_store(tmp_path / f"{name}.duckdb")
        figures.to_csv(tmp_path / f"{name}.csv", index=False)
        st.ingest(tmp_path / f"{name}.csv")
        api.load_rates(st, tmp_path / "rates.csv")
        scanned = api.scan(st, kinds=["unit_value"], save=False).to_frame()
        found[name] = sorted(zip(scanned["reporter"], scanned["period"], strict=True))
        references = [f["evidence"]["reference_unit_value"] for f in scanned.to_dict("records")]
        st.close()
        assert np.allclose(references, 3.0, rtol=0.1), references
    assert found["own currencies"] == found["euros"] == [("DEU", months[20])]


@pytest.mark.parametrize(
    ("value_factor", "weight_factor", "kinds"),
    [
        (30.0, 1.0, ["unit_value"]),  # the price is off: the spike is this one event
        (30.0, 10_000.0, ["spike", "unit_value"]),  # the weight is further off: both stay
        (1e-3, 1.0, ["implausible"]),  # a ×1000 slip of the value: implausible reads it
    ],
    ids=["price-outlier", "weight-outlier", "value-slip"],
)
def test_one_month_off_is_one_finding_where_its_value_is_what_is_off(
    value_factor, weight_factor, kinds
):
    """Sweden's imports of CN 39204910 from the Netherlands, September 2024: a low spike and
    a high price outlier on the one month, with two sums of money at stake."""
    from tests.detectors._helpers import findings
    from tradesentry.detectors import default_detectors

    value, weight = VALUE.copy(), WEIGHT.copy()
    value[30] *= value_factor
    weight[30] *= weight_factor
    found = findings(
        panel(value, weight, PRICE),
        default_detectors(["implausible", "spike", "dip", "unit_value"]),
    )
    assert sorted(found["kind"]) == kinds


@pytest.mark.parametrize("habit", [71.0, 30.0, 1 / 30.0])
def test_a_month_at_the_market_price_in_a_series_priced_far_from_it_is_not_flagged(habit):
    """Guinea's bauxite to China, July 2016: 349 GNF/kg where every partner paid 330, read
    "a value slip" of 11 trillion francs, high, against the series' usual 23,500 GNF/kg, 71
    times the market; then a low finding whose own text cleared the month: China's natural
    graphite to Hong Kong, February 2022, "at the price across partners ($1.41/kg), while
    the series' usual price is 10 times it: the series' other months, or their weights,
    look off, not this one, whose value stands". The month is off only the series' habit,
    which the market does not share: no finding on it, above the market or below."""
    value = VALUE * habit  # the series' habit: far from the price across partners
    value[20] = WEIGHT[20] * PRICE[20]  # one month at the market's price
    assert detect(value, WEIGHT).empty
    # a month off both the market and the series' habit, the other way, is read as before
    away = VALUE * habit
    away[20] = WEIGHT[20] * PRICE[20] / habit
    (found,) = detect(away, WEIGHT).to_dict("records")
    assert found["start"] == 20 and found["score"] > 0.6


def test_a_price_outlier_of_a_series_priced_far_from_the_market_is_priced_at_the_market():
    """Singapore's bauxite, December 2018: 176 t priced at the series' usual 15,350,000
    GNF/kg, 52,310 times the price across partners, put 2.7 trillion francs at stake, fifth
    of the scan. Where the series' own price is ten times or more off the market's, a
    price outlier's money at stake is at the market's price, and said."""
    value = VALUE * 1000.0  # the series' habit: a thousand times the market
    value[20] = WEIGHT[20] * PRICE[20] / 400.0  # the month: far below both
    (found,) = detect(value, WEIGHT).to_dict("records")
    assert found["evidence"]["pattern"] == "price outlier"
    assert found["expected"] == pytest.approx(WEIGHT[20] * PRICE[20], rel=1e-3)
    assert "at_market" not in found["evidence"]
    text = UnitValue().explain({**found, "period": "2025-09", "currency": "EUR"})
    assert "; at the price across partners, " in text
    assert "(the series' usual one is 1,000 times it), this weight would be worth" in text


@pytest.mark.parametrize("weight_moved", [1.0, 4.0])
def test_a_price_outlier_whose_weight_is_off_too_is_priced_at_its_usual_month(weight_moved):
    """A month at 1/32 of the usual price, its value moved further than its weight: with
    the weight as usual the gap is the weight at the usual price less the value; with the
    weight at four times its usual month, beyond the series' swings (robust z over 3), that
    price would put at stake four times a usual month's whole value, so the gap is the
    usual month's value less the month's (Germany's 826 kg of CN 85235990 to Croatia at
    €6.8K, the weight 4.6 times its usual month: €180.0K at stake)."""
    value, weight = VALUE.copy(), WEIGHT.copy()
    value[30] = np.median(VALUE) * weight_moved / 32
    weight[30] = np.median(WEIGHT) * weight_moved
    row = detect(value, weight).iloc[0]
    ev = row["evidence"]
    assert row["start"] == 30 and ev["pattern"] == "price outlier"
    at_usual_price = ev["value_at_usual_price"] - value[30]  # the money at stake: a size
    if weight_moved == 1.0:
        assert row["impact"] == pytest.approx(at_usual_price, rel=1e-3)
        assert "value_of_usual_month" not in ev
    else:
        assert row["impact"] == pytest.approx(ev["value_of_usual_month"] - value[30], rel=1e-3)
        assert row["impact"] < at_usual_price / 2
        assert "but the weight is itself 4.0 times the series' usual month" in _explain(row)


def test_a_price_just_outside_its_band_is_written_apart_from_the_edge():
    """A price of 15.66 outside a band to 15.74 read "€15.7/kg ... (band €2.1/kg–€15.7/kg)":
    equal to the edge it is beyond. It reads €15.66/kg against €15.74/kg; the other edge
    keeps three figures."""
    ev = {
        "unit_value": 15.66,
        "usual_unit_value": 5.75,
        "band": [2.1, 15.74],
        "net_weight_kg": 1000.0,
        "value_at_usual_price": 5750.0,
        "pattern": "price outlier",
    }
    finding = {"period": "2025-03", "currency": "EUR", "observed": 15_660.0, "impact": 9910.0}
    text = UnitValue().explain({**finding, "evidence": ev})
    assert "is €15.66/kg, against a usual €5.75/kg (band €2.1/kg–€15.74/kg)" in text


def test_a_price_and_its_band_keep_the_figures_that_tell_them_apart():
    """The evidence holds the price and the band's edges to six figures, so the text can
    tell a price just outside the band from the edge."""
    value, weight = VALUE.copy(), WEIGHT.copy()
    value[20] = WEIGHT[20] * PRICE[20] * 40.0
    (found,) = detect(value, weight).to_dict("records")
    ev = found["evidence"]
    assert ev["unit_value"] == pytest.approx(value[20] / weight[20], rel=1e-5)


@pytest.mark.parametrize(
    ("reference", "factor", "at"),
    [(PRICE, 100.0, 12), (None, 100.0, 12), (PRICE, 12.0, 12), (PRICE, 100.0, 18)],
    ids=["market", "own", "x12", "midpoint"],
)
def test_a_lasting_change_of_the_weights_record_is_one_finding(reference, factor, at):
    """China's gallium and germanium exports to Korea: every month of 2017 at about
    $1,000/kg, every month from January 2018 at about $15/kg, the value about as before.
    Each 2017 month had been a weight slip of its own (arbitrary ones: September's $1,073/kg
    flagged, August's $1,026/kg not). The weight's record changed: one finding at its first
    month, no money at stake, and the months on each side read against their own price."""
    weight = WEIGHT.copy()
    weight[at:] *= factor
    found = detect(VALUE, weight, reference=reference)
    assert len(found) == 1
    (change,) = found.to_dict("records")
    ev = change["evidence"]
    assert ev["pattern"] == "weight record change" and change["start"] == at
    assert change["impact"] == 0 and severity_of(found[["score"]].astype(float))[0] == "low"
    assert (ev["months_before"], ev["months_after"]) == (min(at, 12), 12)
    ratio = ev["unit_value_before"] / ev["unit_value_after"]
    assert ratio == pytest.approx(factor, rel=0.3)
    text = UnitValue().explain({**change, "period": "2018-01", "currency": "USD"})
    # the factor is the prices' own ratio, as the text gives them
    assert text.startswith(f"From January 2018 the weight in this record is about {times(ratio)} ")
    assert "(12 reported months from " in text and "a price read across the change" in text


def test_a_month_off_inside_a_new_weight_record_is_still_found():
    """After the change, a month off its own regime's price is a finding of its own."""
    weight = WEIGHT.copy()
    weight[12:] *= 100.0
    value = VALUE.copy()
    value[30] /= 1000.0
    patterns = detect(value, weight)["evidence"].map(lambda ev: ev["pattern"]).tolist()
    assert sorted(patterns) == ["value slip", "weight record change"]


def test_a_lasting_change_of_the_values_record_is_no_weight_record_change():
    """The value ×1,000 from a month on, the weight as before: the value's own level shift
    reads it (a change of units); the months at the minority's unit value stay slips: the
    months around each moved by the slip's own power of ten, the slip repeated, not a
    price that changed."""
    value = VALUE.copy()
    value[24:] *= 1000.0
    found = detect(value, WEIGHT)
    patterns = found["evidence"].map(lambda ev: ev["pattern"]).tolist()
    assert patterns == ["value slip"] * 12 and found["start"].tolist() == list(range(24, 36))


@pytest.mark.parametrize(("months", "factor"), [(slice(33, 36), 0.01), (slice(12, 18), 1e-3)])
def test_months_slipped_together_are_slips_not_price_outliers(months, factor):
    """Three months at ×1/100 at the series' end, or six at ×1/1000 inside it, the weight
    and the market as before: each month's neighbours sit at its price, but at the usual
    price's power of ten, the same slip repeated. They had read as price outliers
    ("misinvoicing, another product") beside a level shift saying a change of units."""
    value = VALUE.copy()
    value[months] *= factor
    found = detect(value, WEIGHT)
    patterns = found["evidence"].map(lambda ev: ev["pattern"]).tolist()
    assert patterns and set(patterns) == {"value slip"}


def _slipped_month(reference=PRICE) -> Panel:
    """The steady series with its value of month 30 a hundredth of the usual month's."""
    value = VALUE.copy()
    value[30] /= 100
    return panel(value, WEIGHT, reference)


def _pattern_at(p: Panel, month: int = 30) -> str:
    found = UnitValue().detect(p)
    return found.loc[found["start"] == month, "evidence"].iloc[0]["pattern"]


@pytest.mark.parametrize("changed", [False, True], ids=["alone", "after a change"])
def test_a_month_at_the_price_of_the_months_around_it_is_no_slip(changed):
    """Denmark's exports of CN 39199020 to Sweden, September 2025: €724 for 323 kg,
    €2.24/kg, a high "value slip ×1/100" (corrected €72.4K, €224/kg) against the usual
    €140/kg of 2023 to March 2025, while every month from April 2025 was at €0.66–16/kg,
    and of the two beside it at 1/30 and 1/168 of the usual price, price outliers. A slip
    is one month's figure off; a month whose neighbours sit at its price is in a price
    that changed (or a record that did), read against a price that is no longer the
    month's. Here every month from 24 is at about 1/40 of the usual price, month 30 at
    1/100 of it."""
    p = _slipped_month()
    if changed:
        spread = np.exp(np.random.default_rng(7).normal(0, 0.5, T - 24))
        p.values[0, 24:30] /= 40 * spread[:6]
        p.values[0, 31:] /= 40 * spread[7:]
    assert _pattern_at(p) == ("price outlier" if changed else "value slip")


@pytest.mark.parametrize(
    ("their_price", "relation", "slip"),
    [
        (1.0, 1.0, True),  # the partner's price of the month as usual: the corrected one
        (0.01, 1.0, False),  # the partner's at the recorded price, a hundredth of it
        # a pair whose records' prices differ (Sweden's €5/kg against Denmark's €140/kg)
        # is read at its difference: the partner's usual price vouches for the usual one
        (1.0, 1 / 20, True),
        (0.01, 1 / 20, False),
    ],
)
def test_a_partner_pricing_the_month_as_recorded_unmakes_a_slip(their_price, relation, slip):
    """The partner's record of the month is a second declaration of its price, at any
    size: a unit value is a ratio. Here the partner records a hundredth of the series'
    trade (no measure of its value or weight, ``_comparable_pairs``) at ``relation``
    times its price; in the month, ``their_price`` times that."""
    p = _slipped_month()
    month = np.arange(T) == 30
    price = VALUE / WEIGHT * relation * np.where(month, their_price, 1.0)
    kilos = WEIGHT * 0.01 * np.exp(np.random.default_rng(2).normal(0, 0.2, T))
    p.context.update(mirror_value=(kilos * price)[None, :], mirror_weight_kg=kilos[None, :])
    assert _pattern_at(p) == ("value slip" if slip else "price outlier")


@pytest.mark.parametrize("market", [1.0, 1 / 6, 1 / 20], ids=["1", "1/6", "1/20"])
def test_a_slip_in_a_series_priced_steadily_off_the_market_is_still_one(market):
    """A series whose every month is at a sixth or a twentieth of the price across
    partners (a grade of its own) has that price for usual, and its month a hundredth of
    it is a slip still. The market, far from the usual price, is no sign of the usual
    price in error: on the real series the cross-check benchmark slips figures of, so
    read, 46 of 1,469 slipped months (steady series 3.6 to 40 times off the market) were
    no slip. The months around it and the partner's record of it tell a price that
    changed (``test_a_month_at_the_price_of_the_months_around_it_is_no_slip``)."""
    assert _pattern_at(_slipped_month(reference=PRICE * market)) == "value slip"


@pytest.mark.parametrize(
    ("slipped", "their_value", "their_weight", "pattern", "figure"),
    [
        # the partner's value near the one recorded, at the usual price: no value slip
        ("value", 5.4e-3, 5.4e-3, "weight outlier", "weight"),
        ("value", 1.0, 1.0, "value slip", None),  # the partner's value is the corrected one
        # the partner's weight agrees, its price as low as the one recorded: no slip
        ("value", 5.4e-3, 1.0, "price outlier", None),
        # the partner's weight near the one recorded, at the usual price: no weight slip
        ("weight", 200.0, 200.0, "price outlier", "value"),
        ("weight", 1.0, 1.0, "weight slip", None),  # the partner's weight is the corrected one
    ],
)
def test_the_partners_record_tells_whether_a_slip_is_one(
    slipped, their_value, their_weight, pattern, figure
):
    """Spain's exports of CN 85235910 to the Netherlands, January 2024: €557 for 300 kg (a
    weight Spain records on 70 small lines of the code) was a high "value slip" of €55K,
    while the Netherlands recorded €3,007 for 15 kg, a usual price. A slip claims one
    figure off by its factor: where the partner's figure is nearer the one recorded than
    the corrected one, and the other figure ×3 or more from the partner's, the other one
    is off (``their_*``: the partner's figures as multiples of the usual month's)."""
    value, weight = VALUE.copy(), WEIGHT.copy()
    if slipped == "value":
        value[7] /= 1000
    else:
        weight[7] *= 1000
    p = panel(value, weight, PRICE)
    month = np.arange(T) == 7
    p.context.update(
        mirror_value=np.where(month, VALUE * their_value, VALUE * 1.03)[None, :],
        mirror_weight_kg=np.where(month, WEIGHT * their_weight, WEIGHT * 0.97)[None, :],
    )
    (row,) = UnitValue().detect(p).to_dict("records")
    ev = row["evidence"]
    assert (ev["pattern"], ev.get("partner_reading")) == (pattern, figure)
    if figure == "weight":
        assert row["impact"] == 0 and severity_of(np.array([row["score"]]))[0] == "low"
