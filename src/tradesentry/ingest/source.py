"""What a reader is given: the file, its first bytes decoded, and the options a user chose."""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import os
import re
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from tradesentry.errors import InputError

SAMPLE_BYTES = 1 << 20
_BLOCK = 1 << 20
# Control bytes no text table holds (tab, line feed, carriage return and form feed aside).
_CONTROL = bytes(b for b in range(32) if b not in b"\t\n\r\f")
_BINARY_BLOCK = 4096
_MAX_STRAY_CONTROL = 8  # a text file may carry a few stray bytes: their lines are quarantined
# Characters DuckDB's file readers do not take literally in a path: * ? [ start a glob (and
# ] { } may in other versions), and \ separates a glob's parts.
_GLOB_SPECIAL = frozenset("*?[]{}\\")

#: the longest line the ingest reads (DuckDB's reader is told so; ``lines``)
MAX_LINE_BYTES = 64 << 20
# The csv module refuses a field over 131,072 characters, a limit of its own far below the
# longest line: a header field that long was a traceback, and a line with a long note was
# quarantined for text after a quote. Raised to the line's limit (never lowered).
csv.field_size_limit(max(csv.field_size_limit(), MAX_LINE_BYTES))

# How DuckDB's CSV reader ends a line, which is how a file's lines are numbered. A file with a
# CR LF anywhere (``_LineEnds``) is read in CR LF mode, where LF, CR LF and CR CR LF (Python's csv
# writer on Windows without newline='') each end one line; any other file in single-character
# mode, where every CR and every LF ends one.
CRLF, LF = "\\r\\n", "\\n"  # as DuckDB's new_line option writes them
_BREAKS = {CRLF: r"\r\r\n|\r\n|\r|\n", LF: r"\r|\n"}
_BREAK_TEXT = {mode: re.compile(pattern) for mode, pattern in _BREAKS.items()}
BREAK_BYTES = {mode: re.compile(pattern.encode()) for mode, pattern in _BREAKS.items()}
# Characters Python's str.splitlines ends a line at and DuckDB does not: in the sample they
# are spaces, so that the sample's lines are the reader's lines.
_NOT_BREAKS = str.maketrans(dict.fromkeys("\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029", " "))
# latin-1 is read as Windows-1252, as text from Windows is written (€, curly quotes, dashes
# in 0x80-0x9F); its five unassigned bytes stay the latin-1 control characters.
WINDOWS_1252_ERRORS = "tradesentry-latin-1"
_C1 = bytes(range(0x80, 0xA0))
codecs.register_error(
    WINDOWS_1252_ERRORS, lambda e: (e.object[e.start : e.end].decode("latin-1"), e.end)
)


@dataclass(frozen=True)
class SourceFile:
    """A file about to be ingested, with what was learnt from its first megabyte."""

    path: Path
    sha256: str
    gzipped: bool
    encoding: str  # 'utf-8' or 'latin-1', as DuckDB's CSV reader names them
    # The first megabyte, decoded, with the reader's line breaks as LF and the characters
    # only Python breaks lines at as spaces: ``sample.splitlines()`` numbers lines as
    # DuckDB's reader does (``header_line``, a mapping's skip_lines).
    sample: str
    header_line: int  # 1-based line of the header, as DuckDB numbers lines (0 for JSON)
    header: str
    options: dict = field(default_factory=dict)
    raw: bytes = field(default=b"", repr=False)  # the first megabyte as bytes
    detected_encoding: str = "utf-8"  # what the encoding would be if the user gave none
    newline: str = LF  # DuckDB's new_line mode for the file: CRLF or LF (see _BREAKS)
    lone_cr: bool = False  # a CR that ends no CR LF (``_LONE_CR``), anywhere in the file
    # The path DuckDB reads, set by ``readable`` for the time a reader runs.
    duckdb_path: str | None = None
    # sha256 of the bytes as stored, where ``sha256`` is of the inflated content (gzip):
    # stores made before content hashes know a gzip file by it
    file_sha256: str = ""

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def compression(self) -> str:
        return "gzip" if self.gzipped else "none"

    @property
    def is_json(self) -> bool:
        return self.sample.lstrip("\ufeff \t\r\n").startswith(("{", "["))

    def fail(self, reason: str, line: int | None = None) -> InputError:
        return _fail(self.path, reason, line)

    def read_path(self) -> str:
        """The path to give DuckDB: the file itself, whatever its name holds."""
        if self.duckdb_path is None:
            raise RuntimeError("a reader runs inside ingest.stage, which sets duckdb_path")
        return self.duckdb_path

    def read_failure(self, exc: Exception) -> InputError:
        """DuckDB could not read the file: one line naming it, never DuckDB's own path."""
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if self.duckdb_path:
            message = message.replace(self.duckdb_path, self.name)
        return self.fail(f"cannot be read ({message})")


def _fail(path: Path, reason: str, line: int | None = None) -> InputError:
    """InputError ``path[:line]: reason``, on one line whatever the file name holds."""
    name = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(path))
    return InputError(f"{name}:{line}: {reason}" if line else f"{name}: {reason}")


def open_source(path: str | Path, encoding: str | None = None) -> SourceFile:
    """Hash the file, then decode its start to find the header. Raises InputError if unreadable."""
    p = Path(path)
    _check_regular_file(p)
    ends = _LineEnds()
    file_sha256, gzipped = _hash(p, ends)
    inflated = None
    if gzipped:  # the line ends of the inflated bytes, which the reader reads
        ends = _LineEnds()
        inflated = _inflated_hash(p, ends)
    sha256 = inflated or file_sha256
    raw = _sample(p, gzipped)
    if not raw.removeprefix(b"\xef\xbb\xbf").strip():  # a byte order mark alone is no text
        raise _fail(p, "the file is empty")
    if looks_binary(raw):
        raise _fail(p, _binary_reason(p, raw))
    detected = _decode(raw, None)[1]
    if gzipped and inflated is None:  # a damaged stream: its first megabyte says
        ends = _LineEnds()
        ends.feed(raw)
    # CR LF mode wherever the file holds a CR LF: a file joined from an LF one and a CR LF
    # one after its first megabyte counted each CR LF as two lines
    newline = CRLF if ends.crlf else LF
    src = SourceFile(p, sha256, gzipped, detected, "", 0, "", raw=raw, detected_encoding=detected,
                     newline=newline, lone_cr=ends.lone_cr, file_sha256=file_sha256)  # fmt: skip
    return with_encoding(src, encoding)


#: the starts of binary files a user may mean as a table, with what to do about each
_KNOWN_BINARY = (  # UTF-32's marks first: UTF-16's little-endian one starts UTF-32's
    ((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"), "UTF-32 text: save it as UTF-8 CSV"),
    ((b"\xff\xfe", b"\xfe\xff"), "UTF-16 text (Excel's 'Unicode Text'): save it as UTF-8 CSV"),
    ((b"PK\x03\x04",), "a zip archive: extract the table from it first"),
    ((b"\xd0\xcf\x11\xe0",), "an Excel workbook (.xls): save the sheet as CSV"),
)


def _binary_reason(p: Path, raw: bytes) -> str:
    """Why a binary file is no table, naming what it is where its first bytes say."""
    if p.suffix.lower() in (".xlsx", ".xlsm") and raw.startswith(b"PK\x03\x04"):
        return "binary content, an Excel workbook: save the sheet as CSV"
    for starts, reason in _KNOWN_BINARY:
        if raw.startswith(starts):
            return f"binary content, {reason}"
    if _utf16_without_mark(raw[:4096]):
        return "binary content, UTF-16 text without a byte-order mark: save it as UTF-8 CSV"
    return "binary content, not a text table (unknown format)"


def _utf16_without_mark(head: bytes) -> bool:
    """ASCII text written as UTF-16 (``iconv -t UTF-16LE``): every other byte a NUL."""
    even, odd = head[0::2], head[1::2]
    for text, nul in ((even, odd), (odd, even)):
        if len(nul) >= 8 and nul.count(0) == len(nul) and not text.count(0):
            return True
    return False


def encoding_name(name, where: str = "encoding") -> str:
    """The encoding ``name`` as the readers name it, utf-8 or latin-1 (``utf8``,
    ``ISO-8859-1`` and the like in any case); anything else is an InputError, not a
    silent UTF-8."""
    key = name.lower().replace("_", "-") if isinstance(name, str) else None
    if key in ("utf-8", "utf8"):
        return "utf-8"
    if key in ("latin-1", "latin1", "iso-8859-1", "iso8859-1"):
        return "latin-1"
    raise InputError(f"{where} must be utf-8 or latin-1, not {name!r}")


def with_encoding(src: SourceFile, encoding: str | None) -> SourceFile:
    """The source with its sample decoded as ``encoding`` (None: as detected), not re-hashed."""
    text, enc = _decode(src.raw, encoding)
    text = reader_text(text, src.newline)
    header_line, header = _first_nonblank_line(text)
    return replace(src, encoding=enc, sample=text, header_line=header_line, header=header)


def reader_text(text: str, newline: str) -> str:
    """``text`` with DuckDB's line breaks (in ``newline`` mode) as LF and no other break."""
    return _BREAK_TEXT[newline].sub("\n", text).translate(_NOT_BREAKS)


def rejected_lines_before(src: SourceFile, line: int) -> int:
    """How many of the first ``line`` lines DuckDB's reader rejects (invalid UTF-8)."""
    if src.encoding != "utf-8" or line <= 0:
        return 0
    raw = src.raw[3:] if src.raw.startswith(b"\xef\xbb\xbf") else src.raw
    lines = BREAK_BYTES[src.newline].split(raw, maxsplit=line)[:line]
    return sum(1 for text in lines if not _is_utf8(text))


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _check_regular_file(p: Path) -> None:
    if p.is_dir():
        raise _fail(p, "is a directory, not a file (name the files in it to ingest them)")
    if not p.exists():
        raise _fail(p, "no such file")
    if not p.is_file():
        raise _fail(p, "not a regular file")


def _crs_held(data: bytes) -> tuple[bytes, bytes]:
    """``data`` without the CRs it ends in, and those CRs: held over to the next block, so
    that a CR LF or a CR CR LF cut by a block's end is seen whole (a block ending between CR
    CR and LF read the first CR as lone, and a copy wrote one line break too many)."""
    body = data.rstrip(b"\r")
    return body, data[len(body) :]


class _LineEnds:
    """Whether the bytes fed, a block at a time, hold a CR LF and a lone CR (``_LONE_CR``):
    read while the file is hashed, so that no pass of its own is needed. The CRs a block
    ends in are held over to the next block (``_crs_held``), where what follows them is."""

    def __init__(self) -> None:
        self.crlf = self.lone_cr = False
        self._held = b""

    def feed(self, block: bytes) -> None:
        if not self._held and b"\r" not in block:  # an LF file: one memchr a block
            return
        body, self._held = _crs_held(self._held + block)
        self.crlf = self.crlf or b"\r\n" in body
        if not self.lone_cr and body.count(b"\r") != body.count(b"\r\n") + body.count(
            b"\r\r"
        ):  # the counts leave room for a lone one: the pattern says
            self.lone_cr = _LONE_CR.search(body) is not None


def _hash(p: Path, ends: _LineEnds | None = None) -> tuple[str, bool]:
    """sha256 of the bytes, and whether they are gzip (its magic number); ``ends`` fed
    the bytes."""
    sha = hashlib.sha256()
    ends = ends or _LineEnds()
    try:
        with p.open("rb") as f:
            head = f.read(2)
            sha.update(head)
            ends.feed(head)
            for block in iter(lambda: f.read(_BLOCK), b""):
                sha.update(block)
                ends.feed(block)
    except OSError as exc:
        raise _fail(p, f"cannot be read ({exc.strerror or exc})") from exc
    return sha.hexdigest(), head == b"\x1f\x8b"


def _inflated_hash(p: Path, ends: _LineEnds | None = None) -> str | None:
    """sha256 of a gzip file's content: the same table compressed again (another time in
    its header, another level) is the same release. None where the stream is damaged: the
    ingest refuses it later, naming the line where it breaks. ``ends`` fed the content."""
    sha = hashlib.sha256()
    ends = ends or _LineEnds()
    try:
        with gzip.open(p, "rb") as f:
            for block in iter(lambda: f.read(_BLOCK), b""):
                sha.update(block)
                ends.feed(block)
    except (OSError, EOFError, zlib.error):
        return None
    return sha.hexdigest()


def _sample(p: Path, gzipped: bool) -> bytes:
    """The file's first ``SAMPLE_BYTES`` (inflated). A gzip stream cut off or followed by
    junk within them gives what precedes the damage: ``verify_gzip`` then names it, and the
    line a cut stops in, as it does further on (the sample had failed first, naming no line)."""
    try:
        if not gzipped:
            with open(p, "rb") as f:
                return f.read(SAMPLE_BYTES)
        sample = bytearray()
        try:
            for piece in _inflated(p):
                sample += piece
                if len(sample) >= SAMPLE_BYTES:
                    break
        except (EOFError, ValueError):
            # the whole lines before the damage: a cut first line is no header to detect,
            # but a JSON document of one line (as the Comtrade API writes it) is its start
            whole = sample.rfind(b"\n") + 1
            if not whole and not sample.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
                raise
            sample = sample[:whole] if whole else sample
        return bytes(sample[:SAMPLE_BYTES])
    except EOFError as exc:
        raise _fail(
            p, "the gzip stream is cut off before its first line (the file is incomplete)"
        ) from exc
    except (OSError, ValueError, zlib.error) as exc:
        raise _fail(p, f"cannot be read as {'gzip' if gzipped else 'a file'} ({exc})") from exc


def looks_binary(raw: bytes) -> bool:
    """Is this the start of a binary file rather than a text table?

    Binary when the first line holds a NUL byte (UTF-16 text, most binary formats), or
    when control bytes are more than a few and more than 1% of the first 4 KB. A text
    table with a stray NUL or two further on is text: those lines are quarantined.
    """
    block = raw[:_BINARY_BLOCK]
    first = block.lstrip(b"\r\n\t ").split(b"\n", 1)[0]
    if b"\x00" in first:
        return True
    controls = len(block) - len(block.translate(None, _CONTROL))
    return controls > _MAX_STRAY_CONTROL and controls * 100 > len(block)


def verify_gzip(src: SourceFile) -> None:
    """Inflate the whole gzip file once, checking its CRC, before DuckDB reads it.

    DuckDB stops with an IO error at a cut-off stream but reads a corrupt one without a
    word (its lines garbled), so the stream is checked here, with bounded memory. A cut
    stream is an InputError naming the line it stops in (not for JSON, whose records are
    not lines), or the last line where it stops after it (in the stream's trailer, its
    checksum and size); a corrupt one is an InputError naming the file.
    """
    lines, ended = 0, True
    try:
        for piece in _inflated(src.path):
            lines += piece.count(b"\n")
            ended = piece.endswith(b"\n") if piece else ended
    except EOFError as exc:
        line = None if src.is_json else max(lines + (not ended), 1)
        raise src.fail("the gzip stream is cut off (the file is incomplete)", line) from exc
    except zlib.error as exc:
        raise src.fail(f"corrupt gzip data, the file is damaged ({exc})") from exc
    except ValueError as exc:
        raise src.fail(str(exc)) from exc
    except OSError as exc:
        raise src.fail(f"cannot be read ({exc.strerror or exc})") from exc


def _inflated(path: Path) -> Iterator[bytes]:
    """The inflated pieces of a gzip file; EOFError when the stream is cut off.

    Members joined one after another (``cat a.gz b.gz``) are read in turn, as gzip does.
    """
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    with path.open("rb") as f:
        for data in iter(lambda: f.read(_BLOCK), b""):
            while data:
                if inflater.eof:  # the next member, or junk after the last one
                    if not b"\x1f\x8b".startswith(data[:2]):
                        raise ValueError("unexpected bytes after the end of the gzip stream")
                    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                # max_length bounds memory however well the data compresses.
                yield inflater.decompress(data, _BLOCK)
                data = inflater.unconsumed_tail or inflater.unused_data
    if not inflater.eof:
        raise EOFError


@contextmanager
def readable(src: SourceFile) -> Iterator[SourceFile]:
    """The source with ``duckdb_path`` set to a path DuckDB reads as this very file.

    DuckDB globs a path holding ``*``, ``?`` or ``[`` (``data[1].csv`` reads ``data1.csv``).
    Such a file is read through a symbolic link with a plain name in a private temporary
    directory, so DuckDB still streams the file itself; where links cannot be made, the
    glob characters are escaped (``[[]``), which DuckDB matches to the one file.
    """
    full = os.path.abspath(src.path)  # a leading ~ would be taken for the home directory
    if not _GLOB_SPECIAL.intersection(full):
        yield replace(src, duckdb_path=full)
        return
    with tempfile.TemporaryDirectory(prefix="tradesentry-") as tmp:
        link = os.path.join(tmp, "input")
        try:
            os.symlink(full, link)
        except OSError:  # no symbolic links here (Windows without the privilege)
            link = full
        yield replace(src, duckdb_path=escape_glob(link))


def has_windows_1252_bytes(src: SourceFile) -> bool:
    """Does the file hold a byte in 0x80-0x9F, which DuckDB's latin-1 refuses?

    The sample decides when it holds one or is the whole file; otherwise the rest is
    searched a block at a time (a gzip file inflated), stopping at the first.
    """
    if _has_c1(src.raw):
        return True
    if len(src.raw) < SAMPLE_BYTES:
        return False
    opener = gzip.open if src.gzipped else open
    try:
        with opener(src.path, "rb") as f:
            f.seek(len(src.raw))
            return any(_has_c1(block) for block in iter(lambda: f.read(_BLOCK), b""))
    except (OSError, EOFError, zlib.error) as exc:
        raise src.fail(f"cannot be read ({exc})") from exc


def _has_c1(data: bytes) -> bool:
    return not data.isascii() and len(data.translate(None, _C1)) != len(data)


#: a CR that neither ends a CR LF nor starts a CR CR LF: in CR LF mode DuckDB ends a line
#: there and drops the byte after it ("…,2000\rCHN,…" read the next line as "HN,…", and
#: landed China's March as Honduras's)
_LONE_CR = re.compile(rb"\r(?![\r\n])")


def _blocks(src: SourceFile) -> Iterator[bytes]:
    """The file's bytes a block at a time (a gzip file inflated), the CRs a block ends in
    held over to the next (``_crs_held``), so that what follows them is seen with them."""
    opener = gzip.open if src.gzipped else open
    held = b""
    try:
        with opener(src.path, "rb") as f:
            for block in iter(lambda: f.read(_BLOCK), b""):
                body, held = _crs_held(held + block)
                yield body
    except (OSError, EOFError, zlib.error) as exc:
        raise src.fail(f"cannot be read ({exc})") from exc
    if held:
        yield held


def has_lone_cr(src: SourceFile) -> bool:
    """Does a CR LF file hold a lone CR (``_LONE_CR``)? Learnt as the file was hashed."""
    return src.newline == CRLF and src.lone_cr


@contextmanager
def readable_copy(src: SourceFile, *, to_utf8: bool, lone_crs: bool) -> Iterator[str]:
    """The path of a copy of the file for DuckDB to read, uncompressed, in one pass a block
    at a time (a gzip file inflated), into a private temporary directory removed afterwards:

    - ``to_utf8``: latin-1 read as Windows-1252 and written as UTF-8. DuckDB's latin-1
      refuses the whole file at a byte in 0x80-0x9F (``File is not latin-1 encoded``),
      which Windows text holds (€, curly quotes, dashes).
    - ``lone_crs``: each lone CR (``_LONE_CR``) written CR LF. In CR LF mode DuckDB ends a
      line at a lone CR and drops the byte after it; CR LF is the line break the lines are
      numbered by (``_BREAKS``), so none is lost.

    Line breaks are the same lines in the copy (a CR is the same byte in both encodings),
    so lines keep their numbers."""
    with tempfile.TemporaryDirectory(prefix="tradesentry-") as tmp:
        copy = os.path.join(tmp, "input.csv")
        with open(copy, "wb") as out:
            for block in _blocks(src):
                if to_utf8:
                    block = block.decode("cp1252", errors=WINDOWS_1252_ERRORS).encode("utf-8")
                if lone_crs:
                    block = _LONE_CR.sub(b"\r\n", block)
                out.write(block)
        yield copy


def escape_glob(path: str) -> str:
    """``path`` with its glob characters in brackets, so DuckDB's glob matches only itself.

    For a path DuckDB must glob on purpose (``DIR/*.parquet``), escape the literal part.
    DuckDB splits a glob on backslashes too, so a POSIX name holding one cannot be escaped.
    """
    return "".join(f"[{c}]" if c in "*?[" else c for c in path)


def _decode(raw: bytes, encoding: str | None) -> tuple[str, str]:
    if raw.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte-order mark settles it, whatever was
        return raw[3:].decode("utf-8", errors="replace"), "utf-8"  # asked (Excel's CSV UTF-8)
    if encoding:
        if encoding.lower().replace("_", "-") in {"latin-1", "iso-8859-1", "latin1"}:
            return _latin_1(raw), "latin-1"
        return raw.decode("utf-8", errors="replace"), "utf-8"
    # The header decides: a file whose first lines are valid UTF-8 is read as UTF-8 and a bad
    # line later on is quarantined; a file that is not UTF-8 from the start is latin-1,
    # unless other lines of its sample are UTF-8 beyond ASCII (latin-1 text almost never
    # forms such sequences): one latin-1 line near the top had turned a UTF-8 file's every
    # "Réunion" into "RÃ©union", and its lines quarantined as unknown countries.
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        # a character cut by the sample's end: only a sample shorter than its file has one
        # (a short file's last byte é in latin-1 also reads "unexpected end of data")
        if exc.reason == "unexpected end of data" and len(raw) >= SAMPLE_BYTES:
            return raw[: exc.start].decode("utf-8"), "utf-8"
        first_lines = raw[: raw.find(b"\n", raw.find(b"\n") + 1) + 1 or len(raw)]
        header = raw[: raw.find(b"\n") + 1 or len(raw)]
        if _is_utf8(first_lines) or (_is_utf8(header) and _has_utf8_beyond_ascii(raw)):
            return raw.decode("utf-8", errors="replace"), "utf-8"
        return _latin_1(raw), "latin-1"


def _has_utf8_beyond_ascii(raw: bytes) -> bool:
    """Whether a line of ``raw`` holds a character beyond ASCII and is valid UTF-8."""
    return any(not line.isascii() and _is_utf8(line) for line in raw.split(b"\n")[:-1])


def _latin_1(raw: bytes) -> str:
    """Text read as latin-1 is read as Windows-1252 (see WINDOWS_1252_ERRORS)."""
    return raw.decode("cp1252", errors=WINDOWS_1252_ERRORS)


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
