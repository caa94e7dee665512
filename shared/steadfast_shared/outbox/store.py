"""Every query the relay and the operators' commands make on the outbox table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from steadfast_shared.db.metadata import PlatformTables
from steadfast_shared.db.types import utcnow


@dataclass(frozen=True)
class OutboxRow:
    id: int
    event_id: str
    topic: str
    message_key: str
    event_type: str
    payload: str


class OutboxStore:
    """Queries on the outbox. Each method is its own short transaction.

    The reads (:meth:`unpublished`, :meth:`backlog`) use ``reader`` when given (the database's read session
    factory): on SQLite they then do not wait for a long write transaction to end.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        tables: PlatformTables,
        *,
        reader: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._reader = reader or sessionmaker
        self._t = tables.outbox

    async def unpublished(self, limit: int) -> list[OutboxRow]:
        """The oldest unpublished rows, in id order.

        There is no high-water mark: a row whose transaction commits after a row with a higher id was
        published (a sequence gap) is simply unpublished at the next poll, so it cannot be skipped.
        """
        t = self._t
        query = (
            select(t.c.id, t.c.event_id, t.c.topic, t.c.message_key, t.c.event_type, t.c.payload)
            .where(t.c.published_at.is_(None))
            .order_by(t.c.id)
            .limit(limit)
        )
        async with self._reader() as session:
            result = await session.execute(query)
            return [OutboxRow(*row) for row in result.all()]

    async def mark_published(self, ids: list[int], at: datetime | None = None) -> None:
        if not ids:
            return
        t = self._t
        async with self._sessionmaker() as session, session.begin():
            for start in range(0, len(ids), 1000):
                chunk = ids[start : start + 1000]
                await session.execute(
                    update(t).where(t.c.id.in_(chunk)).values(published_at=at or utcnow(), last_error=None)
                )

    async def mark_failed(self, ids: list[int], error: str) -> None:
        if not ids:
            return
        t = self._t
        async with self._sessionmaker() as session, session.begin():
            await session.execute(
                update(t).where(t.c.id.in_(ids)).values(attempts=t.c.attempts + 1, last_error=error[:2000])
            )

    async def purge_published(self, older_than: timedelta) -> int:
        """Delete rows published before now - ``older_than``; returns how many."""
        t = self._t
        cutoff = utcnow() - older_than
        async with self._sessionmaker() as session, session.begin():
            result = await session.execute(
                delete(t).where(t.c.published_at.is_not(None), t.c.published_at < cutoff)
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def republish(
        self, *, from_id: int | None = None, to_id: int | None = None, since: datetime | None = None
    ) -> int:
        """Mark retained published rows unpublished again, so the relay sends them once more."""
        t = self._t
        query = update(t).where(t.c.published_at.is_not(None))
        if from_id is not None:
            query = query.where(t.c.id >= from_id)
        if to_id is not None:
            query = query.where(t.c.id <= to_id)
        if since is not None:
            query = query.where(t.c.created_at >= since)
        async with self._sessionmaker() as session, session.begin():
            result = await session.execute(query.values(published_at=None))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def backlog(self) -> tuple[int, datetime | None]:
        """How many rows wait to be published, and when the oldest of them was written."""
        t = self._t
        async with self._reader() as session:
            row = (
                await session.execute(
                    select(func.count(), func.min(t.c.created_at)).where(t.c.published_at.is_(None))
                )
            ).one()
            return int(row[0]), row[1]
