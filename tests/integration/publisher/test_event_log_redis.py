"""The event-log contract against the real Redis Stream."""

import asyncio

import pytest

from services.publisher import appender
from services.publisher.alerts import HoldDown
from services.publisher.event_log import RedisEventLog
from tests.unit.publisher.publisher_builders import assessment
from tests.unit.publisher.event_log_contract import CONTRACT


@pytest.mark.parametrize("case", CONTRACT, ids=lambda c: c.__name__)
async def test_contract(case, aredis, prefix):
    await case(RedisEventLog(aredis, prefix, retained=1000))


async def test_seen_event_ids_are_pruned_by_age_and_old_copies_are_still_refused(aredis, prefix):
    log = RedisEventLog(aredis, prefix, retained=1000, seen_max_age_s=0.5)
    first = assessment(1, trust="RAA")
    await appender.append_changes(log, [first], HoldDown(), {})
    await asyncio.sleep(0.8)
    await appender.append_changes(log, [assessment(2, trust="RBB")], HoldDown(), {})
    assert await log.known([first.event_id]) == set()  # pruned: older than the age limit
    assert await aredis.zcard(f"{prefix}:events:seen") == 1
    again = await appender.append_changes(log, [first], HoldDown(), {})
    assert again.appended == 0  # its league version is behind: still not appended twice
