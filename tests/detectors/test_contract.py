"""Every registered detector through the same contract: shape, robustness, invariances.

Each property is checked on a panel where the detector has something to find (``suited``):
an anomaly of its own kind planted in a few rows, and for the cross checks the other
records they compare with, so that no property passes on an empty frame.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from tradesentry.datasets import make_panel, synthetic_keys, synthetic_values
from tradesentry.detectors import DETECTION_COLUMNS, default_detectors, registry
from tradesentry.findings import assemble
from tradesentry.panel import Panel

from ._helpers import findings, keyed_panel, mirror_context, revision_context, unit_value_context

KINDS = sorted(registry())
#: the rows an anomaly is planted in (after _messy's all-NaN, constant, intermittent and
#: mostly missing rows 0–3, and the rows the permutation and scale tests change)
PLANTED = np.arange(14, 18)
#: context arrays in money, scaled with the values by a change of currency unit
MONEY = ("mirror_value", "previous_value", "reference_unit_value")
PRICE = 3.0  # the market's unit value, money per kg


def _detect(kind: str, panel: Panel) -> pd.DataFrame:
    return registry()[kind]().detect(panel)


def _key(frame: pd.DataFrame) -> list[tuple]:
    return sorted(zip(frame["series"], frame["start"], frame["end"], frame["kind"], strict=True))


def _messy(seed: int = 3) -> np.ndarray:
    """Series with NaN, zeros, an all-NaN row, a constant row and an intermittent row."""
    v = synthetic_values(40, 36, seed=seed, missing=0.1, zeros=0.03)
    v[0] = np.nan
    v[1] = 5000.0
    v[2] = np.where(np.random.default_rng(seed).random(36) < 0.5, 0.0, 120.0)
    v[3, :30] = np.nan
    return v


def _plant(kind: str, t: int, v, weights, previous, partner, keys) -> None:
    """Plant an anomaly of ``kind`` in the PLANTED rows at period ``t`` (in place): in the
    values, or in the records a cross check compares them with (the weights, the previous
    release's figures, the factor on the partner's record), or in the keys."""
    rows = PLANTED
    if kind == "implausible":
        v[rows, t] *= -1  # a negative value of trade
    elif kind == "spike":
        v[rows, t] *= 40
    elif kind == "dip":
        v[rows, t] *= 1e-3
    elif kind == "timing_shift":  # 80 % of period t recorded in t + 1
        moved = 0.8 * v[rows, t]
        v[rows, t] -= moved
        v[rows, t + 1] += moved
    elif kind == "level_shift":
        v[rows, t:] *= 0.05
    elif kind == "gap":
        v[rows, t : t + 2] = np.nan
    elif kind == "incoherent":  # a total and its three HS chapters, which exceed it in t
        keys.loc[rows, "partner"] = keys.at[rows[0], "partner"]
        keys.loc[rows, "commodity"] = ["TOTAL", "01", "02", "03"]
        v[rows[0]] = np.nansum(v[rows[1:]], axis=0)
        v[rows[0], t] *= 0.5
    elif kind == "revision":  # +25 % in one period, −30 % over two
        previous[rows[:2], t] /= 1.25
        previous[rows[2:], t : t + 2] /= 0.7
    elif kind == "mirror_gap":  # the partner recorded 30 times as much for three periods
        partner[rows, t : t + 3] = 30.0
    elif kind == "unit_value":  # a weight recorded ×1000, a value recorded in thousands
        weights[rows[:2], t] *= 1000
        v[rows[2:], t] /= 1000


def suited(
    kind: str,
    values: np.ndarray,
    *,
    start: str = "2019-01",
    freq: str = "M",
    plant: bool = True,
) -> Panel:
    """``values`` as a panel for ``kind``, with the records the cross checks compare the
    values with: the partner's mirror record (the usual 6 % CIF/FOB margin, 3 % noise), the
    previous release's figures (the same) and net weights at the market's price (8 % noise).
    Unless not ``plant``, and where the panel has the rows and periods for it, an anomaly
    of ``kind`` is planted in the PLANTED rows, in the middle period. Those rows are first
    made steady series of about 1M a period (a quarter of their variation kept, a figure
    given to the middle two periods where they have none), so that the anomaly stands out,
    even among a dozen years, and is material (above the cross checks' money floors), and
    stays so when scaled up."""
    v = np.array(values, dtype=float)
    n, t = v.shape
    planted = plant and n > PLANTED[-1] and t >= 6
    if planted:
        v[PLANTED] = 1e6 * (v[PLANTED] / np.nanmedian(v[PLANTED], axis=1, keepdims=True)) ** 0.25
        middle = v[PLANTED, t // 2 : t // 2 + 2]
        v[PLANTED, t // 2 : t // 2 + 2] = np.where(np.isnan(middle), 1e6, middle)
    rng = np.random.default_rng(n * 1000 + t)  # the same records for the same shape
    weights = v / (PRICE * np.exp(rng.normal(0.0, 0.08, (n, t))))
    previous, partner = v.copy(), 1.06 * np.exp(rng.normal(0.0, 0.03, (n, t)))
    keys = synthetic_keys(n)
    if planted:
        _plant(kind, t // 2, v, weights, previous, partner, keys)
    context = {
        "mirror_gap": lambda: mirror_context(v * partner),
        "revision": lambda: revision_context(v, previous),
        "unit_value": lambda: unit_value_context(v.shape, PRICE),
    }.get(kind, dict)()
    panel = make_panel(v, start=start, keys=keys, freq=freq)
    weights = weights if kind == "unit_value" else panel.weights
    return replace(panel, weights=weights, context=context, cache={})


def rescaled(panel: Panel, factor: float) -> Panel:
    """The same panel in another currency unit: values, combined figures and the money in
    its context times ``factor``, weights as they were."""
    context = {k: a * factor if k in MONEY else a for k, a in panel.context.items()}
    return replace(
        panel,
        values=panel.values * factor,
        combined=panel.combined * factor,
        context=context,
        cache={},
    )


@pytest.mark.parametrize("kind", KINDS)
def test_shape_and_columns(kind):
    panel = suited(kind, _messy())
    out = _detect(kind, panel)
    assert list(out.columns) == list(DETECTION_COLUMNS)
    assert set(PLANTED) & set(out["series"]) and (out["kind"] == kind).all()
    assert out["series"].between(0, panel.n_series - 1).all()
    assert (out["start"] >= 0).all() and (out["end"] < panel.n_months).all()
    assert (out["start"] <= out["end"]).all()
    assert out["score"].between(0, 1).all()
    assert (out["impact"] >= 0).all()
    assert all(isinstance(e, dict) for e in out["evidence"])


@pytest.mark.parametrize("kind", KINDS)
def test_explanations_are_sentences(kind):
    found = findings(suited(kind, _messy()), [registry()[kind]()])
    assert len(found)
    for text in found["explanation"]:
        assert isinstance(text, str) and len(text) > 40
        assert "nan" not in text.lower().split()


@pytest.mark.parametrize("kind", KINDS)
def test_nan_all_nan_and_no_warnings(kind):
    v = _messy()
    holes = np.random.default_rng(0).random(v.shape) < 0.3
    holes[PLANTED] = False  # the planted rows keep _messy's own holes
    v[holes] = np.nan
    panel = suited(kind, v)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = _detect(kind, panel)
    assert len(out)
    assert not (out["series"] == 0).any()  # the all-NaN row


@pytest.mark.parametrize("kind", KINDS)
def test_constant_and_zero_series_give_nothing(kind):
    v = np.vstack([np.full(36, 5000.0), np.zeros(36), np.full(36, 1e9)])
    assert len(_detect(kind, suited(kind, v, plant=False))) == 0


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("months", [1, 2, 7, 18])
def test_short_series(kind, months):
    v = synthetic_values(20, months, seed=5)
    out = _detect(kind, suited(kind, v))
    assert list(out.columns) == list(DETECTION_COLUMNS)


@pytest.mark.parametrize("kind", KINDS)
def test_intermittent_series_stay_quiet(kind):
    rng = np.random.default_rng(8)
    v = np.where(rng.random((100, 48)) < 0.4, 0.0, rng.lognormal(8, 1.0, (100, 48)))
    out = _detect(kind, suited(kind, v, plant=False))
    assert len(out) <= 10  # 400 series-years of lumpy trade: a handful at most


@pytest.mark.parametrize("kind", KINDS)
def test_deterministic(kind):
    v = _messy()
    a, b = _detect(kind, suited(kind, v)), _detect(kind, suited(kind, v))
    assert len(a)
    pd.testing.assert_frame_equal(a, b)


def _changed(values: np.ndarray) -> np.ndarray:
    v = values[:120].copy()
    v[5, 20] *= 1e-4
    v[9, 30] *= 40
    return v


@pytest.mark.parametrize("kind", KINDS)
def test_permutation_of_series(kind, clean_values):
    order = np.random.default_rng(1).permutation(120)
    base = suited(kind, _changed(clean_values))
    a = _detect(kind, base)
    b = _detect(kind, base.take(order))
    b = b.assign(series=order[b["series"].to_numpy(dtype=np.int64)])
    assert len(a)
    assert _key(a) == _key(b)


@pytest.mark.parametrize("kind", KINDS)
def test_scale_invariance(kind, clean_values):
    v = _changed(clean_values)
    v[12, 24:] *= 0.1
    # both above the materiality bar of 2,000 at stake, which is money, not scale
    a = _detect(kind, rescaled(suited(kind, v), 1000.0))
    b = _detect(kind, rescaled(suited(kind, v), 1e6))
    assert len(a)
    assert _key(a) == _key(b)
    np.testing.assert_allclose(a["score"].astype(float), b["score"].astype(float), atol=1e-9)


def _padded(panel: Panel, months: int, before: bool = False) -> Panel:
    """The same series in a chunk whose other series run ``months`` longer (or start that
    much earlier): every array widened with columns holding nothing."""

    def pad(a: np.ndarray) -> np.ndarray:
        fill = 0 if a.dtype.kind in "iu" else np.nan
        width = ((0, 0), (months, 0) if before else (0, months))
        return np.pad(a, width, constant_values=fill)

    start = panel.start - np.timedelta64(months if before else 0, "M")
    arrays = {name: pad(getattr(panel, name)) for name in ("values", "weights", "combined")}
    return replace(
        panel,
        start=start,
        combined_span=pad(panel.combined_span),
        context={name: pad(a) for name, a in panel.context.items()},
        cache={},
        **arrays,
    )


def _findings_of(kind: str, panel: Panel) -> list[str]:
    found = assemble(panel, [_detect(kind, panel)], default_detectors([kind]))
    columns = ["kind", "partner", "period", "period_end", "observed", "expected", "impact"]
    columns += ["score", "evidence", "explanation"]
    # NaN (a gap's observed figure) is never equal to itself: compared as None
    found = found[columns].astype(object).where(found[columns].notna(), None)
    return sorted(repr(list(f)) for f in found.itertuples(index=False))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("before", [False, True], ids=["longer", "earlier"])
def test_a_series_findings_do_not_depend_on_its_chunk_s_months(kind, before):
    """The engines cut chunks anywhere, and a chunk's months run from its earliest series'
    first month to its latest's last: a series' findings, to the last word of their
    evidence, must not depend on them (a finding on a series' last month named the month
    after it, beyond the series, where the chunk went on, and not where it ended)."""
    panel = suited(kind, _messy())
    panel.values[PLANTED, -1] *= 40  # a finding on the series' last month too
    alone = _findings_of(kind, replace(panel, cache={}))
    assert alone
    assert _findings_of(kind, _padded(panel, 7, before)) == alone


@pytest.mark.parametrize("kind", KINDS)
def test_annual_panels(kind):
    v = synthetic_values(30, 12, seed=2)
    v[3, 6] *= 1e-4
    out = _detect(kind, suited(kind, v, start="2010-01", freq="A"))
    assert list(out.columns) == list(DETECTION_COLUMNS)
    assert set(PLANTED) & set(out["series"])


# -- explanations of annual series, and of extreme numbers, for every kind ---------------------

_MONTH_NAMES = re.compile(
    r"\b(January|February|March|April|May|June|July|August|September|October|November|"
    r"December|months?)\b"
)
# What a number must never read as: scientific notation, a ratio of 0, nothing for something
_MISREAD = re.compile(r"\de[-+]\d|×0(?![.\d])|\$0(?![.\d])")


def _years(first: int, last: int) -> list[str]:
    return [f"{y}-01" for y in range(first, last + 1)]


# What the model's findings carry about their expectation (evidence.deviation_evidence).
_SOURCE = {
    "level_months": _years(2010, 2021)[:6] + _years(2017, 2021),
    "level_window": 6,
    "season_years": [],
    "seasonal_factor": 1.0,
    "regime_start": "2011-01",
    "z": -9.0,
    "sigma": 0.1,
    "expected": 3.0,
    "ratio": 0.2 / 3.0,
    "next_period": "2017-01",
    "next_observed": 2e6,
    "next_expected": 1e6,
    "next_z": 3.0,
    "next_starts_level": False,
}
_REVISED = [
    {"period": p, "previous": 1e6, "current": 0.2, "change": 0.2 - 1e6, "change_share": -1.0}
    for p in _years(2012, 2016)
]
_MIRROR_MONTHS = [
    {"period": p, "own": 0.2, "mirror": 1e6, "ratio": 5e6} for p in _years(2015, 2016)
]

# kind → findings as the store keeps them (periods at a year's first month), amounts tiny and
# ratios extreme, one per branch of its explanation (no combined months: annual series have none)
SAMPLES: dict[str, list[dict]] = {
    "dip": [
        {"observed": 0.2, "expected": 3.0, "evidence": _SOURCE},
        {"observed": 0.2, "expected": 3.0, "evidence": {**_SOURCE, "next_starts_level": True}},
        {"observed": 0.2, "expected": 3.0, "evidence": {**_SOURCE, "next_z": 0.0}},
    ],
    "spike": [{"observed": 2e11, "expected": 1e6, "evidence": {**_SOURCE, "ratio": 2e5}}],
    "implausible": [
        {"observed": -1e-9, "expected": 1e6, "evidence": {**_SOURCE, "reason": "negative"}},
        {"observed": 0.0, "expected": 1e6, "evidence": {**_SOURCE, "reason": "zero"}},
        {
            "observed": 1e-9,
            "expected": 1e6,
            "evidence": {**_SOURCE, "reason": "near_zero", "typical": 0.5, "next_z": 0.0},
        },
        {
            "observed": 5e9,
            "expected": 5e6,
            "evidence": {**_SOURCE, "reason": "unit_slip", "factor": 1e3, "typical": 5e6},
        },
        {
            "observed": 5.0,
            "expected": 5e6,
            "evidence": {**_SOURCE, "reason": "unit_slip", "factor": 1e-6, "typical": 5e6},
        },
    ],
    "timing_shift": [
        {
            "period_end": "2017-01",
            "observed": 0.2,
            "expected": 3.0,
            "evidence": {
                "moved": 2.8,
                "direction": "later",
                "share_moved": 0.93,
                "observed": [0.2, 5.8],
                "expected": [3.0, 3.0],
                "sum_observed": 6.0,
                "sum_expected": 6.0,
                "sources": [_SOURCE, _SOURCE],
            },
        }
    ],
    "level_shift": [
        {
            "period": "2011-01",
            "observed": 5.0,
            "expected": 1e6,
            "evidence": {
                "ratio": 5e-6,
                "direction": "down",
                "months_before": 11,
                "months_after": 11,
                "before_from": "2000-01",
                "before_to": "2010-01",
                "after_to": "2021-01",
                "regime_end": "2021-01",
            },
        },
        {
            "period": "2011-01",
            "observed": 1e6,
            "expected": 0.0,
            "evidence": {
                "ratio": None,
                "direction": "up",
                "months_before": 11,
                "months_after": 11,
                "before_from": "2000-01",
                "before_to": "2010-01",
                "after_to": "2021-01",
                "previous_period": "2010-01",
                "previous_value": 0.2,
                "previous_expected": 3.0,
                "previous_z": -3.0,
                "first_value": 1e6,
            },
        },
    ],
    "gap": [
        {
            "observed": None,
            "expected": 0.2,
            "evidence": {
                "months": ["2016-01"],
                "traded_before": 7,
                "months_before": 7,
                "traded_after": 5,
                "months_after": 5,
            },
        },
        {
            "period_end": "2017-01",
            "observed": None,
            "expected": 1e6,
            "evidence": {
                "months": _years(2016, 2017),
                "traded_before": 7,
                "months_before": 7,
                "traded_after": 4,
                "months_after": 4,
            },
        },
    ],
    "incoherent": [
        {
            "observed": 0.2,
            "expected": 0.3,
            "evidence": {
                "check": "commodity",
                "total": 0.2,
                "sum_of_parts": 0.3,
                "relative": -0.5,
                "details": 3,
            },
        },
        {
            "observed": 3.0,
            "expected": 0.2,
            "evidence": {
                "check": "partner",
                "total": 3.0,
                "sum_of_parts": 0.2,
                "relative": 0.93,
                "details": 2,
            },
        },
    ],
    "revision": [
        {
            "observed": 0.2,
            "expected": 1e6,
            "evidence": {
                "change": "revised",
                "release": 2,
                "previous_release": 1,
                "months": _REVISED[:1],
            },
        },
        {
            "period": "2012-01",
            "period_end": "2016-01",
            "observed": 1.0,
            "expected": 5e6,
            "impact": 5e6,
            "evidence": {
                "change": "revised",
                "release": 2,
                "previous_release": 1,
                "months": _REVISED,
            },
        },
        {
            "observed": 0.2,
            "expected": None,
            "evidence": {"change": "appeared", "release": 2, "previous_release": 1, "months": []},
        },
    ],
    "mirror_gap": [
        {
            "period": "2015-01",
            "observed": 0.4,
            "expected": 2e6,
            "impact": 2e6,
            "evidence": {
                "own_side": "export",
                "months": _MIRROR_MONTHS,
                "own_total": 0.4,
                "mirror_total": 2e6,
                "ratio": 5e6,
                "zero_months": 0,
                "usual_ratio": 1.06,
                "band": [0.4, 2.8],
                "margin_source": "from the literature",
                "pair_band": [0.5, 2.0],
                "pair_usual_ratio": 1.1,
                "pair_months": 12,
                "outside": "both",
            },
        },
        {
            "period": "2015-01",
            "flow": "import",
            "observed": 0.4,
            "expected": 2e6,
            "impact": 2e6,
            "evidence": {
                "own_side": "import",
                "months": _MIRROR_MONTHS,
                "own_total": 0.4,
                "mirror_total": 2e6,
                "ratio": 2e-7,
                "zero_months": 0,
                "usual_ratio": 1.06,
                "band": [0.4, 2.8],
                "margin_source": "from the literature",
                "pair_band": None,
            },
        },
    ],
    "unit_value": [
        {
            "observed": 0.2,
            "expected": 200.0,
            "impact": 200.0,
            "evidence": {
                "unit_value": 2e-6,
                "usual_unit_value": 2.0,
                "band": [0.1, 40.0],
                "ratio": 1e-6,
                "net_weight_kg": 1e5,
                "pattern": "price outlier",
                "value_at_usual_price": 2e5,
                "months_with_estimated_quantities": 3,
            },
        },
        {
            "observed": 2e5,
            "expected": 2e5,
            "evidence": {
                "unit_value": 2e-3,
                "usual_unit_value": 2.0,
                "band": [0.1, 40.0],
                "ratio": 1e-3,
                "net_weight_kg": 1e8,
                "pattern": "weight slip",
                "slip_factor": 1e-3,
                "weight_at_usual_price": 1e5,
            },
        },
        {
            "observed": 2e5,
            "expected": 2e5,
            "evidence": {
                "unit_value": 0.02,
                "usual_unit_value": 2.0,
                "ratio": 0.01,
                "net_weight_kg": 1e7,
                "pattern": "weight outlier",
                "weight_at_usual_price": 1e5,
                "value_at_usual_price": 2e7,
                "weight_vs_usual_month": 100.0,
                "value_vs_usual_month": 1.0,
            },
        },
    ],
}


def _sample(kind: str, fields: dict, freq: str) -> dict:
    return {
        "kind": kind,
        "reporter": "CHN",
        "partner": "PRK",
        "flow": "export",
        "commodity": "TOTAL",
        "period": "2016-01",
        "period_end": fields.get("period", "2016-01"),
        "currency": "USD",
        "impact": 1e6,
        "freq": freq,
        **fields,
    }


def test_every_kind_has_samples():
    assert set(SAMPLES) == set(KINDS)


@pytest.mark.parametrize(
    ("kind", "fields"),
    [(k, f) for k in KINDS for f in SAMPLES[k]],
    ids=[f"{k}-{i}" for k in KINDS for i in range(len(SAMPLES[k]))],
)
def test_an_annual_finding_is_told_in_years(kind, fields):
    """Periods as years ("2016", "from 2010 to 2021"), counts in years: never "January
    2016" nor "12 reported months" for a yearly figure. The same finding of a monthly
    series still names its months."""
    explain = registry()[kind]().explain
    annual = explain(_sample(kind, fields, "A"))
    assert not _MONTH_NAMES.search(annual), annual
    assert re.search(r"\b20\d\d\b", annual) and "-01" not in annual, annual
    monthly = explain(_sample(kind, fields, "M"))
    assert _MONTH_NAMES.search(monthly) or "2016-01:" in monthly, monthly  # unit_value: a label


@pytest.mark.parametrize(
    ("kind", "fields"),
    [(k, f) for k in KINDS for f in SAMPLES[k]],
    ids=[f"{k}-{i}" for k in KINDS for i in range(len(SAMPLES[k]))],
)
@pytest.mark.parametrize("freq", ["M", "A"])
def test_extreme_numbers_read_as_numbers(kind, fields, freq):
    """Cents and fractions of a cent, ratios of 1/200,000 and 200,000: never "$0" for
    something, "×0" for a rise from nothing or scientific notation."""
    text = registry()[kind]().explain(_sample(kind, fields, freq))
    assert not _MISREAD.search(text), text


def test_a_level_shift_from_nothing_says_so():
    fields = SAMPLES["level_shift"][1]
    text = registry()["level_shift"]().explain(_sample("level_shift", fields, "M"))
    assert "against nothing in most of the 11 reported months before" in text
    assert "it rose from nothing" in text and "×" not in text
    # a flow that starts, not one that recovers (a test of edge cases read "A recovery of
    # demand or prices" after 30 months of zeros)
    assert "Trade that starts: a reopening or a measure lifted" in text  # all goods
    assert "recovery" not in text
    one_good = registry()["level_shift"]().explain(
        {**_sample("level_shift", fields, "M"), "commodity": "720110"}
    )
    assert "A new flow: a first contract, a new supplier or a new trade route" in one_good


@pytest.mark.parametrize(("freq", "unit"), [("M", "month"), ("A", "year")])
def test_a_fall_to_five_dollars_from_a_million_is_a_fraction(freq, unit):
    """Found by the model on a real pipeline (not evidence made up): $1M a period, then $5."""
    rng = np.random.default_rng(4)
    v = 1e6 * np.exp(rng.normal(0.0, 0.05, (1, 36)))
    v[0, 18:] = 5.0 * np.exp(rng.normal(0.0, 0.05, 18))
    found = findings(make_panel(v, start="1990-01", freq=freq), [registry()["level_shift"]()])
    (text,) = found["explanation"]
    # cents under $10 (the median is $4.90, not "$5")
    assert f"about $4.90 a {unit}" in text and re.search(r"×1/2\d0,000\.", text), text


def test_annual_panels_give_annual_findings():
    """UN Comtrade's annual series through the scan's own assembly: each finding carries
    freq A, its periods at the year's first month (the contract's YYYY-MM), and its text
    names years."""
    rng = np.random.default_rng(4)
    v = 1e8 * np.exp(rng.normal(0.0, 0.05, (4, 22)))
    v[0, 16] *= 9  # a spike in 2016
    v[1, 16] *= 0.02  # a dip in 2016
    v[2, 11:] *= 0.01  # a new level from 2011
    v[3, 12] = np.nan  # no figure for 2012
    found = findings(make_panel(v, start="2000-01", freq="A"), [c() for c in registry().values()])
    assert set(found["kind"]) >= {"spike", "dip", "level_shift", "gap"}
    assert (found["freq"] == "A").all()
    assert found["period"].str.fullmatch(r"20\d\d-01").all()
    for text in found["explanation"]:
        assert not _MONTH_NAMES.search(text), text
    gap = found[found["kind"] == "gap"]["explanation"].iat[0]
    assert gap.startswith("No figure for 2012, ") and "12 of the 12 years before" in gap


# -- small amounts, sub-cent expectations and huge ratios, in every kind's words ---------------

# What no explanation may say: "about under $0.01", "the under $0.01 expected", "against
# under $0.01", "1/1 million", or a number of five digits or more without grouping
# ("261263329", "+499974.0%", "$3000000000.0T").
_CLUMSY = re.compile(
    r"about (under|above|less)|the (under|less than) [$€£¥]|against under"
    r"|1/[\d.]+ (million|billion|trillion)|(?<![\d,.])\d{5,}"
)
_TINY = 0.004  # under a cent: "under $0.01", never $0

# kind → (finding fields, what its explanation must say)
WORDING: dict[str, list[tuple[dict, list[str]]]] = {
    "dip": [
        (
            {
                "observed": 0.59,
                "expected": 1.35,
                "evidence": {**_SOURCE, "ratio": 0.59 / 1.35, "next_expected": _TINY},
            },
            ["recorded $0.59, 56% below the $1.35 expected", "against less than $0.01 expected"],
        ),
        (
            {"observed": 0.001, "expected": _TINY, "evidence": {**_SOURCE, "ratio": 0.25}},
            ["75% below an expected value of less than $0.01 from"],
        ),
    ],
    "spike": [
        (
            {"observed": 4.05, "expected": 1.35, "evidence": {**_SOURCE, "z": 5.0, "ratio": 3.0}},
            ["recorded $4.05, 3.0 times the $1.35 expected"],
        ),
        (
            {"observed": 5.0, "expected": _TINY, "evidence": {**_SOURCE, "ratio": 1250.0}},
            ["1,250 times an expected value of less than $0.01 from"],
        ),
    ],
    "implausible": [
        (
            {
                "observed": 0.0,
                "expected": _TINY,
                "evidence": {**_SOURCE, "reason": "zero", "typical": 1.35, "next_z": 0.0},
            },
            ["where less than $0.01 was expected", "typical month is $1.35"],
        ),
        (
            {
                "observed": 5.0,
                "expected": 5e6,
                "evidence": {**_SOURCE, "reason": "unit_slip", "factor": 1e-6, "typical": 5e6},
            },
            ["1/1,000,000 of the $5.0M expected", "close to ×1/1,000,000,"],
        ),
    ],
    "timing_shift": [
        (
            {
                "period_end": "2016-02",
                "observed": 1.35,
                "expected": _TINY,
                "evidence": {
                    "moved": 1.34,
                    "direction": "later",
                    "share_moved": 0.5,
                    "observed": [1.35, 0.59],
                    "expected": [_TINY, 1.2],
                    "sum_observed": 1.94,
                    "sum_expected": 1.204,
                    "sources": [_SOURCE, _SOURCE],
                },
            },
            [
                "recorded $1.35 against less than $0.01 expected",
                "$0.59 against $1.20; together $1.94 against $1.20 expected",
                "About $1.34 (50% of",
            ],
        )
    ],
    "level_shift": [
        (
            {
                "period": "2011-01",
                "observed": _TINY,
                "expected": 1.35,
                "evidence": {
                    "ratio": _TINY / 1.35,
                    "direction": "down",
                    "months_before": 11,
                    "months_after": 11,
                    "before_from": "2000-01",
                    "before_to": "2010-01",
                    "after_to": "2011-11",
                },
            },
            ["a new level: less than $0.01 a month", "against about $1.35 in the 11", "×0.003."],
        )
    ],
    "gap": [
        (
            {
                "observed": None,
                "expected": _TINY,
                "evidence": {
                    "months": ["2016-01"],
                    "traded_before": 7,
                    "months_before": 7,
                    "traded_after": 5,
                    "months_after": 5,
                },
            },
            ["; less than $0.01 of trade would be expected there"],
        ),
        (
            {
                "observed": None,
                "expected": 3e21,
                "evidence": {
                    "months": ["2016-01"],
                    "traded_before": 7,
                    "months_before": 7,
                    "traded_after": 5,
                    "months_after": 5,
                },
            },
            ["about $3,000,000,000T of trade"],
        ),
    ],
    "incoherent": [
        (
            {
                "observed": 0.5,
                "expected": 300.0,
                "evidence": {
                    "check": "commodity",
                    "total": 0.5,
                    "sum_of_parts": 300.0,
                    "relative": -599.0,
                    "details": 3,
                },
            },
            ["the total is $0.50 but the 3 figures for its HS chapters sum to $300, 600 times"],
        ),
        (
            {
                "observed": 1.35,
                "expected": 1.5,
                "evidence": {
                    "check": "partner",
                    "total": 1.5,
                    "sum_of_parts": 1.35,
                    "relative": 0.1,
                    "details": 2,
                },
            },
            ["the total is $1.50 but the 2 figures for the individual partners sum to $1.35"],
        ),
    ],
    "revision": [
        (
            {
                "observed": 2500.37,
                "expected": 0.5,
                "evidence": {
                    "change": "revised",
                    "release": 2,
                    "previous_release": 1,
                    "months": [{"period": "2016-01", "previous": 0.5, "current": 2500.37}],
                },
            },
            ["from $0.50 to $2.5K (5,001 times as much)"],
        ),
        (
            {
                "observed": 1500.004,
                "expected": _TINY,
                "evidence": {
                    "change": "revised",
                    "release": 2,
                    "previous_release": 1,
                    "months": [{"period": "2016-01", "previous": _TINY, "current": 1500.004}],
                },
            },
            ["from under $0.01 to $1.5K (375,001 times as much)"],
        ),
        (
            {
                "observed": 1.35,
                "expected": 0.59,
                "evidence": {
                    "change": "revised",
                    "release": 2,
                    "previous_release": 1,
                    "months": [{"period": "2016-01", "previous": 0.59, "current": 1.35}],
                },
            },
            ["from $0.59 to $1.35 (+128.8%)"],
        ),
    ],
    "mirror_gap": [
        (
            {
                "period": "2015-01",
                "observed": 0.5,
                "expected": _TINY,
                "impact": 1.3e8,
                "evidence": {
                    "own_side": "export",
                    "months": _MIRROR_MONTHS,
                    "own_total": 0.5,
                    "mirror_total": 1.3e8,
                    "ratio": 261_263_329.0,
                    "zero_months": 0,
                    "usual_ratio": 1.06,
                    "band": [0.4, 2.8],
                    "margin_source": "from the literature",
                    "pair_band": None,
                },
            },
            ["an import/export ratio of 261 million", "(usually 1.06,", "would be less than $0.01"],
        )
    ],
    "unit_value": [
        (
            {
                "observed": 2e5,
                "expected": _TINY,
                "evidence": {
                    "unit_value": 2e-6,
                    "usual_unit_value": 2.0,
                    "band": [0.1, 40.0],
                    "ratio": 1e-6,
                    "net_weight_kg": 1e5,
                    "pattern": "value slip",
                    "slip_factor": 1e-6,
                },
            },
            ["off by about ×1/1,000,000: a value slip (corrected, less than $0.01)"],
        )
    ],
}


def test_every_kind_has_wording_samples():
    assert set(WORDING) == set(KINDS)


@pytest.mark.parametrize(
    ("kind", "fields", "says"),
    [(k, f, s) for k in KINDS for f, s in WORDING[k]],
    ids=[f"{k}-{i}" for k in KINDS for i in range(len(WORDING[k]))],
)
@pytest.mark.parametrize("freq", ["M", "A"])
def test_small_amounts_and_huge_ratios_read_well(kind, fields, says, freq):
    """Cents under $10 ($1.35, not $1), "less than $0.01" where "about under $0.01" or "the
    under $0.01 expected" would read badly, ratios and percentages grouped or in words
    (261 million, 5,001 times as much, ×1/1,000,000), amounts past $1,000T grouped."""
    text = registry()[kind]().explain(_sample(kind, fields, freq))
    assert not _CLUMSY.search(text), text
    assert not _MISREAD.search(text), text
    if freq == "M":
        for phrase in says:
            assert phrase in text, (phrase, text)


def _anomaly(kind: str) -> np.ndarray:
    """36 months at about 1,000 (5 % noise) with one anomaly of ``kind`` in month 20."""
    v = 1e3 * np.exp(np.random.default_rng(11).normal(0.0, 0.05, 36))
    if kind == "implausible":
        v[20] = 0.5
    elif kind in ("spike", "dip"):
        v[20] *= 8.0 if kind == "spike" else 1 / 8
    elif kind == "timing_shift":
        v[20], v[21] = 0.2 * v[20], v[21] + 0.8 * v[20]
    else:  # level_shift: a new level from month 20
        v[20:] *= 6.0
    return v


@pytest.mark.parametrize("kind", ["implausible", "spike", "dip", "timing_shift", "level_shift"])
@pytest.mark.parametrize(("currency", "per_usd"), [("USD", None), ("GNF", 8_600.0)])
def test_a_finding_of_little_money_is_never_high(kind, currency, per_usd):
    """Materiality as the cross checks have it: the same anomaly is high in a series of a
    billion a month and at most its money / 2,000 in one of $10 a month, or of 100,000
    Guinean francs (about $12) where the store has the rate."""
    values = _anomaly(kind)
    for scale, capped in ((1e6, False), (0.01 if per_usd is None else 100.0, True)):
        context = None if per_usd is None else {"own_per_usd": np.full((1, 36), per_usd)}
        panel = keyed_panel(values * scale, currency=currency, context=context)
        found = findings(panel, default_detectors([kind]))
        (f,) = found[found["kind"] == kind].to_dict("records")
        dollars = abs(f["impact"]) / (per_usd or 1.0)
        if capped:
            assert f["score"] <= round(dollars / 2000, 3) + 1e-9 and f["severity"] == "low"
        else:
            assert dollars > 2000 and f["severity"] in ("high", "medium")


#: a record of each context of findings, as its reader gives it for one finding
CONTEXT_RECORDS = {
    "mirror_months": {"partner_months": 1, "partner_value": 5.0},
    "sibling_months": {"siblings_trading": 3, "siblings_silent": 0, "siblings_held": 3},
    # a record that moved as a whole: 30 of 40 series where a tenth do in that month
    "reporter_along": {
        "along_trading": 40,
        "along_moved": 30,
        "along_usual": 0.1,
        "along_value": 0.8,
        "along_usual_value": 0.1,
    },
}


def test_context_of_findings_is_named_by_the_detectors_that_read_it():
    """``finding_needs`` name readers of ``context.FINDING_CONTEXT``, and each reader is
    needed by a registered detector (the gap, for the partner's record of its months and
    the line's other partners; the level shift and the single months, for the reporter's
    other series)."""
    from tradesentry.context import FINDING_CONTEXT

    named = {need for kind in KINDS for need in registry()[kind].finding_needs}
    assert named == set(FINDING_CONTEXT) == set(CONTEXT_RECORDS)
    assert COMPLETING == ["dip", "gap", "implausible", "level_shift", "spike"]


COMPLETING = [kind for kind in KINDS if registry()[kind].finding_needs]


@pytest.mark.parametrize("kind", COMPLETING)
def test_findings_are_completed_purely(kind):
    """``complete`` is pure: without context every finding is as it was, with a record for
    one finding only that finding changes, and the frame given is left untouched."""
    import copy

    detector = registry()[kind]()
    found = findings(suited(kind, _messy()), [detector])
    assert len(found)
    done = detector.complete(found, {need: {} for need in detector.finding_needs})
    pd.testing.assert_frame_equal(done, found)
    before = copy.deepcopy(found)
    first = found.index[0]
    context = {need: {first: CONTEXT_RECORDS[need]} for need in detector.finding_needs}
    done = detector.complete(found, context)
    pd.testing.assert_frame_equal(found, before)  # the frame given is left as it was
    assert done.at[first, "explanation"] != found.at[first, "explanation"]
    pd.testing.assert_frame_equal(done.drop(index=first), found.drop(index=first))


@pytest.mark.parametrize("kind", KINDS)
def test_figures_near_the_largest_float_scan_without_warnings(kind):
    """Figures near float64's largest (1.8e308) sum and scale past it: the money at stake
    is then inf, written as such, and no warning is printed for each product."""
    v = _messy()
    v = v / np.nanmax(v) * 1.5e308
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = findings(suited(kind, v), [registry()[kind]()])
    assert len(found)
    assert not found["impact"].isna().any()  # inf where past float64, never NaN
    for text in found["explanation"]:
        # money() writes a NaN or an infinite figure as "n/a": every figure here is finite
        assert "n/a" not in text and "inf" not in text.lower().split(), text
