"""Applying a batch of delivered events exactly once: the one path of the live consumer and the rebuild.

A batch is applied in one transaction: the tracking rows of its events are written first, in one
statement that skips the events already applied (``INSERT ... ON CONFLICT DO NOTHING RETURNING``:
the tracking table's primary key finds the duplicates), then the batch handler applies the new events,
in delivery order, and the transaction commits. The projection changes and their tracking rows land
together, so a batch that is delivered again (after a crash before the offset commit, a rebalance, a
republished outbox) is a no-op.

A batch that fails is rolled back and bisected: each half is applied in a transaction of its own, the
first half first, and a half that fails is split again, down to the single event, which is retried
``max_attempts`` times before it is handed back as *failed* (the caller dead-letters it). So the one
event that cannot be applied is isolated in about 2·log2(n) transactions, and every other event lands.
Events of one key are on one partition and a batch holds each partition's events in offset order, and
the halves keep that order, so per-key order holds on every path.

A failure of the database itself (a lost connection, a server restarting) is not the events' fault:
it is raised as :class:`DatabaseUnavailable`, nothing is dead-lettered, and the caller applies the
same batch again once the database answers (the tracking rows make that safe).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy import Table, bindparam, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from steadfast_shared.db.engine import Database
from steadfast_shared.db.metadata import PlatformTables
from steadfast_shared.db.types import UtcDateTime, utcnow
from steadfast_shared.events.envelope import CloudEvent
from steadfast_shared.events.registry import EventRegistry
from steadfast_shared.uow import UnitOfWork

log = structlog.get_logger(__name__)

#: Applies one event in the unit of work's transaction (the caller commits).
Handler = Callable[[UnitOfWork, CloudEvent], Awaitable[None]]
#: Applies events in order in the unit of work's transaction, leaving what the handler applied to each in
#: turn would leave (the caller commits).
BatchHandler = Callable[[UnitOfWork, Sequence[CloudEvent]], Awaitable[Any]]
#: A session for one transaction (the database's sessionmaker, or the rebuild's held connection).
SessionFactory = Callable[[], Awaitable[AsyncSession]]


@dataclass(frozen=True)
class ReadAhead:
    """A service's batch work split in two: ``prepare`` is pure work on a whole batch (reading the
    payloads, say), done before its transaction, while the previous batch is in the database; ``apply``
    writes the batch's new events with what ``prepare`` made of every event of the batch (duplicates
    included: it must leave what the batch handler applied to the new events alone would leave)."""

    prepare: Callable[[Sequence[CloudEvent]], Any]
    apply: Callable[[UnitOfWork, Sequence[CloudEvent], Any], Awaitable[Any]]


#: ``BatchApplier.apply``'s ``prepared`` when the batch was not read ahead.
NOT_PREPARED: Any = object()


class PoisonMessage(Exception):
    """A message that can never be processed (not a CloudEvent, say): straight to the dead-letter topic."""


class DatabaseUnavailable(Exception):
    """The database could not be reached or lost the connection: apply the batch again later."""


#: SQLSTATE classes of a database that is not there: 08 connection exception, 57 operator intervention
#: (a server shutting down or restarting), 53 insufficient resources (too many connections).
_UNAVAILABLE_SQLSTATE_CLASSES = ("08", "53", "57")


def _unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database is unavailable, rather than that these events cannot be
    applied (those are bisected and, alone, dead-lettered)."""
    if isinstance(exc, ConnectionError | OSError | TimeoutError):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated or isinstance(exc, InterfaceError) or isinstance(exc.orig, OSError):
        return True
    state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if isinstance(state, str) and state.startswith(_UNAVAILABLE_SQLSTATE_CLASSES):
        return True
    # SQLite, busy: another writer held the lock past the busy timeout.
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)


@dataclass(frozen=True)
class Delivered:
    """One message read, as a CloudEvent, with where it was read from (for its tracking row)."""

    event: CloudEvent
    topic: str
    partition: int
    offset: int


def parse(record: Any) -> Delivered:
    """A Kafka record as a delivered CloudEvent; :class:`PoisonMessage` when it is not one."""
    if record.value is None:
        raise PoisonMessage("empty message value")
    try:
        event = CloudEvent.from_json(record.value)
    except (ValidationError, ValueError) as exc:
        raise PoisonMessage(f"not a CloudEvents 1.0 JSON envelope: {exc}") from exc
    return Delivered(event, record.topic, record.partition, record.offset)


def one_by_one(handler: Handler) -> BatchHandler:
    """The batch handler of a service with a handler for one event only: each in turn."""

    async def apply_all(uow: UnitOfWork, events: Sequence[CloudEvent]) -> None:
        for event in events:
            await handler(uow, event)

    return apply_all


@dataclass
class Outcome:
    """What applying a batch did."""

    #: The events applied now, in delivery order.
    applied: list[Delivered] = field(default_factory=list)
    #: Copies of events applied before (or earlier in the same batch).
    duplicates: int = 0
    #: The events that failed every attempt, with the last error: the caller dead-letters them.
    failed: list[tuple[Delivered, str]] = field(default_factory=list)
    #: Whether the batch went in one transaction (False: it failed and was bisected).
    whole: bool = True


class BatchApplier:
    """Applies batches of delivered events for consumer ``name``, each event exactly once."""

    def __init__(
        self,
        *,
        name: str,
        database: Database,
        tables: PlatformTables,
        registry: EventRegistry,
        handler: Handler,
        batch_handler: BatchHandler | None = None,
        max_attempts: int = 3,
        retry_delay: float = 0.2,
        session: SessionFactory | None = None,
        read_ahead: ReadAhead | None = None,
    ) -> None:
        self.name = name
        self._database = database
        self._tables = tables
        self._registry = registry
        self._handler = handler
        self._batch_handler = batch_handler or one_by_one(handler)
        self._max_attempts = max_attempts
        self._retry_delay = retry_delay
        self._session = session or self._new_session
        self._track = _Tracker(tables.processed_events, database.dialect)
        self.read_ahead = read_ahead

    async def _new_session(self) -> AsyncSession:
        return self._database.sessionmaker()

    async def apply(self, batch: Sequence[Delivered], prepared: Any = NOT_PREPARED) -> Outcome:
        """Apply ``batch`` (see the module docstring); :class:`DatabaseUnavailable` when the database
        cannot be reached, with nothing applied by the attempt that met it. ``prepared``: what the
        read-ahead's ``prepare`` made of the whole batch (used while the batch goes in whole)."""
        outcome = Outcome()
        distinct: dict[str, Delivered] = {}
        for delivered in batch:
            distinct.setdefault(delivered.event.id, delivered)
        outcome.duplicates = len(batch) - len(distinct)
        if distinct:
            await self._apply_part(list(distinct.values()), outcome, prepared)
        return outcome

    async def _apply_part(
        self, part: list[Delivered], outcome: Outcome, prepared: Any = NOT_PREPARED
    ) -> None:
        if len(part) == 1 and prepared is NOT_PREPARED:
            await self._apply_alone(part[0], outcome)
            return
        try:
            fresh = await self._apply_together(part, prepared)
        except Exception as exc:
            if _unavailable(exc):
                raise DatabaseUnavailable(f"{type(exc).__name__}: {exc}"[:4000]) from exc
            log.warning(
                "consumer.batch_failed",
                consumer=self.name,
                events=len(part),
                error=f"{type(exc).__name__}: {exc}"[:4000],
            )
            outcome.whole = False
            if len(part) == 1:
                await self._apply_alone(part[0], outcome)
                return
            middle = len(part) // 2
            await self._apply_part(part[:middle], outcome)
            await self._apply_part(part[middle:], outcome)
            return
        outcome.applied.extend(fresh)
        outcome.duplicates += len(part) - len(fresh)

    async def _apply_together(
        self, delivered: list[Delivered], prepared: Any = NOT_PREPARED
    ) -> list[Delivered]:
        async with await self._session() as session:
            uow = UnitOfWork(session, tables=self._tables, registry=self._registry)
            try:
                tracked = await self._track(session, self.name, delivered)
                fresh = [d for d in delivered if d.event.id in tracked]
                if fresh and prepared is not NOT_PREPARED and self.read_ahead is not None:
                    await self.read_ahead.apply(uow, [d.event for d in fresh], prepared)
                elif fresh:
                    await self._batch_handler(uow, [d.event for d in fresh])
                await uow.commit()
                return fresh
            except BaseException:
                await uow.rollback()
                raise

    async def _apply_alone(self, delivered: Delivered, outcome: Outcome) -> None:
        error = ""
        for attempt in range(1, self._max_attempts + 1):
            try:
                fresh = await self._apply_together([delivered])
            except Exception as exc:
                if _unavailable(exc):
                    raise DatabaseUnavailable(f"{type(exc).__name__}: {exc}"[:4000]) from exc
                error = f"{type(exc).__name__}: {exc}"
                log.warning(
                    "consumer.handler_failed",
                    consumer=self.name,
                    event_id=delivered.event.id,
                    event_type=delivered.event.type,
                    attempt=attempt,
                    error=error[:4000],
                )
                if attempt < self._max_attempts:
                    await asyncio.sleep(self._retry_delay * 2 ** (attempt - 1))
                continue
            if fresh:
                outcome.applied.extend(fresh)
            else:
                outcome.duplicates += 1
            return
        outcome.failed.append((delivered, error))


#: The tracking rows of a batch in one statement on PostgreSQL (one row of arrays, not six parameters a
#: row: PostgreSQL unnests them); an event already tracked is skipped.
_TRACK_UNNESTED = (
    'INSERT INTO {table} (consumer, event_id, topic, partition, "offset", processed_at) '
    "SELECT :consumer, e, t, p, o, :processed_at FROM unnest("
    "CAST(:event_ids AS varchar[]), CAST(:topics AS varchar[]), CAST(:partitions AS integer[]), "
    "CAST(:offsets AS bigint[])) AS u(e, t, p, o) "
    "ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id"
)


class _Tracker:
    """Writes the tracking rows of events not applied before; returns their ids."""

    def __init__(self, table: Table, dialect: str) -> None:
        self._table = table
        self._dialect = dialect
        self._unnested = text(_TRACK_UNNESTED.format(table=table.name)).bindparams(
            bindparam("processed_at", type_=UtcDateTime())
        )
        self._sqlite = (
            sqlite_insert(table)
            .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
            .returning(table.c.event_id)
        )

    async def __call__(
        self, session: AsyncSession, consumer: str, delivered: Sequence[Delivered]
    ) -> set[str]:
        now = utcnow()
        if self._dialect == "postgresql":
            answer = await session.execute(
                self._unnested,
                {
                    "consumer": consumer,
                    "event_ids": [d.event.id for d in delivered],
                    "topics": [d.topic for d in delivered],
                    "partitions": [d.partition for d in delivered],
                    "offsets": [d.offset for d in delivered],
                    "processed_at": now,
                },
            )
            return set(answer.scalars())
        rows = [
            {
                "consumer": consumer,
                "event_id": d.event.id,
                "topic": d.topic,
                "partition": d.partition,
                "offset": d.offset,
                "processed_at": now,
            }
            for d in delivered
        ]
        # SQLAlchemy sends these as multi-row VALUES statements and gathers RETURNING's rows.
        return set((await session.execute(self._sqlite, rows)).scalars())
