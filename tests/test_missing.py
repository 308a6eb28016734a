"""``tradesentry.missing``'s summary of a pair's two records."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradesentry.missing import mirror_ratio


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
