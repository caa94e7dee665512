"""The base for idempotent consumers.

For each message the consumer opens a unit of work, checks the tracking table for (consumer, event id),
runs the handler, writes the tracking row and commits: the projection change and the tracking row land
in one transaction, so a duplicate delivery is a no-op. Offsets are committed to Kafka only after the
database commit. A message that fails ``max_attempts`` times (or cannot even be parsed) goes to
``<topic>.dlq`` with the error in its headers, and the consumer carries on with the next one.

Rebalances and broker restarts do not kill the consumer: on a Kafka error it closes its client, backs
off and starts again. Offsets are never committed for a message fetched before the latest rebalance, so
after the local broker restarts empty, a stale position from the old broker is never written to the new
one; a position beyond the end of a fresh topic is reset to the earliest offset, and the tracking table
turns the re-read into no-ops.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata
from prometheus_client import REGISTRY, Counter, Gauge
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from pydantic import ValidationError
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential_jitter

from steadfast_shared.db.engine import Database
from steadfast_shared.db.metadata import PlatformTables
from steadfast_shared.db.types import utcnow
from steadfast_shared.events.envelope import CloudEvent
from steadfast_shared.events.registry import EventRegistry
from steadfast_shared.kafka import ensure_topics, new_producer
from steadfast_shared.uow import UnitOfWork

log = structlog.get_logger(__name__)

PROCESSED = Counter("steadfast_consumer_processed_total", "Events processed", ["consumer", "outcome"])
DEAD_LETTERED = Counter(
    "steadfast_consumer_dead_lettered_total", "Events sent to a dead-letter topic", ["consumer"]
)
LAG = Gauge(
    "steadfast_consumer_lag",
    "Messages behind the end of the partition",
    ["consumer", "topic", "partition"],
)
EVENT_AGE = Gauge(
    "steadfast_consumer_last_event_age_seconds",
    "Now minus the time of the newest event processed",
    ["consumer"],
)

#: The consumers running in this process, for the scrape-time freshness gauge below.
_RUNNING: weakref.WeakSet[IdempotentConsumer] = weakref.WeakSet()


class _FreshnessCollector(Collector):
    """``steadfast_consumer_newest_event_age_seconds{consumer, topic}``: now minus the time of the newest
    event a consumer has processed from the topic, computed at each scrape (so it grows while nothing
    arrives, which a value set at processing time would not show)."""

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "steadfast_consumer_newest_event_age_seconds",
            "Now minus the time of the newest event processed, per consumer and topic",
            labels=["consumer", "topic"],
        )
        now = utcnow()
        for consumer in list(_RUNNING):
            for topic, newest in sorted(consumer.newest_event_time.items()):
                family.add_metric([consumer.name, topic], max(0.0, (now - newest).total_seconds()))
        yield family


REGISTRY.register(_FreshnessCollector())

Handler = Callable[[UnitOfWork, CloudEvent], Awaitable[None]]

DLQ_SUFFIX = ".dlq"


class PoisonMessage(Exception):
    """A message that can never be processed (not a CloudEvent, say): straight to the dead-letter topic."""


@dataclass
class ConsumerStats:
    processed: int = 0
    duplicates: int = 0
    dead_lettered: int = 0


class _Rebalance(ConsumerRebalanceListener):
    def __init__(self, owner: IdempotentConsumer) -> None:
        self._owner = owner

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        self._owner._epoch += 1
        log.info(
            "consumer.partitions_revoked",
            consumer=self._owner.name,
            partitions=[str(tp) for tp in revoked],
        )

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        self._owner._epoch += 1
        log.info(
            "consumer.partitions_assigned",
            consumer=self._owner.name,
            partitions=[str(tp) for tp in assigned],
        )


class IdempotentConsumer:
    """Consumes ``topics`` in consumer group ``name`` and applies ``handler`` exactly once per event id."""

    def __init__(
        self,
        *,
        name: str,
        topics: list[str],
        handler: Handler,
        database: Database,
        tables: PlatformTables,
        registry: EventRegistry,
        bootstrap_servers: str,
        max_attempts: int = 3,
        retry_delay: float = 0.2,
        partitions: int = 3,
        replication_factor: int = 1,
    ) -> None:
        self.name = name
        self.topics = topics
        self.handler = handler
        self.stats = ConsumerStats()
        self._database = database
        self._tables = tables
        self._registry = registry
        self._bootstrap = bootstrap_servers
        self._max_attempts = max_attempts
        self._retry_delay = retry_delay
        self._partitions = partitions
        self._replication_factor = replication_factor
        self._stopping = asyncio.Event()
        self._epoch = 0
        self._consumer: AIOKafkaConsumer | None = None
        #: Messages behind the end of each assigned partition, as last measured: (topic, partition) -> lag.
        self.partition_lag: dict[tuple[str, int], int] = {}
        #: The time of the newest event processed from each topic.
        self.newest_event_time: dict[str, datetime] = {}

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        """Consume until :meth:`stop`, restarting the Kafka client after broker errors."""
        retrying = AsyncRetrying(
            wait=wait_exponential_jitter(multiplier=0.5, max=10.0),
            retry=retry_if_exception_type((KafkaError, OSError, TimeoutError)),
            before_sleep=lambda state: log.warning(
                "consumer.restarting",
                consumer=self.name,
                error=repr(state.outcome.exception()) if state.outcome else None,
            ),
        )
        _RUNNING.add(self)
        try:
            async for attempt in retrying:
                with attempt:
                    await self._consume()
                if self._stopping.is_set():
                    return
        finally:
            _RUNNING.discard(self)

    async def _consume(self) -> None:
        await ensure_topics(
            self._bootstrap,
            [*self.topics, *(t + DLQ_SUFFIX for t in self.topics)],
            partitions=self._partitions,
            replication_factor=self._replication_factor,
        )
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=self.name,
            client_id=self.name,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=500,
            session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000,
        )
        consumer.subscribe(self.topics, listener=_Rebalance(self))
        dlq = new_producer(self._bootstrap, client_id=f"{self.name}-dlq")
        try:
            await asyncio.wait_for(consumer.start(), 30)
            await asyncio.wait_for(dlq.start(), 30)
            self._consumer = consumer
            log.info("consumer.started", consumer=self.name, topics=self.topics)
            while not self._stopping.is_set():
                batches = await consumer.getmany(timeout_ms=500)
                epoch = self._epoch
                for tp, records in batches.items():
                    for record in records:
                        if self._stopping.is_set() or epoch != self._epoch:
                            break
                        await self._process(record, dlq)
                        await self._commit(consumer, tp, record.offset + 1, epoch)
                await self._report_lag(consumer)
        finally:
            self._consumer = None
            with contextlib.suppress(Exception):
                await asyncio.wait_for(consumer.stop(), 10)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(dlq.stop(), 10)

    async def _commit(self, consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int, epoch: int) -> None:
        if epoch != self._epoch:
            return  # fetched before a rebalance: the new owner (or a fresh broker) decides the position
        try:
            await consumer.commit({tp: OffsetAndMetadata(offset, "")})
        except CommitFailedError:
            log.warning("consumer.commit_failed_rebalance", consumer=self.name, partition=str(tp))

    async def _process(self, record: ConsumerRecord[bytes, bytes], dlq: Any) -> None:
        try:
            event = self._parse(record)
        except PoisonMessage as exc:
            await self._dead_letter(record, dlq, str(exc), attempts=1)
            return
        last_error = ""
        for attempt in range(1, self._max_attempts + 1):
            try:
                outcome = await self._apply(event, record)
                PROCESSED.labels(self.name, outcome).inc()
                newest = self.newest_event_time.get(record.topic)
                if newest is None or event.time > newest:
                    self.newest_event_time[record.topic] = event.time
                if outcome == "duplicate":
                    self.stats.duplicates += 1
                else:
                    self.stats.processed += 1
                    EVENT_AGE.labels(self.name).set(max(0.0, (utcnow() - event.time).total_seconds()))
                return
            except Exception as exc:
                last_error = f"{type(exc).__name__}: {exc}"
                log.warning(
                    "consumer.handler_failed",
                    consumer=self.name,
                    event_id=event.id,
                    event_type=event.type,
                    attempt=attempt,
                    error=last_error,
                )
                if attempt < self._max_attempts:
                    await asyncio.sleep(self._retry_delay * 2 ** (attempt - 1))
        await self._dead_letter(record, dlq, last_error, attempts=self._max_attempts)

    @staticmethod
    def _parse(record: ConsumerRecord[bytes, bytes]) -> CloudEvent:
        if record.value is None:
            raise PoisonMessage("empty message value")
        try:
            return CloudEvent.from_json(record.value)
        except (ValidationError, ValueError) as exc:
            raise PoisonMessage(f"not a CloudEvents 1.0 JSON envelope: {exc}") from exc

    async def _apply(self, event: CloudEvent, record: ConsumerRecord[bytes, bytes]) -> str:
        processed = self._tables.processed_events
        async with self._database.sessionmaker() as session:
            uow = UnitOfWork(session, tables=self._tables, registry=self._registry)
            try:
                seen = await session.scalar(
                    select(processed.c.event_id).where(
                        processed.c.consumer == self.name, processed.c.event_id == event.id
                    )
                )
                if seen is not None:
                    await uow.rollback()
                    return "duplicate"
                await self.handler(uow, event)
                await session.execute(
                    insert(processed).values(
                        consumer=self.name,
                        event_id=event.id,
                        topic=record.topic,
                        partition=record.partition,
                        offset=record.offset,
                        processed_at=utcnow(),
                    )
                )
                await uow.commit()
                return "processed"
            except IntegrityError:
                await uow.rollback()
                # Another member of the group committed the same event first (after a rebalance).
                again = await session.scalar(
                    select(processed.c.event_id).where(
                        processed.c.consumer == self.name, processed.c.event_id == event.id
                    )
                )
                if again is not None:
                    return "duplicate"
                raise
            except BaseException:
                await uow.rollback()
                raise

    async def _dead_letter(
        self, record: ConsumerRecord[bytes, bytes], dlq: Any, error: str, *, attempts: int
    ) -> None:
        headers = [
            *(record.headers or []),
            ("dlq_error", error[:4000].encode()),
            ("dlq_consumer", self.name.encode()),
            ("dlq_original_topic", record.topic.encode()),
            ("dlq_original_partition", str(record.partition).encode()),
            ("dlq_original_offset", str(record.offset).encode()),
            ("dlq_attempts", str(attempts).encode()),
        ]
        fut = await dlq.send(record.topic + DLQ_SUFFIX, value=record.value, key=record.key, headers=headers)
        await asyncio.wait_for(fut, 30)
        self.stats.dead_lettered += 1
        DEAD_LETTERED.labels(self.name).inc()
        PROCESSED.labels(self.name, "dead_lettered").inc()
        log.error(
            "consumer.dead_lettered",
            consumer=self.name,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error=error,
        )

    async def _report_lag(self, consumer: AIOKafkaConsumer) -> None:
        assigned = consumer.assignment()
        for gone in set(self.partition_lag) - {(tp.topic, tp.partition) for tp in assigned}:
            del self.partition_lag[gone]
        for tp in assigned:
            highwater = consumer.highwater(tp)
            if highwater is None:
                continue
            with contextlib.suppress(Exception):
                position = await consumer.position(tp)
                lag = max(0, highwater - position)
                self.partition_lag[(tp.topic, tp.partition)] = lag
                LAG.labels(self.name, tp.topic, str(tp.partition)).set(lag)
