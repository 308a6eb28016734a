"""What the store holds, for the errors that name a selection it does not.

A filter or a series the store does not hold is most often a code mistyped (``CHNIA``) or
one the source spells otherwise (HS ``2710`` held as ``271000``); the error then says what
the store holds for the code that matched nothing, and the nearest ones.
"""

from __future__ import annotations

import difflib

from tradesentry.arguments import stored_upper
from tradesentry.scope import KEY_FILTERS

#: codes listed in full up to this many; beyond, the nearest ones and the count
LISTED = 12


def not_held(con, filters: dict, source: str = "the store") -> str:
    """Why ``filters`` select nothing, in words: the first code the store does not hold
    ("the store holds reporters CHN, USA; nearest to CHNIA: CHN"), or, where each is held,
    that no series has them all. ``source`` names what is read (a Spark scan's input)."""
    first = first_unheld(con, filters, source)
    return first[2] if first else f"each is in {source}, but no series has them together"


def first_unheld(con, filters: dict, source: str = "the store") -> tuple[str, str, str] | None:
    """The first filter value no series of the store has, as (column, code, what the store
    holds in words), or None where each value is held. Only the values asked are looked up;
    the column's held codes are read only for the answer. The columns are the fixed key
    columns, never user text; the values are bound."""
    for column in KEY_FILTERS:
        wanted = filters.get(column)
        if not wanted:
            continue
        values = [wanted] if isinstance(wanted, str) else list(wanted)
        marks = ", ".join("?" for _ in values)
        # in upper case on both sides: the codes asked are, and a store ingested before
        # ingest upper-cased commodity codes may hold "ab12"
        sql = (
            f"SELECT DISTINCT upper({column}) FROM observations WHERE upper({column}) IN ({marks})"
        )
        found = {r[0] for r in con.execute(sql, [stored_upper(v) for v in values]).fetchall()}
        missing = [v for v in values if stored_upper(v) not in found]
        if missing:
            rows = con.execute(f"SELECT DISTINCT {column} FROM observations").fetchall()
            held = sorted(str(r[0]) for r in rows if r[0] is not None)
            other = _other_side(con, column, missing[0])
            # where the code is held on the other side, that is the answer, not a near code
            text = _held_text(column, missing[0], held, source, nearest=not other)
            return column, missing[0], text + other
    return None


#: a country code held on the other side of the key: a reporter asked as a partner
_OTHER_SIDE = {"reporter": "partner", "partner": "reporter"}


def _other_side(con, column: str, code: str) -> str:
    """ "; WLD is a partner of its series, not a reporter", where the store holds ``code``
    on the other side of the key (a journalist typed World as the reporter, and was told
    the nearest reporter, NLD), or ""."""
    other = _OTHER_SIDE.get(column)
    if other is None:
        return ""
    sql = f"SELECT count(*) FROM observations WHERE upper({other}) = ?"
    if not con.execute(sql, [stored_upper(code)]).fetchall()[0][0]:
        return ""
    return f"; {code} is a {other} of its series, not a {column}"


def _held_text(column: str, code: str, held: list[str], source: str, nearest: bool = True) -> str:
    name = "commodity code" if column == "commodity" else column
    if not held:
        return f"{source} holds no series"
    near = difflib.get_close_matches(code, held, n=3, cutoff=0.6) if nearest else []
    # a code written with the spaces or dots of a printed tariff (3920 99 59, 3920.99.59)
    compact = "".join(ch for ch in code if not (ch.isspace() or ch == "."))
    if compact != code and compact in held:
        near = [compact, *(n for n in near if n != compact)][:3]
    if len(held) == 1:
        text = f"{source} holds only {name} {held[0]}"
    elif len(held) <= LISTED:
        text = f"{source} holds {name}s {', '.join(held)}"
    else:
        text = f"{source} holds {len(held):,} {name}s"
    if near:
        text += f"; nearest to {code}: {', '.join(near)}"
    return text
