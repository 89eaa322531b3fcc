"""Bad input against the ingest API: every answer is a clear 4xx naming the field, nothing is published.

Each test draws inputs that are wrong in one known way and asserts the exact rejection (status, field,
batch index) and that the sink holds nothing new. ``test_any_json_document_*`` throws arbitrary JSON at
every route and asserts only the contract: never a 5xx, and a rejection writes nothing.
"""

from __future__ import annotations

import json
import string
from urllib.parse import quote

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from shared.methodology import get_methodology, load_trust_register
from tests.fuzz.support import (
    CSV_FIELD_LIMIT,
    FUZZ,
    KNOWN_TRUST,
    MAX_BATCH,
    MAX_BODY,
    MAX_CSV,
    STATUS_ONLY,
    WRITER,
    describe,
    ingest_rejection,
    json_bytes,
    observation,
)

pytestmark = pytest.mark.fuzz

REGISTER = load_trust_register()
METRICS = set(get_methodology("nof-2025-26").metrics)
REQUIRED = ("trust_code", "metric_id", "period", "value")
OPTIONAL = ("observation_id", "source", "observed_at")
JSON = {"Content-Type": "application/json"}

# --- strategies -------------------------------------------------------------------------------------------

printable = st.text(alphabet=string.ascii_letters + string.digits + string.punctuation + " ", max_size=40)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                         st.text(max_size=20))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)
non_strings = st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.booleans(),
                        st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=4), st.integers(), max_size=2))
#: Not a number to a strict float field: strings (even "71.5"), booleans, null, containers.
non_numbers = st.one_of(st.text(max_size=10), st.booleans(), st.none(), st.lists(st.integers(), max_size=3),
                        st.dictionaries(st.text(max_size=4), st.integers(), max_size=2))
WRONG_TYPE = {
    "trust_code": st.one_of(non_strings, st.none()), "metric_id": st.one_of(non_strings, st.none()),
    "period": st.one_of(non_strings, st.none()), "value": non_numbers,
    "observation_id": non_strings, "source": non_strings,
    "observed_at": st.one_of(st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=4), st.integers(), max_size=2)),
}

#: JSON tokens and strings that are not a finite number (the body is built by hand: json.dumps refuses them).
NON_FINITE = st.sampled_from([
    "NaN", "Infinity", "-Infinity", "1e309", "-1e309", "1e99999", '"NaN"', '"nan"', '"Infinity"', '"-Infinity"',
    '"inf"', '"1e999"', '"71.5"', "true", "null",
])
#: Finite but far outside any percentage: huge integers (as JSON integers) and huge floats.
HUGE = st.one_of(st.integers(min_value=10**6, max_value=10**300), st.integers(max_value=-1),
                 st.floats(min_value=101, max_value=1.7e308), st.floats(max_value=-1e-9, min_value=-1.7e308))

unknown_codes = st.from_regex(r"[A-Za-z0-9-]{1,16}", fullmatch=True).filter(lambda c: c not in REGISTER)
bad_pattern_codes = st.one_of(
    st.text(min_size=1, max_size=16).filter(lambda c: not all(ch in string.ascii_letters + string.digits + "-" for ch in c)),
    st.text(alphabet=string.ascii_uppercase, min_size=17, max_size=40),
)
unknown_metrics = st.text(min_size=1, max_size=32).filter(lambda m: m not in METRICS)
bad_periods = st.one_of(
    st.builds("{:04d}-{:02d}".format, st.integers(2000, 2100), st.sampled_from([0, *range(13, 100)])),
    st.builds("{}-{:02d} Q{}".format, st.integers(2000, 2100), st.integers(0, 99), st.sampled_from([0, 5, 6, 7, 8, 9])),
    st.builds("Q{} {}/{:02d}".format, st.sampled_from([0, 5, 9]), st.integers(2000, 2100), st.integers(0, 99)),
    st.text(alphabet=string.ascii_letters + string.punctuation + " ", min_size=1, max_size=16).filter(str.strip),
    st.text(min_size=17, max_size=60),  # over the 16-character limit
)
#: Content types FastAPI does not read as JSON (anything but application/json and */*+json).
not_json_types = st.one_of(
    st.sampled_from(["text/plain", "text/csv", "application/xml", "application/x-www-form-urlencoded",
                     "multipart/form-data; boundary=fuzz", "application/octet-stream", "image/png", "application/jsonp"]),
    st.from_regex(r"[a-z]{1,10}/[a-z]{1,10}", fullmatch=True).filter(lambda t: not t.endswith("json")),
)


def batch(*items: dict) -> dict:
    return {"observations": list(items)}


VALID = json.dumps(batch(observation()))


def post(ingest, body: bytes, path: str = "/v1/observations", **headers: str):
    return ingest.client.post(path, content=body, headers={**JSON, **headers})


# --- bodies that are not JSON, or not the right JSON ----------------------------------------------------


@FUZZ
@given(body=st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(str.encode),
    st.integers(1, len(VALID) - 1).map(lambda n: VALID[:n].encode()),  # truncated
    st.sampled_from([b"", b"{", b"[", b'{"observations": [}', b"\xef\xbb\xbf{}", b"{'observations': []}"]),
))
@example(body=b"[" * 5000)  # nested too deeply for the JSON decoder
@example(body=b'{"observations": [{"value": ' + b"9" * 5000 + b"}]}")  # a number too long to convert
def test_malformed_json_is_rejected_naming_the_body(ingest, body):
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        document = None
    before = ingest.written()
    response = post(ingest, body)
    if isinstance(document, dict) and "observations" in document:
        ingest_rejection(response, 400, 413, 422)
    else:  # not JSON, not an object, or an object without the batch (a UTF-8 BOM before "{}" is read as {})
        body = ingest_rejection(response, 400, 422)
        assert {e["field"] for e in body["errors"]} & {"body", "observations"}, describe(response)
    assert ingest.written() == before


@FUZZ
@given(document=json_values.filter(lambda d: not isinstance(d, dict)))
def test_a_body_that_is_not_an_object_is_rejected(ingest, document):
    before = ingest.written()
    ingest_rejection(post(ingest, json_bytes(document)), 422, field="body")
    assert ingest.written() == before


@FUZZ
@given(data=st.data(), size=st.integers(1, 5))
def test_wrong_types_are_named_by_field_and_index(ingest, data, size):
    field = data.draw(st.sampled_from(sorted(WRONG_TYPE)), label="field")
    index = data.draw(st.integers(0, size - 1), label="index")
    items = [observation(value=float(i)) for i in range(size)]
    items[index] = observation(**{field: data.draw(WRONG_TYPE[field], label="wrong value")})
    before = ingest.written()
    ingest_rejection(post(ingest, json_bytes(batch(*items))), 422, field=field, index=index)
    assert ingest.written() == before


@FUZZ
@given(missing=st.sets(st.sampled_from(REQUIRED), min_size=1), index=st.integers(0, 3))
def test_missing_fields_are_each_named(ingest, missing, index):
    items = [observation() for _ in range(4)]
    items[index] = {k: v for k, v in items[index].items() if k not in missing}
    before = ingest.written()
    response = post(ingest, json_bytes(batch(*items)))
    body = ingest_rejection(response, 422)
    named = {(e["field"], e.get("index")) for e in body["errors"]}
    assert {(f, index) for f in missing} <= named, describe(response)
    assert ingest.written() == before


@FUZZ
@given(key=st.text(alphabet=string.ascii_letters + "_", min_size=1, max_size=20).filter(
    lambda k: k not in (*REQUIRED, *OPTIONAL, "observations", "body")), value=json_scalars)
def test_unknown_fields_are_refused_by_name(ingest, key, value):
    before = ingest.written()
    ingest_rejection(post(ingest, json_bytes(batch(observation(), {**observation(), key: value}))), 422, field=key, index=1)
    ingest_rejection(post(ingest, json_bytes({**batch(observation()), key: value})), 422, field=key)
    assert ingest.written() == before


# --- values, codes, ids and periods ------------------------------------------------------------------------


@FUZZ
@given(token=NON_FINITE, field=st.sampled_from(["value", "value", "trust_code", "period"]))
def test_nan_infinity_and_strings_for_numbers_are_refused(ingest, token, field):
    item = json.dumps(observation(**{field: "__TOKEN__"})).replace('"__TOKEN__"', token)
    before = ingest.written()
    ingest_rejection(post(ingest, ('{"observations": [' + item + "]}").encode()), 422, field=field, index=0)
    assert ingest.written() == before


@FUZZ
@given(value=HUGE)
def test_huge_and_out_of_range_numbers_are_refused(ingest, value):
    before = ingest.written()
    ingest_rejection(post(ingest, json_bytes(batch(observation(value=value)))), 422, field="value", index=0)
    assert ingest.written() == before


@FUZZ
@given(code=st.one_of(unknown_codes, bad_pattern_codes))
def test_unknown_and_malformed_trust_codes_are_refused(ingest, code):
    before = ingest.written()
    body = ingest_rejection(post(ingest, json_bytes(batch(observation(trust_code=code)))), 422,
                            field="trust_code", index=0)
    assert ingest.written() == before
    if code in REGISTER or len(code) > 16:
        return
    if all(ch in string.ascii_letters + string.digits + "-" for ch in code):
        assert "unknown trust" in body["errors"][0]["reason"]


@FUZZ
@given(metric=unknown_metrics)
def test_unknown_metric_ids_are_refused(ingest, metric):
    before = ingest.written()
    ingest_rejection(post(ingest, json_bytes(batch(observation(metric_id=metric)))), 422, field="metric_id", index=0)
    assert ingest.written() == before


@FUZZ
@given(period=bad_periods)
def test_bad_periods_are_refused(ingest, period):
    before = ingest.written()
    ingest_rejection(post(ingest, json_bytes(batch(observation(period=period)))), 422, field="period", index=0)
    assert ingest.written() == before


@FUZZ
@given(when=st.one_of(st.text(max_size=40), st.sampled_from(["99999-01-01", "2025-13-01T00:00:00", "2025-02-30",
                                                            "9999-12-31T23:59:59-25:00", "0000-01-01T00:00:00Z"])))
def test_bad_timestamps_are_refused_or_accepted_never_a_crash(ingest, when):
    before = ingest.written()
    response = post(ingest, json_bytes(batch(observation(observed_at=when))))
    if response.status_code == 202:
        assert ingest.written() == before + 1
    else:
        ingest_rejection(response, 422, field="observed_at", index=0)
        assert ingest.written() == before


# --- limits: batch size, body size --------------------------------------------------------------------------


@FUZZ
@given(extra=st.integers(1, 15))
def test_batches_over_the_limit_are_refused_whole(ingest, extra):
    items = [observation(value=float(i % 100)) for i in range(MAX_BATCH + extra)]
    before = ingest.written()
    body = ingest_rejection(post(ingest, json_bytes(batch(*items))), 422, field="observations")
    assert f"at most {MAX_BATCH}" in body["errors"][0]["reason"]
    assert ingest.written() == before


@FUZZ
@given(over=st.integers(1, 4096), filler=st.sampled_from(["x", " ", "é", "0"]), chunk=st.integers(512, 8192),
       path=st.sampled_from(["/v1/observations", "/v1/trusts", "/v1/trusts/R0A/finance"]), streamed=st.booleans())
def test_bodies_over_the_limit_are_413(ingest, over, filler, chunk, path, streamed):
    head = json.dumps(batch(observation()))[:-2] + ', "pad": "'
    pad = filler * (MAX_BODY + over)
    raw = (head + pad + '"}').encode()[: MAX_BODY + over + 200]
    assert len(raw) > MAX_BODY
    content = (raw[i:i + chunk] for i in range(0, len(raw), chunk)) if streamed else raw
    method = "PUT" if path.endswith("finance") else "POST"
    before = ingest.written()
    response = ingest.client.request(method, path, content=content, headers=JSON)
    body = ingest_rejection(response, 413)
    assert str(MAX_BODY) in body["detail"]
    assert ingest.written() == before


# --- credentials --------------------------------------------------------------------------------------------

ROUTES = [
    ("POST", "/v1/observations", json_bytes(batch(observation())), "observations:write"),
    ("POST", "/v1/observations/csv", b"Quarter,Trust_code,Metric_ID,Value\nQ3 2025/26,R0A,OF0013,71\n", "observations:write"),
    ("PUT", f"/v1/trusts/{KNOWN_TRUST}/finance", json_bytes({"in_deficit": True}), "status:write"),
    ("PUT", f"/v1/trusts/{KNOWN_TRUST}/intensive-support", json_bytes({"intensive_support": False}), "status:write"),
    ("POST", "/v1/trusts", json_bytes({"trust_code": "ZZF1", "trust_name": "F", "trust_type": "Acute trust"}), "trusts:write"),
]
bad_credentials = st.one_of(
    st.none(), st.just(""), st.just("Bearer"), st.just("Bearer "),
    printable.filter(lambda t: not t.lower().startswith("bearer ")),
    st.builds("Bearer {}".format, printable).filter(lambda h: h[7:].strip() not in (WRITER, STATUS_ONLY)),
    st.builds("{} {}".format, st.sampled_from(["Basic", "Token", "bearer", "BEARER", "Digest"]), printable).filter(
        lambda h: h.split(" ", 1)[1].strip() not in (WRITER, STATUS_ONLY)),
)


@FUZZ
@given(route=st.sampled_from(ROUTES), authorization=bad_credentials)
def test_missing_or_unknown_credentials_are_401(ingest, route, authorization):
    method, path, body, _ = route
    headers = {"Content-Type": "application/json"}
    request = ingest.client.build_request(method, path, content=body, headers=headers)
    if authorization is None:
        del request.headers["Authorization"]
    else:
        request.headers["Authorization"] = authorization
    before = ingest.written()
    ingest_rejection(ingest.client.send(request), 401)
    assert ingest.written() == before


@pytest.mark.parametrize("route", [r for r in ROUTES if r[3] != "status:write"], ids=lambda r: f"{r[0]} {r[1]}")
def test_a_key_without_the_scope_is_403_naming_it(ingest, route):
    method, path, body, scope = route
    before = ingest.written()
    response = ingest.client.request(method, path, content=body,
                                     headers={**JSON, "Authorization": f"Bearer {STATUS_ONLY}"})
    assert scope in ingest_rejection(response, 403)["detail"]
    assert ingest.written() == before


# --- content types, headers, path parameters ----------------------------------------------------------------


@FUZZ
@given(content_type=not_json_types, route=st.sampled_from([r for r in ROUTES if not r[1].endswith("csv")]))
def test_json_routes_refuse_other_content_types(ingest, content_type, route):
    method, path, body, _ = route
    before = ingest.written()
    response = ingest.client.request(method, path, content=body, headers={"Content-Type": content_type})
    ingest_rejection(response, 422, field="body")
    assert ingest.written() == before


@FUZZ
@given(cid=st.text(alphabet=string.ascii_letters + string.digits + "-_.:", min_size=129, max_size=600))
def test_over_long_correlation_ids_are_refused(ingest, cid):
    before = ingest.written()
    ingest_rejection(post(ingest, json_bytes(batch(observation())), **{"X-Correlation-ID": cid}), 422,
                     field="header.x-correlation-id")
    assert ingest.written() == before


@FUZZ
@given(code=st.text(min_size=1, max_size=300).filter(lambda c: c not in REGISTER),
       route=st.sampled_from(["finance", "intensive-support"]))
@example(code="../../observations", route="finance")
@example(code="R0A/../R0B", route="finance")
@example(code="%00", route="intensive-support")
@example(code="\x00\n\r\t", route="finance")
def test_odd_trust_codes_in_the_path_are_404(ingest, code, route):
    body = {"in_deficit": False} if route == "finance" else {"intensive_support": True}
    before = ingest.written()
    response = ingest.client.put(f"/v1/trusts/{quote(code, safe='')}/{route}", content=json_bytes(body), headers=JSON)
    ingest_rejection(response, 404, 405)
    assert ingest.written() == before


@FUZZ
@given(data=st.data())
def test_status_and_trust_bodies_name_the_bad_field(ingest, data):
    route = data.draw(st.sampled_from([
        ("PUT", f"/v1/trusts/{KNOWN_TRUST}/finance", {"in_deficit": True, "receives_deficit_support": False}),
        ("PUT", f"/v1/trusts/{KNOWN_TRUST}/intensive-support", {"intensive_support": True}),
        ("POST", "/v1/trusts", {"trust_code": "ZZF2", "trust_name": "F", "trust_type": "Acute trust"}),
    ]), label="route")
    method, path, valid = route
    field = data.draw(st.sampled_from(sorted(valid)), label="field")
    if isinstance(valid[field], bool):  # StrictBool: 0, 1, "true" and null are not booleans
        wrong = data.draw(st.one_of(st.integers(), st.text(max_size=8), st.lists(st.booleans(), max_size=2)), label="wrong")
    else:
        wrong = data.draw(st.one_of(non_strings, st.text(min_size=201, max_size=400), st.just("")), label="wrong")
    if path == "/v1/trusts" and field == "trust_type" and isinstance(wrong, str) and 0 < len(wrong) <= 64:
        wrong = "Dental practice"
    before = ingest.written()
    response = ingest.client.request(method, path, content=json_bytes({**valid, field: wrong}), headers=JSON)
    ingest_rejection(response, 422, field=field)
    assert ingest.written() == before


# --- the CSV endpoint ---------------------------------------------------------------------------------------

HEADER = "Quarter,Region,Trust_code,Trust_name,Trust_type,Trust_subtype,Metric_ID,Metric_description,Units,Value\n"
GOOD_ROW = "Q3 2025/26,North West,R0A,MANCHESTER,Acute trust,Acute - Teaching,OF0013,A&E 4h,%,71.2\n"


def post_csv(ingest, body: bytes):
    return ingest.client.post("/v1/observations/csv", content=body, headers={"Content-Type": "text/csv"})


@FUZZ
@given(size=st.integers(CSV_FIELD_LIMIT + 1, CSV_FIELD_LIMIT + 50_000), column=st.integers(0, 9),
       good_before=st.integers(0, 5), good_after=st.integers(0, 5), quoted=st.booleans())
def test_a_csv_line_with_a_huge_field_is_skipped_with_its_reason(ingest, size, column, good_before, good_after, quoted):
    cells = GOOD_ROW.rstrip("\n").split(",")
    cells[column] = ('"' + "x" * size + '"') if quoted else "x" * size
    body = (HEADER + GOOD_ROW * good_before + ",".join(cells) + "\n" + GOOD_ROW * good_after).encode()
    before = ingest.written()
    response = post_csv(ingest, body)
    if good_before + good_after == 0:  # the one row was the bad one: nothing accepted is a 422 with the reason
        (error,) = ingest_rejection(response, 422)["errors"]
        assert error["index"] == 2 and "field limit" in error["reason"] and ingest.written() == before
        return
    assert response.status_code == 200, describe(response)
    report = response.json()
    assert report["rows"] == good_before + 1 + good_after
    assert report["accepted"] == good_before + good_after == ingest.written() - before
    assert report["skipped_by_reason"] == {"malformed row": 1}
    assert report["examples"][0]["line"] == good_before + 2 and "field limit" in report["examples"][0]["reason"]


@FUZZ
@given(width=st.integers(1_000, 60_000))
def test_a_csv_line_with_many_fields_is_one_row(ingest, width):
    row = GOOD_ROW.rstrip("\n") + "," * width + "\n"
    before = ingest.written()
    response = post_csv(ingest, (HEADER + row).encode())
    assert response.status_code == 200, describe(response)
    assert (response.json()["rows"], response.json()["accepted"]) == (1, 1) and ingest.written() == before + 1


@FUZZ
@given(size=st.integers(CSV_FIELD_LIMIT + 1, CSV_FIELD_LIMIT + 10_000))
def test_a_csv_header_with_a_huge_field_is_422_naming_the_header(ingest, size):
    before = ingest.written()
    ingest_rejection(post_csv(ingest, ("Quarter," + "H" * size + "\n" + GOOD_ROW).encode()), 422, field="header")
    assert ingest.written() == before


@FUZZ
@given(over=st.integers(1, 20_000), streamed=st.booleans())
def test_a_csv_over_the_limit_is_413_and_nothing_is_published(ingest, over, streamed):
    rows = (MAX_CSV + over) // len(GOOD_ROW) + 1
    raw = (HEADER + GOOD_ROW * rows).encode()
    assert len(raw) > MAX_CSV
    content = (raw[i:i + 65536] for i in range(0, len(raw), 65536)) if streamed else raw
    before = ingest.written()
    ingest_rejection(ingest.client.post("/v1/observations/csv", content=content, headers={"Content-Type": "text/csv"}), 413)
    assert ingest.written() == before


@FUZZ
@given(body=st.one_of(
    st.binary(min_size=1, max_size=400),
    st.text(min_size=1, max_size=400).map(str.encode),
    st.lists(st.lists(st.text(alphabet=string.printable, max_size=12), min_size=1, max_size=12), min_size=1, max_size=8).map(
        lambda rows: (HEADER + "\n".join(",".join(r) for r in rows)).encode()),
    st.lists(st.tuples(st.sampled_from(["Q3 2025/26", "2025-12", "Q9 2025/26", "", "x"]),
                       st.sampled_from([KNOWN_TRUST, "ZZZ", "", "R0A\x00"]),
                       st.sampled_from(["OF0013", "OF1013", "OF9999", ""]),
                       st.sampled_from(["71.2", "NaN", "inf", "-inf", "1e999", "101", '"2,5%"', "", "nan%"])),
             min_size=1, max_size=10).map(
        lambda rows: ("Quarter,Trust_code,Metric_ID,Value\n" + "\n".join(",".join(r) for r in rows)).encode()),
))
@example(body=b"\xff\xfe" + HEADER.encode())
@example(body=HEADER.encode() + b'"unterminated, quote\n' + GOOD_ROW.encode())
def test_any_csv_body_is_a_report_or_a_clear_rejection(ingest, body):
    before = ingest.written()
    response = post_csv(ingest, body)
    if response.status_code == 200:
        report = response.json()
        assert report["accepted"] == ingest.written() - before
        assert report["accepted"] + report["skipped"] == report["rows"]
        assert sum(report["skipped_by_reason"].values()) == report["skipped"]
        assert all(e["reason"] for e in report["examples"])
    else:
        ingest_rejection(response, 400, 422)
        assert ingest.written() == before


def test_an_empty_csv_body_is_400(ingest):
    before = ingest.written()
    assert "empty body" in ingest_rejection(post_csv(ingest, b""), 400)["detail"]
    assert ingest.written() == before


# --- anything at all ----------------------------------------------------------------------------------------


@FUZZ
@given(route=st.sampled_from(ROUTES), document=st.one_of(
    json_values,
    st.fixed_dictionaries({"observations": st.lists(st.dictionaries(
        st.sampled_from([*REQUIRED, *OPTIONAL, "extra"]), json_values, max_size=8), max_size=4)}),
))
def test_any_json_document_is_accepted_or_cleanly_refused(ingest, route, document):
    method, path, _, _ = route
    before = ingest.written()
    response = ingest.client.request(method, path, content=json_bytes(document), headers=JSON)
    if response.status_code < 300:
        assert response.status_code in (200, 202), describe(response)
        return
    ingest_rejection(response)
    assert ingest.written() == before
