"""The latest-period input store both scoring paths fold inputs into (METHODOLOGY §2, §5)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Mapping, NamedTuple

from .errors import InvalidInput, UnknownTrust
from .inputs import (
    FinanceStatus, Observation, Retraction, TrustInfo, check_observation, validate_input,
)
from .periods import Period, parse_period
from .versions import Methodology


class Reading(NamedTuple):
    period: Period
    value: Fraction
    observation_id: str


@dataclass(frozen=True)
class ValueChanged:
    """The scored (latest-period) value of one trust's metric changed."""

    trust_code: str
    metric_id: str
    old: Fraction | None
    new: Fraction | None  # None: a retraction left the trust without a value for the metric


@dataclass(frozen=True)
class FlagChanged:
    """A finance or intensive-support flag of one trust changed."""

    trust_code: str
    kind: str  # "finance" or "intensive_support"
    old: object
    new: object


class InputStore:
    """Folds inputs in arrival order into per-trust state, deciding what each one changes.

    An input whose id was seen before is a duplicate and changes nothing. For each
    (trust, metric) every period is kept as history; the latest period is the scored one.
    A re-sent period is a revision and replaces that period's value; an older period
    arriving late only extends the history (§2). A retraction removes a reading (the latest
    remaining period becomes the scored one) or a flag change (the flag goes back to the
    latest change not retracted); retracting what is not there changes nothing.
    """

    def __init__(self, m: Methodology, trusts: Mapping[str, TrustInfo]) -> None:
        self.methodology = m
        self.trusts: dict[str, TrustInfo] = {}
        self.history: dict[tuple[str, str], dict[Period, Reading]] = {}
        self.latest: dict[str, dict[str, Reading]] = {}  # metric id -> trust code -> reading
        self.finance: dict[str, tuple[bool | None, bool]] = {}
        self.intensive: dict[str, bool] = {}
        self._seen: set[tuple[str, str]] = set()
        self._flags: dict[tuple[str, str], list[tuple[str, object]]] = {}  # (kind, trust) -> (change id, value)
        for info in trusts.values():
            self.add_trust(info)

    def add_trust(self, info: TrustInfo) -> bool:
        """Register a trust; returns False when it is already registered unchanged."""
        known = self.trusts.get(info.code)
        if known == info:
            return False
        if info.league not in self.methodology.leagues:
            raise InvalidInput("trust_type", f"{info.trust_type!r} is not scored by "
                                             f"{self.methodology.version}")
        if known is not None and known.league != info.league:
            raise InvalidInput("trust_type", f"{info.code} cannot move from {known.league} "
                                             f"to {info.league}")
        self.trusts[info.code] = info
        return known is None

    def _trust(self, code: str) -> TrustInfo:
        try:
            return self.trusts[code]
        except KeyError:
            raise UnknownTrust(code) from None

    def apply(self, item) -> ValueChanged | FlagChanged | None:
        """Fold one input; returns what it changed, or None. Raises InvalidInput."""
        if isinstance(item, Observation):
            parsed = check_observation(self.methodology.metrics, item)
        else:
            validate_input(self.methodology.metrics, item)
        self._trust(item.trust_code)
        key = _identity(item)
        if key in self._seen:
            return None
        self._seen.add(key)
        if isinstance(item, Observation):
            return self._observe(item, *parsed)
        if isinstance(item, Retraction):
            return self._retract(item)
        if isinstance(item, FinanceStatus):
            return self._set_flag("finance", item.trust_code, item.change_id,
                                  (item.in_deficit, item.receives_deficit_support))
        return self._set_flag("intensive_support", item.trust_code, item.change_id, item.intensive_support)

    def _flag_table(self, kind: str) -> tuple[dict, object]:
        return (self.finance, (None, False)) if kind == "finance" else (self.intensive, False)

    def _set_flag(self, kind: str, code: str, change_id: str, new: object) -> FlagChanged | None:
        table, default = self._flag_table(kind)
        self._flags.setdefault((kind, code), []).append((change_id, new))
        old = table.get(code, default)
        table[code] = new
        return None if old == new else FlagChanged(code, kind, old, new)

    def _retract(self, r: Retraction) -> ValueChanged | FlagChanged | None:
        if r.target != "observation":
            changes = self._flags.get((r.target, r.trust_code), [])
            kept = [c for c in changes if c[0] != r.input_id]
            if len(kept) == len(changes):
                return None
            self._flags[(r.target, r.trust_code)] = kept
            table, default = self._flag_table(r.target)
            old, new = table.get(r.trust_code, default), kept[-1][1] if kept else default
            table[r.trust_code] = new
            return None if old == new else FlagChanged(r.trust_code, r.target, old, new)
        for (code, metric_id), series in self.history.items():
            if code != r.trust_code or (r.metric_id is not None and metric_id != r.metric_id):
                continue
            period = None if r.period is None else parse_period(r.period)
            gone = [p for p, reading in series.items()
                    if (reading.observation_id == r.input_id if r.input_id is not None else p == period)]
            if gone:
                return self._withdraw(code, metric_id, series, gone)
        return None

    def _withdraw(self, code: str, metric_id: str, series: dict[Period, Reading],
                  gone: list[Period]) -> ValueChanged | None:
        for p in gone:
            del series[p]
        current = self.latest.get(metric_id, {})
        before = current.get(code)
        after = series[max(series)] if series else None
        if after is None:
            current.pop(code, None)
        else:
            current[code] = after
        if before == after or (before and after and before.value == after.value):
            return None
        return ValueChanged(code, metric_id, None if before is None else before.value,
                            None if after is None else after.value)

    def _observe(self, obs: Observation, period: Period, value: Fraction) -> ValueChanged | None:
        reading = Reading(period, value, obs.observation_id)
        series = self.history.setdefault((obs.trust_code, obs.metric_id), {})
        series[reading.period] = reading
        current = self.latest.setdefault(obs.metric_id, {})
        before = current.get(obs.trust_code)
        if before is not None and reading.period < before.period:
            return None  # a late older period is history only
        current[obs.trust_code] = reading
        if before is not None and before.value == reading.value:
            return None
        return ValueChanged(obs.trust_code, obs.metric_id,
                            None if before is None else before.value, reading.value)

    def deficit_of(self, code: str) -> tuple[bool | None, bool]:
        return self.finance.get(code, (None, False))

    def values_of(self, metric_id: str) -> dict[str, Fraction]:
        """Latest scored value of every trust reporting the metric."""
        return {code: r.value for code, r in self.latest.get(metric_id, {}).items()}


def _identity(item) -> tuple[str, str]:
    if isinstance(item, Observation):
        return ("observation", item.observation_id)
    return (type(item).__name__, item.change_id)
