"""Turn metric and finance CSV files into methodology inputs and scored results."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from nof.csv_formats import read_finance, read_metric_rows
from shared.methodology import (
    FinanceStatus, IntensiveSupport, InvalidInput, Methodology, Observation, Results,
    TrustInfo, league_of,
)
from shared.methodology.batch import results_from_store
from shared.methodology.store import InputStore

# Which CSV column holds each input field, to point errors at the right cell.
_COLUMN_OF = {"value": "Value", "period": "Quarter", "metric_id": "Metric_ID",
              "trust_code": "Trust_code", "observation_id": "Trust_code"}


@dataclass
class Scored:
    store: InputStore
    results: Results


def _observations(m: Methodology, path: str):
    data = read_metric_rows(path, {i for i, d in m.metrics.items() if d.scoring})
    trusts: dict[str, TrustInfo] = {}
    observations = []
    other_types = 0
    for cell in data.rows:
        trust_type = cell.text("Trust_type")
        try:
            scored_type = league_of(trust_type) in m.leagues
        except InvalidInput as error:
            raise cell.fail("Trust_type", error.reason) from None
        if not scored_type:
            other_types += 1
            continue
        code = cell.text("Trust_code")
        trusts.setdefault(code, TrustInfo(code, cell.text("Trust_name"), trust_type,
                                          cell.text("Trust_subtype"), cell.text("Region")))
        obs = Observation(code, cell.text("Metric_ID"), cell.text("Quarter"),
                          cell.decimal("Value"), f"{path}:{cell.line}", source=path)
        try:
            m.validate(obs)
        except InvalidInput as error:
            raise cell.fail(_COLUMN_OF.get(error.field, error.field), error.reason) from None
        observations.append(obs)
    _report(path, data, other_types)
    return trusts, observations


def _report(path: str, data, other_types: int) -> None:
    parts = []
    if data.published_scores:
        parts.append(f"{data.published_scores} published score rows (OF1xxx/OF4xxx/OF5000/OF5002)")
    if data.unknown:
        ids = ", ".join(sorted(data.unknown)[:8]) + (" ..." if len(data.unknown) > 8 else "")
        parts.append(f"{sum(data.unknown.values())} rows with non-scoring metric IDs ({ids})")
    if data.blank:
        parts.append(f"{data.blank} rows with a blank Value")
    if other_types:
        parts.append(f"{other_types} rows for organisation types this methodology does not score")
    if parts:
        print(f"{path}: skipped " + "; ".join(parts), file=sys.stderr)


def _finance_inputs(path: str, trusts: dict[str, TrustInfo]) -> list:
    inputs, unknown = [], 0
    for row in read_finance(path):
        if row.trust_code not in trusts:
            unknown += 1
            continue
        change_id = f"{path}:{row.line}"
        inputs.append(FinanceStatus(row.trust_code, row.in_deficit, change_id=change_id))
        if row.intensive_support is not None:
            inputs.append(IntensiveSupport(row.trust_code, row.intensive_support, change_id))
    if unknown:
        print(f"{path}: skipped {unknown} rows for trusts without metric data", file=sys.stderr)
    return inputs


def score_files(m: Methodology, metrics_path: str, finance_path: str | None) -> Scored:
    """Score a long metric-data file (and optional finance flags) with one methodology."""
    trusts, inputs = _observations(m, metrics_path)
    if finance_path:
        inputs += _finance_inputs(finance_path, trusts)
    store = InputStore(m, trusts)
    for item in inputs:
        store.apply(item)
    return Scored(store, results_from_store(m, store))
