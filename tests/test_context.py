"""``tradesentry.context``: the other records of a figure joined beside it, and their rates."""

from __future__ import annotations

import pandas as pd
import pytest

from tradesentry import api
from tradesentry.context import source_sql, unconverted_mirror_months, unconverted_mirror_note

# a year of yen per dollar that moves: January's rate is not the year's
YEN = [121.0, 123.0, 125.0, 126.5, 127.6, 128.2, 128.2, 127.6, 126.5, 125.0, 123.0, 121.0]


def _ingest(store, tmp_path, rows: list[tuple], rates: list[tuple]) -> None:
    """``rows`` (reporter, partner, flow, period, value, currency[, net_weight_kg]) of TOTAL,
    and ``rates`` (currency, month, per_usd), into ``store``."""
    columns = ["reporter", "partner", "flow", "period", "value", "currency", "net_weight_kg"]
    frame = pd.DataFrame([(*r, None)[:7] for r in rows], columns=columns)
    frame.assign(commodity="TOTAL").to_csv(tmp_path / "trade.csv", index=False)
    store.ingest(tmp_path / "trade.csv")
    pd.DataFrame(rates, columns=["currency", "period", "per_usd"]).to_csv(
        tmp_path / "rates.csv", index=False
    )
    api.load_rates(store, tmp_path / "rates.csv")


def _context(store, needs: list[str]) -> pd.DataFrame:
    return store.con.execute(source_sql("true", needs)).df().set_index(["reporter", "flow"])


@pytest.mark.parametrize("months", [12, 9])  # a year some of whose months have no rate
def test_an_annual_figure_is_converted_at_its_years_mean_rate(store, tmp_path, months):
    """A year's figure is the year's trade: January's rate (¥121) had converted Japan's
    annual imports from China, and put a pair built at a ratio of 1.08 at 1.12. The rate
    is the mean of the months' the store holds, for the mirror figure, the series' own
    rate and the unit-value reference alike."""
    usd = 100e9
    per_usd = sum(YEN[:months]) / months
    rows = [
        ("CHN", "JPN", "export", "2015", usd, "USD", 1e9),
        ("JPN", "CHN", "import", "2015", usd * 1.08 * per_usd, "JPY", 1e9),
        ("KOR", "CHN", "import", "2015", usd * 1.08, "USD", 1e9),  # the same price, in dollars
    ]
    rates = [("JPY", f"2015-{m:02d}", YEN[m - 1]) for m in range(1, months + 1)]
    _ingest(store, tmp_path, rows, rates)
    got = _context(store, ["mirror", "reference_unit_value"])
    assert got.loc[("CHN", "export"), "mirror_value"] == pytest.approx(usd * 1.08)
    assert got.loc[("JPN", "import"), "mirror_value"] == pytest.approx(usd * per_usd)
    assert got.loc[("JPN", "import"), "own_per_usd"] == pytest.approx(per_usd)
    # the imports' median price in dollars: both at $108 a kg where the yen is converted
    # at the same rate as it was priced
    assert got.loc[("KOR", "import"), "reference_unit_value"] == pytest.approx(108.0)


def test_a_monthly_figure_keeps_its_months_rate(store, tmp_path):
    rows = [
        ("CHN", "JPN", "export", "2015-03", 1e9, "USD"),
        ("JPN", "CHN", "import", "2015-03", 1e9 * 1.08 * YEN[2], "JPY"),
    ]
    _ingest(store, tmp_path, rows, [("JPY", f"2015-{m:02d}", YEN[m - 1]) for m in range(1, 13)])
    got = _context(store, ["mirror"])
    assert got.loc[("CHN", "export"), "mirror_value"] == pytest.approx(1e9 * 1.08)
    assert got.loc[("JPN", "import"), "own_per_usd"] == pytest.approx(YEN[2])


def test_figures_no_rate_converts_are_counted_by_the_currency_without_one(store, tmp_path):
    """China's exports to Germany in dollars, Germany's imports in euros, with no euro rate
    for July: that month cannot be compared from either side, and a scan says so."""
    months = ["2024-06", "2024-07", "2024-08"]
    rows = [("CHN", "DEU", "export", m, 1e5, "USD") for m in months]
    rows += [("DEU", "CHN", "import", m, 1e5 * 0.92, "EUR") for m in months]
    _ingest(store, tmp_path, rows, [("EUR", m, 0.92) for m in months if m != "2024-07"])
    assert unconverted_mirror_months(store.con) == {"EUR": 2}
    assert unconverted_mirror_months(store.con, "reporter IN (?)", ["CHN"]) == {"EUR": 1}
    note = unconverted_mirror_note({"EUR": 1})
    assert note is not None and note.startswith("mirror_gap could not compare 1 figure ")
    assert "no EUR rate" in note and "tradesentry rates FILE" in note
    assert unconverted_mirror_note({}) is None
