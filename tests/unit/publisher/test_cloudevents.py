"""CloudEvents mapping: required attributes, the type mapping, stable ids, extension attributes."""

import json

import pytest

from tests.unit.publisher.publisher_builders import seg, seg_change
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
