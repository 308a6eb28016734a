"""The file itself: read literally whatever its name, refused in one line when it is not a
text table (a directory, binary content, a cut or corrupt gzip), and a stray NUL is no
reason to refuse a text file."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import zipfile
from pathlib import Path

import pytest

from tests.ingest.kit import FORMATS, record
from tradesentry.errors import InputError
from tradesentry.ingest.source import SAMPLE_BYTES, looks_binary

GOOD = [record(), record(flow="import", value="1754000"), record(month="03", value="12978000")]
DECOY = [record(partner="KOR", value="1"), record(partner="JPN", value="2")]
# Formats read by DuckDB's CSV reader, and by its JSON reader.
READERS = [FORMATS["canonical"], FORMATS["sdmx"], FORMATS["comtrade-json"]]


def observed(store) -> list[tuple]:
    return sorted((r.partner, r.flow, r.value) for r in store.observations().itertuples())


def expected(records) -> list[tuple]:
    return sorted((r["partner"], r["flow"], float(r["value"])) for r in records)


# -- names DuckDB would not take literally ---------------------------------------------------

# A file name, and a decoy name that it would match as a glob (or None).
NAMES = [
    ("data[1]", "data1"),
    ("a**", "ab"),
    ("what?", "whatX"),
    ("~x", None),
    ("{a,b}", "a"),
    ("back\\slash[1]", None),
    ('it\'s "quoted" ; -- x', None),
    ("中国 朝鲜 données", None),
    ("new\nline", None),
]


@pytest.mark.parametrize("fmt", READERS, ids=lambda f: f.name)
@pytest.mark.parametrize(("stem", "decoy"), NAMES, ids=[repr(n) for n, _ in NAMES])
def test_the_named_file_is_read_whatever_its_name(store, tmp_path, monkeypatch, fmt, stem, decoy):
    monkeypatch.chdir(tmp_path)  # a relative name, as typed on the command line
    path = fmt.file(tmp_path, GOOD, stem=stem)
    if decoy:
        fmt.file(tmp_path, DECOY, stem=decoy)
    result = store.ingest(Path(path.name), **fmt.ingest_args(tmp_path))
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert result.file == path.name
    assert observed(store) == expected(GOOD)


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
def test_a_directory_with_glob_characters_is_read_literally(store, tmp_path, gzipped):
    fmt = FORMATS["canonical"]
    for folder, records in (("dir[1]*", GOOD), ("dir1x", DECOY)):
        (tmp_path / folder).mkdir()
        data = fmt.write(records)
        (tmp_path / folder / "release.csv").write_bytes(gzip.compress(data) if gzipped else data)
    store.ingest(tmp_path / "dir[1]*" / "release.csv")
    assert observed(store) == expected(GOOD)


def test_where_no_symbolic_link_can_be_made_the_name_is_escaped(store, tmp_path, monkeypatch):
    def no_links(*args, **kwargs):
        raise OSError("symbolic links are not allowed here")

    monkeypatch.setattr(os, "symlink", no_links)
    fmt = FORMATS["canonical"]
    path = fmt.file(tmp_path, GOOD, stem="data[1]*?")
    fmt.file(tmp_path, DECOY, stem="data1xy")
    store.ingest(path)
    assert observed(store) == expected(GOOD)


# -- what is not a text table ----------------------------------------------------------------


def test_a_directory_is_named_as_such(store, tmp_path):
    with pytest.raises(InputError, match=rf"^{re.escape(str(tmp_path))}: is a directory, not a"):
        store.ingest(tmp_path)
    assert store.releases().empty


def test_an_error_is_one_line_whatever_the_file_name_holds(store, tmp_path):
    path = tmp_path / "two\nlines.csv"
    path.write_bytes(b"")
    with pytest.raises(InputError, match=r"two\\nlines\.csv: the file is empty$") as err:
        store.ingest(path)
    assert "\n" not in str(err.value)


TEXT = b"reporter,partner,flow,commodity,period,value\nCHN,PRK,export,TOTAL,2021-01,5\n"


@pytest.mark.parametrize(
    ("data", "binary"),
    [
        (TEXT * 50, False),
        (TEXT * 20 + b"CHN,PRK,export,TO\x00TAL,2021-02,5\n" + TEXT * 20, False),  # one stray
        (TEXT.replace(b"\n", b"\x00\n", 1) * 50, True),  # in the header line
        ("reporter,partner\n".encode("utf-16"), True),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), True),
        (b"\x7fELF\x02\x01\x01\n" + bytes(4000), True),
    ],
    ids=["text", "stray NUL", "NUL in header", "utf-16", "png", "elf"],
)
def test_what_counts_as_binary(data, binary):
    assert looks_binary(data) is binary


def _zipped(name: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, TEXT.decode())
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("table.csv", TEXT.decode().encode("utf-16"), "UTF-16 text (Excel's 'Unicode Text'): "
         "save it as UTF-8 CSV"),
        ("table.csv", TEXT.decode().encode("utf-16-le"), "UTF-16 text without a byte-order "
         "mark: save it as UTF-8 CSV"),
        ("table.csv", TEXT.decode().encode("utf-32"), "UTF-32 text: save it as UTF-8 CSV"),
        ("table.zip", _zipped("table.csv"), "a zip archive: extract the table from it first"),
        ("book.xlsx", _zipped("xl/workbook.xml"), "an Excel workbook: save the sheet as CSV"),
        ("book.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4000),
         "an Excel workbook (.xls): save the sheet as CSV"),
        ("image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
         "not a text table (unknown format)"),
    ],
    ids=["utf-16", "utf-16-le", "utf-32", "zip", "xlsx", "xls", "png"],
)  # fmt: skip
def test_a_binary_file_is_named_for_what_it_is(store, tmp_path, name, data, reason):
    """UTF-16 (Excel's "Unicode Text"), a zip or a workbook were all "binary content, not a
    text table (unknown format)": the message says what the file is and what to do."""
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(InputError) as err:
        store.ingest(path)
    assert str(err.value) == f"{path}: binary content, {reason}"


# -- compressed files that are cut off or damaged ------------------------------------------


def big_gzip(fmt, tmp_path: Path) -> tuple[Path, bytes]:
    """A path for a gzip file of ``fmt``, and gzip bytes holding well over the megabyte the
    header check samples."""
    records = [record(commodity=str(1000 + i)) for i in range(200)]
    data = fmt.write(records)
    while len(data) < 3 * SAMPLE_BYTES:
        records += records
        data = fmt.write(records)
    path = tmp_path / f"big{fmt.suffix}.gz"
    return path, gzip.compress(data, compresslevel=1)


@pytest.mark.parametrize("size", ["big", "small"])
@pytest.mark.parametrize("fmt", READERS, ids=lambda f: f.name)
def test_a_cut_off_gzip_is_one_line_naming_the_file_and_nothing_is_stored(
    store, tmp_path, fmt, size
):
    """Cut past the header check's sample or within it (a small file: the sample failed
    first, and its error named no line; a JSON response of one line was "cut off before its
    first line")."""
    path, data = big_gzip(fmt, tmp_path)
    if size == "small":
        data = gzip.compress(fmt.write([record(commodity=str(1000 + i)) for i in range(200)]))
    path.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(InputError) as err:
        store.ingest(path, **fmt.ingest_args(tmp_path))
    message = str(err.value)
    line = "" if fmt.name == "comtrade-json" else r":\d+"  # JSON records are not lines
    cut = r"the gzip stream is cut off \(the file is incomplete\)"
    assert re.fullmatch(rf"{re.escape(str(path))}{line}: {cut}", message)
    assert store.releases().empty and store.observations(current=False).empty


def test_a_cut_off_gzip_of_one_line_of_json_is_no_cut_first_line(store, tmp_path):
    """A Comtrade response as the API writes it is one line: cut within it, it was "cut off
    before its first line", as a table cut in its header is."""
    path = tmp_path / "answer.json.gz"
    written = FORMATS["comtrade-json"].write([record(month=f"{m:02d}") for m in range(1, 13)])
    one_line = json.dumps(json.loads(written)).encode()
    assert b"\n" not in one_line
    path.write_bytes(gzip.compress(one_line)[: len(gzip.compress(one_line)) * 9 // 10])
    with pytest.raises(InputError) as err:
        store.ingest(path)
    assert str(err.value) == f"{path}: the gzip stream is cut off (the file is incomplete)"


def test_a_gzip_cut_in_its_trailer_names_the_last_line(store, tmp_path):
    """Every line inflated, the checksum and size missing: the stream stops after the last
    line, not in a line past it (a file of 3 lines was cut "at line 4")."""
    path = tmp_path / "cut.csv.gz"
    data = FORMATS["canonical"].write(GOOD)
    lines = data.count(b"\n")
    path.write_bytes(gzip.compress(data)[:-4])
    with pytest.raises(InputError) as err:
        store.ingest(path)
    assert str(err.value).startswith(f"{path}:{lines}: the gzip stream is cut off")


def test_a_gzip_cut_off_before_its_first_line_says_so(store, tmp_path):
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(gzip.compress(FORMATS["canonical"].write(GOOD))[:15])
    with pytest.raises(InputError) as err:
        store.ingest(path)
    assert str(err.value) == (
        f"{path}: the gzip stream is cut off before its first line (the file is incomplete)"
    )
    assert store.releases().empty


def test_a_corrupt_gzip_is_refused(store, tmp_path):
    fmt = FORMATS["canonical"]
    path, data = big_gzip(fmt, tmp_path)
    damaged = bytearray(data)
    damaged[len(data) // 2] ^= 0xFF  # DuckDB would read garbled lines without a word
    path.write_bytes(bytes(damaged))
    with pytest.raises(InputError, match=rf"^{re.escape(str(path))}: corrupt gzip data"):
        store.ingest(path)
    assert store.releases().empty


def test_gzip_members_joined_are_read_in_turn(store, tmp_path):
    fmt = FORMATS["canonical"]
    path = tmp_path / "joined.csv.gz"
    rest = fmt.write(GOOD[1:]).split(b"\n", 1)[1]  # the second member without a header
    path.write_bytes(gzip.compress(fmt.write(GOOD[:1])) + gzip.compress(rest))
    store.ingest(path)
    assert observed(store) == expected(GOOD)


def test_a_file_duckdb_cannot_read_is_one_line_naming_it(store, tmp_path, monkeypatch):
    """Whatever DuckDB's reader stops at, the error names the file, not DuckDB's path to it."""
    monkeypatch.setattr("tradesentry.ingest.verify_gzip", lambda src: None)
    _, data = big_gzip(FORMATS["canonical"], tmp_path)
    path = tmp_path / "cut[1].csv.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError) as err:
        store.ingest(path)
    message = str(err.value)
    assert message.startswith(f"{path}: cannot be read (") and "\n" not in message
    assert os.sep + "input" not in message  # the link DuckDB was given stays out of it
    assert store.releases().empty
