"""The digest as Markdown (terminal, chat, README) and as HTML (Jinja2, autoescaped).

Both render the same sections in the same order from the ``Digest``; neither adds a
figure of its own. Text from files and detectors reaches the HTML only through Jinja2's
autoescape, so a file named ``<script>.csv`` stays text, and both show control characters
(ESC, BEL in a file name or a commodity code) as escapes (``text.printable``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple

from tradesentry.findings import unconverted_note
from tradesentry.monitor import words
from tradesentry.text import printable

if TYPE_CHECKING:
    from tradesentry.monitor.digest import Digest

_MOVE_SECTIONS = (
    ("pair", "mom", "Largest moves month on month"),
    ("pair", "yoy", "Largest moves year on year"),
    ("commodity", "mom", "By commodity, month on month"),
    ("commodity", "yoy", "By commodity, year on year"),
)


class Section(NamedTuple):
    """A section of moves: its heading, its sentences and a note after them ("" for none)."""

    heading: str
    sentences: list[str]
    note: str = ""


def sections(digest: Digest) -> list[Section]:
    """Every section of moves that has something to say, in reading order. (A move the
    latest month gives is not in the lists after it: ``digest.build`` leaves it out.)"""
    out: list[Section] = []
    if digest.latest:
        heading = f"{words.month(digest.latest_month)}, the latest month"
        if digest.earlier_releases_to:  # a release of revised old months only
            heading += (
                f" of this release (earlier releases run to "
                f"{words.month(digest.earlier_releases_to)})"
            )
        out.append(_section(digest, heading, digest.latest))
    span = _months_held(digest)
    for level, basis, heading in _MOVE_SECTIONS:
        moves = digest.section(level, basis)
        if moves:
            out.append(_section(digest, heading + span, moves))
    return out


def _section(digest: Digest, heading: str, moves: list) -> Section:
    """A section of ``moves``, saying which of its currencies are ranked apart."""
    held = {m.currency for m in moves}
    apart = [c for c in digest.moves_apart if c in held] if len(held) > 1 else []
    return Section(heading, [m.sentence for m in moves], _apart_note(apart))


def _apart_note(currencies: list[str]) -> str:
    """ "Amounts in JPY are listed after the others, ranked on their own: …"; "" for none."""
    if not currencies:
        return ""
    each = "ranked on their own" if len(currencies) == 1 else "each currency ranked on its own"
    return (
        f"Amounts in {', '.join(currencies)} are listed after the others, {each}: the store "
        "has no exchange rate to weigh them against the others (tradesentry rates FILE loads "
        "rates)."
    )


def _months_held(digest: Digest) -> str:
    """ ", January 2001–December 2019" where the moves are drawn from more than one month
    (a first load's go back years), not its newest: the months the release brings new, or
    all of its months where it brings none, each named ("May and July 2023": a span
    "May–July 2023" covered a June that brought nothing)."""
    if digest.moves_periods:
        periods = digest.moves_periods
        return f", {words.months(periods)}" if len(periods) > 1 else ""
    span = digest.moves_months or (
        digest.coverage.get("first_period"),
        digest.coverage.get("last_period"),
    )
    first, last = span
    if not first or not last or first == last:
        return ""
    return f", {words.month_span(first, last)}"


def findings_heading(digest: Digest) -> str:
    n = digest.findings_total
    return f"New findings ({n:,}, ranked by money at stake)" if n else "New findings"


def findings_intro(digest: Digest) -> str:
    """How the findings were compared: which scan against which."""
    if digest.scan_id is None:
        return "No scan has looked at this release yet."
    return (
        _scan_words(digest)
        + _limits(digest)
        + _elsewhere(digest)
        + _later_releases(digest)
        + _unconverted(digest)
    )


def _limits(digest: Digest) -> str:
    """ " The scan was limited (detectors: revision): …", for a scan of less than every
    detector and series: its new findings are not all the release's."""
    if not digest.scan_limits:
        return ""
    return (
        f" The scan was limited ({'; '.join(digest.scan_limits)}): what it did not look at "
        "is not in it."
    )


def _elsewhere(digest: Digest) -> str:
    """ " The scan has 1,700 other new findings, on series this release holds no figure of."""
    n = digest.findings_elsewhere
    if not n:
        return ""
    other = "other new finding" if n == 1 else "other new findings"
    return f" The scan has {n:,} {other}, on series this release holds no figure of."


def _unconverted(digest: Digest) -> str:
    """ " Amounts in JPY are ranked beside the others as they are: …"."""
    return f" {unconverted_note(digest.unconverted)}" if digest.unconverted else ""


def _later_releases(digest: Digest) -> str:
    """ " No scan ran while release 1 was the newest: scan 5 also saw releases 2 to 4, …"."""
    rid, saw = digest.release["id"], digest.scan_release
    if saw is None or saw <= rid:
        return ""
    # ids are not counted: an ingest rolled back uses one up, so "releases 2 to 4" may
    # name a release that never was
    return (
        f" No scan ran while release {rid} was the newest: scan {digest.scan_id} also saw "
        f"releases ingested after it (up to release {saw}), and some of its findings may "
        "rest on their figures."
    )


def _scan_words(digest: Digest) -> str:
    if not digest.findings_total:
        if digest.baseline_scan_id is None:
            return f"Scan {digest.scan_id} found nothing."
        return f"Scan {digest.scan_id} found nothing new against scan {digest.baseline_scan_id}."
    shown = len(digest.findings)
    twins = sum(1 for f in digest.findings if f.get("also"))  # a mirror gap's other side
    more = f"; the first {shown} are shown" if shown + twins < digest.findings_total else ""
    if twins:
        more += (
            f" ({'a mirror gap' if twins == 1 else f'{twins:,} mirror gaps'} once, with "
            "the other record's finding of it named)"
        )
    if digest.baseline_scan_id is None:
        first = "no scan ran before this release, so every finding is new"
        if digest.other_scan_before is not None:
            first = (
                "no scan of the same series and detectors ran before this release (scan "
                f"{digest.other_scan_before} looked at others), so every finding is new"
            )
        return f"Scan {digest.scan_id}; {first}{more}."
    base = f"scan {digest.baseline_scan_id}, the last before the release"
    return f"Scan {digest.scan_id} against {base}{more}."


def revisions_intro(digest: Digest) -> str:
    n = digest.revisions_total
    if not n:
        return "The release revised no figure of an earlier release."
    shown = len(digest.revisions)
    more = f"; the {shown} largest:" if shown < n else ":"
    return f"The release revised {words.count(n, 'figure')} of earlier releases{more}"


def _finding_md(i: int, f: dict) -> str:
    """One numbered finding; its markup (the number, the bold headline) added around text
    already escaped."""
    stake = _md(f"{f['severity']}; {f['at_stake']} at stake")
    parts = [f"{i}. **{_md(f['headline'])}** ({stake})."]
    if f.get("context"):
        parts.append(_md(f["context"]))
    if f.get("also"):
        parts.append(_md(f["also"]))
    if f.get("explanation"):
        parts.append(_md(str(f["explanation"])))
    return " ".join(parts)


def markdown(digest: Digest) -> str:
    """Plain Markdown: a heading, the summary, one bullet list per section."""
    lines = [f"# {_md(digest.title)}", "", " ".join(_md(s) for s in digest.summary), ""]
    for heading, sentences, note in sections(digest):
        lines += [f"## {_md(heading)}", "", *(f"- {_md(s)}" for s in sentences), ""]
        if note:
            lines += [_md(note), ""]
    lines += [f"## {findings_heading(digest)}", "", _md(findings_intro(digest)), ""]
    lines += [_finding_md(i, f) for i, f in enumerate(digest.findings, 1)]
    if digest.findings:
        lines.append("")
    lines += ["## Revisions", "", _md(revisions_intro(digest)), ""]
    lines += [f"- {_md(r.sentence)}" for r in digest.revisions]
    return "\n".join(lines).rstrip() + "\n"


#: what makes Markdown markup where a file name or a code carries it: emphasis, code spans
#: and links (an underscore between letters or digits, as in ``cn_kp_2021.csv``, makes none
#: in CommonMark and stays as it is), and a heading at the start
_MARKUP = re.compile(r"[\\`*\[\]]|(?<![^\W_])_|_(?![^\W_])|^#")


#: a command the digest's own words give, in a code span after a bracket ("(`tradesentry
#: quarantine …`"): a file name's backtick opens none
_COMMAND = re.compile(r"(?<=\()(`tradesentry [^`\n]*`)")


def _md(text: str) -> str:
    """Keep file names and detector text from turning into Markdown markup by accident (a
    file named ``[x](http://…)`` is no link, ``**`` no emphasis: each such character is
    backslash-escaped, which Markdown shows as the character itself), their HTML from
    being HTML, and their control characters (ESC, BEL) from acting on the terminal. A
    command of the digest's own words stays a code span (escaped, its backticks showed as
    such); in a code span nothing is markup."""
    parts = _COMMAND.split(printable(text))
    text = "".join(
        part if k % 2 else _MARKUP.sub(lambda m: "\\" + m.group(), part)
        for k, part in enumerate(parts)
    )
    return text.replace("<", "&lt;").replace(">", "&gt;")


_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{{ d.title }}</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:1.6rem}
.sev{font-size:.8rem;padding:0 .35rem;border-radius:.25rem;background:#eee}
.sev.high{background:#f6d5d5}.sev.medium{background:#f8ecc9}
.why{color:#555}
</style></head><body>
<h1>{{ d.title }}</h1>
<p>{{ d.summary | join(" ") }}</p>
{% for heading, sentences, note in sections %}
<h2>{{ heading }}</h2>
<ul>{% for s in sentences %}<li>{{ s }}</li>{% endfor %}</ul>
{% if note %}<p>{{ note }}</p>{% endif %}
{% endfor %}
<h2>{{ findings_heading }}</h2>
<p>{{ findings_intro }}</p>
{% if d.findings %}<ol>{% for f in d.findings %}
<li><strong>{{ f.headline }}</strong> <span class="sev {{ f.severity }}">{{ f.severity }}</span>
{{ f.at_stake }} at stake. {{ f.context }} {{ f.also }} <span class="why">{{ f.explanation }}</span></li>
{% endfor %}</ol>{% endif %}
<h2>Revisions</h2>
<p>{{ revisions_intro }}</p>
{% if d.revisions %}
<ul>{% for r in d.revisions %}<li>{{ r.sentence }}</li>{% endfor %}</ul>
{% endif %}
</body></html>
"""


def _printable_html(value):
    """Every value the page shows, its control characters as escapes (``\\x1b``) before
    Jinja2 escapes it for HTML; text a filter has already escaped stays escaped once."""
    from markupsafe import Markup

    if isinstance(value, Markup):
        return Markup(printable(str(value)))
    return printable(value) if isinstance(value, str) else value


def html(digest: Digest) -> str:
    """A self-contained HTML page; every value escaped by Jinja2's autoescape."""
    from jinja2 import Environment

    env = Environment(
        autoescape=True, trim_blocks=True, lstrip_blocks=True, finalize=_printable_html
    )
    return env.from_string(_HTML).render(
        d=digest,
        sections=sections(digest),
        findings_heading=findings_heading(digest),
        findings_intro=findings_intro(digest),
        revisions_intro=revisions_intro(digest),
    )
