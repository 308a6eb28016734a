"""``tradesentry.missing``'s summary of a pair's two records."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradesentry import api
from tradesentry.missing import (
    KEYS,
    _monthly_parts,
    _partner_only_unconverted,
    _summarise,
    mirror_ratio,
    mirror_view,
    missing_trade,
)


def _rows(own, mirror) -> pd.DataFrame:
    return pd.DataFrame({"own": own, "mirror": mirror})


@pytest.mark.parametrize(("flow", "expected"), [("export", 1.1), ("import", 1 / 1.1)])
def test_mirror_ratio_is_the_importers_record_over_the_exporters(flow, expected):
    """Summed over the months both recorded only: a month one side left out says nothing
    of the ratio."""
    rows = _rows([100.0, 200.0, 50.0, np.nan], [110.0, 220.0, np.nan, 80.0])
    assert mirror_ratio(rows, flow) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("own", "mirror"),
    [([np.nan, 5.0], [3.0, np.nan]), ([0.0], [4.0]), ([4.0], [0.0]), ([], [])],
)
def test_mirror_ratio_of_nothing_is_none(own, mirror):
    assert mirror_ratio(_rows(own, mirror), "export") is None


def _parts(own, mirror, uv_gap) -> pd.DataFrame:
    """One commodity's months, each side's record (NaN: none), at a usual ratio of 1.05 with
    a spread of 0.2, and the reporter's unit-value gaps (NaN: no price outlier)."""
    n = len(own)
    frame = pd.DataFrame(
        {
            "flow": "export",
            "classification": "HS",
            "commodity": "250410",
            "breakdown": "",
            "period": [f"2020-{m:02d}" for m in range(1, n + 1)],
            "own": own,
            "mirror": mirror,
            "expected_ratio": 1.05,
            "expected_spread": 0.2,
            "outside": False,
            "own_currency_ok": [1 if np.isfinite(o) else np.nan for o in own],
            "mirror_currency_ok": [1 if np.isfinite(m) else np.nan for m in mirror],
        }
    )
    uv = frame[[*KEYS, "period"]].assign(uv_gap=uv_gap).dropna(subset=["uv_gap"])
    return _summarise(_monthly_parts(frame, uv)).iloc[0]


@pytest.mark.parametrize(
    ("uv_gap", "low", "central", "high"),
    [
        (-2.2e6, -2.2e6, -2.2e6, 0.0),  # declared more than the weight implies: low's side
        (615.1e3, 0.0, 615.1e3, 615.1e3),  # declared less: high's side, never low's
    ],
)
def test_each_end_of_the_range_takes_the_unit_value_gaps_on_its_side(uv_gap, low, central, high):
    """CHN's exports of 250410 to ESP, which ESP never recorded, with unit-value gaps of
    −$2.2M read low, central and high all −$2.2M: high had added the negative gap and low
    been pulled down to central. The gaps are the range's least certain part: a negative
    one lowers low and central, a positive one raises central and high."""
    row = _parts([6e6, 6e6, 6.1e6], [np.nan] * 3, [np.nan, uv_gap, np.nan])
    assert [row["low"], row["central"], row["high"]] == pytest.approx([low, central, high])


@pytest.mark.parametrize("uv_gap", [-50.0, 50.0])
def test_low_central_and_high_are_in_order_beside_mirror_gaps(uv_gap):
    """Months both recorded beside a month of the reporter's alone with a unit-value gap:
    low is the mirror gaps at the lower quartile plus the gap only where it is negative."""
    row = _parts([90.0, 80.0, 100.0], [100.0, 100.0, np.nan], [np.nan, np.nan, uv_gap])
    mirror_only = _parts([90.0, 80.0], [100.0, 100.0], [np.nan, np.nan])
    assert row["low"] <= row["central"] <= row["high"]
    assert row["low"] == pytest.approx(mirror_only["low"] + min(uv_gap, 0.0))
    assert row["high"] == pytest.approx(mirror_only["high"] + max(uv_gap, 0.0))


# -- one currency ------------------------------------------------------------------------
RESTATED_MONTHS = pd.period_range("2023-01", "2024-12", freq="M").astype(str)
NO_CNY_RATE = "2024-05"  # the one month the store has no yuan rate for
CODES = ("32121000", "39204910", "48064010")


def _usd(i: int) -> float:
    return 1e5 * (1 + 0.2 * (i % 4))


def _restated_store(store, tmp_path, in_cny):
    """CHN's exports of three codes to DEU in dollars except where ``in_cny(code, month)``,
    in yuan (7 a dollar); DEU's imports of them in euros (0.9 a dollar), 1.06 times CHN's
    figure; every month's rates but the yuan's of ``NO_CNY_RATE``."""
    rows = []
    for code in CODES:
        for i, month in enumerate(RESTATED_MONTHS):
            cny = in_cny(code, month)
            own = (_usd(i) * 7.0, "CNY") if cny else (_usd(i), "USD")
            rows.append(("CHN", "DEU", "export", code, month, *own))
            rows.append(("DEU", "CHN", "import", code, month, _usd(i) * 1.06 * 0.9, "EUR"))
    columns = ["reporter", "partner", "flow", "commodity", "period", "value", "currency"]
    pd.DataFrame(rows, columns=columns).to_csv(tmp_path / "restated.csv", index=False)
    store.ingest(tmp_path / "restated.csv")
    rates = [("EUR", m, 0.9) for m in RESTATED_MONTHS]
    rates += [("CNY", m, 7.0) for m in RESTATED_MONTHS if m != NO_CNY_RATE]
    pd.DataFrame(rates, columns=["currency", "period", "per_usd"]).to_csv(
        tmp_path / "rates.csv", index=False
    )
    api.load_rates(store, tmp_path / "rates.csv")
    return store


@pytest.mark.parametrize(
    "in_cny",
    [
        pytest.param(lambda code, month: code == "32121000", id="one code in yuan"),
        pytest.param(
            lambda code, month: code == "32121000" and month >= "2024-01", id="restated 2024"
        ),
    ],
)
def test_the_reporters_own_figures_are_in_the_tables_one_currency(store, tmp_path, in_cny):
    """CHN's figures of one code in yuan beside the others in dollars read as dollars and
    were summed with them, and `gap` found a $9.8M over-recording: each own figure is
    converted at its month's rate, as the partner's are, and a month with no rate is
    said, never shown in another currency."""
    _restated_store(store, tmp_path, in_cny)
    con = store.con.cursor()
    for code in (None, "32121000"):  # with --commodity the table took the code's currency
        view = mirror_view(con, "CHN", "DEU", code)
        frame = view.frame[view.frame["flow"] == "export"]
        cny = [in_cny(c, m) for c, m in zip(frame["commodity"], frame["period"], strict=True)]
        rated = ~(np.array(cny) & (frame["period"] == NO_CNY_RATE))
        assert view.currency == "USD"
        expected = [_usd(list(RESTATED_MONTHS).index(m)) for m in frame.loc[rated, "period"]]
        assert frame.loc[rated, "own"].tolist() == pytest.approx(expected)
        assert frame.loc[rated, "ratio"].tolist() == pytest.approx([1.06] * int(rated.sum()))
        assert not frame["outside"].any()
        unrated = frame[~rated]  # no rate: no figure, said, never one in yuan
        assert unrated["own"].isna().all() and unrated["own_currency_ok"].tolist() == [0]
        assert unrated["own_currency"].tolist() == ["CNY"]
        assert (
            f"1 month of CHN's own record is in CNY with no rate to USD in the store "
            f"({NO_CNY_RATE}): shown as `no rate`" in " ".join(view.notes)
        )
    gap = missing_trade(con, "CHN", "DEU")
    export = gap.totals["export"]
    usd = sum(_usd(i) for i in range(len(RESTATED_MONTHS)))
    unrated = _usd(list(RESTATED_MONTHS).index(NO_CNY_RATE))
    assert export["own"] == pytest.approx(len(CODES) * usd - unrated)
    assert export["own_unconverted_months"] == 1
    assert abs(export["central"]) < 1e-6 * export["own"]  # nothing missing either way


def test_unit_value_gaps_are_summed_in_the_tables_currency(store, tmp_path):
    """A price outlier's gap is in its series' currency: in yuan beside dollars it was
    summed as dollars. A year is converted at the mean of its months' rates."""
    from tradesentry.missing import _in_currency

    _restated_store(store, tmp_path, lambda code, month: False)
    con = store.con.cursor()
    amounts = pd.Series([700.0, 700.0, 90.0, 50.0])
    currencies = pd.Series(["CNY", "CNY", "EUR", "USD"])
    months = pd.Series(["2024-04", NO_CNY_RATE, "2024-04", "2024-04"])
    converted = _in_currency(con, amounts, currencies, months, "USD", "M")
    assert converted[[0, 2, 3]].tolist() == pytest.approx([100.0, 100.0, 50.0])
    assert np.isnan(converted[1])  # no rate: left out, not taken as dollars
    in_euros = _in_currency(con, amounts[:1], currencies[:1], pd.Series(["2024"]), "EUR", "A")
    assert in_euros.tolist() == pytest.approx([90.0])


@pytest.mark.parametrize(
    ("periods", "freq", "named"),
    [
        (["2024-07"], "M", "2024-07"),
        (["2020-05", "2020-03", "2020-04", "2021-01"], "M", "2020-03 to 2020-05, 2021-01"),
        (["2016", "2017", "2019"], "A", "2016 to 2017, 2019"),
    ],
)
def test_the_months_no_rate_converts_are_named_as_spans(periods, freq, named):
    from tradesentry.missing import _periods_named

    assert _periods_named(periods, freq) == named


@pytest.mark.parametrize(
    ("months", "said"),
    [
        (1, "1 month of the partner's record in which USA recorded nothing is in EUR"),
        (3, "3 months of the partner's record in which USA recorded nothing are in EUR"),
    ],
)
def test_the_partner_only_months_note_counts_in_words(months, said):
    """It read "1 months of the partner's record …"."""
    frame = pd.DataFrame(
        {
            "period": [f"2020-{m:02d}" for m in range(1, months + 1)],
            "own": np.nan,
            "own_currency": None,
            "mirror_currency": "EUR",
            "mirror_currency_ok": 0,
        }
    )
    (note,) = _partner_only_unconverted(frame, "USD", "USA", "M")
    assert note.startswith(said)


def test_every_period_of_the_span_is_a_row(store, tmp_path):
    """A series silent from March to August 2020 read 2020-02 then 2020-09, and its
    sparkline closed up the gap: each period between its first and last is a row, empty
    and not outside where neither side holds a figure."""
    from tradesentry.missing import every_period

    months = [m for m in pd.period_range("2020-01", "2021-12", freq="M").astype(str)]
    held = [m for m in months if not "2020-03" <= m <= "2020-08"]
    rows = pd.DataFrame(
        {"flow": "export", "classification": "HS", "commodity": "TOTAL", "breakdown": "",
         "period": held, "own": 1.0, "mirror": 1.06, "outside": True}
    )  # fmt: skip
    filled = every_period(rows, "M")
    assert filled["period"].tolist() == months
    silent = filled[filled["period"].between("2020-03", "2020-08")]
    assert silent[["own", "mirror"]].isna().all().all() and not silent["outside"].any()
    assert (filled["commodity"] == "TOTAL").all() and filled["outside"].sum() == len(held)
    years = rows.assign(period=["2016", "2019"] + [str(2020 + i) for i in range(len(held) - 2)])
    assert every_period(years.head(2), "A")["period"].tolist() == ["2016", "2017", "2018", "2019"]


@pytest.mark.parametrize(("usual", "persistent"), [(716.0, True), (1 / 716, True), (10.0, False)])
def test_a_pair_far_off_the_usual_ratio_is_persistent_inside_a_wide_band(usual, persistent):
    """FIN←DEU 35069110 (FIN €5.7M against DEU's €5.9K over 28 months, a band of
    ×0.00145–×3,988): `gap` took the pair's own ratio as usual and said €1.05 missing. A pair
    20 times or more off the commodity's usual ratio over 12 months or more is a persistent
    gap, measured at the commodity's ratio, as mirror_gap judges it."""
    from tradesentry.detectors.mirror_gap import MirrorGap
    from tradesentry.missing import _with_band

    months = 28
    own = 1e4 * np.exp(np.random.default_rng(3).normal(0, 0.3, months))
    frame = pd.DataFrame(
        {
            "flow": "export",
            "classification": "CN8",
            "commodity": "35069110",
            "breakdown": "",
            "period": [str(p) for p in pd.period_range("2023-01", periods=months, freq="M")],
            "own": own,
            "mirror": own * usual,
            "mirror_currency_ok": 1,
            "data_margin": 0.0,
            "data_spread": 2.1,
            "reference_pair_months": 5000,
            "intra_eu": True,
        }
    )
    banded = _with_band(frame, MirrorGap())
    assert banded["band_high"].iloc[0] > 716 and banded["band_low"].iloc[0] < 1 / 716
    assert (banded["persistent"] == persistent).all()
    assert (banded["own_habit"] != persistent).all()
    usual_ratio = banded["usual_ratio"].iloc[0] if persistent else banded["pair_usual_ratio"]
    assert banded["expected_ratio"].to_numpy() == pytest.approx(usual_ratio, rel=0.05)
