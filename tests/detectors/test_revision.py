"""revision: figures a later release changed, on synthetic panels and real Comext releases."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from tests.detectors._helpers import keyed_panel, revision_context, scaled_comext_copy
from tradesentry import api
from tradesentry.detectors.revision import Revision
from tradesentry.panel import Panel

COMEXT = "raw/eurostat_comext_ds045409/CN_39206290.csv.gz"


def panel(values, previous=None, release=2.0, prev_release=1.0) -> Panel:
    context = {} if previous is None else revision_context(values, previous, release, prev_release)
    return keyed_panel(values, context=context)


BASE = np.linspace(1e6, 2e6, 12)


def test_no_context_no_findings():
    assert Revision().detect(panel(BASE)).empty


def test_nothing_changed_nothing_found():
    assert Revision().detect(panel(BASE, BASE.copy())).empty


def test_changes_below_either_tolerance_are_quiet():
    small_relative = BASE * 1.001  # 0.1 %: above the money floor, below the tolerance
    assert Revision().detect(panel(BASE, small_relative)).empty
    tiny = np.full(12, 10_000.0)
    assert Revision().detect(panel(tiny * 1.05, tiny)).empty  # 5 % but only 500 of money


def test_contiguous_revisions_are_one_finding_with_both_values():
    new = BASE.copy()
    new[3:5] *= 1.2
    new[9] *= 0.5
    found = Revision().detect(panel(new, BASE))
    assert sorted(zip(found["start"], found["end"], strict=True)) == [(3, 4), (9, 9)]
    first = found[found["start"] == 3].iloc[0]
    assert first["observed"] == pytest.approx(new[3:5].sum())
    assert first["expected"] == pytest.approx(BASE[3:5].sum())
    assert first["impact"] == pytest.approx(0.2 * BASE[3:5].sum())
    ev = first["evidence"]
    assert ev["release"] == 2 and ev["previous_release"] == 1
    assert ev["release_published"] == "2024-03-18" and ev["previous_published"] == "2024-02-17"
    assert [m["period"] for m in ev["months"]] == ["2023-04", "2023-05"]
    halved = found[found["start"] == 9].iloc[0]
    assert halved["score"] > first["score"] > 0.5  # the score grows with the relative change


def test_a_small_sum_revised_is_capped_by_its_money_as_every_finding():
    """€1,001 doubled is a revision (above both tolerances) but no high one: at most
    1,001 / 2,000 of the score (``base.material_score``); a million doubled is high."""
    small = np.full(12, 1_000.0)
    revised = small.copy()
    revised[5] = 2_001.0
    found = Revision().detect(panel(revised, small))
    assert len(found) == 1 and found["score"].iat[0] == pytest.approx(1_001 / 2_000)
    large = Revision().detect(panel(small * 1_000 + np.eye(12)[5] * 1e6, small * 1_000))
    assert large["score"].iat[0] > 0.9


def test_a_month_the_earlier_release_left_out_appeared():
    previous = BASE.copy()
    previous[6] = np.nan
    found = Revision().detect(panel(BASE, previous))
    assert len(found) == 1
    row = found.iloc[0]
    assert (row["start"], row["evidence"]["change"]) == (6, "appeared")
    # the release that left it out, with its date, as for a revised figure
    assert (row["evidence"]["previous_release"], row["evidence"]["previous_published"]) == (
        1,
        "2024-02-17",
    )
    assert row["impact"] == pytest.approx(BASE[6])
    assert np.isnan(row["expected"])
    # "left out" was wrong for a month listed without a value (Comext's confidential blank)
    said = Revision().explain({**row.to_dict(), "period": "2024-07", "period_end": "2024-07"})
    assert "for which release 1 (published 2024-02-17) gave no figure although" in said


def test_months_the_earlier_release_never_covered_are_not_claimed():
    previous = BASE.copy()
    previous[9:] = (
        np.nan
    )  # the earlier release stopped at 2023-09: later months are new, not revised
    assert Revision().detect(panel(BASE, previous)).empty


def test_explanation_names_both_releases_and_dates():
    new = BASE.copy()
    new[0] *= 1.3
    det = Revision()
    row = det.detect(panel(new, BASE)).iloc[0]
    text = det.explain(
        {
            "period": "2023-01",
            "period_end": "2023-01",
            "observed": row["observed"],
            "expected": row["expected"],
            "impact": row["impact"],
            "currency": "USD",
            "evidence": row["evidence"],
        }
    )
    assert "release 2 (published 2024-03-18)" in text.lower()
    assert "release 1 (published 2024-02-17)" in text and "+30.0%" in text


def _explain(found: pd.DataFrame, start: int) -> str:
    row = found[found["start"] == start].iloc[0]
    labels = pd.period_range("2023-01", periods=24, freq="M").astype(str)
    return Revision().explain(
        {
            "period": labels[row["start"]],
            "period_end": labels[row["end"]],
            "currency": "USD",
            **row[["observed", "expected", "impact", "evidence"]],
        }
    )


def test_opposite_revisions_in_a_short_run_are_told_month_by_month():
    previous = np.full(12, 1.2e6)
    previous[9:11] = [1.4e6, 1.125e6]
    current = previous.copy()
    current[9:11] = [1.5e6, 1.0e6]  # +7.1 % and -11.1 %: a net -1.0 % hides both
    found = Revision().detect(panel(current, previous))
    text = _explain(found, 9)
    assert "October 2023 from $1.4M to $1.5M (+7.1%)" in text
    assert "November 2023 from $1.1M to $1.0M (-11.1%)" in text
    assert "a net change from $2.52M to $2.50M (-1.0%)" in text  # never $2.5M to $2.5M
    assert text.endswith(", while $225.0K changed in all.")  # the other way offset it
    months = found.iloc[0]["evidence"]["months"]
    assert [m["change_share"] for m in months] == pytest.approx([1 / 14, -1 / 9], abs=1e-6)


def test_revisions_all_one_way_are_no_contrast():
    """Every month revised up: the gross is the net, and "while … changed in all" had
    repeated it as if it were a contrast."""
    previous = np.full(12, 1.2e6)
    current = previous.copy()
    current[3:7] *= 1.1
    text = _explain(Revision().detect(panel(current, previous)), 3)
    assert text.endswith("a net change from $4.8M to $5.3M (+10.0%).")


def test_a_long_revised_run_counts_months_up_and_down_and_names_the_largest():
    new = BASE.copy()
    new[3:9] *= [1.1, 1.1, 0.9, 1.1, 0.6, 1.1]
    text = _explain(Revision().detect(panel(new, BASE)), 3)
    assert "revised 6 months from April 2023 to September 2023" in text
    assert "4 up and 2 down, the largest August 2023 from $1.6M to $981.8K (-40.0%)" in text
    assert "a net change from" in text


# -- real data: two Comext releases ------------------------------------------------------------


@pytest.fixture
def two_releases(store, shared_data, tmp_path):
    """Comext CN 39206290 as published, then a 'second release' with known changes."""
    changes = {
        ("DE", "FR", "2", "2024-03"): 1.25,  # Germany's exports to France, March 2024: +25 %
        ("DE", "FR", "2", "2024-04"): 1.25,  # … and April: one finding over two months
        ("IT", "ES", "1", "2023-07"): 0.5,
        ("NL", "BE", "2", "2025-01"): 1.002,  # 0.2 %: below the tolerance
    }
    revised = tmp_path / "CN_39206290_rev.csv.gz"
    scaled_comext_copy(shared_data / COMEXT, revised, changes)
    store.ingest(shared_data / COMEXT, published="2026-02-13")
    store.ingest(revised, published="2026-03-13")
    return store


def test_revisions_found_exactly_where_the_release_changed_figures(two_releases):
    found = api.scan(two_releases, kinds=["revision"], save=False).to_frame()
    got = {(r.reporter, r.partner, r.flow, r.period, r.period_end) for r in found.itertuples()}
    assert got == {
        ("DEU", "FRA", "export", "2024-03", "2024-04"),
        ("ITA", "ESP", "import", "2023-07", "2023-07"),
    }
    de = found[found["reporter"] == "DEU"].iloc[0]
    assert de["observed"] == pytest.approx(1.25 * de["expected"], rel=1e-6)
    assert de["evidence"]["release_published"] == "2026-03-13"
    assert de["evidence"]["previous_published"] == "2026-02-13"
    assert "revised March 2024 from" in de["explanation"]
    assert "and April 2024 from" in de["explanation"]


def test_same_figures_in_a_new_release_are_no_revision(store, shared_data, tmp_path):
    same = tmp_path / "same.csv.gz"
    scaled_comext_copy(shared_data / COMEXT, same, {})  # identical figures, another file
    store.ingest(shared_data / COMEXT, published="2026-02-13")
    store.ingest(same, published="2026-03-13")
    assert len(api.scan(store, kinds=["revision"], save=False)) == 0
    assert api.revisions(store).empty


def test_api_revisions_and_release_diff(two_releases):
    cells = api.revisions(two_releases, reporter="DEU", partner="FRA", flow="export")
    assert list(pd.to_datetime(cells["period"]).dt.strftime("%Y-%m")) == ["2024-03", "2024-04"]
    assert (cells["release"] == 2).all() and (cells["previous_release"] == 1).all()
    assert cells["change_share"].to_numpy() == pytest.approx([0.25, 0.25], rel=1e-4)
    diff = api.release_diff(two_releases, 1, 2)
    # the 0.2 % change is a change, within the tolerance the scan flags beyond
    assert diff.summary["revised"] == 4 and diff.summary["small"] == 1
    assert diff.summary["appeared"] == diff.summary["vanished"] == 0
    assert diff.summary["unchanged"] == diff.summary["common"] - 4
    assert diff.restated_months() == []


def test_api_revisions_of_one_series_among_those_its_codes_name(two_releases):
    """``classification``, ``breakdown`` and ``freq`` pick one series, as ``series`` shows
    it: another classification or frequency of the same codes holds no revision here."""
    codes = {"reporter": "DEU", "partner": "FRA", "flow": "export"}
    held = api.revisions(two_releases, **codes)
    one = held.iloc[0]
    exact = {"classification": one["classification"], "breakdown": one["breakdown"]}
    assert len(api.revisions(two_releases, **codes, **exact, freq="M")) == len(held) == 2
    assert api.revisions(two_releases, **codes, **exact, freq="A").empty
    assert len(api.revisions(two_releases, **codes, **exact, freq="m")) == 2  # in any case
    lower = {**exact, "classification": exact["classification"].lower()}
    assert len(api.revisions(two_releases, **codes, **lower)) == 2
    assert api.revisions(two_releases, **codes, breakdown="customs=C00").empty
    with pytest.raises(api.InputError, match="no series in the store has classification H5"):
        api.revisions(two_releases, **codes, classification="H5")
    with pytest.raises(api.InputError, match="freq"):
        api.revisions(two_releases, **codes, freq="weekly")


def test_api_revisions_reads_codes_as_findings_does(two_releases):
    """Codes in any case, names and lists, as ``api.findings`` takes them; a code the store
    holds no series of is a mistake to name, not "no revision"."""
    both = api.revisions(two_releases, reporter=["de", "Italy"], flow="EXPORT")
    assert set(both["reporter"]) == {"DEU"}  # Italy's revision is of imports
    assert len(api.revisions(two_releases, reporter=["DEU", "ITA"])) == 3
    with pytest.raises(api.InputError, match="no series in the store has reporter XYZ"):
        api.revisions(two_releases, reporter="XYZ")


def test_series_index_reads_codes_in_any_case(two_releases):
    assert api.series_index(two_releases, reporter="deu").equals(
        api.series_index(two_releases, reporter="DEU")
    )
    assert len(api.series_index(two_releases, reporter="deu", partner="fr")) == 2


def test_release_diff_reports_a_whole_month_restated(store, shared_data, tmp_path):
    with gzip.open(shared_data / COMEXT, "rt") as fh:
        frame = pd.read_csv(fh, dtype=str)
    march = frame[(frame["TIME_PERIOD"] == "2024-03") & (frame["indicators"] == "VALUE_IN_EUROS")]
    changes = {
        (r.reporter, r.partner, r.flow, "2024-03"): 1.1 for r in march.itertuples(index=False)
    }
    revised = tmp_path / "restated.csv.gz"
    scaled_comext_copy(shared_data / COMEXT, revised, changes)
    store.ingest(shared_data / COMEXT, published="2026-02-13")
    store.ingest(revised, published="2026-03-13")
    diff = api.release_diff(store, 1, 2)
    assert diff.restated_months() == ["2024-03"]
    month = diff.by_month.set_index("period").loc["2024-03"]
    assert month["share_revised"] > 0.5


def test_contract_with_context_messy_and_permuted():
    rng = np.random.default_rng(2)
    previous = 1e6 * np.exp(rng.normal(0, 0.5, (20, 24)))
    previous[rng.random(previous.shape) < 0.1] = np.nan
    previous[0] = np.nan
    current = previous.copy()
    current[5, 3] *= 1.1
    current[6, 10:12] *= 0.7
    current[7, :] = np.nan  # nothing current: nothing to compare
    base = Revision().detect(panel(current, previous))
    assert {(5, 3), (6, 10)} <= set(zip(base["series"], base["start"], strict=True))
    assert (base["score"].between(0, 1)).all() and (base["impact"] > 0).all()
    order = rng.permutation(20)
    permuted = Revision().detect(panel(current[order], previous[order]))
    assert sorted(zip(order[permuted["series"]], permuted["start"], strict=True)) == sorted(
        zip(base["series"], base["start"], strict=True)
    )


def test_a_revised_combined_january_february_is_one_finding_over_both_months(store, tmp_path):
    """China publishes January–February as one figure; a later release that halves it
    is a revision of that figure, over both months, through the whole scan path."""
    from tests.conftest import DEMO_CSV

    store.ingest(DEMO_CSV, published="2021-07-20")
    second = pd.read_csv(DEMO_CSV)
    combined = (second["flow"] == "import") & (second["period_months"] == 2)
    combined &= second["period"] == "2020-01"
    second.loc[combined, "value"] = 5_350_000.0
    second.to_csv(tmp_path / "second.csv", index=False)
    store.ingest(tmp_path / "second.csv", published="2021-09-15")
    found = api.scan(store, kinds=["revision"], save=False).to_frame()
    assert len(found) == 1
    f = found.iloc[0]
    assert (f["flow"], f["period"], f["period_end"]) == ("import", "2020-01", "2020-02")
    assert (f["observed"], f["expected"], f["impact"]) == (5_350_000.0, 10_700_000.0, 5_350_000.0)
    assert f["evidence"]["combined"] is True and f["evidence"]["months"][0]["months"] == 2
    assert "combined figure for January–February 2020 from $10.7M to $5.3M" in f["explanation"]


@pytest.mark.parametrize(
    ("february", "found"),
    [
        (1_100_000, True),
        (1_000_000, False),
        # February not given: January alone is more detail inside the combined figure,
        # not "a month for which release 1 gave no figure", nor a revision of the total
        (None, False),
    ],
)
def test_single_months_that_split_an_earlier_combined_figure_are_read_against_it(
    store, tmp_path, february, found
):
    """Release 1 gives January–February 2020 as one figure, $2.0M; release 2 gives the two
    months. Read as months "for which release 1 gave no figure", all $2.1M at stake; they
    are the combined figure split: a revision of its total where the sum moved, none where
    it held."""
    head = "reporter,partner,flow,commodity,period,period_months,value\n"
    row = "CHN,PRK,export,TOTAL,{},{},{}\n"
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text(
        head + row.format("2019-12", 1, 1e6) + row.format("2020-01", 2, 2e6)
        + row.format("2020-03", 1, 1e6)
    )  # fmt: skip
    second.write_text(
        head + row.format("2019-12", 1, 1e6) + row.format("2020-01", 1, 1e6)
        + (row.format("2020-02", 1, february) if february else "")
        + row.format("2020-03", 1, 1e6)
    )  # fmt: skip
    store.ingest(first, published="2020-04-20")
    store.ingest(second, published="2020-05-20")
    revisions = api.scan(store, kinds=["revision"], save=False).to_frame()
    if not found:  # more detail (all of it, or January alone), the total stands
        assert revisions.empty
        return
    (f,) = revisions.to_dict("records")
    assert (f["period"], f["period_end"]) == ("2020-01", "2020-02")
    assert (f["observed"], f["expected"], f["impact"]) == (2.1e6, 2e6, 1e5)
    assert f["evidence"]["split_of"] == {"value": 2e6, "release": 1, "months": 2}
    assert f["explanation"] == (
        "Release 2 (published 2020-05-20) splits the combined figure release 1 gave for "
        "January–February 2020, $2.0M, into January 2020 $1.0M and February 2020 $1.1M: "
        "together $2.1M (+5.0%), so the split revised the total too."
    )


def test_release_diff_counts_every_change_and_says_which_are_small(store, tmp_path):
    """A change within the revision tolerance is still a change (-0.3 % of $8.2 billion is
    $24.6 million): the diff counts it revised, as the digest does, and says it is small;
    a figure now listed without a value is revised and said to be withheld."""
    from tests.ingest.kit import FORMATS, record

    def month(m: int, value: str) -> dict:
        return record("DEU", "FRA", "export", "39199020", "2024", f"{m:02d}", value)

    sdmx = FORMATS["sdmx"]
    store.ingest(sdmx.file(tmp_path, [month(m, "8197068000") for m in (1, 2, 3, 4)], stem="a"))
    b = [month(1, "8172477000"), month(2, ""), month(3, "9000000000"), month(4, "8197068000")]
    store.ingest(sdmx.file(tmp_path, b, stem="b"))
    diff = api.release_diff(store, 1, 2)
    s = diff.summary
    assert (s["revised"], s["unchanged"], s["small"], s["withheld"]) == (3, 1, 1, 1)
    assert s["disclosed"] == 0
    small = diff.cells[diff.cells["period"] == "2024-01"].iloc[0]
    assert small["change"] == pytest.approx(-24_591_000) and not small["material"]
    assert diff.by_month.set_index("period").loc["2024-01", "net_change"] == pytest.approx(
        -24_591_000
    )


@pytest.mark.parametrize("whole", [True, False], ids=["every month", "June alone"])
def test_a_figure_the_earlier_release_listed_without_a_value_is_disclosed(store, tmp_path, whole):
    """Comext lists a confidential month with a blank value; the next release gives its
    figure: that month was not left out (releases --diff counts it no longer withheld)."""
    from tests.ingest.kit import FORMATS, record

    def month(m: int, value: str) -> dict:
        return record("DEU", "FRA", "export", "39199020", "2024", f"{m:02d}", value)

    sdmx = FORMATS["sdmx"]
    first = [month(m, "" if m == 6 else str(1_000_000 + m)) for m in range(1, 13)]
    store.ingest(sdmx.file(tmp_path, first, stem="a"), published="2025-02-13")
    # June now given: in a release of every month, or of June alone
    again = [month(m, str(1_000_000 + m)) for m in (range(1, 13) if whole else [6])]
    store.ingest(sdmx.file(tmp_path, again, stem="b"), published="2025-03-13")
    (found,) = api.scan(store, kinds=["revision"], save=False).to_records()
    assert found["period"] == "2024-06" and found["evidence"]["withheld_before"] is True
    assert found["evidence"]["previous_release"] == 1
    assert "which release 1 (published 2025-02-13) listed without a value" in (found["explanation"])


@pytest.mark.parametrize(
    ("restored", "found_months"), [("1000006", []), ("1250000", ["2024-06"])], ids=["same", "other"]
)
def test_a_figure_withheld_and_given_again_is_compared_with_its_last_figure(
    store, tmp_path, restored, found_months
):
    """June published, withheld by the next release (a blank), given again by the third:
    unchanged, that was reported as a figure appearing, its whole value at stake. A figure
    is compared with the last one published for its cell: unchanged is no revision, a
    different one is a revision of it (release 2's blank is the diff's and digest's news)."""
    from tests.ingest.kit import FORMATS, record

    def month(m: int, value: str) -> dict:
        return record("DEU", "FRA", "export", "39199020", "2024", f"{m:02d}", value)

    sdmx = FORMATS["sdmx"]
    figures = [month(m, str(1_000_000 + m)) for m in range(1, 13)]
    store.ingest(sdmx.file(tmp_path, figures, stem="a"), published="2025-02-13")
    blank = [month(6, "")]
    store.ingest(sdmx.file(tmp_path, blank, stem="b"), published="2025-03-13")
    assert api.release_diff(store, 1, 2).summary["withheld"] == 1
    store.ingest(sdmx.file(tmp_path, [month(6, restored)], stem="c"), published="2025-04-13")
    found = api.scan(store, kinds=["revision"], save=False).to_records()
    assert [f["period"] for f in found] == found_months
    for f in found:
        assert (f["expected"], f["evidence"]["previous_release"]) == (1_000_006.0, 1)
        # release 2's blank is said (an office's read: "against release 1" hid it)
        assert f["evidence"]["withheld_between"] == 2
        assert (
            "against release 1 (published 2025-02-13); release 2 had listed it without a value."
        ) in f["explanation"], f["explanation"]


def test_a_release_in_another_currency_restates_no_figure(store, tmp_path):
    """Thailand's figures given again in euros (×0.92) read as an 8 % revision of every
    month, "from €499.6K to €459.6K" (the €499.6K was dollars), and a diff's net change
    subtracted dollars from euros. A figure is compared with the last one in its own
    currency; the diff counts the others apart."""
    header = "reporter,partner,flow,commodity,period,value,currency\n"

    def release(name: str, currency: str, factor: float, published: str, march: float = 1.0):
        rows = [
            f"CHN,THA,export,250410,2024-{m:02d},{500_000 * factor * (march if m == 3 else 1):.2f},"
            f"{currency}\n"
            for m in range(1, 7)
        ]
        (tmp_path / name).write_text(header + "".join(rows))
        store.ingest(tmp_path / name, published=published)

    release("usd.csv", "USD", 1.0, "2025-01-10")
    release("eur.csv", "EUR", 0.92, "2025-02-10")
    assert api.scan(store, kinds=["revision"], save=False).to_records() == []
    diff = api.release_diff(store, 1, 2)
    s = diff.summary
    assert (s["revised"], s["other_currency"], s["common"]) == (0, 6, 6)
    assert s["change_by_currency"] == {} and s["total_change"] == 0.0
    assert set(diff.cells["status"]) == {"other_currency"}
    assert diff.cells["change"].isna().all()
    assert set(diff.cells["currency_a"]) == {"USD"} and set(diff.cells["currency"]) == {"EUR"}
    months = diff.by_month  # each month's cells in both, as the summary counts them
    assert (months["common"] == 1).all() and (months["other_currency"] == 1).all()
    assert len(months) == 6 and not months["restated"].any()
    digest = api.digest(store, release=2)
    assert digest.revisions_total == 0 and digest.coverage["other_currency"] == 6
    assert digest.summary[1] == (
        "Of these, 6 give earlier figures in another currency (not compared)."
    )
    release("eur2.csv", "EUR", 0.92, "2025-03-10", march=1.1)  # March revised, in euros
    (found,) = api.scan(store, kinds=["revision"], save=False).to_records()
    assert (found["period"], found["observed"], found["expected"]) == (
        "2024-03",
        pytest.approx(506_000),
        pytest.approx(460_000),
    )
    # back to dollars, March at 650,000: against release 1's dollars, in the scan and the
    # digest alike (the digest had compared with nothing, "in another currency")
    release("usd2.csv", "USD", 1.0, "2025-04-10", march=1.3)
    (found,) = api.scan(store, kinds=["revision"], save=False).to_records()
    assert (found["expected"], found["observed"]) == (500_000, 650_000)
    assert "against release 1" in found["explanation"]
    digest = api.digest(store, release=4)
    assert (digest.revisions_total, digest.coverage["other_currency"]) == (1, 0)
    assert digest.revisions[0].sentence.endswith(
        "to $650,000 from $500,000 (release 1), up $150,000 (+30.0%)."
    )


def test_a_revision_stays_one_when_a_later_release_repeats_it(store, tmp_path):
    """Comext and most offices re-issue the whole history every month. Compared with the
    release just before, a re-issue undid every revision of the one before it (and listed
    each as resolved): October revised ×10 by release 2 was no finding once release 3
    repeated release 2. A figure is compared with the last release whose figure differs,
    and the revision names the release that first gave the current figure; a release that
    changes it again is compared with the figure it changed."""
    base = {m: 10.0**6 + m for m in range(1, 13)}
    _releases(store, tmp_path, base, {**base, 10: 1e7}, {**base, 10: 1e7})

    def revisions() -> list[tuple]:
        found = api.scan(store, kinds=["revision"], save=False).to_records()
        return [
            (f["period"], f["expected"], f["observed"], f["evidence"]["previous_release"],
             f["evidence"]["release"])
            for f in found
        ]  # fmt: skip

    assert revisions() == [("2024-10", 1_000_010.0, 10_000_000.0, 1, 2)]
    (found,) = api.scan(store, kinds=["revision"], save=False).to_records()
    assert "Release 2 (published 2025-03-13) revised" in found["explanation"], found["explanation"]
    _releases(store, tmp_path, {**base, 10: 2e7}, first=4)
    assert revisions() == [("2024-10", 10_000_000.0, 20_000_000.0, 3, 4)]


def test_a_figure_revised_from_zero_says_no_percentage(store, tmp_path):
    """June revised from $0 to $1.8M read "(new)", as if the month were new: a change
    from nothing has no percentage, and says none."""
    base = {m: 1e6 for m in range(1, 13)}
    _releases(store, tmp_path, {**base, 6: 0.0}, {**base, 6: 1.8e6})
    (found,) = api.scan(store, kinds=["revision"], save=False).to_records()
    assert "revised June 2024 from €0 to €1.8M, against release 1" in found["explanation"], found[
        "explanation"
    ]


def _releases(store, tmp_path, *months_by_release: dict[int, float | None], first: int = 1):
    """SDMX releases of DEU's exports to FRA of 39199020 in 2024, one a month apart from
    2025-02-13 (``first``: the number of the first of them): each {month: value} (a month
    absent is left out; None, listed without a value)."""
    from tests.ingest.kit import FORMATS, record

    sdmx = FORMATS["sdmx"]
    for k, months in enumerate(months_by_release, start=first - 1):
        rows = [
            record("DEU", "FRA", "export", "39199020", "2024", f"{m:02d}",
                   "" if v is None else str(v))
            for m, v in sorted(months.items())
        ]  # fmt: skip
        store.ingest(sdmx.file(tmp_path, rows, stem=f"r{k}"), published=f"2025-{k + 2:02d}-13")


def test_figures_that_drift_in_small_steps_are_each_compared_with_the_one_before(store, tmp_path):
    """March 10.00M, 10.04M, 10.08M in three releases: each step within the 0.5 % bar. The
    revision was told as release 2's, from 10.0M to 10.08M, a figure release 2 never gave
    (review); each figure is compared with the last that differs from it at all."""
    base = {m: 10_000_000.0 for m in range(1, 13)}
    _releases(store, tmp_path, base, {**base, 3: 10_040_000.0}, {**base, 3: 10_080_000.0})
    assert api.scan(store, kinds=["revision"], save=False).to_records() == []


def test_a_month_filled_in_beside_one_revised_before_is_found(store, tmp_path):
    """Release 1 without March, release 2 revising February, release 3 giving March and
    February again: March appeared in release 3 against release 2, its neighbours' release
    before (the review found it lost once February's revision named release 2)."""
    first = {m: 1_000_000.0 + m for m in range(1, 13) if m != 3}
    second = {**first, 2: 2_000_000.0}
    _releases(store, tmp_path, first, second, {**second, 3: 1_500_000.0})
    found = {
        f["period"]: f["evidence"]
        for f in api.scan(store, kinds=["revision"], save=False).to_records()
    }
    assert sorted(found) == ["2024-02", "2024-03"]
    assert (found["2024-02"]["release"], found["2024-02"]["previous_release"]) == (2, 1)
    assert found["2024-03"]["change"] == "appeared"
    assert (found["2024-03"]["release"], found["2024-03"]["previous_release"]) == (3, 2)


def test_a_revision_just_past_the_bar_stays_one_after_a_re_issue(store, tmp_path):
    """1,000,000 → 1,005,020 (+0.502 % of the earlier figure) is a revision; after a re-issue
    it was none, the bar having been measured against the new figure (review)."""
    base = {m: 1_000_000.0 for m in range(1, 13)}
    revised = {**base, 5: 1_005_020.0}
    _releases(store, tmp_path, base, revised, revised)
    (found,) = api.scan(store, kinds=["revision"], save=False).to_records()
    assert (found["period"], found["evidence"]["release"]) == ("2024-05", 2)
