"""The Kafka sink asks the broker whether it answers at most once a second, not on every request."""

from __future__ import annotations

from services.ingest import sink
from shared.settings import KafkaSettings


def test_a_broker_that_answered_is_not_asked_again_within_a_second(monkeypatch):
    asked = []
    monkeypatch.setattr(sink, "broker_answers", lambda settings, timeout_s: asked.append(1) or True)
    clock = iter([100.0, 100.4, 100.9, 101.2])
    monkeypatch.setattr(sink.time, "monotonic", lambda: next(clock))
    kafka = sink.KafkaInputSink(KafkaSettings())
    assert [kafka._broker_answers() for _ in range(4)] == [True] * 4
    assert len(asked) == 2  # at 100.0, then again at 101.2


def test_a_broker_that_did_not_answer_is_asked_again_at_once(monkeypatch):
    answers = iter([False, True])
    monkeypatch.setattr(sink, "broker_answers", lambda settings, timeout_s: next(answers))
    kafka = sink.KafkaInputSink(KafkaSettings())
    assert kafka._broker_answers() is False
    assert kafka._broker_answers() is True
