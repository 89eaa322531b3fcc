"""The event-log contract against the real Redis Stream."""

import pytest

from services.publisher.event_log import RedisEventLog
from tests.unit.publisher.event_log_contract import CONTRACT


@pytest.mark.parametrize("case", CONTRACT, ids=lambda c: c.__name__)
async def test_contract(case, aredis, prefix):
    await case(RedisEventLog(aredis, prefix, retained=1000))
