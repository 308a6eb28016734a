"""Lines and records: every data line of a file is numbered as DuckDB reads it, lands or is
quarantined once, whatever comes before the header, however lines end, and whatever the
text holds (invalid UTF-8, Windows-1252 bytes read as latin-1, a line break in quotes); a
file of several Comtrade API responses is read whole, each response checked."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from tests.ingest.kit import FORMATS, comtrade_fields, record
from tradesentry.errors import InputError
from tradesentry.ingest.source import CRLF, LF
from tradesentry.store import open_store

HEADER = b"reporter,partner,flow,commodity,period,value"
ROWS = [b"CHN,USA,export,TOTAL,2021-01,100", b"CHN,USA,import,TOTAL,2021-01,200"]
LANDED = [("export", 100.0), ("import", 200.0)]


def ingest(store, path: Path, **kwargs):
    """Ingest and check that nothing is lost: counts reconcile, and the quarantine holds
    exactly rows_quarantined lines, each once, each with a one-line reason."""
    result = store.ingest(path, **kwargs)
    assert result.rows_read == result.rows_accepted + result.rows_quarantined
    q = store.quarantine()
    assert len(q) == result.rows_quarantined, q
    assert q.line.is_unique, q
    for reason in q.reason:
        assert "\n" not in reason and len(reason) < 200, reason
    return result


def landed(store) -> list[tuple]:
    return sorted((r.flow, r.value) for r in store.observations().itertuples())


def quarantined(store) -> list[tuple]:
    return [(r.line, r.raw, r.reason) for r in store.quarantine().itertuples()]


# -- 1. the first data line, whatever comes before the header --------------------------------

MAPPING = b"""[file]
separator = ";"
skip_lines = 2
[period]
column = "Date"
format = "%Y/%m"
[values]
currency = "JPY"
[fixed]
reporter = "JPN"
partner = "CHN"
[wide]
Exports = "export"
Imports = "import"
"""


# Lines before the header (a mapping skips two), and the line end.
TITLES = {
    "latin-1 titles, UTF-8 read": (b"Au\xdfenhandel", b"Ver\xf6ffentlichung", b"\n"),
    "two invalid UTF-8 titles, CR LF": (b"\xff", b"\xfe", b"\r\n"),
    "CR CR LF line ends": (b"Titel", b"Stand", b"\r\r\n"),
    "a form feed": (b"Titel\x0cSeite 1", b"Stand", b"\n"),
    "a vertical tab": (b"Titel\x0bSeite 1", b"Stand", b"\n"),
    "NEL": ("Titel\x85Seite 1".encode(), b"Stand", b"\n"),
    "LINE SEPARATOR": ("Titel\u2028Seite 1".encode(), "Stand\u2029".encode(), b"\n"),
}


@pytest.mark.parametrize(("first", "second", "end"), TITLES.values(), ids=list(TITLES))
def test_title_lines_before_a_mapped_header_keep_the_first_month(
    store, tmp_path, first, second, end
):
    path = tmp_path / "japan.csv"
    lines = [first, second, b"Date;Exports;Imports", b"2001/01;1;2", b"2001/02;x;4"]
    path.write_bytes(end.join(lines) + end)
    (tmp_path / "japan.toml").write_bytes(MAPPING)
    result = ingest(store, path, mapping=tmp_path / "japan.toml")
    assert (result.rows_read, result.rows_quarantined, result.observations) == (2, 1, 3)
    obs = store.observations()
    assert sorted(zip(obs.period.dt.strftime("%Y-%m"), obs.flow, obs.value, strict=True)) == [
        ("2001-01", "export", 1.0), ("2001-01", "import", 2.0), ("2001-02", "import", 4.0),
    ]  # fmt: skip
    assert quarantined(store) == [(5, "2001/02;x;4", "Exports: value 'x' is not a number")]


# Blank lines before a canonical header, as Python and DuckDB see them differently.
BLANK = {
    "CR CR LF line ends": (b"\r\r\n", b"\r\r\n"),
    "form feed": (b"\x0c\n", b"\n"),
    "vertical tab": (b"\x0b\n", b"\n"),
    "file separator": (b"\x1c\n", b"\n"),
    "NEL": ("\x85\n".encode(), b"\n"),
    "LINE SEPARATOR": ("\u2028\n".encode(), b"\n"),
    "form feed, CR LF": (b"\x0c\r\n", b"\r\n"),
}


@pytest.mark.parametrize(("before", "end"), BLANK.values(), ids=list(BLANK))
def test_the_first_data_line_is_never_taken_for_the_header(store, tmp_path, before, end):
    path = tmp_path / "release.csv"
    bad = b"CHN,USA,transit,TOTAL,2021-01,1"
    path.write_bytes(before + end.join([HEADER, *ROWS, bad]) + end)
    result = ingest(store, path)
    assert (result.rows_read, result.rows_accepted) == (3, 2)
    assert landed(store) == LANDED
    assert quarantined(store) == [(5, bad.decode(), "unknown flow 'transit'")]


# -- 2. invalid UTF-8 lines, one after another -----------------------------------------------


def _lines(n: int, bad: set[int]) -> list[bytes]:
    """Data lines A, B, C… (commodity = letter, value = its number); those in ``bad``
    (1-based among the data lines) end with an invalid UTF-8 byte."""
    return [
        f"CHN,USA,export,{chr(64 + i)},2021-01,{i}".encode() + (b"\xff" if i in bad else b"")
        for i in range(1, n + 1)
    ]


@pytest.mark.parametrize(
    ("n", "bad"),
    [(4, {2, 3}), (5, {2, 3, 4}), (4, {1, 2}), (4, {3, 4}), (6, {1, 3, 4, 6}), (3, {1, 2, 3})],
    ids=["two", "three", "first two", "last two", "scattered", "all"],
)
@pytest.mark.parametrize("end", [b"\n", b"\r\n"], ids=["LF", "CRLF"])
def test_consecutive_invalid_utf_8_lines_keep_every_line_number(store, tmp_path, n, bad, end):
    path = tmp_path / "release.csv"
    path.write_bytes(HEADER + end + end.join(_lines(n, bad)) + end)
    result = ingest(store, path, encoding="utf-8")  # not latin-1, as a bad line 1 would say
    assert (result.rows_read, result.rows_quarantined) == (n, len(bad))
    # data line i is physical line i + 1; a good one lands, a bad one is quarantined
    obs = store.observations()
    assert sorted(obs.commodity) == [chr(64 + i) for i in range(1, n + 1) if i not in bad]
    q = store.quarantine()
    assert q.line.tolist() == sorted(i + 1 for i in bad)
    assert [r.split(",")[3] for r in q.raw] == [chr(64 + i) for i in sorted(bad)]
    assert q.reason.str.startswith("invalid text: not valid UTF-8").all()


@pytest.mark.parametrize(
    ("end", "lone_cr"),
    [(b"\n", False), (b"\r\n", False), (b"\r\r\n", False), (b"\r\n", True)],
    ids=["LF", "CRLF", "CRCRLF", "CRLF-lone-CR"],
)
@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
def test_an_undecodable_line_keeps_every_character_of_it(store, tmp_path, end, lone_cr, gzipped):
    """DuckDB wrote each bad byte as '?' and dropped the characters after it: 'Côte' in
    latin-1 was kept as 'C??e', and '\xf4bad' as '??ad'. The quarantine keeps the line, its
    bad bytes escaped, under its own number, and the good lines after it keep theirs: in
    CR CR LF (Python's csv writer on Windows) a latin-1 line 30 of 48 was "line 59" and
    every good line after it one number too low; a lone CR (two files joined) lost the
    line's text to DuckDB's."""
    import gzip

    lines = [
        b"CHN,PRK,export,TOTAL,2021-01,1,ok",
        b"CHN,PRK,export,TOTAL,2021-02,2,C\xf4te",
        b"CHN,PRK,export,TOTAL,2021-03,2,\xf4bad",
        b"CHN,PRK,export,TOTAL,2021-04,4,ok",
    ]
    data = end.join([b"reporter,partner,flow,commodity,period,value,note", *lines]) + end
    if lone_cr:  # the first line ends with a lone CR: one file of CR lines joined to it
        data = data.replace(b"ok" + end, b"ok\r", 1)
    path = tmp_path / ("release.csv.gz" if gzipped else "release.csv")
    path.write_bytes(gzip.compress(data) if gzipped else data)
    ingest(store, path, encoding="utf-8")
    q = store.quarantine()
    assert q.raw.tolist() == [
        "CHN,PRK,export,TOTAL,2021-02,2,C\\xf4te",
        "CHN,PRK,export,TOTAL,2021-03,2,\\xf4bad",
    ]
    assert q.line.tolist() == [3, 4]
    assert store.observations().sort_values("period")["line"].tolist() == [2, 5]


@pytest.mark.parametrize("newline", [CRLF, LF], ids=["CRLF-mode", "LF-mode"])
@pytest.mark.parametrize("block", [1, 2, 3, 7, 64])
def test_rejected_lines_are_located_across_blocks(monkeypatch, newline, block):
    """A rejected line's number and bytes from its position, the file read in blocks of
    any size: a break split between two blocks (CR | LF, CR | CR LF) is one break."""
    import io
    import random

    from tradesentry.ingest import lines as lines_module
    from tradesentry.ingest.source import BREAK_BYTES

    monkeypatch.setattr(lines_module, "LOCATE_BLOCK", block)
    rng = random.Random(block)
    pieces = [b"a", b"bb", b"c\xf4", b"dddd", b""]
    ends = [b"\r\r\n", b"\r\n", b"\n", b"\r"]
    data = b"".join(rng.choice(pieces) + rng.choice(ends) for _ in range(60)) + b"last"
    breaks = BREAK_BYTES[newline]
    starts = [0] + [m.end() for m in breaks.finditer(data)]
    texts = breaks.split(data)
    wanted = sorted({rng.randrange(len(starts)) for _ in range(20)})
    positions = [starts[i] for i in wanted]
    located = lines_module._located(io.BytesIO(data), positions, newline == CRLF)
    assert [(line, text) for _, line, text in located] == [
        (i + 1, texts[i].decode("utf-8", "backslashreplace")) for i in wanted
    ]


# -- 3. CR CR LF line ends (Python's csv writer on Windows without newline='') ----------------

LINE_FORMATS = [f for f in FORMATS.values() if f.name != "comtrade-json"]
GOOD = [record(), record(flow="import", value="1754000"), record(month="03", value="12978000")]


@pytest.mark.parametrize("fmt", LINE_FORMATS, ids=lambda f: f.name)
@pytest.mark.parametrize("end", [b"\r\r\n", b"\r\n", b"\r"], ids=["CRCRLF", "CRLF", "CR"])
def test_any_line_end_reads_as_ordinary_lines(store, tmp_path, fmt, end):
    records = [*GOOD, record(flow="transit", commodity="99")]  # the last one is bad
    path = tmp_path / f"release{fmt.suffix}"
    text = fmt.write(records)
    path.write_bytes(text.replace(b"\n", end))
    result = ingest(store, path, **fmt.ingest_args(tmp_path))
    assert result.rows_read == len(records) * fmt.lines_per_record
    assert result.rows_quarantined == fmt.lines_per_record
    assert len(store.observations()) == len(GOOD)
    line = 2 + len(GOOD) * fmt.lines_per_record  # the bad record's first line
    q = store.quarantine()
    assert q.line.iloc[0] == line
    assert "transit" in q.reason.iloc[0]
    assert q.raw.iloc[0] == text.splitlines()[line - 1].decode("latin-1")


@pytest.mark.parametrize("fmt", LINE_FORMATS, ids=lambda f: f.name)
@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
def test_a_lone_cr_in_a_crlf_file_loses_no_character_of_the_next_line(
    store, tmp_path, fmt, gzipped
):
    """Two files joined, one with CR line ends: in CR LF mode DuckDB ends a line at a lone
    CR and drops the byte after it, and the next record landed damaged ("CHN" read as
    "HN", Honduras; a value 7000 as 000; a classification H5 as 5), nothing quarantined.
    Such a file is read from a copy whose lone CRs are CR LF: every record lands whole,
    and a bad one keeps its line number."""
    records = [*GOOD, record(flow="transit", commodity="99")]
    text = fmt.write(records)
    lines = text.split(b"\n")
    lines = [line + (b"\r" if i == 1 else b"\r\n") for i, line in enumerate(lines[:-1])]
    body = b"".join(lines)
    assert body.count(b"\r") - body.count(b"\r\n") == 1  # one lone CR, after line 2
    path = tmp_path / f"release{fmt.suffix}{'.gz' if gzipped else ''}"
    path.write_bytes(gzip.compress(body) if gzipped else body)
    result = ingest(store, path, **fmt.ingest_args(tmp_path))
    assert result.rows_read == len(records) * fmt.lines_per_record
    assert result.rows_quarantined == fmt.lines_per_record
    with open_store(tmp_path / "reference.duckdb") as reference:
        ingest(reference, fmt.file(tmp_path, GOOD, "reference"), **fmt.ingest_args(tmp_path))
        expected = reference.observations()
    columns = ["reporter", "partner", "flow", "classification", "commodity", "period", "value"]
    got = store.observations()[columns].sort_values(columns).reset_index(drop=True)
    assert got.equals(expected[columns].sort_values(columns).reset_index(drop=True))
    assert store.quarantine().line.iloc[0] == 2 + len(GOOD) * fmt.lines_per_record


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
def test_a_cr_cr_lf_cut_by_a_block_keeps_the_line_numbers_after_it(store, tmp_path, gzipped):
    """The file is read a megabyte at a time to find its line ends: a block ending between
    CR CR and LF read the first CR as lone (a needless copy of the file), and the copy
    wrote one line break too many, so every quarantined line after it was named one line
    on. The CRs a block ends in are held over to the next."""
    head = HEADER + b"\r\n" + b"CHN,PRK,export,000000,2021-01,1\r2\n"  # a lone CR: a copy
    line = b"CHN,PRK,export,%06d,2021-01,1000\r\r\n"
    rows, body = 1, bytearray(head)
    while len(body) + 2 * len(line % 0) <= (1 << 20):
        body += line % rows
        rows += 1
    start = b"CHN,PRK,export,%06d,2021-01,1" % rows
    pad = (1 << 20) - 2 - len(body) - len(start)  # its CR CR end the block, its LF the next
    body += start + b"0" * pad + b"\r\r\n"
    rows += 1
    assert body[(1 << 20) - 2 : (1 << 20)] == b"\r\r" and body[1 << 20] == ord("\n")
    body += b"CHN,PRK,export,999999,2021-01,xx\r\r\n"
    path = tmp_path / ("cut.csv.gz" if gzipped else "cut.csv")
    path.write_bytes(gzip.compress(bytes(body)) if gzipped else bytes(body))
    ingest(store, path)
    bad = store.quarantine()
    assert list(bad.line[bad.raw.str.contains("xx")]) == [rows + 3]  # header, 2 lines at the CR


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
def test_cr_lf_lines_after_the_first_megabyte_keep_their_numbers(store, tmp_path, gzipped):
    """An LF file and a CR LF file joined with `cat`, the CR LF lines after the first
    megabyte: the mode was chosen from that megabyte, and each CR LF counted as two lines
    (a bad value on line 40,007 was named on line 40,012). The mode is now chosen from the
    whole file, as it is hashed."""
    lf = b"".join(b"CHN,PRK,export,%06d,2021-01,1000\n" % i for i in range(40_000))
    assert len(lf) > (1 << 20)
    crlf = b"CHN,KOR,export,TOTAL,2021-01,5\r\n" * 5 + b"CHN,KOR,export,TOTAL,2021-02,xx\r\n"
    body = HEADER + b"\n" + lf + crlf
    path = tmp_path / ("joined.csv.gz" if gzipped else "joined.csv")
    path.write_bytes(gzip.compress(body) if gzipped else body)
    result = ingest(store, path)
    assert result.rows_read == 40_006
    bad = store.quarantine()
    assert list(bad.line[bad.raw.str.contains("xx")]) == [40_007]


@pytest.mark.parametrize(
    ("start", "advice"),
    [(b"", "(pass --encoding latin-1 for latin-1 files)"),
     (b"\xef\xbb\xbf", "(the file starts with UTF-8's byte order mark: save it as UTF-8 "
                       "again, or remove the mark and pass --encoding latin-1)")],
    ids=["no-mark", "utf-8-mark"],
)  # fmt: skip
def test_a_latin_1_line_says_what_to_do_about_it(store, tmp_path, start, advice):
    """A UTF-8 byte order mark makes a file UTF-8 whatever --encoding says: its latin-1
    line had the advice to pass --encoding latin-1, which read the file the same way."""
    path = tmp_path / "mark.csv"
    path.write_bytes(start + HEADER + b"\nCHN,CIV,export,TOTAL,2021-01,1\nC\xf4te,CHN,x,y,z,1\n")
    ingest(store, path)
    (reason,) = store.quarantine().reason
    assert reason == f"invalid text: not valid UTF-8 {advice}"


def test_a_comtrade_csv_with_cr_cr_lf_reads_as_with_lf(store, tmp_path):
    data = Path(__file__).parents[1] / "data" / "comtrade_plus.csv"
    with open_store(tmp_path / "reference.duckdb") as reference:
        expected = ingest(reference, data)
        expected_q = quarantined(reference)
    path = tmp_path / "crcrlf.csv"
    path.write_bytes(data.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\r\n"))
    result = ingest(store, path)
    counts = ("rows_read", "rows_accepted", "rows_quarantined", "observations")
    assert [getattr(result, c) for c in counts] == [getattr(expected, c) for c in counts]
    assert quarantined(store) == expected_q


# -- 4. a line break inside a quoted field ---------------------------------------------------

NOTE = HEADER + b",note\n"


@pytest.mark.parametrize(
    ("lines", "last", "read"),
    [
        ([b'CHN,USA,export,TOTAL,2021-01,100,"line1', b'line2"'], 3, 2),
        ([b'CHN,USA,export,TOTAL,2021-01,"1', b'234",x'], 3, 2),
        ([b'CHN,USA,export,TOTAL,2021-01,100,"a ""quoted"" word', b"", b'and, more"'], 4, 2),
        ([b'CHN,USA,export,TOTAL,2021-01,100,"x', b'y",', b'z"'], 3, 3),  # then a stray quote
    ],
    ids=["note", "value", "escaped quotes and a blank line", "then a stray quote"],
)
def test_a_record_with_a_line_break_in_quotes_is_quarantined_once(
    store, tmp_path, lines, last, read
):
    path = tmp_path / "release.csv"
    path.write_bytes(NOTE + b"\n".join([*lines, b"CHN,USA,import,TOTAL,2021-01,200,ok"]) + b"\n")
    result = ingest(store, path)
    assert landed(store) == [("import", 200.0)]  # never half a record
    q = store.quarantine()
    assert q.line.iloc[0] == 2
    assert q.raw.iloc[0] == b"\n".join(lines[: last - 1]).decode()
    assert q.reason.iloc[0] == (
        f"a quoted field holds a line break (the record runs over lines 2-{last}): "
        "a record must be one line"
    )
    assert result.rows_read == read


UNCLOSED = "a quoted field opens on this line and is not closed (a line break in quotes?)"


@pytest.mark.parametrize(
    ("header", "line", "reason"),
    [
        (NOTE, b'CHN,USA,export,TOTAL,2021-01,100,"cut off', UNCLOSED),
        (HEADER + b"\n", b'CHN,USA,export,TOTAL,2021-01,"1', UNCLOSED),  # would land 1
        (NOTE, b'CHN,USA,export,TOTAL,2021-01,"1', "expected 7 fields, found 6"),
    ],
    ids=["last field", "value", "too few fields"],
)
def test_a_quote_that_never_closes_quarantines_its_line(store, tmp_path, header, line, reason):
    path = tmp_path / "release.csv"
    ok = b"CHN,USA,import,TOTAL,2021-01,200" + (b",ok" if header == NOTE else b"")
    path.write_bytes(header + ok + b"\n" + line + b"\n")
    ingest(store, path)
    assert landed(store) == [("import", 200.0)]
    assert quarantined(store) == [(3, line.decode(), reason)]


def test_stray_quotes_take_no_good_line_with_them(store, tmp_path):
    """Inch marks (a quote inside an unquoted field) are no quoted line break."""
    rows = [
        b'CHN,USA,export,TOTAL,2021-01,100,12" screens',
        b"CHN,USA,import,TOTAL,2021-01,200,plain",
        b'CHN,USA,export,TOTAL,2021-02,300,5" pipes',
    ]
    path = tmp_path / "release.csv"
    path.write_bytes(NOTE + b"\n".join(rows) + b"\n")
    result = ingest(store, path)
    assert (result.rows_read, result.rows_accepted) == (3, 3)


NOTED = b"note,reporter,partner,flow,commodity,period,value\n"


@pytest.mark.parametrize(
    ("line", "note", "value"),
    [
        (b'12" screens,CHN,USA,export,TOTAL,2021-01,100', '12" screens', 100.0),
        (b'"a, b",CHN,USA,export,TOTAL,2021-01,"1,5"', "a, b", None),
        (b'5" pipes,CHN,USA,export,TOTAL,2021-01,"7"', '5" pipes', 7.0),
        (b'"say ""hi""",CHN,USA,export,TOTAL,2021-01,8', 'say "hi"', 8.0),
        (b'"x", CHN, USA, export, TOTAL, 2021-01, "9"', "x", 9.0),
        (b'he said "hi" twice,CHN,USA,export,TOTAL,2021-01,10', 'he said "hi" twice', 10.0),
    ],
    ids=["inch mark", "quoted delimiters", "inch mark and a quoted value", "escaped quotes",
         "blanks around quotes", "quotes inside a field"],
)  # fmt: skip
def test_a_quote_inside_a_field_is_kept_and_takes_no_delimiter(store, tmp_path, line, note, value):
    """A quote opens a quoted field only at the field's start (as Python's csv reads a
    line): an inch mark before other fields once masked their delimiters, and the line
    lost its width."""
    path = tmp_path / "release.csv"
    path.write_bytes(NOTED + line + b"\n")
    result = ingest(store, path)
    if value is None:  # "1,5" is one field, and no number with a comma as the decimal mark
        assert result.rows_quarantined == 1
        assert store.quarantine().reason.iloc[0] == "value '1,5' is not a number"
        return
    assert landed(store) == [("export", value)]
    assert store.con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0


TEXT_AFTER_QUOTE = (
    "text follows the closing quote of a field (a quote inside a quoted field is doubled)"
)


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        # an inch mark makes the quote count even: the line break in quotes is still found
        ([b'12" screens,CHN,USA,export,TOTAL,2021-01,"1', b'234"'],
         [(2, UNCLOSED), (3, "expected 7 fields, found 1")]),
        ([b'"1"2,CHN,USA,export,TOTAL,2021-01,5'], [(2, TEXT_AFTER_QUOTE)]),
        ([b'x,CHN,USA,export,TOTAL,2021-01,"1"2'], [(2, TEXT_AFTER_QUOTE)]),
        # an odd number of quotes: no record over lines to look for, still read strictly
        ([b'x,CHN,USA,export,TOTAL,2021-01,"1"2"'], [(2, TEXT_AFTER_QUOTE)]),
        ([b'"1"2,CHN,USA,export,TOTAL,2021-01,"1"2,"line', b'two"'],
         [(2, TEXT_AFTER_QUOTE), (3, "expected 7 fields, found 1")]),
        # blanks between a closing and an opening quote do not join two fields into one
        ([b'x,CHN,USA,export,TOTAL,2021-01,"" "100"'], [(2, TEXT_AFTER_QUOTE)]),
        ([b'x,CHN,USA,export,TOTAL,2021-01,"7" ""'], [(2, TEXT_AFTER_QUOTE)]),
    ],
    ids=["inch mark and a line break", "text after a quote", "text after a quote, last",
         "odd quotes", "odd quotes and a line break", "blanks between quotes",
         "blank then quotes after"],
)  # fmt: skip
def test_broken_quoting_lands_no_number(store, tmp_path, lines, expected):
    """What the csv module reads only leniently (a quoted field not closed after a stray
    quote, text after a closing quote) or reads as text is quarantined: nothing lands."""
    path = tmp_path / "release.csv"
    path.write_bytes(NOTED + b"\n".join(lines) + b"\n")
    result = ingest(store, path)
    assert landed(store) == []
    assert [(line, reason) for line, _, reason in quarantined(store)] == expected
    assert result.rows_read == len(lines)


def test_a_line_the_csv_module_cannot_read_does_not_fail_the_file():
    """The csv module raises on a line break outside quotes (only a record joined over
    lines, quarantined whatever its fields, holds one): the SQL function must answer, or
    the whole ingest fails."""
    from tradesentry.ingest.lines import _csv_fields

    assert _csv_fields("a\nb,c", ",") == ["a\nb", "c"]


def test_a_quoted_line_break_further_than_the_limit_is_no_record(store, tmp_path):
    from tradesentry.ingest.lines import MAX_RECORD_LINES

    filler = [f"CHN,USA,import,TOTAL,{2000 + i // 12}-{i % 12 + 1:02},{i},x".encode()
              for i in range(MAX_RECORD_LINES)]  # fmt: skip
    rows = [b'CHN,USA,export,TOTAL,2021-01,100,"opens', *filler, b'closes"']
    path = tmp_path / "release.csv"
    path.write_bytes(NOTE + b"\n".join(rows) + b"\n")
    result = ingest(store, path)
    assert result.rows_read == len(rows)
    assert result.rows_accepted == len(filler)  # the lines between are no part of a record
    assert store.quarantine().line.tolist() == [2, len(rows) + 1]


# -- 5. several Comtrade API responses in one file --------------------------------------------


def _response(records: list[tuple[str, object]], count: int | None = None) -> str:
    """A Comtrade API response of (month, primaryValue) records."""
    data = []
    for month, value in records:
        rec = comtrade_fields(record(month=month))
        rec["primaryValue"] = value
        data.append(rec)
    count = len(data) if count is None else count
    return json.dumps({"elapsedTime": "0.1 secs", "count": count, "data": data, "error": ""})


_QUOTA = {"elapsedTime": "0", "count": 0, "data": [], "error": "quota exceeded"}


@pytest.mark.parametrize(
    ("appended", "message"),
    [
        (
            _response([("01", 999)], count=9),
            r"an incomplete Comtrade JSON response \(response 2 of 2 in the file\): its count "
            r"says 9 records but its data holds 1",
        ),
        (
            _response([("01", 999), ("02", 999)], count=1),
            r"not a Comtrade JSON response as the API writes it \(response 2 of 2 in the "
            r"file\): its count says 1 record but its data holds 2, more than it counts",
        ),
        (json.dumps(_QUOTA), r"error \(response 2 of 2 in the file\): quota"),
        # read as a response of no records, silently
        ("null", r"not a Comtrade JSON response \(response 2 of 2 in the file\): it has no data"),
        ('{"foo": 1}', r"not a Comtrade JSON response \(response 2 of 2 in the file\)"),
        ('{"count": 0, "error": ""}', r"not a Comtrade JSON response \(response 2 of 2"),
    ],
    ids=["cut-off", "over-count", "api-error", "null", "other-object", "no-data"],
)
def test_a_later_document_that_is_no_whole_response_refuses_the_file(
    store, tmp_path, appended, message
):
    path = tmp_path / "pages.json"
    path.write_text(_response([("01", 1)]) + "\n" + appended)
    with pytest.raises(InputError, match=rf"pages\.json: .*{message}"):
        store.ingest(path)
    assert store.releases().empty


@pytest.mark.parametrize(
    "joiners",
    [("\n", "\n"), ("", ""), ("\n\n  ", "\n\n  "), ("\n", "")],
    ids=["lines", "touching", "spaced", "mixed"],
)
def test_records_of_later_responses_are_numbered_on(store, tmp_path, joiners):
    """Responses one after another, on lines of their own, touching, or both in one file
    (the mix was refused as malformed: DuckDB took the file for one JSON document a line)."""
    path = tmp_path / "pages.json"
    pages = [
        _response([("01", 1), ("02", 2)]),
        _response([("01", 999), ("03", "x")]),  # page 1's January again; a bad value
        _response([("04", 3)]),
    ]
    path.write_text(pages[0] + joiners[0] + pages[1] + joiners[1] + pages[2])
    result = ingest(store, path)
    assert (result.rows_read, result.rows_accepted, result.rows_quarantined) == (5, 3, 2)
    obs = store.observations()
    assert sorted(zip(obs.period.dt.strftime("%m"), obs.value, strict=True)) == [
        ("01", 1.0),
        ("02", 2.0),
        ("04", 3.0),
    ]
    assert [(line, reason) for line, _, reason in quarantined(store)] == [
        (3, "same observation as line 1, with another value: '999' against '1'"),
        (4, "value 'x' is not a number"),
    ]
    assert json.loads(store.quarantine().raw.iloc[0])["primaryValue"] == 999


# -- 6. Windows-1252 bytes in latin-1 text ----------------------------------------------------

WINDOWS = "€ – “quoted” ‘x’ … Œ ™ café"


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("encoding", [None, "latin-1"], ids=["detected", "given"])
def test_latin_1_text_with_windows_1252_bytes_is_read(store, tmp_path, gzipped, encoding):
    data = (
        HEADER + b",note\n"
        + f"CHN,USA,export,TOTAL,2021-01,100,{WINDOWS}\n".encode("cp1252")
        + b"CHN,USA,import,TOTAL,2021-01,200,\x81\x8d\x8f\x90\x9d\n"  # not in Windows-1252
    )  # fmt: skip
    path = tmp_path / ("release.csv.gz" if gzipped else "release.csv")
    path.write_bytes(gzip.compress(data) if gzipped else data)
    result = ingest(store, path, encoding=encoding)
    assert (result.rows_read, result.rows_accepted) == (2, 2)
    notes = sorted(json.loads(p)["note"] for p in store.observations().provenance)
    assert notes == sorted([WINDOWS, "\x81\x8d\x8f\x90\x9d"])


def test_latin_1_text_with_a_lone_cr_is_read_whole(store, tmp_path):
    """A Windows latin-1 file with a lone CR needs both rewrites, done in one copy: the
    text read as Windows-1252, and no byte lost after the CR."""
    data = (
        HEADER + b",note\r\n"
        + f"CHN,USA,export,TOTAL,2021-01,100,{WINDOWS}\r".encode("cp1252")
        + b"CHN,USA,import,TOTAL,2021-01,200,x\r\n"
    )  # fmt: skip
    path = tmp_path / "release.csv"
    path.write_bytes(data)
    result = ingest(store, path, encoding="latin-1")
    assert (result.rows_read, result.rows_accepted) == (2, 2)
    obs = store.observations().sort_values("flow")
    assert list(obs.reporter) == ["CHN", "CHN"] and list(obs.value) == [100.0, 200.0]
    notes = sorted(json.loads(p)["note"] for p in obs.provenance)
    assert notes == sorted([WINDOWS, "x"])


def test_a_windows_1252_byte_after_the_first_megabyte(store, tmp_path):
    count = (1 << 20) // 30 + 10  # lines of about 40 bytes: past the first megabyte
    rows = [f"CHN,USA,export,C{i},2021-01,{i},caf\xe9\n".encode("latin-1") for i in range(count)]
    path = tmp_path / "release.csv"
    path.write_bytes(HEADER + b",note\n" + b"".join(rows) + b"CHN,USA,export,X,2021-01,1,\x80\n")
    result = ingest(store, path)
    assert (result.rows_read, result.rows_accepted) == (count + 1, count + 1)
    obs = store.observations(commodity="X")
    assert json.loads(obs.provenance.iloc[0]) == {"note": "€"}


def test_a_mapped_latin_1_table_with_a_euro_sign(store, tmp_path):
    path = tmp_path / "table.csv"
    path.write_bytes(
        "Außenhandel in €\nStand: Mai – Juni\nDate;Exports;Imports\n2001/01;1;2\n".encode("cp1252")
    )
    mapping = MAPPING.replace(b"[file]\n", b'[file]\nencoding = "latin-1"\n')
    (tmp_path / "m.toml").write_bytes(mapping)
    result = ingest(store, path, mapping=tmp_path / "m.toml")
    assert (result.rows_read, result.observations) == (1, 2)


@pytest.mark.parametrize(
    "name", ["comtrade_plus.csv", "comtrade_legacy.csv", "canonical"], ids=lambda n: n
)
@pytest.mark.parametrize("blanks", [0, 20], ids=["as written", "with 20 trailing blanks"])
def test_a_header_repeated_inside_a_file_is_said_to_be_one(store, tmp_path, name, blanks):
    """Two exports joined with `cat`: the second header was quarantined for one of its
    fields ("unknown reporter country 'reporter'", "Comtrade flow code 'flowCode' …")."""
    from tests.conftest import DEMO_CSV
    from tradesentry.ingest.lines import HEADER_AGAIN

    source = DEMO_CSV if name == "canonical" else Path(__file__).parents[1] / "data" / name
    text = source.read_bytes()
    header, rest = text.split(b"\n", 1)
    path = tmp_path / "joined.csv"
    path.write_bytes(text + header.rstrip(b"\r") + b" " * blanks + b"\n" + rest)
    ingest(store, path)
    header_again = len(text.splitlines()) + 1
    q = store.quarantine()
    assert q.loc[q.line == header_again, "reason"].tolist() == [HEADER_AGAIN]


@pytest.mark.parametrize(
    "name", ["comtrade_plus.csv", "comtrade_legacy.csv", "canonical"], ids=lambda n: n
)
def test_a_header_joined_to_a_last_line_without_its_break_is_said_to_be_one(store, tmp_path, name):
    """Two exports joined with `cat`, the first without its last line break: its last
    record and the second header are one line, which was quarantined for its fields; the
    header is now seen (a later part of a summing table is then read as a copy)."""
    from tests.conftest import DEMO_CSV
    from tradesentry.ingest.lines import HEADER_GLUED

    source = DEMO_CSV if name == "canonical" else Path(__file__).parents[1] / "data" / name
    text = source.read_bytes().rstrip(b"\r\n")
    path = tmp_path / "joined.csv"
    path.write_bytes(text + text + b"\n")
    ingest(store, path)
    q = store.quarantine()
    glued = len(text.splitlines())
    assert q.loc[q.line == glued, "reason"].tolist() == [HEADER_GLUED]
