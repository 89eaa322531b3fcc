"""Every answer to a bad request is one the service's own ``/openapi.json`` describes.

For every operation of both services (read from the document, so a new route is covered without a change
here), bad requests of every kind that applies: no credentials, unknown credentials, a key without the scope,
an unreadable body, a body of the wrong shape, an oversized body, an unknown id in the path, a query or header
parameter of the wrong type, and a dependency that is down. Each answer must be a 4xx or 5xx whose status,
Content-Type and body (validated with jsonschema) the document lists for that operation
(tests/fuzz/conformance.py). Unknown routes and wrong methods must answer the same problem format.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.fuzz import conformance
from tests.fuzz.support import (
    ADMIN,
    KNOWN_TRUST,
    MAX_BODY,
    MAX_CSV,
    STATUS_ONLY,
    WRITER,
    Client,
    build_ingest,
    build_publisher,
    describe,
    observation,
    rejection,
    without_stack_environment,
)

pytestmark = pytest.mark.fuzz

JSON = {"Content-Type": "application/json"}

#: A request each operation would accept, that the bad requests below spoil in one way each.
GOOD_BODIES = {
    "POST /v1/observations": ("application/json", json.dumps({"observations": [observation()]}).encode()),
    "POST /v1/observations/csv": ("text/csv", f"Quarter,Trust_code,Metric_ID,Value\n2025-26 Q3,{KNOWN_TRUST},OF0013,71.5\n".encode()),
    "PUT /v1/trusts/{code}/finance": ("application/json", b'{"in_deficit": true}'),
    "PUT /v1/trusts/{code}/intensive-support": ("application/json", b'{"intensive_support": false}'),
    "POST /v1/trusts": ("application/json", json.dumps({"trust_code": "RNEW1", "trust_name": "A NEW TRUST",
                                                        "trust_type": "Acute trust"}).encode()),
    "POST /v1/retractions": ("application/json", json.dumps({"trust_code": KNOWN_TRUST, "input_id": "obs_x"}).encode()),
    "POST /v1/subscriptions": ("application/json", b'{"url": "https://8.8.8.8/hook"}'),
}


@dataclass
class Service:
    name: str
    client: Client
    document: dict
    credentials: str
    path_values: dict[str, str]
    down: object  # a callable switching the service's dependency off (True) or on (False)
    body_limit: object  # path -> the largest body it takes


@pytest.fixture(scope="module")
def services() -> Iterator[dict[str, Service]]:
    ingest_app, sink = without_stack_environment(build_ingest)
    publisher_app, store, _ = without_stack_environment(build_publisher)
    ingest = Client(ingest_app, "http://ingest", {})
    publisher = Client(publisher_app, "http://publisher", {})
    created = publisher.post("/v1/subscriptions", content=json.dumps({"url": "https://8.8.8.8/hook"}).encode(),
                             headers={**JSON, "Authorization": f"Bearer {ADMIN}"})
    assert created.status_code == 201, describe(created)
    sub_log = publisher_app.state.runtime.sub_log

    def ingest_down(on: bool) -> None:
        sink.down = on

    def publisher_down(on: bool) -> None:
        sub_log.failing = on

    yield {
        "ingest": Service("ingest", ingest, ingest_app.openapi(), WRITER, {"code": KNOWN_TRUST}, ingest_down,
                          lambda path: MAX_CSV if path.endswith("/csv") else MAX_BODY),
        "publisher": Service("publisher", publisher, publisher_app.openapi(), ADMIN,
                             {"code": "RXX", "league": "acute", "sub_id": created.json()["id"]}, publisher_down,
                             lambda path: publisher_app.state.runtime.settings.max_body_bytes),
    }
    ingest.close()
    publisher.close()


def _operations(service: str) -> list[tuple[str, str]]:
    build = build_ingest if service == "ingest" else build_publisher
    document = without_stack_environment(build)[0].openapi()
    return [(method.upper(), path) for path, item in document["paths"].items() for method in item
            if path not in ("/healthz",)]


OPERATIONS = [(s, m, p) for s in ("ingest", "publisher") for m, p in _operations(s)]


def _url(service: Service, path: str, **values: str) -> str:
    url = path
    for name, value in {**service.path_values, **values}.items():
        url = url.replace("{" + name + "}", value)
    return url


def _bad_requests(service: Service, method: str, path: str) -> Iterator[tuple[str, dict, set[int]]]:
    """(kind, request arguments, the statuses that kind may answer)."""
    op = service.document["paths"][path][method.lower()]
    auth = {"Authorization": f"Bearer {service.credentials}"}
    has_json = "application/json" in (op.get("requestBody") or {}).get("content", {})
    good = {"url": _url(service, path), "headers": auth}
    if f"{method} {path}" in GOOD_BODIES:
        content_type, body = GOOD_BODIES[f"{method} {path}"]
        good = {**good, "headers": {**auth, "Content-Type": content_type}, "content": body}
    streams = path == "/v1/stream"  # a request it accepts opens an endless stream: only refusals are sent
    if op.get("security") and not streams:
        yield "no credentials", {**good, "headers": {k: v for k, v in good["headers"].items() if k != "Authorization"}}, {401}
        yield "unknown credentials", {**good, "headers": {**good["headers"], "Authorization": "Bearer nope"}}, {401}
        scopes = [s for req in op["security"] for s in req.get("apiKey", [])]
        if scopes and "status:write" not in scopes:
            yield "a key without the scope", {**good, "headers": {**good["headers"],
                                                                  "Authorization": f"Bearer {STATUS_ONLY}"}}, {403}
    if has_json:
        yield "unreadable JSON", {**good, "content": b'{"a": '}, {400, 422}
        yield "deeply nested JSON", {**good, "content": b"[" * 5000}, {400, 422}
        yield "a body of the wrong shape", {**good, "content": b"[]"}, {422}
        yield "an unknown property", {**good, "content": json.dumps({"nope": 1}).encode()}, {422}
    if method in ("POST", "PUT"):
        yield "an oversized body", {**good, "content": b"x" * (service.body_limit(path) + 1)}, {413}
    if "{" in path and not streams:
        for name in service.path_values:
            if "{" + name + "}" in path:
                yield f"an unknown {name}", {**good, "url": _url(service, path, **{name: "NOPE9"})}, {404, 422}
    for param in op.get("parameters", []):
        schema = param.get("schema", {})
        if param["in"] == "query" and "integer" in json.dumps(schema):
            yield f"query {param['name']} not a number", {**good, "params": {param["name"]: "x"}}, {422}
        if param["in"] == "header" and param["name"].lower() == "x-correlation-id":
            yield "an overlong correlation id", {**good, "headers": {**good["headers"], param["name"]: "c" * 200}}, {422}
    if streams:
        yield "an unknown event type", {**good, "params": {"type": "nope"}}, {422}
        yield "a malformed Last-Event-ID", {**good, "headers": {**good["headers"], "Last-Event-ID": "x"}}, {422}
    if method in ("POST", "PUT", "DELETE") and not path.endswith(("/replay", "/enable")):  # Redis-only routes
        yield "a dependency down", {**good, "down": True}, {503}


@pytest.mark.parametrize(("name", "method", "path"), OPERATIONS, ids=[f"{s} {m} {p}" for s, m, p in OPERATIONS])
def test_every_bad_request_gets_an_answer_its_document_describes(services, name, method, path):
    service = services[name]
    kinds = list(_bad_requests(service, method, path))
    if not kinds:  # only an operation that takes no input at all has nothing to get wrong
        op = service.document["paths"][path][method.lower()]
        assert not (op.get("parameters") or op.get("requestBody") or op.get("security")), "no bad request for it"
    for kind, args, statuses in kinds:
        args = dict(args)
        down = args.pop("down", False)
        service.down(down)
        try:
            response = service.client.request(method, args["url"], content=args.get("content"),
                                              headers=args.get("headers"), params=args.get("params"))
        finally:
            service.down(False)
        assert response.status_code in statuses, f"{kind}: {describe(response)}"
        if response.status_code < 500:
            rejection(response)
        conformance.check(service.document, response)


@pytest.mark.parametrize("name", ["ingest", "publisher"])
def test_unknown_routes_and_wrong_methods_answer_problems(services, name):
    service = services[name]
    for method, url in (("GET", "/v1/nope"), ("PATCH", "/v1/leagues" if name == "publisher" else "/v1/observations")):
        response = service.client.request(method, url, headers={"Authorization": f"Bearer {service.credentials}"})
        rejection(response, 404, 405)
        conformance.check(service.document, response)


@pytest.mark.parametrize("name", ["ingest", "publisher"])
def test_the_document_declares_its_security_schemes(services, name):
    document = services[name].document
    scheme = "apiKey" if name == "ingest" else "adminToken"
    assert document["components"]["securitySchemes"][scheme] == {
        "type": "http", "scheme": "bearer", "description": document["components"]["securitySchemes"][scheme]["description"]}
    secured = [op for item in document["paths"].values() for op in item.values() if op.get("security")]
    assert secured and all("401" in op["responses"] for op in secured)
    if name == "ingest":
        assert {s for op in secured for req in op["security"] for s in req["apiKey"]} == {
            "observations:write", "status:write", "trusts:write", "retractions:write"}
