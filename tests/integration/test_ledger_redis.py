"""The idempotency ledger's behavioural suite on the real Redis: the same promises as the twin, and two
ledgers (two ingest replicas) over one Redis agree."""

import uuid

import pytest

from services.ingest.ledger import Claim, Conflicts, RedisLedger
from tests.support.ledger_contract import LedgerContract


@pytest.fixture
def prefix(redis_client):
    prefix = f"nof-test-{uuid.uuid4().hex[:8]}"
    yield prefix
    for key in redis_client.scan_iter(match="{" + prefix + ":ingest}:*"):
        redis_client.delete(key)


class TestRedisLedger(LedgerContract):
    @pytest.fixture
    def ledger(self, redis_client, prefix):
        return RedisLedger(redis_client, prefix, ttl_s=60)


def test_two_replicas_share_the_ledger(redis_client, prefix):
    one, two = RedisLedger(redis_client, prefix, 60), RedisLedger(redis_client, prefix, 60)
    assert one.claim([Claim("s", "a", "id-1")]) == [0]
    assert two.claim([Claim("s", "b")]) == [1]
    with pytest.raises(Conflicts):
        two.claim([Claim("s", "c", "id-1")])
    assert one.claim([Claim("s", "a")]) == [2]
    assert 0 < redis_client.ttl("{" + prefix + ":ingest}:id:id-1") <= 60
