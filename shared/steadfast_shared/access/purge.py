"""The retention purge: a background task that deletes access log rows older than the retention."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import structlog

from steadfast_shared.access.reads import access_log_table_of
from steadfast_shared.access.repository import AccessLogRepository
from steadfast_shared.db.types import utcnow
from steadfast_shared.service import Runtime

log = structlog.get_logger(__name__)

#: How often each replica purges (two replicas purging together delete the same rows; both succeed).
PURGE_EVERY_SECONDS = 3600.0


class AccessLogPurge:
    """Every hour, delete the rows read more than ``access_log_retention_days`` ago."""

    name = "access-log-purge"

    def __init__(self, runtime: Runtime, *, every_seconds: float = PURGE_EVERY_SECONDS) -> None:
        self.runtime = runtime
        self.every_seconds = every_seconds
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.purge_once()
            except Exception:
                log.exception("access_log.purge_failed", service=self.runtime.definition.name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.every_seconds)

    async def purge_once(self) -> int:
        """Delete the rows older than the retention now; answers how many."""
        retention = timedelta(days=self.runtime.settings.access_log_retention_days)
        cutoff = utcnow() - retention
        table = access_log_table_of(self.runtime)
        async with self.runtime.database.sessionmaker() as session, session.begin():
            purged = await AccessLogRepository(session, table).purge_before(cutoff)
        if purged:
            log.info("access_log.purged", service=self.runtime.definition.name, rows=purged)
        return purged
