"""Country codes: every source's spelling of a country, normalised to ISO 3166 alpha-3.

Names, ISO-2, ISO-3 and ISO numeric codes go through country_converter, a maintained
library; a name it does not know is looked up among the ISO 3166 names in French, Spanish,
Portuguese, German, Italian and Dutch (pycountry's translations), case and accents aside. UN Comtrade uses a few M49 codes of its own (251 for France, 842 for the USA)
and reports "special areas" that are not countries (World, Areas nes, Bunkers…); those
come from the table Comtrade publishes, shipped as ``data/comtrade_areas.csv``. Special
areas keep a code of their own, ``X`` and the three M49 digits (``X899`` Areas, nes),
so they are kept rather than dropped. ``WLD`` stands for the world.
"""

from __future__ import annotations

import csv
import logging
import re
import unicodedata
from functools import cache
from importlib import resources

from tradesentry.schema import WORLD

_WORLD_SPELLINGS = {"WORLD", "WLD", "W00", "ALL", "TOTAL"}
#: abbreviations that trade tables use for a country and country_converter does not know
#: (its patterns match names and official codes): a table of China's exports from UN
#: Comtrade names its partner "UAE"
ABBREVIATIONS = {"UAE": "ARE", "PRC": "CHN", "ROK": "KOR", "DRC": "COD", "KSA": "SAU"}


def abbreviated(text: str) -> str | None:
    """The alpha-3 code of an abbreviation in ``ABBREVIATIONS``, written plain or with
    dots ("UAE", "U.A.E."); None for anything else."""
    code = text.strip().upper()
    if re.fullmatch(r"[A-Z](\.[A-Z])+\.?", code):
        code = code.replace(".", "")
    return ABBREVIATIONS.get(code)


@cache
def _comtrade_areas() -> tuple[dict[int, str], dict[str, str]]:
    by_number: dict[int, str] = {}
    by_name: dict[str, str] = {}
    with resources.files("tradesentry").joinpath("data/comtrade_areas.csv").open() as f:
        for row in csv.DictReader(f):
            by_number[int(row["m49"])] = row["code"]
            by_name[row["name"].casefold()] = row["code"]
    return by_number, by_name


@cache
def _converter():
    import country_converter

    # country_converter logs every miss; a miss is reported by us, once, with its line.
    logging.getLogger("country_converter").setLevel(logging.CRITICAL)
    return country_converter.CountryConverter()


#: no country's name is longer (the longest official ones run to about 60 characters);
#: a longer text is no country, and country_converter's patterns took minutes over one
#: (a 100,000-character code: nine minutes)
MAX_NAME = 200
#: the only characters besides letters, digits and spaces that a country's name holds in
#: the libraries' names (",", ".", "-", "(", ")", "'") and in trade tables' spellings ("&"
#: of "Trinidad & Tobago", the typographic apostrophe, the en dash). Markup and quotes are
#: no part of a name: "<b>France</b>" and 'Bosnia & "Herz" <b>' were France and Bosnia,
#: their markup folded away with the punctuation
NAME_PUNCTUATION = frozenset(",.-()'&\u2019\u2013")


@cache
def to_alpha3(raw: str | None) -> str | None:
    """Normalise one spelling of a country or area; ``None`` when it is not known."""
    if raw is None:
        return None
    # a footnote mark after a name ("France*": incl. Monaco) is the table's, not the name's
    text = raw.strip().rstrip("*").rstrip()
    if not text or len(text) > MAX_NAME or not _name_characters(text):
        return None
    by_number, by_name = _comtrade_areas()
    if text.upper() in _WORLD_SPELLINGS:
        return WORLD
    if abbreviated(text):
        return abbreviated(text)
    if text.isdecimal():  # int() reads these; isdigit() also takes "²", which it does not
        number = int(text)
        if number in by_number:
            return by_number[number]
        return _convert(str(number), src="ISOnumeric")
    if text.casefold() in by_name:
        return by_name[text.casefold()]
    if text.upper() in by_number.values():  # a former country's ISO 3166-3 code (SUN)
        return text.upper()
    if len(text) == 4 and text[0] == "X" and text[1:].isdecimal():
        return text if int(text[1:]) in by_number else None
    if _folded(text) in AMBIGUOUS:
        return None
    named = _convert(text, src=None)
    if named and _is_name(text) and not _words_of(text, named):
        named = None  # a pattern matched inside other words: "Turkey meat", "Not Korea"
    return named or _translated_names().get(_folded(text)) or _inverted(text)


#: words a name inverted for sorting puts after its comma that say only what kind of
#: place it is ("Maurice, île"): the name before the comma is the place's own. Not
#: "République": "Chine, République" is Taiwan's, not China's
_KIND_WORDS = {"ile", "iles", "island", "islands"}


def _inverted(text: str) -> str | None:
    """A name a table writes inverted for sorting, "Tchèque, République", read the right
    way round ("République Tchèque"; "Mariannes du Nord, îles": "îles Mariannes du Nord";
    "Congo, République Démocratique": "République Démocratique du Congo"; "Maurice, île":
    "Maurice"), where that order is a name tradesentry knows; None for any other."""
    head, comma, tail = text.partition(",")
    head, tail = head.strip(), tail.strip()
    if not comma or "," in tail or not head or not tail:
        return None
    candidates = [f"{tail} {head}", f"{tail} du {head}", f"{tail} de {head}"]
    if _folded(tail) in _KIND_WORDS:
        candidates.append(head)
    return next((code for code in map(to_alpha3, candidates) if code), None)


#: names that stand for more than one country: quarantined, not guessed, with what they
#: could be
AMBIGUOUS = {"korea": "North Korea (PRK) or South Korea (KOR)?"}


def why_unknown(raw: str | None) -> str | None:
    """Why a spelling that ``to_alpha3`` does not know is not taken, where more can be said
    than "unknown": an ambiguous name says what it could be."""
    return AMBIGUOUS.get(_folded(raw)) if raw else None


#: words any country's name may carry in a trade table's spelling ("Korea, Dem. People's
#: Rep.", "St. Lucia", "China, Hong Kong SAR", "Venezuela, RB", "Gambia, The")
NAME_WORDS = frozenset(
    [
        *("the", "of", "and", "rep", "republic", "dem", "democratic", "people", "peoples"),
        *("s", "fed", "federal", "federated", "sts", "states", "state", "st", "saint"),
        *("ste", "sainte", "is", "isl", "isls", "island", "islands", "sar", "pdr"),
        *("kingdom", "plurinational", "islamic", "arab", "province", "federation", "united"),
        *("special", "administrative", "region", "rb", "former", "territory", "territories"),
        *("d", "da", "de", "del", "des", "di", "du", "la", "le", "les", "el", "y", "e", "et"),
        *("und", "van", "isds", "fmr", "pr", "mainland", "occupied", "minor", "outlying"),
        *("us",),
    ]
)


#: words of other names a country goes by, which neither its names nor its pattern's
#: stems hold ("FYR Macedonia", "Chinese Taipei", "US Virgin Islands")
ALSO_CALLED = {
    "CIV": ("ivory", "coast"),
    "MKD": ("fyr", "fyrom"),
    "TWN": ("chinese", "taipei"),
    "LBY": ("jamahiriya",),
}


def _name_characters(text: str) -> bool:
    """Whether ``text`` holds only characters a country's name does (letters, digits,
    spaces and ``NAME_PUNCTUATION``)."""
    return all(c.isalnum() or c.isspace() or c in NAME_PUNCTUATION for c in text)


def _is_name(text: str) -> bool:
    """A spelled-out name rather than a code (ISO-2, ISO-3, "U.S."): patterns are asked of
    names only."""
    return len(re.sub(r"[^\w]", "", text)) > 3


def _words_of(text: str, code: str) -> bool:
    """Whether every word of ``text`` belongs to a name of ``code``: a word of its English,
    official or translated names or of UN Comtrade's spelling, or an abbreviation of one
    ("Dem." of Democratic, "Isds" of Islands); a word country_converter's own pattern for
    it matches alone ("Turkey", "Siam", "Burma", "Holland"); an initial of one of those
    words, written as one, with its period ("N. Mariana", "P.R. China"); or a word any
    name may carry (``NAME_WORDS``). country_converter's patterns find a country inside
    other words: "Not Korea" and "Korea, North and South" were North Korea, "Turkey meat"
    Turkey, "Greater China" China, "South Africa Customs Union" South Africa; and any
    letter alone passed for an initial: "France b", 'France "x"' were France."""
    words, pattern, stems = _name_words().get(code, (frozenset(), None, frozenset()))
    initials = set(re.findall(r"(?<!\w)(\w)\.", _unaccented(text)))
    for word in _folded(text).split():
        if word in NAME_WORDS or word in words:
            continue
        if len(word) == 1:
            if word in initials and any(known.startswith(word) for known in words):
                continue
            return False
        if len(word) >= 2 and any(known.startswith(word) for known in words):
            continue
        if pattern is not None and pattern.search(word):
            continue
        if any(word.startswith(stem) for stem in stems):  # "Cape" of "(cabo|cape) *verde"
            continue
        return False
    return True


@cache
def _name_words() -> dict[str, tuple[frozenset[str], re.Pattern | None, frozenset[str]]]:
    """By alpha-3: every word of every known name of the country, folded;
    country_converter's pattern for it (compiled as it uses it, case aside); and the
    pattern's stems, its runs of three letters or more outside its escapes (``\\b``) and
    the names it rules out (``(?!.*bissau)``), for the words of a pattern that spans
    several ("Cape Verde", "East Timor")."""
    import pycountry

    words: dict[str, set[str]] = {}
    patterns: dict[str, re.Pattern] = {}
    stems: dict[str, frozenset[str]] = {}

    def add(code, name) -> None:
        if isinstance(code, str) and isinstance(name, str):
            words.setdefault(code, set()).update(_folded(name).split())

    data = _converter().data
    for code, short, official, pattern in zip(
        data["ISO3"], data["name_short"], data["name_official"], data["regex"], strict=True
    ):
        add(code, short)
        add(code, official)
        if isinstance(code, str) and isinstance(pattern, str):
            patterns[code] = re.compile(pattern, re.IGNORECASE)
            kept = re.sub(r"\(\?!.*?\)|\\[a-zA-Z]", " ", pattern.lower())
            stems[code] = frozenset(re.findall(r"[a-z]{3,}", kept))
    for country in pycountry.countries:
        for field in ("name", "official_name", "common_name"):
            add(country.alpha_3, getattr(country, field, None))
    for name, code in _translated_names().items():
        add(code, name)
    for name, code in _comtrade_areas()[1].items():
        add(code, name)
    for code, also in ALSO_CALLED.items():
        words.setdefault(code, set()).update(also)
    return {
        code: (frozenset(words.get(code, ())), patterns.get(code), stems.get(code, frozenset()))
        for code in set(words) | set(patterns)
    }


#: languages whose ISO 3166 country names are recognised besides English: those of the
#: customs offices that publish in them (Guinea's declarations name partners in French)
NAME_LANGUAGES: tuple[str, ...] = ("fr", "es", "pt", "de", "it", "nl")


@cache
def _translated_names() -> dict[str, str]:
    """ISO 3166 names in ``NAME_LANGUAGES`` (the translations pycountry ships), folded →
    alpha-3. Asked only when country_converter, which matches English spellings, misses."""
    import gettext

    import pycountry

    names: dict[str, str] = {}
    for language in NAME_LANGUAGES:
        try:
            translation = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, [language])
        except OSError:  # a pycountry build without that language
            continue
        for country in pycountry.countries:
            for field in ("name", "official_name", "common_name"):
                english = getattr(country, field, None)
                if english:
                    names.setdefault(_folded(translation.gettext(english)), country.alpha_3)
    return names


def _folded(text: str) -> str:
    """Case, accents and punctuation set aside: 'Émirats arabes unis' = 'EMIRATS ARABES UNIS'."""
    return " ".join(re.sub(r"[^\w]+", " ", _unaccented(text)).split())


def _unaccented(text: str) -> str:
    """``text`` without case and accents, its punctuation kept."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


_NOT_FOUND = "\x00not found"


def _convert(text: str, src: str | None) -> str | None:
    # not_found=None would hand back the input itself, so "XXX" would pass for a country.
    result = _converter().convert(text, src=src, to="ISO3", not_found=_NOT_FOUND)
    if isinstance(result, list):  # ambiguous spellings come back as several candidates
        return None
    if isinstance(result, str) and len(result) == 3 and result.isalpha() and result.isupper():
        return result
    return None


def normalise_many(values: list[str | None]) -> dict[str, str | None]:
    """Normalise distinct spellings at once (ingest calls this once per file, not per row)."""
    return {v: to_alpha3(v) for v in values if v is not None}


@cache
def stored_codes() -> tuple[str, ...]:
    """Every country or area code the ingest can store, as ``to_alpha3`` gives it.

    ISO 3166 alpha-3 (pycountry's and country_converter's), UN Comtrade's special areas and
    their ``X`` codes, and WLD: each kept only if the ingest stores it as itself (some 280).
    A data lake holds these, as ``tradesentry export --parquet`` writes them (the Spark
    engine checks its input against them).
    """
    import pycountry

    by_number, by_name = _comtrade_areas()
    candidates = {c.alpha_3 for c in pycountry.countries} | {WORLD}
    candidates |= set(_converter().data["ISO3"].dropna())
    candidates |= {*by_number.values(), *by_name.values()}
    candidates |= {f"X{n:03d}" for n in by_number if 0 <= n < 1000}
    return tuple(sorted(c for c in candidates if to_alpha3(c) == c))
