"""A flagged month read in the partner's record of the same flow and by its weight."""

from __future__ import annotations

import numpy as np
import pytest

from tradesentry.detectors.dip import Dip
from tradesentry.detectors.implausible import Implausible
from tradesentry.detectors.second_record import partner_reading
from tradesentry.detectors.spike import Spike

from ._helpers import findings, keyed_panel, mirror_context

MONTHS = 36
FLAGGED = 20  # 2024-09


def _flow(seed: int = 7, level: float = 1e5, noise: float = 0.1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return level * np.exp(rng.normal(0.0, noise, MONTHS))


@pytest.mark.parametrize(
    ("observed", "expected", "seen", "usual", "reading"),
    [
        (56.0, 39_300.0, 45_900.0, 68_350.0, "held"),  # the partner's month ordinary
        (56.0, 39_300.0, 459_300.0, 683_500.0, "held"),  # records apart: still, not agreeing
        (1.0, 700.0, 1.0, 393.0, "moved"),  # both records near nothing
        (1.0, 700.0, 0.0, 393.0, "moved"),  # a partner's zero beside a low month
        (0.0, 700.0, 150.0, 393.0, "moved"),  # a month at zero, the partner's at 0.38
        (0.0, 700.0, 390.0, 393.0, "held"),  # a month at zero, the partner's usual
        (0.0, 700.0, 1000.0, 393.0, "other"),  # … at 2.5 times it: neither
        # BEL←NLD: €3.29M where ~€15K is expected, NLD's €3.23M near its usual €2.88M: the
        # records are ×190 apart, and this month they agree
        (3.29e6, 1.44e4, 3.23e6, 2.88e6, "agrees"),
        (2.0e5, 1.0e5, 1.0e5, 1.0e5, "other"),  # ×2: too little moved to call it held
        (8.0e5, 1.0e5, 5.0e5, 1.0e5, "moved"),  # ×8 and ×5, the same way
        (8.0e5, 1.0e5, 0.0, 1.0e5, "other"),  # a spike beside a partner's zero
        (8.0e5, 1.0e5, 3.0e4, 1.0e5, "other"),  # the other way
        (8.0e5, 1.0e5, None, 1.0e5, None),  # no row of the partner's that month
        (8.0e5, None, 1.0e5, 1.0e5, None),  # no expectation
    ],
)
def test_partner_reading(observed, expected, seen, usual, reading):
    evidence = {"partner_observed": seen, "partner_usual": usual}
    assert partner_reading(evidence, observed, expected) == reading


def _found(kind, values, mirror, weights=None):
    # one product's trade (the readings of a total's are its own: ``evidence.many_goods``)
    panel = keyed_panel(
        values,
        weights=weights,
        context=mirror_context(mirror),
        currency="EUR",
        commodity="39206900",
    )
    found = findings(panel, [kind()])
    return found[found["period"] == "2024-09"].to_dict("records")


@pytest.mark.parametrize(
    ("partner_month", "says", "closing"),
    [
        (
            1.1e5,
            "P0's record of the same trade (its imports from CHN) shows €110.0K in September "
            "2024, near its usual month",
            "so CHN's figure is the one off. The figure is then incomplete or misrecorded",
        ),
        (
            40.0,
            "P0's record of the same trade (its imports from CHN) shows €40 in September 2024",
            "both records show the change. Trade then really was next to nothing that month.",
        ),
        (np.nan, "has no figure for September 2024 (its usual month: €", "Either the figure"),
    ],
)
def test_a_month_at_next_to_nothing_is_read_in_the_partners_record(partner_month, says, closing):
    """A month of €30 in a flow of €100K: the partner's record of it settles whether the
    trade went on (its month ordinary: the reporter's figure is off) or stopped (its month
    near nothing too); without a row of the partner's, both readings stay."""
    values = _flow()
    values[FLAGGED] = 30.0
    mirror = _flow(seed=8)
    mirror[FLAGGED] = partner_month
    (finding,) = _found(Implausible, values, mirror)
    assert says in finding["explanation"], finding["explanation"]
    assert closing in finding["explanation"], finding["explanation"]
    assert finding["evidence"]["partner_months"] >= 3
    # a month both records hold at next to nothing is no implausible amount of trade
    implausible = "not a plausible amount of trade" in finding["explanation"]
    assert implausible is ("really was next to nothing" not in closing)


@pytest.mark.parametrize(
    ("kilos", "says"),
    [
        (900.0, "did not fall with the value: goods were shipped"),
        # no valuation error, and no verdict on the trade: a record missing declarations
        # holds less of both as a real stop does
        (5.0, "so their value is not what is off. Either the figure is incomplete"),
        (300.0, None),  # a third of the usual: no reading
    ],
)
def test_a_month_at_next_to_nothing_is_read_by_its_weight(kilos, says):
    values = _flow()
    values[FLAGGED] = 30.0
    weights = np.full(MONTHS, 1000.0)
    weights[FLAGGED] = kilos
    (finding,) = _found(Implausible, values, np.full(MONTHS, np.nan), weights)
    text = finding["explanation"]
    if says:
        assert says in text, text
    else:
        assert "The weight" not in text and "Either the figure" in text, text


@pytest.mark.parametrize(
    ("kind", "factor", "partner_factor", "says"),
    [
        (Spike, 6.0, 1.0, "the trade went on as P0 recorded it, so CHN's figure is the one off"),
        (Spike, 6.0, 5.0, "both records show the change. A one-off shipment"),
        (Dip, 1 / 6.0, 1.0, "so CHN's figure is the one off. Trade not yet recorded"),
        # a sixth of the month is some trade, seen on both sides: a fall, not a stop
        (Dip, 1 / 6.0, 1 / 5.0, "both records show the change. A real fall, then, on both sides"),
        (Dip, 1 / 30.0, 1 / 25.0, "both records show the change. A real interruption, then"),
    ],
)
def test_spikes_and_dips_are_read_in_the_partners_record(kind, factor, partner_factor, says):
    values = _flow(noise=0.05)
    values[FLAGGED] *= factor
    mirror = _flow(seed=8, noise=0.05)
    mirror[FLAGGED] *= partner_factor
    (finding,) = _found(kind, values, mirror)
    assert says in finding["explanation"], finding["explanation"]


def test_without_the_partners_record_nothing_is_said_of_it():
    values = _flow(noise=0.05)
    values[FLAGGED] *= 6.0
    panel = keyed_panel(values, currency="EUR")
    (finding,) = findings(panel, [Spike()]).to_dict("records")
    assert "record of the same trade" not in finding["explanation"]
    assert "partner_usual" not in finding["evidence"]


@pytest.mark.parametrize(
    ("partner_factor", "says"),
    [
        (1.0, "the alternative; the partner's record tells them apart. P0's record"),
        (0.3, "the alternative; the quantity or the partner's record would tell them apart."),
    ],
)
def test_a_unit_slip_says_whether_the_partners_record_settles_it(partner_factor, says):
    """Where the partner's record held or moved with the month, the text says it tells the
    readings apart, and gives it; where it says nothing clear, that it would."""
    values = _flow(noise=0.05)
    values[FLAGGED] /= 1000.0
    mirror = _flow(seed=8, noise=0.05)
    mirror[FLAGGED] *= partner_factor
    (finding,) = _found(Implausible, values, mirror)
    assert finding["evidence"]["reason"] == "unit_slip"
    assert says in finding["explanation"], finding["explanation"]


@pytest.mark.parametrize(
    ("kind", "factor", "kilo_factor", "says"),
    [
        (Spike, 2.5, 1.0, "The weight held (1 t against "),
        (Spike, 2.5, 2.5, "The weight moved with it (2.5 t against "),
        (Dip, 0.3, 1.0, "the value per kg moved, not the quantity shipped. A fall in price"),
        (Dip, 0.3, 0.3, "The weight moved with it (300 kg against "),
        # Guinea's bauxite to China, June 2016: 32 times the value at 1.6 times the weight
        (Spike, 32.0, 1.6, "The weight moved far less than the value (1.6 t against "),
        (Spike, 32.0, 1.6, "the value per kg moved, not the quantity shipped. A price"),
        (Spike, 32.0, 8.0, "A one-off shipment"),  # a quarter of the move or more: as before
        # the weight the other way: the value per kg moved (it had read "moved far less",
        # then nothing, "a real interruption" of a month of ten times the usual tonnage)
        (Dip, 0.05, 10.0, "The weight moved the other way (10 t against 1 t"),
        (Dip, 0.05, 10.0, "A fall in price or a misrecorded value, more than an interruption"),
        (Spike, 4.0, 0.5, "The weight moved the other way (500 kg against 1 t"),
        # the same way, less than half as far (Guinea's parts to Taiwan, May 2016: the value
        # at 1/5 of its expectation, 2.6 t against 5.2 t, said nothing of the weight)
        (Dip, 0.2, 0.5, "The weight fell less than the value (500 kg against 1 t in the "
         "months around it): the quantity shipped and the value per kg both fell. A "
         "smaller shipment"),
        (Spike, 4.0, 1.6, "The weight rose less than the value (1.6 t against 1 t"),
        # none, or within the usual month's swings: nothing said of it
        (Spike, 32.0, 0.0, "A one-off shipment"),
        (Spike, 1.8, 1.3, "A one-off shipment"),
    ],
)  # fmt: skip
def test_spikes_and_dips_are_read_by_their_weight(kind, factor, kilo_factor, says):
    """POL→DEU 39206900, November 2025: €2.0M, 2.6 times the expected, read "a one-off
    shipment" at 53.3 t, inside the usual 45–75 t: the value per kg doubled."""
    values = _flow(noise=0.03)
    values[FLAGGED] *= factor
    weights = np.full(MONTHS, 1000.0)
    weights[FLAGGED] *= kilo_factor
    (finding,) = _found(kind, values, np.full(MONTHS, np.nan), weights)
    assert says in finding["explanation"], finding["explanation"]
    far_less = factor == 32.0 and kilo_factor == 1.6  # the same way, a little: far less
    assert ("moved far less than the value" in finding["explanation"]) is far_less
    if kilo_factor in (0.0, 1.3):  # no weight, or one the value did not move beyond
        assert "The weight" not in finding["explanation"], finding["explanation"]


def test_weights_of_a_few_kilograms_say_nothing_of_a_spike():
    """AUT←LUX 39209959: "The weight held (1 kg against 1 kg …)": whole kilograms of
    small parcels cannot tell a quantity that held from one that moved."""
    values = _flow(noise=0.03)
    values[FLAGGED] *= 2.5
    weights = np.full(MONTHS, 1.0)
    (finding,) = _found(Spike, values, np.full(MONTHS, np.nan), weights)
    assert "The weight" not in finding["explanation"], finding["explanation"]


def test_a_weight_that_held_is_not_a_one_off_shipment_whatever_the_partner_says():
    """HUN←AUT 39204990, September 2023: the weight held and the partner's record moved
    neither with it nor held; the closing reading was still "a one-off shipment"."""
    values = _flow(noise=0.03)
    values[FLAGGED] *= 2.5
    mirror = _flow(seed=8, noise=0.03)
    mirror[FLAGGED] *= 0.35
    weights = np.full(MONTHS, 1000.0)
    (finding,) = _found(Spike, values, mirror, weights)
    text = finding["explanation"]
    assert "The weight held" in text and "more than a one-off shipment" in text, text


@pytest.mark.parametrize(
    ("kind", "factor", "partner_factor", "kilo_factor", "says", "not_said"),
    [
        # the partner held: the weight is that record's, no change of the quantity shipped
        (Spike, 6.0, 1.0, 6.0, "The weight in the record: ", "the quantity shipped changed"),
        (Dip, 1 / 6.0, 1.0, 1 / 6.0, "The weight in the record: ", "the quantity shipped"),
        # the weight held and the partner's record moved too: a price, on both sides
        (
            Spike,
            6.0,
            5.0,
            1.0,
            "other goods under the code, seen on both sides,",
            "one-off shipment, then",
        ),
        (Dip, 1 / 6.0, 1 / 5.0, 1.0, "A fall in price, seen on both sides", "A real interruption"),
    ],
)
def test_the_weight_and_the_partners_record_are_read_together(
    kind, factor, partner_factor, kilo_factor, says, not_said
):
    """FRA←ITA 48064090: "The weight moved with it …: the quantity shipped changed", then
    "the trade went on as ITA recorded it": the weight was the same faulty record's. And a
    weight that held beside a partner's record that moved closed "A one-off shipment"."""
    values = _flow(noise=0.05)
    values[FLAGGED] *= factor
    mirror = _flow(seed=8, noise=0.05)
    mirror[FLAGGED] *= partner_factor
    weights = np.full(MONTHS, 1000.0)
    weights[FLAGGED] *= kilo_factor
    (finding,) = _found(kind, values, mirror, weights)
    text = finding["explanation"]
    assert says in text and not_said not in text, text


def test_a_month_that_agrees_with_a_partner_whose_record_is_far_apart_is_no_month_off():
    """BEL←NLD 39209959, October 2025: BEL books about €15K a month of what NLD books at
    €2.5M; its €3.29M that month, beside NLD's €3.23M, read "BEL's figure is the one off"."""
    values = _flow(level=1.5e4, noise=0.05)
    values[FLAGGED] = 3.29e6
    mirror = _flow(seed=8, level=2.5e6, noise=0.05)
    mirror[FLAGGED] = 3.23e6
    (finding,) = _found(Spike, values, mirror)
    text = finding["explanation"]
    assert "this month CHN's figure agrees with it, where its expected value is 1/" in text, text
    assert "the one off" not in text, text


@pytest.mark.parametrize(
    ("years", "says"),
    [
        (["2025"], "(17.6 t against 3.09 t in the months around it)"),
        (
            ["2021", "2022", "2023"],
            "(17.6 t against 340 kg in the months around it, for the season)",
        ),
    ],
    ids=["one-other-year", "three-other-years"],
)
def test_the_usual_weight_takes_only_a_season_several_years_agree_on(years, says):
    """Poland's imports of CN 39209928 from Spain, August 2024: one August at €3 made a
    season of ×0.11, and the weight read "17.6 t against 340 kg in the series' usual
    month" where the months around weighed 3.1 t. A season of one or two other years may
    be their odd months: the weight is then set against the usual month as it is (and
    the value against its level alone); one more years agree on is named."""
    from tradesentry.detectors.second_record import shipped_text

    ev = {
        "weight_kg": 17.6e3,
        "weight_around_kg": 3.09e3,
        "seasonal_factor": 0.11,
        "season_years": years,
    }
    finding = {"observed": 341.1e3, "expected": 4.1e3, "period": "2024-08", "freq": "M"}
    text, reading = shipped_text(ev, finding)
    assert says in text and reading == "moved", text


def test_a_spike_whose_partner_record_settles_nothing_does_not_send_the_reader_to_it():
    """Belgium's imports of CN 39199020 from Poland: a spike that quoted Poland's figure for
    the month still ended "the partner's mirror record would tell them apart". Where the
    record is given and settles nothing, a later revision is what would tell."""
    values = _flow(noise=0.05)
    values[FLAGGED] *= 6.0
    mirror = _flow(seed=8, noise=0.05)
    mirror[FLAGGED] *= 0.3  # fell as the series rose: no reading
    (finding,) = _found(Spike, values, mirror)
    text = finding["explanation"]
    assert "record of the same trade" in text, text
    assert text.endswith("a later revision would tell them apart."), text


@pytest.mark.parametrize(("kind", "factor"), [(Spike, 6.0), (Dip, 1 / 6.0)])
@pytest.mark.parametrize("seen", [np.nan, 4e5], ids=["no-figure", "a-figure"])
def test_a_partners_record_too_thin_around_the_month_is_said_to_be(kind, factor, seen):
    """Bulgaria's exports of CN 39201023 to Greece, June 2025: the store holds Greece's
    record of them, with nothing in the months the expectation came from, and the text
    closed "a later revision or the partner's mirror record would tell them apart", as if
    the store had none. It now says what the record holds, and points to no other."""
    values = _flow(noise=0.05)
    values[FLAGGED] *= factor
    mirror = np.full(MONTHS, np.nan)
    mirror[:4] = 1e5  # the record is in the store, years before
    mirror[FLAGGED] = seen
    (finding,) = _found(kind, values, mirror)
    text = finding["explanation"]
    month = "no figure for September 2024" if np.isnan(seen) else "€400.0K in September 2024"
    assert f"P0's record of the same trade (its imports from CHN) has {month}, and " in text
    assert "the expectation came from: too few to set the month against its usual one." in text
    assert "mirror record" not in text and "or the partner's record" not in text, text
