"""The subscription-store contract against the real Redis (leases, fencing tokens, status)."""

import pytest

from services.publisher.secret_box import SecretBox
from services.publisher.subscriptions import RedisSubscriptionStore
from tests.unit.publisher.subscription_store_contract import CONTRACT


@pytest.mark.parametrize("case", CONTRACT, ids=lambda c: c.__name__)
async def test_contract(case, aredis, prefix):
    await case(RedisSubscriptionStore(aredis, prefix, SecretBox.generate()))
