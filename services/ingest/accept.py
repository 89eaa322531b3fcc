"""Turn validated request items into input events: check them against the trust register and the
methodology catalogue, derive stable ids, choose each record's partition key. No I/O here."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from services.ingest.ledger import Claim, Conflicts, Ledger, digest, series
from services.ingest.period_window import PeriodWindow
from services.ingest.schemas import FinanceIn, IntensiveSupportIn, ObservationIn, RetractionIn, TrustIn
from shared.errors import Conflict, FieldError, NotFound, ValidationFailed
from shared.events import (
    Event,
    FinanceStatusChanged,
    InputRetracted,
    IntensiveSupportChanged,
    ObservationReceived,
    TrustRef,
    TrustRegistered,
)
from shared.methodology import (
    InvalidInput,
    Methodology,
    Observation,
    Retraction,
    TrustInfo,
    league_of,
    parse_period,
)


@dataclass(frozen=True)
class Keyed:
    """An event and the Kafka key that routes it to the scorer owning its league."""

    key: str
    event: Event
    client_id: bool = False  # the observation id was the client's (an idempotency key), not derived


def _digest(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:32]


def derive_observation_id(trust: str, metric: str, period: str, value: float, source: str | None) -> str:
    """Same trust, metric, period, value and source → same id, so a re-sent observation is a no-op."""
    return "obs_" + _digest(trust, metric, period, repr(float(value)), source or "")


def claim_of(record: Keyed) -> Claim:
    e = record.event
    assert isinstance(e, ObservationReceived)
    return Claim(series(e.trust.code, e.metric_id, e.period), digest(e.trust.code, e.metric_id, e.period, e.value, e.source),
                 e.observation_id if record.client_id else None)


def retraction_claim(record: Keyed) -> Claim | None:
    """An observation withdrawn by metric and period marks its series in the ledger: the value sent next, even
    the one withdrawn, is then a change with an id of its own, not a re-send of the id the retraction spent."""
    e = record.event
    if isinstance(e, InputRetracted) and e.target == "observation" and e.metric_id and e.period:
        return Claim(series(e.trust.code, e.metric_id, e.period), "retracted " + e.change_id)
    return None


def settle(records: list[Keyed], ledger: Ledger) -> list[Keyed]:
    """Record observations (and retractions of observations) in the idempotency ledger; an observation that
    changes its series back to an earlier payload gets an id of that payload and the series' revision, so the
    scorer does not take it for a re-send. Raises Conflict (409) naming each client id reused with another
    payload; then nothing is recorded."""
    observed = [i for i, r in enumerate(records) if isinstance(r.event, ObservationReceived)]
    marks = [c for r in records if (c := retraction_claim(r)) is not None]
    try:
        revisions = ledger.claim([claim_of(records[i]) for i in observed] + marks)[:len(observed)]
    except Conflicts as exc:
        raise Conflict("observation_id reused with a different payload: nothing was accepted; send a new id for "
                       "a new value", [FieldError("observation_id", "already accepted with a different payload",
                                                  observed[p]) for p in exc.positions]) from None
    settled = list(records)
    for i, revision in zip(observed, revisions):
        record = records[i]
        if revision > 0 and not record.client_id:
            e = record.event
            new_id = "obs_" + _digest(e.trust.code, e.metric_id, e.period, repr(float(e.value)), e.source or "",
                                      f"revision {revision}")
            settled[i] = Keyed(record.key, e.model_copy(update={"observation_id": new_id}), False)
    return settled


def trust_ref(info: TrustInfo) -> TrustRef:
    return TrustRef(code=info.code, name=info.name, trust_type=info.trust_type, subtype=info.subtype, region=info.region)


class Acceptor:
    """Validates inputs against the register and the methodology and builds their events."""

    def __init__(self, methodology: Methodology, register: dict[str, TrustInfo],
                 periods: PeriodWindow | None = None) -> None:
        self.methodology = methodology
        self.register = register
        self.periods = periods or PeriodWindow(methodology.first_period, 1, methodology.version)

    def observation(self, item: ObservationIn, correlation_id: str | None) -> Keyed:
        """One observation → its event; raises InvalidInput naming the field."""
        info = self.register.get(item.trust_code)
        if info is None:
            raise InvalidInput("trust_code", f"unknown trust {item.trust_code!r}")
        parsed = parse_period(item.period)
        self.periods.check(parsed)
        period = str(parsed)
        obs_id = item.observation_id or derive_observation_id(
            info.code, item.metric_id, period, item.value, item.source
        )
        self.methodology.validate(Observation(info.code, item.metric_id, period, item.value, obs_id, item.source))
        metric = self.methodology.metric(item.metric_id)
        if not metric.applies(info.league, info.code):
            raise InvalidInput("metric_id", f"{item.metric_id} does not apply to {info.code} ({info.trust_type})")
        event = ObservationReceived(
            observation_id=obs_id, trust=trust_ref(info), metric_id=item.metric_id, period=period,
            value=float(item.value), source=item.source, observed_at=item.observed_at, correlation_id=correlation_id,
        )
        return Keyed(self.methodology.partition_key(info.trust_type), event, client_id=item.observation_id is not None)

    def observations(self, items: list[ObservationIn], correlation_id: str | None) -> list[Keyed]:
        """All or nothing: every item's event, or ValidationFailed listing every bad item."""
        accepted, errors = [], []
        for index, item in enumerate(items):
            try:
                accepted.append(self.observation(item, correlation_id))
            except InvalidInput as exc:
                errors.append(FieldError(exc.field, exc.reason, index))
        if errors:
            raise ValidationFailed(errors)
        return accepted

    def _known(self, code: str) -> TrustInfo:
        info = self.register.get(code)
        if info is None:
            raise NotFound(f"unknown trust {code!r}: register it with POST /v1/trusts first")
        return info

    def finance(self, code: str, body: FinanceIn, correlation_id: str | None) -> Keyed:
        info = self._known(code)
        change_id = "fin_" + _digest(code, body.in_deficit, body.receives_deficit_support, correlation_id)
        event = FinanceStatusChanged(
            change_id=change_id, trust=trust_ref(info), in_deficit=body.in_deficit,
            receives_deficit_support=body.receives_deficit_support, correlation_id=correlation_id,
        )
        return Keyed(self.methodology.partition_key(info.trust_type), event)

    def intensive_support(self, code: str, body: IntensiveSupportIn, correlation_id: str | None) -> Keyed:
        info = self._known(code)
        change_id = "isp_" + _digest(code, body.intensive_support, correlation_id)
        event = IntensiveSupportChanged(
            change_id=change_id, trust=trust_ref(info), intensive_support=body.intensive_support,
            correlation_id=correlation_id,
        )
        return Keyed(self.methodology.partition_key(info.trust_type), event)

    def retraction(self, body: RetractionIn, correlation_id: str | None) -> Keyed:
        """A retraction's event; raises ValidationFailed naming the field when the methodology refuses it."""
        info = self._known(body.trust_code)
        period = None if body.period is None else body.period.strip()
        change_id = "ret_" + _digest(body.target, info.code, body.input_id, body.metric_id, period, correlation_id)
        try:
            if period is not None:
                period = str(parse_period(period))
            self.methodology.validate(Retraction(change_id, info.code, body.target, body.input_id,
                                                 body.metric_id, period))
        except InvalidInput as exc:
            raise ValidationFailed([FieldError(exc.field, exc.reason)]) from None
        event = InputRetracted(change_id=change_id, trust=trust_ref(info), target=body.target, input_id=body.input_id,
                               metric_id=body.metric_id, period=period, reason=body.reason,
                               correlation_id=correlation_id)
        return Keyed(self.methodology.partition_key(info.trust_type), event)

    def trust(self, body: TrustIn, correlation_id: str | None) -> tuple[TrustInfo, Keyed]:
        try:
            league_of(body.trust_type)
            key = self.methodology.partition_key(body.trust_type)
        except InvalidInput as exc:
            raise ValidationFailed([FieldError(exc.field, exc.reason)]) from None
        info = TrustInfo(body.trust_code, body.trust_name, body.trust_type, body.trust_subtype, body.region, "api")
        event = TrustRegistered(change_id="trust_" + _digest(info, correlation_id), trust=trust_ref(info),
                                correlation_id=correlation_id)
        return info, Keyed(key, event)
