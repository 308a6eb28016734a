"""dip: how far below its expectation a month is, in words that never round to 100 %."""

from __future__ import annotations

import numpy as np
import pytest

from tradesentry.detectors import default_detectors, registry
from tradesentry.detectors.dip import Dip

from ._helpers import findings, keyed_panel


@pytest.mark.parametrize(
    ("observed", "expected", "ratio", "says"),
    [
        # Guinea → Singapore, September 2017; evidence saved with six decimals said 0.0
        (92.0e3, 8.0e12, 0.0, "92.0K GNF, 1/87,000,000 of the 8.0T GNF expected"),
        (92.0e3, 8.0e12, 1.15e-8, "92.0K GNF, 1/87,000,000 of the 8.0T GNF expected"),
        (2.5e6, 76.1e9, 3.3e-5, "2.5M GNF, 1/30,000 of the 76.1B GNF expected"),
        (11.0, 2.5e3, 0.0044, "11 GNF, 99.6% below the 2.5K GNF expected"),
        (0.0, 2.5e3, 0.0, "0 GNF, 100% below the 2.5K GNF expected"),  # nothing: all of it
    ],
)
def test_a_dip_never_reads_100_percent_below_for_something(observed, expected, ratio, says):
    finding = {
        "period": "2017-09",
        "observed": observed,
        "expected": expected,
        "currency": "GNF",
        "evidence": {"ratio": ratio, "z": -34.9, "level_months": []},
    }
    text = Dip().explain(finding)
    assert says in text, text


@pytest.mark.parametrize("kind", ["dip", "implausible"])
@pytest.mark.parametrize(
    ("next_observed", "next_z", "offered"),
    [(2e6, 3.0, True), (664_299.0, 1.004, False), (2e6, 0.5, False), (833_000.0, 1.82, False)],
)
def test_the_next_month_is_offered_as_where_trade_went_only_above_its_expected_value(
    kind, next_observed, next_z, offered
):
    """A month's z can come from another reading than its expected value (a weak season):
    "January 2025 was high (€664.3K against €812.2K expected)" contradicted itself. Nor is
    a month under two scales above high (``HIGH_AFTER_Z``): Belgium's €13.0M against €12.7M
    expected, 1.8 scales above, was read as taking part of a €4.7M shortfall."""
    evidence = {
        "reason": "near_zero",
        "typical": 1e6,
        "next_period": "2025-01",
        "next_observed": next_observed,
        "next_expected": 812_171.19,
        "next_z": next_z,
        "next_starts_level": False,
    }
    finding = {
        "kind": kind,
        "period": "2024-12",
        "period_end": "2024-12",
        "observed": 134_400.0 if kind == "dip" else 10.0,
        "expected": 579_000.0,
        "currency": "EUR",
        "evidence": evidence,
    }
    text = registry()[kind]().explain(finding)
    assert ("may have been recorded in January 2025" in text) is offered
    if offered and kind == "dip":  # what its excess can hold of the shortfall
        assert text.endswith(
            "January 2025 was high (€2.0M against €812.2K expected): part of this month's "
            "trade may have been recorded in January 2025; its excess, about €1.2M, would "
            "cover this month's shortfall."
        )


@pytest.mark.parametrize(
    ("factor", "commodity", "said"),
    [
        (1 / 4.0, "35069110",
         "A smaller shipment or contract than usual, or part of the month's trade"),
        (1 / 30.0, "35069110",
         "A real interruption (a closure, a lost contract) or trade not yet recorded"),
        # a total's or a chapter's trade is many goods and traders: no one contract
        (1 / 4.0, "TOTAL", "Less trade that month (demand, prices, a holiday or a "
         "disruption), or part of the month's trade"),
        (1 / 30.0, "85",
         "A real interruption (a closure, a halt of trade) or trade not yet recorded"),
    ],
)  # fmt: skip
def test_a_dip_that_kept_some_trade_is_a_smaller_month_not_a_closure(factor, commodity, said):
    """Poland's imports of CN 35069110 from Sweden: €822 for 100 kg against €3.0K expected
    was "a real interruption (a closure, a lost contract)". Above a tenth of its
    expectation some trade went on: a smaller month; below it, an interruption. Korea's
    exports to China in December 2008, the trough of the crisis, were "a smaller shipment
    or contract than usual": a total's month is less trade, not one contract."""
    v = 3.0e3 * np.exp(np.random.default_rng(7).normal(0.0, 0.05, 36))
    v[20] *= factor
    (dip,) = findings(keyed_panel(v, commodity=commodity), [Dip()]).to_dict("records")
    assert said in dip["explanation"], dip["explanation"]
    assert ("contract" in dip["explanation"]) == (commodity == "35069110")


@pytest.mark.parametrize(
    ("after", "said"),
    [
        (False, "had stopped before this month, and the months it is measured against are all"),
        (True, "a flow starting again may hold part of a month's trade"),
    ],
    ids=["measured-before", "measured-after"],
)
def test_a_month_after_half_a_year_without_figures_says_so(after, said):
    """China's $144 of HS 380110 to Hong Kong in August 2022, after $293K–$1.6M a month to
    December 2021 and nothing since, read as a dip of "$540.4K at stake", as if August were
    the month the trade fell: the text says the seven months without a figure before it,
    and which side of them its expectation is taken from."""
    rng = np.random.default_rng(7)
    v = 4e5 * np.exp(rng.normal(0, 0.15, 36))
    v[12:19] = np.nan  # January to July 2024: no figure
    v[19] = 150.0  # August 2024
    if not after:
        v[20:] = np.nan  # and nothing after it: its level is the months before the silence
    found = findings(keyed_panel(v), default_detectors(["implausible", "dip"]))
    (month,) = found[found["period"] == "2024-08"].to_dict("records")
    assert month["evidence"]["silent_months"] == 7
    assert (
        "It follows 7 months without a figure (January 2024 to July 2024)" in month["explanation"]
    )
    assert said in month["explanation"]


def test_a_year_without_a_figure_is_a_silence_of_an_annual_series():
    """Silence is counted in months: a year without a figure before an annual series' low
    year is twelve of them (counted in columns, an annual series needed six years)."""
    from tradesentry.datasets import make_panel

    rng = np.random.default_rng(11)
    v = 5e6 * np.exp(rng.normal(0, 0.1, (1, 23)))
    v[0, 19:22] = np.nan  # 2009 to 2011: no figure
    v[0, 22] = 1e3  # 2012
    found = findings(
        make_panel(v, start="1990-01", freq="A"), default_detectors(["implausible", "dip"])
    )
    (year,) = found.to_dict("records")
    assert year["evidence"]["silent_months"] == 3  # periods of the series: years
    assert "It follows 3 years without a figure (2009 to 2011)" in year["explanation"]


def test_a_combined_figure_after_half_a_year_without_figures_says_so():
    """China publishes January and February as one figure: a low pair after July to
    December without a figure had none of the sentence a single January gets."""
    from ._helpers import china_style_panel

    panel, _ = china_style_panel(np.random.default_rng(5), n=1)
    panel.values[0, 30:36] = np.nan  # July to December 2020
    panel.combined[0, 36] = 300.0  # January–February 2021
    panel.values[0, 38:] = np.nan  # nothing after it: its expectation is before the silence
    found = findings(panel, default_detectors(["implausible", "dip"]))
    (pair,) = found[found["period"] == "2021-01"].to_dict("records")
    assert pair["evidence"]["combined"] and pair["evidence"]["silent_months"] == 6
    assert (
        "It follows 6 months without a figure (July 2020 to December 2020)" in pair["explanation"]
    )


def test_one_year_without_a_figure_is_named_once():
    from tradesentry.detectors.evidence import silence_text

    ev = {"silent_months": 1, "silent_from": "2020-01", "silent_to": "2020-01"}
    text = silence_text({"freq": "A", "period": "2021-01", "evidence": ev})
    assert text.startswith(" It follows 1 year without a figure (2020)")


def test_the_weight_is_set_against_the_months_the_expectation_came_from():
    """Guinea's exports of steel scrap to India (ITC declarations): 2 t lots of about 18M
    GNF in most months, and four months from September 2016 at 4 t, 4 t, November and 8 t.
    The weight a dip is read against is the median of the months its expectation came
    from, here that episode's 4 t: "2 t against 4 t in the series' usual month" said what
    the series' usual month is not. A 1 t November names the months it is set against."""
    v = np.full(48, np.nan)
    v[[1, 5, 7, 9, 12, 13, 15, 17, 24, 25, 27, 28, 32, 33, 37, 38, 39, 40, 42, 44, 45]] = 18e6
    v[[4, 29, 34, 35, 46]] = 36e6
    v[20:24] = [36e6, 36e6, 9e6, 72e6]
    panel = keyed_panel(v, start="2015-01", weights=v / 9e3, currency="GNF", reporter="GIN")
    (text,) = findings(panel, default_detectors(["dip"]))["explanation"]
    assert "The weight moved with it (1 t against 4 t in the months around it)" in text, text
    assert "usual month" not in text, text
