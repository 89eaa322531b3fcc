"""The committed AsyncAPI document is the one the models generate today."""

from services.publisher import asyncapi


def test_committed_asyncapi_is_up_to_date():
    assert asyncapi.OUTPUT.read_text() == asyncapi.render(), (
        "docs/asyncapi.json is stale: run `python -m services.publisher.asyncapi`")


def test_document_names_the_public_topic_and_both_messages():
    doc = asyncapi.document()
    assert doc["channels"]["publicEvents"]["address"] == "nof.public-events.v1"
    assert {"CloudEvent", "ChangeEvent", "SegmentAlert", "Cause"} <= set(doc["components"]["schemas"])
