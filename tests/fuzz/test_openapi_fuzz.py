"""Schema-driven fuzzing: requests generated from each service's own ``/openapi.json`` (tests/fuzz/openapi.py).

For every operation, with valid credentials so that requests reach validation:

- schema-valid requests (which the service may still refuse on its rules: an unknown trust, a private
  webhook host): never a 5xx; a refusal is a clear 4xx in the service's error format and writes nothing;
- requests that break the schema in one place: a 422 that names that place, and nothing written;
- every answer, accepted or refused, is one the document describes (tests/fuzz/conformance.py).

``GET /v1/stream`` is left out (a valid request opens an endless stream; test_publisher_fuzz.py covers what
it must refuse), and so are the operational routes (health, metrics). The ingest CSV route's body is CSV, not
JSON; test_ingest_fuzz.py covers it.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz import conformance
from tests.fuzz.openapi import Operation, Request, Schemas, operations
from tests.fuzz.support import (
    FUZZ,
    build_ingest,
    build_publisher,
    describe,
    ingest_rejection,
    publisher_rejection,
    without_stack_environment,
)

pytestmark = pytest.mark.fuzz

# The documents only: each test module gets its own apps from the fixtures in conftest.py.
INGEST_DOC = without_stack_environment(build_ingest)[0].openapi()
PUBLISHER_DOC = without_stack_environment(build_publisher)[0].openapi()
INGEST = Schemas(INGEST_DOC)
#: Subscription filters accept each list as repeated or comma-separated text and turn every item into text.
PUBLISHER = Schemas(PUBLISHER_DOC, lenient={f"Filters.{k}" for k in ("leagues", "trust_codes", "regions", "types")})
INGEST_OPS = operations(INGEST_DOC)
PUBLISHER_OPS = operations(PUBLISHER_DOC, skip={"GET /v1/stream"})


def test_every_operation_is_fuzzed():
    """The generated operation lists follow the routes (a new route is fuzzed without a change here)."""
    assert {str(op) for op in INGEST_OPS} == {
        "POST /v1/observations", "POST /v1/observations/csv", "PUT /v1/trusts/{code}/finance",
        "PUT /v1/trusts/{code}/intensive-support", "POST /v1/trusts", "POST /v1/retractions"}
    assert {str(op) for op in PUBLISHER_OPS} >= {
        "POST /v1/subscriptions", "GET /v1/subscriptions/{sub_id}/failed", "GET /v1/leagues/{league}", "GET /v1/trusts/{code}"}


def send(client, request: Request):  # noqa: ANN001, ANN201
    content = json.dumps(request.body, allow_nan=False).encode() if request.has_body else None
    headers = {**request.headers, **({"Content-Type": "application/json"} if request.has_body else {})}
    response = client.request(request.method, request.url, content=content, headers=headers, params=request.params)
    conformance.check(INGEST_DOC if client.http.base_url.host == "ingest" else PUBLISHER_DOC, response)
    return response


def ingest_names(body: dict, where: tuple) -> bool:
    """Whether an ingest 422 names ``where`` (("body", "observations", 2, "value") is field "value", index 2)."""
    loc = [p for p in where if p != "body"]
    at = next((i for i, p in enumerate(loc) if isinstance(p, int)), None)
    named = loc if at is None else (loc[at + 1:] or loc[:at])
    field, index = ".".join(map(str, named)) or "body", None if at is None else loc[at]
    return any(e["field"] == field and e.get("index") == index for e in body["errors"])


@pytest.mark.parametrize("op", INGEST_OPS, ids=str)
@FUZZ
@given(data=st.data())
def test_ingest_schema_valid_requests_never_fail_the_server(ingest, op: Operation, data):
    request = data.draw(INGEST.valid_requests(op), label="request")
    before = ingest.written()
    response = send(ingest.client, request)
    if response.status_code < 400:
        assert response.status_code in (200, 202), describe(response)
    else:
        ingest_rejection(response)
        assert ingest.written() == before


@pytest.mark.parametrize("op", [op for op in INGEST_OPS if INGEST.invalid_requests(op) is not None], ids=str)
@FUZZ
@given(data=st.data())
def test_ingest_schema_breaks_are_422_naming_the_place(ingest, op: Operation, data):
    request, where = data.draw(INGEST.invalid_requests(op), label="request")
    before = ingest.written()
    response = send(ingest.client, request)
    body = ingest_rejection(response, 422)
    assert ingest_names(body, where), f"{where} not named: {describe(response)}"
    assert ingest.written() == before


@pytest.mark.parametrize("op", PUBLISHER_OPS, ids=str)
@FUZZ
@given(data=st.data())
def test_publisher_schema_valid_requests_never_fail_the_server(publisher, op: Operation, data):
    request = data.draw(PUBLISHER.valid_requests(op), label="request")
    before = publisher.stored()
    response = send(publisher.client, request)
    if response.status_code < 400:
        assert response.status_code in (200, 201, 204, 304), describe(response)
    else:
        publisher_rejection(response)
        assert publisher.stored() == before


@pytest.mark.parametrize("op", [op for op in PUBLISHER_OPS if PUBLISHER.invalid_requests(op) is not None], ids=str)
@FUZZ
@given(data=st.data())
def test_publisher_schema_breaks_are_422_naming_the_place(publisher, op: Operation, data):
    request, where = data.draw(PUBLISHER.invalid_requests(op), label="request")
    before = publisher.stored()
    publisher_rejection(send(publisher.client, request), 422, loc=where)
    assert publisher.stored() == before
