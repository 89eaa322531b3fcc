"""Standard Webhooks signatures: the published test vector, an independent HMAC, verification rules."""

import base64
import hashlib
import hmac

from services.publisher import signing

# The Standard Webhooks specification's (and its reference libraries') test vector.
VECTOR = {
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "timestamp": 1614265330,
    "body": b'{"test": 2432232314}',
    "signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
}


def test_published_vector():
    v = VECTOR
    assert signing.sign(v["secret"], v["id"], v["timestamp"], v["body"]) == v["signature"]


def test_matches_an_independent_hmac_over_id_timestamp_body():
    secret = signing.new_secret()
    body = b'{"specversion":"1.0","id":"evt_1"}'
    key = base64.b64decode(secret[len("whsec_"):])
    expected = base64.b64encode(hmac.new(key, b"evt_1.1700000000." + body, hashlib.sha256).digest()).decode()
    assert signing.sign(secret, "evt_1", 1700000000, body) == "v1," + expected


def test_new_secrets_are_whsec_32_random_bytes():
    a, b = signing.new_secret(), signing.new_secret()
    assert a.startswith("whsec_") and a != b
    assert len(signing.secret_key(a)) == 32


def test_headers_carry_id_timestamp_signature():
    v = VECTOR
    h = signing.headers(v["secret"], v["id"], v["timestamp"], v["body"])
    assert h["webhook-id"] == v["id"] and h["webhook-timestamp"] == "1614265330"
    assert h["webhook-signature"] == v["signature"]


def test_verify_accepts_any_listed_signature_and_rejects_tampering_and_stale_timestamps():
    v = VECTOR
    header = "v1,bm90LXRoaXMtb25l " + v["signature"]
    assert signing.verify(v["secret"], v["id"], v["timestamp"], v["body"], header)
    assert not signing.verify(v["secret"], v["id"], v["timestamp"], v["body"] + b" ", header)
    assert not signing.verify(v["secret"], "msg_other", v["timestamp"], v["body"], header)
    assert not signing.verify(v["secret"], v["id"], v["timestamp"], v["body"], header, now=v["timestamp"] + 301)
    assert signing.verify(v["secret"], v["id"], v["timestamp"], v["body"], header, now=v["timestamp"] + 299)
