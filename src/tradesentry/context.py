"""Other records of the same figure, joined beside each observation for the cross checks.

A detector that compares a figure with another record of it declares what it ``needs``;
the engine then adds those columns to the rows it scans, computed here in one DuckDB
query, and the panel carries them as arrays aligned with ``values``:

- ``mirror_value``: the partner's record of the same flow (B's imports from A beside A's
  exports to B), converted into this series' currency with the store's monthly rates;
- ``mirror_currency_ok``: 1 where the conversion was possible (same currency or a rate);
- ``previous_value`` / ``previous_release`` / ``release``: the same cell in the release
  before the one the current figure comes from (release order: publication date, then
  ingestion), so a revision is a cell whose two figures differ;
- ``reference_unit_value``: the median value per kg of the commodity in that month across
  every reporter and partner in the store, the price the unit-value check compares with.
"""

from __future__ import annotations

from collections.abc import Iterable

from tradesentry.schema import OBSERVATION_KEY

CONTEXT_COLUMNS: tuple[str, ...] = (
    "mirror_value",
    "mirror_currency_ok",
    "previous_value",
    "previous_release",
    "release",
    "reference_unit_value",
)
_NEEDS_TO_COLUMNS = {
    "mirror": ("mirror_value", "mirror_currency_ok"),
    "previous": ("previous_value", "previous_release", "release"),
    "reference_unit_value": ("reference_unit_value",),
}
# Flow of the same goods in the partner's record.
_MIRROR_FLOW_SQL = (
    "CASE o.flow WHEN 'export' THEN 'import' WHEN 're-export' THEN 'import' "
    "WHEN 'import' THEN 'export' WHEN 're-import' THEN 'export' END"
)


def _rate(obs: str, rate: str) -> str:
    """Units of the observation's currency per US dollar in its month (1 for USD itself)."""
    return f"coalesce({rate}.per_usd, CASE WHEN {obs}.currency = 'USD' THEN 1.0 END)"


def columns_for(needs: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for need in needs:
        if need not in _NEEDS_TO_COLUMNS:
            raise ValueError(f"unknown context {need!r}; known: {', '.join(_NEEDS_TO_COLUMNS)}")
        out.extend(c for c in _NEEDS_TO_COLUMNS[need] if c not in out)
    return tuple(out)


def source_sql(where: str, needs: Iterable[str]) -> str:
    """SELECT of the current observations matching ``where``, with the needed context columns.

    ``where`` is a clause over the observation columns with ``?`` parameters (never user
    text); without needs this is just the filtered current view.
    """
    needs = set(needs)
    selects, joins = ["o.*"], []
    if "mirror" in needs:
        selects += [
            f"CASE WHEN m.currency = o.currency THEN m.value "
            f"ELSE m.value / {_rate('m', 'rm')} * {_rate('o', 'ro')} END AS mirror_value",
            f"CASE WHEN m.value IS NULL THEN NULL WHEN m.currency = o.currency "
            f"OR ({_rate('m', 'rm')} IS NOT NULL AND {_rate('o', 'ro')} IS NOT NULL) THEN 1 "
            f"ELSE 0 END AS mirror_currency_ok",
        ]
        joins.append(
            f"""LEFT JOIN current_observations m
                ON m.reporter = o.partner AND m.partner = o.reporter AND m.flow = {_MIRROR_FLOW_SQL}
               AND m.classification = o.classification AND m.commodity = o.commodity
               AND m.breakdown = o.breakdown AND m.freq = o.freq AND m.period = o.period
               AND m.period_months = o.period_months
            LEFT JOIN rates rm ON rm.currency = m.currency AND rm.period = o.period
            LEFT JOIN rates ro ON ro.currency = o.currency AND ro.period = o.period"""
        )
    if "previous" in needs:
        key = " AND ".join(f"p.{c} = o.{c}" for c in OBSERVATION_KEY)
        selects += [
            "p.value AS previous_value",
            "p.release_id AS previous_release",
            "o.release_id AS release",
        ]
        joins.append(
            f"""LEFT JOIN (
                SELECT ob.*, row_number() OVER (
                    PARTITION BY {", ".join(f"ob.{c}" for c in OBSERVATION_KEY)}
                    ORDER BY ro.vintage DESC) AS recency
                FROM observations ob JOIN release_order ro USING (release_id)
            ) p ON {key} AND p.recency = 2"""
        )
    if "reference_unit_value" in needs:
        selects.append("u.reference_unit_value")
        joins.append(
            """LEFT JOIN (
                SELECT flow, classification, commodity, period, period_months,
                       median(value / net_weight_kg) AS reference_unit_value
                FROM current_observations
                WHERE net_weight_kg > 0 AND value > 0
                GROUP BY ALL
            ) u ON u.flow = o.flow AND u.classification = o.classification
               AND u.commodity = o.commodity AND u.period = o.period
               AND u.period_months = o.period_months"""
        )
    return (
        f"SELECT {', '.join(selects)} FROM (SELECT * FROM current_observations WHERE {where}) o "
        + " ".join(joins)
    )
