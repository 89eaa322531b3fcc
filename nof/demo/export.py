"""Generated observations in NHS England's long metric-data CSV layout, one row per quarter.

NHS England publishes one value per (quarter, trust, metric): for a monthly metric the
latest month of the quarter (its basis, METHODOLOGY §2), after any revision. The file loads
back through ``nof demo import`` (POST /v1/observations/csv) or ``nof score``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from typing import Mapping, TextIO

from nof.csv_formats import METRIC_COLUMNS
from shared.methodology import Methodology, TrustInfo, parse_period

from .generator import OBSERVATION, Timeline, quarter_label
from .profiles import PROFILES, UNIT_LABELS


@dataclass(frozen=True)
class QuarterValue:
    trust_code: str
    metric_id: str
    quarter: str  # canonical form, "2025-26 Q3"
    value: float


def quarterly_values(timeline: Timeline) -> list[QuarterValue]:
    """The final value per (trust, metric, quarter): revisions replace, the latest period of
    the quarter wins, a late older period does not."""
    final: dict[tuple[str, str, str], tuple[object, float]] = {}
    for item in timeline.items:
        if item.kind != OBSERVATION:
            continue
        p = item.payload
        period = parse_period(p["period"])
        quarter = quarter_label(period.end_month)
        key = (item.trust_code, p["metric_id"], quarter)
        known = final.get(key)
        if known is None or period >= known[0]:
            final[key] = (period, p["value"])
    return [QuarterValue(code, metric, quarter, value)
            for (code, metric, quarter), (_, value) in sorted(final.items(), key=_order)]


def _order(entry) -> tuple:
    (code, metric, quarter), _ = entry
    return (parse_period(quarter), code, list(PROFILES).index(metric))


def nhse_quarter(quarter: str) -> str:
    """``2025-26 Q3`` in NHS England's form, ``Q3 2025/26``."""
    years, q = quarter.split()
    return f"{q} {years.replace('-', '/')}"


def write_long_csv(out: TextIO, timeline: Timeline, register: Mapping[str, TrustInfo],
                   m: Methodology) -> int:
    """Write the layout's ten columns; returns the number of data rows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(METRIC_COLUMNS)
    rows = quarterly_values(timeline)
    for row in rows:
        info, metric = register[row.trust_code], m.metric(row.metric_id)
        decimals = PROFILES[row.metric_id].decimals
        writer.writerow((nhse_quarter(row.quarter), info.region, info.code, info.name,
                         info.trust_type, info.subtype, metric.id, metric.name,
                         UNIT_LABELS[metric.unit], f"{row.value:.{decimals}f}"))
    return len(rows)
