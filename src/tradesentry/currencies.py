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
#: Soviet, Yugoslav and Czechoslovak currencies, and redenominated ones)
HISTORIC = (
    "ATS", "BEF", "BGL", "CSK", "CYP", "DDM", "DEM", "EEK", "ESP", "FIM", "FRF", "GRD",
    "HRK", "IEP", "ITL", "LTL", "LUF", "LVL", "MTL", "NLG", "PTE", "ROL", "SIT", "SKK",
    "SUR", "TRL", "VEB", "VEF", "YUM", "ZMK", "ZWD",
)  # fmt: skip

#: spellings national tables use for a currency, with its ISO code
SPELLINGS = {"RMB": "CNY", "NTD": "TWD", "YEN": "JPY", "STG": "GBP", "UKL": "GBP", "SFR": "CHF"}


@cache
def iso_codes() -> frozenset[str]:
    """Every code a figure may be in: ISO 4217's current list and ``HISTORIC``."""
    return frozenset(c.alpha_3 for c in pycountry.currencies) | frozenset(HISTORIC)


def is_iso(code: str) -> bool:
    return code.strip().upper() in iso_codes()


def iso_hint(code: str) -> str:
    """ " (the ISO code is CNY)" for a known national spelling, else ""."""
    iso = SPELLINGS.get(code.strip().upper())
    return f" (the ISO code is {iso})" if iso else ""
