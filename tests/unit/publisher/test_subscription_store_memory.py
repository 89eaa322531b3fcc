"""The subscription-store contract on the in-memory twin."""

import pytest

from services.publisher.subscriptions import MemorySubscriptionStore
from tests.unit.publisher.subscription_store_contract import CONTRACT


@pytest.mark.parametrize("case", CONTRACT, ids=lambda c: c.__name__)
async def test_contract(case):
    await case(MemorySubscriptionStore())
