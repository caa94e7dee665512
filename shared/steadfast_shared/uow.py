"""The unit of work: one database transaction, and the outbox rows for the events it produced.

Infrastructure owns the transaction: the HTTP layer (or a consumer) creates one unit of work per
request (or message) and commits it once. Services and repositories only ``flush()``.

On commit the unit of work flushes the aggregates' changes first and only then inserts the outbox rows,
so that an outbox id is drawn after the aggregate's row lock is held: events of one aggregate are in id
order in the outbox, which is what the relay publishes in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from steadfast_shared.db.metadata import PlatformTables
from steadfast_shared.db.types import utcnow
from steadfast_shared.domain import pending_events
from steadfast_shared.events.envelope import CloudEvent, new_event
from steadfast_shared.events.registry import EventRegistry, PendingEvent


class UnitOfWork:
    """A session plus the outbox. Use :meth:`commit` once; anything else rolls back."""

    def __init__(
        self,
        session: AsyncSession,
        *,
        tables: PlatformTables,
        registry: EventRegistry,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self.session = session
        self.tables = tables
        self.registry = registry
        self._extra: list[PendingEvent] = []
        self._on_commit = on_commit
        #: The envelopes of the last write to the outbox (the whole unit of work's, unless it wrote in
        #: batches, as imports do: keeping every one would grow with the file).
        self.published: list[CloudEvent] = []
        #: How many events this unit of work wrote to the outbox in all.
        self.events_written = 0

    def record(self, event: PendingEvent) -> None:
        """Record an event that belongs to no loaded aggregate (rare: prefer ``Aggregate.record``)."""
        self._extra.append(event)

    def _collect(self) -> list[PendingEvent]:
        events = pending_events(self.session.sync_session)
        collected = [*events, *self._extra]
        events.clear()
        self._extra.clear()
        return collected

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A savepoint: on an exception the changes and the events recorded inside it are undone."""
        events = pending_events(self.session.sync_session)
        mark, extra_mark = len(events), len(self._extra)
        try:
            async with self.session.begin_nested():
                yield
                await self.session.flush()
        except BaseException:
            del events[mark:]
            del self._extra[extra_mark:]
            raise

    async def write_outbox(self) -> list[CloudEvent]:
        """Flush the changes, then insert the collected events as outbox rows (same transaction)."""
        await self.session.flush()
        pending = self._collect()
        if not pending:
            return []
        now = utcnow()
        rows = []
        envelopes = []
        for event in pending:
            registered = self.registry.get(event.event_type.type)
            if registered is None:
                raise LookupError(f"event type {event.event_type.type!r} is not registered")
            envelope = new_event(
                source=self.registry.source,
                type_=event.event_type.type,
                subject=event.subject,
                data=event.payload(),
                dataschema=f"urn:steadfast:event:{event.event_type.type}",
            )
            envelopes.append(envelope)
            rows.append(
                {
                    "event_id": envelope.id,
                    "topic": event.event_type.topic,
                    "message_key": event.subject,
                    "event_type": envelope.type,
                    "payload": envelope.to_json().decode(),
                    "created_at": now,
                }
            )
        await self.session.execute(insert(self.tables.outbox), rows)
        self.published = envelopes
        self.events_written += len(envelopes)
        return envelopes

    async def commit(self) -> None:
        await self.write_outbox()
        await self.session.commit()
        if self._on_commit is not None and self.events_written:
            self._on_commit()

    async def rollback(self) -> None:
        await self.session.rollback()
        pending_events(self.session.sync_session).clear()
        self._extra.clear()
