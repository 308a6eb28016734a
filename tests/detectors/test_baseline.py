"""The shared model: its building blocks agree with NumPy, and blocks and threads change nothing."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tradesentry.datasets import make_panel, synthetic_values
from tradesentry.detectors import baseline as B
from tradesentry.detectors import evidence as E
from tradesentry.detectors import robust, shifts
from tradesentry.detectors.dip import Dip
from tradesentry.detectors.spike import Spike
from tradesentry.errors import InputError

from ._helpers import china_exports, comext_series


def _same_model(a: B.Baseline, b: B.Baseline) -> None:
    for name in B.Baseline.__dataclass_fields__:
        if name not in ("shifts", "config"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    for name in shifts.Shifts.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(a.shifts, name), getattr(b.shifts, name), name)


@pytest.mark.parametrize("shape", [(9,), (200, 9), (40, 5, 13), (30, 1)])
def test_nanmedian_agrees_with_numpy(shape):
    rng = np.random.default_rng(3)
    a = rng.normal(size=shape)
    a[rng.random(a.shape) < 0.4] = np.nan
    a[(0,) * (a.ndim - 1)] = np.nan  # a row with nothing reported
    med, count = robust.nanmedian(a)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        expected = np.nanmedian(a, axis=-1)
    np.testing.assert_allclose(med, expected)
    np.testing.assert_array_equal(count, np.count_nonzero(~np.isnan(a), axis=-1))


def _reference_median(values) -> float:
    values = [v for v in values if np.isfinite(v)]
    return float(np.median(values)) if values else np.nan


@pytest.fixture
def gappy_rows():
    """Rows with gaps and level-shift segments (a handful of changes), 50 months."""
    rng = np.random.default_rng(11)
    x = rng.normal(size=(60, 50))
    x[rng.random(x.shape) < 0.3] = np.nan
    segment = np.cumsum(rng.random(x.shape) < 0.04, axis=1)
    segment[:20] = 0  # rows without level shifts take the fast path
    return x, segment


def test_window_medians_agree_with_a_month_by_month_reading(gappy_rows):
    x, segment = gappy_rows
    level, count = B.local_level(x, segment, 6)
    k = 6
    _, mb, nb, _, ma, na = shifts._plain_side_windows(x, k)
    for i, t in np.ndindex(x.shape):
        same = [
            x[i, s]
            for s in range(max(t - 6, 0), min(t + 7, 50))
            if s != t and segment[i, s] == segment[i, t]
        ]
        assert level[i, t] == pytest.approx(_reference_median(same), nan_ok=True)
        assert count[i, t] == sum(np.isfinite(same))
        before, after = x[i, max(t - k, 0) : t], x[i, t : t + k]
        assert mb[i, t] == pytest.approx(_reference_median(before), nan_ok=True)
        assert ma[i, t] == pytest.approx(_reference_median(after), nan_ok=True)
        assert (nb[i, t], na[i, t]) == (np.isfinite(before).sum(), np.isfinite(after).sum())


def test_the_seasonal_term_is_the_median_of_the_other_years_and_a_zero_year(gappy_rows):
    """Another regime's year counts only where its segment holds 6 reported months or more
    (``thin_level_points``); from one other year, only within the month's own regime. The
    third output is the median of an odd number of other years (three or more) without
    the zero year, what most of them did, and the first elsewhere."""
    x, segment = gappy_rows
    config = B.DEFAULT_CONFIG
    seasonal, years, of_most = B._seasonal(x, 12, config, segment)
    for i, t in np.ndindex(x.shape):
        size = {s: int((np.isfinite(x[i]) & (segment[i] == s)).sum()) for s in set(segment[i])}
        others = [s for s in range(t % 12, 50, 12) if s != t and np.isfinite(x[i, s])]
        if segment[i].any():  # a series with level shifts: thin other regimes left out
            others = [
                s for s in others if segment[i, s] == segment[i, t] or size[segment[i, s]] >= 6
            ]
        found = [x[i, s] for s in others]
        in_regime = [s for s in others if segment[i, s] == segment[i, t]]
        assert years[i, t] == len(found)
        used = len(found) >= 2 or (len(found) == 1 and len(in_regime) == 1)
        expected = _reference_median([*found, 0.0]) if used else 0.0
        assert seasonal[i, t] == pytest.approx(expected)
        most = _reference_median(found) if used and len(found) % 2 and len(found) >= 3 else None
        assert of_most[i, t] == pytest.approx(expected if most is None else most)


def test_blocks_and_threads_do_not_change_the_model(clean_values, monkeypatch):
    values = clean_values.copy()
    values[::7, 20:] *= 0.05  # level shifts, so the refit of shifted series is exercised
    values[::11, 30] = np.nan
    # January–February published as one figure in some series (``_with_combined``)
    combined, span = np.full(values.shape, np.nan), np.zeros(values.shape, dtype=np.int8)
    pairs = np.arange(0, len(values), 5)[:, None], np.arange(0, values.shape[1] - 1, 12)
    combined[pairs] = values[pairs] + values[pairs[0], pairs[1] + 1]
    span[pairs] = 2
    values[pairs] = values[pairs[0], pairs[1] + 1] = np.nan
    whole = B.fit(
        values, config=dataclasses.replace(B.DEFAULT_CONFIG, block_rows=10_000),
        combined=(combined, span),
    )  # fmt: skip
    small = dataclasses.replace(B.DEFAULT_CONFIG, block_rows=64)
    assert len(whole.shifts) > 0
    for threads in ("1", "3"):
        monkeypatch.setenv("TRADESENTRY_THREADS", threads)
        _same_model(B.fit(values, config=small, combined=(combined, span)), whole)


def test_the_model_does_not_depend_on_the_unit(clean_values):
    """Scale invariance: a series in thousands gets the same z-scores and shifts."""
    a, b = B.fit(clean_values), B.fit(clean_values * 1000.0)
    np.testing.assert_allclose(a.z, b.z, atol=1e-9)
    np.testing.assert_array_equal(a.shifts.start, b.shifts.start)


@pytest.mark.parametrize("bad", ["zero", "0", "-2", "1.5"])
def test_a_bad_thread_count_is_one_clear_error(bad, monkeypatch):
    monkeypatch.setenv("TRADESENTRY_THREADS", bad)
    with pytest.raises(InputError, match="TRADESENTRY_THREADS"):
        B.threads()


def test_side_scales_equal_the_scale_for_symmetric_noise():
    rng = np.random.default_rng(3)
    r = rng.standard_normal((400, 60)) * 0.3
    both, low, high = robust.residual_scales(r, B.DEFAULT_CONFIG)
    np.testing.assert_array_equal(both, robust.robust_scale(r, B.DEFAULT_CONFIG))
    assert np.median(low / both) == pytest.approx(1.0, abs=0.05)
    assert np.median(high / both) == pytest.approx(1.0, abs=0.05)
    _, mirrored_low, mirrored_high = robust.residual_scales(-r, B.DEFAULT_CONFIG)
    np.testing.assert_allclose(mirrored_low, high)  # the sides swap with the sign
    np.testing.assert_allclose(mirrored_high, low)


def test_a_habit_of_thin_months_widens_only_the_low_side():
    """A steady flow (±5 %) with a month at 1/100 every five months (never the same calendar
    month in two years, so not a season): its thin months are its noise below, not above,
    so a month at ×3 is a spike and the next thin month is no dip."""
    rng = np.random.default_rng(4)
    v = 1e6 * np.exp(0.05 * rng.standard_normal(48))
    v[3::5] /= 100.0
    v[40] *= 3.0
    model = B.fit(v[None, :])
    assert model.sigma_low[0] > 5 * model.sigma_high[0]
    assert model.z[0, 40] > 4.0  # a spike, above the rises the series makes
    thin = np.arange(3, 48, 5)
    assert np.all(model.z[0, thin[np.isfinite(model.z[0, thin])]] > -4.5)  # no dips
    together = robust.robust_scale(model.resid, B.DEFAULT_CONFIG)[0]
    assert model.resid[0, 40] / together < 4.0  # one shared scale would hide the spike


def test_a_row_of_no_months_has_no_largest_value():
    """``largest_after`` on a panel of no months gives NaN per row, as ``nanquantile`` does
    (it raised an IndexError)."""
    out = robust.largest_after(np.full((2, 0), np.nan), 1)
    assert out.shape == (2,) and np.isnan(out).all()


def test_few_residuals_keep_each_side_as_wide_as_both():
    """Six months, one far above and one far below the four quiet ones (a sparse series
    seen on Comext): with so few residuals a side's 95 % point is the second largest
    deviation of the row, so each side alone would see only the quiet months and call
    both large months anomalies. Each side stays as wide as the two together."""
    r = np.array([[1.55, -0.003, -1.53, 0.05, 0.2, 0.03]])
    both, low, high = robust.residual_scales(r, B.DEFAULT_CONFIG)
    assert low[0] == high[0] == both[0]
    assert abs(r).max() / both[0] < 2.5
    # from 20 residuals on, a side places its own tail (a habit of thin months, below)


def test_a_thin_level_keeps_only_what_its_reference_agrees_with(gappy_rows):
    """A month whose level rests on fewer than 6 months: 0 where it and its reference
    point opposite ways; else no more than its deviation from the reference (within 2
    scales or beyond: China's HS 811292 to Slovakia, 1.7 times its segment's median, was
    13.3 scales off a level of 3 months). The reference is its segment's median; in a
    segment of fewer than 6 reported months, the median of the months within ±12 outside
    it (6 or more), where the segment's median is within 2 scales of that (an episode the
    series has anyway), else none: a regime of its own keeps its z, as does a month on 6
    or more."""
    x, segment = gappy_rows
    rng = np.random.default_rng(2)
    x = np.where(rng.random(x.shape) < 0.5, np.nan, x)  # sparser: many thin levels
    x = x + np.where(np.arange(len(x))[:, None] % 3 == 0, 4.0 * (segment % 2), 0.0)  # regimes
    z = rng.normal(0, 5, x.shape)
    points = rng.integers(0, 12, x.shape)
    low, high = rng.uniform(0.5, 2, len(x)), rng.uniform(0.5, 2, len(x))
    config = B.DEFAULT_CONFIG
    out = B._agreed(z, x - B.thin_reference(x, segment, points, (low, high), config), (low, high))
    seen = {"segment": 0, "around": 0, "regime": 0}
    for i, t in np.ndindex(x.shape):
        same = [x[i, s] for s in range(50) if segment[i, s] == segment[i, t]]
        reported = [v for v in same if np.isfinite(v)]
        reference = np.median(reported) if np.isfinite(x[i, t]) else np.nan  # not reported
        if len(reported) < 6 and np.isfinite(x[i, t]):
            around = [
                x[i, s]
                for s in range(max(t - 12, 0), min(t + 13, 50))
                if segment[i, s] != segment[i, t] and np.isfinite(x[i, s])
            ]
            apart = reference - np.median(around) if around else np.nan
            ordinary = abs(apart) < 2 * (high[i] if apart >= 0 else low[i])
            reference = np.median(around) if len(around) >= 6 and ordinary else np.nan
            if points[i, t] < 6 and np.isfinite(z[i, t]):
                seen["around" if np.isfinite(reference) else "regime"] += 1
        elif points[i, t] < 6 and np.isfinite(z[i, t]):
            seen["segment"] += 1
        if points[i, t] >= 6 or np.isnan(reference) or not np.isfinite(z[i, t]):
            assert out[i, t] == z[i, t]
            continue
        off = x[i, t] - reference
        z_seg = off / (high[i] if off >= 0 else low[i])
        if np.sign(z_seg) != np.sign(z[i, t]):
            want = 0.0  # opposite sides
        else:
            want = np.sign(z[i, t]) * min(abs(z[i, t]), abs(z_seg))
        assert out[i, t] == pytest.approx(want)
    assert min(seen.values()) > 20, seen


def _steel_lots(november: float, month: float) -> np.ndarray:
    """Guinea's exports of steel scrap to India (ITC declarations, 2015–2018), in GNF: 2 t
    lots of 18M in 26 months, a 4 t month (36M) now and then, and from September 2016 four
    months at 36M, 36M, ``month`` (November) and 72M, between two level shifts; November
    2017 and 2018 at ``november``."""
    v = np.full(48, np.nan)
    v[[1, 4, 5, 7, 9, 12, 13, 15, 17, 24, 25, 27, 28, 29, 32, 33, 34, 35, 37, 38]] = 18.0
    v[[39, 40, 42, 44, 45, 46]] = 18.0
    v[[4, 29, 35]] = 36.0
    v[[34, 46]] = november
    v[20:24] = [36.0, 36.0, month, 72.0]
    return v * 1e6


@pytest.mark.parametrize(
    ("november", "month", "dip"),
    [(18.0, 18.0, False), (36.0, 18.0, False), (18.0, 9.0, True), (36.0, 9.0, True)],
    ids=["no-season", "two-4t-novembers", "1t-no-season", "1t-two-4t-novembers"],
)
def test_a_short_episode_makes_no_dip_of_the_series_usual_month(november, month, dip):
    """The series above had November 2016's 18.2M, its most ordinary month, a high dip "75%
    below the 72.5M expected": a level of three months of a four-month episode (36M, with
    one 8 t month) that kept its z, a segment that short having no median to check it
    against, and two 4 t Novembers as a season of ×2. The episode is ×2 the months around
    it, which the series' rises reach (0.4 log units), so it has no level of its own and
    the months around it are the reference; two other years' Novembers may be chance, so
    the month is also read without them, against that reference. A 1 t month is still a
    dip, the series never falling below its 2 t lots."""
    v = _steel_lots(november, month)
    model = B.fit(v[None, :])
    assert model.level_points[0, 22] < 6  # a thin level
    dips = Dip().detect(make_panel(v[None, :], "2015-01"))
    assert list(dips["start"]) == ([22] if dip else []), dips[["start", "observed", "expected"]]


@pytest.mark.parametrize(("month", "dip"), [(18.0, False), (9.0, True)], ids=["2t", "1t"])
def test_a_thin_level_and_a_weak_season_are_read_together(month, dip):
    """The same 2 t lots without level shifts: November 2016's level rests on four months,
    two of them 4 t (×2), and its season on two 4 t Novembers (×2). Against its segment
    the month is ×0.5 with the season and ordinary without it; against its level it is
    ×0.5 either way, so each doubt alone kept it a dip of 8.9 scales. A month ordinary
    once both are allowed for is no finding; a 1 t month is still a dip."""
    v = np.full(36, 18.0)
    v[[5, 6, 8, 9, 11, 12, 14, 15]] = np.nan
    v[[7, 13, 22, 34]] = 36.0  # two 4 t months around November 2016, and two Novembers
    v[10] = month
    v *= 1e6
    model = B.fit(v[None, :])
    assert len(model.shifts) == 0
    assert model.level_points[0, 10] < 6 and model.season_years[0, 10] == 2
    dips = Dip().detect(make_panel(v[None, :], "2016-01"))
    assert list(dips["start"]) == ([10] if dip else []), dips[["start", "observed", "expected"]]


def test_a_burst_in_a_sparse_series_does_not_make_its_ordinary_months_dips():
    """China's exports of HS 811292 to Belgium (UN Comtrade, rounded): about $100K a month
    for three years, then a few shipments a year; in 2024 two months at $3.1M beside $492K
    and $141K. Taken from those three months alone, December's level was the burst and its
    ordinary $141K a dip of 93 % (high severity); against its segment, it is ordinary."""
    v = np.full(96, np.nan)
    rng = np.random.default_rng(4)
    v[:39] = 1e5 * np.exp(0.15 * rng.standard_normal(39))
    v[[55, 74]] = [1.24e5, 1.48e5]  # August 2021, March 2023
    v[[89, 91, 92, 95]] = [4.92e5, 3.08e6, 3.12e6, 1.41e5]  # June, August, September, December 2024
    panel = make_panel(v[None, :])
    dips = Dip().detect(panel)
    assert dips.empty, dips[["period", "observed", "expected"]]
    model = B.fit(v[None, :])
    assert model.level_points[0, 95] == 3  # June, August and September 2024
    assert model.expected[0, 95] > 1e6  # the burst: December alone is far below it
    assert abs(model.z[0, 95]) < 1  # but an ordinary month of its segment


def test_the_months_of_a_burst_are_not_each_others_expectation(shared_data):
    """The real series of the test above: August 2024's level was the median of June,
    September and December ($492K), half of it the burst, so $3.1M read as 2.8 times the
    series' variation above its expectation and no spike. Months their segment finds far
    off on the same side are left out of a thin level; with fewer than 3 ordinary months
    left within ±12, the segment's ordinary months set it. Both months are then spikes, and
    the evidence names the months left out."""
    v = china_exports(shared_data, "Belgium", 811292)
    panel = make_panel(v[None, :], "2017-01")
    spikes = Spike().detect(panel)
    assert sorted(spikes["start"]) == [91, 92]  # August and September 2024
    assert (spikes["expected"] < 2.5e5).all()  # the ordinary level, not the burst's
    (august,) = E.sources(panel, B.baseline(panel), np.array([0]), np.array([91]))
    assert august["level_left_out_above"] == ["2024-09"]  # June's $492K is no month of it
    assert august["level_months"] == ["2023-03", "2024-06", "2024-12"]
    text = E.expectation_source(august)
    assert "leaving out September 2024, itself far above the series' usual level" in text


@pytest.mark.parametrize(
    ("partner", "hs6", "months"),
    [("Malaysia", 811292, [69, 70]), ("Slovakia", 811292, [78, 86, 87, 93])],
    ids=["growing", "new-level-to-the-end"],
)
def test_what_is_no_burst_keeps_its_level(shared_data, partner, hs6, months):
    """Malaysia (same product) grew from $20K a month in 2017 to $125K–640K: its recent
    months all stand above its segment's median, and November 2022 with March 2023 read
    as a burst, November's level fell to $62K and a real dip in October became a timing
    shift. A steady trend rules bursts out; so does a run no ordinary month follows."""
    v = china_exports(shared_data, partner, hs6)
    model = B.baseline(make_panel(v[None, :], "2017-01"))
    assert not model.trimmed[0, months].any()


def test_a_new_level_in_a_sparse_series_is_no_burst(shared_data):
    """China's exports of HS 811292 to Slovakia: about $15K a few times a year, then from
    July 2023 four months at $142K–190K to the series' end. No ordinary month follows
    them: that is a new level (or the start of one), not a burst to be measured against
    the years before, so none of them is a spike."""
    v = china_exports(shared_data, "Slovakia", 811292)
    v[[36, 38, 39, 41, 44, 50, 52, 61]] = [
        1.09e4,
        1.4e4,
        1.66e4,
        1.26e4,
        1.26e4,
        1.54e4,
        1.49e4,
        1.47e4,
    ]
    v[[66, 74, 75, 81]] = [1.42e5, 1.68e5, 1.73e5, 1.9e5]
    panel = make_panel(v[None, :], "2017-01")
    assert Spike().detect(panel).empty
    assert not B.baseline(panel).trimmed[0, [78, 86, 87, 93]].any()


def test_a_month_with_a_thinner_level_gets_a_wider_scale():
    """A month whose level rests on 3 months where the series usually has 12 is measured on
    a scale √((1 + π/6)/(1 + π/24)) ≈ 1.16 times wider; a month with the usual support is not."""
    rng = np.random.default_rng(5)
    v = 1e6 * np.exp(0.2 * rng.standard_normal(48))
    v[27:33] = np.nan  # months 24–26 and 33–35 keep only their own side of the gap nearby
    model = B.fit(v[None, :])
    pts, support = model.level_points[0], model.support[0]
    usual = np.median(pts[np.isfinite(model.z[0])])
    expected = np.sqrt((1 + np.pi / 2 / pts) / (1 + np.pi / 2 / usual))
    np.testing.assert_allclose(support, expected)
    assert pts[15] == 12 and support[15] == pytest.approx(1.0, abs=0.01)  # the usual support
    thin = int(np.argmin(np.where(np.isfinite(model.z[0]), pts, 99)))
    assert pts[thin] < usual and support[thin] > 1.05
    rows, cols = np.array([0, 0]), np.array([15, thin])
    np.testing.assert_allclose(
        model.z[0, cols], model.resid[0, cols] / model.side_sigma(rows, cols)
    )


def test_the_scale_of_a_month_does_not_depend_on_the_panel_width():
    """Months outside the series' span (a wider chunk) never enter its usual support."""
    rng = np.random.default_rng(6)
    v = 1e6 * np.exp(0.2 * rng.standard_normal(36))
    alone = B.fit(v[None, :])
    padded = B.fit(np.concatenate([np.full(24, np.nan), v, np.full(24, np.nan)])[None, :])
    np.testing.assert_array_equal(alone.support[0], padded.support[0, 24:60])
    np.testing.assert_array_equal(alone.z[0], padded.z[0, 24:60])


def test_a_strong_season_is_kept_whole():
    """February at ×0.4 and December at ×3 every year, 5 % noise: the season is winsorised
    around itself, not cut to a few scales of the noise, so a December at a third of the
    others is a deep dip and the clean months are not a level shift."""
    rng = np.random.default_rng(11)
    v = 1e6 * np.exp(rng.normal(0, 0.05, 60)) * np.tile([1, 0.4] + [1] * 9 + [3.0], 5)
    v[47] /= 3
    model = B.fit(v[None, :])
    assert np.exp(model.seasonal[0, 1]) == pytest.approx(0.4, rel=0.1)
    assert np.exp(model.seasonal[0, 11]) == pytest.approx(3.0, rel=0.1)
    assert model.sigma[0] < 0.1
    assert model.z[0, 47] < -10
    clean = 1e6 * np.exp(rng.normal(0, 0.05, (20, 120))) * np.tile([0.2, 0.1] + [1] * 9 + [5.0], 10)
    assert len(B.fit(clean).shifts) == 0


def test_one_other_year_gives_half_a_season_within_its_regime():
    """Two years of a clean season (February ×0.5, December ×2.5, 5 % noise): each month
    takes half of the other year's deviation, so no month is flagged; across a level
    shift the other year is another regime and gives no season."""
    rng = np.random.default_rng(3)
    pattern = np.tile([1, 0.5] + [1] * 9 + [2.5], 2)
    v = 1e6 * np.exp(rng.normal(0, 0.05, 24)) * pattern
    model = B.fit(v[None, :])
    assert np.all(model.season_years[0, [1, 11, 13, 23]] == 1)
    assert np.nanmax(np.abs(model.z)) < 4.0
    shifted = v.copy()
    shifted[12:] /= 50.0  # a new regime from the second year
    model = B.fit(shifted[None, :])
    assert len(model.shifts) == 1
    assert not model.seasonal[0].any()


@pytest.mark.parametrize(
    ("season", "march", "detector", "other"),
    [(3.0, 3.0, Spike, Dip), (3.0, 5.0, Spike, Dip), (1 / 3, 1 / 5, Dip, Spike)],
    ids=["high-x3", "high-x5", "low-x0.2"],
)
def test_a_season_learnt_in_part_does_not_widen_the_scales(season, march, detector, other):
    """Two years of a quiet series (5 %) whose Decembers are at ×3: with one other year
    each December's season is learnt only in part, and the rest (×2.2) stood in its
    residual, which the weak-season reading calls ordinary. Those residuals made the scale
    above the expectation ×1.6, and a March at ×3 or ×5 no finding; they are season, not
    noise. Below alike, Decembers at ×1/3 and a March at ×1/5."""
    rng = np.random.default_rng(67)
    v = 1e6 * np.exp(rng.normal(0, 0.05, 24)) * np.tile([1.0] * 11 + [season], 2)
    v[14] *= march
    panel = make_panel(v[None, :], "2021-01")
    model = B.baseline(panel)
    assert max(model.sigma_low[0], model.sigma_high[0]) < 1.5 * model.sigma[0]
    assert list(detector().detect(panel)["start"]) == [14]
    assert other().detect(panel).empty


@pytest.mark.parametrize("odd", [11, 23, 35], ids=["first", "middle", "last"])
def test_two_other_years_that_disagree_leave_a_month_repeating_either(odd):
    """Three years of a quiet series whose Decembers are at ×5, one of them at ×1: two
    other years cannot tell which is the season. The ×5 Decembers had been high spikes
    "4.1 times the expected" (their season the median of ×1, ×5 and the zero year), the
    odd December none: a month anywhere from its level to the furthest of the other
    years' months is read by its distance from that range, and none is flagged."""
    rng = np.random.default_rng(91)
    v = 1e7 * np.exp(rng.normal(0, 0.05, 36)) * np.tile([1.0] * 11 + [5.0], 3)
    v[odd] /= 5
    panel = make_panel(v[None, :], "2019-01")
    assert Spike().detect(panel).empty and Dip().detect(panel).empty
    wild = v.copy()
    wild[23 if odd != 23 else 35] *= 20  # a December ×20 past both is still a spike
    assert list(Spike().detect(make_panel(wild[None, :], "2019-01"))["start"]) == [
        23 if odd != 23 else 35
    ]


@pytest.mark.parametrize(
    ("seasonal_factor", "shown"),
    [(1.62, "(×1.62)"), (0.1, "(×0.10)"), (0.004, "(×0.004)"), (0.0004, "(×1/2,500)"),
     (1.04, "(×1.04)"), (385.1, "(×385)")],
)  # fmt: skip
def test_a_seasonal_factor_is_shown_as_far_as_it_tells(seasonal_factor, shown):
    """A season of ×0.004 read "(×0.00)" at two decimals: as if the month expected nothing;
    ×385.10 claimed two decimals it does not have; a ×1.04 left unsaid made the months
    stated not reproduce the expected value."""
    evidence = {
        "level_months": ["2024-01", "2024-02"],
        "season_years": ["2023", "2025"],
        "seasonal_factor": seasonal_factor,
    }
    text = E.expectation_source(evidence)
    assert text.endswith(f", adjusted for the same month in 2023 and 2025 {shown}"), text


def test_no_seasonal_factor_is_named_where_it_shows_as_one():
    evidence = {"level_months": ["2024-01"], "season_years": ["2023"], "seasonal_factor": 1.004}
    assert "adjusted" not in E.expectation_source(evidence)


@pytest.mark.parametrize(
    ("observed", "expected"), [(92.0e3, 8.0e12), (45.0e3, 129.6e9), (2.0, 3.0), (5e8, 1e-4)]
)
def test_evidence_ratios_keep_their_significant_digits(observed, expected):
    """Guinea → Singapore: 92.0K GNF against 8.0T expected, a ratio six decimals made 0."""
    assert E._ratio(observed, expected) == pytest.approx(observed / expected, rel=1e-5)
    assert (
        E.evidence_figure(observed) == observed
        and E.evidence_figure(0.0) == 0.0
        and E.evidence_figure(np.nan) is None
    )


def _month_at_z(target: float, direction: int, t: int = 30) -> np.ndarray:
    """A steady series of four years whose month ``t`` the model puts ``target`` scales
    above (+1) or below (-1) its expectation: the month is scaled by bisection on the
    model's own z (the month moves the scale of its side too, so z is not solved for)."""
    base = synthetic_values(1, 48, seed=4, noise=(0.1, 0.1))

    def at(step: float) -> tuple[float, np.ndarray]:
        v = base.copy()
        v[0, t] *= np.exp(direction * step)
        return direction * float(B.fit(v).z[0, t]), v

    low, high = 0.0, 4.0
    assert at(low)[0] < target < at(high)[0]
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if at(middle)[0] < target else (low, middle)
    z, values = at(high)
    assert z == pytest.approx(target, abs=1e-6)
    return values


@pytest.mark.parametrize(
    ("detector", "direction", "threshold"), [(Spike(), +1, 4.0), (Dip(), -1, 4.5)]
)
@pytest.mark.parametrize("margin", [+0.2, -0.2])
def test_a_month_is_a_spike_or_dip_from_its_threshold_on(detector, direction, threshold, margin):
    """A month 0.2 scales past the threshold (4.0 above, 4.5 below) is flagged with that
    z, one 0.2 short of it is not."""
    out = detector.detect(make_panel(_month_at_z(threshold + margin, direction)))
    if margin > 0:
        assert list(out["start"]) == [30]
        assert out["evidence"].iat[0]["z"] == pytest.approx(direction * (threshold + margin))
    else:
        assert out.empty


@pytest.mark.parametrize("adjusted", [True, False])
def test_an_expectation_from_seasonally_adjusted_months_says_so(adjusted):
    """FRA←ESP 48114900, August 2024: €219.2K "expected from the 12 months around it", whose
    plain median is €204.9K: the level is the median of each month net of its season."""
    evidence = {
        "level_months": [f"2024-{m:02d}" for m in range(1, 13) if m != 8] + ["2025-01"],
        "level_window": 6,
        "level_adjusted": adjusted,
    }
    text = E.expectation_source(evidence)
    assert text.startswith("the 12 months around it")
    assert ("(each net of its own season)" in text) == adjusted


def test_the_evidence_marks_a_level_taken_from_months_with_seasons():
    """A December at ×3 every year is in every month's window: their levels are taken net
    of its season. A series without season has nothing to adjust."""
    rng = np.random.default_rng(1)
    flat = 1e6 * np.exp(0.001 * rng.standard_normal(48))
    seasonal = flat * np.tile([1.0] * 11 + [3.0], 4)
    for values, adjusted in ((flat, False), (seasonal, True)):
        panel = make_panel(values[None, :])
        (july,) = E.sources(panel, B.baseline(panel), np.array([0]), np.array([30]))
        assert july["level_adjusted"] == adjusted


def test_an_expectation_says_the_zeros_it_left_out():
    """CZE→LTU 39206290, July 2025: "from the 8 reported months", where six more months
    reported €0 (with weights), which the model leaves out as the series' habit."""
    v = np.tile([1e4, 0.0, 1.2e4, 0.0, 9e3, 1.1e4], 6)
    panel = make_panel(v[None, :])
    model = B.baseline(panel)
    (src,) = E.sources(panel, model, np.array([0]), np.array([20]))
    window = range(14, 27)
    zeros = sum(v[c] == 0 for c in window if c != 20)
    assert src["level_zeros_left_out"] == zeros == 4
    assert len(src["level_months"]) == 12 - zeros
    text = E.expectation_source(src)
    assert text.startswith(f"the {12 - zeros} months with trade from ")
    assert f"({zeros} months at zero left out, a habit of the series" in text


def test_a_run_of_several_months_is_no_burst():
    """Guinea's exports of 03031900 to China (GNF): 1.6B in January 2015, four months at
    37.5M–75M from June to October, then 0.8B–1.6B from February 2017. One episode of four
    months, not bursts: none of them is measured against levels years away."""
    v = np.full(48, np.nan)
    v[[0, 5, 6, 8, 9]] = [1.6e9, 5.625e7, 7.5e7, 3.75e7, 7.5e7]
    v[25:31] = [1.2e9, 1.2e9, 1.2e9, 8e8, 1.6e9, 8e8]
    panel = make_panel(v[None, :], "2015-01")
    assert not B.baseline(panel).trimmed.any()
    assert Dip().detect(panel).empty


def test_samples_before_a_flow_are_no_part_of_it(shared_data):
    """Portugal's imports of CN 39201023 from the Netherlands: €1–93 in four months of 2023,
    then about €20K a month from February 2024. The 2023 months are samples before the
    flow: they made seasons for the flow (November 2023's €1 with November 2025's €18 made
    November 2024's ordinary €21.1K a spike 1,293 times its expectation), April 2023's €93
    read as a spike among them, and the flow's start went undated. Samples are no part of
    the flow's season nor of its scale, and no month among them is judged alone: the start
    is dated and no month is a spike."""
    v = comext_series(shared_data, "39201023", "PT", "NL", 1)
    model = B.fit(v[None, :])
    assert list(np.flatnonzero(model.samples[0])) == [2, 3, 7, 10]  # March–November 2023
    assert list(model.shifts.start) == [13]  # February 2024
    assert Spike().detect(make_panel(v[None, :], "2023-01")).empty


def test_another_regimes_season_counts_in_this_regimes_units(shared_data):
    """Sweden's imports of CN 48064010 from China: €500K a month, three scattered months of
    €1–220 from August to October 2023, then €85K–310K. October 2023's €220, 11.6 times
    its segment's €21, made October 2025's season ×2.5: its expectation €470K where no
    month since July 2023 reached €311K. A year from another level segment counts in the
    units of the month's own segment (shrunk by the ratio of the two segments' scales), so
    the scattered first months' swings no longer set a season of the regular flow."""
    v = comext_series(shared_data, "48064010", "SE", "CN", 1)
    model = B.fit(v[None, :])
    october = 33  # October 2025
    assert model.segment[0, october] != model.segment[0, 9]  # October 2023: another regime
    assert model.expected[0, october] < 3.11e5


def test_a_flow_that_grows_into_its_level_has_no_samples(shared_data):
    """China's graphite exports to Poland (HS 380110): $3K–$119K a month through 2017,
    then $388K and on to $12M. Its 2017 months are under 1 % of its typical month, but the
    flow grows into its level rather than jumping from samples to trade: read as samples,
    they were left out of the season, and three level shifts (July 2017, April 2018, July
    2020) went unfound."""
    v = china_exports(shared_data, "Poland", 380110)
    assert not B.samples_before_flow(v[None, :]).any()
    assert {6, 15, 42} <= set(B.fit(v[None, :]).shifts.start)


@pytest.mark.parametrize(
    ("lead", "tail", "inside"),
    [(6, 12, None), (2, 6, None), (3, 0, 20)],
    ids=["stop-after-six-leading-zeros", "stop-after-two", "zero-inside-after-three"],
)
def test_zeros_before_a_flow_starts_make_no_habit_of_zeros(lead, tail, inside):
    """Zeros before two years of $10M a month are no habit of the flow: with them counted,
    six leading zeros made the year of zeros after the flow (its stop) ordinary, and three
    made a zero inside it one; each was left out of the model, and no finding said the
    flow stopped."""
    rng = np.random.default_rng(6)
    v = np.concatenate([np.zeros(lead), 1e7 * np.exp(rng.normal(0, 0.05, 24)), np.zeros(tail)])
    if inside is not None:
        v[inside] = 0.0
    ordinary = B.ordinary_zeros(make_panel(v[None, :]))[0]
    assert not ordinary[lead:].any()
