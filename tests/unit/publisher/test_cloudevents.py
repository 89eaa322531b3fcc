"""CloudEvents mapping: required attributes, the type mapping, stable ids, extension attributes, and the
CloudEvents SDK (its current ``cloudevents.core`` API) reading a webhook body and a public-topic record."""

import json

import pytest
from cloudevents.core.bindings import http as ce_http
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat

from tests.unit.publisher.publisher_builders import seg, seg_change
from services.publisher import appender, relay, signing
from services.publisher.alerts import HoldDown, on_change
from services.publisher.cloudevents import SOURCE, facts_of_change, from_alert, from_change, short_type
from shared.events import CloudEvent


def test_change_becomes_a_structured_cloudevent():
    e = seg_change(4, seg(2), seg(3))
    ce = from_change(e)
    body = json.loads(ce.to_bytes())
    assert {k: body[k] for k in ("specversion", "id", "source", "type", "subject", "datacontenttype")} == {
        "specversion": "1.0", "id": e.event_id, "source": SOURCE, "type": "uk.nhs.nof.segment.changed",
        "subject": "RXX", "datacontenttype": "application/json"}
    assert body["league"] == "acute" and body["leagueversion"] == 4
    assert body["data"]["event_id"] == e.event_id and body["data"]["new"]["segment"] == 3
    assert body["time"].startswith("2026-01-05T09:00:00")
    assert CloudEvent.model_validate_json(ce.to_bytes()) == ce


@pytest.mark.parametrize("type_", ["assessment.changed", "segment.changed", "rank.changed"])
def test_type_mapping_round_trips(type_):
    e = seg_change(1, seg(2), seg(3)).model_copy(update={"type": type_})
    assert short_type(from_change(e).type) == type_


def test_alert_cloudevent_uses_the_alert_id_and_type():
    (alert,) = on_change(None, seg_change(2, seg(2), seg(1)), HoldDown())[1]
    ce = from_alert(alert, source="urn:test")
    assert (ce.id, ce.type, ce.source, ce.subject) == (alert.alert_id, "uk.nhs.nof.segment.improved", "urn:test", "RXX")
    assert ce.data["old_segment"] == 2 and ce.data["new_segment"] == 1


def test_facts_of_rank_change_carry_the_movement():
    e = seg_change(1, {"rank": 12, "unadjusted_rank": 12}, {"rank": 5, "unadjusted_rank": 6}).model_copy(
        update={"type": "rank.changed"})
    assert facts_of_change(e, "London").rank_movement == 7
    assert facts_of_change(e, "London").region == "London"


# --- interoperability: the CloudEvents SDK's current API reads what the publisher sends --------------------


def _entries():
    change = appender.change_entry(seg_change(4, seg(2), seg(3)), "London", "urn:test")
    (alert,) = on_change(None, seg_change(2, seg(2), seg(1)), HoldDown())[1]
    return [change, appender.alert_entry(alert, "London", "urn:test")]


@pytest.mark.parametrize("entry", _entries(), ids=["change", "alert"])
def test_the_sdk_reads_a_webhook_body(entry):
    """A webhook delivery: the body and headers the dispatcher sends (signing.headers), read over HTTP."""
    headers = signing.headers(signing.new_secret(), entry.event_id, 1_700_000_000, entry.body)
    event = ce_http.from_http(ce_http.HTTPMessage(headers=headers, body=entry.body), JSONFormat())
    body = json.loads(entry.body)
    assert "dataschema" not in body  # an absent optional attribute is omitted, never null
    assert (event.get_id(), event.get_type(), event.get_subject()) == (body["id"], body["type"], body["subject"])
    assert event.get_extension("leagueversion") == body["leagueversion"] and event.get_data() == body["data"]


@pytest.mark.parametrize("entry", _entries(), ids=["change", "alert"])
def test_the_sdk_reads_a_public_topic_record(entry):
    """A record of the public topic: the value, key and headers the relay produces, read with the Kafka binding."""
    message = ce_kafka.KafkaMessage(headers={k: v for k, v in relay.HEADERS}, key=entry.facts.league.encode(),
                                    value=entry.body)
    event = ce_kafka.from_kafka(message, JSONFormat())
    assert event.get_id() == entry.event_id and event.get_source() == "urn:test"
    assert event.get_extension("league") == entry.facts.league and event.get_dataschema() is None
