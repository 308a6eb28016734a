"""Implausible values: unit slips and near-zero months, and the months that are neither."""

from __future__ import annotations

import numpy as np
import pytest

from tradesentry.detectors import default_detectors
from tradesentry.detectors.implausible import Implausible, _others_agree, times_rounded

from ._helpers import (
    china_style_panel,
    comext_series,
    findings,
    keyed_panel,
    mirror_context,
)


def _steady(n: int = 30, months: int = 36, noise: float = 0.3) -> np.ndarray:
    rng = np.random.default_rng(7)
    return 6.5e4 * np.exp(rng.normal(0.0, noise, (n, months)))


def test_a_usual_month_is_no_unit_slip_however_thin_that_month_was_before():
    """A Comext series' pattern (paper to Romania, 2023–2025): six months of a few euros
    among months of €65K, two of them Septembers. September 2024, at the series' usual
    level, is far above its seasonal expectation, but it is no ×1000 error."""
    v = _steady(months=35)
    v[:, [8, 16, 23, 29, 32, 34]] = [15.0, 32.0, 11.0, 97.0, 28.0, 97.0]
    found = findings(keyed_panel(v), default_detectors())
    sept = found[found["period"] == "2024-09"]
    slips = sept["evidence"].map(lambda e: e.get("reason") == "unit_slip")
    assert not slips.any()


def test_a_unit_slip_is_named_with_the_ratio_measured():
    v = _steady(noise=0.1)
    v[:, 20] *= 1000.0 * np.linspace(0.6, 1.6, len(v))  # slips, each off by the noise
    found = findings(keyed_panel(v), default_detectors(["implausible"]))
    slips = found[found["period"] == "2024-09"]
    assert len(slips) >= 0.9 * len(v)
    for f in slips.to_dict("records"):
        assert f["evidence"]["reason"] == "unit_slip"
        ratio = f["observed"] / f["expected"]
        assert f"{float(f'{ratio:.2g}'):,.0f} times the" in f["explanation"]
        assert "close to ×1,000" in f["explanation"]


@pytest.mark.parametrize(
    ("scale", "reason"),
    [(1e-3, "unit_slip"), (1e3, "unit_slip"), (0.0, "zero"), (5e-3, "near_zero"), (1.0, None)],
)
def test_a_combined_figure_is_checked_against_the_sum_of_its_months(scale, reason):
    """January–February of 2021 at ×1/1000, ×1000, zero or 1/200 of the usual pair is
    implausible, read against its two months' expectations adjusted by the other years'
    pairs (always at 0.6 of two months here, so the usual pair is no finding)."""
    panel, usual = china_style_panel(np.random.default_rng(2))
    panel.combined[1, 36] *= scale
    out = default_detectors(["implausible"])[0].detect(panel)
    if reason is None:
        assert out.empty
        return
    assert out[["series", "start", "end"]].values.tolist() == [[1, 36, 37]]
    found = out.iloc[0]
    assert found["evidence"]["reason"] == reason and found["evidence"]["combined"]
    assert found["expected"] == pytest.approx(usual[1, 3], rel=0.15)
    text = default_detectors(["implausible"])[0].explain(
        {**found.to_dict(), "period": "2021-01", "period_end": "2021-02", "currency": "USD"}
    )
    assert text.startswith("The combined figure for January–February 2021 is ")
    assert "(×0.6" in text  # the other years' pairs


@pytest.mark.parametrize(
    ("observed", "expected", "step", "says"),
    [
        (20.0, 25_200.0, 1e-3, ["1/1,300 of the €25.2K expected", ": close to ×1/1,000, the"]),
        (  # Austria ← Croatia, October 2024: 1/150 is not "close to ×1/1,000"
            217.0,
            32_000.0,
            1e-3,
            [
                "1/150 of the €32.0K expected",
                ". Read as a unit error (×1/1,000: thousands, millions or units mixed up), "
                "the month would have been €217.0K, 6.8 times its expected value; a genuine "
                "fall of that size is the other reading.",
            ],
        ),
        (  # Guinea → Greece, September 2018: the step in digits, as ×1/1,000,000 is
            13.0e9,
            90.0e3,
            1e6,
            ["140,000 times the", "(×1,000,000: ", "13.0K GNF, 1/6.9 of its expected", "one-off"],
        ),
        (9.0e10, 9.0e4, 1e6, [": close to ×1,000,000, the signature of a unit error"]),
    ],
)
def test_a_unit_slip_is_close_to_its_step_only_within_a_factor_2(observed, expected, step, says):
    finding = {
        "period": "2024-10",
        "observed": observed,
        "expected": expected,
        "currency": "EUR" if observed < 1e9 else "GNF",
        "evidence": {"reason": "unit_slip", "factor": step, "level_months": []},
    }
    text = Implausible().explain(finding)
    for said in says:
        assert said in text, text
    assert "million," not in text and "×1 million" not in text
    assert ("close to" in text) == (abs(np.log10(observed / expected / step)) <= np.log10(2))


def test_a_unit_slip_names_the_typical_month_in_a_sentence_of_its_own():
    """After an expectation ending in its seasonal factor's brackets, the typical month in
    brackets too read "(×1.35) (the series' typical month is $2.1M)"."""
    finding = {
        "period": "2024-10",
        "observed": 2_100.0,
        "expected": 2.0e6,
        "currency": "USD",
        "evidence": {
            "reason": "unit_slip",
            "factor": 1e-3,
            "level_months": ["2024-09", "2024-11"],
            "season_years": ["2023"],
            "seasonal_factor": 1.35,
            "typical": 2.1e6,
        },
    }
    text = Implausible().explain(finding)
    assert ") (" not in text
    assert text.endswith(" The series' typical month is $2.1M."), text


def test_the_evidence_keeps_the_size_of_a_tiny_ratio():
    """Guinea → Ireland: 45.0K GNF where 129.6B were expected is 1/2,900,000 of it, which
    six decimals made a ratio of 0."""
    v = _steady(n=4, noise=0.1) * 1e6
    v[:, 20] = 45e3 * np.array([1.0, 0.5, 2.0, 0.1])
    found = findings(keyed_panel(v), default_detectors(["implausible"]))
    assert len(found) == len(v)
    for f in found.to_dict("records"):
        ratio = f["evidence"]["ratio"]
        assert ratio > 0 and ratio == pytest.approx(f["observed"] / f["expected"], rel=1e-5)


@pytest.mark.parametrize(
    ("weight_step", "reading", "says"),
    [
        (1.0, "steady", "is about ×1,000 of the usual $14/kg, as a unit error would make it"),
        # Guinea's printed matter to the UAE: 1/1,707 of the usual price had read "about
        # ×1/1,000" of it; the text gives the ratio it is
        # within the band of the step is nearer it than the usual price, not "near" it
        (0.5, "steady", "is 2,000 times the usual $14/kg, nearer the ×1,000 a unit error would "
         "make than the usual price"),
        (None, None, "the quantity or the partner's record would tell them apart."),
    ],
)  # fmt: skip
def test_a_unit_slip_says_what_the_months_weight_shows(weight_step, reading, says):
    """A ×1000 month whose weight stayed put (or halved: a unit value within the band of the
    step) supports the unit error; without weights the text is as before."""
    v = _steady(n=6, noise=0.1)
    weights = None if weight_step is None else np.round(v / 14.0)
    v[:, 20] *= 1000.0
    if weights is not None:
        weights[:, 20] *= weight_step
    found = findings(keyed_panel(v, weights=weights), default_detectors(["implausible"]))
    slips = found[found["period"] == "2024-09"]
    assert len(slips) == len(v)
    for f in slips.to_dict("records"):
        ev, text = f["evidence"], f["explanation"]
        assert ev["reason"] == "unit_slip" and says in text, text
        if reading is None:
            assert "unit_value" not in ev and "weight" not in text
            continue
        assert ev["usual_unit_value"] == pytest.approx(14.0, rel=0.05)
        assert ev["unit_value"] == pytest.approx(14.0 * 1000.0 / weight_step, rel=0.05)
        assert ev["weight_vs_usual_month"] == pytest.approx(weight_step, rel=0.5)
        assert "the quantity or the partner's record" not in text
        assert "The quantity supports a unit error" in text


def test_a_slip_whose_weight_moved_far_less_than_its_value_says_the_weight_moved():
    """Guinea's silver to Ghana, July 2018: 9,700 times its expected month, 302 kg, 45 times
    the typical month's weight, at 216 times the usual price: "The weight did not move with
    the value" and "216 times the usual price, near the ×1,000". The weight moved, far less
    than the value; the price is nearer the step than the usual one, not near it."""
    v = _steady(n=3, noise=0.1)
    weights = np.round(v / 14.0)
    v[:, 20] *= 2_000.0
    weights[:, 20] *= 9.0  # 222 times the usual price
    found = findings(keyed_panel(v, weights=weights), default_detectors(["implausible"]))
    slips = found[found["period"] == "2024-09"]
    assert len(slips) == len(v)
    for text in slips["explanation"]:
        assert "The weight moved far less than the value: " in text, text
        assert "did not move" not in text and "near the" not in text
        assert "nearer the ×1,000 a unit error would make than the usual price" in text


@pytest.mark.parametrize(
    ("step", "weight_step", "kind", "says"),
    [
        (1000.0, 1000.0, "spike", "The weight moved with it"),
        # the weight moved further than the value: a shipment of cheaper goods, no unit error
        (1000.0, 5000.0, "spike", "The weight moved with it (19,315 t against 4.49 t"),
        (1e-3, 1e-3, "implausible", "The weight fell with it (3.86 kg against 4.49 t in the "
         "series' usual month): the record holds little of the goods too, so their value is "
         "not what is off."),
        # most of the way: a unit value 1/6 of the usual one is no ×1/1000 step of it
        (1e-3, 1 / 150, "implausible", "The weight fell with it (26 kg against 4.49 t"),
    ],
)  # fmt: skip
def test_a_month_whose_weight_moved_with_its_value_is_a_shipment_not_a_slip(
    step, weight_step, kind, says
):
    """Italy's imports of CN 39204910 from Slovakia: samples of €14–15, then €20.6K for
    19 t at the same price, were "close to ×1,000, the signature of a unit error" (high).
    A unit error changes the value, not the kilograms: a month whose weight moved with its
    value is a shipment of that size, the spike it is above; below, a month next to nothing
    (the only one of the series), read with its weight as such, not as a unit error."""
    v = _steady(n=1, noise=0.1)
    weights = np.round(v / 14.0) + 1.0
    v[:, 20] *= step
    weights[:, 20] *= weight_step
    detectors = default_detectors(["implausible", "spike", "dip"])
    (month,) = (
        findings(keyed_panel(v, weights=weights), detectors)
        .query("period == '2024-09'")
        .to_dict("records")
    )
    assert month["kind"] == kind and says in month["explanation"], month["explanation"]
    assert "unit error" not in month["explanation"]
    if kind == "implausible":
        assert month["evidence"]["reason"] == "near_zero"


@pytest.mark.parametrize(
    ("price", "reading"),
    [
        (1.0, "moved"),
        (0.25, "moved"),  # within the band, a factor 5
        (0.18, "mostly"),  # China's graphite to Japan, December 2023
        (0.11, "mostly"),  # the weight carried more than two thirds of the step
        (0.09, "unsettled"),
        (0.002, "steady"),
        (4.0, "moved"),
        (20.0, "further"),
    ],
)
def test_a_weight_that_moved_most_of_the_way_is_no_unit_error(price, reading):
    """China's exports of natural graphite (HS 250410) to Japan, December 2023: $7.0K for
    20 t, 1/580 of the expected month, its weight 150 times lower and its $0.35/kg what
    other partners paid that month, was "close to ×1/1,000, the signature of a unit error"
    (high): a unit value of 0.18 times the usual one, just outside the band (×5), was
    "unsettled". A weight that carried at least two thirds of a ×1/1000 step on the log
    scale moved most of the way with the value: a fall in the goods, not in their unit."""
    from tradesentry.detectors.implausible import weight_reading

    ev = {"usual_unit_value": 2.0, "net_weight_kg": 1000.0}
    assert weight_reading(ev, 1000.0 * 2.0 * price, 1e-3) == reading


@pytest.mark.parametrize(
    ("partner_step", "kind"), [(1.0, "implausible"), (1000.0, "spike"), (0.2, "spike")]
)
def test_a_slip_in_value_and_weight_stands_where_the_partners_record_did_not_move(
    partner_step, kind
):
    """Poland's exports of CN 48064090 to Germany: €492.3K for 105 t in a series of about
    €500 a month, at the usual price, while Germany recorded €152 of the month against its
    usual €318: value and weight were both entered ×1000 (the partner's record did not
    move), a slip whose weight is read in the text. Where the partner's month rose as
    much, the shipment is real: a spike."""
    v = _steady(n=1, noise=0.1)
    weights = np.round(v / 14.0) + 1.0
    mirror = v * 1.02
    v[:, 20] *= 1000.0
    weights[:, 20] *= 1000.0
    mirror[:, 20] *= partner_step
    panel = keyed_panel(v, weights=weights, context=mirror_context(mirror))
    detectors = default_detectors(["implausible", "spike", "dip"])
    (month,) = findings(panel, detectors).query("period == '2024-09'").to_dict("records")
    assert month["kind"] == kind, month["explanation"]
    if kind == "implausible":
        assert month["evidence"]["partner_held"]
        text = month["explanation"]
        assert "But the weight moved with the value" in text
        assert "value and weight entered wrong together is the likelier reading" in text
        assert "a real change in the quantity shipped is the likelier" not in text


def _slip(observed: float, expected: float, step: float, **evidence) -> dict:
    return {
        "period": "2025-01",
        "partner": "ITA",
        "observed": observed,
        "expected": expected,
        "currency": "EUR",
        "evidence": {"reason": "unit_slip", "factor": step, "level_months": [], **evidence},
    }


@pytest.mark.parametrize(
    ("finding", "says", "not_said"),
    [
        (  # PRT → ITA, January 2025: €2 read as ×1/1,000,000 is €2.0M, above any month
            _slip(2.0, 599_396.0, 1e-6, largest=325_714.0, smallest=103.0),
            ["€2.0M, 3.3 times its expected value and 6.1 times the largest month the "
             "series has recorded (€325.7K); a genuine fall"],
            [],
        ),
        (  # within ×2 of the series' largest month: no clause
            _slip(2.0, 599_396.0, 1e-6, largest=1.5e6, smallest=103.0),
            ["€2.0M, 3.3 times its expected value; a genuine fall"],
            ["recorded (€"],
        ),
        (  # EST → FIN, October 2024: €858.4K read as ×1,000 is €858, below any month
            _slip(858_396.0, 2_845.6, 1e3, largest=17_000.0, smallest=2_000.0),
            ["€858, 1/3.3 of its expected value and 1/2.3 of the smallest month the series "
             "has recorded (€2.0K)"],
            [],
        ),
        (  # and with its 0 kg, in whole kilograms, the weight fell with the value
            _slip(
                2.0, 599_396.0, 1e-6, largest=325_714.0, smallest=103.0, net_weight_kg=0.0,
                unit_value=None, usual_unit_value=5.22, usual_weight_kg=3191.0,
                weight_vs_usual_month=0.0, whole_kg=True,
            ),
            ["(€325.7K). But the weight moved with the value: 0 kg (under half a kilogram: "
             "the series' weights are whole kilograms) against 3.19 t in the series' typical "
             "month, where €2 at the usual €5.22/kg would weigh 0.383 kg. A unit error"],
            ["a genuine fall", "the quantity or"],
        ),
        (  # 0 kg of weights that are not whole kilograms: no reading
            _slip(
                2.0, 599_396.0, 1e-6, net_weight_kg=0.0, unit_value=None,
                usual_unit_value=5.22, usual_weight_kg=3191.5, weight_vs_usual_month=0.0,
                whole_kg=False,
            ),
            ["The quantity or the partner's record would tell them apart."],
            ["0 kg"],
        ),
        (  # EST → FIN: the weight rose 1,700 times where the value rose 300 times
            _slip(
                858_396.0, 2_845.6, 1e3, net_weight_kg=309_567.0, unit_value=2.773,
                usual_unit_value=17.86, usual_weight_kg=179.0, weight_vs_usual_month=1729.4,
                whole_kg=True,
            ),
            ["But the weight moved too, further than the value: 310 t, 1,700 times the "
             "series' typical month (179 kg), at €2.77/kg against the usual €18/kg."],
            [],
        ),
        (  # ESP → HUN, August 2024: the weight fell, less than the value, most of the way
            _slip(
                23.0, 8_200.0, 1e-3, net_weight_kg=5.0, unit_value=4.6,
                usual_unit_value=34.13, usual_weight_kg=239.0, weight_vs_usual_month=0.0209,
                whole_kg=True,
            ),
            ["But the weight moved most of the way with the value: 5 kg, 1/48 of the series' "
             "typical month (239 kg), at €4.60/kg against the usual €34/kg, far nearer the "
             "usual unit value than ×1/1,000 of it. A unit error changes the value, not the "
             "kilograms, so a real change in the quantity shipped is the likelier reading"],
            ["does not settle"],
        ),
        (  # the same at a third of the price: the weight fell less than two thirds of the way
            _slip(
                23.0, 8_200.0, 1e-3, net_weight_kg=15.0, unit_value=1.53,
                usual_unit_value=34.13, usual_weight_kg=239.0, weight_vs_usual_month=0.0628,
                whole_kg=True,
            ),
            ["the weight does not settle it: 15 kg, 1/16 of the series' typical month (239 kg), "
             "at €1.53/kg against the usual €34/kg, neither the usual unit value nor "
             "×1/1,000 of it."],
            ["likelier"],
        ),
    ],
)  # fmt: skip
def test_a_unit_slip_reading_is_set_against_the_series_range_and_weight(finding, says, not_said):
    text = Implausible().explain(finding)
    for said in says:
        assert said in text, text
    for unsaid in not_said:
        assert unsaid not in text, text


@pytest.mark.parametrize(
    ("ratio", "said"),
    [
        (1 / 60, "1/60 of"),  # 1 kg of 60 kg: rounding 0.0167 to 0.017 first read 1/59
        (25 / 1_170_000, "1/47,000 of"),  # not 1/48,000
        (3 / 2_222, "1/740 of"),  # not 1/769
        (0.87, "87% of"),  # not 91 % (1/1.1)
        (2.345, "2.3 times"),
        (4e-7, "1/2,500,000 of"),
    ],
)
def test_a_ratio_is_rounded_as_the_reader_sees_it(ratio, said):
    assert times_rounded(ratio) == said


def test_a_chunk_with_a_series_of_no_positive_month_scans_without_warnings(store, tmp_path):
    """The demo's combined January–February figures beside a series of zeros: the least
    positive month of each series, taken with nanmin, warned on stderr in every such scan."""
    import warnings

    from tests.conftest import DEMO_CSV

    zeros = tmp_path / "zeros.csv"
    zeros.write_text(
        "reporter,partner,flow,classification,commodity,period,value,currency\n"
        + "".join(f"CHN,FRA,export,HS,TOTAL,2020-{m:02d},0,USD\n" for m in range(1, 13))
    )
    store.ingest(DEMO_CSV)
    store.ingest(zeros)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = store.scan(save=False, kinds=["implausible"])
    assert {f["period"] for f in found} >= {"2021-02"}


def test_a_low_month_says_which_of_the_two_rules_it_passed():
    """As China's exports of HS 380110 to Hong Kong were read: $38 in July 2024, the only
    month below a thousandth of the series' typical $63.1K, while February 2024 recorded
    $84. "No other month of the series is that low" read as if none came near it; the text
    now names the rule. (That series, shipped now and then since August 2022, now reads
    its $38 as a parcel where the line often ships nothing: ``ordinary_nothing``.)"""
    v = 63.1e3 * np.exp(np.random.default_rng(3).normal(0.0, 0.1, 96))
    v[85], v[90] = 84.0, 10.0  # February and July 2024 (not ×1/1,000 of the month: no slip)
    found = findings(keyed_panel(v, start="2017-01"), default_detectors(["implausible"]))
    july = found[found["period"] == "2024-07"].iloc[0]
    assert july["evidence"]["low_rule"] == "tiny"
    assert (
        "It is the only month of the series below a thousandth of its typical month"
        in (july["explanation"])
    )
    assert "No other month" not in july["explanation"]


def test_a_month_far_below_all_others_says_none_comes_near_it():
    v = _steady(1, 36, 0.1)[0]
    v[20] = v.min() / 30_000  # no unit step: 1/30,000
    (found,) = findings(keyed_panel(v), default_detectors(["implausible"])).to_dict("records")
    assert found["evidence"]["low_rule"] == "alone"
    assert "No other month of the series comes within a factor 10 of it" in found["explanation"]


@pytest.mark.parametrize("kind", ["implausible", "dip"])
def test_a_series_first_month_is_no_dip_nor_near_zero(kind):
    """A flow that starts late in a month holds part of it: China's first $3.0K of HS 380110
    to Hungary (November 2017, then months of about $117K) was a high ``implausible``. The
    same figure later in the series is still flagged."""
    v = np.full(48, np.nan)
    v[10:] = 1.2e5 * np.exp(np.random.default_rng(5).normal(0.0, 0.1, 38))
    low = 300.0 if kind == "implausible" else 2.5e4
    first, later = v.copy(), v.copy()
    first[10], later[30] = low, low
    detectors = default_detectors([kind])
    assert findings(keyed_panel(first), detectors).empty
    assert list(findings(keyed_panel(later), detectors)["period"]) == ["2025-07"]


def test_samples_before_a_flow_starts_are_no_figure_near_zero(shared_data):
    """France's exports of CN 39204990 to Hungary: €33 in May 2023 and €13 in July, then
    €44K from December and about €190K a month. July's €13 was "not a plausible amount of
    trade" (high, €80.8K at stake): the months before the flow starts, below 1 % of the
    series' typical month, are samples, not a flow gone missing. A month as low once the
    flow runs still is one."""
    v = comext_series(shared_data, "39204990", "FR", "HU", 2)
    assert np.nanmax(v[:11]) < 100 and np.nanmin(v[11:]) > 1e4  # to November 2023; after
    detectors = default_detectors(["implausible", "dip"])
    assert findings(keyed_panel(v), detectors).empty
    later = v.copy()
    later[27] = 13.0  # April 2025
    assert list(findings(keyed_panel(later), detectors)["period"]) == ["2025-04"]


@pytest.mark.parametrize(
    ("january_kg", "flagged"),
    [(None, []), (4809.0, []), (220_000.0, [("2025-01", "unit_value")])],
    ids=["no-weight", "weight-fell-too", "weight-of-the-flow"],
)
def test_one_of_several_samples_near_a_thousandth_of_the_flow_is_no_slip(
    shared_data, january_kg, flagged
):
    """Hungary's exports of CN 39209959 to Poland: €1,139 and €51 in 2023, €2,120 (4.8 t)
    in January 2025 and €15 in February, then €1.7M–2.1M a month from March. January was
    "close to ×1/1,000, the signature of a unit error", high, at stake €1.9M: samples of
    €15 to €2,120 hold one near a thousandth of the flow by chance. Only a weight that
    stayed at the flow's (about 220 t a month) says the value slipped: the flow's start in
    March is dated (its samples' side read over 24 months), so January is measured among
    the samples, and its price names the slip."""
    v = comext_series(shared_data, "39209959", "HU", "PL", 2)
    assert np.nanmax(v[:26]) < 3000 and np.nanmin(v[26:]) > 1e6  # to February 2025; after
    weights = None
    if january_kg is not None:
        weights = np.where(np.isfinite(v), v / 8.1, np.nan)
        weights[24] = january_kg
    kinds = ["implausible", "dip", "unit_value"]
    found = findings(keyed_panel(v, weights=weights), default_detectors(kinds))
    assert list(zip(found["period"], found["kind"], strict=True)) == flagged
    if flagged:
        assert "a value slip" in found["explanation"].iloc[0]


def test_a_few_scattered_months_are_judged_only_where_the_others_agree():
    """Romania's imports of CN 85235910 from Hungary, five months in three years: €4, €81,
    €5,826, €1, €53. €5,826 read as a ×1000 slip and €1 as one the other way, expected
    from the €5,826: both high. A series too short for a scale of its own is read for
    orders of magnitude only where its other months agree within ×10."""
    v = np.full(36, np.nan)
    v[[1, 6, 14, 18, 26]] = [4.0, 81.0, 5826.0, 1.0, 53.0]
    assert findings(keyed_panel(v), default_detectors(["implausible"])).empty
    agree = _others_agree(np.array([[100.0, 120.0, 90.0, 1.1e5, 110.0, np.nan]]))
    assert agree.tolist() == [[False, False, False, True, False, False]]


@pytest.mark.parametrize(
    ("between", "flagged"),
    [(None, ["2024-02", "2024-11"]), (9e3, [])],
    ids=["apart", "a-month-in-between"],
)
def test_a_few_tiny_months_standing_apart_are_each_implausible(between, flagged):
    """Czechia's exports of CN 85235910 to Austria: months of about €100K–160K, and €47 in
    May 2023 and €8 in April 2024. Each hid the other from the rule of the only month below
    a thousandth of the typical one (one got a low dip, the other nothing). A few such
    months, at most one in five, with no month between a thousandth and a tenth of the
    typical one, are each implausible; a month at €9K between them makes the series one of
    every size, and the rule stands back."""
    v = 1.2e5 * np.exp(np.random.default_rng(9).normal(0.0, 0.15, 36))
    v[[13, 22]] = [47.0, 8.0]
    if between is not None:
        v[30] = between
    found = findings(keyed_panel(v), default_detectors(["implausible"]))
    assert list(found["period"]) == flagged
    for f in found.to_dict("records"):
        assert f["evidence"]["tiny_months"] == 2
        assert (
            "It is one of 2 months of the series below a thousandth of its typical month"
            in (f["explanation"])
        )


@pytest.mark.parametrize(
    ("tiny", "reasons"),
    [
        ([0.12, 0.0035, 0.15], ["near_zero"] * 3),  # €0.0035 fits no slip: a habit
        ([0.12, 0.15], ["unit_slip"] * 2),  # each ×1/1,000,000 and no other: slips
    ],
    ids=["a-habit-of-tiny-figures", "two-slips"],
)
def test_tiny_months_at_every_size_are_no_unit_slips_where_one_fits_none(tiny, reasons):
    """Ireland's imports of Guinea's bauxite: months of about 100B GNF, and 27.6K, 9.3K
    and 45.0K in 2017. Two landed within a slip's tolerance of ×1/1,000,000 and read
    "a unit error", the third fit none and read "not a plausible amount of trade": one
    habit of tiny figures, told three ways. Where one of a series' tiny months standing
    apart is no slip, each is near zero; tiny months that each fit a slip stay slips."""
    v = 1.0e5 * np.exp(np.random.default_rng(9).normal(0.0, 0.15, 48))
    months = [8, 25, 41][: len(tiny)]
    v[months] = tiny
    found = findings(keyed_panel(v), default_detectors(["implausible"]))
    assert list(found["period"]) == [f"{2023 + m // 12}-{m % 12 + 1:02d}" for m in months]
    assert [f["reason"] for f in found["evidence"]] == reasons


@pytest.mark.parametrize(
    ("first_weight", "found"),
    [(None, True), (2000.0, True), (1.0, False)],
    ids=["no-weight", "weight-as-usual", "weight-moved-with-it"],
)
def test_a_first_month_a_thousandth_of_the_flow_is_a_slip_unless_its_weight_says_otherwise(
    first_weight, found
):
    """Germany's imports of CN 48114900 from Portugal opened with €4 for 1 kg before months
    of €6K–53K at the same €4/kg: "close to ×1/1,000, the signature of a unit error", high.
    A first month at a thousandth of the flow is still read as a slip (a leading unit error
    must not go unseen), except where its weight moved with its value: a small shipment at
    the usual price."""
    rng = np.random.default_rng(2)
    kilos = 2000.0 * np.exp(rng.normal(0, 0.1, 36))
    value = 4.0 * kilos * np.exp(rng.normal(0, 0.05, 36))
    value[0] = value[1] / 1000
    weights = None
    if first_weight is not None:
        weights = kilos.copy()
        weights[0] = first_weight
    got = findings(keyed_panel(value, weights=weights), default_detectors(["implausible"]))
    assert list(got["period"]) == (["2023-01"] if found else [])


@pytest.mark.parametrize(
    ("augusts", "flagged"),
    [((85.0, 26.0, 176.0), []), ((3.0e4, 26.0, 3.0e4), ["2024-08"])],
    ids=["every-august-low", "one-august-low"],
)
def test_a_month_as_low_as_its_same_month_in_other_years_is_the_season(augusts, flagged):
    """Portugal's exports of CN 35069110 to Italy run near nothing every August (€85, €26,
    €176 among months of about €30K): the €26 was "the only month below a thousandth of
    its typical month", high enough for a finding though its own expectation, seasonal,
    was €257. A month whose same month of another year is within ×10 of it is the
    series' season; alone at that low it is still implausible."""
    v = 3.0e4 * np.exp(np.random.default_rng(4).normal(0.0, 0.2, 36))
    v[[7, 19, 31]] = augusts
    found = findings(keyed_panel(v), default_detectors(["implausible"]))
    assert list(found["period"]) == flagged


def test_a_season_is_not_lent_by_a_month_whose_level_rests_on_too_few_months():
    """Latvia's imports of CN 39204310 from Finland, four months in two years: €23.5K,
    €38.4K, €1.1K in September 2023 and €40.0K in September 2024. The second September's
    level was the first's €1.1K (its only month near enough), which lent the first a
    season of ×13 from the second: €484.7K expected, a high implausible finding on a
    series that never reached €41K. A month whose level rests on fewer months than a
    level needs lends no season."""
    v = np.full(19, np.nan)
    v[[0, 2, 6, 18]] = [23.5e3, 38.4e3, 1.1e3, 40.0e3]
    panel = keyed_panel(v, start="2023-03")
    assert findings(panel, default_detectors(["implausible"])).empty
    from tradesentry.detectors.baseline import baseline

    assert baseline(panel).seasonal[0, 6] == 0.0  # the first September: no season lent


@pytest.mark.parametrize(
    ("shipped", "flagged"),
    [(1.0, ["2024-06"]), (0.44, [])],
    ids=["ships-every-month", "ships-now-and-then"],
)
def test_a_parcel_where_the_line_often_ships_nothing_is_neither_dip_nor_implausible(
    shipped, flagged
):
    """Sweden's exports of CN 48114900 to Portugal, with trade in 44 % of its months: €205
    between months of €15.6K and €15.2K was a dip, "a real interruption (a closure, a lost
    contract)", high. In a line without trade a quarter of the time or more, a month of
    next to nothing says what a month without trade says, and neither is flagged there
    (the gap detector asks for 75 % of months with trade too); in a line that ships every
    month the same €205 is implausible."""
    rng = np.random.default_rng(5)
    v = 15.6e3 * np.exp(rng.normal(0.0, 0.1, 36))
    empty = rng.random(36) > shipped
    empty[[16, 17, 18]] = False
    v[empty] = np.nan
    v[17] = 205.0
    found = findings(keyed_panel(v, start="2023-01"), default_detectors(["implausible", "dip"]))
    assert list(found["period"]) == flagged


@pytest.mark.parametrize(("others", "flagged"), [(4, False), (6, True)])
def test_no_other_month_near_it_needs_other_months(others, flagged):
    """Luxembourg's imports of CN 39206290 from Spain: €9.6K, €32, €3.3K and €3.3K, a
    series of four shipments, had its €32 "not a plausible amount of trade" (high): a
    level of its own needs six months (``thin_level_points``)."""
    v = np.full(others + 1, 3.3e3) * np.exp(np.linspace(-0.3, 0.3, others + 1))
    v[others // 2] = 32.0
    found = findings(keyed_panel(v, start="2024-05"), default_detectors(["implausible"]))
    assert (len(found) == 1) == flagged


@pytest.mark.parametrize("silence", ["before", "after"])
def test_a_line_sparse_years_before_but_regular_around_the_month_keeps_its_findings(silence):
    """China's exports of HS 380110 to Iran: two shipments in 2018, then 13 straight months
    of $0.3–3.1M and $93 in July 2024 among them. Over its span the line is without trade
    most of the time, but not in the year on each side of the month, from the flow's first
    month to its last: the $93 is flagged (Denmark's exports of CN 39206900 to Czechia, €82
    in April 2023 inside ten straight months of €7.2K–95K, then near silence, likewise)."""
    rng = np.random.default_rng(6)
    v = np.full(96, np.nan)
    if silence == "before":
        v[[10, 14]] = 5e5
        v[83:96] = 1.2e6 * np.exp(rng.normal(0.0, 0.4, 13))
    else:
        v[80:93] = 1.2e6 * np.exp(rng.normal(0.0, 0.4, 13))
        v[[95]] = 5e5
    v[90] = 93.0
    found = findings(keyed_panel(v, start="2017-01"), default_detectors(["implausible", "dip"]))
    assert "2024-07" in list(found["period"])


@pytest.mark.parametrize(
    ("factors", "reason"),
    [
        ([1.02e3, 0.93e3, 1.1e3], "unit_slip"),
        ([1.02e-3, 0.93e-3, 1.1e-3], "unit_slip"),
        ([1.2e-4, 0.95e-4, 1.0e-4], "near_zero"),
    ],
    ids=["three-x1000", "three-x1/1000", "three-tiny"],
)
def test_three_orders_of_magnitude_off_in_36_months_do_not_hide_each_other(factors, reason):
    """A steady series of $1M with three months ×1000 (or ×1/1,000, or a ten-thousandth):
    each side's scale is widened by the 95 % point of all the months' deviations, so the
    three (8 % of the months) made that side's scale their own and none was found. Read in
    the two-sided scale, which stands a tenth of the months straying, each is."""
    v = 1.0e6 * np.exp(np.random.default_rng(1).normal(0.0, 0.1, 36))
    months = [10, 20, 25]
    v[months] *= factors
    found = findings(keyed_panel(v), default_detectors(["implausible"]))
    assert sorted(found["period"]) == ["2023-11", "2024-09", "2025-02"]
    assert [e["reason"] for e in found["evidence"]] == [reason] * 3


def test_months_x1000_in_more_than_a_tenth_of_a_series_are_its_habit_not_slips():
    """Five months of 36 at ×1000 (a flow of occasional bulk cargoes): what more than a
    tenth of the months do is the series' own, and none is called a unit error."""
    v = 1.0e6 * np.exp(np.random.default_rng(1).normal(0.0, 0.1, 36))
    v[[4, 10, 17, 25, 31]] *= 1e3
    found = findings(keyed_panel(v), default_detectors(["implausible"]))
    assert not any(e["reason"] == "unit_slip" for e in found["evidence"])


def test_slips_found_in_the_two_sided_scale_are_scored_in_it():
    """Two figures at ×1000 of a 14-figure series ($100B against about $100M; an annual
    series of 14 years read the same): found as unit slips in the two-sided scale, but
    scored 0 in their side's, which the two had made their own: low, ranked last."""
    rng = np.random.default_rng(1)
    v = 1e8 * np.exp(rng.normal(0.0, 0.05, 14))
    v[[4, 8]] *= 1e3
    found = findings(keyed_panel(v), default_detectors(["implausible"]))
    assert len(found) == 2
    assert (found["score"] == 1.0).all()


@pytest.mark.parametrize(
    ("months", "factor", "length"),
    [([5, 17], 1e-3, 24), ([5, 17], 1e3, 24), ([11, 23, 35], 1e3, 48)],
    ids=["two-junes-x1/1000", "two-junes-x1000", "three-decembers-x1000"],
)
def test_the_same_month_off_by_a_unit_error_every_year_is_no_season(months, factor, length):
    """A month more than ×316 from its level is no evidence of a season: two Junes at
    ×1/1000 had excused each other (a weak season's range), and three Decembers at ×1000
    had become a season of ×1,053 whose last, ordinary December was a dip."""
    v = 1e6 * np.exp(np.random.default_rng(1).normal(0.0, 0.1, length))
    v[months] *= factor
    found = findings(keyed_panel(v), default_detectors())
    assert [(f["kind"], f["evidence"].get("reason")) for f in found.to_dict("records")] == [
        ("implausible", "unit_slip")
    ] * len(months)


def test_a_combined_figure_is_read_in_the_two_sided_scale_too():
    """Three months ×1000 of a series with January–February published together made the
    upper side's scale theirs (3.96 against 0.105); the months were found in the two-sided
    scale, the ×1000 pair beside them was not."""
    panel, _ = china_style_panel(np.random.default_rng(2), n=1)
    panel.values[0, [15, 29, 42]] *= 1e3
    panel.combined[0, 24] *= 1e3
    found = findings(panel, default_detectors(["implausible"]))
    assert sorted(found["period"]) == ["2019-04", "2020-01", "2020-06", "2021-07"]


@pytest.mark.parametrize(
    ("kg", "flagged"),
    [(None, []), (10.0, []), (2000.0, ["2025-06"])],
    ids=["no-weight", "weight-fell-too", "weight-of-the-flow"],
)
def test_a_thousandth_in_a_line_that_often_ships_nothing_is_a_parcel(kg, flagged):
    """Guinea's exports of CN 49070000 to the Emirates: banknotes at face value in some
    months, printed matter in others, nothing in most: the printed matter read as ×1/1,000
    slips. A month near nothing is no implausible month in a line without trade a quarter
    of its months or more, nor a unit error unless its weight stayed at the flow's."""
    rng = np.random.default_rng(6)
    v = 1e6 * np.exp(rng.normal(0.0, 0.1, 48))
    v[::3] = 0.0  # no trade one month in three
    v[29] = 1e3  # June 2025: a thousandth of the flow
    weights = None
    if kg is not None:
        weights = np.where(v > 0, 2000.0 * np.exp(rng.normal(0.0, 0.1, 48)), 0.0)
        weights[29] = kg
    found = findings(keyed_panel(v, weights=weights), default_detectors(["implausible", "dip"]))
    assert list(found["period"]) == flagged


@pytest.mark.parametrize("quiet", [0.0, np.nan], ids=["zeros", "missing"])
def test_a_slip_a_hundred_times_every_other_month_is_one_in_a_lumpy_line(quiet):
    """An HS6 line shipping $32K–$1.48M in 30 % of its months, one month ×1000
    ($190.5M): a low spike "4.1 times the series' usual variation", its scale wide from
    the lumpy shipments. A hundred times every month the line ever had is no shipment by
    chance: a unit slip, and the text says how far above the rest it lies."""
    rng = np.random.default_rng(7)
    v = np.where(rng.random(60) < 0.7, quiet, np.round(np.exp(rng.normal(np.log(2e5), 1.0, 60))))
    v[22] = 190_531.0
    clean = findings(keyed_panel(v, commodity="811292"), default_detectors())
    v[22] *= 1000
    found = findings(keyed_panel(v, commodity="811292"), default_detectors())
    (slip,) = found[found["period"] == "2024-11"].to_dict("records")
    assert slip["kind"] == "implausible" and slip["evidence"]["reason"] == "unit_slip"
    assert slip["severity"] in ("medium", "high")
    assert " times the largest other month of the series ($" in slip["explanation"]
    assert len(found) == len(clean) + 1


def test_a_slip_apart_from_every_month_says_so_in_either_reading():
    """24 shipments of $10K–100K and one month of $15M, 280 times its expectation: a slip
    read by what the month would have been (not "close to ×1,000"), scored high on its
    distance above every other month; the text had not said that ground (a review)."""
    rng = np.random.default_rng(4)
    v = np.round(np.exp(rng.uniform(np.log(1e4), np.log(1e5), 36)))
    v[30] = 280 * np.median(v)
    (slip,) = findings(keyed_panel(v, commodity="200000"), [Implausible()]).to_dict("records")
    assert "would have been" in slip["explanation"]
    assert "; as recorded, it is " in slip["explanation"]
    assert " times the largest other month of the series ($" in slip["explanation"]
