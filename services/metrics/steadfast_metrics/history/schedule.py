"""The snapshot schedule: every ``snapshot_interval_days`` (7 by default, the Worcestershire rhythm) a
snapshot of every KPI is taken, as of that day.

Each replica checks every ``snapshot_check_seconds`` whether the latest snapshot is at least the interval
old. Two replicas that decide together both write the same day; the day's rows are unique, so one of them
fails and leaves the other's (and a retried run replaces the day with the same values).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import structlog
from sqlalchemy.exc import IntegrityError

from steadfast_metrics.history.repository import SnapshotRepository
from steadfast_metrics.history.service import HistoryService
from steadfast_metrics.kpis.service import kpi_service
from steadfast_metrics.settings import metrics_settings
from steadfast_shared.dates import today
from steadfast_shared.service import Runtime

log = structlog.get_logger(__name__)

SCHEDULE = "schedule"


class SnapshotSchedule:
    name = "metrics-snapshot-schedule"

    def __init__(self, runtime: Runtime) -> None:
        settings = metrics_settings(runtime)
        self.runtime = runtime
        self.settings = settings
        self.database = runtime.database
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        if self.settings.snapshot_interval_days == 0:
            return
        while not self._stopping.is_set():
            try:
                await self.run_once()
            except Exception:
                log.exception("snapshot.schedule_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.settings.snapshot_check_seconds)

    async def run_once(self) -> bool:
        """Take today's snapshot if one is due; answers whether it took one."""
        day = today()
        async with self.database.sessionmaker() as session:
            snapshots = SnapshotRepository(session)
            latest = await snapshots.latest_day(SCHEDULE)
            if latest is not None and latest + timedelta(days=self.settings.snapshot_interval_days) > day:
                return False
            kpis = kpi_service(self.runtime, session)
            history = HistoryService(snapshots, kpis, self.settings.forecast_points)
            try:
                taken = await history.take(day, SCHEDULE)
                await session.commit()
            except IntegrityError:
                await session.rollback()
                log.info("snapshot.taken_elsewhere", as_of=str(day))
                return False
        log.info("snapshot.taken", as_of=str(day), rows=taken.rows, teams=len(taken.teams))
        return True
