"""Regressions found by the fuzz tier (tests/fuzz): each was a 500, or an answer outside the error format."""

from __future__ import annotations

import json

HEADER = "Quarter,Region,Trust_code,Trust_name,Trust_type,Trust_subtype,Metric_ID,Metric_description,Units,Value\n"
ROW = "Q3 2025/26,North West,R0A,MANCHESTER,Acute trust,Acute - Teaching,OF0013,A&E 4h,%,71.2\n"
OBS = {"trust_code": "R0A", "metric_id": "OF0013", "period": "2025-12", "value": 71.5}


async def test_a_csv_field_over_the_csv_modules_limit_skips_its_row_not_the_file(client, sink):
    huge = ROW.replace("MANCHESTER", "M" * 200_000)  # the csv module refuses fields over 131072 characters
    response = await client.post("/v1/observations/csv", content=(HEADER + ROW + huge + ROW).encode())
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["rows"], report["accepted"], report["skipped_by_reason"]) == (3, 2, {"malformed row": 1})
    assert report["examples"][0]["line"] == 3 and "field limit" in report["examples"][0]["reason"]
    assert len(sink.records) == 2


async def test_a_csv_header_over_the_limit_is_422_naming_the_header(client, sink):
    response = await client.post("/v1/observations/csv", content=("Quarter," + "H" * 200_000 + "\n" + ROW).encode())
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "header"
    assert sink.records == []


async def test_a_streamed_body_over_the_limit_is_413_not_400(client, sink):
    body = json.dumps({"observations": [OBS], "pad": "x" * 70_000}).encode()

    async def chunks():  # no Content-Length: BodyLimit stops the read part-way
        for i in range(0, len(body), 8192):
            yield body[i:i + 8192]

    response = await client.post("/v1/observations", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {"type": "urn:nof-live:problem:payload-too-large", "title": "Payload too large", "status": 413,
                               "detail": "request body exceeds 65536 bytes", "instance": "/v1/observations"}
    assert sink.records == []


async def test_bodies_the_json_decoder_cannot_read_are_named_in_the_error_format(client, sink):
    broken = await client.post("/v1/observations", content=b'{"observations": [', headers={"Content-Type": "application/json"})
    assert broken.status_code == 422
    assert broken.json()["errors"] == [{"field": "body", "reason": "not valid JSON: Expecting value (at character 18)"}]
    for body in (b"[" * 5000, b'{"observations": [{"value": ' + b"9" * 5000 + b"}]}"):
        response = await client.post("/v1/observations", content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 400
        assert response.json()["type"] == "urn:nof-live:problem:bad-request" and response.json()["errors"][0]["field"] == "body"
    assert sink.records == []


async def test_unknown_routes_and_methods_answer_in_the_error_format(client):
    missing = await client.put("/v1/trusts/R0A%2Fx/finance", json={"in_deficit": True})
    wrong_method = await client.get("/v1/observations")
    assert (missing.status_code, missing.json()) == (404, {
        "type": "urn:nof-live:problem:not-found", "title": "Not found", "status": 404, "detail": "Not Found",
        "instance": "/v1/trusts/R0A%2Fx/finance"})
    assert wrong_method.status_code == 405 and wrong_method.json()["type"] == "urn:nof-live:problem:method-not-allowed"
    assert "POST" in wrong_method.headers["Allow"]
