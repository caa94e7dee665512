"""The snapshot schedule: a snapshot of every KPI is taken when the last scheduled one is at least the
interval old, not before; a second replica deciding at the same time leaves one snapshot."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select, update

from steadfast_metrics.bootstrap import definition
from steadfast_metrics.history.models import KpiSnapshot
from steadfast_metrics.history.schedule import SnapshotSchedule
from steadfast_metrics.settings import MetricsSettings
from steadfast_shared.dates import today
from steadfast_shared.db import create_database
from steadfast_shared.service import Runtime
from steadfast_shared.settings import Environment
from tests.metrics.conftest import Projections


def schedule(projections: Projections, interval: int = 7) -> SnapshotSchedule:
    settings = MetricsSettings(
        environment=Environment.test, database_url="sqlite+aiosqlite://", snapshot_interval_days=interval
    )
    return SnapshotSchedule(Runtime(definition=definition, settings=settings, database=projections.database))


async def days(projections: Projections) -> list[tuple[str, int]]:
    async with projections.database.sessionmaker() as session:
        rows = await session.execute(
            select(KpiSnapshot.as_of, func.count()).group_by(KpiSnapshot.as_of).order_by(KpiSnapshot.as_of)
        )
        return [(str(day), count) for day, count in rows.all()]


async def test_a_snapshot_is_taken_when_due_and_not_before(projections: Projections) -> None:
    weekly = schedule(projections)
    assert await weekly.run_once() is True
    assert await days(projections) == [(str(today()), 20)]  # every KPI for the council (no team yet)
    assert await weekly.run_once() is False  # taken today: not due for a week

    # Six days ago: still not due; seven days ago: due again.
    async with projections.database.sessionmaker() as session:
        await session.execute(update(KpiSnapshot).values(as_of=today() - timedelta(days=6)))
        await session.commit()
    assert await weekly.run_once() is False
    async with projections.database.sessionmaker() as session:
        await session.execute(update(KpiSnapshot).values(as_of=today() - timedelta(days=7)))
        await session.commit()
    assert await weekly.run_once() is True
    assert [count for _, count in await days(projections)] == [20, 20]


async def test_two_replicas_deciding_together_leave_one_snapshot(projections: Projections) -> None:
    other = create_database(
        projections.database.engine.url.render_as_string(hide_password=False), pool_size=2
    )
    try:
        first = schedule(projections)
        second = SnapshotSchedule(Runtime(definition=definition, settings=first.settings, database=other))
        results = await asyncio.gather(first.run_once(), second.run_once())
    finally:
        await other.dispose()
    assert sorted(results) in ([False, True], [True, True])
    assert await days(projections) == [(str(today()), 20)]


async def test_an_interval_of_zero_turns_the_schedule_off(projections: Projections) -> None:
    off = schedule(projections, interval=0)
    await asyncio.wait_for(off.run(), 5)  # returns at once
    assert await days(projections) == []
