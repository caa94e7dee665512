"""The base for idempotent consumers.

The consumer applies what each fetch returns (at most ``batch_size`` messages, over every partition it
holds) as one batch, through :class:`steadfast_shared.batch.BatchApplier`: one transaction writes the
batch's tracking rows in one statement (duplicates skipped) and the handler's changes, and the offsets
of every partition in the batch are committed to Kafka once, after the database commit. A batch that
fails is applied again one event at a time, so a message that fails ``max_attempts`` times (or cannot
even be parsed) goes alone to ``<topic>.dlq`` with the error in its headers while the rest of its batch
lands, in order. The next batch is fetched and parsed while the database applies the current one (one
batch ahead at most): it is applied, and its offsets committed, only after the current one's, and a
batch fetched ahead when the consumer stops or restarts is simply delivered again.

Rebalances and broker restarts do not kill the consumer: on a Kafka error it closes its client, backs
off and starts again. Offsets are never committed for a message fetched before the latest rebalance, so
after the local broker restarts empty, a stale position from the old broker is never written to the new
one; a position beyond the end of a fresh topic is reset to the earliest offset, and the tracking table
turns the re-read into no-ops.

A broker that restarted empty is noticed by its cluster id (asked every few seconds): the consumer then
closes its Kafka client (leaving the new broker's group, which the client had rejoined by itself) and
starts a new one, which ensures the topics and joins with the new broker's metadata. The client alone
keeps the assignment it computed from the old broker's metadata: a topic recreated meanwhile with more
partitions (a producer's auto-creation uses the broker's default, 4 on Tansu) had its new partitions
assigned to nobody, and their events waited unread, even after a forced metadata refresh
(``tests/shared/test_consumer.py``, run after other tests on the session broker).
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Coroutine, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from aiokafka.protocol.metadata import MetadataRequest
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata
from prometheus_client import REGISTRY, Counter, Gauge
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential_jitter

from steadfast_shared.batch import (
    NOT_PREPARED,
    BatchApplier,
    BatchHandler,
    DatabaseUnavailable,
    Delivered,
    Handler,
    Outcome,
    PoisonMessage,
    ReadAhead,
    parse,
)
from steadfast_shared.db.engine import Database
from steadfast_shared.db.metadata import PlatformTables
from steadfast_shared.db.types import utcnow
from steadfast_shared.events.registry import EventRegistry
from steadfast_shared.kafka import ensure_topics, new_producer

if TYPE_CHECKING:
    from steadfast_shared.service import Runtime

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

__all__ = ["DLQ_SUFFIX", "BatchHandler", "Handler", "IdempotentConsumer", "PoisonMessage", "ReadAhead"]

DLQ_SUFFIX = ".dlq"

#: How long closing a Kafka client may take before it is left to finish on its own.
CLOSE_SECONDS = 10.0
#: The longest wait between two attempts at a batch while the database is unavailable.
DATABASE_RETRY_MAX_SECONDS = 10.0
#: How often the consumer asks the broker its cluster id, to notice a broker that restarted empty.
BROKER_CHECK_SECONDS = 3.0
#: How long the group coordinator waits for a heartbeat before it gives a silent member's partitions to
#: the others (``<PREFIX>_CONSUMER_SESSION_TIMEOUT_MS``). The local broker, Tansu, also holds every
#: JoinGroup for half of it, waiting for other members, so it is the delay before a new consumer's first
#: fetch too (tests use a shorter one: :data:`steadfast_shared.testing.TEST_SESSION_TIMEOUT_MS`).
SESSION_TIMEOUT_MS = 10_000
#: How old the Kafka client's metadata may get (aiokafka's default is 5 minutes): partitions added to a
#: topic are assigned within this time.
METADATA_MAX_AGE_MS = 10_000


class BrokerChanged(KafkaError):
    """The broker restarted empty (a new cluster id): the Kafka client is started again from scratch."""


@dataclass
class ConsumerStats:
    processed: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    #: Batches applied (one transaction and one offset commit each, unless one failed).
    batches: int = 0


@dataclass
class _Fetched:
    """A batch as fetched: the records, the rebalance epoch then, the CloudEvents parsed and the
    messages that are not CloudEvents (with why)."""

    records: list[ConsumerRecord[bytes, bytes]]
    epoch: int
    delivered: list[Delivered] = field(default_factory=list)
    poison: list[tuple[ConsumerRecord[bytes, bytes], str]] = field(default_factory=list)
    #: What the read-ahead prepared of ``delivered``.
    prepared: Any = NOT_PREPARED


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
        batch_handler: BatchHandler | None = None,
        batch_size: int = 2000,
        linger_ms: int = 0,
        max_attempts: int = 3,
        retry_delay: float = 0.2,
        partitions: int = 3,
        replication_factor: int = 1,
        read_ahead: ReadAhead | None = None,
        session_timeout_ms: int = SESSION_TIMEOUT_MS,
        database_retry_max_seconds: float = DATABASE_RETRY_MAX_SECONDS,
    ) -> None:
        """``handler`` applies one event; ``batch_handler``, when given, applies many in one go (it must
        leave what ``handler`` applied to each in turn would leave), else each goes through ``handler``.
        ``read_ahead``, when given, does a batch's pure work while the previous batch is applied."""
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.name = name
        self.topics = topics
        self.handler = handler
        self.stats = ConsumerStats()
        self._applier = BatchApplier(
            name=name,
            database=database,
            tables=tables,
            registry=registry,
            handler=handler,
            batch_handler=batch_handler,
            max_attempts=max_attempts,
            retry_delay=retry_delay,
            read_ahead=read_ahead,
        )
        self._max_attempts = max_attempts
        self._retry_delay = retry_delay
        self._batch_size = batch_size
        self._linger = linger_ms / 1000
        self._bootstrap = bootstrap_servers
        self._partitions = partitions
        self._replication_factor = replication_factor
        self._session_timeout_ms = session_timeout_ms
        self._database_retry_max = database_retry_max_seconds
        self._stopping = asyncio.Event()
        self._epoch = 0
        self._consumer: AIOKafkaConsumer | None = None
        #: Messages behind the end of each assigned partition, as last measured: (topic, partition) -> lag.
        self.partition_lag: dict[tuple[str, int], int] = {}
        #: The time of the newest event processed from each topic.
        self.newest_event_time: dict[str, datetime] = {}

    @classmethod
    def of_service(
        cls,
        runtime: Runtime,
        *,
        name: str,
        topics: list[str],
        handler: Handler,
        batch_handler: BatchHandler | None = None,
        read_ahead: ReadAhead | None = None,
    ) -> IdempotentConsumer:
        """A consumer of a running service: its database, tables, event registry, and the broker, batch
        and topic settings of its ``<PREFIX>_*`` variables."""
        settings = runtime.settings
        return cls(
            name=name,
            topics=topics,
            handler=handler,
            batch_handler=batch_handler,
            read_ahead=read_ahead,
            database=runtime.database,
            tables=runtime.definition.tables,
            registry=runtime.definition.registry,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            batch_size=settings.consumer_batch_size,
            linger_ms=settings.consumer_linger_ms,
            partitions=settings.kafka_topic_partitions,
            replication_factor=settings.kafka_replication_factor,
            session_timeout_ms=settings.consumer_session_timeout_ms,
        )

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        """Consume until :meth:`stop`, restarting the Kafka client after broker errors."""
        retrying = AsyncRetrying(
            wait=wait_exponential_jitter(multiplier=0.5, max=10.0),
            sleep=self._pause,
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

    async def _ensure_topics(self) -> None:
        await ensure_topics(
            self._bootstrap,
            [*self.topics, *(t + DLQ_SUFFIX for t in self.topics)],
            partitions=self._partitions,
            replication_factor=self._replication_factor,
        )

    async def _pause(self, seconds: float) -> None:
        """The wait before the Kafka client is started again, cut short by :meth:`stop`."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _unless_stopped(self, starting: Coroutine[Any, Any, None]) -> bool:
        """Await ``starting`` (a client's start: joining the group can take a session timeout and more
        after a broker restart), abandoned if :meth:`stop` comes first; True if it finished."""
        task = asyncio.ensure_future(starting)
        stopped = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # this consumer's task cancelled: the start goes with it
            stopped.cancel()
            task.cancel()
            raise
        stopped.cancel()
        if task.done():
            task.result()
            return True
        task.cancel()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await task
        return False

    async def _consume(self) -> None:
        if self._stopping.is_set():
            return
        if not await self._unless_stopped(self._ensure_topics()):
            return
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=self.name,
            client_id=self.name,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self._batch_size,
            session_timeout_ms=self._session_timeout_ms,
            heartbeat_interval_ms=heartbeat_interval_ms(self._session_timeout_ms),
            metadata_max_age_ms=METADATA_MAX_AGE_MS,
        )
        consumer.subscribe(self.topics, listener=_Rebalance(self))
        dlq = new_producer(self._bootstrap, client_id=f"{self.name}-dlq")
        ahead: asyncio.Future[_Fetched] | None = None
        try:
            # A stop while the client starts (joins its group) is not kept waiting for the join.
            if not await self._unless_stopped(asyncio.wait_for(consumer.start(), 30)):
                return
            if not await self._unless_stopped(asyncio.wait_for(dlq.start(), 30)):
                return
            cluster_id = await _cluster_id(consumer)
            self._consumer = consumer
            log.info("consumer.started", consumer=self.name, topics=self.topics)
            loop = asyncio.get_running_loop()
            next_check = loop.time() + BROKER_CHECK_SECONDS
            while not self._stopping.is_set():
                if loop.time() >= next_check:
                    cluster_id = await self._follow_broker(consumer, cluster_id)
                    next_check = loop.time() + BROKER_CHECK_SECONDS
                fetched = await (ahead or self._fetch_parsed(consumer))
                # The next batch is fetched and parsed while the database applies this one (one batch
                # ahead at most; it is applied, and its offsets committed, only after this one's).
                ahead = asyncio.ensure_future(self._fetch_parsed(consumer)) if fetched.records else None
                if fetched.records and await self._process(fetched, dlq):
                    await self._commit(consumer, fetched.records, fetched.epoch)
                await self._report_lag(consumer)
        finally:
            if ahead is not None:
                ahead.cancel()  # fetched, not applied: delivered again
                with contextlib.suppress(BaseException):
                    await ahead
            self._consumer = None
            await _close(consumer.stop(), CLOSE_SECONDS)
            await _close(dlq.stop(), CLOSE_SECONDS)

    async def _follow_broker(self, consumer: AIOKafkaConsumer, cluster_id: str | None) -> str | None:
        """The broker's cluster id; :class:`BrokerChanged` (the client is then restarted) once it is not
        the one the client started with."""
        try:
            current = await _cluster_id(consumer)
        except (KafkaError, OSError, TimeoutError):
            return cluster_id  # an outage: the client retries by itself, and a later check will tell
        if current == cluster_id:
            return cluster_id
        log.warning(
            "consumer.broker_changed",
            consumer=self.name,
            cluster_id=current,
            previous_cluster_id=cluster_id,
        )
        raise BrokerChanged(f"the broker's cluster id changed from {cluster_id} to {current}")

    async def _fetch(self, consumer: AIOKafkaConsumer) -> list[ConsumerRecord[bytes, bytes]]:
        """The next batch: what the fetcher holds (waiting up to half a second for something), and what
        arrives during the linger, up to ``batch_size``; each partition's messages in offset order."""
        fetched = await consumer.getmany(timeout_ms=500, max_records=self._batch_size)
        batch = [record for records in fetched.values() for record in records]
        if batch and self._linger and len(batch) < self._batch_size:
            await asyncio.sleep(self._linger)
            more = await consumer.getmany(timeout_ms=0, max_records=self._batch_size - len(batch))
            batch.extend(record for records in more.values() for record in records)
        return batch

    async def _fetch_parsed(self, consumer: AIOKafkaConsumer) -> _Fetched:
        """The next batch, each message parsed, with the rebalance epoch it was fetched in."""
        records = await self._fetch(consumer)
        fetched = _Fetched(records, self._epoch)
        for record in records:
            try:
                fetched.delivered.append(parse(record))
            except PoisonMessage as exc:
                fetched.poison.append((record, str(exc)))
        read_ahead = self._applier.read_ahead
        if read_ahead is not None and fetched.delivered:
            try:
                fetched.prepared = read_ahead.prepare([d.event for d in fetched.delivered])
            except Exception:
                fetched.prepared = NOT_PREPARED
        return fetched

    async def _commit(
        self, consumer: AIOKafkaConsumer, batch: list[ConsumerRecord[bytes, bytes]], epoch: int
    ) -> None:
        """Commit, once, the offset after the last message of each partition in the batch."""
        if epoch != self._epoch:
            return  # fetched before a rebalance: the new owner (or a fresh broker) decides the position
        offsets: dict[TopicPartition, OffsetAndMetadata] = {}
        for record in batch:
            offsets[TopicPartition(record.topic, record.partition)] = OffsetAndMetadata(record.offset + 1, "")
        try:
            await consumer.commit(offsets)
        except CommitFailedError:
            log.warning(
                "consumer.commit_failed_rebalance",
                consumer=self.name,
                partitions=sorted(str(tp) for tp in offsets),
            )

    async def _process(self, fetched: _Fetched, dlq: Any) -> bool:
        """Apply a batch; dead-letter what is not a CloudEvent and what fails every attempt. False if the
        consumer was stopped while the database was unavailable (the batch is then left uncommitted, to
        be delivered again)."""
        for record, error in fetched.poison:
            await self._dead_letter(record, dlq, error, attempts=1)
        delivered = fetched.delivered
        records = {(r.topic, r.partition, r.offset): r for r in fetched.records}
        outcome = await self._apply_when_the_database_answers(delivered, fetched.prepared)
        if outcome is None:
            return False
        for failed, error in outcome.failed:
            record = records[(failed.topic, failed.partition, failed.offset)]
            await self._dead_letter(record, dlq, error, attempts=self._max_attempts)
        failed_ids = {failed.event.id for failed, _ in outcome.failed}
        for done in delivered:
            if done.event.id in failed_ids:
                continue
            newest = self.newest_event_time.get(done.topic)
            if newest is None or done.event.time > newest:
                self.newest_event_time[done.topic] = done.event.time
        self.stats.processed += len(outcome.applied)
        self.stats.duplicates += outcome.duplicates
        self.stats.batches += 1
        PROCESSED.labels(self.name, "processed").inc(len(outcome.applied))
        PROCESSED.labels(self.name, "duplicate").inc(outcome.duplicates)
        if outcome.applied:
            latest = max(d.event.time for d in outcome.applied)
            EVENT_AGE.labels(self.name).set(max(0.0, (utcnow() - latest).total_seconds()))
        return True

    async def _apply_when_the_database_answers(
        self, delivered: list[Delivered], prepared: Any = NOT_PREPARED
    ) -> Outcome | None:
        """The batch applied, waiting (with backoff) through an outage of the database: its events are
        not at fault, so none is dead-lettered for it. None if the consumer is stopped meanwhile."""
        delay = self._retry_delay
        while True:
            try:
                return await self._applier.apply(delivered, prepared)
            except DatabaseUnavailable as exc:
                log.warning(
                    "consumer.database_unavailable", consumer=self.name, error=str(exc), retry_in=delay
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
            if self._stopping.is_set():
                return None
            delay = min(delay * 2, self._database_retry_max)

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


def heartbeat_interval_ms(session_timeout_ms: int) -> int:
    """A heartbeat every second, or three within a shorter session timeout (Kafka's rule of thumb)."""
    return max(100, min(1_000, session_timeout_ms // 3))


async def _close(closing: Coroutine[Any, Any, None], seconds: float) -> None:
    """Close a Kafka client, waiting at most ``seconds``. ``asyncio.wait_for`` is not enough: on its
    timeout it cancels the close and then waits for it to finish, and aiokafka's close can go on after a
    cancellation (leaving a group whose coordinator went away with the old broker), which held a
    consumer after a broker restart for minutes instead of starting its new client. A close still
    running then is left to finish (or fail) on its own."""
    task = asyncio.ensure_future(closing)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        log.warning("consumer.close_abandoned", seconds=seconds)
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
    elif not task.cancelled() and task.exception() is not None:
        log.info("consumer.close_failed", error=repr(task.exception()))


async def _cluster_id(consumer: AIOKafkaConsumer) -> str | None:
    """The cluster id the broker reports (None from brokers too old to report one)."""
    client = consumer._client  # aiokafka exposes the producer's client, not the consumer's
    node_id = client.get_random_node()
    if node_id is None:
        raise KafkaError("no broker known to the consumer")
    response = await asyncio.wait_for(client.send(node_id, MetadataRequest([])), 10)
    cluster_id = getattr(response, "cluster_id", None)
    return str(cluster_id) if cluster_id else None
