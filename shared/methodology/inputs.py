"""The inputs the methodology scores, and their validation (METHODOLOGY §1, §2, §5)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from numbers import Real
from typing import Union

from .catalogue import UNIT_DOMAINS, Catalogue
from .errors import InvalidInput
from .leagues import league_of
from .periods import Period, parse_period


@dataclass(frozen=True)
class TrustInfo:
    """A registered organisation: its code, name and the trust type that fixes its league."""

    code: str
    name: str
    trust_type: str
    subtype: str = ""
    region: str = ""
    source: str = ""

    @property
    def league(self) -> str:
        return league_of(self.trust_type)


@dataclass(frozen=True)
class Observation:
    """One metric value for one trust and period; ``observation_id`` makes re-sends idempotent."""

    trust_code: str
    metric_id: str
    period: str
    value: Union[int, float, Decimal, Fraction]
    observation_id: str
    source: str | None = None


@dataclass(frozen=True)
class FinanceStatus:
    """Deficit flag (§5). ``in_deficit=None`` is unknown: treated as not in deficit, warned."""

    trust_code: str
    in_deficit: bool | None
    receives_deficit_support: bool = False
    change_id: str = ""


@dataclass(frozen=True)
class IntensiveSupport:
    """The Recovery Support Programme decision that sets segment 5 (§5)."""

    trust_code: str
    intensive_support: bool
    change_id: str = ""


@dataclass(frozen=True)
class Retraction:
    """Withdraws an input accepted in error (§8): an observation, by its id or by trust, metric and period, or
    a finance or intensive-support flag, by its change id. The tables go back to what they would be had the
    input never arrived; the changes name the retraction as their cause. A retracted id stays spent: to send
    the value again, send it with a new id."""

    change_id: str
    trust_code: str
    target: str  # "observation", "finance" or "intensive_support"
    input_id: str | None = None  # the observation id or flag change id withdrawn
    metric_id: str | None = None  # with period: every reading of that trust, metric and period
    period: str | None = None


RETRACTABLE = ("observation", "finance", "intensive_support")

Input = Union[Observation, FinanceStatus, IntensiveSupport, Retraction]


def exact_value(value) -> Fraction:
    """An observation value as an exact fraction; floats keep their shortest decimal form,
    so 0.1 means one tenth rather than the nearest binary double."""
    kind = type(value)
    if kind is Decimal or kind is float or kind is int or kind is Fraction:
        pass  # the common types, checked without the slower abstract-class test
    elif isinstance(value, bool) or not isinstance(value, (Real, Decimal)):
        raise InvalidInput("value", f"{value!r} is not a number")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInput("value", f"{value!r} is not finite")
        return Fraction(Decimal(repr(value)))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidInput("value", f"{value!r} is not finite")
        return Fraction(value)
    return Fraction(value)


def _text(field: str, value) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field, "must be a non-empty string")


def check_observation(metrics: Catalogue, obs: Observation) -> tuple[Period, Fraction]:
    """Validate an observation against a methodology's metrics; return its parsed period and exact value."""
    _text("trust_code", obs.trust_code)
    _text("observation_id", obs.observation_id)
    metric = metrics[obs.metric_id if isinstance(obs.metric_id, str) else repr(obs.metric_id)]
    period = parse_period(obs.period)
    value = exact_value(obs.value)
    low, high = UNIT_DOMAINS[metric.unit]
    if low is not None and value < low or high is not None and value > high:
        span = f"{low if low is not None else '-inf'}..{high if high is not None else 'inf'}"
        raise InvalidInput("value", f"{str(obs.value)!r} is outside {span} for unit {metric.unit}")
    return period, value


def validate_input(metrics: Catalogue, item) -> None:
    """Raise InvalidInput (naming field and reason) unless ``item`` is a well-formed input:
    a known metric, a value in its unit's domain (§7), a parsable period (§2), proper flags."""
    if isinstance(item, Observation):
        check_observation(metrics, item)
        return None
    if isinstance(item, FinanceStatus):
        _text("trust_code", item.trust_code)
        _text("change_id", item.change_id)
        if item.in_deficit not in (True, False, None):
            raise InvalidInput("in_deficit", "must be true, false or null")
        if not isinstance(item.receives_deficit_support, bool):
            raise InvalidInput("receives_deficit_support", "must be true or false")
        return None
    if isinstance(item, IntensiveSupport):
        _text("trust_code", item.trust_code)
        _text("change_id", item.change_id)
        if not isinstance(item.intensive_support, bool):
            raise InvalidInput("intensive_support", "must be true or false")
        return None
    if isinstance(item, Retraction):
        _text("trust_code", item.trust_code)
        _text("change_id", item.change_id)
        if item.target not in RETRACTABLE:
            raise InvalidInput("target", f"must be one of {', '.join(RETRACTABLE)}")
        by_key = item.metric_id is not None or item.period is not None
        if item.target != "observation" or not by_key:
            _text("input_id", item.input_id)
        elif item.input_id is not None:
            raise InvalidInput("input_id", "give an observation id, or a metric and period, not both")
        else:
            metrics[item.metric_id if isinstance(item.metric_id, str) else repr(item.metric_id)]
            parse_period(item.period)
        return None
    raise InvalidInput("input", f"unsupported input type {type(item).__name__}")
