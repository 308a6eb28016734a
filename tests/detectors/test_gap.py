"""Gaps: what a missing run is worth, the same in any chunk."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from tradesentry.datasets import make_panel
from tradesentry.detectors import default_detectors
from tradesentry.errors import InputError

from ._helpers import findings, keyed_panel


def _gaps(values: np.ndarray):
    return default_detectors(["gap"])[0].detect(make_panel(values))


@pytest.mark.parametrize("missing", [1, 6, 30, 60])
def test_a_run_is_worth_the_level_around_it(missing):
    """A steady $1M a month: each missing month is worth about $1M, also the middle of a run
    longer than two years, which the model cannot price from reported months within a year
    and where the level on each side is carried across."""
    v = np.full((1, 24 + missing), 1e6)
    v[0, 12 : 12 + missing] = np.nan
    out = _gaps(v)
    assert len(out) == 1
    assert out["impact"].iloc[0] == pytest.approx(missing * 1e6, rel=1e-6)
    evidence = out["evidence"].iloc[0]
    assert None not in evidence["expected_each"]
    assert evidence["carried_across"] == max(missing - 24, 0)


@pytest.mark.parametrize(
    ("first_month", "off"),
    [(3, 8), (1, 6), (0, 5)],
    ids=["from-april", "from-february", "from-january"],
)
def test_a_run_says_which_of_its_months_may_be_the_off_season(first_month, off):
    """Singapore's imports of Guinea's cashews: April to July 2016 and April to June 2017,
    the harvest's months, and nothing between. Its record never shows August to March, the
    longest stretch of the year it never shows: those months may be its off season, and
    the evidence says how many (``off_season``). A record from February has shown
    February and March trading, one from January those and January: six and five months
    remain."""
    v = np.full((1, 18), np.nan)
    v[0, first_month:7] = 2e10
    v[0, 15:18] = 2e10
    found = default_detectors(["gap"])[0].detect(make_panel(v, "2016-01"))
    (ev,) = found["evidence"]
    assert ev["months"][0] == "2016-08" and len(ev["months"]) == 8
    assert ev.get("off_season", 0) == off


def test_a_flow_seen_in_one_year_shows_no_off_season():
    """Trade from January to March and July to October 2024, nothing between: the only
    year the flow was seen, and no calendar month on both sides of the run. Its months may
    be anything: no off season (a first version called April–June one, and the gap low)."""
    v = np.full(10, np.nan)
    v[[0, 1, 2, 6, 7, 8, 9]] = 1e5
    found = default_detectors(["gap"])[0].detect(make_panel(v[None, :], "2024-01"))
    (ev,) = found["evidence"]
    assert ev["months"] == ["2024-04", "2024-05", "2024-06"] and "off_season" not in ev


def test_a_run_between_two_stretches_of_one_season_is_judged():
    """Guinea's cotton to Pakistan, February to April and August to October 2016, and
    nothing in May–July: its record never shows May–July, nor November–January, and
    neither is the longest stretch of the year it never shows: no off season, and the
    three months are a gap (the first version of the rule left them unjudged)."""
    v = np.full(12, np.nan)
    v[[1, 2, 3, 7, 8, 9]] = 3e9
    found = default_detectors(["gap"])[0].detect(make_panel(v[None, :], "2016-01"))
    assert found["evidence"].iloc[0]["months"] == ["2016-05", "2016-06", "2016-07"]
    assert "off_season" not in found["evidence"].iloc[0]


def test_carried_levels_move_from_one_side_to_the_other():
    """$1M a month before, $4M after: the carried months climb between them on the log scale."""
    v = np.concatenate([np.full(12, 1e6), np.full(40, np.nan), np.full(12, 4e6)])[None, :]
    each = np.array(_gaps(v)["evidence"].iloc[0]["expected_each"])
    assert np.all(np.diff(each) >= -1e-6)
    assert each[0] == pytest.approx(1e6, rel=0.01) and each[-1] == pytest.approx(4e6, rel=0.01)


def test_a_run_sum_does_not_depend_on_the_chunk():
    """The same series alone, or below another series on a wider axis, gives the same
    figure to the last bit (the sum runs over the run, not over the panel's row)."""
    rng = np.random.default_rng(1)
    wide = np.full((2, 60), np.nan)
    wide[0] = 3e7 * np.exp(rng.normal(0, 0.05, 60))
    wide[1, 12:] = 3e7 * np.exp(rng.normal(0, 0.3, 48))
    wide[1, 36] = np.nan
    alone = _gaps(wide[1:, 12:])["impact"].to_numpy()
    beside = _gaps(wide)
    assert beside["impact"].to_numpy()[beside["series"].to_numpy() == 1].tolist() == alone.tolist()


@pytest.mark.parametrize(
    ("level", "above_low"),
    [(1e6, True), (5e3, True), (400.0, False), (30.0, False)],
)
def test_a_gap_rises_above_low_only_where_money_is_at_stake(level, above_low):
    """Two missing months in a flow that traded every month for two years are a strong
    signal; in a flow of a few hundred units a month they stay low (score below 0.5)."""
    v = np.full((1, 36), level)
    v[0, 20:22] = np.nan
    out = _gaps(v)
    assert len(out) == 1
    score = out["score"].iloc[0]
    expected = out["expected"].iloc[0]
    assert score <= expected / 2000.0 + 1e-12
    assert (score >= 0.5) == above_low


@pytest.mark.parametrize(
    ("partner", "pointer"),
    [
        ("ESP", ": ESP's record of the same flow would tell; the store holds none of it "
         "around these months (ingest ESP's records, then tradesentry mirror SWE ESP "
         "--commodity 48114900)."),
        ("WLD", "."),
        ("X899", "."),
    ],
)  # fmt: skip
def test_the_text_says_what_the_expectation_rests_on_and_where_to_look(partner, pointer):
    from tradesentry.detectors.gap import Gap

    finding = {
        "kind": "gap", "reporter": "SWE", "partner": partner, "flow": "export",
        "commodity": "48114900", "currency": "EUR", "period": "2025-03",
        "period_end": "2025-06", "expected": 93.0,
        "evidence": {
            "months": ["2025-03", "2025-04", "2025-05", "2025-06"], "traded_before": 12,
            "months_before": 12, "traded_after": 6, "months_after": 6,
        },
    }  # fmt: skip
    text = Gap().explain(finding)
    assert "about €93 of trade would be expected there, judging by the series' own " in text
    assert "figures around them" in text
    assert text.endswith("or no trade at all in that time" + pointer)


def test_one_missing_month_is_named_in_the_singular():
    from tradesentry.detectors.gap import Gap

    finding = {
        "kind": "gap", "reporter": "SWE", "partner": "WLD", "flow": "export",
        "commodity": "48114900", "currency": "EUR", "period": "2025-03",
        "period_end": "2025-03", "expected": 93.0,
        "evidence": {
            "months": ["2025-03"], "traded_before": 12, "months_before": 12,
            "traded_after": 6, "months_after": 6, "without_season": 90.0,
        },
    }  # fmt: skip
    text = Gap().explain(finding)
    assert text.startswith("No figure for March 2025, although the series recorded trade")
    assert "the series' own figures around it and the same month" in text
    assert "from the figures around it alone)" in text
    assert "around them" not in text


@pytest.mark.parametrize(
    ("withheld", "said"),
    [((10,), "The source lists it without a value (confidential, not available, or a weight "
              "given without it: the trade was recorded, its value not published): FRA's "
              "record of the same flow would show its value; the store holds none of it "
              "around these months (ingest FRA's records, then tradesentry mirror DEU FRA "
              "--commodity 01 --classification CN8)."),
     ((10, 11), "The source lists them without a value")],
)  # fmt: skip
def test_a_month_the_source_withheld_is_said_to_be_withheld(store, tmp_path, withheld, said):
    """Comext's blank is a figure withheld (a row without a value), not a month left out:
    the gap is found as any other, and its text says the source withheld it."""
    from tests.trade_files import world_and_partners_csv
    from tradesentry import api

    store.ingest(world_and_partners_csv(tmp_path, withheld=withheld))
    (finding,) = api.scan(store, kinds="gap", save=False)
    assert finding["evidence"]["withheld_months"] == len(withheld)
    assert said in finding["explanation"]
    assert "or no trade at all" not in finding["explanation"]


def test_a_gap_priced_by_its_season_says_so():
    """A February that runs at ten times the months around it, in every other year: the
    missing February is priced at about that, and the text says the same month in other
    years is behind the figure and what the months around give alone; where the season
    does not move the figure, nothing is said of it."""
    rng = np.random.default_rng(3)
    v = 2e4 * np.exp(rng.normal(0, 0.2, (1, 48)))
    v[0, 1::12] *= 10  # every February
    v[0, 25] = np.nan  # February of the third year
    gap = default_detectors(["gap"])[0]
    (finding,) = gap.detect(make_panel(v)).to_dict("records")
    plain = finding["evidence"]["without_season"]
    assert plain == pytest.approx(2e4, rel=0.3) and finding["expected"] > 4 * plain
    said = gap.explain({**finding, "period": "2021-02", "currency": "EUR"})
    assert "and the same month in other years (about €2" in said
    flat = 2e4 * np.exp(rng.normal(0, 0.05, (1, 48)))
    flat[0, 25] = np.nan
    (unseasonal,) = gap.detect(make_panel(flat)).to_dict("records")
    assert "without_season" not in unseasonal["evidence"]


#: NLD's imports of CN 39204310 from SVK (Comext), January 2023 to November 2025, in euros
NLD_SVK = [
    16816, 2611, 232, 5324, 4579, 3963, 4050, 257, np.nan, 42, 113, 129,
    4, 3, 10, 45, 18, 5, 40, 103, 5405, 4, 15, 8,
    437, 380, 685, 560, 17, 47, 66, 60, 4250, 2252, 46,
]  # fmt: skip


def test_a_season_read_at_another_level_prices_a_gap_at_no_more_than_its_months_held():
    """The missing September 2023 was priced at €244.7K, 15 times the series' largest
    month: the €5.4K and €4.3K Septembers among months of €4–100 made a factor of about
    68, read at 2023's level. It is priced at no more than those Septembers recorded."""
    gap = default_detectors(["gap"])[0]
    found = gap.detect(make_panel(np.array([NLD_SVK], dtype=float), "2023-01"))
    (finding,) = found[found["start"] == 8].to_dict("records")
    ev = finding["evidence"]
    assert ev["season_capped"] == 1
    assert finding["expected"] == finding["impact"] == 5405.0  # the most a September held
    assert finding["expected"] > ev["without_season"]  # the season counts, up to that
    said = gap.explain({**finding, "period": "2023-09", "period_end": "2023-09", "currency": "EUR"})
    assert "and the same month in other years, no more than those years recorded (about €" in said


def _pair_csv(folder, partner_gap: str, partner_currency: str = "EUR") -> Path:
    """SWE's exports of 48114900 to ESP, €100K a month with noise, 24 months from January
    2023, but for November and December 2023; and ESP's imports of them from SWE (in
    ``partner_currency``, at 1.1 to the euro), whose November and December are
    ``partner_gap``: "recorded" (€90K each), "small" (€2K each), "silent" (none), "zero"
    (€0 each), "combined" (one figure of €180K over both months), "straddling" (one of
    €200K over October and November, and €90K for December), "partial" (€90K for November
    alone), "scaled" (a record at 1/60 of SWE's throughout, the gap's months at its usual)
    or "sparse" (figures in only three months of the two years, none in the gap)."""
    from tests.trade_files import CSV_HEADER

    rng = np.random.default_rng(5)
    rows = [CSV_HEADER]
    rate = 1.1 if partner_currency == "USD" else 1.0
    partner = {"recorded": 9e4, "small": 2e3, "zero": 0.0, "combined": 1.8e5}.get(partner_gap)
    partner = 9e4 if partner_gap in ("straddling", "partial") else partner
    # a record of the flow at 1/60, or at 1/25,000 (a few euros a month)
    scale = {"scaled": 1 / 60, "other-scale": 4e-5}.get(partner_gap, 1.0)
    partner = 1e5 * scale if partner_gap in ("scaled", "other-scale") else partner
    for m, noise in enumerate(np.exp(rng.normal(0, 0.1, 24))):
        period = f"{2023 + m // 12}-{m % 12 + 1:02d}"
        if m not in (10, 11):
            rows.append(f"SWE,ESP,export,CN8,48114900,{period},1,{1e5 * noise:.0f},EUR")
        value, months = (1e5 * noise * scale, 1) if m not in (10, 11) else (partner, 1)
        if partner_gap == "sparse" and m not in (2, 15, 20):  # a record seldom kept
            continue
        if partner_gap == "partial" and m == 11:
            continue
        if m in (10, 11) and partner_gap == "combined":
            if m == 11:
                continue
            months = 2
        if partner_gap == "straddling" and m in (9, 10):  # October–November, €200K
            if m == 10:
                continue
            value, months = 2e5, 2
        figure = f"{value * rate:.0f}" if value is not None else ""
        if value is not None:
            rows.append(
                f"ESP,SWE,import,CN8,48114900,{period},{months},{figure},{partner_currency}"
            )
    path = folder / f"pair-{partner_gap}-{partner_currency}.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("partner_gap", "currency", "rates", "said"),
    [
        ("recorded", "EUR", False, "ESP recorded imports from SWE of €180.0K for those months "
         "(its record of the same flow; its usual month about €96.4K): by its account the "
         "trade went on, so a figure confidential, suppressed or late in SWE's record is the "
         "likelier reading than 2 months without trade."),
        ("recorded", "USD", True, "ESP recorded imports from SWE of €180.0K for those months"),
        # in a currency the store has no rate for: the figure, and no reading of it
        ("recorded", "USD", False, "ESP recorded imports from SWE of $198.0K for those months "
         "(its record of the same flow)."),
        ("small", "EUR", False, "ESP recorded imports from SWE of €4.0K for those months (its "
         "record of the same flow; its usual month about €96.4K): by its account some trade "
         "went on, well below its usual"),
        ("silent", "EUR", False, "ESP's record of the same flow shows no trade in those "
         "months either, though it has trade in 22 months around them, where SWE's has 22: "
         "no trade in that time is the likelier reading, or both records left it out."),
        ("zero", "EUR", False, "ESP's record of the same flow shows no trade in those "
         "months either"),
        # weighed against the partner's own usual month, not SWE's
        ("scaled", "EUR", False, "(its record of the same flow; its usual month about "
         "€1.6K): by its account the trade went on"),
        # a record a thousand times apart or more says little (SVK's €4 a month of BEL's
        # €391K)
        ("other-scale", "EUR", False, "ESP's record of the same flow runs at another scale "
         "(its usual month about €4, SWE's expected month here about €99.4K): it says "
         "little of those months."),
        ("partial", "EUR", False, "ESP recorded imports from SWE of €90.0K in 1 of those "
         "months (its record of the same flow; its usual month about €96.4K): by its "
         "account trade went on in 1 of them, so figures confidential, suppressed or late "
         "in SWE's record are the likelier reading there."),
        # a record seldom kept says nothing by its silence
        ("sparse", "EUR", False, "ESP's record of the same flow shows no trade in those "
         "months either, but it has trade in only 3 months around them, where SWE's has 22, "
         "so its silence says little."),
        # half of the October–November figure is November's
        ("straddling", "EUR", False, "ESP recorded imports from SWE of €190.0K for those "
         "months (its record of the same flow; some of it a share of a figure over several "
         "months; its usual month about €95.2K)"),
        ("combined", "EUR", False, "ESP recorded imports from SWE of €180.0K for those "
         "months (its record of the same flow; some of it a share of a figure over several "
         "months; its usual month about €96.4K): by its account the trade went on"),
    ],
)  # fmt: skip
def test_a_gap_says_what_the_partner_recorded_in_its_months(
    store, tmp_path, partner_gap, currency, rates, said
):
    """The partner's record of a missing month has no row of the series to be joined to,
    so the scan reads it from the store once the gap is found (``Gap.complete``)."""
    from tradesentry import api

    store.ingest(_pair_csv(tmp_path, partner_gap, currency))
    if rates:
        (tmp_path / "rates.csv").write_text(
            "currency,period,per_usd\n"
            + "".join(f"EUR,2023-{m:02d},{1 / 1.1}\n" for m in range(1, 13))
        )
        api.load_rates(store, tmp_path / "rates.csv")
    (gap,) = api.scan(store, kinds="gap", reporter="SWE", save=False)
    assert (gap["period"], gap["period_end"]) == ("2023-11", "2023-12")
    assert said in gap["explanation"], gap["explanation"]
    traded = {"silent": 0, "zero": 0, "sparse": 0, "partial": 1}.get(partner_gap, 2)
    assert gap["evidence"]["partner_months"] == traded
    assert ("partner_currency" in gap["evidence"]) == (currency == "USD" and not rates)
    if partner_gap == "recorded":
        assert "or no trade at all" not in gap["explanation"]
    if partner_gap == "sparse":
        assert "likelier" not in gap["explanation"]
    # both records empty: months without trade are the likelier reading, so the gap is low
    # whatever its money (two months of a €100K flow are high otherwise)
    silent = partner_gap in ("silent", "zero")
    assert (gap["severity"] == "low") == silent, (gap["severity"], gap["score"])
    assert (gap["score"] <= 0.5) == silent
    if currency == "USD" and not rates:
        assert gap["explanation"].endswith(said) and "likelier" not in gap["explanation"]
    (saved,) = api.scan(store, kinds="gap", reporter="SWE")  # saved, then completed
    assert saved["explanation"] == gap["explanation"] and saved["evidence"] == gap["evidence"]


@pytest.mark.parametrize("partner", [True, False], ids=["partner-recorded", "no-partner"])
def test_an_off_season_nothing_contradicts_makes_a_gap_low(store, tmp_path, partner):
    """Portugal's exports of CN 39204390 to Spain, Italy and Germany in September–December
    2023 and 2024 only: the record never shows January to August, and the 8 months between
    may be the off season. Where the line's other partners are silent in them too and
    nothing in the store says otherwise, months without trade are the likelier reading,
    and the gap is low, as where the partner's record is silent; where Spain recorded
    imports from Portugal in those months, the gap stands (high)."""
    from tradesentry import api

    rows = ["reporter,partner,flow,commodity,period,value,currency"]
    for m in range(24):  # January 2023 to December 2024
        period = f"{2023 + m // 12}-{m % 12 + 1:02d}"
        rows.append(f"PRT,FRA,export,39201081,{period},{5e4 * (1 + 0.05 * (m % 3))},EUR")
        if m % 12 >= 8:  # the line's season, to Spain and to two other partners
            for to, size in (("ESP", 2e5), ("ITA", 1e5), ("DEU", 1.5e5)):
                value = size * (1 + 0.05 * (m % 3))
                rows.append(f"PRT,{to},export,39204390,{period},{value},EUR")
        if partner and m >= 8:
            rows.append(f"ESP,PRT,import,39204390,{period},{2.1e5 * (1 + 0.05 * (m % 2))},EUR")
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    store.ingest(tmp_path / "t.csv")
    (gap,) = api.scan(store, kinds="gap", partner="ESP", save=False).to_records()
    assert (gap["period"], gap["period_end"]) == ("2024-01", "2024-08")
    ev, text = gap["evidence"], gap["explanation"]
    assert ev["off_season"] == 8
    said = "All of these 8 months fall in the part of the year the series has never reported"
    assert (said in text) is not partner, text  # the partner's trade says they were none
    assert ev.get("off_season_refuted", False) is partner
    assert (gap["severity"] == "high") is partner
    assert ("off_season_likelier" in ev) is not partner
    likelier = "Its off season, months without trade, is the likelier reading."
    assert (likelier in text) is not partner


def test_a_gap_whose_partner_record_the_store_lacks_points_to_it(store, tmp_path):
    from tradesentry import api

    path = _pair_csv(tmp_path, "recorded")
    path.write_text("".join(line + "\n" for line in path.read_text().splitlines()
                            if not line.startswith("ESP")))  # fmt: skip
    store.ingest(path)
    (gap,) = api.scan(store, kinds="gap", save=False)
    assert "partner_months" not in gap["evidence"]
    # offered alone, the mirror command printed n/a (QA): the record is to ingest first
    assert gap["explanation"].endswith(
        "would tell; the store holds none of it around these months (ingest ESP's records, "
        "then tradesentry mirror SWE ESP --commodity 48114900 --classification CN8)."
    )


_ROAD = {"motCode": 3200, "motDesc": "Road"}
_YEAR = {"freqCode": "A", "refMonth": 52}  # period and refPeriodId: the year's


def _comtrade_series(folder: Path, series: list[tuple[dict, bool]]) -> Path:
    """UN Comtrade Plus JSON of CHN's exports of 2710 to PRK, one series per (fields of the
    record replaced, holed): 36 months from January 2019 (or 24 years from 2000 where the
    fields are annual), about $1M each; a holed series lacks its 13th and 14th."""
    import json

    from tests.ingest.kit import comtrade_fields, record

    rng = np.random.default_rng(3)
    data = []
    for fields, holed in series:
        annual = fields.get("freqCode") == "A"
        for t in range(24 if annual else 36):
            if holed and t in (12, 13):
                continue
            year, month = (2000 + t, 1) if annual else (2019 + t // 12, t % 12 + 1)
            value = f"{1e6 * np.exp(rng.normal(0, 0.05)):.0f}"
            r = record(year=str(year), month=f"{month:02d}", commodity="2710", value=value)
            data.append({**comtrade_fields(r), **fields})
            if annual:
                data[-1].update(period=str(year), refPeriodId=int(f"{year}0101"))
    path = folder / "comtrade.json"
    path.write_text(json.dumps({"count": len(data), "data": data, "error": ""}))
    return path


@pytest.mark.parametrize(
    ("series", "command"),
    [
        # H5 and HS of the same code: without --classification, "pass --classification"
        ([({}, True), ({"classificationCode": "HS"}, False)],
         "--commodity 2710 --classification H5"),
        # a gap in the flow by road: without --breakdown, the total, where no month is missing
        ([({}, False), (_ROAD, True)],
         "--commodity 2710 --classification H5 --breakdown 'partner2=0;customs=C00;mot=3200'"),
        # a year missing: without --freq A, the monthly figures held beside it
        ([(_YEAR, True), ({}, False)], "--commodity 2710 --classification H5 --freq A"),
        # a source's code: a ';' in it ended the command in a shell
        ([({"cmdCode": 'A,B;C"D'}, True)], "--commodity 'A,B;C\"D' --classification H5"),
    ],
    ids=["classifications", "breakdown", "annual", "hostile-code"],
)  # fmt: skip
def test_the_mirror_command_a_gap_suggests_opens_its_series(store, tmp_path, series, command):
    """Built of reporter, partner and commodity alone, the command failed or opened another
    series (QA); it now opens the gap's own, as a shell reads it."""
    import csv
    import io
    import shlex

    from typer.testing import CliRunner

    from tradesentry import api, cli

    store.ingest(_comtrade_series(tmp_path, series))
    (gap,) = api.scan(store, kinds="gap", save=False).to_records()
    text = gap["explanation"]
    assert text.endswith(f"then tradesentry mirror CHN PRK {command}).")
    line = text[text.rindex("then ") + len("then ") : -len(").")]
    argv = shlex.split(line)[1:]  # as a shell hands it to the command
    assert argv[argv.index("--commodity") + 1] == gap["commodity"]
    store.close()  # the command opens the store itself
    result = CliRunner().invoke(
        cli.app, [*argv, "--store", str(store.path), "--format", "csv"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    key = ("classification", "commodity", "breakdown")
    assert {tuple(r[k] for k in key) for r in rows} == {tuple(gap[k] for k in key)}
    periods = {r["period"] for r in rows}
    missing = {m[:4] if gap["freq"] == "A" else m for m in gap["evidence"]["months"]}
    assert len(rows) == len(periods) and missing and not missing & periods


def _comext_pair(folder, own: str, partner: str) -> Path:
    """Comext SDMX-CSV (a blank figure is one the source withheld): Germany's exports of
    01 to France, €100K a month for 24 months from January 2023, and France's imports of
    them from Germany. November and December 2023 in each record (``own``, ``partner``):
    "missing" (no rows), "blank" (listed without a value) or "half" (November blank,
    December missing, or for France €95K)."""
    header = (
        "DATAFLOW,LAST UPDATE,freq,reporter,partner,product,flow,indicators,TIME_PERIOD,OBS_VALUE"
    )
    rows = [header]
    for m in range(24):
        period = f"{2023 + m // 12}-{m % 12 + 1:02d}"
        for reporter, other, flow, mode in (("DE", "FR", 2, own), ("FR", "DE", 1, partner)):
            value = f"{100_000 + 1_000 * (m % 5):.0f}"
            if m in (10, 11):
                value = {
                    "missing": None,
                    "blank": "",
                    "half": "" if m == 10 else ("95000" if reporter == "FR" else None),
                }[mode]
            if value is None:
                continue
            rows.append(
                f"ESTAT:DS-045409(1.0),13/02/26 11:00:00,M,{reporter},{other},01,{flow},"
                f"VALUE_IN_EUROS,{period},{value}"
            )
    path = folder / f"comext-{own}-{partner}.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("own", "partner", "said"),
    [
        ("missing", "blank", "FRA's record of the same flow lists those months without a "
         "value."),
        ("blank", "blank", "FRA's record of the same flow lists those months without a "
         "value too."),
        # Germany's own record lists them blank: the trade was recorded; France has none,
        # which is said without calling it no trade
        ("blank", "missing", "its value not published). FRA's record of the same flow shows "
         "no trade in those months, though it has trade in 22 months around them, where "
         "DEU's has 22."),
        ("half", "missing", "The source lists 1 of them without a value. FRA's record of the "
         "same flow shows no trade in those months, though it has trade in 22 months around "
         "them, where DEU's has 22."),
        ("missing", "half", "FRA recorded imports from DEU of €95.0K in 1 of those months "
         "(its record of the same flow), and lists 1 of them without a value."),
    ],
)  # fmt: skip
def test_withheld_figures_on_either_side_are_said_as_such(store, tmp_path, own, partner, said):
    """A figure withheld is trade recorded and not published: where either record withholds
    some of the gap's months, the figures are given without reading them as no trade."""
    from tradesentry import api

    store.ingest(_comext_pair(tmp_path, own, partner))
    (gap,) = api.scan(store, kinds="gap", reporter="DEU", save=False)
    assert said in gap["explanation"], gap["explanation"]
    assert "likelier" not in gap["explanation"]


@pytest.mark.parametrize(
    ("missing", "after", "late"),
    [
        (1, 2.0, True),  # October's excess is what September would hold
        # a little more than September would hold, within October's noise: the reading
        # does not turn on whether the noise fell a little below or above
        (1, 2.08, True),
        (1, 2.3, False),  # beyond a tenth over: October holds more than September lent
        (1, 2.25, False),  # a quarter over: the allowance is on the excess, not the month
        (2, 2.5, True),  # November's is three quarters of September and October
        (1, 4.0, False),  # three times what September would hold: no month lends more
        (6, 2.0, True),  # a sixth of six months: one month's worth, some of their trade
        (12, 1.3, False),  # a third of one of twelve months: it explains little of them
        (1, 1.05, False),  # an ordinary month
    ],
)
def test_a_high_month_after_a_gap_is_read_as_its_late_figure(missing, after, late):
    """About $1M a month, months missing from September 2024, then one high month: where
    its excess is no more than the missing months would hold and at least half of one of
    them, the gap says (some of) their trade may have been recorded late, there, and the
    spike on that month says the same from its side; otherwise neither does."""
    rng = np.random.default_rng(2)
    v = 1e6 * np.exp(rng.normal(0.0, 0.05, (1, 40)))
    v[0, 20 : 20 + missing], v[0, 20 + missing] = np.nan, after * 1e6
    found = findings(make_panel(v, start="2023-01"), default_detectors(["gap", "spike"]))
    (gap,) = found[found["kind"] == "gap"].to_dict("records")
    assert gap["period"] == "2024-09"
    spikes = found.loc[found["kind"] == "spike", "evidence"].tolist()
    spike_texts = found.loc[found["kind"] == "spike", "explanation"].tolist()
    assert len(spikes) == (0 if after < 1.5 else 1)
    if late:
        reading = gap["evidence"]["late"]
        assert reading == spikes[0]["late"]  # one reading, from either side
        assert reading["months"][0] == "2024-09" and len(reading["months"]) == missing
        assert 0.5 / missing <= reading["share"] <= 1.1
        assert "trade may have been recorded late, in" in gap["explanation"]
        some = "some of the missing months' trade" in gap["explanation"]
        assert some == (reading["share"] < 0.5)
        assert (
            "September 2024" in spike_texts[0] and "recorded late, in this month" in spike_texts[0]
        )
    else:
        assert "late" not in gap["evidence"] and "recorded late" not in gap["explanation"]
        assert not any("late" in ev for ev in spikes)
        assert not any("It follows" in text for text in spike_texts)


def test_the_late_reading_reads_as_a_sentence_from_either_side():
    rng = np.random.default_rng(2)
    v = 1e6 * np.exp(rng.normal(0.0, 0.05, (1, 40)))
    v[0, 20], v[0, 21] = np.nan, 2e6
    found = findings(make_panel(v, start="2023-01"), default_detectors(["gap", "spike"]))
    gap, spike = (found.loc[found["kind"] == k, "explanation"].iloc[0] for k in ("gap", "spike"))
    assert re.search(
        r"October 2024 recorded \$2\.0M against \$[\d.]+[KM]? expected, [\d.]+ times the series' "
        r"usual variation above its expected value: the missing month's trade may have been "
        r"recorded late, in October 2024 \(its excess, about \$[\d.]+K, is \d+% of what it "
        r"would hold\)\.",
        gap,
    ), gap
    assert re.search(
        r"It follows September 2024, which has no figure: the excess \(about \$[\d.]+K\) is "
        r"\d+% of what it would hold \(about \$[\d.]+M\), so its trade may have been recorded "
        r"late, in this month\.",
        spike,
    ), spike


def test_a_withheld_month_is_not_read_as_recorded_late():
    """September 2024 listed without a value (its trade recorded, its value not published)
    and October at twice the level: no late reading, which the withheld figure contradicts."""
    from tradesentry.panel import WITHHELD

    rng = np.random.default_rng(2)
    v = 1e6 * np.exp(rng.normal(0.0, 0.05, (1, 40)))
    v[0, 20], v[0, 21] = np.nan, 2e6
    panel = make_panel(v, start="2023-01")
    marks = np.zeros(v.shape)
    marks[0, 20] = 1
    panel.context[WITHHELD] = marks
    found = findings(panel, default_detectors(["gap", "spike"]))
    (gap,) = found[found["kind"] == "gap"].to_dict("records")
    assert gap["evidence"]["withheld_months"] == 1
    assert "late" not in gap["evidence"] and "recorded late" not in gap["explanation"]
    spikes = found[found["kind"] == "spike"].to_dict("records")
    assert spikes and not any("late" in spike["evidence"] for spike in spikes)


def test_a_partners_record_of_one_missing_month_reads_a_month_without_trade():
    """ "than 1 month without trade": one month reads "than a month without trade"."""
    from tradesentry.detectors.gap import _partner_reading

    finding = {
        "reporter": "SWE",
        "partner": "ESP",
        "flow": "export",
        "currency": "EUR",
        "evidence": {
            "partner_months": 1,
            "partner_value": 90_000.0,
            "partner_usual": 96_400.0,
            "partner_around": 10,
            "traded_before": 6,
            "traded_after": 6,
        },
    }
    _, reading = _partner_reading(finding, 1, "month")
    assert reading.endswith("likelier reading than a month without trade."), reading


def _line_csv(folder: Path, silent: int, partners: int = 6, going_scale: float = 1.0) -> Path:
    """GIN's exports of 26060000 to ``partners`` countries and to ESP, a steady 2016–2017,
    none to ESP in January–March 2017; the first ``silent`` of the others have none
    either (the last of them a few francs, next to nothing, in March)."""
    others = ["IRL", "DEU", "CAN", "FRA", "CHN", "UKR", "SGP", "IND"][:partners]
    rows = ["reporter,partner,flow,commodity,period,value,currency"]
    for m in range(24):
        period = f"{2016 + m // 12}-{m % 12 + 1:02d}"
        inside = m in (12, 13, 14)
        for k, partner in enumerate(["ESP", *others]):
            value = (k + 1) * 1e10 * (1 + 0.05 * (m % 3)) * (going_scale if k > silent else 1)
            if inside and (partner == "ESP" or k <= silent):
                if partner == "ESP" or not (k == silent and m == 14):
                    continue
                value = 9.9e3
            rows.append(f"GIN,{partner},export,26060000,{period},{value},GNF")
    path = folder / f"line-{silent}-{going_scale}.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("silent", "said"),
    [
        (4, "4 of the 6 other partners GIN exported 26060000 to around those months have no "
         "figure, or next to nothing, in those months too (FRA, CAN and DEU, among others): a "
         "change on GIN's side (the line stopped, or those months missing from its record) "
         "is likelier than a break between GIN and ESP alone."),
        (6, "All 6 other partners GIN exported 26060000 to around those months have no "
         "figure, or next to nothing, in those months too (UKR, CHN and FRA, among others)"),
        (0, "Each of the 6 other partners GIN exported 26060000 to around those months has "
         "trade in those months: the gap is this flow's own."),
        (2, None),  # two quiet partners of six: the line's usual turnover, nothing said
    ],
)  # fmt: skip
def test_a_gap_says_whether_the_lines_other_partners_fell_silent_too(store, tmp_path, silent, said):
    """Many partners of the same line empty in the gap's months point to the reporter's
    side (the line stopped there, or the months are missing from its record), not to the
    pair: Guinea's bauxite exports to five European and American partners, January–March
    2017, while China's went on. Read from the store once the gap is found, like the
    partner's record (``context.sibling_months``)."""
    from tradesentry import api

    store.ingest(_line_csv(tmp_path, silent))
    gaps = api.scan(store, kinds="gap", partner="ESP", save=False).to_records()
    (gap,) = gaps
    assert (gap["period"], gap["period_end"]) == ("2017-01", "2017-03")
    ev = gap["evidence"]
    assert (ev["siblings_trading"], ev["siblings_silent"]) == (6, silent)
    assert ev["siblings_held"] == 6 - silent
    if said is None:
        assert "other partners" not in gap["explanation"], gap["explanation"]
    else:
        assert said in gap["explanation"], gap["explanation"]
    (saved,) = api.scan(store, kinds="gap", partner="ESP").to_records()
    assert saved["explanation"] == gap["explanation"]


@pytest.mark.parametrize(("silent_months", "silent"), [((12,), 0), ((12, 13), 4)])
def test_a_partner_is_silent_in_a_gap_only_in_most_of_its_months(
    store, tmp_path, silent_months, silent
):
    """China's HS 250410 to South Africa, December 2023–January 2024: Japan and the US,
    near nothing in December and $1.2M and $2.4M in January, were counted silent "in most
    of those months" (one of two was enough). Silent is in most of the gap's months: both
    of a two-month gap."""
    from tradesentry import api

    others = ["IRL", "DEU", "CAN", "FRA", "CHN", "UKR"]
    rows = ["reporter,partner,flow,commodity,period,value,currency"]
    for m in range(24):
        period = f"{2016 + m // 12}-{m % 12 + 1:02d}"
        for k, partner in enumerate(["ESP", *others]):
            if (partner == "ESP" and m in (12, 13)) or (1 <= k <= 4 and m in silent_months):
                continue
            rows.append(f"GIN,{partner},export,26060000,{period},{(k + 1) * 1e10},GNF")
    path = tmp_path / "line.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    store.ingest(path)
    (gap,) = api.scan(store, kinds="gap", partner="ESP", save=False).to_records()
    assert (gap["period"], gap["period_end"]) == ("2017-01", "2017-02")
    assert gap["evidence"]["siblings_silent"] == silent
    assert ("side (the line stopped" in gap["explanation"]) == bool(silent), gap["explanation"]


def test_partners_that_did_not_trade_around_a_gap_are_not_counted(store, tmp_path):
    """A partner that shipped once in the year is no witness of the line's months: only
    partners with trade in 2 of the 3 months on each side count."""
    from tradesentry import api

    path = _line_csv(tmp_path, 0, partners=3)
    extra = [f"GIN,IND,export,26060000,2016-0{m},1e9,GNF" for m in (3, 7)]
    path.write_text(path.read_text() + "\n".join(extra) + "\n", encoding="utf-8")
    store.ingest(path)
    (gap,) = api.scan(store, kinds="gap", partner="ESP", save=False).to_records()
    assert gap["evidence"]["siblings_trading"] == 3
    assert "Each of the 3 other partners" in gap["explanation"]


def _stopping_csv(
    folder: Path,
    stop_after: int,
    *,
    spread: float = 0.05,
    skip=(),
    start: int = 0,
    small=(),
    zero=(),
    small_factor: float = 100.0,
) -> Path:
    """GIN's exports of 26060000 to four partners, January 2016 to December 2017 (24
    months); ESP's last month is the ``stop_after``-th (0-based, its first ``start``), the
    others go on; a
    TOTAL table for GIN to ESP ends in December 2016, a record of its own. ``skip``: months
    ESP has no figure before it stops; ``small``: months it records a hundredth of its
    usual month (``small_factor``); ``zero``: months it records zero."""
    rows = ["reporter,partner,flow,commodity,period,value,currency"]
    for m in range(24):
        period = f"{2016 + m // 12}-{m % 12 + 1:02d}"
        for k, partner in enumerate(["ESP", "CHN", "UKR", "IRL"]):
            if partner == "ESP" and (m > stop_after or m < start or m in skip):
                continue
            value = (k + 1) * 4e10 * (1 + spread * (m % 3))
            if partner == "ESP" and m in small:
                value /= small_factor
            if partner == "ESP" and m in zero:
                value = 0.0
            rows.append(f"GIN,{partner},export,26060000,{period},{value},GNF")
        if m < 12:
            rows.append(f"GIN,ESP,export,TOTAL,{period},{9e10 * (1 + 0.05 * (m % 2))},GNF")
    path = folder / f"stop-{stop_after}.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_series_that_stops_while_its_record_goes_on_is_a_gap_to_the_records_end(store, tmp_path):
    """Belgium's imports of CN 39204310 from Slovakia, about €400K a month, nothing after
    July 2024 while Belgium's record runs to December 2025: no finding (trailing months
    were the series' end). No row holds the months after a series' last report, so the
    scan reads them from the store (``Gap.from_store``): the run from its last report to
    the last month of the reporter's record of the flow, tested as any run. GIN's TOTAL
    table, which ends in December 2016, is a record of its own: no stop."""
    from tradesentry import api

    store.ingest(_stopping_csv(tmp_path, stop_after=14))
    (gap,) = api.scan(store, kinds="gap", save=False).to_records()
    assert (gap["partner"], gap["commodity"]) == ("ESP", "26060000")
    assert (gap["period"], gap["period_end"]) == ("2017-04", "2017-12")
    ev = gap["evidence"]
    assert ev["open_end"] and ev["last_reported"] == "2017-03" and len(ev["months"]) == 9
    assert (ev["traded_before"], ev["months_before"]) == (12, 12)
    assert gap["expected"] == pytest.approx(9 * 4.4e10, rel=0.06)
    assert gap["explanation"].startswith(
        "No figures since March 2017: the 9 months from April 2017 to December 2017, the "
        "latest complete month of GIN's record of exports in the store, although the series "
        "recorded trade in 12 of the 12 months before"
    ), gap["explanation"]
    # the line's other partners went on: the stop is this flow's own
    assert "Each of the 3 other partners GIN exported 26060000 to" in gap["explanation"]
    assert gap["severity"] == "high"
    saved = api.scan(store, kinds="gap", partner="ESP", chunk_series=1).to_records()
    assert [f["id"] for f in saved] == [gap["id"]]
    assert saved[0]["explanation"] == gap["explanation"]
    # no finding can end after the store's last month: a since after it is a mistake
    with pytest.raises(InputError, match="after the last month the store's series hold"):
        api.scan(store, kinds="gap", since="2018-01", save=False)
    # the stop runs past the series' own last month (2017-03), to its record's end: a
    # since between them is no mistake (a monitor watching one series for a stop)
    (alone,) = api.scan(
        store, kinds="gap", partner="ESP", commodity="26060000", since="2017-06", save=False
    ).to_records()
    assert alone["id"] == gap["id"]
    # without the gaps, nothing of the series can end after its own last month
    with pytest.raises(InputError, match="series of partner ESP; commodity 26060000 hold .2017-03"):
        api.scan(store, kinds="spike", partner="ESP", commodity="26060000", since="2017-06")


@pytest.mark.parametrize(
    ("stop_after", "skip", "why"),
    [
        (21, (), "two months missing at the end may be figures not yet processed"),
        (14, (3, 5, 7, 9, 11, 13), "a line with trade in half its months ships now and then"),
        (3, (), "four months are no flow of its own"),
    ],
)
def test_a_stop_needs_a_flow_that_ran_and_months_enough(store, tmp_path, stop_after, skip, why):
    from tradesentry import api

    store.ingest(_stopping_csv(tmp_path, stop_after, skip=skip))
    assert not len(api.scan(store, kinds="gap", save=False)), why


@pytest.mark.parametrize("start", [14, 0], ids=["one-season", "a-flow"])
def test_a_stop_reads_no_off_season(store, tmp_path, start):
    """ESP's figures from March to September 2017, then none to the record's end in
    December: a flow seen in one season shows no season that repeats, and its stop is read
    as any (a first version called October to December its possible off season, and low
    where nothing said otherwise: a six-month flow that stopped is news)."""
    from tradesentry import api

    store.ingest(_stopping_csv(tmp_path, stop_after=20, start=start))
    (gap,) = api.scan(store, kinds="gap", partner="ESP", save=False).to_records()
    assert gap["period"] == "2017-10" and "off_season" not in gap["evidence"]
    assert "off season" not in gap["explanation"]


@pytest.mark.parametrize(("start", "stop_after", "priced"), [(3, 11, 9), (0, 6, 17)])
def test_a_stop_is_priced_for_no_longer_than_the_flow_ran(
    store, tmp_path, start, stop_after, priced
):
    """Guinea's exports of 03025900 to Korea: a flow of nine months priced over the 39
    after it (11.7B francs, high). A stop is priced for as long as the flow had run; one
    that ran from the record's first month may have run before it, and is priced whole."""
    from tradesentry import api

    store.ingest(_stopping_csv(tmp_path, stop_after=stop_after, start=start))
    (gap,) = api.scan(store, kinds="gap", save=False).to_records()
    ev = gap["evidence"]
    assert (len(ev["months"]), ev["priced_months"]) == (23 - stop_after, priced)
    assert gap["expected"] == pytest.approx(priced * ev["level"])
    assert ev["expected_each"][priced - 1] == ev["level"]
    capped = f", over its first {priced} months, as long as the flow had run."
    assert (capped in gap["explanation"]) == (priced < len(ev["months"]))


@pytest.mark.parametrize(
    ("small", "named", "text"),
    [
        (
            (13, 14),
            ["2017-02", "2017-03"],
            "Its last 2 figures were small: 420.0M GNF in February 2017 and 440.0M GNF in "
            "March 2017, each under a tenth of its usual month; its last month above a tenth "
            "of it was January 2017 (40.0B GNF), and the flow may have ended then.",
        ),
        (
            (11, 14),
            ["2017-03"],
            "Its last figure was small: 440.0M GNF in March 2017, under a tenth of its usual "
            "month; its last month above a tenth of it was February 2017 (42.0B GNF), and the "
            "flow may have ended then.",
        ),
        ((12,), [], None),
    ],
)
def test_a_stop_says_where_its_last_figures_were_small(store, tmp_path, small, named, text):
    """Denmark's exports of CN 48114900 to Czechia, about €1.5K a month, recorded €45,
    €35, €28 and €110 from October 2024 to January 2025 and nothing after: the stop said
    "no figures since January 2025" and "trade in 12 of the 12 months before", as though
    the flow had run to its last figure. The figures after its last month of an ordinary
    size, each below a tenth of its usual month (``baseline.NOTHING_SHARE``), are named
    with that month; a small figure followed by ordinary ones is not."""
    from tradesentry import api

    store.ingest(_stopping_csv(tmp_path, stop_after=14, small=small))
    (gap,) = api.scan(store, kinds="gap", save=False).to_records()
    assert gap["period"] == "2017-04", "the stop is dated from its last figure, as before"
    ev = gap["evidence"]
    assert [m for m, _ in ev.get("small_before", [])] == named
    if text is None:
        assert "last_ordinary" not in ev and "small" not in gap["explanation"]
    else:
        assert ev["last_ordinary"] == ("2017-01" if len(named) == 2 else "2017-02")
        assert text in gap["explanation"], gap["explanation"]


@pytest.mark.parametrize(("factor", "fallen"), [(4.0, True), (1.5, False)])
def test_a_stop_after_a_fall_is_priced_at_its_recent_level(store, tmp_path, factor, fallen):
    """China's exports of natural graphite to Hungary recorded $780, $131, $74 and $267
    after a year at about $1.5K a month, then nothing for 15 months: priced at $1.5K a
    month, $22.9K. A flow whose last six figures have a median of half its usual month or
    less had fallen before it stopped: it is priced at that median, and the text says so;
    a smaller fall is the noise of a median of six, and the usual month prices it."""
    from tradesentry import api

    store.ingest(_stopping_csv(tmp_path, stop_after=14, small=range(9, 15), small_factor=factor))
    (gap,) = api.scan(store, kinds="gap", save=False).to_records()
    ev = gap["evidence"]
    recent = np.median([4e10 * (1 + 0.05 * (m % 3)) / factor for m in range(9, 15)])
    assert ev["level"] == pytest.approx(recent if fallen else ev.get("level"))
    assert ("usual_level" in ev) == fallen
    assert gap["expected"] == pytest.approx(ev["level"] * ev["priced_months"])
    said = "at the median of its last 6 figures (about "
    assert (said in gap["explanation"]) == fallen, gap["explanation"]
    if fallen:
        assert ev["usual_level"] > 2 * ev["level"]
        assert "the flow had fallen before it stopped." in gap["explanation"]


@pytest.mark.parametrize(
    ("size", "months", "repriced"), [(1, 24, True), (30, 24, False), (1, 16, False)]
)
def test_a_fall_the_partners_record_did_not_share_is_priced_at_the_usual_month(
    store, tmp_path, size, months, repriced
):
    """Sweden's exports of CN 32121000 to Romania: €163, €144, €23, €11 and €75 before
    they stopped, priced at their recent median as a flow that "had fallen", while Romania
    recorded €8–31K a month throughout and €174.5K over the stop. Where the partner's
    record says the trade went on, the fall was in the record: the stop is priced at its
    usual month, the recent level kept and named. Not where the partner's record runs at
    another size (Portugal's of Denmark's imports, 30 times them), nor where it holds
    under half the stop's months (one figure in six)."""
    from tradesentry import api

    path = _stopping_csv(tmp_path, stop_after=14, small=range(9, 15), small_factor=4.0)
    mirror = [f"ESP,GIN,import,26060000,{2016 + m // 12}-{m % 12 + 1:02d},{4.2e10 * size},GNF"
              for m in range(months)]  # fmt: skip
    path.write_text(path.read_text() + "\n".join(mirror) + "\n", encoding="utf-8")
    store.ingest(path)
    (gap,) = api.scan(store, kinds="gap", partner="ESP", save=False).to_records()
    ev = gap["evidence"]
    assert gap["expected"] == pytest.approx(ev["level"] * ev["priced_months"])
    if not repriced:
        assert ev["usual_level"] > 2 * ev["level"] and "recent_level" not in ev
        return
    assert "usual_level" not in ev and ev["recent_level"] < ev["level"] / 2
    assert set(ev["expected_each"]) == {ev["level"]}
    text = gap["explanation"]
    assert "at its usual month of that time (about " in text
    assert ", though its last 6 figures had fallen to a median of about " in text
    assert "by its account the trade went on" in text and "had fallen before" not in text


@pytest.mark.parametrize(("small", "named"), [((), []), ((13,), ["2017-02"])])
def test_a_stop_whose_last_figure_is_a_zero_names_only_small_figures(store, tmp_path, small, named):
    """Romania's imports of CN 85235990 from China ended on a zero (€1.5K in February 2025,
    €0 in April): the month of the last ordinary figure is before the series' last, with
    no small figure after it, and the scan stopped on the empty list. A zero is no small
    figure to name; a small one before it still is."""
    from tradesentry import api

    store.ingest(_stopping_csv(tmp_path, stop_after=14, small=small, zero=(14,)))
    (gap,) = api.scan(store, kinds="gap", save=False).to_records()
    assert [m for m, _ in gap["evidence"].get("small_before", [])] == named


@pytest.mark.parametrize(("stop_after", "period_end"), [(14, "2017-12"), (21, None)])
def test_a_stop_runs_to_the_records_last_complete_month(store, tmp_path, stop_after, period_end):
    """Comext's December 2025 held China's lines alone (extra-EU figures come out first):
    213 of 304 stops counted it as missing for partners not yet published, and 48 stops of
    two real months became three. A month holding under half the series of the reporter's
    usual month over the year before is not yet complete: no stop runs into it."""
    from tradesentry import api

    path = _stopping_csv(tmp_path, stop_after)
    path.write_text(path.read_text() + "GIN,CHN,export,26060000,2018-01,8e10,GNF\n")
    store.ingest(path)
    found = api.scan(store, kinds="gap", save=False).to_records()
    assert [f["period_end"] for f in found] == ([period_end] if period_end else [])


def test_silent_partners_that_carry_little_of_the_line_make_no_reading(store, tmp_path):
    """Guinea's bauxite to Spain, Germany, Canada, Ireland and France fell silent in
    January–March 2017 while China's, 98 % of the line, went on: not a change on Guinea's
    side. Where the partners that went on carry most of the line's usual trade, the text
    names them and draws no reading."""
    from tradesentry import api

    store.ingest(_line_csv(tmp_path, 4, going_scale=50.0))
    (gap,) = api.scan(store, kinds="gap", partner="ESP", save=False).to_records()
    assert gap["evidence"]["siblings_silent_share"] < 0.1
    assert (
        "4 of the 6 other partners GIN exported 26060000 to around those months have no "
        "figure, or next to nothing, in those months too (FRA, CAN and DEU, among others), "
        "though those that went on (UKR and CHN) carry most of the line's trade."
    ) in gap["explanation"], gap["explanation"]
    assert "side" not in gap["explanation"]


@pytest.mark.parametrize(
    ("evidence", "likelier"),
    [
        ({}, True),  # the line's other partners silent in it too: their season
        ({"siblings_silent": 1}, False),  # most of them traded through: no off season
        ({"siblings_trading": 1, "siblings_silent": 1}, False),  # the gap alone: no evidence
        ({"chance_in_season": 1e-6}, False),  # the season's own months are a gap
        ({"withheld_months": 2}, False),  # listed without a value: recorded, not none
        ({"partner_withheld": 2}, False),  # the partner's record lists them so
        ({"partner_months": 2, "partner_usual": 1e5}, False),  # the partner traded in 2
        ({"partner_months": 2, "partner_usual": 20.0}, True),  # at another scale: says little
    ],
    ids=["line-silent", "line-traded", "one-sibling", "season-gap", "withheld",
         "partner-withheld", "partner-traded", "partner-other-scale"],
)  # fmt: skip
def test_an_off_season_is_the_likelier_reading_only_where_the_line_shows_it_and_nothing_contradicts_it(
    evidence, likelier
):
    """Months of what may be an off season (8 of 8 here) read as months without trade only
    where the line's other partners were silent in them too, and nothing in the store
    contradicts it: a partner that confidentially listed them, or traded in two of them,
    made the gap low while its text said the opposite, and a gap alone is no evidence of a
    season (Hungary's exports of CN 39199020 to Sweden, whose one other partner traded
    through)."""
    from tradesentry.detectors.gap import _off_season_likelier

    finding = {
        "period": "2024-01",
        "expected": 8e5,
        "evidence": {
            "months": [f"2024-{m:02d}" for m in range(1, 9)],
            "off_season": 8,
            "chance_in_season": 1.0,
            "siblings_trading": 4,
            "siblings_silent": 4,
            **evidence,
        },
    }
    assert _off_season_likelier(finding) is likelier


@pytest.mark.parametrize(
    ("through", "low"), [(False, True), (True, False)], ids=["season-end", "traded-through"]
)
def test_a_lines_partners_trading_at_the_seasons_ends_share_its_off_season(
    store, tmp_path, through, low
):
    """Singapore's imports of Guinea's cashews (QA): April–July 2016 and April–June 2017,
    the 8 months between medium though the line's other buyers went quiet too: India and
    Viet Nam shipped in August and September 2016, as the season ended, and nothing then
    to March 2017. Silent from the gap's first months, as a line that stopped is read, they
    traded through it. A partner of the line shares the off season where it is silent
    through its heart (the middle half of its months); one trading through that stays a
    reason to doubt it."""
    from tradesentry import api

    rows = ["reporter,partner,flow,commodity,period,value,currency"]
    for m in range(36):  # January 2015 to December 2017
        period, month = f"{2015 + m // 12}-{m % 12 + 1:02d}", m % 12 + 1
        value = 1e10 * (1 + 0.05 * (m % 3))
        if m in (15, 16, 17, 18, 27, 28, 29):  # April–July 2016, April–June 2017
            rows.append(f"GIN,SGP,export,08013100,{period},{value},GNF")
        season = 4 <= month <= 9 or (through and 16 <= m <= 26)
        for to, size in (("IND", 2.0), ("VNM", 0.6)):
            if season or (to == "VNM" and month == 3):
                rows.append(f"GIN,{to},export,08013100,{period},{size * value},GNF")
    (tmp_path / "line.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    store.ingest(tmp_path / "line.csv")
    (gap,) = api.scan(store, kinds="gap", partner="SGP", save=False).to_records()
    assert (gap["period"], gap["period_end"]) == ("2016-08", "2017-03")
    ev = gap["evidence"]
    assert (ev["off_season"], ev["siblings_trading"]) == (8, 2)
    assert (gap["severity"] == "low") is low
    assert ev.get("off_season_likelier", False) is low
    assert ev.get("off_season_refuted", False) is not low


@pytest.mark.parametrize("withheld", ["withheld_months", "partner_withheld"])
def test_months_listed_without_a_value_are_no_off_season(withheld):
    """A record that lists the months without a value recorded trade in them: the text
    said "perhaps its off season" and then "the trade was recorded, its value not
    published"."""
    from tradesentry.detectors.gap import _off_season_refuted, _off_season_text

    ev = {"months": ["2021-07", "2021-08"], "off_season": 2, withheld: 2}
    assert _off_season_refuted({"evidence": ev})
    assert _off_season_text({**ev, "off_season_refuted": True}, 2, "month") == ""


def test_a_gap_across_a_change_of_level_says_what_the_new_level_would_hold():
    """$5M a month to March 2020, no figures April–September, $1M from October: the
    months are priced at the old level, their segment's ($30M), and the change may have
    come anywhere in them; the text gives what they would hold at the new level too."""
    rng = np.random.default_rng(0)
    v = np.where(np.arange(36) < 15, 5e6, 1e6) * np.exp(rng.normal(0.0, 0.05, 36))
    one = v.copy()
    v[15:21] = np.nan
    one[20] = (
        np.nan
    )  # one month, then the change: "after it … the change may have come in that month"
    one[21:] *= 0.2
    (single,) = findings(keyed_panel(one, start="2019-01"), default_detectors(["gap"]))[
        "explanation"
    ]
    assert ", and at that level it would hold about $" in single, single
    assert "the change may have come in that month." in single, single
    found = findings(keyed_panel(v, start="2019-01"), default_detectors(["gap"]))
    (gap,) = found.to_dict("records")
    ev = gap["evidence"]
    assert ev["new_level_from"] == "2020-10"
    assert ev["at_new_level"] == pytest.approx(6e6, rel=0.1)
    assert gap["expected"] == pytest.approx(3e7, rel=0.1)
    assert (
        "a new level starts after them (October 2020: about $990.8K a month), and at that level "
        "they would hold about $5.9M" in (gap["explanation"])
    )


def test_a_gap_before_a_new_level_states_the_level_the_level_shift_states():
    """Guinea's fish to Korea (QA): about 400M GNF a month with its Novembers and Decembers
    higher, nothing from August 2017 to August 2018, then 2.0B, 3.0B, 2.4B and 3.6B. The
    level shift said "about 2.7B GNF a month" (their median) and the gap "at that level
    they would hold about 41.5B GNF" (the model's 3.0B in September, ×13.82 for the
    months' season): 13 × 2.7B is 35.1B. The gap now prices the run at the level the shift
    states, says it, and names the season that takes it from 35.1B to 37.3B."""
    v = np.full(36, 4e8)
    v[[10, 11, 22]] = 8e8  # November and December 2016, November 2017: the season
    v[[6, 14]] = [1.2e9, 1.0e9]  # July 2016, March 2017
    v[19:32] = np.nan  # August 2017 – August 2018
    v[32:] = [2.0e9, 3.0e9, 2.4e9, 3.6e9]
    panel = keyed_panel(v, start="2016-01")
    found = findings(panel, default_detectors(["gap", "level_shift"]))
    (shift,) = found[found["kind"] == "level_shift"].to_dict("records")
    (gap,) = found[found["kind"] == "gap"].to_dict("records")
    ev = gap["evidence"]
    assert (ev["new_level_from"], shift["period"]) == ("2018-09", "2018-09")
    assert ev["new_level"] == shift["evidence"]["new_level"] == pytest.approx(2.7e9)
    assert ev["at_new_level"] != pytest.approx(13 * 2.7e9, rel=0.01)  # the season moves it
    assert (
        "a new level starts after them (September 2018: about $2.7B a month), and at that "
        "level, with the season of other years, they would hold about $"
    ) in gap["explanation"]


def test_a_gap_before_a_new_level_names_no_season_a_series_has_not():
    """A series varying by 10 % with no season, 6 months without figures, then ×5: the
    model's season fitted on three years of noise moved the months' price at the new
    level 1.5 % from 6 × the level, and the text named "the season of other years"."""
    v = 4e5 * np.exp(np.random.default_rng(3).normal(0.0, 0.1, 40))
    v[20:26] = np.nan
    v[26:] *= 5.0
    found = findings(keyed_panel(v, start="2016-01"), default_detectors(["gap", "level_shift"]))
    (gap,) = found[found["kind"] == "gap"].to_dict("records")
    assert "at_new_level" in gap["evidence"]
    assert "and at that level they would hold about" in gap["explanation"]
    assert "season" not in gap["explanation"]


def test_months_the_series_skips_in_other_years_too_are_less_surprising():
    """Guinea's fish to Korea (Republic): no figures from July to September 2016, and for
    August and September 2017, every other month of 2015–2018 traded. Each calendar month is
    judged by its own rate of trade in the series' other years too, shrunk toward the
    series' rate (``SAME_MONTH_PRIOR``): the 2017 run, months empty in 2016 as well, is
    the season's habit (it was medium by the year-round rate); the 2016 run still stands,
    and says what the other years show."""
    v = np.full((1, 48), 4e8)
    v[0, 18:21] = np.nan
    v[0, 31:33] = np.nan
    found = default_detectors(["gap"])[0].detect(make_panel(v, "2015-01"))
    assert [ev["months"] for ev in found["evidence"]] == [["2016-07", "2016-08", "2016-09"]]
    (ev,) = found["evidence"]
    assert (ev["same_months_other_years"], ev["same_months_without_trade"]) == (9, 2)
    from tradesentry.detectors.gap import Gap

    text = Gap().explain({"kind": "gap", "period": "2016-07", "currency": "GNF", **found.iloc[0]})
    assert "In its other years, 2 of the 9 months at the same time of year recorded no " in text


@pytest.mark.parametrize(
    ("held", "without", "said"),
    [(1, 1, "The series recorded no trade in its one other August either, which makes a missing "
            "August less surprising."),
     (3, 2, "The series recorded no trade in 2 of its 3 other Augusts either")],
)  # fmt: skip
def test_one_missing_month_names_its_calendar_month_in_other_years(held, without, said):
    from tradesentry.detectors.gap import Gap

    finding = {
        "kind": "gap", "reporter": "GIN", "partner": "KOR", "flow": "export",
        "commodity": "03034900", "currency": "GNF", "period": "2018-08",
        "period_end": "2018-08", "expected": 4e8,
        "evidence": {
            "months": ["2018-08"], "traded_before": 12, "months_before": 12,
            "traded_after": 4, "months_after": 4, "same_months_other_years": held,
            "same_months_without_trade": without,
        },
    }  # fmt: skip
    assert said in Gap().explain(finding)


def test_a_run_of_a_year_or_more_is_not_read_as_a_seasons_habit():
    """A run of 14 months covers every calendar month, some twice: that other years skipped
    one of them says nothing of it, and neither the evidence nor the text says it."""
    v = np.full((1, 60), 1e6)
    v[0, 13] = np.nan
    v[0, 24:38] = np.nan
    (ev,) = [e for e in _gaps(v)["evidence"] if len(e["months"]) == 14]
    assert "same_months_without_trade" not in ev


def test_a_partner_is_silent_against_its_own_habit_and_from_the_gaps_start(store, tmp_path):
    """Hungary's exports of CN 85235910 to Italy stopped for eleven months (QA): "4 of the
    5 other partners … have no figure" had counted Germany, normal for the gap's first four
    months and near nothing after. A partner is silent where it trades in fewer than half
    the months its habit gives (its share of months with trade in the year before), over
    the gap and over its first three months: IRL, trading in a month of three, is not
    silent in three of seven, nor DEU from the fourth; CAN and FRA, silent with it, are."""
    from tradesentry import api

    rows = ["reporter,partner,flow,commodity,period,value,currency"]
    gap = range(24, 31)  # January–July 2018
    for m in range(40):
        period = f"{2016 + m // 12}-{m % 12 + 1:02d}"
        for k, partner in enumerate(["ESP", "IRL", "DEU", "CAN", "FRA", "CHN"]):
            value = (k + 1) * 1e10 * (1 + 0.05 * (m % 3))
            if partner == "ESP" and m in gap:
                continue
            if partner == "IRL" and not (m % 3 == 0 or m in (21, 22, 31, 32)):
                continue
            if partner == "DEU" and m in gap and m >= 27:
                continue
            if partner in ("CAN", "FRA") and m in gap:
                continue
            rows.append(f"GIN,{partner},export,26060000,{period},{value},GNF")
    path = tmp_path / "line.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    store.ingest(path)
    (found,) = api.scan(store, kinds="gap", partner="ESP", save=False).to_records()
    assert (found["period"], found["period_end"]) == ("2018-01", "2018-07")
    ev = found["evidence"]
    assert (ev["siblings_trading"], ev["siblings_silent"]) == (5, 2)
    assert ev["siblings_named"] == ["FRA", "CAN"]


def _won_csv(folder: Path, shape: str) -> Path:
    """JPN's exports to KOR and CHN, about 100,000 won a month (about $70) from January
    2019 to December 2022. ``shape``: KOR missing March–September 2021 ("run"), KOR
    ending in March 2022 ("stop"), or ending so after six figures at a quarter of its
    usual month while KOR recorded its imports from JPN throughout ("fallen")."""
    rows = ["reporter,partner,flow,commodity,period,value,currency"]
    for m in range(48):
        period = f"{2019 + m // 12}-{m % 12 + 1:02d}"
        value = 1e5 * (1 + 0.03 * (m % 3))
        rows.append(f"JPN,CHN,export,TOTAL,{period},{value},KRW")
        if shape == "fallen":
            rows.append(f"KOR,JPN,import,TOTAL,{period},{value},KRW")
        if (shape == "run" and 26 <= m <= 32) or (shape != "run" and m > 38):
            continue
        fallen = shape == "fallen" and m > 32
        rows.append(f"JPN,KOR,export,TOTAL,{period},{value / 4 if fallen else value},KRW")
    path = folder / f"won-{shape}.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("rated", [True, False], ids=["rate", "no-rate"])
@pytest.mark.parametrize("shape", ["run", "stop", "fallen"])
def test_a_gaps_money_is_weighed_in_dollars_where_the_store_has_the_rate(
    store, tmp_path, shape, rated
):
    """JPN's exports to KOR, about 100,000 won a month, missing seven months: "high gap …
    689.0K KRW at stake", about $492, though the store had the won at 1,400 per dollar
    and less than about $2,000 cannot be high. A missing month has no row to join its
    rate to: the series' nearest month's prices it (a stop's, its first month's, as the
    ranking's); without a rate, the bar is read in won, as before."""
    from tradesentry import api

    store.ingest(_won_csv(tmp_path, shape))
    if rated:
        (tmp_path / "rates.csv").write_text(
            "currency,period,per_usd\n"
            + "".join(f"KRW,{2019 + m // 12}-{m % 12 + 1:02d},1400\n" for m in range(48))
        )
        api.load_rates(store, tmp_path / "rates.csv")
    (gap,) = api.scan(store, kinds="gap", partner="KOR", save=False).to_records()
    assert gap["expected"] > 2000 * 1400 / 10  # some hundreds of dollars, in won
    # the fallen stop priced again at its usual month (``_priced_at_usual``), in dollars too
    assert ("recent_level" in gap["evidence"]) is (shape == "fallen"), gap["evidence"]
    if rated:
        assert gap["score"] == pytest.approx(gap["expected"] / 1400 / 2000, abs=1e-3)
    assert (gap["severity"] == "high") is not rated, (gap["severity"], gap["score"])
