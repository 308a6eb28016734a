"""The speed benchmark's measurements run end to end on a small generated store."""

from __future__ import annotations

import pytest
import scan as bench


@pytest.mark.parametrize("engine_only", [False, True], ids=["every detector", "engine alone"])
def test_a_case_is_measured(tmp_path, engine_only):
    result = bench.run_case(bench.Case("rows-tiny", rows=3_000), tmp_path, 1, {}, engine_only)
    assert result["rows"] == 3_000 and result["series"] > 0
    assert result["scan_s"] > 0 and result["floor_s"] > 0 and result["scan_rss_mb"] > 0
    # the engine alone runs no detector, so it can find nothing; the scan finds the
    # generated data's injected anomalies
    assert (result["findings"] == 0) if engine_only else (result["findings"] > 0)
