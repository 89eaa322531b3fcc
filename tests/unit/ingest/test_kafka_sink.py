"""The Kafka sink asks the broker whether it answers at most once a second, not on every request."""

from __future__ import annotations

from services.ingest import sink
from shared.settings import KafkaSettings


def test_a_broker_that_answered_is_not_asked_again_within_a_second(monkeypatch):
    asked = []
    monkeypatch.setattr(sink, "broker_answers", lambda settings, timeout_s: asked.append(1) or True)
    clock = iter([100.0, 100.4, 100.9, 101.2])
    kafka = sink.KafkaInputSink(KafkaSettings(), clock=lambda: next(clock))  # not time.monotonic: other threads use it
    assert [kafka._broker_answers() for _ in range(4)] == [True] * 4
    assert len(asked) == 2  # at 100.0, then again at 101.2


def test_a_broker_that_did_not_answer_is_asked_again_at_once(monkeypatch):
    answers = iter([False, True])
    monkeypatch.setattr(sink, "broker_answers", lambda settings, timeout_s: next(answers))
    kafka = sink.KafkaInputSink(KafkaSettings())
    assert kafka._broker_answers() is False
    assert kafka._broker_answers() is True


def test_a_requests_observations_travel_as_one_record_per_league_in_order():
    from services.ingest.accept import Keyed
    from shared.events import FinanceStatusChanged, ObservationReceived, TrustRef, decode_input, single_inputs

    def obs(i: int, key: str) -> Keyed:
        trust = TrustRef(code=f"T{i % 3}", name="t", trust_type="acute")
        return Keyed(key, ObservationReceived(observation_id=f"o{i}", trust=trust, metric_id="M", period="2025-12",
                                              value=i, correlation_id="cid"))

    finance = Keyed("acute", FinanceStatusChanged(change_id="f", trust=TrustRef(code="T0", name="t", trust_type="acute"),
                                                  in_deficit=True))
    records = [obs(i, "acute" if i % 2 else "ambulance") for i in range(1203)] + [finance]
    wire = sink.wire_records(records)
    observations = [w for w in wire if w[0].endswith("nof.observations.v1")]
    by_key: dict[bytes, list[str]] = {}
    for _, key, value, cid in observations:
        assert cid == "cid"
        by_key.setdefault(key, []).extend(o.observation_id for o in single_inputs(decode_input(value)))
    assert by_key[b"acute"] == [f"o{i}" for i in range(1203) if i % 2]  # every one, in request order
    assert by_key[b"ambulance"] == [f"o{i}" for i in range(1203) if not i % 2]
    assert len(observations) == 4  # 601 and 602 observations: two records of at most 500 each per league
    assert [w for w in wire if w[0].endswith("nof.trust-status.v1")] == [
        (sink.TRUST_STATUS.name, b"acute", finance.event.to_bytes(), None)]
