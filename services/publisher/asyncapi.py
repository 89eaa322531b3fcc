"""Generates docs/asyncapi.json (AsyncAPI 3.0) from the pydantic models: `python -m services.publisher.asyncapi`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

from shared.events import Cause, ChangeEvent, CloudEvent, SegmentAlert
from shared.settings import REPO_ROOT
from shared.topics import CHANGES, PUBLIC_EVENTS

from services.publisher.cloudevents import TYPE_PREFIX
from services.publisher.filters import EVENT_TYPES

OUTPUT = REPO_ROOT / "docs" / "asyncapi.json"

#: The headers of every webhook request (services/publisher/signing.py, Standard Webhooks).
WEBHOOK_HEADERS = {
    "type": "object",
    "required": ["webhook-id", "webhook-timestamp", "webhook-signature", "content-type"],
    "properties": {
        "webhook-id": {"type": "string", "description": "the CloudEvent id; the same on every retry and replay"},
        "webhook-timestamp": {"type": "string", "pattern": "^[0-9]+$", "description": "Unix seconds of this attempt"},
        "webhook-signature": {
            "type": "string", "pattern": "^v1,[A-Za-z0-9+/=]+( v1,[A-Za-z0-9+/=]+)*$",
            "description": "v1,<base64 HMAC-SHA256 of '{webhook-id}.{webhook-timestamp}.{body}' keyed with the "
                           "base64-decoded part of the subscription's whsec_ secret>"},
        "content-type": {"type": "string", "const": "application/cloudevents+json"},
        "x-correlation-id": {"type": "string", "description": "the correlation id of the input that caused it"},
    },
}


def document() -> dict[str, Any]:
    _, schemas = models_json_schema(
        [(m, "serialization") for m in (CloudEvent, ChangeEvent, SegmentAlert, Cause)],
        ref_template="#/components/schemas/{model}")
    components = schemas["$defs"]
    ce = lambda name: {  # noqa: E731
        "name": name, "contentType": "application/cloudevents+json",
        "payload": {"allOf": [{"$ref": "#/components/schemas/CloudEvent"},
                              {"properties": {"data": {"$ref": f"#/components/schemas/{name}"}}}]}}
    webhook = lambda name: {  # noqa: E731
        **ce(name), "name": f"Webhook{name}", "headers": WEBHOOK_HEADERS,
        "bindings": {"http": {"bindingVersion": "0.3.0"}}}
    types = ", ".join(TYPE_PREFIX + t for t in EVENT_TYPES)
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "NOF live: publisher events", "version": "1",
                 "description": "Outward events of the NOF league tables as CloudEvents 1.0 (structured JSON). "
                                f"CloudEvent types: {types}. Generated from shared/events.py; see docs/PUBLISHER.md."},
        "servers": {"local-kafka": {"host": "127.0.0.1:9092", "protocol": "kafka"},
                    "local-http": {"host": "127.0.0.1:8003", "protocol": "http"}},
        "channels": {
            "publicEvents": {
                "address": PUBLIC_EVENTS.name, "servers": [{"$ref": "#/servers/local-kafka"}],
                "description": f"{PUBLIC_EVENTS.description} Key: {PUBLIC_EVENTS.key}; header content-type: "
                               "application/cloudevents+json; at-least-once with stable ids.",
                "messages": {"change": {"$ref": "#/components/messages/ChangeEvent"},
                             "alert": {"$ref": "#/components/messages/SegmentAlert"}}},
            "stream": {
                "address": "/v1/stream", "servers": [{"$ref": "#/servers/local-http"}],
                "description": "Server-Sent Events: id = event-log position, event = CloudEvent type, data = CloudEvent.",
                "messages": {"change": {"$ref": "#/components/messages/ChangeEvent"},
                             "alert": {"$ref": "#/components/messages/SegmentAlert"}}},
            "webhooks": {
                "address": None,
                "description": "Webhook deliveries: an HTTP POST to each subscription's own URL (POST /v1/subscriptions "
                               "on the publisher), one CloudEvent per request, signed as Standard Webhooks. Answer 2xx "
                               "to acknowledge; any other answer or none is retried with backoff, then kept as a dead "
                               "letter. Delivery is at-least-once: deduplicate on webhook-id (the CloudEvent id).",
                "messages": {"change": {"$ref": "#/components/messages/WebhookChangeEvent"},
                             "alert": {"$ref": "#/components/messages/WebhookSegmentAlert"}}},
            "changes": {
                "address": CHANGES.name, "servers": [{"$ref": "#/servers/local-kafka"}],
                "description": "The scorer's change events (input of the publisher), key = league slug.",
                "messages": {"raw": {"name": "RawChangeEvent", "contentType": "application/json",
                                     "payload": {"$ref": "#/components/schemas/ChangeEvent"}}}},
        },
        "operations": {
            "receivePublicEvents": {"action": "receive", "channel": {"$ref": "#/channels/publicEvents"}},
            "receiveStream": {"action": "receive", "channel": {"$ref": "#/channels/stream"}},
            "receiveWebhooks": {"action": "receive", "channel": {"$ref": "#/channels/webhooks"},
                                "bindings": {"http": {"method": "POST", "bindingVersion": "0.3.0"}}},
            "sendChanges": {"action": "send", "channel": {"$ref": "#/channels/changes"}},
        },
        "components": {"schemas": components,
                       "messages": {"ChangeEvent": ce("ChangeEvent"), "SegmentAlert": ce("SegmentAlert"),
                                    "WebhookChangeEvent": webhook("ChangeEvent"),
                                    "WebhookSegmentAlert": webhook("SegmentAlert")}},
    }


def render() -> str:
    return json.dumps(document(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    target = Path(argv[0]) if argv else OUTPUT
    target.write_text(render())
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
