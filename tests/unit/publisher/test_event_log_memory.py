"""The event-log contract against the in-memory twin."""

import pytest

from services.publisher.event_log import MemoryEventLog
from tests.unit.publisher.event_log_contract import CONTRACT


@pytest.mark.parametrize("case", CONTRACT, ids=lambda c: c.__name__)
async def test_contract(case):
    await case(MemoryEventLog())


async def test_retention_is_bounded():
    from services.publisher import appender
    from services.publisher.alerts import HoldDown
    from tests.unit.publisher.publisher_builders import assessment

    log = MemoryEventLog(retained=5)
    await appender.append_changes(log, [assessment(v, trust=f"R{v:02d}") for v in range(10)], HoldDown(), {})
    assert len(log.rows) == 5
