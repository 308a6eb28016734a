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


@cache
def to_alpha3(raw: str | None) -> str | None:
    """Normalise one spelling of a country or area; ``None`` when it is not known."""
    if raw is None:
        return None
    text = raw.strip()
    if not text:
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
    return _convert(text, src=None) or _translated_names().get(_folded(text))


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
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^\w]+", " ", plain).split())


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
