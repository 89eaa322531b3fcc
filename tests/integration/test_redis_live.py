"""The real Redis server answers and keeps what it is given."""

import uuid


def test_redis_round_trip(redis_client):
    key = f"nof:test:{uuid.uuid4().hex}"
    redis_client.set(key, b"\x00league", ex=30)
    assert redis_client.get(key) == b"\x00league"
    redis_client.delete(key)
    assert redis_client.get(key) is None
