"""spike (and dip): a finding that rests on a season taken from other years' odd months gives
both readings, with the figures."""

from __future__ import annotations

import numpy as np
import pytest

from tradesentry.detectors import default_detectors
from tradesentry.detectors.baseline import fit
from tradesentry.detectors.dip import Dip
from tradesentry.detectors.spike import Spike
from tradesentry.text import money

from ._helpers import findings, keyed_panel


def _odd_januaries(other: float, january: float, months: int = 48) -> np.ndarray:
    """``months`` months around $10K (log noise 0.3) from January 2023, whose Januaries
    are ``other``, 0.8 × and 0.7 × ``other`` (2023, 2024 and 2026; 2023 and 2025 in 36
    months) but for January 2025 (2024 in 36 months): ``january``."""
    v = 1e4 * np.exp(np.random.default_rng(3).normal(0.0, 0.3, months))
    odd = [0, 12, 36] if months == 48 else [0, 24]
    v[odd] = other * np.array([1.0, 0.8, 0.7])[: len(odd)]
    v[24 if months == 48 else 12] = january
    return v


ODD_YEARS = [
    ("spike", 200.0, 1.6e4),  # Januaries at 1/50: an ordinary January reads as a spike
    ("dip", 3e6, 6e3),  # Januaries at ×300: an ordinary January reads as a dip
]


@pytest.mark.parametrize(("kind", "other", "january"), ODD_YEARS)
def test_a_season_from_other_years_odd_months_gives_both_readings(kind, other, january):
    """Three other years' Januaries far off: the season is what most years did, and an
    ordinary January 2025 is unusual against it; the text gives both readings."""
    found = findings(keyed_panel(_odd_januaries(other, january)), default_detectors())
    at = found[found["period"] == "2025-01"]
    assert list(at["kind"]) == [kind]
    f = at.iloc[0]
    ev = f["evidence"]
    assert [(s["period"], s["value"]) for s in ev["season_values"]] == [
        ("2023-01", other),
        ("2024-01", pytest.approx(0.8 * other)),
        ("2026-01", pytest.approx(0.7 * other)),
    ]
    # the level alone, in money: the expectation without its seasonal factor, each net
    # of the offset c (1/100 of the series' low end: exp(level + season) − c)
    (c,) = fit(_odd_januaries(other, january)[None, :]).offset
    level = ev["level_expected"] + c
    assert level * ev["seasonal_factor"] - c == pytest.approx(f["expected"], rel=0.01)
    assert ev["level_ratio"] == pytest.approx(january / ev["level_expected"], rel=1e-4)
    assert abs(ev["level_z"]) < 2.0
    for said in (
        f"from January 2023 ({money(other)} against ",
        f"and January 2026 ({money(0.7 * other)} against ",
        f"Without it, January 2025's expected value is {money(ev['level_expected'])} (the "
        "level of the months around it, adjusted likewise)",
        "if those other years' months were the odd ones, January 2025 is an ordinary month.",
    ):
        assert said in f["explanation"], f["explanation"]


@pytest.mark.parametrize(("kind", "other", "january"), ODD_YEARS)
def test_a_season_of_two_odd_years_does_not_make_an_ordinary_month_an_anomaly(kind, other, january):
    """Two other years' Januaries far off (2023 and 2025), January 2024 ordinary for its
    level: the season is the median of the two and the zero year, which two odd months
    make, so January 2024 keeps its deviation from the level alone (``baseline``'s
    ``_weak_season``) and is no finding."""
    found = findings(keyed_panel(_odd_januaries(other, january, 36)), default_detectors())
    assert "2024-01" not in set(found["period"])


def test_a_month_repeating_one_of_two_other_years_is_no_finding():
    """Januaries of 2023 and 2025 at 1/50 of a $10K series, 2024 ordinary: three years
    cannot tell a season from two odd months, and January 2025, repeating January 2023
    (within the range of its other years' months), is no finding, as a tiny month whose
    calendar month is as low in another year is none (``implausible._season_as_low``).
    With January 2023 ordinary it is odd alone, and a dip; with three other years the
    season is what most did (``test_a_season_from_other_years_odd_months_gives_both_readings``)."""
    v = _odd_januaries(200.0, 1.6e4, 36)
    assert not {"2023-01", "2024-01", "2025-01"} & set(
        findings(keyed_panel(v), default_detectors())["period"]
    )
    v[0] = 1e4
    found = findings(keyed_panel(v), default_detectors())
    assert list(found.loc[found["period"] == "2025-01", "kind"]) == ["dip"]


# SVK ← POL import 39206290, January 2024 (Eurostat Comext), as its evidence was saved
_JANUARY = {
    "level_months": ["2023-07", "2023-08", "2023-09", "2023-10", "2023-11", "2023-12"]
    + ["2024-02", "2024-03", "2024-04", "2024-05", "2024-06", "2024-07"],
    "level_window": 6,
    "season_years": ["2023", "2025"],
    "seasonal_factor": 0.004704,
    "regime_start": None,
    "level_expected": 5557.84,
    "level_ratio": 1.847479,
    "level_z": 0.474701,
    "season_values": [
        {"period": "2023-01", "value": 43.0, "level_expected": 9232.56},
        {"period": "2025-01", "value": 8.0, "level_expected": 3443.23},
    ],
    "z": 4.619636,
    "sigma": 1.292997,
    "expected": 25.714937,
    "ratio": 399.301,
}
_ONE_YEAR = {"season_years": ["2023"], "season_values": _JANUARY["season_values"][:1]}
_FIVE_YEARS = {
    "season_years": ["2019", "2020", "2021", "2022", "2023"],
    "season_values": [
        {"period": f"{y}-01", "value": v, "level_expected": e}
        for y, v, e in [(2019, 43.0, 9232.56), (2020, 8.0, 3443.23), (2021, 12.0, 4100.0)]
        + [(2022, 20.0, 5000.0), (2023, 31.0, 6000.0)]
    ],
}


@pytest.mark.parametrize(
    ("change", "says", "never"),
    [
        (
            {},
            "4.6 times the series' usual variation above its expected values. The seasonal "
            "adjustment comes from January 2023 (€43 against a level of €9.2K in the months "
            "around it, each adjusted for its own season) and January 2025 (€8 against €3.4K). "
            "Without it, January 2024's expected value is €5.6K (the level of the months "
            "around it, adjusted likewise) and the month recorded 1.8 times that, within the "
            "series' usual variation: if those other years' months were the odd ones, "
            "January 2024 is an ordinary month. A one-off",
            None,
        ),
        (
            {"level_z": 2.5, "level_ratio": 4.0},
            "recorded 4.0 times that, 2.5 times the series' usual variation above it: if those "
            "other years' months were the odd ones, January 2024 is above the months around "
            "it but no spike.",
            None,
        ),
        (_ONE_YEAR, "if that other year's month was the odd one, January 2024 is", None),
        (
            _FIVE_YEARS,
            "comes from the same month in 5 other years (€8 to €43 against levels of €3.4K to "
            "€9.2K in the months around them, each adjusted for its own season).",
            None,
        ),
        # flagged against the level alone too: the season does not decide it
        ({"level_z": 4.1}, None, "seasonal adjustment comes from"),
        # a season of 1.6 scales is no strong one
        ({"level_z": 3.0}, None, "seasonal adjustment comes from"),
        # evidence saved before the level reading was kept
        ({"level_z": None, "season_values": None}, None, "seasonal adjustment comes from"),
    ],
)
def test_a_spike_gives_the_reading_without_the_season_only_where_it_decides(change, says, never):
    ev = {**_JANUARY, **change}
    finding = {
        "period": "2024-01",
        "observed": 10268.0,
        "expected": 25.714937,
        "currency": "EUR",
        "evidence": ev,
    }
    text = Spike().explain(finding)
    if says:
        assert says in text, text
    if never:
        assert never not in text, text


@pytest.mark.parametrize(
    ("level_z", "level_ratio", "says"),
    [
        # CHN → SVK 250410, April 2024 (Comtrade): ×385 from one April amid nothing
        (
            2.528487,
            3.266667,
            "The seasonal adjustment comes from April 2022 ($299.6K against a level of $2 in "
            "the months around it, each adjusted for its own season). Without it, April "
            "2024's expected value is $30.0K (the level of the months around it, adjusted "
            "likewise) and the month recorded 3.3 times that, 2.5 times the "
            "series' usual variation above it: if that other year's month was the odd one, "
            "April 2024 is above the months around it but no dip.",
        ),
        (-1.2, 0.47, "the month recorded 47% of that, within the series' usual variation"),
        (-3.0, 0.02, "the month recorded 1/50 of that, 3.0 times the series' usual variation"),
        # within ±5 % of the level: never "1.0 times that"
        (0.3, 1.04, "the month recorded about as much as that, within the series' usual"),
        (-0.3, 0.96, "the month recorded about as much as that, within the series' usual"),
        (0.6, 1.2, "the month recorded 1.2 times that, within the series' usual"),
    ],
)
def test_a_dip_gives_the_reading_without_the_season(level_z, level_ratio, says):
    finding = {
        "period": "2024-04",
        "observed": 98000.0,
        "expected": 11552814.0,
        "currency": "USD",
        "evidence": {
            "level_months": ["2024-02", "2024-06", "2024-07"],
            "level_window": 6,
            "season_years": ["2022"],
            "seasonal_factor": 385.1,
            "level_expected": 30000.0,
            "level_ratio": level_ratio,
            "level_z": level_z,
            "season_values": [{"period": "2022-04", "value": 299560.0, "level_expected": 2.0}],
            "z": -10.187933,
            "ratio": 0.00848278,
        },
    }
    text = Dip().explain(finding)
    assert says in text, text


def test_a_series_whose_variation_was_never_seen_has_no_spikes_or_dips():
    """CZE → DNK 39201023 (Eurostat Comext): four reported months in three years, €53,
    €3,999, €3,979 and €33 (September and November 2023, March 2024, January 2025). Each month's expectation is the median of the other three, the
    scale rests on no residual of its own (the prior's 0.25), and €4.0K read "75 times the
    €53 expected … 19.9 times the series' usual variation". Unmeasured series are not
    judged month by month; one with the same months every other month is."""
    sparse = np.full(36, np.nan)
    sparse[[8, 10, 14, 24]] = [53.0, 3999.0, 3979.0, 33.0]
    found = findings(keyed_panel(sparse), default_detectors(["spike", "dip", "timing_shift"]))
    assert found.empty
    rng = np.random.default_rng(2)
    measured = 1e4 * np.exp(rng.normal(0.0, 0.1, 36))
    measured[20] *= 75.0
    found = findings(keyed_panel(measured), default_detectors(["spike"]))
    assert list(found["period"]) == ["2024-09"]


def test_a_season_of_one_other_year_repeated_is_no_anomaly():
    """A quiet series (2 % noise) whose Augusts are at ×0.25 and Decembers at ×0.5 every
    year, December 2025 not yet published: each December's season is half the other's
    (×0.7), and a December that repeats the whole of it read as a dip of 30 % (both
    Decembers). Measured from the range between the level and the other year's month
    (``_weak_season``), neither is; a December at ×0.1 of its level still is a dip."""
    season = np.ones(12)
    season[7], season[11] = 0.25, 0.49
    rng = np.random.default_rng(7)
    v = 1e6 * np.tile(season, 3)[:35] * np.exp(rng.normal(0.0, 0.02, 35))
    assert findings(keyed_panel(v), default_detectors()).empty
    v[23] *= 0.2
    found = findings(keyed_panel(v), default_detectors())
    assert list(zip(found["kind"], found["period"], strict=True)) == [("dip", "2024-12")]


@pytest.mark.parametrize(
    ("partner", "kind", "said", "unsaid"),
    [
        ("FRA", "spike", "a later revision or the partner's mirror record would tell", None),
        ("WLD", "spike", "a later revision would tell them apart", "partner's"),
        ("FRA", "dip", "A smaller shipment or contract than usual", None),
        ("WLD", "dip", "Less trade that month (demand, prices", "partner's"),
        ("X899", "dip", "a later revision would tell them apart", "partner's"),
    ],
)
def test_a_world_series_points_to_no_partners_record(partner, kind, said, unsaid):
    """Portugal's exports of CN 39201081 to the world: "the partner's mirror record would
    tell" of a series that has no partner, and "a smaller shipment or contract than usual"
    of the trade with every partner. The world and UN Comtrade's special areas keep no
    record of their own; a product's trade with the world is many traders'."""
    v = 3.0e4 * np.exp(np.random.default_rng(7).normal(0.0, 0.05, 36))
    v[20] *= 8.0 if kind == "spike" else 1 / 4
    panel = keyed_panel(v, commodity="39201081")
    panel.keys["partner"] = partner
    (found,) = findings(panel, default_detectors([kind])).to_dict("records")
    assert said in found["explanation"], found["explanation"]
    if unsaid:
        assert unsaid not in found["explanation"]


def _opening_samples(january: float) -> np.ndarray:
    """48 months around €10K (log noise 0.1) from January 2019 whose first three months
    are a flow's opening samples (€5, €4, €6), Januaries 2021 and 2022 at ×3, and
    January 2020 at ``january``."""
    v = 1e4 * np.exp(np.random.default_rng(3).normal(0.0, 0.1, 48))
    v[:3] = [5.0, 4.0, 6.0]
    v[[24, 36]] *= 3
    v[12] = january
    return v


@pytest.mark.parametrize(("kind", "january"), [("spike", 9e5), ("dip", 3e3)])
def test_the_years_named_behind_a_season_are_those_it_was_taken_from(kind, january):
    """January 2019 is a flow's opening sample (€5), left out of the season as of the
    level: the factor of January 2020 rests on 2021 and 2022, and its evidence and text
    name those two years only (they named 2019, 2021 and 2022 with the €5 among them)."""
    panel = keyed_panel(_opening_samples(january), start="2019-01", currency="EUR")
    found = findings(panel, default_detectors())
    at = found[found["period"] == "2020-01"]
    assert list(at["kind"]) == [kind]
    ev = at.iloc[0]["evidence"]
    assert ev["season_years"] == ["2021", "2022"]
    assert [s["period"] for s in ev["season_values"]] == ["2021-01", "2022-01"]
    assert "the same month in 2021 and 2022" in at.iloc[0]["explanation"]


def _decembers(years: int, ordinary: int | None) -> np.ndarray:
    """A quiet series ($3.0M, $3.15M, $2.85M in turn) from January 2019 whose Decembers
    are ×5 but for the ``ordinary`` one (its index among the years)."""
    v = np.tile([3.0e6, 3.15e6, 2.85e6], 4 * years)[: 12 * years]
    decembers = np.arange(11, 12 * years, 12)
    v[[d for k, d in enumerate(decembers) if k != ordinary]] *= 5.0
    return v


@pytest.mark.parametrize(
    ("years", "ordinary", "found"),
    [
        (2, None, []),
        (3, None, []),
        (4, 2, [("dip", "2021-12")]),
        (5, 2, [("dip", "2021-12")]),
    ],
)
def test_a_season_most_years_share_is_the_season_in_a_quiet_series(years, ordinary, found):
    """A December at ×5 every year in a series that varies by 5 %: the season was clipped
    at 2.5 scales around the first pass's season (×1.5), and the zero year halved what
    two of three Decembers did, so three Decembers at ×4.75 were each a spike "4.0 times
    the $3.6M expected" and the one ordinary December a low dip; with two years, the
    Decembers were each a spike against the other. The season is what most other years
    did where they agree beyond the noise, and the ordinary December is the dip."""
    v = _decembers(years, ordinary)
    result = findings(keyed_panel(v, start="2019-01"), default_detectors())
    assert list(zip(result["kind"], result["period"], strict=True)) == found


@pytest.mark.parametrize("months", [20, 30, 40])
def test_two_months_far_above_a_quiet_series_do_not_hide_each_other(months):
    """A side's scale is widened by its tail, read at the 95 % point of the residuals:
    with fewer than 41 that was the second largest deviation, so two months at ×10 of a
    series varying by 5 % made the upper scale their own (1.27 log units against 0.11)
    and neither was found. Two months are no habit: the tail is read no further out than
    the third largest deviation (from 20 residuals on; below, a row cannot tell two
    anomalies from a habit)."""
    v = 1e8 * np.exp(np.random.default_rng(1).normal(0.0, 0.05, months))
    v[[4, 12]] *= 10.0
    found = findings(keyed_panel(v), default_detectors(["spike"]))
    assert list(found["period"]) == ["2023-05", "2024-01"]


@pytest.mark.parametrize(("kind", "factor"), [("dip", 0.02), ("dip", 0.1), ("spike", 10.0)])
def test_three_months_in_a_row_far_off_a_quiet_series_are_no_habit(kind, factor):
    """Three months at ×0.02 of a series varying by 20 %: the tail was read at the third
    largest deviation, one of the three, so the series' scale below was their own (1.2 log
    units against 0.2) and none of them was found, nor any finding at all (four months are
    a level shift and its return; two are each a dip). One episode, months in a row off
    the same way, is no habit: each month is found."""
    v = 1e6 * np.exp(np.random.default_rng(1).normal(0.0, 0.2, 36))
    v[15:18] *= factor
    found = findings(keyed_panel(v), default_detectors())
    assert list(zip(found["kind"], found["period"], strict=True)) == [
        (kind, p) for p in ("2024-04", "2024-05", "2024-06")
    ]


def test_two_episodes_of_three_thin_months_stay_a_habit():
    """The same series with two such episodes a year apart (not the same calendar months,
    so no season): a line that ships next to nothing three months at a time may do so
    again; as two single months, two episodes widen the scale below."""
    v = 1e6 * np.exp(np.random.default_rng(1).normal(0.0, 0.2, 36))
    v[[5, 6, 7, 20, 21, 22]] *= 0.1
    assert findings(keyed_panel(v), default_detectors()).empty


@pytest.mark.parametrize(("kind", "factor"), [("spike", 2.0), ("dip", 0.2)])
def test_a_month_a_revision_made_unusual_says_the_previous_release_held_it(
    store, tmp_path, kind, factor
):
    """Korea's exports to Viet Nam, about $200M a month; a second release doubled March
    2021: the spike said "a later revision or the partner's mirror record would tell them
    apart", where the store holds the revision. It says what the previous release held."""
    from tradesentry import api

    rng = np.random.default_rng(4)
    values = 2e8 * np.exp(rng.normal(0.0, 0.05, 60))
    for release, month_factor in ((1, 1.0), (2, factor)):
        rows = ["reporter,partner,flow,commodity,period,value"]
        for m, v in enumerate(values):
            v = v * month_factor if m == 38 else v
            rows.append(f"KOR,VNM,export,TOTAL,{2018 + m // 12}-{m % 12 + 1:02d},{v:.0f}")
        path = tmp_path / f"r{release}.csv"
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
        store.ingest(path, published=f"2023-0{release}-15")
    (found,) = api.scan(store, kinds=kind, save=False).to_records()
    assert found["period"] == "2021-03"
    assert found["evidence"]["previous_release"]["release"] == 1
    before = money(round(values[38]))
    assert (
        f"The previous release, release 1, held {before} for March 2021" in (found["explanation"])
    )
    assert "a later revision" not in found["explanation"]
    # a re-issue of release 2: its revision is still what made the month unusual, and the
    # text names it (it said "this release's revision", of release 3, which revised nothing)
    store.ingest(tmp_path / "r2.csv", published="2023-03-15")
    (found,) = api.scan(store, kinds=kind, save=False).to_records()
    assert (
        f"Release 1 held {before} for March 2021, within the series' usual variation: "
        "release 2's revision made the month unusual" in found["explanation"]
    ), found["explanation"]


@pytest.mark.parametrize(
    ("before", "said"),
    [
        # September at $3,000 of about $0.92M: booking it in October explains a tenth of
        # October's excess of $9M
        (0.003, "that explains at most about $916.0K"),
        (1.0, None),  # an ordinary February: no such reading
    ],
)
def test_a_spike_after_a_low_month_bounds_what_booking_it_late_explains(before, said):
    """China's exports to North Korea, March 2021: $13.0M after February's $3,000. An
    analyst suspected part of February's trade was booked in March; the spike says so
    where the month before was low, with the most that reading explains: the shortfall."""
    v = 1e6 * np.exp(np.random.default_rng(4).normal(0.0, 0.05, 36))
    v[20], v[21] = before * 1e6, 10e6
    found = findings(keyed_panel(v), default_detectors())
    (spike,) = found[found["kind"] == "spike"].to_dict("records")
    assert spike["period"] == "2024-10"
    text = spike["explanation"]
    if said is None:
        assert "It follows a low" not in text
        return
    assert "It follows a low September 2024 ($3.0K against " in text
    assert said in text and "of its $9.0M excess (10% of it)" in text
    assert spike["evidence"]["before_observed"] == pytest.approx(3000.0)


@pytest.mark.parametrize(
    ("partner", "commodity", "said"),
    [("WLD", "39204990", "More trade that month (large contracts, prices, a catch-up after a "
                         "disruption), or a misrecorded figure"),
     ("P0", "TOTAL", "More trade that month (large contracts, prices"),
     ("P0", "39204990", "A one-off shipment, a contract paid in one month, or a misrecorded")],
)  # fmt: skip
def test_a_spike_of_many_goods_or_traders_is_more_trade_not_one_shipment(partner, commodity, said):
    """Poland's exports of CN 39204990 to the world, €48.5M for 25,406 t, read "a one-off
    shipment, a contract paid in one month": a world series, a total or a chapter rises
    with the trade of many traders and goods (``evidence.many_goods``), as its dips and
    level shifts already read."""
    v = 1e6 * np.exp(np.random.default_rng(4).normal(0.0, 0.05, 36))
    v[20] *= 4.0
    panel = keyed_panel(v, commodity=commodity)
    panel.keys["partner"] = partner
    (found,) = findings(panel, [Spike()]).to_dict("records")
    assert said in found["explanation"], found["explanation"]
