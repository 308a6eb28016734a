"""The comparison with other libraries, on a tiny corpus with the trivial baseline only.

The anchors' own environments are too large for `make test` and CI; the trivial baseline's
adapter runs with the project's interpreter through the very same subprocess protocol, so
these tests cover the corpus, the adapter protocol, the kind mapping and the scoring that
every anchor goes through.
"""

from __future__ import annotations

import json
from pathlib import Path

import accuracy
import anchors
import numpy as np
import pandas as pd
import pytest

from tradesentry.datasets import synthetic_keys, synthetic_values

N_SERIES, N_MONTHS, REPLICATES = 24, 48, 2


@pytest.fixture(scope="module")
def sources() -> list[tuple]:
    """One synthetic source under a real source name (series ids are offset per source)."""
    values = synthetic_values(N_SERIES, N_MONTHS, seed=3, noise=(0.05, 0.2), missing=0.02)
    return [("comext", values, "2021-01", synthetic_keys(N_SERIES))]


@pytest.fixture(scope="module")
def corpus(sources) -> anchors.Corpus:
    return anchors.build_corpus(sources, REPLICATES, seed=0)


@pytest.fixture(scope="module")
def trivial_run(corpus, tmp_path_factory) -> anchors.Run:
    out = tmp_path_factory.mktemp("anchors")
    path = out / "corpus.json"
    path.write_text(json.dumps(corpus.documents()))
    return anchors.run_anchor(anchors.ANCHORS["trivial"], path, "log", out, reuse=False)


def test_corpus_holds_each_distinct_series_once(corpus, sources):
    _, values, _, _ = sources[0]
    slots = corpus.slots
    assert len(slots) == N_SERIES * (REPLICATES + 1)
    for rep, injected, truth, untouched in corpus.replicates["comext"]:
        ids = slots[slots["rep"] == rep].set_index("row")["id"]
        clean = slots[slots["rep"] == -1].set_index("row")["id"]
        # an untouched row is the clean series itself; a touched one is its own series
        assert (ids[untouched] == clean[untouched]).all()
        touched = truth["series"].unique()
        assert not (ids[touched] == clean[touched]).any()
        for row in touched:
            np.testing.assert_array_equal(corpus.series[int(ids[row])][1], injected[row])
    assert len(corpus.series) == slots["id"].nunique()


def test_corpus_injections_are_accuracy_benchmarks(corpus, sources):
    _, values, _, _ = sources[0]
    expected = list(accuracy.injected_replicates(values, REPLICATES, 0))
    for (rep, inj, truth, _), (rep2, inj2, truth2, _) in zip(
        corpus.replicates["comext"], expected, strict=True
    ):
        assert rep == rep2
        np.testing.assert_array_equal(inj, inj2)
        pd.testing.assert_frame_equal(truth, truth2)


def test_corpus_json_keeps_missing_months(corpus):
    doc = corpus.documents()
    assert len(doc["series"]) == len(corpus.series)
    first = doc["series"][0]
    values = corpus.series[first["id"]][1]
    assert [v is None for v in first["values"]] == list(~np.isfinite(values))


def test_trivial_adapter_speaks_the_protocol(trivial_run, corpus):
    assert trivial_run.tool == "trivial" and trivial_run.scale == "log"
    assert trivial_run.series == len(corpus.series)
    assert trivial_run.seconds > 0 and trivial_run.cpu_seconds > 0
    assert set(trivial_run.versions) >= {"python", "numpy", "pandas"}
    flags = trivial_run.flags
    assert {"id", "start", "end", "kind", "score", "observed", "expected"} <= set(flags.columns)
    assert flags["id"].isin(list(corpus.series)).all()
    assert (flags["score"] >= anchors.GRID[0]).all()
    # a month that was not reported is never flagged
    for row in flags.itertuples():
        assert np.isfinite(corpus.series[row.id][1][row.start])


def test_trivial_baseline_finds_the_obvious(trivial_run, corpus):
    graded = anchors.grade(corpus, anchors.at_setting(trivial_run.flags, 1.0))
    truth = graded.truth
    big = truth[truth["injection"].isin(["near_zero", "unit_slip"])]
    assert len(big) and big["found"].mean() >= 0.8


def test_grade_matches_the_accuracy_benchmark(corpus, sources):
    """tradesentry through the comparison's path scores exactly as accuracy.py scores it."""
    run = anchors.run_tradesentry(corpus)
    assert run.series == len(corpus.series)
    kinds = anchors.KINDS
    graded = anchors.grade(corpus, run.flags)
    source, values, start, keys = sources[0]
    t, f, fa, _years = accuracy.run_source(source, values, start, keys, REPLICATES, 0)
    truth, found = accuracy.score([t[t["kind"].isin(kinds)]], [f[f["kind"].isin(kinds)]])
    assert graded.truth["found"].sum() == truth["found"].sum()
    assert graded.found["hit"].sum() == found["hit"].sum()
    assert len(graded.found) == len(found)
    assert len(graded.fa) == int(fa["kind"].isin(kinds).sum())


def test_evaluate_keeps_the_tuned_setting_within_the_false_alarm_budget(trivial_run, corpus):
    runs = {"log": trivial_run}
    shown, grid = anchors.evaluate(corpus, anchors.ANCHORS["trivial"], runs, None, budget=5.0)
    default, tuned = shown
    assert len(grid) == len(anchors.GRID)
    assert default.setting == "default" and tuned.setting == "tuned"
    assert tuned.multiple in anchors.GRID
    grid_fa = [
        anchors.summary(anchors.grade(corpus, anchors.at_setting(trivial_run.flags, m)), ())["fa"]
        for m in anchors.GRID
    ]
    if min(grid_fa) <= 5.0:
        assert tuned.within_budget
    for key in ("precision", "recall", "f1", "fa", "kf1:mean", "recall:spike", "kf1:dip"):
        assert np.isfinite(tuned.scores[key])
    assert np.isnan(tuned.scores["kf1:timing_shift"])  # the baseline cannot name it
    assert np.isnan(tuned.scores["kf1:level_shift"])


def test_kinds_of_flags_from_libraries_that_name_none():
    flags = pd.DataFrame(
        {
            "type": ["outlier", "outlier", "outlier", "outlier", "change"],
            "observed": [150.0, 60.0, 0.5, 2e5, 10.0],
            "expected": [100.0, 100.0, 100.0, 100.0, np.nan],
        }
    )
    assert list(anchors.kind_of(flags)) == [
        "spike",
        "dip",
        "implausible",
        "implausible",
        "level_shift",
    ]


def test_settings_listed_or_scored():
    flags = pd.DataFrame(
        {
            "score": [0.8, 1.2, 3.5, 1.0],
            "settings": [None, None, None, [0.75, 1.0, 2.0]],
        }
    )
    assert list(anchors.at_setting(flags, 1.0).index) == [1, 2, 3]
    assert list(anchors.at_setting(flags, 3.0).index) == [2]
    assert list(anchors.at_setting(flags, 2.0).index) == [2, 3]


def test_grid_is_the_adapters_grid(common):
    assert tuple(anchors.GRID) == tuple(common.GRID)


def test_filled_interpolates_inner_gaps_and_cuts_the_ends(common):
    offset, y = common.filled(np.array([np.nan, 1.0, np.nan, 3.0, np.nan]))
    assert offset == 1
    np.testing.assert_allclose(y, [1.0, 2.0, 3.0])


def test_robust_z_is_median_and_mad(common):
    z = common.robust_z(np.array([0.0, 1.0, -1.0, 0.0, 10.0]))
    assert z[0] == 0.0 and z[4] == pytest.approx(10.0 / 1.4826)


def test_write_doc_replaces_only_its_section(tmp_path: Path):
    doc = tmp_path / "accuracy.md"
    doc.write_text("# Accuracy\n\nown tables\n")
    anchors.write_doc(doc, "first")
    anchors.write_doc(doc, "second")
    text = doc.read_text()
    assert text.startswith("# Accuracy\n\nown tables\n")
    assert "second" in text and "first" not in text
    assert text.count(anchors.BEGIN) == 1 and text.count(anchors.END) == 1


@pytest.mark.slow
def test_runner_end_to_end_on_real_series(tmp_path: Path, shared_data):
    """The whole command on a few real series with the trivial baseline: tables and docs."""
    doc = tmp_path / "accuracy.md"
    doc.write_text("# Accuracy\n")
    argv = ["--series", "30", "--replicates", "1", "--prophet-series", "10", "--anchors", "trivial"]
    argv += ["--out", str(tmp_path / "out"), "--docs", "--doc-path", str(doc)]
    assert anchors.main(argv) == 0
    text = doc.read_text()
    for heading in (
        "### Overall",
        "### Kind by kind",
        "### Cost",
        "### Versions and configurations",
    ):
        assert heading in text
    assert "rolling median + MAD z" in text
    assert "\\|robust z\\|" in text  # a '|' inside a cell does not split it
    assert json.loads((tmp_path / "out" / "anchors.json").read_text())
