"""Combined figures (China's January–February) judged as the sum of their months."""

from __future__ import annotations

import numpy as np
import pytest

from tradesentry.detectors import default_detectors

from ._helpers import as_cells, china_style_panel, findings

JAN_FEB_2021 = 36  # the panels run from January 2018


def _scan(panel, kinds=("implausible", "spike", "dip", "timing_shift", "level_shift")):
    detectors = default_detectors(list(kinds))
    found = [d.detect(panel).assign(kind=d.kind) for d in detectors]
    return [f for f in found if len(f)], {d.kind: d for d in detectors}


@pytest.mark.parametrize(
    ("scale", "kind", "says"),
    [(20.0, "spike", "times the"), (0.05, "dip", "% below the"), (1.0, None, None)],
)
def test_a_combined_figure_far_off_its_months_sum_is_a_spike_or_a_dip(scale, kind, says):
    """January–February 2021 at ×20 or ×0.05 of its usual pair is a spike or a dip over
    both months, as a single month would be; at its usual level it is nothing."""
    panel, usual = china_style_panel(np.random.default_rng(2))
    panel.combined[1, JAN_FEB_2021] *= scale
    found, detectors = _scan(panel)
    if kind is None:
        assert not found
        return
    [out] = found
    assert out["kind"].tolist() == [kind]
    assert out[["series", "start", "end"]].values.tolist() == [[1, JAN_FEB_2021, 37]]
    finding = out.iloc[0].to_dict()
    assert finding["expected"] == pytest.approx(usual[1, 3], rel=0.15)
    assert finding["impact"] == pytest.approx(abs(finding["observed"] - finding["expected"]))
    text = detectors[kind].explain(
        {**finding, "period": "2021-01", "period_end": "2021-02", "currency": "USD"}
    )
    assert text.startswith("The combined figure for January–February 2021 is $")
    assert says in text and "for its 2 months (the sum of their expected values" in text
    assert "(×0.6" in text  # the other years' pairs, which the New Year keeps low


def test_a_combined_figure_whose_months_are_published_is_left_to_them():
    """Where the single months are published beside the pair, they are judged themselves
    (and the pair against them, by ``incoherent``): one off pair is not flagged twice."""
    panel, _ = china_style_panel(np.random.default_rng(2))
    panel.values[1, JAN_FEB_2021 : JAN_FEB_2021 + 2] = 20 * 0.6e6
    panel.combined[1, JAN_FEB_2021] *= 20.0
    found, _ = _scan(panel, ["spike"])
    [out] = found
    assert out[["start", "end"]].values.tolist() == [[36, 36], [37, 37]]  # the months


def test_a_series_first_figure_is_no_dip_when_combined():
    """A flow that starts in a pair of months holds part of them, as a first month does."""
    panel, _ = china_style_panel(np.random.default_rng(2))
    panel.values[1, :JAN_FEB_2021] = np.nan
    panel.combined[1, :JAN_FEB_2021] = 0.0
    panel.combined_span[1, :JAN_FEB_2021] = 0
    panel.combined[1, JAN_FEB_2021] *= 0.05
    found, _ = _scan(panel, ["dip"])
    assert not found


def test_a_change_that_starts_with_a_combined_figure_is_dated_from_it():
    """A flow five times larger from January 2021, whose January–February is one figure:
    the new level starts with that figure, not with March, the first single month after
    it, and the pair is no spike against the old level. The levels count the pair's
    months at their average, and the text says so."""
    panel, _ = china_style_panel(np.random.default_rng(2))
    panel.values[1, JAN_FEB_2021:] *= 5.0
    panel.combined[1, JAN_FEB_2021] *= 5.0
    found, detectors = _scan(panel)
    [out] = found
    assert out[["kind", "series", "start"]].values.tolist() == [["level_shift", 1, JAN_FEB_2021]]
    finding = out.iloc[0].to_dict()
    assert finding["observed"] / finding["expected"] == pytest.approx(5.0, rel=0.1)
    assert [f["months"] for f in finding["evidence"]["combined_counted"]] == [
        ["2020-01", "2020-02"],
        ["2021-01", "2021-02"],
    ]
    text = detectors["level_shift"].explain({**finding, "period": "2021-01", "currency": "USD"})
    assert text.startswith("From January 2021 the series runs at a new level")
    assert (
        "January–February 2020 and January–February 2021 were each published as one figure: "
        "their months count at their average." in text
    )


def test_a_wrong_pair_whose_months_are_published_is_one_incoherent_finding():
    """January–February at a thousandth of its months, which are published too: the months
    say what the pair should be, so it is one incoherent finding, not an implausible one
    beside it with the same money counted again."""
    panel, _ = china_style_panel(np.random.default_rng(2))
    panel.values[1, JAN_FEB_2021 : JAN_FEB_2021 + 2] = 1.0e6
    panel.combined[1, JAN_FEB_2021] = 2.0e3
    found, _ = _scan(panel, ["implausible", "incoherent", "spike", "dip"])
    [out] = found
    assert out[["kind", "start", "end"]].values.tolist() == [["incoherent", 36, 37]]


@pytest.mark.parametrize(
    ("months", "judged"),
    [({30: 30_000.0, 42: 43_335.0}, False), ({30: 30_000.0, 40: 12_412.0, 42: 43_335.0}, True)],
    ids=["two other figures", "three that agree"],
)
def test_a_pair_is_judged_only_where_a_month_would_be(months, judged):
    """A $273 pair beside two months of $30K and $43K (as Sweden's HS 811292 in 2024) has
    no usual level to be implausible against, as a single month there would not; beside
    three months that agree within ×10 it is a figure near zero, but not as the series'
    first figure: a flow may start within the pair."""
    assert bool(_scan(_pair_among(months), ["implausible"])[0]) is judged
    first = {col: value for col, value in months.items() if col > JAN_FEB_2021}
    assert not _scan(_pair_among({**first, 44: 20_000.0}), ["implausible"])[0]


def _pair_among(months: dict[int, float]):
    """One series of a $273 January–February 2021 and ``months`` (column: value)."""
    panel, _ = china_style_panel(np.random.default_rng(2), n=1)
    panel.values[:] = np.nan
    panel.combined[:] = np.nan
    panel.combined_span[:] = 0
    for col, value in months.items():
        panel.values[0, col] = value
    panel.combined[0, JAN_FEB_2021], panel.combined_span[0, JAN_FEB_2021] = 273.0, 2
    return panel


def test_a_low_pair_before_a_high_march_says_its_trade_may_be_there():
    """70 % of January–February 2021 recorded in March: the pair is a dip, and its text
    gives March's figure and the reading of a timing shift, as a single month's dip does."""
    panel, _ = china_style_panel(np.random.default_rng(2))
    moved = 0.7 * panel.combined[1, JAN_FEB_2021]
    panel.combined[1, JAN_FEB_2021] -= moved
    panel.values[1, JAN_FEB_2021 + 2] += moved
    found, detectors = _scan(panel, ["dip"])
    [out] = found
    finding = out.iloc[0].to_dict()
    assert finding["evidence"]["next_period"] == "2021-03"
    text = detectors["dip"].explain({**finding, "period": "2021-01", "currency": "USD"})
    assert " March 2021 was high ($1.8M against $975.7K expected): part of these months' " in text
    assert text.endswith(
        "trade may have been recorded in March 2021; its excess, about $838.3K, is 92% of "
        "these months' shortfall."
    )


def test_a_pair_that_is_the_newest_figure_has_both_months_on_the_axis():
    """A store just after China's January–February release ends in a pair: the panel's
    months ended at January, so the pair's expected sum was January's alone (and the scan
    crashed naming February)."""
    import pandas as pd

    from tradesentry.detectors.combined import combined_readings
    from tradesentry.panel import Panel

    months = pd.period_range("2019-01", "2020-12", freq="M").astype(str)
    rows = [(m, 1, 1e6) for m in months] + [("2021-01", 2, 2e6)]
    frame = pd.DataFrame(rows, columns=["period", "period_months", "value"]).assign(
        reporter="CHN", partner="JPN", flow="export", classification="HS", commodity="TOTAL",
        breakdown="", freq="M", currency="USD", net_weight_kg=np.nan,
        period=lambda f: f["period"] + "-01",
    )  # fmt: skip
    panel = Panel.from_frame(frame)
    assert panel.label(panel.n_months - 1) == "2021-02"
    found = combined_readings(panel)
    assert found.expected[0] == pytest.approx(2e6, rel=0.05) and abs(found.z[0]) < 1
    assert not _scan(panel, ["implausible", "spike", "dip", "level_shift", "gap"])[0]


def test_a_pair_beside_its_january_leaves_its_january_alone():
    """China published January 2020's imports from North Korea ($10.3M) beside their
    January–February ($10.7M): the levels count February as the rest ($0.4M), not both
    months at $5.35M over January's own figure; and the pair, its month's business, is no
    spike or dip of its own."""
    from tradesentry.detectors.combined import spread_months

    panel, _ = china_style_panel(np.random.default_rng(2), n=1)
    panel.values[0, JAN_FEB_2021] = 1.0e6
    panel.combined[0, JAN_FEB_2021] = 1.4e6
    spread, filled = spread_months(panel, panel.values)
    assert spread[0, JAN_FEB_2021] == 1.0e6 and not filled[0, JAN_FEB_2021]
    assert spread[0, JAN_FEB_2021 + 1] == pytest.approx(0.4e6) and filled[0, JAN_FEB_2021 + 1]
    panel.combined[0, JAN_FEB_2021] = 20e6  # far off: the months (and incoherent) speak
    assert not _scan(panel, ["implausible", "spike", "dip"])[0]


MARCH_2021 = JAN_FEB_2021 + 2


@pytest.mark.parametrize(
    ("share", "direction", "first"),
    [(0.4, "earlier", "January–February 2021"), (-0.5, "later", "January–February 2021")],
    ids=["march-into-jan-feb", "jan-feb-into-march"],
)
def test_a_timing_shift_across_a_combined_figure_is_one_finding(share, direction, first):
    """Korea's exports to China: 40 % of March 2017 moved into January–February read as a
    spike on the pair ($6.67B at stake) and a dip on March ($3.95B): $10.6B for $4.66B
    moved. The combined figure and the month beside it are one pair of a timing shift,
    which replaces both."""
    panel, _ = china_style_panel(np.random.default_rng(2))
    march = panel.values[1, MARCH_2021]
    pair = panel.combined[1, JAN_FEB_2021]
    amount = share * march if share > 0 else -share * pair  # what moved, from where
    if share > 0:  # from March into January–February
        panel.values[1, MARCH_2021] -= amount
        panel.combined[1, JAN_FEB_2021] += amount
    else:  # from January–February into March
        panel.values[1, MARCH_2021] += amount
        panel.combined[1, JAN_FEB_2021] -= amount
    detectors = default_detectors(["implausible", "spike", "dip", "timing_shift", "level_shift"])
    found = findings(panel, detectors)
    assert found["kind"].tolist() == ["timing_shift"]  # no spike, no dip beside it
    assert as_cells(panel, found)[["series", "start", "end"]].values.tolist() == [
        [1, JAN_FEB_2021, MARCH_2021]
    ]
    finding = found.iloc[0].to_dict()
    ev = finding["evidence"]
    assert ev["direction"] == direction
    assert ev["combined"] == {"months": ["2021-01", "2021-02"], "first": True}
    assert finding["impact"] == pytest.approx(amount, rel=0.25)
    text = finding["explanation"]
    assert text.startswith(f"{first} recorded $"), text
    assert "and March 2021 $" in text and "a timing shift" in text
    assert "The combined figure is one for its 2 months" in text


JAN_FEB_2020 = JAN_FEB_2021 - 12


@pytest.mark.parametrize(
    ("january", "february", "found"),
    [
        (0.8e6, 0.4e6, []),
        (1.0e6, 0.2e6, []),
        (0.6e6, 0.6e6, []),
        (5.0e6, 0.4e6, [("spike", JAN_FEB_2020)]),
        (0.1e6, 0.1e6, [("dip", JAN_FEB_2020), ("dip", JAN_FEB_2020 + 1)]),
    ],
    ids=["usual-pair", "thin-february", "even-split", "january-x5", "pair-at-a-sixth"],
)
def test_months_published_apart_only_this_year_are_judged_by_their_sum(january, february, found):
    """January and February 2020 published apart where the other years give the pair:
    their split is unknown (no other year's January has a season of its own), so a
    February at half its January, the two summing to the usual pair, was a high dip "45%
    below the expected". Neither is more unusual than their sum, nor unusual against it: a
    January at ×5 is a spike and its ordinary February no dip beside it; a pair at a sixth
    of the usual is two dips."""
    panel, _ = china_style_panel(np.random.default_rng(2))
    panel.combined[1, JAN_FEB_2020], panel.combined_span[1, JAN_FEB_2020] = 0.0, 0
    panel.values[1, JAN_FEB_2020 : JAN_FEB_2020 + 2] = january, february
    detectors = default_detectors(["implausible", "spike", "dip", "timing_shift", "level_shift"])
    cells = as_cells(panel, findings(panel, detectors))
    assert cells[["kind", "start"]].values.tolist() == [list(f) for f in found]
