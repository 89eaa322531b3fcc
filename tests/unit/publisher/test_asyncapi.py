"""The committed AsyncAPI document is the one the models generate today."""

import json

from services.publisher import asyncapi


def test_committed_asyncapi_is_up_to_date():
    assert asyncapi.OUTPUT.read_text() == asyncapi.render(), (
        "docs/asyncapi.json is stale: run `python -m services.publisher.asyncapi`")


def test_document_names_the_public_topic_and_both_messages():
    doc = asyncapi.document()
    assert doc["channels"]["publicEvents"]["address"] == "nof.public-events.v1"
    assert {"CloudEvent", "ChangeEvent", "SegmentAlert", "Cause"} <= set(doc["components"]["schemas"])


def test_webhook_deliveries_are_documented_and_match_what_the_dispatcher_sends():
    """The webhook channel's headers and payload schemas accept a real delivery (signing.headers and a
    CloudEvent body), and refuse one with an unsigned header set."""
    from jsonschema import Draft202012Validator

    from services.publisher import appender, signing
    from tests.unit.publisher.publisher_builders import seg, seg_change

    doc = asyncapi.document()
    assert set(doc["channels"]["webhooks"]["messages"]) == {"change", "alert"}
    message = doc["components"]["messages"]["WebhookChangeEvent"]
    entry = appender.change_entry(seg_change(4, seg(2), seg(3)), "London", "urn:test")
    headers = {k.lower(): v for k, v in signing.headers(signing.new_secret(), entry.event_id, 1_700_000_000,
                                                          entry.body).items()}

    def errors(schema: dict, value: object) -> list[str]:
        root = {**schema, "components": doc["components"]}
        return [e.message for e in Draft202012Validator(root).iter_errors(value)]

    assert errors(message["headers"], headers) == []
    assert errors(message["payload"], json.loads(entry.body)) == []
    assert errors(message["headers"], {k: v for k, v in headers.items() if k != "webhook-signature"})
    assert errors(message["payload"], {**json.loads(entry.body), "dataschema": None})
