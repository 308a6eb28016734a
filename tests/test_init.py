"""The package: its docstring's example runs as written, from any directory."""

from __future__ import annotations

import doctest

import tradesentry

from .conftest import DEMO_CSV


def test_the_package_docstring_example_runs_in_any_directory(tmp_path, monkeypatch):
    """It ingested a bare file name, found only when run from the package's data folder
    (QA); ``demo_file`` is the bundled release wherever the package is installed. The
    example's lines are run, not their output compared: a scan's findings change with the
    detectors, and the example shows how to reach them, not how many there are."""
    monkeypatch.chdir(tmp_path)
    examples = doctest.DocTestParser().get_examples(tradesentry.__doc__)
    namespace: dict = {}
    try:
        for example in examples:
            exec(compile(example.source, "<tradesentry docstring>", "single"), namespace)
        assert not namespace["findings"].to_frame().empty
        assert namespace["result"].rows_accepted > 0
    finally:
        if "store" in namespace:
            namespace["store"].close()
    assert (tmp_path / "trade.duckdb").is_file()


def test_the_demo_file_is_the_bundled_release():
    path = tradesentry.demo_file()
    assert path.is_absolute() and path.is_file()
    assert path.read_bytes() == DEMO_CSV.read_bytes()
