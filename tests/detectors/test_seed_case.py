"""The seed article's case on the bundled China–North Korea data (press figures of GACC data).

China's exports to North Korea get exactly five findings, and each is there for a reason (23 months are reported, none of the others is flagged):

1. ``level_shift`` from 2020-02: the border closed at the end of January 2020; exports fell
   from about $227M a month (2019 to January 2020) to about $22M (×0.1);
2. ``level_shift`` from 2020-10: the near-total closure; about $148K a month against $22M
   before (×0.007). This covers October 2020 ($253K after $18.9M in September);
3. ``spike`` in 2020-12: $3.4M inside the closure, 46 times the $73K that its months
   (October and November 2020, January and February 2021) make expected. The series'
   falls are large (the closure, $3K) but its rises are not, and a rise is measured
   against the rises (``sigma_high``, widened for its thin support): 4.6 scales above;
4. ``implausible`` in 2021-02: $3,000, a tiny share of the series' typical month and no
   other month that low (the analyst's "simply isn't realistic"), about 1/65 of the closure
   months around it;
5. ``level_shift`` from 2021-03: the partial reopening, about $12.6M a month against $148K
   (×85). Its explanation gives the other reading with the amounts: if February's trade
   was recorded in March (a timing shift), at most about $191K moved, about 1 % of March's
   $13.0M, while April–June stay at the new level.

No other month is flagged: the 2019 months sit on their level, the swings of 2020 (from
$10M to $88M) and of the reopening (April $28.8M, May $2.7M) stay within what the series'
own noise allows, and the combined January–February 2021 figure ($33K) agrees with its months ($29K + $3K)
within the rounding of figures published in thousands. China's imports get one finding:
the fall from September 2020 (about $10M a month to $1.4M).
"""

from __future__ import annotations

import pytest

from tradesentry.detectors import default_detectors
from tradesentry.engines import scan_frame

KINDS = ("implausible", "spike", "dip", "timing_shift", "level_shift", "gap", "incoherent")


@pytest.fixture
def found(demo_store):
    frame = scan_frame(demo_store.observations(), default_detectors(KINDS))
    return frame.sort_values(["flow", "period"]).reset_index(drop=True)


def _one(found, flow, period):
    rows = found[(found["flow"] == flow) & (found["period"] == period)]
    assert len(rows) == 1, rows[["kind", "period"]]
    return rows.iloc[0]


def test_exports_get_exactly_five_findings(found):
    exports = found[found["flow"] == "export"]
    assert list(zip(exports["kind"], exports["period"], strict=True)) == [
        ("level_shift", "2020-02"),
        ("level_shift", "2020-10"),
        ("spike", "2020-12"),
        ("implausible", "2021-02"),
        ("level_shift", "2021-03"),
    ]


def test_february_2021_is_implausible(found):
    f = _one(found, "export", "2021-02")
    assert f["kind"] == "implausible"
    assert f["observed"] == 3000.0
    assert 1e5 < f["expected"] < 5e5  # the closure months around it
    assert f["evidence"]["reason"] == "near_zero"
    assert "$3.0K" in f["explanation"]
    assert "March 2021 recorded $13.0M" in f["explanation"]  # the other reading
    # January 2021's $29K is within ×10 of it: the other rule, of the typical month
    assert f["evidence"]["low_rule"] == "tiny"
    text = f["explanation"]
    assert "It is the only month of the series below a thousandth of its typical month" in text
    assert f["severity"] == "high"


def test_march_2021_says_what_the_evidence_supports(found):
    f = _one(found, "export", "2021-03")
    assert f["kind"] == "level_shift"
    ev = f["evidence"]
    assert ev["ratio"] > 50
    assert ev["previous_period"] == "2021-02" and ev["previous_value"] == 3000.0
    text = f["explanation"]
    assert "timing shift" in text and "reopening" in text
    assert "$13.0M" in text and "$3.0K" in text  # the amounts of both months
    assert "$190.6K" in text  # at most this much could have moved from February


def test_october_2020_and_the_february_2020_collapse(found):
    october = _one(found, "export", "2020-10")
    assert october["kind"] == "level_shift" and october["evidence"]["ratio"] < 0.01
    collapse = _one(found, "export", "2020-02")
    assert collapse["kind"] == "level_shift"
    assert 0.05 < collapse["evidence"]["ratio"] < 0.25
    assert collapse["evidence"]["before_to"] == "2020-01"


def test_december_2020_stands_out_inside_the_closure(found):
    f = _one(found, "export", "2020-12")
    assert f["kind"] == "spike" and f["observed"] == 3378000.0
    ev = f["evidence"]
    assert ev["regime_start"] == "2020-10"  # measured against the closure, not 2019
    assert ev["level_months"] == ["2020-10", "2020-11", "2021-01", "2021-02"]
    assert 40 < ev["ratio"] < 50 and 4.0 < ev["z"] < 5.5
    assert "within the level that started in October 2020" in f["explanation"]


def test_not_every_month_is_flagged(found, demo_store):
    obs = demo_store.observations()
    months = obs[(obs["flow"] == "export") & (obs["period_months"] == 1)]
    assert len(months) == 23
    assert (found["flow"] == "export").sum() == 5
    assert not (found["kind"] == "incoherent").any()  # $29K + $3K vs $33K: rounding


def test_imports_get_the_september_2020_fall(found):
    imports = found[found["flow"] == "import"]
    assert list(zip(imports["kind"], imports["period"], strict=True)) == [
        ("level_shift", "2020-09")
    ]
