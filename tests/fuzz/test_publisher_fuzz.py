"""Bad input against the publisher API: every answer is a clear 4xx, a rejected subscription stores nothing.

Subscriptions (admin token), the read API (odd league, trust and subscription ids in the path) and the SSE
stream's query (only inputs it must refuse: a valid query would open an endless stream).
"""

from __future__ import annotations

import json
import string
from urllib.parse import quote

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from services.publisher.filters import EVENT_TYPES
from services.publisher.routes.stream import POSITION
from tests.fuzz.support import ADMIN, FUZZ, describe, json_bytes, publisher_rejection

pytestmark = pytest.mark.fuzz

JSON = {"Content-Type": "application/json"}
GOOD_URL = "https://8.8.8.8/hook"  # a public literal: accepted by the real guard without a lookup
FIELDS = ("url", "filters", "description", "from_position")
FILTER_FIELDS = ("leagues", "trust_codes", "regions", "types", "min_rank_movement")

printable = st.text(alphabet=string.ascii_letters + string.digits + string.punctuation + " ", max_size=40)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                         st.text(max_size=20))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)

#: URLs the target guard must refuse: not http(s), no host, credentials, private/loopback/reserved addresses,
#: and strings that are not URLs at all (unclosed IPv6 brackets, ports out of range, labels IDNA refuses).
bad_urls = st.one_of(
    st.sampled_from([
        "", "hook", "ftp://8.8.8.8/", "file:///etc/passwd", "javascript:alert(1)", "http://", "https:///x",
        "http://user:pw@8.8.8.8/", "http://127.0.0.1/", "http://[::1]/", "http://10.0.0.1/", "http://169.254.169.254/",
        "http://0.0.0.0/", "http://[::ffff:127.0.0.1]/", "http://224.0.0.1/", "http://[::1", "http://[zz::1]/",
        "http://8.8.8.8:99999/", "http://8.8.8.8:-1/", "http://host:abc/", "http://a..b/", "http://" + "a" * 64 + ".org/",
        "http://\x00x/", "http://.", "http://" + "x" * 300 + "/", "https://[]/",
    ]),
    st.builds("http://{}:{}/".format, st.sampled_from(["8.8.8.8", "example.org"]),
              st.one_of(st.integers(65536, 10**12), st.text(alphabet=string.ascii_letters, min_size=1, max_size=6))),
    st.builds("{}://8.8.8.8/".format, st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=8).filter(
        lambda s: s not in ("http", "https"))),
    st.builds("http://{}/".format, st.ip_addresses(v=4).filter(lambda ip: not ip.is_global or ip.is_multicast)),
    st.builds("http://[{}]/".format, st.ip_addresses(v=6).filter(lambda ip: not ip.is_global or ip.is_multicast)),
    st.text(alphabet=string.printable, max_size=60).filter(lambda u: not u.lower().startswith(("http://", "https://"))),
)
bad_positions = st.one_of(
    st.sampled_from(["", "abc", "-1", "1-", "-", "1--2", "1-2-3", "1.5", " 1", "1 ", "1\n", "$", "+", "0x10",
                     "9" * 20, "1-" + "9" * 20, "１２３", "١٢٣-0"]),
    st.text(max_size=50).filter(lambda p: not (p.isascii() and p.replace("-", "", 1).isdigit())),
)
bad_filters = st.one_of(
    st.fixed_dictionaries({"types": st.lists(printable.filter(lambda t: t.strip() and "," not in t
                                                              and t.strip() not in EVENT_TYPES), min_size=1, max_size=3)}),
    st.fixed_dictionaries({"min_rank_movement": st.one_of(st.integers(max_value=-1), st.floats(
        allow_nan=False, allow_infinity=False).filter(lambda f: f != int(f)), st.text(max_size=5).filter(
        lambda t: not t.strip().lstrip("+-").isdigit()), st.lists(st.integers(), max_size=2))}),
    st.fixed_dictionaries({"leagues": st.one_of(st.integers(), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))}),
    st.dictionaries(st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=12).filter(
        lambda k: k not in FILTER_FIELDS), json_scalars, min_size=1, max_size=2),
    st.one_of(st.integers(), st.text(max_size=10), st.lists(st.integers(), max_size=2), st.booleans()),
)


def create(publisher, body: bytes, **headers: str):
    return publisher.client.post("/v1/subscriptions", content=body, headers={**JSON, **headers})


# --- creating a subscription --------------------------------------------------------------------------------


@FUZZ
@given(url=bad_urls)
def test_bad_webhook_urls_are_refused_and_nothing_is_stored(publisher, url):
    before = publisher.stored()
    response = create(publisher, json_bytes({"url": url}))
    body = publisher_rejection(response, 422)
    assert any(e["field"] == "url" for e in body["errors"]), describe(response)
    assert publisher.stored() == before


@FUZZ
@given(position=bad_positions)
def test_bad_start_positions_are_refused(publisher, position):
    before = publisher.stored()
    publisher_rejection(create(publisher, json_bytes({"url": GOOD_URL, "from_position": position})), 422,
                        loc=("body", "from_position"))
    assert publisher.stored() == before


@FUZZ
@given(filters=bad_filters)
def test_bad_filters_are_refused(publisher, filters):
    before = publisher.stored()
    publisher_rejection(create(publisher, json_bytes({"url": GOOD_URL, "filters": filters})), 422, loc=("body", "filters"))
    assert publisher.stored() == before


@FUZZ
@given(token=st.sampled_from(["NaN", "Infinity", "-Infinity", "1e309", "-1e999"]),
       field=st.sampled_from(["url", "description", "from_position", "filters", "filters.min_rank_movement",
                              "filters.types", "extra"]))
def test_nan_and_infinity_tokens_are_refused_not_echoed(publisher, token, field):
    document: dict = {"url": GOOD_URL, "filters": {}}
    if field.startswith("filters."):
        document["filters"][field.split(".", 1)[1]] = "__TOKEN__"
    else:
        document[field] = "__TOKEN__"
    body = json.dumps(document).replace('"__TOKEN__"', token).encode()
    before = publisher.stored()
    publisher_rejection(create(publisher, body), 422, loc=("body", *field.split(".")))
    assert publisher.stored() == before


@FUZZ
@given(data=st.data())
def test_wrong_types_missing_and_unknown_fields_are_named(publisher, data):
    document = {"url": GOOD_URL, "description": "d", "filters": {}, "from_position": "0-0"}
    kind = data.draw(st.sampled_from(["wrong type", "missing url", "unknown field"]), label="kind")
    if kind == "wrong type":
        field = data.draw(st.sampled_from(["url", "description", "from_position"]), label="field")
        document[field] = data.draw(st.one_of(st.integers(), st.booleans(), st.lists(st.text(max_size=3), max_size=2),
                                              st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)), label="value")
    elif kind == "missing url":
        field = "url"
        del document["url"]
    else:
        field = data.draw(st.text(alphabet=string.ascii_letters + "_", min_size=1, max_size=20).filter(
            lambda k: k not in FIELDS), label="field")
        document[field] = data.draw(json_scalars, label="value")
    before = publisher.stored()
    publisher_rejection(create(publisher, json_bytes(document)), 422, loc=("body", field))
    assert publisher.stored() == before


@FUZZ
@given(body=st.one_of(
    st.binary(max_size=200), st.text(max_size=200).map(str.encode),
    st.integers(1, 30).map(lambda n: json.dumps({"url": GOOD_URL})[:n].encode()),
    st.sampled_from([b"", b"[" * 5000, b'{"url": "' + GOOD_URL.encode() + b'", "filters": {"min_rank_movement": '
                     + b"9" * 5000 + b"}}"]),
))
def test_malformed_json_is_refused(publisher, body):
    try:
        valid = isinstance(json.loads(body), dict) and "url" in json.loads(body)
    except (ValueError, RecursionError):
        valid = False
    before = publisher.stored()
    response = create(publisher, body)
    if valid:  # an object with a url: created, or refused on its contents
        assert response.status_code in (201, 422), describe(response)
    else:
        publisher_rejection(response, 400, 422)
        assert publisher.stored() == before


@FUZZ
@given(content_type=st.one_of(
    st.sampled_from(["text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                     "application/octet-stream", "text/html"]),
    st.from_regex(r"[a-z]{1,8}/[a-z]{1,8}", fullmatch=True).filter(lambda t: not t.endswith("json")),
))
def test_other_content_types_are_refused(publisher, content_type):
    before = publisher.stored()
    response = publisher.client.post("/v1/subscriptions", content=json_bytes({"url": GOOD_URL}),
                                     headers={"Content-Type": content_type})
    publisher_rejection(response, 422, loc=("body",))
    assert publisher.stored() == before


@FUZZ
@given(size=st.integers(256 * 1024, 2 * 1024 * 1024), url=st.sampled_from(["http://127.0.0.1/", "ftp://8.8.8.8/", "x"]))
def test_a_large_body_with_a_bad_url_stores_nothing(publisher, size, url):
    before = publisher.stored()
    publisher_rejection(create(publisher, json_bytes({"url": url, "description": "d" * size})), 413)
    assert publisher.stored() == before


@FUZZ
@given(document=json_values)
def test_any_json_document_creates_a_subscription_or_is_cleanly_refused(publisher, document):
    before = publisher.stored()
    response = create(publisher, json_bytes(document))
    if response.status_code == 201:
        created = response.json()
        assert created["id"] in publisher.store.subs and created["secret"].startswith("whsec_")
        return
    publisher_rejection(response)
    assert publisher.stored() == before


# --- credentials --------------------------------------------------------------------------------------------

ADMIN_ROUTES = [
    ("POST", "/v1/subscriptions", json_bytes({"url": GOOD_URL})),
    ("GET", "/v1/subscriptions", None),
    ("GET", "/v1/subscriptions/sub_x", None),
    ("DELETE", "/v1/subscriptions/sub_x", None),
    ("GET", "/v1/subscriptions/sub_x/failed", None),
    ("POST", "/v1/subscriptions/sub_x/replay", None),
]


@FUZZ
@given(route=st.sampled_from(ADMIN_ROUTES), authorization=st.one_of(
    st.none(), st.just(""), st.just("Bearer"), st.just("Bearer "), printable,
    st.builds("Bearer {}".format, printable), st.builds("{} {}".format, st.sampled_from(["Basic", "Token", "bearer"]), printable),
).filter(lambda a: a is None or a.partition(" ")[2].strip() != ADMIN))
def test_subscriptions_need_the_admin_token(publisher, route, authorization):
    method, path, body = route
    request = publisher.client.build_request(method, path, content=body, headers=JSON)
    if authorization is None:
        del request.headers["Authorization"]
    else:
        request.headers["Authorization"] = authorization
    before = publisher.stored()
    publisher_rejection(publisher.client.send(request), 401)
    assert publisher.stored() == before


# --- path parameters ----------------------------------------------------------------------------------------


@FUZZ
@given(ident=st.text(min_size=1, max_size=300), route=st.sampled_from([
    ("GET", "/v1/subscriptions/{}"), ("DELETE", "/v1/subscriptions/{}"), ("GET", "/v1/subscriptions/{}/failed"),
    ("POST", "/v1/subscriptions/{}/replay"), ("GET", "/v1/leagues/{}"), ("GET", "/v1/trusts/{}"),
]))
@example(ident="../../leagues", route=("GET", "/v1/subscriptions/{}"))
@example(ident="acute/../..", route=("GET", "/v1/leagues/{}"))
@example(ident="\x00", route=("GET", "/v1/trusts/{}"))
@example(ident="RXX/history", route=("GET", "/v1/trusts/{}"))
def test_odd_ids_in_the_path_are_404(publisher, ident, route):
    method, template = route
    if ident in ("acute", "RXX"):  # the read model's real entries
        return
    before = publisher.stored()
    response = publisher.client.request(method, template.format(quote(ident, safe="")))
    publisher_rejection(response, 404, 405)
    assert publisher.stored() == before


@FUZZ
@given(limit=st.one_of(st.integers(max_value=0), st.integers(min_value=100_001), st.text(max_size=6).filter(
    lambda t: not t.strip().lstrip("+-").isdigit())))
def test_dead_letter_limits_out_of_range_are_refused(publisher, limit):
    sub = create(publisher, json_bytes({"url": GOOD_URL}))
    assert sub.status_code == 201, describe(sub)
    response = publisher.client.get(f"/v1/subscriptions/{sub.json()['id']}/failed", params={"limit": limit})
    publisher_rejection(response, 422, loc=("query", "limit"))


# --- the SSE stream -----------------------------------------------------------------------------------------


@FUZZ
@given(position=bad_positions, as_header=st.booleans())
def test_bad_last_event_ids_are_422(publisher, position, as_header):
    start = position.strip()
    assume(start and not POSITION.fullmatch(start))  # an empty or valid position would open the endless stream
    if as_header:
        assume(position.isprintable() and position.isascii())  # what an HTTP header can carry
        response = publisher.client.get("/v1/stream", headers={"Last-Event-ID": position})
    else:
        response = publisher.client.get("/v1/stream", params={"last_event_id": position})
    field = "header.Last-Event-ID" if as_header else "query.last_event_id"
    (error,) = publisher_rejection(response, 422, loc=tuple(field.split(".", 1)))["errors"]
    assert "event-log position" in error["reason"], describe(response)


@FUZZ
@given(query=st.one_of(
    st.fixed_dictionaries({"type": st.lists(printable.filter(lambda t: t.strip() and "," not in t
                                                            and t.strip() not in EVENT_TYPES), min_size=1, max_size=3)}),
    st.fixed_dictionaries({"min_rank_movement": st.integers(max_value=-1)}),
    st.fixed_dictionaries({"min_rank_movement": st.text(max_size=8).filter(lambda t: not t.strip().lstrip("+-").isdigit())}),
))
def test_bad_stream_filters_are_refused_naming_the_filter(publisher, query):
    response = publisher.client.get("/v1/stream", params=query)
    name = "type" if "type" in query else "min_rank_movement"
    publisher_rejection(response, 422, loc=("query", name))


def test_a_valid_token_reaches_the_routes(publisher):
    """The rejections above are not an artefact of a misconfigured app: the admin token works."""
    response = publisher.client.get("/v1/subscriptions", headers={"Authorization": f"Bearer {ADMIN}"})
    assert response.status_code == 200 and isinstance(response.json(), list), describe(response)
