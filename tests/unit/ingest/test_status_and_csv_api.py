"""Finance, intensive support, trust registration and the NHS England CSV import."""

from __future__ import annotations

HEADER = "Quarter,Region,Trust_code,Trust_name,Trust_type,Trust_subtype,Metric_ID,Metric_description,Units,Value,Rank\n"


async def test_finance_and_intensive_support_flow_to_the_status_topic(client, sink):
    fin = await client.put("/v1/trusts/R0A/finance", json={"in_deficit": True, "receives_deficit_support": False})
    isp = await client.put("/v1/trusts/R0A/intensive-support", json={"intensive_support": True})
    assert fin.status_code == isp.status_code == 202
    assert [(t, r.key, r.event.type) for t, r in sink.records] == [
        ("nof.trust-status.v1", "acute", "finance.changed"),
        ("nof.trust-status.v1", "acute", "intensive-support.changed"),
    ]


async def test_status_for_an_unknown_trust_is_404(client, sink):
    response = await client.put("/v1/trusts/NOPE/finance", json={"in_deficit": False})
    assert response.status_code == 404 and "POST /v1/trusts" in response.json()["detail"]
    assert sink.records == []


async def test_a_registered_trust_can_then_report(client, sink):
    new = {"trust_code": "ZZ1", "trust_name": "NEW TRUST", "trust_type": "Ambulance trust"}
    assert (await client.post("/v1/trusts", json=new)).status_code == 202
    response = await client.post("/v1/observations", json={"observations": [
        {"trust_code": "ZZ1", "metric_id": "OF0082", "period": "2025-12", "value": 4.0}]})
    assert response.status_code == 202
    assert [r.event.type for _, r in sink.records] == ["trust.registered", "observation.received"]


async def test_an_unknown_trust_type_is_refused(client, sink):
    bad = {"trust_code": "ZZ2", "trust_name": "X", "trust_type": "Dental practice"}
    response = await client.post("/v1/trusts", json=bad)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "trust_type"


async def test_csv_rows_are_accepted_or_skipped_with_reasons(client, sink):
    body = HEADER + "\n".join([
        "Q3 2025/26,North West,R0A,MANCHESTER,Acute trust,Acute - Teaching,OF0013,A&E 4h,%,71.2,3",
        "Q3 2025/26,North West,R0A,MANCHESTER,Acute trust,Acute - Teaching,OF0014,A&E 12h,%,\"2.5%\",3",
        "Q3 2025/26,North West,R0A,MANCHESTER,Acute trust,Acute - Teaching,OF1013,score,score,2.5,",
        "Q3 2025/26,North West,R0A,MANCHESTER,Acute trust,Acute - Teaching,OF5002,average,score,2.1,",
        "Q3 2025/26,North West,R0A,MANCHESTER,Acute trust,Acute - Teaching,OF0010,FDS,%,n/a,",
        "Q3 2025/26,North West,QQQ,UNKNOWN,Acute trust,Acute - Teaching,OF0010,FDS,%,70,",
        "Q3 2025/26,North West,R0A,MANCHESTER,Acute trust,Acute - Teaching,XX1,other,%,70,",
        "Q3 2025/26,North West,R0A,MANCHESTER,Acute trust,Acute - Teaching,OF0011,62-day,%,170,",
        "Q3 2025/26,North West,R0A,MANCHESTER,Acute trust,Acute - Teaching,OF0010,FDS,%,77.7,",
        "Q3 2025/26,North West,R0D,DORSET,Acute trust,Acute - Teaching,OF0010,FDS,%,79.1,",
    ]) + "\n"
    response = await client.post("/v1/observations/csv", content=body.encode(), headers={"Content-Type": "text/csv"})
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["rows"], report["accepted"], report["skipped"]) == (10, 4, 6)
    assert report["skipped_by_reason"] == {
        "published score row": 2, "value not a number": 1, "unknown trust": 1, "unknown metric": 1, "invalid Value": 1}
    assert {"line": 6, "column": "Value", "reason": "'n/a' is not a number"} in report["examples"]
    assert [r.event.value for _, r in sink.records] == [71.2, 2.5, 77.7, 79.1]
    assert {r.event.period for _, r in sink.records} == {"2025-26 Q3"}


async def test_a_csv_without_the_layout_is_rejected_whole(client, sink):
    response = await client.post("/v1/observations/csv", content=b"a,b\n1,2\n")
    assert response.status_code == 422
    assert "missing column(s) Quarter, Trust_code, Metric_ID, Value" in response.json()["errors"][0]["reason"]
    assert sink.records == []


async def test_csv_import_stops_with_503_when_kafka_is_down(client, sink):
    sink.down = True
    body = HEADER + "Q3 2025/26,North West,R0A,M,Acute trust,Acute - Teaching,OF0013,A&E,%,71.2,\n"
    response = await client.post("/v1/observations/csv", content=body.encode())
    assert response.status_code == 503 and "Retry-After" in response.headers


ROWS = (HEADER + "Q3 2025/26,North West,R0A,MANCHESTER,Acute trust,Acute - Teaching,OF0013,A&E 4h,%,71.2,3\n"
        "Q3 2025/26,North West,R0D,DORSET,Acute trust,Acute - Teaching,OF0010,FDS,%,79.1,\n")


async def test_a_csv_sent_as_a_multipart_file_field_is_read_like_a_raw_body(client, sink):
    """What `curl -F file=@x.csv` sends: the file is read, not the multipart envelope around it."""
    multipart = await client.post("/v1/observations/csv", files={"file": ("x.csv", ROWS.encode(), "text/csv")})
    assert multipart.status_code == 200, multipart.text
    raw = await client.post("/v1/observations/csv", content=ROWS.encode(), headers={"Content-Type": "text/csv"})
    assert {k: v for k, v in multipart.json().items() if k != "correlation_id"} == {
        k: v for k, v in raw.json().items() if k != "correlation_id"}
    assert multipart.json()["accepted"] == 2 and [r.event.value for _, r in sink.records] == [71.2, 79.1, 71.2, 79.1]


async def test_a_multipart_body_without_a_file_field_names_the_field(client, sink):
    response = await client.post("/v1/observations/csv", files={"upload": ("x.csv", ROWS.encode(), "text/csv")})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "file"
    assert sink.records == []


async def test_a_semicolon_delimited_csv_gets_a_hint(client, sink):
    body = ROWS.replace(",", ";").encode()
    response = await client.post("/v1/observations/csv", content=body, headers={"Content-Type": "text/csv"})
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["field"] == "header" and "';'-delimited" in error["reason"]
    assert sink.records == []


async def test_a_csv_in_which_every_row_is_rejected_is_422_with_the_reasons(client, sink):
    body = HEADER + ("Q3 2025/26,North West,QQQ,UNKNOWN,Acute trust,Acute - Teaching,OF0010,FDS,%,70,\n"
                     "Q3 2025/26,North West,R0A,MANCHESTER,Acute trust,Acute - Teaching,OF0010,FDS,%,n/a,\n")
    response = await client.post("/v1/observations/csv", content=body.encode(), headers={"Content-Type": "text/csv"})
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert "2 rows read" in problem["detail"]
    assert [(e["index"], e["field"]) for e in problem["errors"]] == [(2, "Trust_code"), (3, "Value")]
    assert "unknown trust 'QQQ'" in problem["errors"][0]["reason"]
    assert sink.records == []


async def test_a_csv_with_a_header_and_no_rows_is_422(client, sink):
    response = await client.post("/v1/observations/csv", content=HEADER.encode(), headers={"Content-Type": "text/csv"})
    assert response.status_code == 422 and response.json()["errors"] == [
        {"field": "body", "reason": "the CSV has a header line but no rows"}]


async def test_the_csv_route_documents_both_bodies(client):
    body = (await client.get("/openapi.json")).json()["paths"]["/v1/observations/csv"]["post"]["requestBody"]
    assert set(body["content"]) == {"text/csv", "multipart/form-data"}
    assert body["content"]["multipart/form-data"]["schema"]["required"] == ["file"]
