"""incoherent: combined months against their months, details against totals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradesentry.datasets import make_panel, synthetic_keys, synthetic_values
from tradesentry.detectors import default_detectors
from tradesentry.detectors.incoherent import Incoherent, _figure_units, _rounding_unit

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
    assert f["explanation"].startswith("The combined figure for January–February 2020 is ")
    assert "9.1% less. One of the releases" in f["explanation"]  # the months, of the pair


@pytest.mark.parametrize(("scale", "apart"), [(0.5, "100.0% more"), (1.5, "33.3% less")])
def test_a_combined_figure_off_its_months_says_which_way(scale, apart):
    """Half its months' sum: they are 100% more than the pair (not "100% apart"); one and
    a half times it: they are a third less."""
    panel = make_panel(np.array([[4.0e6, 6.0e6, 5.0e6]]), start="2021-01")
    panel.combined[0, 0], panel.combined_span[0, 0] = 10.0e6 * scale, 2
    [text] = findings(panel, [Incoherent()])["explanation"]
    assert f"sum to $10.0M ($4.0M + $6.0M), {apart}. One of the releases" in text


@pytest.mark.parametrize(
    ("january", "flagged"),
    [
        (28.8e6, True),  # more than the pair that holds it
        (19.8e6, False),  # 1 % more: within the 2 % tolerance
        (12.0e6, False),  # less: February may hold the rest
    ],
)
def test_a_single_month_above_the_combined_figure_that_holds_it(january, flagged):
    """January 2020 published at $28.8M beside a January–February of $19.6M, February not
    published singly: only a spike was found, as the check wanted both months. The month
    published is a lower bound of the pair: a part cannot exceed its whole."""
    v = np.full((1, 24), 10.0e6)
    v[0, 12], v[0, 13] = january, np.nan
    panel = make_panel(v)
    panel.combined[0, 12], panel.combined_span[0, 12] = 19.6e6, 2
    out = Incoherent().detect(panel)
    assert len(out) == flagged
    if not flagged:
        return
    assert (out["start"] == 12).all() and (out["end"] == 13).all()
    f = findings(panel, [Incoherent()]).iloc[0]
    assert f["impact"] == pytest.approx(9.2e6)  # the excess, as the difference elsewhere
    assert f["evidence"]["parts"] == [28.8e6]
    assert f["evidence"]["missing_months"] == ["2020-02"]
    assert f["explanation"] == (
        "The combined figure for January–February 2020 is $19.6M, but the single month "
        "published for January 2020 is $28.8M, 46.9% more: a part cannot exceed its whole "
        "(February 2020 has no single figure). One of the releases was revised or one of "
        "the figures is wrong."
    )


def test_single_months_of_a_longer_combined_figure_are_summed_against_it():
    """Two of a January–March's months published, together above it: said as a sum."""
    v = np.full((1, 12), 1.0e6)
    v[0, 1:3] = [2.0e6, np.nan]
    panel = make_panel(v, start="2021-01")
    panel.combined[0, 0], panel.combined_span[0, 0] = 2.5e6, 3
    [text] = findings(panel, [Incoherent()])["explanation"]
    assert text.startswith(
        "The combined figure for January–March 2021 is $2.5M, but the single months published "
        "for January 2021 and February 2021 sum to $3.0M ($1.0M + $2.0M), 20.0% more: a part "
        "cannot exceed its whole (March 2021 has no single figure)."
    )


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


def test_details_above_a_total_of_zero_are_incoherent():
    """Parts cannot exceed the whole, a whole of 0 included: its ratio is infinite, the
    break is not."""
    rng = np.random.default_rng(0)
    ch = rng.lognormal(12, 0.3, (2, 24))
    total = ch.sum(axis=0, keepdims=True)
    total[0, 7] = 0.0
    keys = _keys([("FRA", "TOTAL"), ("FRA", "01"), ("FRA", "02")])
    panel = make_panel(np.vstack([total, ch]), keys=keys)
    out = Incoherent().detect(panel)
    assert list(out["start"]) == [7]
    f = findings(panel, [Incoherent()]).iloc[0]
    assert "the total is $0 but" in f["explanation"]
    assert "parts cannot exceed the whole" in f["explanation"]


@pytest.mark.parametrize(("scale", "above_low"), [(1.0, False), (1000.0, True)])
def test_a_break_of_a_few_currency_units_is_low(scale, above_low):
    """A total 14 % above its one partner: €81 is low, €81,000 is not."""
    total = np.full(24, 582.0) * scale
    detail = total.copy()
    total[10] = 663.0 * scale
    keys = _keys([("WLD", "TOTAL"), ("BEL", "TOTAL")])
    panel = make_panel(np.vstack([total, detail]), keys=keys)
    out = Incoherent().detect(panel)
    assert list(out["start"]) == [10]
    assert (out["score"].iloc[0] >= 0.5) == above_low


def _won_break(check: str):
    """A panel in won (about a million a month) with a break of 700,000 won (about $500)
    by ``check``: a February published alone 700,000 above the January–February holding
    it ("combined"), two combined figures sharing February ("overlap": counted twice at
    the smaller monthly average, 700,000), or a world total above its one partner
    ("partner"); no single figure beside a combined one, as China publishes them."""
    if check == "partner":
        values = np.full((2, 24), 1e6)
        values[0, 10] = 1.7e6
        panel = make_panel(values, keys=_keys([("WLD", "TOTAL"), ("BEL", "TOTAL")]))
    else:
        values = np.full((1, 24), 1e6)
        values[0, :3] = np.nan
        panel = make_panel(values)
        if check == "combined":
            values[0, 1] = 1.7e6  # February alone, above its pair
            panel.combined[0, 0], panel.combined_span[0, 0] = 1e6, 2
        else:
            panel.combined[0, 0], panel.combined_span[0, 0] = 1.4e6, 2
            panel.combined[0, 1], panel.combined_span[0, 1] = 1.6e6, 2
    panel.keys["currency"] = "KRW"
    return panel


@pytest.mark.parametrize("rated", [True, False], ids=["rate", "no-rate"])
@pytest.mark.parametrize("check", ["combined", "overlap", "partner"])
def test_a_break_is_weighed_in_dollars_where_the_store_has_the_rate(check, rated):
    """Less than about $2,000 at stake cannot be high, but the check weighed its money in
    currency units always: 700,000 won (about $500) was high though the store had the won
    at 1,400 per dollar. The rate of a combined figure's month is the combined figure's
    where no single figure carries it; without a rate, the bar is read in won."""
    panel = _won_break(check)
    if rated:  # the store's context: a rate beside each row, a combined figure's apart
        panel.context["own_per_usd"] = np.where(np.isfinite(panel.values), 1400.0, np.nan)
        panel.context["combined_own_per_usd"] = np.where(panel.combined_span > 0, 1400.0, np.nan)
    (found,) = Incoherent().detect(panel).to_dict("records")
    assert found["impact"] == pytest.approx(7e5)
    if rated:
        assert found["score"] == pytest.approx(7e5 / 1400 / 2000)
    else:
        assert found["score"] >= 0.5


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


def test_two_combined_figures_that_cover_one_month_count_it_twice():
    """January–February and February–March both published: February is in both. Each
    figure's months were left empty, so nothing else read the release at all."""
    v = np.full((2, 12), np.nan)
    v[:, 4:] = 1e6
    panel = make_panel(v)
    panel.combined[:, 0], panel.combined_span[:, 0] = 2e6, 2
    panel.combined[0, 1], panel.combined_span[0, 1] = 3e6, 2  # series 1: March alone
    panel.combined[1, 2], panel.combined_span[1, 2] = 2e6, 2
    out = Incoherent().detect(panel)
    (found,) = out.to_dict("records")
    assert found["series"] == 0 and (found["start"], found["end"]) == (1, 1)  # February
    assert found["impact"] == pytest.approx(1e6)  # February at the smaller average
    assert found["evidence"]["shared_months"] == ["2019-02"]
    text = findings(panel, [Incoherent()]).iloc[0]["explanation"]
    assert text.startswith(
        "The combined figure for January–February 2019 ($2.0M) and the one for "
        "February–March 2019 ($3.0M) both cover February 2019: that month is counted twice"
    )


def test_every_combined_figure_inside_another_is_its_own_overlap():
    """January–June beside February–March and April–May: both pairs count months twice,
    each told over its own months; one withheld figure counts nothing twice."""
    panel = make_panel(np.full((2, 12), 1e6))
    for i in range(2):
        panel.combined[i, 0], panel.combined_span[i, 0] = 6e6, 6
        panel.combined[i, 1], panel.combined_span[i, 1] = 2e6, 2
        panel.combined[i, 3], panel.combined_span[i, 3] = 2e6, 2
    panel.combined[1, 3] = np.nan  # withheld
    out = Incoherent().detect(panel)
    overlaps = out[out["evidence"].map(lambda e: e["check"] == "overlap")]
    spans = sorted(zip(overlaps["series"], overlaps["start"], overlaps["end"], strict=True))
    assert spans == [(0, 1, 2), (0, 3, 4), (1, 1, 2)]


def test_an_overlap_over_a_combined_figure_checked_against_its_months_is_told_once():
    """January–March and February–March with every single month published: the overlap
    covers February–March, the months the second figure is set against; one finding there
    (a finding's id is its kind, series and months), not two with one id."""
    v = np.full((1, 12), 1.5e6)
    panel = make_panel(v)
    panel.combined[0, 0], panel.combined_span[0, 0] = 3e6, 3
    panel.combined[0, 1], panel.combined_span[0, 1] = 2e6, 2
    found = findings(panel, [Incoherent()])
    assert not found["id"].duplicated().any()
    assert sorted(zip(found["period"], found["period_end"], strict=True)) == [
        ("2019-01", "2019-03"),
        ("2019-02", "2019-03"),
    ]


def test_an_overlap_past_the_panels_last_month_is_labelled():
    panel = make_panel(np.full((1, 12), 1e6))
    panel.combined[0, 10], panel.combined_span[0, 10] = 3e6, 3
    panel.combined[0, 11], panel.combined_span[0, 11] = 3e6, 2
    (found,) = Incoherent().detect(panel).to_dict("records")
    assert found["evidence"]["months"] == ["2019-11", "2019-12", "2020-01"]
    assert found["evidence"]["shared_months"] == ["2019-12", "2020-01"]


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
    ("short", "says", "severity"),
    [
        (
            (9,),
            [
                "match the total (within 2%) in 23.",
                "A figure missing among the details, a total not updated, or trade that month "
                "with a partner whose figures are not in the store.",
            ],
            "high",
        ),
        (
            (3, 9, 15),
            [
                "match the total (within 2%) in 21 and fall short of it in 2.",
                "The details fall short in 3 of the 24 months: more likely some of the total's "
                "partners are not in the store",
            ],
            "low",
        ),
    ],
)
def test_the_other_months_are_counted_not_said_to_match(short, says, severity):
    """The partners sum to half the total in the ``short`` months and match it (one within
    the tolerance) in the others: the text counts both from the evidence, never "while in
    other months they match", and a shortfall that recurs reads as partners missing from
    the store (a Comext file holds the EU partners and China only). The score says what the
    text says: a likely error is high, with the gap at stake; partners likely not in the
    store are low (score below 0.5), with no money at stake."""
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
        assert f["severity"] == severity
        gap = ev["total"] - ev["sum_of_parts"]
        assert f["impact"] == (gap if severity == "high" else 0.0)
        assert (f["score"] <= 0.5) == (severity == "low")


@pytest.mark.parametrize(
    ("residual_months", "month_short", "low"),
    [
        (range(24), 0.035, True),
        (range(10), 0.035, False),  # a residual in under half the other months
        (range(24), 0.135, False),  # far more than the partners not in the store ever held
    ],
)
def test_details_a_little_short_in_most_months_read_as_partners_not_held(
    residual_months, month_short, low
):
    """Germany's exports of CN 48064010 to the world, May 2025: the partners in the store
    summed to 3.7 % less than the total, high ("a figure missing among the details"), "the
    details match the total (within 2%) in 34" of the other months: in 31 of those the
    world exceeded the partners' sum beyond the rounding, on figures exact to the euro.
    Details below their total beyond the rounding in at least half the other months are a
    part of it: a shortfall up to twice the largest of theirs reads as trade with partners
    not in the store (low, nothing at stake). Finland's imports of CN 35069110 from the
    world, April 2024, 13.5 % short where the residual never reached 2 %, stays a break."""
    rng = np.random.default_rng(4)
    partners = np.round(rng.lognormal(12, 0.3, (3, 24)))
    world = partners.sum(axis=0, keepdims=True)
    # a partner the store does not hold: 1.9 % of the world in most months
    world[0, list(residual_months)] = np.round(world[0, list(residual_months)] / 0.981)
    world[0, 12] = np.round(partners[:, 12].sum() / (1 - month_short))
    keys = _keys([("WLD", "TOTAL"), ("FRA", "TOTAL"), ("ITA", "TOTAL"), ("ESP", "TOTAL")])
    (f,) = findings(make_panel(np.vstack([world, partners]), keys=keys), [Incoherent()]).to_dict(
        "records"
    )
    below = len(residual_months) - (12 in residual_months)
    assert f["evidence"]["other_below"] == below
    assert (f["severity"] == "low") == low and (f["impact"] == 0.0) == low
    said = (
        f"But in {below} of them the details fell short of the total too, beyond the rounding "
        "of the figures, by at most 1.9"
    )
    assert (said in f["explanation"]) == (below >= 12), f["explanation"]
    if below >= 12 and not low:
        assert (
            "though this month's shortfall is more than twice what they held" in (f["explanation"])
        )


def test_months_of_a_total_without_any_detail_say_the_details_are_not_all_held():
    """Latvia's exports of CN 85235910 to the world: one partner's €416 against a total of
    €6.4K in October 2023, high, "10 of 11 match"; in 6 other months the total had no
    partner in the store at all (a Comext file holds the EU partners and China). Those
    months say what a recurring shortfall says: partners not in the store, low."""
    rng = np.random.default_rng(6)
    partners = rng.lognormal(9, 0.3, (1, 24))
    world = partners.copy()
    world[0, 10] *= 15.0  # the month the details fall short
    partners[0, [2, 5, 8, 14, 17, 21]] = np.nan  # months with a total and no detail
    keys = _keys([("WLD", "TOTAL"), ("FRA", "TOTAL")])
    found = findings(make_panel(np.vstack([world, partners]), keys=keys), [Incoherent()])
    (f,) = found.to_dict("records")
    assert f["evidence"]["other_bare"] == 6 and f["severity"] == "low" and f["impact"] == 0
    assert "In 6 other months the total has no detail in the store at all." in f["explanation"]
    assert (
        "and are missing in 6 other months: more likely some of the total's partners"
        in (f["explanation"])
    )


def test_months_before_the_store_holds_any_detail_say_nothing():
    """World totals fetched over two years, partners over the second only: the first year
    is a difference of coverage, not partners missing. One month short among twelve that
    match is a likely wrong figure, high, with its money at stake."""
    rng = np.random.default_rng(7)
    partners = rng.lognormal(12, 0.3, (2, 24))
    world = partners.sum(axis=0, keepdims=True)
    partners[:, :12] = np.nan  # the store holds the partners from the second year on
    partners[0, 17] *= 0.2
    keys = _keys([("WLD", "TOTAL"), ("FRA", "TOTAL"), ("JPN", "TOTAL")])
    found = findings(make_panel(np.vstack([world, partners]), keys=keys), [Incoherent()])
    (f,) = found.to_dict("records")
    assert f["evidence"]["other_bare"] == 0 and f["severity"] == "high" and f["impact"] > 0


_EU = ["FRA", "ITA", "ESP", "NLD", "BEL", "POL", "AUT", "SWE", "DNK", "FIN"]
_EU += ["IRL", "PRT", "GRC", "CZE", "HUN", "ROU", "BGR", "HRV", "SVK", "SVN"]


@pytest.mark.parametrize(
    ("parts", "total", "flagged"),
    [
        # exact to the euro: no rounding to forgive, however round the total and the sum
        ((6_345_678.0, 3_654_322.0), 20_000_000.0, True),
        ((6_345_678.0, 3_654_322.0), 10_150_000.0, False),  # within the 2 % tolerance
        # 21 figures in thousands: half a thousand each, ±10,500
        ((2_000.0,) * 20, 49_000.0, False),
        ((2_000.0,) * 20, 51_000.0, True),
        ((2_000.0,) * 20, 29_000.0, True),  # details over the total by as much
    ],
)
def test_the_rounding_allowance_is_half_a_unit_per_figure(parts, total, flagged):
    """The unit is the largest power of ten dividing every figure (each detail, not their
    sum) and the allowance half of it per figure (the total and each detail), not twice."""
    details = np.tile(np.array(parts)[:, None], (1, 24))
    world = details.sum(axis=0, keepdims=True)
    world[0, 14] = total
    keys = _keys([("WLD", "847130"), *((p, "847130") for p in _EU[: len(parts)])])
    out = Incoherent().detect(make_panel(np.vstack([world, details]), keys=keys))
    assert list(out["start"]) == ([14] if flagged else [])


def test_the_months_counted_short_or_over_are_the_months_flagged():
    """The other months a finding counts as short of the total or over it are judged with
    the allowance the finding's own month is: each of them is a finding too."""
    details = np.tile(np.array([[6_345_678.0], [3_654_322.0]]), (1, 24))
    world = details.sum(axis=0, keepdims=True)
    world[0, 16], world[0, 18] = 20_000_000.0, 5_000_000.0  # 50 % short, then 100 % over
    world[0, 20] = 10_150_000.0  # within the tolerance: a match
    keys = _keys([("WLD", "847130"), ("FRA", "847130"), ("ITA", "847130")])
    found = findings(make_panel(np.vstack([world, details]), keys=keys), [Incoherent()])
    assert sorted(found["period"]) == ["2020-05", "2020-07"]
    for ev in found["evidence"]:
        short = ev["sum_of_parts"] < ev["total"]
        assert (ev["other_short"], ev["other_over"]) == ((0, 1) if short else (1, 0))
        assert ev["other_matching"] == 22


def test_a_month_coherent_by_rounding_is_counted_as_a_match():
    """20 partners at 2,000 each against 49,000, all in thousands, is a match (±10,500),
    but not within 2 %: the text says so."""
    details = np.full((20, 24), 2_000.0)
    world = details.sum(axis=0, keepdims=True)
    world[0, 14], world[0, 5] = 49_000.0, 60_000.0
    keys = _keys([("WLD", "847130"), *((p, "847130") for p in _EU)])
    found = findings(make_panel(np.vstack([world, details]), keys=keys), [Incoherent()])
    assert list(found["period"]) == ["2019-06"]
    ev, text = found.iloc[0]["evidence"], found.iloc[0]["explanation"]
    assert (ev["other_matching"], ev["other_rounded"], ev["other_short"]) == (23, 1, 0)
    assert "match the total (within 2% or the rounding of the figures) in 23." in text


@pytest.mark.parametrize(
    ("editions", "broken", "flagged"),
    [
        (("HS",), ("HS",), "HS"),
        (("H5",), ("H5",), "H5"),  # the ingest keeps TOTAL under HS, chapters in their edition
        (("H5", "H6"), (), None),  # two editions' chapters, each whole: never added together
        (("H5", "H6"), ("H6",), "H6"),
        (("H5", "H6"), ("H5", "H6"), "H6"),  # one finding a month: the larger break
        (("S4",), ("S4",), None),  # SITC divisions are not HS chapters
    ],
)
def test_the_total_meets_the_chapters_of_any_hs_edition(editions, broken, flagged):
    rng = np.random.default_rng(5)
    chapters = rng.lognormal(12, 0.3, (3, 24))
    total = chapters.sum(axis=0, keepdims=True)
    rows, values, classification = [("USA", "TOTAL")], [total], ["HS"]
    for edition in editions:
        ch = chapters.copy()
        if edition in broken:
            ch[0, 9] += total[0, 9] * (1.0 if edition == "H5" else 2.0)  # H6 the larger
        rows += [("USA", c) for c in ("01", "02", "03")]
        values.append(ch)
        classification += [edition] * 3
    keys = _keys(rows)
    keys["classification"] = classification
    found = findings(make_panel(np.vstack(values), keys=keys), [Incoherent()])
    assert len(found) == (flagged is not None)
    if flagged:
        f = found.iloc[0]
        assert (f["commodity"], f["classification"], f["period"]) == ("TOTAL", "HS", "2019-10")
        assert f["evidence"]["details_classification"] == flagged
        named = "its HS chapters" + ("" if flagged == "HS" else f" ({flagged})")
        assert f"the 3 figures for {named} sum to" in f["explanation"]


FIGURES = [0.0, 1.0, 7.0, 10.0, 300.0, 1000.0, 1234000.0, 29000.0, 2e9, 3e12, 999_999_999.0,
           1.5, 0.25, 1e-7, 12_345.000001, 49_000.0, 1e9 + 1, 5e8]  # fmt: skip


def test_the_context_reads_a_figure_s_rounding_as_the_detector_does():
    """The partners' rounding unit is computed in SQL (``context.figure_unit_sql``, for
    the whole store) and the chapters' in NumPy (``_figure_units``): one rule, two writings,
    the same unit for every figure (NULL in SQL where NumPy says a zero bounds nothing)."""
    import duckdb

    from tradesentry.context import figure_unit_sql

    con = duckdb.connect()
    sql = f"SELECT {figure_unit_sql('v')} FROM unnest(?::DOUBLE[]) AS t(v)"
    in_sql = [row[0] for row in con.execute(sql, [FIGURES]).fetchall()]
    in_numpy = _figure_units(np.array(FIGURES))
    assert [np.inf if u is None else u for u in in_sql] == in_numpy.tolist()
    assert in_numpy.tolist()[:6] == [np.inf, 1.0, 1.0, 10.0, 100.0, 1000.0]


def test_partners_summed_in_another_order_give_the_same_finding():
    """The engines' SQL sums a world row's partners in different orders: 1068715.9 and
    1068715.9000000001 made two findings that differed in their last digits."""
    months = 24
    total = np.full((1, months), 1068715.9)
    total[0, 12] = 2.0e6  # the world's figure twice its partners' in one month

    def found(last_bit: float):
        context = {
            "partners_sum": np.full((1, months), 1068715.9 + last_bit),
            "partners_n": np.full((1, months), 3.0),
            "partners_unknown": np.zeros((1, months)),
            "partners_unit": np.full((1, months), 0.1),
        }
        panel = keyed_panel(total, context=context)
        panel.keys["partner"] = "WLD"
        return findings(panel, [Incoherent()]).to_dict("records")

    (a,), (b,) = found(0.0), found(1.2e-10)
    assert a == b and a["evidence"]["sum_of_parts"] == 1068715.9


@pytest.mark.parametrize(("other_months", "found"), [(5, False), (6, True)])
def test_a_short_month_does_not_vote_in_the_usual_ratio_it_is_judged_by(other_months, found):
    """A world total and its two partners, who sum to it every month but the last, 30 %
    short. Details short of a total are a break only where they are complete in the
    series' other months (``min_months``, six): five others and the short month itself
    made six, and the month was flagged against a usual ratio it had voted in."""
    n = other_months + 1
    deu, fra = np.full(n, 600.0), np.full(n, 401.0)
    world = deu + fra
    fra[-1] = 101.0
    keys = _keys([("WLD", "TOTAL"), ("DEU", "TOTAL"), ("FRA", "TOTAL")])
    out = Incoherent().detect(make_panel(np.vstack([world, deu, fra]), keys=keys))
    assert (len(out) == 1) is found
    if found:
        assert out["start"].iloc[0] == n - 1 and out["evidence"].iloc[0]["usual_ratio"] == 1.0
