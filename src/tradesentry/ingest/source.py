"""What a reader is given: the file, its first bytes decoded, and the options a user chose."""

from __future__ import annotations

import csv
import gzip
import hashlib
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from tradesentry.errors import InputError

SAMPLE_BYTES = 1 << 20


@dataclass(frozen=True)
class SourceFile:
    """A file about to be ingested, with what was learnt from its first megabyte."""

    path: Path
    sha256: str
    gzipped: bool
    encoding: str  # 'utf-8' or 'latin-1', as DuckDB's CSV reader names them
    sample: str  # the first megabyte, decoded
    header_line: int  # 1-based physical line of the header (0 for JSON)
    header: str
    options: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def compression(self) -> str:
        return "gzip" if self.gzipped else "none"

    def fail(self, reason: str, line: int | None = None) -> InputError:
        where = f"{self.path}:{line}" if line else str(self.path)
        return InputError(f"{where}: {reason}")


def open_source(path: str | Path, encoding: str | None = None) -> SourceFile:
    """Hash the file, then decode its start to find the header. Raises InputError if unreadable."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such file")
    sha = hashlib.sha256()
    with p.open("rb") as f:
        head = f.read(2)
        f.seek(0)
        for block in iter(lambda: f.read(1 << 20), b""):
            sha.update(block)
    gzipped = head == b"\x1f\x8b"
    try:
        opener = gzip.open if gzipped else open
        with opener(p, "rb") as f:
            raw = f.read(SAMPLE_BYTES)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(
            f"{p}: cannot be read as {'gzip' if gzipped else 'a file'} ({exc})"
        ) from exc
    if not raw.strip():
        raise InputError(f"{p}: the file is empty")
    if b"\x00" in raw[:4096]:
        raise InputError(f"{p}: binary content, not a text table (unknown format)")
    text, enc = _decode(raw, encoding)
    header_line, header = _first_nonblank_line(text)
    return SourceFile(p, sha.hexdigest(), gzipped, enc, text, header_line, header)


def _decode(raw: bytes, encoding: str | None) -> tuple[str, str]:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if encoding:
        enc = (
            "latin-1"
            if encoding.lower().replace("_", "-") in {"latin-1", "iso-8859-1", "latin1"}
            else "utf-8"
        )
        return raw.decode(enc, errors="replace"), enc
    # The header decides: a file whose first lines are valid UTF-8 is read as UTF-8 and a bad
    # line later on is quarantined; a file that is not UTF-8 from the start is latin-1.
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start > len(raw) - 4:  # a character cut by the sample's end
            return raw[: exc.start].decode("utf-8"), "utf-8"
        first_lines = raw[: raw.find(b"\n", raw.find(b"\n") + 1) + 1 or len(raw)]
        try:
            first_lines.decode("utf-8")
            return raw.decode("utf-8", errors="replace"), "utf-8"
        except UnicodeDecodeError:
            return raw.decode("latin-1"), "latin-1"


def _first_nonblank_line(text: str) -> tuple[int, str]:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            return number, line
    return 0, ""


def split_header(header: str, delimiter: str) -> list[str]:
    """Column names of a header line, unquoted and stripped of a byte-order mark."""
    names = next(csv.reader([header.lstrip("\ufeff")], delimiter=delimiter))
    return [n.strip() for n in names]


def guess_delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","
