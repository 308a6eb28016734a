"""Readers of customs releases, one module per format, and the one function that runs them.

A reader module has ``NAME``, ``matches(src) -> bool`` (does the header look like mine?) and
``stage(con, src)`` (fill TEMP TABLE ``staged``). ``readers()`` is the registry; detection
tries them in order. Validation and landing are shared (``validate.land``).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import duckdb

from tradesentry.errors import InputError
from tradesentry.ingest.source import SourceFile, open_source
from tradesentry.ingest.validate import Landed, land

# Detection order: the most specific header test first, the canonical CSV (loosest) last.
_READER_MODULES = ("comtrade", "comtrade_legacy", "sdmx", "mapped", "canonical")
_READERS: dict[str, ModuleType] = {}


def readers() -> dict[str, ModuleType]:
    """The registry: reader name -> module, loaded on first use."""
    if not _READERS:
        for name in _READER_MODULES:
            module = importlib.import_module(f"tradesentry.ingest.{name}")
            _READERS[module.NAME] = module
    return _READERS


def detect(src: SourceFile) -> str:
    """Name of the reader whose header test the file passes; InputError when none does."""
    for name, module in readers().items():
        if name != "mapped" and module.matches(src):
            return name
    raise src.fail(
        "unknown format: the header matches no reader "
        f"({', '.join(n for n in readers() if n != 'mapped')}); give --source or --mapping",
        src.header_line or None,
    )


def stage_file(
    con: duckdb.DuckDBPyConnection,
    path: str | Path,
    source: str = "auto",
    mapping: str | Path | None = None,
    encoding: str | None = None,
) -> tuple[SourceFile, str]:
    """Read a file into TEMP TABLE staged. Returns the source file and the reader used."""
    if mapping is not None:
        source = "mapped"
    options = {}
    if source == "mapped":
        if mapping is None:
            raise InputError("--source mapped needs --mapping MAP.toml")
        from tradesentry.ingest.mapped import load_mapping

        spec = load_mapping(mapping)
        options["mapping"] = spec
        encoding = encoding or spec.encoding
    elif source == "comtrade-legacy" and encoding is None:
        encoding = "latin-1"  # the legacy service served ISO-8859-1
    src = open_source(path, encoding)
    if options:
        src = SourceFile(**{**src.__dict__, "options": options})
    if source == "auto":
        source = detect(src)
    if source not in readers():
        raise InputError(f"unknown source {source!r}; choose from auto, {', '.join(readers())}")
    if src.encoding != "latin-1" and source == "comtrade-legacy" and encoding is None:
        src = open_source(path, "latin-1")
    readers()[source].stage(con, src)
    return src, source


__all__ = ["readers", "Landed", "detect", "land", "stage_file"]
