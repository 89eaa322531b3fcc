"""The latest-period input store both scoring paths fold inputs into (METHODOLOGY §2, §5)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Mapping, NamedTuple

from .errors import InvalidInput, UnknownTrust
from .inputs import (
    FinanceStatus, Observation, TrustInfo, check_observation, validate_input,
)
from .periods import Period
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
    new: Fraction


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
    arriving late only extends the history (§2).
    """

    def __init__(self, m: Methodology, trusts: Mapping[str, TrustInfo]) -> None:
        self.methodology = m
        self.trusts: dict[str, TrustInfo] = {}
        self.history: dict[tuple[str, str], dict[Period, Reading]] = {}
        self.latest: dict[str, dict[str, Reading]] = {}  # metric id -> trust code -> reading
        self.finance: dict[str, tuple[bool | None, bool]] = {}
        self.intensive: dict[str, bool] = {}
        self._seen: set[tuple[str, str]] = set()
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
        if isinstance(item, FinanceStatus):
            new = (item.in_deficit, item.receives_deficit_support)
            old = self.finance.get(item.trust_code, (None, False))
            self.finance[item.trust_code] = new
            return None if old == new else FlagChanged(item.trust_code, "finance", old, new)
        old = self.intensive.get(item.trust_code, False)
        self.intensive[item.trust_code] = item.intensive_support
        if old == item.intensive_support:
            return None
        return FlagChanged(item.trust_code, "intensive_support", old, item.intensive_support)

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
