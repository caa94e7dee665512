"""Rebuilding the projections from the topics (SPEC section 5: a rebuild gives exactly the state that live
processing gave).

The rules:

- Everything the projections consumer built is emptied first: every ``fact_*`` table,
  ``projection_sources``, ``projection_revision`` and the consumer's own rows of ``processed_events``
  (group ``metrics-projections``). Strategies and KPI snapshots are not projections and are kept.
- The end offset of every partition of the staff, caseload and audit topics is taken at the start; each
  partition is read from its beginning up to that offset by a reader of no consumer group (so nothing
  of the live group moves), and an event published meanwhile is left to the live consumer. (Tansu
  answers ``ListOffsets`` with the base offset of the partition's last record batch + 1: the end taken
  is the larger of that and the high watermark of the partition's first fetch.)
- Events are applied in batches, one transaction each, through the projector's batch path
  (:func:`~steadfast_metrics.facts.projector.apply_events`), which leaves what applying them one by one
  leaves. A copy of an event already applied (the same CloudEvent id: delivery is at least once, and a
  producer that republished its outbox sends its events again) is skipped; every event applied gets its
  tracking row, exactly as the live consumer writes it, so the live consumer afterwards treats these
  events as duplicates.
- A batch that fails is rolled back and its events applied one at a time, each in a transaction of
  its own, retried as the live consumer retries. A message that is not a CloudEvent, or whose event
  still fails, is a dead letter: counted and logged with the reason, never applied, and **not** sent to
  ``<topic>.dlq`` again: the live consumer sent it there when it met it, and a rebuild (or a consistency
  check's scratch rebuild) re-reading the topic must not fill the dead-letter topic with copies.
- With ``commit_offsets`` (an in-place rebuild of the service's own database, the service stopped) the
  rebuild first joins the live consumer group itself and refuses unless it is given every partition,
  that is unless no instance of the service is consuming; it stays in the group (consuming nothing)
  until the end, then commits the group's offsets at the end offsets it read up to, so the service
  resumes right after them. The group is joined rather than described because a broker may keep a
  member that has left listed as active (Tansu does, for the first member of a group), and committing
  as a member of the group works on every broker.

A rebuild that stops half way (a crash, a lost database) is simply run again: it starts by emptying.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from aiokafka.structs import OffsetAndMetadata
from sqlalchemy import Table, delete, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from steadfast_metrics.db import Base, tables
from steadfast_metrics.events import registry
from steadfast_metrics.facts import models
from steadfast_metrics.facts.consumer import GROUP
from steadfast_metrics.facts.projector import apply_event, apply_events
from steadfast_metrics.settings import MetricsSettings
from steadfast_shared.batch import BatchApplier, Delivered, PoisonMessage, parse
from steadfast_shared.consumer import SESSION_TIMEOUT_MS, heartbeat_interval_ms
from steadfast_shared.db import Database

log = structlog.get_logger(__name__)

#: Every table the projections consumer writes, parents before the rows they own.
_PROJECTED = {getattr(models, name).__tablename__ for name in models.__all__}
PROJECTION_TABLES: tuple[Table, ...] = tuple(t for t in Base.metadata.sorted_tables if t.name in _PROJECTED)

#: The tracking table of the idempotent consumer (rows of consumer ``metrics-projections``).
PROCESSED = tables.processed_events

#: How long to wait for the broker, and for the group to be joined.
BROKER_TIMEOUT_SECONDS = 30.0
JOIN_TIMEOUT_SECONDS = 60.0
#: A partition that yields nothing for this long before its end offset is reached fails the rebuild.
STALL_SECONDS = 60.0
#: The events applied when PostgreSQL's statistics are first refreshed (then each time they double).
ANALYZE_FIRST = 5000
#: How often a long rebuild logs how far it has got.
PROGRESS_SECONDS = 10.0
#: The live consumer's retries of a failing event (``IdempotentConsumer``'s defaults): attempts, first delay.
MAX_ATTEMPTS = 3
RETRY_DELAY_SECONDS = 0.2


class RebuildRefused(RuntimeError):
    """The rebuild would have raced a running service (or could not commit the group's offsets)."""


@dataclass(frozen=True)
class RebuildResult:
    """What a rebuild did."""

    #: Messages read from the topics up to the end offsets taken at the start.
    events_read: int
    #: Distinct events applied (each with its tracking row), those of types no KPI needs included.
    events_applied: int
    #: Messages whose event id was already applied (at-least-once delivery, republished outboxes).
    duplicates: int
    #: Messages that could not be applied (not a CloudEvent, or failing every attempt): counted and
    #: logged, not sent to the dead-letter topic again (see the module docstring).
    dead_letters: int
    seconds: float
    #: topic -> partition -> the end offset read up to.
    end_offsets: dict[str, dict[int, int]]

    @property
    def events_per_second(self) -> float:
        return self.events_read / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> dict[str, Any]:
        """The result as JSON-ready values."""
        return {
            "events_read": self.events_read,
            "events_applied": self.events_applied,
            "duplicates": self.duplicates,
            "dead_letters": self.dead_letters,
            "seconds": round(self.seconds, 3),
            "events_per_second": round(self.events_per_second, 1),
            "end_offsets": {
                topic: {str(p): offset for p, offset in sorted(parts.items())}
                for topic, parts in sorted(self.end_offsets.items())
            },
        }


@dataclass
class _Counts:
    read: int = 0
    applied: int = 0
    duplicates: int = 0
    dead_letters: int = 0


async def rebuild_projections(
    database: Database,
    settings: MetricsSettings,
    *,
    batch_size: int = 1000,
    commit_offsets: bool = False,
) -> RebuildResult:
    """Empty the projections in ``database`` and build them again from the topics ``settings`` name,
    up to their end offsets at the start (see the module docstring). With ``commit_offsets`` the live
    group's offsets are committed at those end offsets afterwards; it refuses (:class:`RebuildRefused`)
    while an instance of the service consumes."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    started = time.perf_counter()
    topics = list(dict.fromkeys([settings.staff_topic, settings.caseload_topic, settings.audit_topic]))
    reader = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=None,
        client_id=f"{GROUP}-rebuild-reader",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        request_timeout_ms=30_000,
        max_partition_fetch_bytes=8 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
    )
    await asyncio.wait_for(reader.start(), BROKER_TIMEOUT_SECONDS)
    lease: _GroupLease | None = None
    try:
        existing = await reader.topics()
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            if topic in existing
            for p in sorted(reader.partitions_for_topic(topic) or ())
        ]
        if commit_offsets:
            lease = await _GroupLease.join(
                settings.kafka_bootstrap_servers,
                topics,
                partitions,
                session_timeout_ms=settings.consumer_session_timeout_ms,
            )
        counts = _Counts()
        ends: dict[TopicPartition, int] = {}
        if partitions:
            reader.assign(partitions)
            await reader.seek_to_beginning(*partitions)
            ends = await reader.end_offsets(partitions)
        log.info("rebuild.started", topics=topics, partitions=len(partitions), in_place=commit_offsets)
        await _empty(database)
        applier = _Applier(database, counts)
        try:
            await _read(reader, ends, batch_size, counts, applier, lease)
            await applier.analyze()  # for the KPI queries that follow
        finally:
            await applier.close()
        if lease is not None:
            await lease.commit(ends)
        result = RebuildResult(
            events_read=counts.read,
            events_applied=counts.applied,
            duplicates=counts.duplicates,
            dead_letters=counts.dead_letters,
            seconds=time.perf_counter() - started,
            end_offsets=_by_topic(ends),
        )
        log.info("rebuild.finished", **{k: v for k, v in result.summary().items() if k != "end_offsets"})
        return result
    finally:
        if lease is not None:
            await lease.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(reader.stop(), 10)


def _by_topic(ends: dict[TopicPartition, int]) -> dict[str, dict[int, int]]:
    by_topic: dict[str, dict[int, int]] = {}
    for tp, offset in sorted(ends.items()):
        by_topic.setdefault(tp.topic, {})[tp.partition] = offset
    return by_topic


async def _empty(database: Database) -> None:
    """Empty every projection table and the consumer's tracking rows, in one transaction."""
    async with database.sessionmaker() as session:
        if database.dialect == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in PROJECTION_TABLES)
            await session.execute(text(f"TRUNCATE {names} RESTART IDENTITY"))
        else:
            for table in reversed(PROJECTION_TABLES):
                await session.execute(delete(table))
        processed = tables.processed_events
        await session.execute(delete(processed).where(processed.c.consumer == GROUP))
        await session.commit()


async def _read(
    reader: AIOKafkaConsumer,
    ends: dict[TopicPartition, int],
    batch_size: int,
    counts: _Counts,
    applier: _Applier,
    lease: _GroupLease | None,
) -> None:
    """Read every partition up to its end offset, handing the events to ``applier`` in batches of
    ``batch_size``: the next batch is read and parsed while the database applies the last one."""
    remaining = {tp for tp, end in ends.items() if end > 0}
    for tp in list(remaining):
        if await reader.position(tp) >= ends[tp]:
            remaining.discard(tp)  # everything before the end is gone (retention): nothing to read
    measured: set[TopicPartition] = set()
    pending: list[Delivered] = []
    last_progress = last_report = time.monotonic()
    async with _Pipeline(applier) as pipeline:
        while remaining:
            fetched = await reader.getmany(*remaining, timeout_ms=500, max_records=batch_size)
            for tp, records in fetched.items():
                if tp not in measured:
                    # Tansu answers ListOffsets with the base offset of the last record batch + 1; the
                    # high watermark of the first fetch is the true end (a later one is never lower).
                    measured.add(tp)
                    ends[tp] = max(ends[tp], reader.highwater(tp) or 0)
                end = ends[tp]
                for record in records:
                    if record.offset >= end:
                        break
                    counts.read += 1
                    delivered = _parse(record)
                    if delivered is None:
                        counts.dead_letters += 1
                    else:
                        pending.append(delivered)
                if records:
                    last_progress = time.monotonic()
            for tp in remaining & measured:
                if await reader.position(tp) >= ends[tp]:
                    remaining.discard(tp)
                    reader.pause(tp)
            while len(pending) >= batch_size:
                await pipeline.put(pending[:batch_size])
                del pending[:batch_size]
            if lease is not None:
                await lease.keep()
            if time.monotonic() - last_report >= PROGRESS_SECONDS:
                last_report = time.monotonic()
                log.info(
                    "rebuild.progress",
                    events_read=counts.read,
                    events_applied=counts.applied,
                    duplicates=counts.duplicates,
                    partitions_left=len(remaining),
                )
            if remaining and time.monotonic() - last_progress > STALL_SECONDS:
                raise TimeoutError(
                    f"no message for {STALL_SECONDS:.0f}s before the end offsets of "
                    f"{', '.join(sorted(str(tp) for tp in remaining))}"
                )
        if pending:
            await pipeline.put(pending)


class _Pipeline:
    """Applies the batches handed to it in order, one at a time, while the reader reads the next."""

    def __init__(self, applier: _Applier) -> None:
        self._applier = applier
        self._queue: asyncio.Queue[Sequence[Delivered] | None] = asyncio.Queue(maxsize=1)
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> _Pipeline:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, kind: type[BaseException] | None, *_: object) -> None:
        assert self._task is not None
        if kind is None:
            await self._hand(None)
            await self._task
        else:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task

    async def put(self, batch: Sequence[Delivered]) -> None:
        await self._hand(batch)

    async def _hand(self, batch: Sequence[Delivered] | None) -> None:
        assert self._task is not None
        handed = asyncio.ensure_future(self._queue.put(batch))
        await asyncio.wait({handed, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if not handed.done():
            handed.cancel()
            self._task.result()  # the applier failed: raise its error here
            raise RuntimeError("the rebuild's applier stopped")

    async def _run(self) -> None:
        while (batch := await self._queue.get()) is not None:
            await self._applier.apply(batch)


def _parse(record: Any) -> Delivered | None:
    """The record as a CloudEvent (None, logged, when it is not one: a dead letter)."""
    try:
        return parse(record)
    except PoisonMessage as exc:
        log.error(
            "rebuild.dead_letter",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error=str(exc),
        )
        return None


class _Applier:
    """Applies batches of delivered events through the live consumer's own path
    (:class:`~steadfast_shared.batch.BatchApplier`: one transaction a batch, a failed batch one event at
    a time), on one connection held for the whole rebuild (no pool check-out and ping per batch)."""

    def __init__(self, database: Database, counts: _Counts) -> None:
        self.database = database
        self.counts = counts
        self._connection: AsyncConnection | None = None
        #: Statistics are refreshed each time the events applied double (see :meth:`analyze`).
        self._analyze_at = ANALYZE_FIRST
        self._batches = BatchApplier(
            name=GROUP,
            database=database,
            tables=tables,
            registry=registry,
            handler=apply_event,
            batch_handler=apply_events,
            max_attempts=MAX_ATTEMPTS,
            retry_delay=RETRY_DELAY_SECONDS,
            session=self._session,
        )

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close()

    async def _session(self) -> AsyncSession:
        if self._connection is not None and (self._connection.closed or self._connection.invalidated):
            await self.close()  # lost (a failed batch may have broken it): the next batch starts afresh
        if self._connection is None:
            self._connection = await self.database.engine.connect()
        return AsyncSession(bind=self._connection, expire_on_commit=False, autoflush=False)

    async def apply(self, batch: Sequence[Delivered]) -> None:
        outcome = await self._batches.apply(batch)
        self.counts.applied += len(outcome.applied)
        self.counts.duplicates += outcome.duplicates
        for delivered, error in outcome.failed:
            self.counts.dead_letters += 1
            log.error(
                "rebuild.dead_letter",
                topic=delivered.topic,
                partition=delivered.partition,
                offset=delivered.offset,
                event_id=delivered.event.id,
                event_type=delivered.event.type,
                error=error[:4000],
            )
        if self.counts.applied >= self._analyze_at:
            self._analyze_at *= 2
            await self.analyze()

    async def analyze(self) -> None:
        """Refresh PostgreSQL's statistics of the tables being filled. Emptied, they say "no rows": the
        plans of the lookups by id would stay sequential scans, and each batch would read every row
        written before it (autovacuum, when on, analyses far less often than the tables double)."""
        if self.database.dialect != "postgresql":
            return
        if self._connection is None:
            self._connection = await self.database.engine.connect()
        names = ", ".join(f'"{t.name}"' for t in (*PROJECTION_TABLES, PROCESSED))
        await self._connection.execute(text(f"ANALYZE {names}"))
        await self._connection.commit()


class _Watch(ConsumerRebalanceListener):
    """Pauses whatever the group assigns (the lease consumes nothing) and notices any later change."""

    def __init__(self) -> None:
        self.consumer: AIOKafkaConsumer | None = None
        self.joined = False
        self.disturbed = False

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        if self.joined and list(revoked):
            self.disturbed = True

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        assigned = list(assigned)
        if self.consumer is not None and assigned:
            self.consumer.pause(*assigned)
        if self.joined:
            self.disturbed = True


class _GroupLease:
    """Membership of the live consumer group for the whole of an in-place rebuild."""

    def __init__(self, consumer: AIOKafkaConsumer, watch: _Watch, partitions: list[TopicPartition]) -> None:
        self._consumer = consumer
        self._watch = watch
        self._partitions = partitions
        self._polled = time.monotonic()

    @classmethod
    async def join(
        cls,
        bootstrap: str,
        topics: list[str],
        partitions: list[TopicPartition],
        *,
        session_timeout_ms: int = SESSION_TIMEOUT_MS,
    ) -> _GroupLease:
        """Join group ``metrics-projections`` (with the live consumers' session timeout); refuse unless it
        gives this rebuild every partition."""
        watch = _Watch()
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=GROUP,
            client_id=f"{GROUP}-rebuild",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=session_timeout_ms,
            heartbeat_interval_ms=heartbeat_interval_ms(session_timeout_ms),
        )
        watch.consumer = consumer
        consumer.subscribe(topics, listener=watch)
        lease = cls(consumer, watch, partitions)
        try:
            await asyncio.wait_for(consumer.start(), BROKER_TIMEOUT_SECONDS)
            deadline = time.monotonic() + JOIN_TIMEOUT_SECONDS
            while partitions and not consumer.assignment():
                if time.monotonic() > deadline:
                    raise RebuildRefused(
                        f"could not join consumer group {GROUP!r} within {JOIN_TIMEOUT_SECONDS:.0f}s"
                    )
                await consumer.getmany(timeout_ms=200)
            watch.joined = True
            others = set(partitions) - set(consumer.assignment())
            if others:
                raise RebuildRefused(
                    f"consumer group {GROUP!r} has other active members (they hold "
                    f"{', '.join(sorted(str(tp) for tp in others))}): stop every instance of the metrics "
                    "service before an in-place rebuild, or rebuild into another database (--into)"
                )
        except BaseException:
            await lease.close()
            raise
        log.info("rebuild.group_joined", group=GROUP, partitions=len(partitions))
        return lease

    async def keep(self) -> None:
        """Poll now and then (nothing: every partition is paused), so the group keeps this member."""
        if time.monotonic() - self._polled >= 1.0:
            self._polled = time.monotonic()
            await self._consumer.getmany(timeout_ms=0)

    async def commit(self, ends: dict[TopicPartition, int]) -> None:
        if self._watch.disturbed:
            raise RebuildRefused(
                f"the projections were rebuilt, but another member joined consumer group {GROUP!r} "
                "meanwhile, so its offsets were not committed: the live consumer re-reads the topics and "
                "finds every rebuilt event already applied"
            )
        try:
            await self._consumer.commit({tp: OffsetAndMetadata(ends[tp], "") for tp in self._partitions})
        except (CommitFailedError, KafkaError) as exc:
            raise RebuildRefused(
                f"the projections were rebuilt, but committing the offsets of {GROUP!r} failed ({exc!r}): "
                "the live consumer re-reads the topics and finds every rebuilt event already applied"
            ) from exc
        log.info("rebuild.offsets_committed", group=GROUP, offsets={str(tp): o for tp, o in ends.items()})

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._consumer.stop(), 10)
