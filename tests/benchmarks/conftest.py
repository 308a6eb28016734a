"""The benchmark scripts are not a package: put benchmarks/ on the path for these tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))


@pytest.fixture(scope="session")
def common() -> ModuleType:
    """The adapters' protocol module, loaded under its own name (``common`` is too generic to
    put on the path of the whole test session)."""
    path = BENCHMARKS / "anchors" / "common.py"
    spec = importlib.util.spec_from_file_location("anchor_common", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module
