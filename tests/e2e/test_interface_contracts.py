"""The running services keep the word of their documents: every answer to a bad request is an RFC 9457
problem that the service's own /openapi.json describes, the docs pages load nothing from outside, and the
inputs that used to poison a table (a future period, a reused observation id, a value set back) are handled.

Runs against the stack `make up` (or `make test`) started, over HTTP, like a downstream client.
"""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from tests.e2e.stack import LOCAL_DIR, url
from tests.fuzz import conformance
from tests.fuzz.support import rejection

pytestmark = pytest.mark.e2e

TRUST, METRIC = "R0A", "OF0013"  # an acute trust and the A&E 4-hour metric, a percentage


@pytest.fixture(scope="module")
def ingest():
    key = (LOCAL_DIR / "ingest-dev-key").read_text().strip()
    with httpx.Client(base_url=url("ingest"), headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
        client.document = client.get("/openapi.json").json()
        yield client


@pytest.fixture(scope="module")
def publisher():
    token = (LOCAL_DIR / "publisher-admin-token").read_text().strip()
    with httpx.Client(base_url=url("publisher"), headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        client.document = client.get("/openapi.json").json()
        yield client


def refused(client: httpx.Client, response: httpx.Response, *statuses: int) -> dict:
    conformance.check(client.document, response)
    return rejection(response, *statuses)


def test_bad_requests_to_ingest_are_documented_problems(ingest):
    batch = {"observations": [{"trust_code": TRUST, "metric_id": METRIC, "period": "2025-12", "value": 70.0}]}
    refused(ingest, ingest.post("/v1/observations", json=batch, headers={"Authorization": ""}), 401)
    refused(ingest, ingest.post("/v1/observations", json=batch, headers={"Authorization": "Bearer nope"}), 401)
    refused(ingest, ingest.post("/v1/observations", content=b'{"a": ', headers={"Content-Type": "application/json"}), 422)
    refused(ingest, ingest.post("/v1/observations", json={"observations": [{"trust_code": TRUST}]}), 422)
    refused(ingest, ingest.put("/v1/trusts/NOPE9/finance", json={"in_deficit": True}), 404)
    refused(ingest, ingest.get("/v1/nope"), 404)
    future = {"observations": [{**batch["observations"][0], "period": "2099-12"}]}
    (error,) = refused(ingest, ingest.post("/v1/observations", json=future), 422)["errors"]
    assert (error["index"], error["field"]) == (0, "period")


def test_the_csv_endpoint_takes_a_file_field_and_explains_refusals(ingest):
    header = "Quarter,Trust_code,Metric_ID,Value\n"
    good = f"{header}2025-26 Q3,{TRUST},{METRIC},71.5\n".encode()
    accepted = ingest.post("/v1/observations/csv", files={"file": ("x.csv", good, "text/csv")})
    conformance.check(ingest.document, accepted)
    assert accepted.status_code == 200 and accepted.json()["accepted"] == 1
    semicolons = good.replace(b",", b";")
    hint = refused(ingest, ingest.post("/v1/observations/csv", content=semicolons,
                                       headers={"Content-Type": "text/csv"}), 422)
    assert "';'-delimited" in hint["errors"][0]["reason"]
    nothing = f"{header}2025-26 Q3,QQQ9,{METRIC},71.5\n".encode()
    reasons = refused(ingest, ingest.post("/v1/observations/csv", content=nothing,
                                          headers={"Content-Type": "text/csv"}), 422)
    assert "unknown trust" in reasons["errors"][0]["reason"]


def test_a_reused_observation_id_with_another_payload_is_409(ingest):
    item = {"trust_code": TRUST, "metric_id": METRIC, "period": "2025-10", "value": 70.0,
            "observation_id": f"e2e-{uuid.uuid4().hex}"}
    first = ingest.post("/v1/observations", json={"observations": [item]})
    assert first.status_code == 202, first.text
    again = ingest.post("/v1/observations", json={"observations": [item]})
    assert again.status_code == 202 and again.json()["ids"] == first.json()["ids"]
    conflict = refused(ingest, ingest.post("/v1/observations", json={"observations": [{**item, "value": 71.0}]}), 409)
    assert conflict["errors"][0]["field"] == "observation_id"


def test_a_value_set_back_to_an_earlier_one_reaches_the_table(ingest, publisher):
    """A, then B, then A again for one trust, metric and period: the explanation ends showing A."""
    period = "2026-10"  # later than any period the demo data or other tests send, so it is the one shown
    values = [61.25, 62.5, 61.25]
    for value in values:
        sent = ingest.post("/v1/observations", json={"observations": [
            {"trust_code": TRUST, "metric_id": METRIC, "period": period, "value": value}]})
        assert sent.status_code == 202, sent.text
    deadline = time.monotonic() + 60
    while True:
        explanation = publisher.get(f"/v1/trusts/{TRUST}")
        shown = next((m for m in explanation.json().get("metrics", []) if m["metric_id"] == METRIC), {}) \
            if explanation.status_code == 200 else {}
        if shown.get("period") == period and shown.get("value") == "61.25":
            break
        assert time.monotonic() < deadline, f"the table never showed the value set back: {shown}"
        time.sleep(0.5)


def test_bad_requests_to_the_publisher_are_documented_problems(publisher):
    refused(publisher, publisher.get("/v1/subscriptions", headers={"Authorization": ""}), 401)
    refused(publisher, publisher.get("/v1/subscriptions/sub_nope"), 404)
    refused(publisher, publisher.get("/v1/leagues/nope"), 404)
    refused(publisher, publisher.post("/v1/subscriptions", json={"url": 5}), 422)
    with httpx.stream("GET", f"{url('publisher')}/v1/stream", params={"type": "nope"}, timeout=30) as response:
        response.read()
        (error,) = refused(publisher, response, 422)["errors"]
    assert error["field"] == "query.type"


@pytest.mark.parametrize("service", ["ingest", "publisher"])
@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_nothing_from_outside(service, page):
    html = httpx.get(f"{url(service)}{page}", timeout=30).text
    assert "//cdn" not in html and "https://" not in html and "http://" not in html
