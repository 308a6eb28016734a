"""Monthly exchange rates into the store, for comparing records kept in different currencies.

Two layouts are read:

- the store's own: a CSV with ``currency,period,per_usd`` (units of the currency per US
  dollar; ``period`` as ``YYYY-MM`` or the month's first or last day);
- ECB-style SDMX-CSV (the ECB data portal's EXR export): ``CURRENCY``, ``CURRENCY_DENOM``,
  ``TIME_PERIOD``, ``OBS_VALUE`` = units of CURRENCY per one CURRENCY_DENOM (the euro). The
  rows for USD give the dollar's rate, so every other currency, and the euro itself, is
  turned into units per US dollar; daily rates are averaged over the month.

A load is one transaction, validated first: any bad row rejects the whole file, with its
line number. A later load replaces the rates of the same currency and month.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tradesentry import currencies
from tradesentry.errors import InputError

_ECB_COLUMNS = ("CURRENCY", "CURRENCY_DENOM", "TIME_PERIOD", "OBS_VALUE")


@dataclass(frozen=True)
class RatesResult:
    """What one ``load_rates`` did."""

    file: str
    layout: str  # "per_usd" or "ecb"
    rows: int  # (currency, month) rates written
    currencies: tuple[str, ...]
    first: str | None  # YYYY-MM
    last: str | None
    replaced: int  # of those, rates that were already in the store

    def to_dict(self) -> dict:
        return asdict(self)


def load_rates(con, path: str | Path) -> RatesResult:
    """Validate the file and write its monthly rates into ``rates``, in one transaction."""
    path = Path(path)
    try:
        raw = _read(path)
        layout = "ecb" if set(_ECB_COLUMNS) <= set(raw.columns) else "per_usd"
        frame = _from_ecb(raw) if layout == "ecb" else _from_per_usd(raw)
    except InputError as exc:  # the checks name the line; the error names the file too
        text = str(exc).removeprefix("rates file: ")
        if text.startswith(f"{path}: "):
            raise
        raise InputError(f"{path}: {text}") from exc
    if frame.empty:
        raise InputError(f"{path}: no rates in the file")
    cur = con.cursor()
    cur.execute("BEGIN TRANSACTION")
    try:
        cur.register("new_rates", frame)
        replaced = cur.execute(
            "SELECT count(*) FROM rates r JOIN new_rates n "
            "ON r.currency = n.currency AND r.period = CAST(n.period AS DATE)"
        ).fetchone()[0]
        cur.execute(
            "INSERT OR REPLACE INTO rates "
            "SELECT currency, CAST(period AS DATE), per_usd FROM new_rates"
        )
        cur.unregister("new_rates")
        cur.execute("COMMIT")
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    finally:
        cur.close()
    months = frame["period"].dt.strftime("%Y-%m")
    return RatesResult(
        path.name,
        layout,
        len(frame),
        tuple(sorted(frame["currency"].unique())),
        months.min(),
        months.max(),
        int(replaced),
    )


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        _check_fields(path)
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, skipinitialspace=True, index_col=False
        )
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path}: not a readable CSV ({exc})") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    frame.index = frame.index + 2  # the file's line numbers (header is line 1)
    return frame


def _check_fields(path: Path) -> None:
    """Every line has as many fields as the header (a rates file is small: read whole). A
    line with one more would shift its columns (pandas makes the first one an index); the
    error names the line, and says so of a file separated by ';' rather than ','."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = csv.reader(f)
        header = next(rows, None)
        if header is None:
            return
        if len(header) == 1 and ";" in header[0]:
            raise InputError("the file is separated by ';': a rates file is separated by ','")
        for number, row in enumerate(rows, start=2):
            if row and len(row) != len(header):
                raise InputError(
                    f"line {number}: {len(row)} fields where the header has {len(header)}"
                )


def _from_per_usd(raw: pd.DataFrame) -> pd.DataFrame:
    columns = {c.lower(): c for c in raw.columns}
    missing = [c for c in ("currency", "period", "per_usd") if c not in columns]
    if missing:
        raise InputError(
            f"rates file: missing column(s) {', '.join(missing)}; expected currency,period,"
            "per_usd or the ECB layout (CURRENCY, CURRENCY_DENOM, TIME_PERIOD, OBS_VALUE)"
        )
    currency = _codes(raw[columns["currency"]], "currency")
    period = _months(raw[columns["period"]])
    per_usd = _positive(raw[columns["per_usd"]], "per_usd")
    frame = pd.DataFrame({"currency": currency, "period": period, "per_usd": per_usd})
    usd = frame[(frame["currency"] == "USD") & ~np.isclose(frame["per_usd"], 1.0)]
    if len(usd):
        raise InputError(f"line {usd.index[0]}: USD per USD must be 1, not {usd['per_usd'].iat[0]}")
    dup = frame.duplicated(["currency", "period"], keep=False)
    if dup.any():
        clash = frame[dup].groupby(["currency", "period"])["per_usd"].transform("nunique")
        if (clash > 1).any():
            first = frame[dup][clash > 1].iloc[0]
            same = frame[
                (frame["currency"] == first["currency"]) & (frame["period"] == first["period"])
            ]
            lines = " and ".join(str(n) for n in same.index[:2])
            raise InputError(f"lines {lines}: two different rates for the same currency and month")
        frame = frame.drop_duplicates(["currency", "period"])
    return frame.reset_index(drop=True)


def _from_ecb(raw: pd.DataFrame) -> pd.DataFrame:
    if "EXR_SUFFIX" in raw.columns and (raw["EXR_SUFFIX"] == "A").any():
        raw = raw[raw["EXR_SUFFIX"] == "A"]  # averages, not end-of-period rates
    raw = raw[raw["OBS_VALUE"].str.strip() != ""]  # ECB leaves holidays empty
    currency = _codes(raw["CURRENCY"], "CURRENCY")
    denom = _codes(raw["CURRENCY_DENOM"], "CURRENCY_DENOM")
    if denom.nunique() != 1:
        raise InputError("ECB rates file: more than one CURRENCY_DENOM; give one base currency")
    base = denom.iat[0]
    frame = pd.DataFrame(
        {
            "currency": currency,
            "period": _months(raw["TIME_PERIOD"], days=True),
            "per_base": _positive(raw["OBS_VALUE"], "OBS_VALUE"),
        }
    )
    monthly = frame.groupby(["currency", "period"], as_index=False)["per_base"].mean()
    usd = monthly[monthly["currency"] == "USD"].set_index("period")["per_base"]
    if usd.empty:
        raise InputError("ECB rates file: no USD rows, so no rate can be put per US dollar")
    monthly = monthly[monthly["period"].isin(usd.index) & (monthly["currency"] != "USD")]
    per_usd = monthly["per_base"].to_numpy() / usd.loc[monthly["period"]].to_numpy()
    out = pd.DataFrame(
        {
            "currency": monthly["currency"].to_numpy(),
            "period": monthly["period"].to_numpy(),
            "per_usd": per_usd,
        }
    )
    base_rows = pd.DataFrame(
        {"currency": base, "period": usd.index, "per_usd": 1.0 / usd.to_numpy()}
    )
    return pd.concat([out, base_rows], ignore_index=True)


def _codes(column: pd.Series, name: str) -> pd.Series:
    """Currency codes in upper case; one that is no ISO 4217 code of money is an error (a
    rate for RMB or XXX was loaded, and no figure could ever use it: the ingest keeps CNY)."""
    codes = column.str.strip().str.upper()
    bad = ~codes.isin(currencies.iso_codes())  # three letters, and one of money
    if bad.any():
        given = column[bad].iat[0]
        raise InputError(
            f"line {codes.index[bad][0]}: {name} {given!r} is not an ISO 4217 code"
            + currencies.iso_hint(str(given))
        )
    return codes


def _months(column: pd.Series, *, days: bool = False) -> pd.Series:
    """The month of each period. A date must exist (2021-02-30 had loaded as February). With
    ``days`` (the ECB's daily rates, averaged over their month) any day stands for its month;
    without, a table of months dates one by its first or last day, as a mapped table does:
    2021-03-15 is a day's rate, not the month's."""
    text = column.str.strip()
    shape_ok = text.str.match(r"^\d{4}-\d{2}(-\d{2})?$")
    year = pd.to_numeric(text.str[:4].where(shape_ok), errors="coerce")
    today = pd.Timestamp.today().normalize()
    parsed = pd.to_datetime(
        text.str[:7].where(year.between(1900, today.year)), format="%Y-%m", errors="coerce"
    )
    # read from the text: pandas holds no date before 1677 nor after 2262
    early = year < 1900
    if early.any():
        raise InputError(
            f"line {text.index[early][0]}: period {column[early].iat[0]!r} is before 1900: the "
            "ingest refuses such a period, so no figure could use the rate"
        )
    # a month that has not begun has no rate yet: a mistyped year (2099 for 2019), as the
    # ingest refuses such a period
    future = (year > today.year) | (parsed > today)
    if future.any():
        raise InputError(
            f"line {text.index[future][0]}: period {column[future].iat[0]!r} has not begun "
            f"(today is {today:%Y-%m-%d})"
        )
    bad = parsed.isna()
    if bad.any():
        raise InputError(
            f"line {text.index[bad][0]}: period {column[bad].iat[0]!r}: expected YYYY-MM or YYYY-MM-DD"
        )
    months = parsed.dt.to_period("M").dt.to_timestamp()
    dated = text.str.len() == 10
    day = pd.to_datetime(text.where(dated), format="%Y-%m-%d", errors="coerce")
    impossible = dated & day.isna()
    if impossible.any():
        first = text.index[impossible][0]
        raise InputError(
            f"line {first}: period {column[first]!r} is not a date: "
            f"{months[first]:%Y-%m} has {months[first].days_in_month} days"
        )
    within = dated & (day != months) & (day != months + pd.offsets.MonthEnd(0))
    if not days and within.any():
        raise InputError(
            f"line {text.index[within][0]}: period {column[within].iat[0]!r} is a day within "
            "its month: a month's rate is dated by the month (YYYY-MM) or its first or last day"
        )
    return months


#: units of a currency per US dollar (or per euro, the ECB's base: the same orders) that a
#: rate may be. The dearest units, an ounce of gold (XAU) or palladium, are worth a few
#: thousand dollars, the cheapest currency in use (the Iranian rial) about a millionth of
#: one; the store takes former currencies too, and the last months of Zimbabwe's dollars
#: (ZWN, ZWR, 2008) ran to trillions a dollar: the range leaves hundreds of times room at
#: the dear end and a thousand beyond those at the cheap one, and refuses the mistakes it
#: is for: 1e-300 per dollar had loaded, and made €1 $1e300.
RATE_RANGE = (1e-6, 1e15)


def _positive(column: pd.Series, name: str) -> pd.Series:
    values = pd.to_numeric(column.str.strip(), errors="coerce")
    bad = ~(np.isfinite(values) & (values > 0))
    if bad.any():
        raise InputError(
            f"line {values.index[bad][0]}: {name} {column[bad].iat[0]!r} is not a positive number"
        )
    low, high = RATE_RANGE
    far = (values < low) | (values > high)
    if far.any():
        raise InputError(
            f"line {values.index[far][0]}: {name} {column[far].iat[0]!r} is no currency's rate "
            f"(a rate is {low:g} to {high:g} units per dollar: a unit worth at most a million "
            "dollars, at least a quadrillionth of one)"
        )
    return values.astype(float)
