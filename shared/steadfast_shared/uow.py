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
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from steadfast_shared.db.bulk import insert_rows
from steadfast_shared.db.engine import sqlite_write_lock
from steadfast_shared.db.metadata import PlatformTables
from steadfast_shared.db.types import utcnow
from steadfast_shared.domain import pending_events
from steadfast_shared.events.envelope import CloudEvent, EnvelopeWriter, uuid4_strings
from steadfast_shared.events.registry import EventRegistry, PendingEvent


class UnitOfWork:
    """A session plus the outbox. Use :meth:`commit` once (or :meth:`checkpoint` along the way, as a
    partial import does); anything else rolls back."""

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
        self._last_payloads: list[str] = []
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

    async def write_outbox(self) -> int:
        """Flush the changes, then insert the collected events as outbox rows (same transaction).

        The rows are written in one statement (``COPY`` on PostgreSQL), in the order the events were
        recorded; their envelopes are serialised straight to JSON (:attr:`published` parses them back,
        when asked). Answers how many events it wrote.
        """
        await self.session.flush()
        pending = self._collect()
        if not pending:
            self._last_payloads = []
            return 0
        now = utcnow()
        writer = EnvelopeWriter(self.registry.source, now)
        rows: list[dict[str, Any]] = []
        payloads: list[str] = []
        registered: set[str] = set()
        for event, event_id in zip(pending, uuid4_strings(len(pending)), strict=True):
            type_ = event.event_type.type
            if type_ not in registered:
                if self.registry.get(type_) is None:
                    raise LookupError(f"event type {type_!r} is not registered")
                registered.add(type_)
            payload = writer.write(
                event_id=event_id,
                type_=type_,
                subject=event.subject,
                data=event.data,
                dataschema=f"urn:steadfast:event:{type_}",
            )
            payloads.append(payload)
            rows.append(
                {
                    "event_id": event_id,
                    "topic": event.event_type.topic,
                    "message_key": event.subject,
                    "event_type": type_,
                    "payload": payload,
                    "created_at": now,
                }
            )
        await insert_rows(self.session, self.tables.outbox, rows)
        self._last_payloads = payloads
        self.events_written += len(rows)
        return len(rows)

    @property
    def published(self) -> list[CloudEvent]:
        """The envelopes of the last write to the outbox (the whole unit of work's, unless it wrote in
        batches, as imports do: keeping every one would grow with the file)."""
        return [CloudEvent.from_json(payload) for payload in self._last_payloads]

    async def commit(self) -> None:
        await self.write_outbox()
        await self.session.commit()
        if self._on_commit is not None and self.events_written:
            self._on_commit()

    async def checkpoint(self) -> None:
        """Commit the work so far (outbox included) and carry on in a new transaction.

        For work that may keep what it has done if it fails later (a partial import, batch by batch), so
        that it does not hold locks to its end. On SQLite the commit releases the database's one write
        lock, and the writers waiting for it get it before this unit of work takes it again.
        """
        await self.commit()
        write_lock = sqlite_write_lock(self.session)
        if write_lock is not None:
            await write_lock.give_way()

    async def rollback(self) -> None:
        await self.session.rollback()
        pending_events(self.session.sync_session).clear()
        self._extra.clear()
