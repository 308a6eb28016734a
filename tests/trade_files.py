"""Small trade files that put totals beside their details, for the tests of the cross-series
checks at any chunk size (the engines) and of what a source withholds (the detectors)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.ingest import kit


def totals_and_chapters_csv(folder: Path, six_digit: int = 0) -> Path:
    """USA's exports to three partners, 24 months: ``TOTAL`` under HS (as the ingest keeps
    it) and chapters 01–03 under H6 (and ``six_digit`` codes of chapter 01 beside them),
    summing to the total but in FRA's June 2020, where chapter 01 holds twice the total.
    The one incoherent figure of the file."""
    rng = np.random.default_rng(8)
    rows = [CSV_HEADER]
    for partner in ("BRA", "FRA", "JPN"):
        chapters = rng.lognormal(12, 0.3, (3, 24)).round()
        total = chapters.sum(axis=0)
        if partner == "FRA":
            chapters[0, 17] += 2 * total[17]
        for m in range(24):
            period = f"{2019 + m // 12}-{m % 12 + 1:02d}"
            rows.append(f"USA,{partner},export,HS,TOTAL,{period},1,{total[m]:.0f},USD")
            rows += [
                f"USA,{partner},export,H6,0{c + 1},{period},1,{chapters[c, m]:.0f},USD"
                for c in range(3)
            ]
            rows += [
                f"USA,{partner},export,H6,0101{k:02d},{period},1,{chapters[0, m] / 9:.0f},USD"
                for k in range(six_digit)
            ]
    path = folder / "totals.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def world_and_partners_csv(
    folder: Path, fra_currency: str = "USD", withheld: tuple[int, ...] = ()
) -> Path:
    """USA's exports of chapters 01 and 02 to three partners and to the world (WLD, the
    partners' sum, rounded to thousands as published), 24 months, plus a partner that is
    no country (X899, other areas: no detail). In March 2020 the world's 01 is half what
    the partners sum to: the one incoherent figure of the file. FRA's figures may be in
    another currency (yen at 150 to the dollar). With ``withheld`` (months of chapter 01
    whose FRA figure the source withholds), the file is Comext's SDMX-CSV instead, in
    euros, Germany reporting, without X899: only there does a blank figure mean
    confidential."""
    rate = {"USD": 1.0, "JPY": 150.0}[fra_currency]
    currency = {"FRA": fra_currency}
    rows = [CSV_HEADER]
    if withheld:
        rows = [
            "DATAFLOW,LAST UPDATE,freq,reporter,partner,product,flow,indicators,TIME_PERIOD,OBS_VALUE"
        ]
    for partner, commodity, m, value in _world_figures():
        period = f"{2019 + m // 12}-{m % 12 + 1:02d}"
        if withheld:
            if partner == "X899":  # Comext has no such area
                continue
            blank = partner == "FRA" and commodity == "01" and m in withheld
            iso2 = {"BRA": "BR", "FRA": "FR", "JPN": "JP", "WLD": "WORLD"}[partner]
            rows.append(
                f"ESTAT:DS-045409(1.0),13/02/26 11:00:00,M,DE,{iso2},{commodity},2,"
                f"VALUE_IN_EUROS,{period},{'' if blank else f'{value:.0f}'}"
            )
        else:
            figure = value * (rate if partner == "FRA" else 1.0)
            rows.append(
                f"USA,{partner},export,H6,{commodity},{period},1,{figure:.0f},"
                f"{currency.get(partner, 'USD')}"
            )
    path = folder / "world.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _world_figures():
    """(partner, commodity, month, value) of ``world_and_partners_csv``."""
    rng = np.random.default_rng(9)
    for commodity in ("01", "02"):
        partners = rng.lognormal(12, 0.4, (3, 24)).round()
        world = np.round(partners.sum(axis=0), -3)
        if commodity == "01":
            world[14] = np.round(world[14] / 2, -3)
        for m in range(24):
            figures = {"BRA": partners[0, m], "FRA": partners[1, m], "JPN": partners[2, m]}
            figures |= {"WLD": world[m], "X899": partners[1, m] * 5}
            for partner, value in figures.items():
                yield partner, commodity, m, value


def comext_totals_sdmx(folder: Path, withheld: int | None = None) -> Path:
    """Germany's exports to France as Comext publishes them (SDMX-CSV, euros): ``TOTAL``
    and chapters 01–03 (the ingest keeps them under CN8, the total under HS), 24 months,
    the total their sum but in November 2019 (0.4 of it: the one incoherent figure), and
    chapter 02 withheld (a blank, confidential) in the month ``withheld`` (a column)."""
    rng = np.random.default_rng(10)
    chapters = rng.lognormal(12, 0.3, (3, 24)).round()
    total = chapters.sum(axis=0)
    total[10] = np.round(total[10] * 0.4)
    rows = [SDMX_HEADER]
    for m in range(24):
        period = f"{2019 + m // 12}-{m % 12 + 1:02d}"
        figures = {"TOTAL": f"{total[m]:.0f}"}
        figures |= {f"0{c + 1}": f"{chapters[c, m]:.0f}" for c in range(3)}
        if m == withheld:
            figures["02"] = ""
        rows += [
            f"ESTAT:DS-045409(1.0),13/02/26 11:00:00,M,DE,FR,{product},2,VALUE_IN_EUROS,{period},{v}"
            for product, v in figures.items()
        ]
    path = folder / "comext.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


SDMX_HEADER = ",".join(kit.SDMX_HEADER)  # Comext's SDMX-CSV, as the ingest tests write it
CSV_HEADER = "reporter,partner,flow,classification,commodity,period,period_months,value,currency"
