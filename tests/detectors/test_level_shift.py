"""Level shifts: the levels a reader can check, the money at stake, the direction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradesentry.datasets import make_panel
from tradesentry.detectors import default_detectors
from tradesentry.detectors.level_shift import LEVEL_MONTHS, LevelShift

from ._helpers import china_exports, findings, keyed_panel

#: a product code of the Comext series these tests are built on: a total reads otherwise
CN8 = "39206900"


def _growing_then_falling(growth: float = 1.01, drop: float = 0.75) -> np.ndarray:
    """20 series growing 1 % a month for four years, cut to three quarters from month 30."""
    rng = np.random.default_rng(3)
    v = 1e6 * growth ** np.arange(48) * np.exp(rng.normal(0.0, 0.03, (20, 48)))
    v[:, 30:] *= drop
    return v


def test_levels_are_the_medians_of_the_year_on_each_side():
    v = _growing_then_falling()
    found = findings(keyed_panel(v), default_detectors(["level_shift"]))
    at = found[found["period"] == "2025-07"]
    assert len(at) >= 18
    for f in at.to_dict("records"):
        row = v[int(f["partner"][1:])]
        assert np.isclose(f["observed"], np.median(row[30 : 30 + LEVEL_MONTHS]))
        assert np.isclose(f["expected"], np.median(row[30 - LEVEL_MONTHS : 30]))
        # the money at stake: the change over the reported months of the new side
        assert np.isclose(abs(f["impact"]), abs(f["observed"] - f["expected"]) * LEVEL_MONTHS)
        ev = f["evidence"]
        assert ev["direction"] == "down" and ev["ratio"] < 1
        assert (ev["before_from"], ev["before_to"]) == ("2024-07", "2025-06")
        assert "12 reported months from July 2025 to June 2026" in f["explanation"]
        assert "closure" in f["explanation"]


def test_a_fall_against_a_rising_trend_is_called_a_fall():
    """Where the trend lifts the year after above the year before, the medians rise while
    the test (which takes the trend out) sees a fall: the text follows the test."""
    finding = {
        "period": "2008-11",
        "observed": 8.1e9,
        "expected": 7.5e9,
        "currency": "USD",
        "evidence": {
            "ratio": 1.08,
            "direction": "down",
            "months_after": 12,
            "months_before": 12,
            "after_to": "2009-10",
            "before_from": "2007-11",
            "before_to": "2008-10",
            "regime_end": "2009-10",
        },
    }
    text = LevelShift().explain(finding)
    assert "fall against the trend" in text
    assert "reopening" not in text and "closure" in text


#: Sweden's exports of CN 39201024 to the world (Eurostat Comext, EUR), January 2023 to
#: November 2025: €7.8M in April 2024, a fall to €0.2M–0.7M from May to August, a
#: recovery from September; February to April are high every year
SWEDEN = [
    10354350, 12643025, 18906747, 14456937, 12066943, 10175772, 6734730, 6589016, 6593080,
    7151791, 7674827, 5111257, 7185965, 12180634, 17391712, 7847336, 565902, 540674, 242989,
    745352, 5766608, 5320120, 5877125, 5559945, 7766455, 9862821, 19206640, 15789931,
    12527054, 9927673, 7192688, 7320178, 6240518, 6255927, 6878626,
]  # fmt: skip
#: Guinea's exports of 03053900 to Hong Kong (ITC declarations, GNF), October 2017 to
#: December 2018: six months at 15M–20M (the last in July 2018), then 120M and 200M
NAN = float("nan")
GUINEA = [15e6, 20e6, 20e6, NAN, 15e6, NAN, 15e6, NAN, NAN, 15e6, NAN, NAN, 120e6, NAN, 200e6]


@pytest.mark.parametrize(
    ("values", "start", "periods"),
    [(SWEDEN, "2023-01", ["2024-05"]), (GUINEA, "2017-10", [])],
    ids=["fall-then-recovery", "new-level-in-two-months"],
)
def test_a_new_level_starts_with_a_month_on_its_side(values, start, periods):
    """The split is refined between the two levels the test compared: April 2024 (still
    €7.8M) is not the first month of the fall, and a new level seen in two months has no
    first month of its own to start from (July 2018 is at 15M like the months before)."""
    found = findings(keyed_panel(values, start=start), default_detectors(["level_shift"]))
    assert sorted(found["period"]) == periods
    for f in found.to_dict("records"):
        first = f["evidence"]["first_value"]
        assert abs(np.log(first / f["observed"])) < abs(np.log(first / f["expected"]))


def test_a_fall_and_its_return_are_one_temporary_change():
    """Sweden's four months at €0.2M–0.7M were two level shifts, and the return the top
    finding of the Comext scan: "a new level" of €7.5M with €83.9M at stake, a year of
    ordinary trade. The fall and the return that undoes it are one finding over the
    months of the fall, whose money at stake is what those months held against the level
    before, month by month."""
    found = findings(keyed_panel(SWEDEN, start="2023-01"), default_detectors(["level_shift"]))
    (f,) = found.to_dict("records")
    assert (f["period"], f["period_end"]) == ("2024-05", "2024-08")
    ev = f["evidence"]
    assert (ev["return_period"], ev["return_months"]) == ("2024-09", 12)
    assert ev["return_level"] == pytest.approx(np.median(SWEDEN[20:32]))
    fall = SWEDEN[16:20]
    assert f["impact"] == pytest.approx(4 * ev["old_level"] - sum(fall))
    text = f["explanation"]
    assert text.startswith("From May 2024 to August 2024 the series ran at about $553.3K")
    assert "from September 2024 it is back at about $7.5M a month" in text
    assert "A temporary fall over 4 months: about $27.6M less" in text


def test_a_temporary_fall_the_partner_did_not_record_is_one_of_this_record():
    """The same four months, where the partner's record of the same flow went on at its
    level: the fall is in this record, not an interruption of the trade."""
    from ._helpers import mirror_context

    mirror = np.array(SWEDEN, dtype=float)
    mirror[16:20] = np.median(SWEDEN[:16])
    series = keyed_panel(SWEDEN, start="2023-01", context=mirror_context(mirror))
    (f,) = findings(series, default_detectors(["level_shift"])).to_dict("records")
    assert f["period_end"] == "2024-08"
    assert "P0's record of the same trade (its imports from CHN) held (" in f["explanation"]
    assert "An interruption" not in f["explanation"]


@pytest.mark.parametrize(
    ("back", "months", "changes"),
    [(1.0, 6, 1), (1.3, 6, 1), (0.6, 6, 2), (1.0, 18, 2)],
    ids=["returns", "returns-a-little-above", "returns-to-part-of-it", "too-long"],
)
def test_only_a_return_within_a_year_to_the_old_level_makes_a_change_temporary(
    back, months, changes
):
    """$1M a month, ×0.05 for ``months`` months, then ×``back`` of the old level: a return
    within ×1.5 of the old level within 12 months undoes the fall; ×0.6 of it is a level
    of its own (a partial reopening), and after 18 months the low level was a regime."""
    rng = np.random.default_rng(3)
    v = 1e6 * np.exp(rng.normal(0.0, 0.05, 72))
    v[30 : 30 + months] *= 0.05
    v[30 + months :] *= back
    found = findings(keyed_panel(v), default_detectors(["level_shift"]))
    assert len(found) == changes
    assert found["period"].iloc[0] == "2025-07"
    temporary = found["evidence"].iloc[0].get("return_period") is not None
    assert temporary == (changes == 1)


def _step_then(drift: float, months: int = 72) -> np.ndarray:
    """A series at $1M that steps to $3M in its 25th month and then, from its 37th, drifts
    steadily to ×``drift`` of that by its last month; noise 3 %."""
    rng = np.random.default_rng(5)
    v = 1e6 * np.exp(rng.normal(0.0, 0.03, months))
    v[24:] *= 3.0
    v[36:] *= drift ** (np.arange(months - 36) / (months - 37))
    return v


@pytest.mark.parametrize(
    ("drift", "sentence"),
    [
        (1.0, "The new level lasts to December 2024."),
        (
            2.5,
            # further the same way: no reversal (US exports to China from October 2003 had
            # "the new level does not hold" of a series that went on to 2.1 times it)
            "No further change of level is dated up to December 2024; the series went on "
            "rising: the 12 reported months from January 2024 to December 2024 have a median "
            "of about $6.6M a month (2.2 times the new level).",
        ),
    ],
    ids=["stays", "drifts"],
)
def test_the_new_level_lasts_only_where_its_last_year_is_still_there(drift, sentence):
    v = _step_then(drift)
    found = findings(keyed_panel(v, start="2019-01"), default_detectors(["level_shift"]))
    assert list(found["period"]) == ["2021-01"]
    f = found.iloc[0]
    ev = f["evidence"]
    assert (ev["after_to"], ev["regime_end"], ev["late_from"]) == ("2021-12", "2024-12", "2024-01")
    assert ev["late_months"] == LEVEL_MONTHS
    assert np.isclose(ev["late_level"], np.median(v[-LEVEL_MONTHS:]), rtol=1e-6)
    assert sentence in f["explanation"]


_SHIFT = {
    "period": "2021-01",
    "observed": 3e6,
    "expected": 1e6,
    "currency": "USD",
    "evidence": {
        "ratio": 3.0,
        "direction": "up",
        "new_level": 3e6,
        "months_after": 12,
        "months_before": 12,
        "before_from": "2020-01",
        "before_to": "2020-12",
        "after_to": "2021-12",
        "regime_end": "2024-12",
    },
}


@pytest.mark.parametrize(
    ("late", "sentence"),
    [
        ({"late_level": 3.6e6, "late_months": 12, "late_from": "2024-01", "late_z": 1.5},
         "The new level lasts to December 2024."),
        ({"late_level": 6e6, "late_months": 12, "late_from": "2024-01", "late_z": 1.5},
         "No further change of level is dated up to December 2024; the 12 reported months "
         "from January 2024 to December 2024 have a median of about $6.0M a month (2.0 times "
         "the new level), a difference the series' swings are too wide to call another "
         "level."),
        ({"late_level": 6e6, "late_months": 12, "late_from": "2024-01", "late_z": 2.5},
         "but the new level does not hold: the 12 reported months from January 2024 to "
         "December 2024 have a median of about $6.0M a month (2.0 times the new level)."),
        ({"late_level": 3.6e6, "late_months": 12, "late_from": "2024-01", "late_z": 2.5},
         "No further change of level is dated up to December 2024; the 12 reported months "
         "from January 2024 to December 2024 have a median of about $3.6M a month (1.2 times "
         "the new level)."),
        ({"late_level": 2.5e6, "late_months": 12, "late_from": "2024-01", "late_z": -3.0},
         "No further change of level is dated up to December 2024; the 12 reported months "
         "from January 2024 to December 2024 have a median of about $2.5M a month (83% of "
         "the new level)."),
        ({"late_level": 5.4e6, "late_months": 2, "late_from": "2024-02", "late_z": 2.3},
         "No further change of level is dated up to December 2024; the 2 reported months "
         "from February 2024 to December 2024 have a median of about $5.4M a month (1.8 "
         "times the new level)."),
        ({"late_level": 0.0, "late_months": 3, "late_from": "2024-10", "late_z": -9.0},
         "but the new level does not hold: the 3 reported months from October 2024 to "
         "December 2024 have a median of $0 a month."),
        ({"late_level": 3.2e3, "late_months": 11, "late_from": "2021-09", "late_z": -12.0},
         "but the new level does not hold: the 11 reported months from September 2021 to "
         "December 2024 have a median of about $3.2K a month (1/938 of the new level)."),
        ({"late_level": 9e6, "late_months": 1, "late_from": "2024-12", "late_z": 3.0},
         "No further change of level is dated up to December 2024; December 2024, the one "
         "reported month after its first year, has $9.0M (3.0 times the new level)."),
        ({}, "No further change of level is found up to December 2024. A new contract"),
    ],
    ids=["within-noise-and-x1.5", "within-noise-only", "beyond-noise-and-x1.5",
         "beyond-noise-within-x1.5", "below-within-x1.5", "two-months", "to-zero", "collapse",
         "one-month", "no-figures"],
)  # fmt: skip
def test_what_the_new_level_did_is_written_from_the_evidence(late, sentence):
    """The new level "does not hold" only beyond 2 standard errors and ×1.5 of it, from 3
    late months on; a difference within ×1.5, or one or two months, get the figures alone."""
    finding = {**_SHIFT, "evidence": {**_SHIFT["evidence"], **late}}
    text = LevelShift().explain(finding)
    assert sentence in text
    assert ("lasts to" in text) == sentence.startswith("The new level lasts")
    assert ("does not hold" in text) == ("does not hold" in sentence)
    assert ("too wide" in text) == ("too wide" in sentence)


_RISE = {
    "period": "2024-04",
    "observed": 14705.0,
    "expected": 23.0,
    "currency": "EUR",
    "evidence": {
        "old_level": 23.0,
        "new_level": 14705.0,
        "ratio": 639.348,
        "direction": "up",
        "months_before": 3,
        "months_after": 10,
        "before_from": "2023-06",
        "before_to": "2024-03",
        "after_to": "2025-03",
        "regime_end": "2025-03",
        "first_value": 10768.0,
        "previous_period": "2024-03",
        "previous_value": 23.0,
        "previous_expected": 183.92,
        "previous_z": -2.593,
    },
}


@pytest.mark.parametrize(
    ("previous", "timing"),
    [
        ({}, False),  # €23 against its €184 expected, but at the old level of €23
        ({"previous_value": 11.0}, True),  # below half the old level, and unusually low
        ({"previous_value": 11.5}, False),  # half the old level is not below it
        ({"previous_value": 11.0, "previous_z": -1.9}, False),  # within its own noise
        # BEL→LVA 48114900: a low December 2024, then three missing months before April
        ({"previous_value": 11.0, "previous_adjacent": False}, False),
    ],
    ids=["at-the-old-level", "below-half", "at-half", "not-unusual", "months-between"],
)
def test_a_timing_shift_is_offered_only_after_a_month_low_against_the_old_level(previous, timing):
    """POL→DNK imports of 39199020 (Comext): a rise from about €23 a month, whose month
    before, €23, is the old level itself; its own expectation (€184) alone called it
    "unusually low" right after the text gave €23 as the level."""
    finding = {**_RISE, "evidence": {**_RISE["evidence"], **previous}}
    text = LevelShift().explain(finding)
    assert ("timing shift" in text) == timing
    assert ("unusually low March 2024" in text) == timing
    if not timing:
        assert "A new contract, a new supplier or trade route, or a reopening" in text


@pytest.mark.parametrize("missing", [0, 3])
def test_the_month_before_a_shift_is_adjacent_only_without_months_between(missing):
    """The evidence says whether the last reported month before a rise is the month just
    before it, where a timing shift could have moved trade from."""
    rng = np.random.default_rng(8)
    v = np.concatenate([1e3 * np.exp(0.1 * rng.standard_normal(24)), [10.0]])
    v = np.concatenate([v, np.full(missing, np.nan), 1e6 * np.exp(0.1 * rng.standard_normal(18))])
    found = LevelShift().detect(keyed_panel(v[None, :]))
    assert list(found["start"]) == [25 + missing]
    assert found.iloc[0]["evidence"]["previous_adjacent"] == (missing == 0)


def test_the_levels_leave_out_the_zeros_the_model_leaves_out():
    """China's exports of HS 250410 to Korea with every fourth month at zero (a habit the
    model leaves out): the new level was "the median of the 4 reported months from December
    2023 to March 2024", March's zero among them, while the next sentence ended the level
    in February. The medians are of the months with trade, and say what they left out."""
    rng = np.random.default_rng(8)
    v = 6e6 * np.exp(rng.normal(0.0, 0.1, 48))
    v[35:] *= 0.17  # from December 2023, a fall
    v[1::4] = 0.0  # February, June, October … every fourth month
    found = findings(keyed_panel(v, start="2021-01"), default_detectors(["level_shift"]))
    (fall,) = found.to_dict("records")
    ev = fall["evidence"]
    assert fall["period"] == "2023-12"
    traded = [c for c in range(35, 47) if v[c] > 0]
    assert ev["months_after"] == len(traded) == 9
    assert ev["new_level"] == pytest.approx(np.median(v[traded]), rel=1e-4)
    assert ev["zeros_left_out"] == 6  # three on each side
    assert (
        "in a month with trade (median of the 9 months with trade from December 2023 to "
        "November 2024; trade in 9 of its 12 months)" in (fall["explanation"])
    )
    assert "The medians leave out 6 months at zero, a habit of the series." in (fall["explanation"])


def _fall(months_down: int = 6, rng_seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(rng_seed)
    v = 1e6 * np.exp(rng.normal(0.0, 0.05, 72))
    v[30 : 30 + months_down] *= 0.05
    return v


def test_a_month_at_the_old_level_inside_a_fall_is_no_interruption():
    """Romania's imports from Luxembourg: €63, €14,500, €22, €100 among months of about
    €10K read as "ran at about €82 a month" from July to October 2024. A month on the old
    level's side of the midpoint inside the span leaves the two changes apart; the fall's
    score is the stronger of its two changes' where they are one."""
    swings = _fall()
    swings[32] = 1e6  # the third month of the fall at the old level
    found = findings(keyed_panel(swings), default_detectors(["level_shift"]))
    assert not any(ev.get("return_period") for ev in found["evidence"])
    whole = findings(keyed_panel(_fall()), default_detectors(["level_shift"]))
    (one,) = whole.to_dict("records")
    assert one["evidence"]["return_period"] == "2026-01"


def test_a_temporary_fall_with_months_missing_says_how_many_have_a_figure():
    """Finland's imports from Belgium: "a temporary fall over 12 months: about €152.0K
    less", the money of the 6 months with a figure. The words now count the same months."""
    v = _fall(months_down=10)
    v[[31, 33, 35, 37]] = np.nan  # four months of the fall without a figure
    (f,) = findings(keyed_panel(v), default_detectors(["level_shift"])).to_dict("records")
    assert (f["period"], f["period_end"]) == ("2025-07", "2026-04")
    assert "A temporary fall over 10 months, of which 6 have a figure" in f["explanation"]
    assert "less than the level before would have given in those 6." in f["explanation"]


def test_a_level_at_the_series_end_needs_all_its_few_months(shared_data):
    """China's graphite (HS 380110) to Sweden: $139K–200K from July 2024, then $8, $446
    and $80K to the series' end. A "new level" of three months whose last is back is no
    level the months can confirm (it was a high finding): a new level with fewer than
    five months to the series' end must hold in every one of them."""
    v = china_exports(shared_data, "Sweden", 380110)
    assert v[-3:].tolist() == [8.0, 446.0, 79820.0]
    shifts = findings(keyed_panel(v[None, :], start="2017-01"), [LevelShift()])
    assert "2024-10" not in set(shifts["period"])
    v[-1] = 1e3  # its last month at the new level too: then it is one
    shifts = findings(keyed_panel(v[None, :], start="2017-01"), [LevelShift()])
    assert "2024-10" in set(shifts["period"])


def test_a_short_side_is_judged_after_the_change_is_placed():
    """Austria's exports of CN 32121000 to Poland (€, Comext): €7, €14 and €10 in 2023, then
    from November 2023 €13,561, €1,978, €5,386, €102, €70,064 and €80,031: a change the
    search meets first at January 2024 and refines to November. The rule for short new
    levels judges the placed change, never the search's first candidate, and a rule for
    short old sides is not applied: with either, this ×800 rise was lost."""
    months = {0: 7, 1: 14, 9: 10, 10: 13561, 12: 1978, 13: 5386, 17: 102, 21: 70064}
    months[22] = 80031
    v = np.full((1, 23), np.nan)
    v[0, list(months)] = list(months.values())
    (shift,) = findings(keyed_panel(v), [LevelShift()]).to_dict("records")
    assert shift["period"] == "2023-11" and shift["evidence"]["direction"] == "up"


@pytest.mark.parametrize(
    ("value_step", "weight_step", "said", "alternative"),
    [
        (1e-3, 1.0, "The weight did not follow (", False),  # francs read as thousands
        (0.1, 0.1, " after): the quantity shipped changed.", True),  # fewer goods shipped
        # samples of a few kg, then trade (or the weight's unit): the value per kg is said
        (50.0, 5000.0, "far more than the value: the value per kg moved ×0.0097. Other", True),
        (0.68, 0.98, "The weight held (", False),  # the weight stayed: the price moved
        (982.0, 49.0, "The weight went from ", True),  # the weight went far along
        (2.6, 0.6, "The weight went from ", True),  # the weight fell as the value rose
        # the value ×0.031 and the weight ×33: either may be in another unit
        (0.031, 33.0, "The weight moved the other way (", False),
        # the weight fell much further than the value: small lots after bulk trade
        (0.5, 0.01, "or small lots after bulk trade.", True),
    ],
    ids=["units", "goods", "weight-first", "price", "both-far", "against", "opposite", "lots"],
)
def test_the_weight_says_whether_the_goods_or_their_recorded_value_changed(
    value_step, weight_step, said, alternative
):
    """Guinea's bauxite to China fell ×0.02 in value from February 2016 while its weight
    rose ×3.9 (the value per kg from about 100,000 francs to 290, the price every other
    partner paid), and read as "a closure, sanctions or lost business". Where the value
    per kg moves ten times or more the way the value does, the change is in the recorded
    value, and that reading replaces the closure's; where the weight held while the value
    moved (Guinea's wheat to the Netherlands, "6.3 t to 6.3 t", read as a closure), the
    price did, and that reading replaces it too; where the weight moved with the value,
    the goods did; otherwise both weights are given, beside the usual reading."""
    rng = np.random.default_rng(4)
    weight_kg = 2e5 * np.exp(rng.normal(0, 0.1, 48))
    value = weight_kg * 300 * np.exp(rng.normal(0, 0.05, 48))
    value[24:] *= value_step
    weight_kg[24:] *= weight_step
    (found,) = findings(
        keyed_panel(value, weights=weight_kg, commodity=CN8), [LevelShift()]
    ).to_dict("records")
    assert found["period"] == "2025-01"
    assert said in found["explanation"]
    closure = "A closure, sanctions or lost business" in found["explanation"]
    reopening = "A new contract, a new supplier" in found["explanation"]
    assert (closure or reopening) == alternative
    assert found["evidence"]["weight_before"] > 0 and found["evidence"]["weight_after"] > 0


def test_weights_of_a_kilogram_or_two_say_nothing_of_a_level_shift():
    """Greece's imports of CN 48064090 from Hungary, €2 to €1 a month: "1 kg to 1 kg … the
    value per kg moved ×0.5, a change of price". Weights rounded to whole kilograms under
    10 kg a month give no reading."""
    rng = np.random.default_rng(4)
    value = np.r_[np.full(24, 2e3), np.full(24, 1e2)] * np.exp(rng.normal(0, 0.05, 48))
    kilos = np.full(48, 1.0)
    (found,) = findings(keyed_panel(value, weights=kilos), [LevelShift()]).to_dict("records")
    assert "weight" not in found["explanation"].lower()


def test_a_level_shift_without_weights_says_nothing_of_them():
    value = np.r_[np.full(24, 1e6), np.full(24, 1e4)] * np.exp(
        np.random.default_rng(1).normal(0, 0.05, 48)
    )
    (found,) = findings(keyed_panel(value), [LevelShift()]).to_dict("records")
    assert "weight" not in found["explanation"] and "weight_before" not in found["evidence"]


@pytest.mark.parametrize(
    ("mirror_step", "said", "alternative"),
    [
        (1.0, "held (about", False),  # the partner's record went on: this record changed
        (0.03, "moved with it (about", True),  # both sides saw it: the usual readings
        # the other way within ×3 (SWE←ESP 39204910: ESP's record rose ×1.7 as SWE's fell
        # to €18 a month): it went on, as held
        (1.6, "moved the other way (about", False),
        # far the other way, or part of the way: the records crossed, which is right the
        # figures do not say (a first version read a partner's ×52 as "the trade went on")
        (5.0, "went from about", True),
        (0.3, "went from about", True),
    ],
    ids=["held", "with-it", "other-way", "far-other-way", "part"],
)
def test_the_partners_record_says_whether_the_trade_or_this_record_changed(
    mirror_step, said, alternative
):
    """NLD←LTU 39206290, February 2025: the Netherlands' imports fell ×0.031 and read "a
    closure, sanctions or lost business", while Lithuania recorded exports of about €98K a
    month before and €71K after. Where the partner's record of the same flow, held in the
    store, did not follow, the change is in this record, and that reading replaces the
    closure's; where it followed, both sides saw it and the usual readings stay."""
    from ._helpers import mirror_context

    rng = np.random.default_rng(6)
    value = 1e5 * np.exp(rng.normal(0, 0.1, 48))
    mirror = value * np.exp(rng.normal(0, 0.1, 48))
    value[24:] *= 0.03
    mirror[24:] *= mirror_step
    series = keyed_panel(value, context=mirror_context(mirror), commodity=CN8)
    (found,) = findings(series, [LevelShift()]).to_dict("records")
    text = found["explanation"]
    assert "P0's record of the same trade (its imports from CHN)" in text, text
    assert said in text, text
    assert ("A closure, sanctions or lost business" in text) == alternative
    assert found["evidence"]["mirror_before"] > 0


def test_a_partners_record_missing_from_many_months_gives_no_verdict():
    """DNK→FIN 39206290: FIN's record "held" at €4.9K, the median of the 3 of 7 months it
    recorded; in the other four it recorded nothing (a source keeps no row for a month
    without trade). A partner's record is read only where it gives 3/4 of the months."""
    from ._helpers import mirror_context

    rng = np.random.default_rng(6)
    value = 1e5 * np.exp(rng.normal(0, 0.1, 48))
    mirror = value * np.exp(rng.normal(0, 0.1, 48))
    value[24:] *= 0.03
    mirror[24:36:2] = np.nan  # half the new level's year: no row
    series = keyed_panel(value, context=mirror_context(mirror), commodity=CN8)
    (found,) = findings(series, [LevelShift()]).to_dict("records")
    assert "record of the same trade" not in found["explanation"]
    assert "A closure, sanctions or lost business" in found["explanation"]


@pytest.mark.parametrize(
    ("commodity", "step", "said"),
    [
        ("TOTAL", 0.5, "A fall in demand or prices (a recession, tariffs), a closure or "
         "sanctions; or a change in what is recorded"),
        ("27", 2.0, "A rise in demand or prices (a recovery, where trade had fallen), a "
         "reopening or a measure lifted; or a change in what is recorded"),
        ("270900", 0.5, "A closure, sanctions or lost business; or a change"),
        ("270900", 2.0, "A new contract, a new supplier or trade route, or a reopening; or a "
         "change"),
    ],
)  # fmt: skip
def test_a_totals_level_shift_reads_as_a_totals(commodity, step, said):
    """Japan's, Korea's and the USA's trade with China from November 2008 read "a closure,
    sanctions or lost business": a total or a chapter is the trade of many goods and
    traders, whose level moves with demand and prices first."""
    rng = np.random.default_rng(6)
    value = 1e9 * np.exp(rng.normal(0, 0.03, 48))
    value[24:] *= step
    (found,) = findings(keyed_panel(value, commodity=commodity), [LevelShift()]).to_dict("records")
    assert said in found["explanation"], found["explanation"]


def test_a_partners_record_with_too_few_months_says_nothing():
    from ._helpers import mirror_context

    value = np.r_[np.full(24, 1e6), np.full(24, 1e4)] * np.exp(
        np.random.default_rng(2).normal(0, 0.05, 48)
    )
    mirror = np.full(48, np.nan)
    mirror[20:26] = 1e6  # two months on the old side's window, too few
    (found,) = findings(keyed_panel(value, context=mirror_context(mirror)), [LevelShift()]).to_dict(
        "records"
    )
    assert "record of the same trade" not in found["explanation"]
    assert "mirror_before" not in found["evidence"]


def test_months_of_a_side_nearer_the_other_level_are_named():
    """Italy's imports of CN 48064010 from Spain: a level of about €87 before, two of its
    five months at €32.7K and €44.7K, and then €66K a month: "×762" alone is a misquote."""
    rng = np.random.default_rng(7)
    v = np.full(36, np.nan)
    v[[0, 3, 5, 7]] = [87.0, 88.0, 87.0, 85.0]
    v[[1, 4]] = [32_741.0, 44_731.0]
    v[8:] = 66_000 * rng.lognormal(0, 0.1, 28)
    found = findings(keyed_panel(v, commodity="48064010", currency="EUR"), [LevelShift()])
    shift = found.iloc[0]
    assert shift["period"] == "2023-09"
    ev = shift["evidence"]
    assert [m["period"] for m in ev["before_near_new"]] == ["2023-02", "2023-05"]
    assert "after_near_old" not in ev
    assert (
        "2 of the months before were already nearer the new level (February 2023: €32.7K; "
        "May 2023: €44.7K)." in shift["explanation"]
    )


def test_a_small_change_names_no_months_across_its_midpoint():
    v = _growing_then_falling(growth=1.0, drop=0.6)  # ×0.6: noise straddles the midpoint
    found = findings(keyed_panel(v), default_detectors(["level_shift"]))
    assert len(found)
    for ev in found["evidence"]:
        assert "before_near_new" not in ev and "after_near_old" not in ev


@pytest.mark.parametrize(
    ("before_gap", "said"),
    [
        (24.0, "after the change the two records agree, where before CHN's was 24 times P0's"),
        (2.0, "went from about"),  # apart by less than ×3 before: no verdict
    ],
)
def test_a_change_that_brings_the_record_into_line_with_the_partners_is_in_the_record(
    before_gap, said
):
    """EST←POL 39206900, January 2025: Estonia's imports fell from €19.7K a month to about
    €400 and read "a closure, sanctions or lost business", while Poland recorded €817 a
    month before and €394 after, and Estonia's 2025 figures equal Poland's. After the
    change the two records agree: the change is in Estonia's record."""
    from ._helpers import mirror_context

    rng = np.random.default_rng(6)
    mirror = 800.0 * np.exp(rng.normal(0, 0.1, 48))
    mirror[24:] *= 0.5
    value = mirror * np.exp(rng.normal(0, 0.05, 48))
    value[:24] *= before_gap
    series = keyed_panel(value, context=mirror_context(mirror), commodity=CN8)
    (shift,) = findings(series, [LevelShift()]).to_dict("records")
    text = shift["explanation"]
    assert said in text, text
    brought = "The change brought CHN's record into line with P0's" in text
    assert brought == (before_gap > 3), text
    assert ("A closure, sanctions or lost business" in text) == (before_gap < 3), text


@pytest.mark.parametrize(
    ("mirror_step", "said", "record"),
    [(0.6, "barely moved (about", True), (0.3, "went from about", False)],
    ids=["a-tenth-of-the-way", "a-fifth-of-the-way"],
)
def test_a_partners_record_that_barely_moved_did_not_follow(mirror_step, said, record):
    """BEL→SWE 39209959, January 2025: Belgium's exports fell ×1/300 while Sweden's record
    of them fell ×0.65, just beyond the ×1.5 of "held", and no reading was given. A record
    that moved the same way by a tenth of the change or less (log scale) did not follow
    it; one that moved a fifth of the way, ×0.3, saw part of it."""
    from ._helpers import mirror_context

    rng = np.random.default_rng(6)
    value = 1e5 * np.exp(rng.normal(0, 0.1, 48))
    mirror = value * np.exp(rng.normal(0, 0.1, 48))
    value[24:] /= 300.0
    mirror[24:] *= mirror_step
    series = keyed_panel(value, context=mirror_context(mirror), commodity=CN8)
    (found,) = findings(series, [LevelShift()]).to_dict("records")
    text = found["explanation"]
    assert said in text, text
    assert ("so the change is in CHN's record" in text) is record, text


def test_a_weight_that_moved_in_a_record_the_partner_contradicts_is_no_change_of_goods():
    """NLD←ROU 39206290, May 2025, said "the goods shipped changed" and then that the
    change was in the Netherlands' record: the weight moved with the value in that
    record, which the partner's contradicts."""
    from ._helpers import mirror_context

    rng = np.random.default_rng(6)
    value = 1e5 * np.exp(rng.normal(0, 0.1, 48))
    mirror = value * np.exp(rng.normal(0, 0.1, 48))
    kilos = value / 3.0
    value[24:] *= 0.03
    kilos[24:] *= 0.03
    series = keyed_panel(value, weights=kilos, context=mirror_context(mirror))
    (found,) = findings(series, [LevelShift()]).to_dict("records")
    text = found["explanation"]
    assert "The weight in the record moved with the value" in text, text
    assert "shipped changed" not in text, text
    assert "so the change is in CHN's record" in text, text


@pytest.mark.parametrize(
    ("partner_before", "said", "record"),
    [
        # its own rise four months before the change, its months before that thin
        ({12: 0.02, 13: 0.02, 14: 0.02, 15: 0.02, 20: 0.8, 21: 0.8, 22: 0.8, 23: 0.8},
         "held (about", True),
        # two months before, at the level it kept: too few to compare, the after-side alone
        ({21: 1.0, 22: 1.0}, "near CHN's own level before the change", True),
        # two months before at 20 times the level it had after: they say it moved
        ({21: 20.0, 22: 20.0}, None, False),
    ],
    ids=["own-rise-before", "after-alone", "after-alone-contradicted"],
)  # fmt: skip
def test_a_partners_record_that_did_not_follow_is_read_on_each_sides_own_months(
    partner_before, said, record
):
    """NLD→DEU 39201081, May 2025: the Netherlands' exports fell ×0.0058 and read "the
    quantity shipped changed. A closure, sanctions or lost business", while Germany
    recorded imports from the Netherlands of €108K–641K in each month after. Germany had
    8 of the 12 months before (three quarters are asked), four of them at its own new
    level from January 2025: the whole reading was dropped for want of the before-side.
    Each side is read on its own months, the partner's level next to the change where it
    changed itself, and an after-side alone against the series' old level."""
    from ._helpers import mirror_context

    rng = np.random.default_rng(6)
    value = 1e5 * np.exp(rng.normal(0, 0.1, 48))
    kilos = value / 3.0
    mirror = np.full(48, np.nan)
    for month, level in partner_before.items():
        mirror[month] = level * value[month] * np.exp(rng.normal(0, 0.1))
    mirror[24:] = value[24:] * np.exp(rng.normal(0, 0.1, 24))
    value[24:] *= 0.01
    kilos[24:] *= 0.01
    series = keyed_panel(value, weights=kilos, context=mirror_context(mirror), commodity=CN8)
    (found,) = findings(series, [LevelShift()]).to_dict("records")
    text = found["explanation"]
    assert ("shipped changed" in text) is not record and ("A closure" in text) is not record, text
    assert ("so the change is in CHN's record" in text) is record, text
    if said:
        assert said in text, text
    if partner_before.get(20):
        assert found["evidence"]["mirror_before_from"] == "2024-09"
        assert "P0's record had itself risen to that level in September 2024, from about" in text


def test_a_partners_record_that_moved_later_is_read_up_to_its_own_change():
    """DEU←NLD 39201081, January 2025: Germany's imports rose ×58 and read "NLD's record
    … went from about €497.9K a month before to about €5.6K after, ×0.011", while the
    Netherlands' record held at about €500K until April 2025 and fell from May: the median
    "after" mixed its two levels. The partner's level next to the change is read up to its
    own change, and the text says when it moved."""
    from ._helpers import mirror_context

    rng = np.random.default_rng(6)
    value = 5e3 * np.exp(rng.normal(0, 0.1, 48))
    mirror = 5e5 * np.exp(rng.normal(0, 0.1, 48))
    value[24:] *= 50.0
    mirror[28:] /= 100.0  # four months after the series' change
    series = keyed_panel(value, context=mirror_context(mirror), commodity=CN8)
    (found,) = findings(series, [LevelShift()]).to_dict("records")
    text, ev = found["explanation"], found["evidence"]
    assert "P0's record of the same trade (its imports from CHN) held (about" in text, text
    assert "after, to April 2025, ×" in text, text
    assert "P0's record itself fell from May 2025, to about" in text, text
    assert "so the change is in CHN's record" in text, text
    assert ev["mirror_after_to"] == "2025-04" and ev["mirror_later_from"] == "2025-05"
    assert np.isclose(ev["mirror_after"], np.median(mirror[24:28]), rtol=1e-4)


def test_records_that_meet_after_the_partners_own_change_are_no_record_change():
    """DNK←ESP 39204910, June 2024: ESP's record went from €3.6K to €54.8K (×15), and the
    change read "in the record … more than in the trade": the partner saw a change too, so
    the reporter's record alone is not what changed. But the two moved toward each other
    and met, which no change of the trade does: the change is in how the trade is
    recorded, and the text says so without blaming either record, and without the new
    contract or closure a change of the trade would read (DEU←SWE 39204910, ×21 while
    Sweden's record fell ×0.19, had closed "a reopening, a new contract")."""
    from ._helpers import mirror_context

    rng = np.random.default_rng(6)
    mirror = 800.0 * np.exp(rng.normal(0, 0.1, 48))
    mirror[24:] *= 15.0
    value = mirror * np.exp(rng.normal(0, 0.05, 48))
    value[:24] *= 480.0
    (shift,) = findings(keyed_panel(value, context=mirror_context(mirror)), [LevelShift()]).to_dict(
        "records"
    )
    text = shift["explanation"]
    assert "went from about" in text and "The change brought" not in text, text
    assert "The records came into line, each moving toward the other" in text, text
    assert "A closure" not in text and "A new contract" not in text, text


@pytest.mark.parametrize(
    ("levels", "sentence"),
    [
        # Korea's exports to China: ×0.83 in November 2008, back above the old level
        ((8.2e9, 6.8e9, 9.7e9, 12.0),
         "but the new level does not hold: the 12 reported months from January 2024 to "
         "December 2024 have a median of about $9.7B a month (1.4 times the new level), "
         "back beyond the old level (about $8.2B)."),
        ((2.5e6, 3.0e6, 2.6e6, -3.0),
         "does not hold: the 12 reported months from January 2024 to December 2024 have a "
         "median of about $2.6M a month (87% of the new level), nearer the old level (about "
         "$2.5M) than the new."),
        # the same way on, not back: figures alone, as a difference within ×1.5
        ((2.5e6, 3.0e6, 3.6e6, 2.5), "(1.2 times the new level). A new contract"),
        # and beyond it: the series went on the way it had moved
        ((2.5e6, 3.0e6, 6.0e6, 9.0),
         "No further change of level is dated up to December 2024; the series went on "
         "rising: the 12 reported months from January 2024 to December 2024 have a median "
         "of about $6.0M a month (2.0 times the new level)."),
        # a fall that went on (to a stop, often) is a level that did not hold
        ((8.0e6, 4.0e6, 1.0e6, -9.0),
         "but the new level does not hold: the 12 reported months from January 2024 to "
         "December 2024 have a median of about $1.0M a month (1/4.0 of the new level)."),
    ],
    ids=["back-beyond-the-old", "nearer-the-old", "further-on", "went-on-rising",
         "fall-went-on"],
)  # fmt: skip
def test_a_small_change_undone_is_a_new_level_that_does_not_hold(levels, sentence):
    """A ratio bar of ×1.5 is no bar for a change of ×1.2: Korea's ×0.83 fall of November
    2008, back above the old level within the year (12 standard errors), read as a new
    level with the late months' figures and no verdict."""
    old, new, late, z = levels
    evidence = {
        **_SHIFT["evidence"],
        "old_level": old,
        "new_level": new,
        "ratio": new / old,
        "direction": "up" if new > old else "down",
        "late_level": late,
        "late_months": 12,
        "late_from": "2024-01",
        "late_z": z,
    }
    text = LevelShift().explain({**_SHIFT, "evidence": evidence})
    assert sentence in text, text
    assert ("does not hold" in text) == ("does not hold" in sentence)


#: China's exports of HS 811292 to Slovakia (UN Comtrade): 17 shipments in 82 months, about
#: $15K each until July 2023, then $142K–190K
SPARSE_SHIPMENTS = {
    "2018-01": 2344.0, "2018-03": 20736.0, "2018-05": 22000.0, "2018-08": 24700.0,
    "2020-01": 519.0, "2021-01": 10920.0, "2021-03": 14030.0, "2021-04": 16644.0,
    "2021-06": 12600.0, "2021-09": 12600.0, "2022-03": 15420.0, "2022-05": 14880.0,
    "2023-02": 14720.0, "2023-07": 141869.0, "2024-03": 168065.0, "2024-04": 173192.0,
    "2024-10": 190171.0,
}  # fmt: skip


def test_a_sparse_series_is_searched_over_its_reported_months():
    """Windows of 6 and 12 calendar months never held 3 of its shipments: the ×12 change
    of July 2023 was never tested. A series reporting under half the months of its span is
    searched over its reported months in order, and its levels are read over them."""
    months = pd.period_range("2018-01", "2024-10", freq="M").astype(str)
    v = np.array([SPARSE_SHIPMENTS.get(m, np.nan) for m in months])
    found = LevelShift().detect(keyed_panel(v, start="2018-01"))
    rise = found[found["start"] == list(months).index("2023-07")]
    assert len(rise) == 1, found[["start", "end"]]
    ev = rise["evidence"].iloc[0]
    assert ev["before_to"] == "2023-02" and ev["after_to"] >= "2024-03"
    assert ev["new_level"] > 10 * ev["old_level"]
    # its level is a month with trade, not a calendar month a reader would multiply by 12
    (shift,) = (
        findings(keyed_panel(v, start="2018-01"), [LevelShift()])
        .query("period == '2023-07'")
        .to_dict("records")
    )
    assert (
        "From July 2023 the series runs at a new level: about $170.6K in a month with trade "
        "(median of the 4 reported months from July 2023 to October 2024; trade in 4 of its "
        "16 months)"
    ) in shift["explanation"], shift["explanation"]


def test_a_dense_series_is_searched_over_its_calendar_months_as_before():
    """The reported-month search is for sparse series only: a series with a month missing
    here and there keeps the calendar windows and finds what it found."""
    from tradesentry.detectors.baseline import DEFAULT_CONFIG
    from tradesentry.detectors.shifts import find_shifts, find_shifts_in_order

    rng = np.random.default_rng(2)
    x = rng.normal(0.0, 0.2, (20, 48)) + np.where(np.arange(48) >= 24, 1.5, 0.0)
    x[rng.random(x.shape) < 0.2] = np.nan
    a, b = find_shifts(x, DEFAULT_CONFIG), find_shifts_in_order(x, DEFAULT_CONFIG)
    assert np.array_equal(a[1], b[1])
    for name in ("series", "start", "end", "stat"):
        assert np.array_equal(getattr(a[0], name), getattr(b[0], name))


@pytest.mark.parametrize(
    ("falling", "small", "said"),
    [(30, 0, True), (3, 0, False), (20, 20, False)],
    ids=["record", "three", "small-cells"],
)
def test_a_change_says_where_the_reporters_whole_record_moved_with_it(
    store, tmp_path, falling, small, said
):
    """China's exports of its graphite lines, December 2023 (its export controls): 44 of
    the 77 series of the store fell to half or less, 62 % of their trade, where a fifth
    did a year before. Where most of a reporter's series fall together in one month, and
    most of its trade with them, each change says so; three changes among thirty series
    are theirs, and twenty series of a few euros a month are no record moving (182 of the
    Netherlands' 382 import series doubled from January 2025, 4 % of their trade)."""
    from tradesentry import api

    rng = np.random.default_rng(3)
    rows = ["reporter,partner,flow,commodity,period,value,currency"]
    partners = ["BEL", "DEU", "FRA", "ITA", "ESP", "POL", "SWE", "AUT", "DNK", "FIN"]
    for k, (partner, code) in enumerate((p, c) for p in partners for c in ("3920", "3921", "4811")):
        for m in range(36):  # January 2023 to December 2025
            value = (10.0 if k < small else 1e5 * (k + 1)) * np.exp(rng.normal(0, 0.1))
            if k < falling and m >= 24:
                value *= 0.1
            rows.append(
                f"NLD,{partner},import,{code},{2023 + m // 12}-{m % 12 + 1:02d},{value},EUR"
            )
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    store.ingest(tmp_path / "t.csv")
    found = api.scan(store, kinds="level_shift", save=False).to_records()
    changes = [f for f in found if f["period"] == "2025-01"]
    assert len(changes) == falling
    for f in changes:
        # a month that could not have moved as a whole keeps no reading of the record
        assert f["evidence"].get("along_moved") == (falling if said else None)
        text = "At the same time "
        assert (text in f["explanation"]) is said, f["explanation"]
    if said:
        assert (
            "fell to half or less too (100% of them, 100% of their trade; the commonest 3920 "
            "(10), 3921 (10) and 4811 (10); all the series' trade ×0.1), where in January 2024 "
            "0% did (0% of their trade): something moved NLD's imports at once, in the record (its coverage, its "
            "processing, a late release) or in the trade (a measure, a shock), more likely "
            "than a change in this trade alone."
        ) in changes[0]["explanation"]


def test_a_new_level_that_another_change_ends_says_so():
    """Guinea's gold to Switzerland: "From April 2016 the series runs at a new level …"
    over the six months to January 2017, and nothing of the fall from July 2017 that ended
    it, which a reader of that finding alone did not learn."""
    rng = np.random.default_rng(5)
    v = np.r_[np.full(12, 1e6), np.full(12, 1e8), np.full(12, 5e6)] * np.exp(
        rng.normal(0, 0.05, 36)
    )
    first, second = findings(keyed_panel(v), [LevelShift()]).to_dict("records")
    assert first["evidence"]["next_change"] == "2025-01"
    assert (
        "It holds to December 2024; from January 2025 the series changes again."
        in (first["explanation"])
    )
    assert "next_change" not in second["evidence"] and "changes again" not in second["explanation"]


def test_the_next_change_is_the_series_next_whether_or_not_it_is_reported():
    """With a bar above the middle change's, the first change's next was read from the
    reported ones: "from January 2026 the series changes again", over January 2025's."""
    rng = np.random.default_rng(5)
    levels = np.r_[np.full(12, 1e6), np.full(12, 1e8), np.full(12, 5e7), np.full(12, 1e5)]
    v = levels * np.exp(rng.normal(0, 0.05, 48))
    strong = LevelShift(threshold=20.0)
    found = findings(keyed_panel(v), [strong]).to_dict("records")
    assert [f["period"] for f in found] == ["2024-01", "2026-01"]  # 2025-01 not reported
    assert found[0]["evidence"]["next_change"] == "2025-01"


def test_a_new_level_near_the_largest_float_is_not_said_to_stray_to_the_old():
    """The midpoint of a change from $1M to $1.5e308 was the square root of their product,
    which overflowed to inf: every month of the new level read as "still nearer the old
    level"."""
    rng = np.random.default_rng(3)
    v = np.concatenate([1e6 * np.exp(rng.normal(0, 0.05, 18)), 1.5e308 * (1 - rng.random(18) / 9)])
    found = findings(keyed_panel(v), default_detectors(["level_shift"]))
    assert list(found["period"]) == ["2024-07"]
    assert "nearer the old level" not in found["explanation"].iloc[0]


@pytest.mark.parametrize("seed", range(6))
def test_a_change_across_months_without_figures_starts_after_them(seed):
    """$5M a month to March 2020, no figures April–September, $1M a month from October:
    the change was dated March 2020 in half the noise draws, a month still at the old
    level (the split could only move ±6 months from the test's month, and no reported
    month after the gap was in reach). It starts in October, and the text says the
    change came in the months without figures or then."""
    rng = np.random.default_rng(seed)
    v = np.where(np.arange(36) < 15, 5e6, 1e6) * np.exp(rng.normal(0.0, 0.05, 36))
    v[15:21] = np.nan
    found = findings(keyed_panel(v, start="2019-01"), default_detectors(["level_shift"]))
    assert list(found["period"]) == ["2020-10"]
    assert (
        "The series has no figure from April 2020 to September 2020: the change came in "
        "those months or in October 2020." in found["explanation"].iloc[0]
    )


@pytest.mark.parametrize("seed", range(4))
def test_a_change_after_a_short_level_starts_with_a_month_of_the_new_one(seed):
    """Guinea's gold to Switzerland (ITC declarations): about 1B GNF a month, 13B for a few
    months to April 2016, no figures May–August, 141B–245B from September. The year
    before April held both earlier levels, and April, at the level just before, lay on
    the new level's side of the midpoint between their median and the new level: the rise
    was dated April, a month still at the old level. Here $1M a month, $11M–14.5M from
    November 2019 to February 2020, no figures March–June, $170M from July."""
    rng = np.random.default_rng(seed)
    v = np.full(36, np.nan)
    v[:8] = 1e6
    v[10:14] = [12e6, 11e6, 12.5e6, 14.5e6]  # the last above √(1M × 170M) = 13M
    v[18:] = 1.7e8
    v *= np.exp(rng.normal(0.0, 0.05, 36))
    found = findings(keyed_panel(v, start="2019-01"), default_detectors(["level_shift"]))
    rise = found[found["observed"] > 1e8]
    assert list(rise["period"]) == ["2020-07"]
    (f,) = rise.to_dict("records")
    assert f["expected"] == pytest.approx(np.median(v[10:14]))
    assert (
        "The series has no figure from March 2020 to June 2020: the change came in those "
        "months or in July 2020." in f["explanation"]
    )


def test_months_at_zero_before_a_change_are_not_said_to_have_no_figure():
    """Habitual zeros are left out of the levels, so the months between the old level's
    last and the new level's first may be zeros: no trade, not months without a figure."""
    rng = np.random.default_rng(0)
    v = np.where(np.arange(48) < 24, 5e6, 1e6) * np.exp(rng.normal(0.0, 0.05, 48))
    v[[3, 9, 16, 22, 23, 30, 38, 44]] = 0.0
    found = findings(keyed_panel(v, start="2019-01"), default_detectors(["level_shift"]))
    assert list(found["period"]) == ["2021-01"]
    assert "has no figure" not in found["explanation"].iloc[0]


def test_zeros_left_out_of_a_sparse_changes_levels_are_said():
    """Hungary's exports of CN 48064090 to Croatia: €9, €2.5K, €1 and €27 among 12 months at
    zero from January 2023 to November 2024, then about €60K a month. The change is read
    over the reported months in order (too few on a side within a year), and its text gave
    "about €18 in the 4 reported months before (January 2023 to November 2024)" without a
    word of the zeros between them, which the medians leave out as the series' habit."""
    months = [f"{y}-{m:02d}" for y in (2023, 2024, 2025) for m in range(1, 13)]
    held = {
        "2023-01": 9.0, "2023-04": 0.0, "2023-05": 0.0, "2023-06": 0.0, "2023-07": 0.0,
        "2023-08": 2542.0, "2023-09": 0.0, "2023-10": 0.0, "2023-11": 1.0, "2024-01": 0.0,
        "2024-02": 0.0, "2024-03": 0.0, "2024-04": 0.0, "2024-05": 0.0, "2024-08": 0.0,
        "2024-11": 27.0, "2024-12": 0.0, "2025-01": 33086.0, "2025-02": 62588.0,
        "2025-06": 54205.0, "2025-08": 64325.0, "2025-09": 66091.0, "2025-10": 0.0,
        "2025-11": 0.0, "2025-12": 62829.0,
    }  # fmt: skip
    values = np.array([held.get(m, np.nan) for m in months])
    panel = keyed_panel(values, currency="EUR", commodity="48064090")
    (found,) = findings(panel, [LevelShift()]).to_dict("records")
    assert found["evidence"]["zeros_left_out"] == 15  # 13 before the change, 2 after it
    assert (
        "against about €18 in the 4 months with trade before (January 2023 to November "
        "2024), in a month with trade (trade in 4 of its 23 months)"
    ) in found["explanation"]
    assert "The medians leave out 15 months at zero, a habit of the series." in found["explanation"]


def test_a_flow_that_turns_sparse_after_a_gap_is_a_change_of_level():
    """China's exports of HS 380110 to Hong Kong: $300K–1.6M a month through 2021, no
    figure from January to July 2022, then 7 months of $38–4.3K to July 2024. No year after
    the fall held 3 figures, so no window tested it, and the rise of 2020 read "the new
    level does not hold: the 11 reported months from September 2021 …", four of them the
    old flow's. A side of 12 months with fewer than 3 figures is read over 24."""
    rng = np.random.default_rng(5)
    v = np.full(55, np.nan)
    v[:24] = 5e5 * np.exp(rng.normal(0.0, 0.4, 24))
    late = [31, 44, 45, 46, 49, 51, 54]
    v[late] = [144, 1150, 4330, 3220, 84, 1380, 38]
    found = findings(keyed_panel(v, start="2020-01"), [LevelShift()])
    (fall,) = found.to_dict("records")
    assert fall["period"] == "2022-08"
    assert fall["evidence"]["direction"] == "down" and fall["evidence"]["ratio"] < 0.01
    assert "7 reported months from August 2022 to July 2024" in fall["explanation"]


@pytest.mark.parametrize(
    ("months", "step_at", "found"),
    [(24, None, []), (36, None, []), (48, 30, ["2025-07"])],
    ids=["two-years", "three-years", "fall-on-a-trend"],
)
def test_a_steady_trend_in_a_short_series_is_no_change_of_level(months, step_at, found):
    """A series growing 5 % a month for two years read as a level shift ×1.8 at its middle:
    its every 12-month difference straddles the middle months, so no trend was read there.
    A fall ×0.2 on such a trend was two changes, the second the trend going on in the
    18 months after the fall. The trend is read within the 12 months on each side."""
    rng = np.random.default_rng(102)
    v = 1e6 * 1.05 ** np.arange(months) * np.exp(rng.normal(0.0, 0.05, months))
    if step_at is not None:
        v[step_at:] *= 0.2
    shifts = findings(keyed_panel(v, commodity=CN8), [LevelShift()])
    assert list(shifts["period"]) == found


def test_a_change_from_a_short_episode_says_the_level_before_it():
    """Thailand's graphite from China (HS 380110): about $449K a month, four months at
    $54K in 2020, then $715K. The return read "×13" against the four months alone, and a
    journalist would quote it; the level before the episode is what a reader compares it
    with, and the text now gives it. A change after a year or more of the level before it
    says nothing of earlier ones."""
    rng = np.random.default_rng(8)
    v = 4.5e5 * np.exp(rng.normal(0.0, 0.15, 40))
    v[16:20] /= 8.3
    v[20:] *= 2.2
    found = findings(keyed_panel(v, commodity=CN8), [LevelShift()])
    rise = found[found["period"] == "2024-09"].iloc[0]
    assert rise["evidence"]["earlier_change"] == "2024-05"
    assert "Those months were themselves a fall, from about $4" in rise["explanation"], rise[
        "explanation"
    ]
    assert "against that level the new one is ×1.9." in rise["explanation"]
    fall = found[found["period"] == "2024-05"].iloc[0]
    assert "earlier_change" not in fall["evidence"]


def test_a_second_refinement_leaves_each_side_three_months():
    """Hungary's exports of CN 85235910 to Czechia, their unit value (log €/kg) by month: at
    3.1 for two years, three scattered months at 4.08, 1.78 and 7.31, then three at −0.22
    (€0.80/kg, the weight ×28 of its usual month). The second refinement of the rise moved
    it to the month before the fall, leaving the level between them one month, and the
    final test dropped both changes, so ``unit_value`` lost its weight record's change."""
    from tradesentry.detectors.baseline import DEFAULT_CONFIG
    from tradesentry.detectors.shifts import find_shifts

    x = np.full(35, np.nan)
    x[[2, 6, 9, 11, 15]] = [3.1, 3.11, 3.1, 3.11, 3.09]
    x[[18, 19, 20, 22, 25]] = [3.51, 3.53, 4.08, 1.78, 7.31]
    x[[26, 27, 28]] = [-0.23, -0.22, -0.22]
    found, _ = find_shifts(x[None, :], DEFAULT_CONFIG)
    assert found.start.tolist() == [20, 26]


# -- annual series: a year of the new level, and years in the words --------------------------


def _annual(change: slice, factor: float) -> np.ndarray:
    """22 periods (2001 to 2022) around 1e8, ×``factor`` over ``change``; noise 5 %."""
    rng = np.random.default_rng(4)
    v = 1e8 * np.exp(rng.normal(0.0, 0.05, (1, 22)))
    v[0, change] *= factor
    return v


@pytest.mark.parametrize(("freq", "a_year"), [("M", 12), ("A", 1)], ids=["monthly", "annual"])
def test_the_money_at_stake_is_the_change_over_up_to_a_year_of_the_new_level(freq, a_year):
    """An annual rise from 2012 read "$394.7M a year (median of the 11 reported years …)
    against about $96.6M" with $3.3B at stake: the change over its 11 years, where the docs
    promise up to a year of the new level. The side's 12 periods are a year of a monthly
    series only."""
    v = _annual(slice(11, None), 4.0)
    found = findings(make_panel(v, start="2001-01", freq=freq), [LevelShift()])
    (f,) = found.to_dict("records")
    assert f["evidence"]["months_after"] == 11
    change = f["observed"] - f["expected"]
    assert f["impact"] == pytest.approx(abs(change) * min(11, a_year))


@pytest.mark.parametrize(
    ("factor", "says"),
    [
        (0.2, "A temporary fall over 4 years: about $318.9M less than the level before would "
              "have given. An interruption (a closure, a strike, a halted plant or route), or "
              "figures missing from these years' records that a revision may add."),
        (5.0, "A few years of exceptional trade (a one-off contract, stockpiling), or goods "
              "recorded under this code for those years only, which the source's notes would "
              "show."),
    ],
    ids=["fall", "rise"],
)  # fmt: skip
def test_an_annual_temporary_change_counts_its_years(factor, says):
    """Four years at ×0.2 (or ×5) of an annual series, then back: one temporary change
    whose money at stake is what its years held against the level before, year by year,
    as a monthly one's is its months' (the span the text gives with it), and whose words
    name years: "figures missing from these months' records" was said of 2012–2015."""
    v = _annual(slice(11, 15), factor)
    found = findings(make_panel(v, start="2001-01", freq="A"), [LevelShift()])
    (f,) = found.to_dict("records")
    assert (f["period"], f["period_end"], f["evidence"]["return_period"]) == (
        "2012-01",
        "2015-01",
        "2016-01",
    )
    assert f["impact"] == pytest.approx(abs(v[0, 11:15].sum() - 4 * f["expected"]))
    assert says in f["explanation"]
    assert "month" not in f["explanation"]


def test_late_months_of_an_annual_series_follow_its_first_twelve_years():
    """The late months are read after the new level's side, 12 periods: "after its first
    year" of an annual series was after its first 12 years."""
    ev = {
        **_SHIFT["evidence"],
        "after_to": "2032-01",
        "regime_end": "2033-01",
        "late_level": 9e6,
        "late_months": 1,
        "late_from": "2033-01",
        "late_z": 3.0,
    }
    text = LevelShift().explain({**_SHIFT, "freq": "A", "evidence": ev})
    assert "2033, the one reported year after its first 12 years, has $9.0M" in text, text


def _habitual_zeros(seed: int, change: slice, factor: float) -> np.ndarray:
    """$1M a month (noise 10 %), ×``factor`` over ``change``, and about 3 months in 10 at
    zero throughout: zeros the model reads as the series' habit."""
    rng = np.random.default_rng(seed)
    v = 1e6 * np.exp(rng.normal(0.0, 0.1, 60))
    v[change] *= factor
    v[rng.random(60) < 0.3] = 0.0
    return v


@pytest.mark.parametrize(
    ("change", "factor", "says"),
    [
        (slice(24, None), 5.0,
         "From January 2025 the series runs at a new level: about $5.1M in a month with trade "
         "(median of the 10 months with trade from January 2025 to December 2025; trade in 10 "
         "of its 12 months)"),
        (slice(24, 32), 6.0,
         "From January 2025 to August 2025 the series ran at about $5.9M in a month with "
         "trade (median of the 7 months with trade)"),
    ],
    ids=["new-level", "temporary"],
)  # fmt: skip
def test_a_level_without_the_months_at_zero_is_one_of_a_month_with_trade(change, factor, says):
    """A series that often records zero: "about $5.2M a month (median of the 8 months with
    trade from February 2019 to December 2019)", while the same series with those months
    unreported read "in a month with trade (…; trade in 3 of its 7 months)". A median that
    leaves out months at zero is of a month with trade, however many there are, and a
    temporary change's months counted are those with trade, not "with a figure"."""
    found = findings(keyed_panel(_habitual_zeros(0, change, factor)), [LevelShift()])
    (f,) = found.to_dict("records")
    assert f["evidence"]["zeros_left_out"] > 0
    text = f["explanation"]
    assert says in text, text
    if f["evidence"].get("return_period"):
        assert "A temporary rise over 8 months, of which 7 have trade:" in text, text


#: Finland's imports of CN 35069110 from France (Comext, EUR), February 2023 to November
#: 2025: trade in 4 of the 12 months before March 2024 (€2.0K–4.7K), then 6 small months
#: to September 2024 (€1,958 in all), then €2.2K–9.8K again now and then
FIN_FRA = [
    5564, 3593, NAN, 4724, NAN, NAN, NAN, NAN, NAN, NAN, NAN, 1976, 3666, 238, 369, 502, 223,
    NAN, 290, 336, 7351, 2916, NAN, NAN, 3886, NAN, NAN, NAN, NAN, NAN, 2249, 9786, NAN, 1125,
]  # fmt: skip


def test_a_temporary_change_of_a_sparse_series_is_priced_per_calendar_month():
    """FIN←FRA 35069110: the six months of the fall were priced against about €3.6K each,
    "about €19.8K less than the level before would have given", more than that level's
    whole year (€14K in 4 months); and the level before read "about €3.6K in the 4 reported
    months before" beside a return "in a month with trade". At the level before's money a
    calendar month (€3.6K × 4/12), the 7 months of the change were €6.5K short."""
    panel = keyed_panel(FIN_FRA, start="2023-02", currency="EUR", commodity="35069110")
    (f,) = findings(panel, [LevelShift()]).to_dict("records")
    assert (f["period"], f["period_end"]) == ("2024-03", "2024-09")
    held = [238, 369, 502, 223, 290, 336]
    assert f["impact"] == pytest.approx(7 * f["expected"] * 4 / 12 - sum(held))
    ev = f["evidence"]
    assert (ev["trade_share_before"], ev["per_month_before"]) == (0.333, 1209.83)
    text = f["explanation"]
    assert (
        "against about €3.6K in the 4 reported months before (March 2023 to February 2024), "
        "in a month with trade (trade in 4 of its 12 months), ×0.086;"
    ) in text, text
    assert (
        "A temporary fall over 7 months, of which 6 have a figure: about €6.5K less than the "
        "level before would have given: about €1.2K a calendar month, €3.6K in 4 of its 12 "
        "months."
    ) in text, text


@pytest.mark.parametrize(
    ("after", "says"),
    [
        ([0, 3, 7, 11, 12, 15, 19, 23],
         "Per calendar month that is about $634 ($1.9K in 4 of its 12 months) against about "
         "$9.3K before: about $104.4K less over a year."),
        ([m for m in range(24) if m != 5], None),
    ],
    ids=["trade-in-4-of-12-months", "trade-in-11-of-12"],
)  # fmt: skip
def test_a_new_level_in_some_months_only_is_priced_per_calendar_month(after, says):
    """About $9.3K a month for two years, then a fifth of it in the months ``after`` (of the
    next 24) only. Four months of 12 at $1.9K were priced as ($1.9K − $9.3K) × 4, as if
    the 8 months without trade had kept the old level; a new level in 11 of its 12 months
    is one of a month, priced as before over its reported months, and its words say
    nothing of calendar months."""
    rng = np.random.default_rng(7)
    v = 1e4 * np.exp(rng.normal(0.0, 0.1, 48))
    v[24:] /= 5
    gone = np.setdiff1d(np.arange(24), after)
    v[24 + gone] = np.nan
    (f,) = findings(keyed_panel(v, commodity=CN8), [LevelShift()]).to_dict("records")
    ev = f["evidence"]
    if says is None:
        assert f["impact"] == pytest.approx((f["expected"] - f["observed"]) * 11)
        assert "per_month_before" not in ev and "calendar" not in f["explanation"]
        return
    share = len([m for m in after if m < 12]) / 12
    assert f["impact"] == pytest.approx((f["expected"] - f["observed"] * share) * 12)
    assert (ev["trade_share_before"], ev["trade_share_after"]) == (1.0, 0.333)
    assert says in f["explanation"], f["explanation"]
