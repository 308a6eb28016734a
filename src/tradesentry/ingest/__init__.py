"""Readers of customs releases, one module per format, and the functions that run them.

A reader module has ``NAME``, ``matches(src) -> bool`` (does the header look like mine?) and
``stage(con, src)`` (fill TEMP TABLE ``staged``). ``readers()`` is the registry; detection
tries them in order. Validation and landing are shared (``validate.land``).

An ingest first ``prepare``s the file (hash, header, reader, and ``reading``: what the
user chose that changes how it is read), so that the store can tell a file it already
holds without reading it, then ``stage``s it.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import duckdb

from tradesentry.errors import InputError
from tradesentry.ingest.source import (
    SourceFile,
    encoding_name,
    open_source,
    readable,
    split_header,
    verify_gzip,
    with_encoding,
)
from tradesentry.ingest.validate import Landed, Landing, land

if TYPE_CHECKING:
    from tradesentry.ingest.mapped import MappingSpec

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
    nearest = _nearest_reader(src)
    if nearest is not None:  # a file of one reader's short of a column or two: name them
        module, missing = nearest
        mapping = " (another table needs --mapping)" if module.NAME == "csv" else ""
        raise src.fail(
            f"not {module.LABEL}: missing column(s) {', '.join(missing)}{mapping}",
            src.header_line or None,
        )
    raise src.fail(
        "unknown format: the header matches no reader "
        f"({', '.join(n for n in readers() if n != 'mapped')}); give --source or --mapping",
        src.header_line or None,
    )


def _nearest_reader(src: SourceFile) -> tuple[ModuleType, list[str]] | None:
    """The reader whose header columns (``HEADER_COLUMNS``, in any case) the file holds
    most of, at least half and short of two at most, with the ones it lacks: a Comtrade Plus
    CSV without ``primaryValue`` was "unknown format", and a legacy one without its
    commodity code "not a canonical CSV: missing column(s) flow, value"."""
    if src.is_json:
        return None
    names = {n.split(":")[0].strip().lower() for n in split_header(src.header, ",")}
    best = None
    for module in readers().values():
        wanted = getattr(module, "HEADER_COLUMNS", ())
        missing = [c for c in wanted if c.lower() not in names]
        held = (len(wanted) - len(missing)) / len(wanted) if wanted else 0.0
        if held >= 0.5 and len(missing) <= 2 and (best is None or held > best[0]):
            best = (held, module, missing)
    return None if best is None else (best[1], best[2])


@dataclass(frozen=True)
class Prepared:
    """A file ready to stage: its source, the reader, and how it is read.

    ``reading`` is '' when the file is read as it would be with no options (detected
    reader and encoding); otherwise it names what differs: ``source=…``, ``encoding=…``,
    ``mapping=<digest of the mapping's meaning>``. The store identifies a release by the
    file's sha256 and ``reading``.
    """

    src: SourceFile
    reader: str
    reading: str


def prepare(
    path: str | Path,
    source: str = "auto",
    mapping: str | Path | None = None,
    encoding: str | None = None,
) -> Prepared:
    """Hash the file, read its header and choose the reader; nothing is read into DuckDB."""
    if mapping is not None:
        source = "mapped"
    if isinstance(source, str):
        source = source.strip().lower()  # CSV is csv, as the command line takes it
    if source not in ("auto", *readers()):
        raise InputError(f"unknown source {source!r}; choose from auto, {', '.join(readers())}")
    if encoding is not None:
        encoding = encoding_name(encoding)
    if source == "mapped":
        return _prepare_mapped(path, mapping, encoding)
    src = open_source(path, encoding)
    if source == "auto":
        reader = detected = detect(src)
    else:
        reader, detected = source, _try_detect(src)
    if reader == "comtrade-legacy" and encoding is None:
        src = with_encoding(src, "latin-1")  # the legacy service served ISO-8859-1
    default_encoding = "latin-1" if reader == "comtrade-legacy" else src.detected_encoding
    parts = [f"source={reader}"] if reader != detected else []
    if src.encoding != default_encoding:
        parts.append(f"encoding={src.encoding}")
    return Prepared(src, reader, ";".join(parts))


def _try_detect(src: SourceFile) -> str | None:
    """The reader detection would pick, None when none would (the user forced one)."""
    try:
        return detect(src)
    except InputError:
        return None


def _prepare_mapped(path: str | Path, mapping: str | Path | None, encoding: str | None) -> Prepared:
    if mapping is None:
        raise InputError("--source mapped needs --mapping MAP.toml")
    from tradesentry.ingest.mapped import load_mapping

    spec = load_mapping(mapping)
    src = open_source(path, encoding or spec.encoding)
    spec = replace(spec, encoding=src.encoding)  # an --encoding given beside it wins
    src = replace(src, options={"mapping": spec})
    return Prepared(src, "mapped", f"mapping={_digest(spec)}")


def _digest(spec: MappingSpec) -> str:
    """16 hex digits of what a mapping means (not its file name, comments or key order)."""
    from tradesentry.ingest.mapped import LATER_KEYS, MappingSpec

    defaults = MappingSpec(path=spec.path)
    meaning = {
        k: v
        for k, v in asdict(spec).items()
        if k != "path" and not (k in LATER_KEYS and v == getattr(defaults, k))
    }
    text = json.dumps(meaning, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def landing(prepared: Prepared) -> Landing:
    """How the prepared file's records land: as every format's, or as its mapping says
    (``[file] repeated``, ``[countries]``)."""
    spec = prepared.src.options.get("mapping")
    mappable = prepared.reader in ("csv", "mapped")  # a table a mapping can read
    if spec is None:
        return Landing(mappable=mappable)
    return Landing(
        sum_repeated=spec.repeated == "sum", country_names=spec.countries, mappable=mappable
    )


def stage(con: duckdb.DuckDBPyConnection, prepared: Prepared) -> None:
    """Read a prepared file into TEMP TABLE staged."""
    with _gzip_checked(prepared.src), readable(prepared.src) as src:
        readers()[prepared.reader].stage(con, src)


@contextmanager
def _gzip_checked(src: SourceFile) -> Iterator[None]:
    """Check a gzip stream (``verify_gzip``) while DuckDB reads it.

    zlib and DuckDB both release the GIL, so the check costs next to no time. Its error
    wins over the reader's: a cut stream explains why DuckDB stopped, and a damaged one
    that DuckDB read without a word must not land.
    """
    if not src.gzipped:
        yield
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        check = pool.submit(verify_gzip, src)
        try:
            yield
        except Exception:
            check.result()
            raise
        check.result()


def stage_file(
    con: duckdb.DuckDBPyConnection,
    path: str | Path,
    source: str = "auto",
    mapping: str | Path | None = None,
    encoding: str | None = None,
) -> tuple[SourceFile, str]:
    """Read a file into TEMP TABLE staged. Returns the source file and the reader used."""
    prepared = prepare(path, source, mapping, encoding)
    stage(con, prepared)
    return prepared.src, prepared.reader


__all__ = [
    "readers",
    "Landed",
    "Landing",
    "Prepared",
    "detect",
    "land",
    "landing",
    "prepare",
    "stage",
    "stage_file",
]
