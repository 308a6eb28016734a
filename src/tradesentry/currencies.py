"""ISO 4217 currency codes: the current list (pycountry's) and the historic denominations
that trade statistics still carry.

A figure in a code outside ISO 4217 cannot be converted (``tradesentry rates``) or
compared with its mirror, so ingest quarantines it; the usual non-ISO spellings of
national tables get the ISO code named beside the reason.
"""

from __future__ import annotations

from functools import cache

import pycountry

#: ISO 4217 list three: currencies withdrawn since 1990 that national tables and older
#: UN Comtrade and Eurostat extracts are still published in (the euro's predecessors, the
#: Soviet, Yugoslav and Czechoslovak currencies, redenominated ones, and those withdrawn
#: lately, which newer pycountry releases drop from the current list: ANG, BGN, CUC, SLL,
#: ZWL; the Bulgarian lev until the euro in 2026, in which Bulgaria's figures to 2025 are)
HISTORIC = (
    "ADP", "AFA", "ANG", "AON", "AOR", "ATS", "AZM", "BEF", "BGL", "BGN", "BYB", "BYR", "CSD",
    "CSK", "CUC", "CYP", "DDM", "DEM", "ECS", "EEK", "ESP", "FIM", "FRF", "GHC", "GRD",
    "GWP", "HRK", "IEP", "ITL", "LTL", "LUF", "LVL", "MGF", "MRO", "MTL", "MZM", "NLG",
    "PTE", "ROL", "RUR", "SDD", "SIT", "SKK", "SLL", "SRG", "STD", "SUR", "TMM", "TPE",
    "TRL", "UAK", "VEB", "VEF", "XEU", "YUM", "ZMK", "ZRN", "ZWD", "ZWL", "ZWN", "ZWR",
)  # fmt: skip

#: ISO 4217 codes that are no currency a figure can be in: "no currency", testing
NOT_MONEY = ("XXX", "XTS")

#: spellings national tables use for a currency, with its ISO code
SPELLINGS = {"RMB": "CNY", "NTD": "TWD", "YEN": "JPY", "STG": "GBP", "UKL": "GBP", "SFR": "CHF"}


@cache
def iso_codes() -> frozenset[str]:
    """Every code a figure may be in: ISO 4217's current list and ``HISTORIC``, but
    ``NOT_MONEY``."""
    current = frozenset(c.alpha_3 for c in pycountry.currencies)
    return (current | frozenset(HISTORIC)) - frozenset(NOT_MONEY)


def is_iso(code: str) -> bool:
    return code.strip().upper() in iso_codes()


def iso_hint(code: str) -> str:
    """ " (the ISO code is CNY)" for a known national spelling, else ""."""
    iso = SPELLINGS.get(code.strip().upper())
    return f" (the ISO code is {iso})" if iso else ""
