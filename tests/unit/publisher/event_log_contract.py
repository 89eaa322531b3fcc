"""One behavioural suite for the event log, run against the in-memory twin (unit) and Redis (integration)."""

from __future__ import annotations

from services.publisher import appender
from services.publisher.alerts import HoldDown
from services.publisher.event_log import id_key
from tests.unit.publisher.publisher_builders import assessment, change, seg, seg_change


async def appends_in_order_and_reads_after_a_position(log) -> None:
    head0 = await log.head()
    events = [seg_change(1, seg(2), seg(3), trust="RAA"), assessment(1, trust="RAA"),
              change("rank.changed", 1, {"rank": 9}, {"rank": 3}, trust="RAA")]
    result = await appender.append_changes(log, events, HoldDown(), {"RAA": "London"})
    assert result.appended == 3 and [a.type for a in result.alerts] == ["segment.worsened"]
    rows = await log.read_after(head0)
    assert [r[1].facts.type for r in rows] == ["segment.changed", "segment.worsened", "assessment.changed", "rank.changed"]
    assert [id_key(r[0]) for r in rows] == sorted(id_key(r[0]) for r in rows)
    assert rows[0][1].facts.region == "London" and rows[3][1].facts.rank_movement == 6
    assert [r[0] for r in await log.read_after(rows[1][0])] == [rows[2][0], rows[3][0]]
    assert await log.head() == rows[-1][0]
    assert [r[0] for r in await log.wait_after(rows[1][0], 100)] == [rows[2][0], rows[3][0]]


async def drops_duplicates_and_older_versions(log) -> None:
    head0 = await log.head()
    first = [seg_change(5, seg(1), seg(2), trust="RBB"), assessment(5, trust="RBB")]
    assert (await appender.append_changes(log, first, HoldDown(), {})).appended == 2
    again = await appender.append_changes(log, [*first, seg_change(4, seg(2), seg(1), trust="RBB")], HoldDown(), {})
    assert (again.appended, again.duplicates, again.stale, again.alerts) == (0, 2, 1, [])
    same_version = await appender.append_changes(log, [assessment(5, trust="RCC")], HoldDown(), {})
    assert same_version.appended == 1  # several events share one league version
    assert len(await log.read_after(head0)) == 4  # 2 changes + 1 alert + 1


async def keeps_hold_down_state_across_batches(log) -> None:
    hold = HoldDown(updates=2)
    r1 = await appender.append_changes(log, [seg_change(10, seg(2), seg(3), trust="RDD", league="ambulance")], hold, {})
    assert r1.alerts == []
    r2 = await appender.append_changes(log, [assessment(11, trust="RDD", league="ambulance")], hold, {})
    assert [a.type for a in r2.alerts] == ["segment.worsened"]


async def keeps_the_correlation_id_of_each_entry(log) -> None:
    head0 = await log.head()
    traced = assessment(20, trust="REE", league="ambulance")
    traced = traced.model_copy(update={"cause": traced.cause.model_copy(update={"correlation_id": "req-20"})})
    untraced = assessment(21, trust="REE", league="ambulance")
    await appender.append_changes(log, [traced, untraced], HoldDown(), {})
    assert [r[1].correlation_id for r in await log.read_after(head0)] == ["req-20", ""]


CONTRACT = [appends_in_order_and_reads_after_a_position, drops_duplicates_and_older_versions,
            keeps_hold_down_state_across_batches, keeps_the_correlation_id_of_each_entry]
