"""The relay: publishes outbox rows to Kafka, in id order, and marks them only once acknowledged.

Invariants (see docs/architecture.md):

- A row is marked published only after the broker acknowledged it (``acks=all``). A crash between the
  acknowledgement and the mark re-sends it: delivery is at-least-once and consumers de-duplicate.
- Rows are read by ``published_at IS NULL`` in id order, never from a high-water mark, so a row that
  commits late with a lower id (a PostgreSQL sequence gap) is published at the next poll.
- Within a key, rows are sent in id order on one partition. When a send fails, the later rows of the
  same key in that batch are not marked even if acknowledged: they are sent again after the failed one,
  so the last event a consumer sees for an aggregate is its latest.
- One relay per database publishes at a time: on PostgreSQL it holds an advisory lock (other replicas
  stand by); the embedded SQLite default runs one process per database.
- While the broker is unreachable the relay backs off exponentially (with jitter) and keeps trying.
- Acknowledgements count only from the broker the topics were ensured on: when the broker's cluster id
  changed while a batch was in flight (the embedded, memory-only broker restarted empty), the batch is
  sent again after the topics are created anew. That broker acknowledges sends to topics it no longer
  has and drops them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from datetime import timedelta
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, KafkaError
from aiokafka.protocol.metadata import MetadataRequest
from prometheus_client import Counter, Gauge
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential_jitter

from steadfast_shared.db.engine import Database
from steadfast_shared.db.metadata import PlatformTables
from steadfast_shared.kafka import REQUEST_TIMEOUT_MS, ensure_topics, new_producer
from steadfast_shared.outbox.store import OutboxRow, OutboxStore
from steadfast_shared.service import ServiceDefinition
from steadfast_shared.settings import ServiceSettings

log = structlog.get_logger(__name__)

PUBLISHED = Counter("steadfast_outbox_published_total", "Outbox rows acknowledged by the broker", ["service"])
FAILED = Counter("steadfast_outbox_publish_failures_total", "Outbox rows whose send failed", ["service"])
BACKLOG = Gauge("steadfast_outbox_backlog", "Outbox rows waiting to be published", ["service"])
BACKLOG_AGE = Gauge(
    "steadfast_outbox_oldest_unpublished_age_seconds",
    "Age of the oldest unpublished outbox row",
    ["service"],
)

SEND_TIMEOUT_SECONDS = 30.0
PURGE_EVERY_SECONDS = 600.0


class PublishFailed(Exception):
    """Some rows of a batch were not acknowledged; the relay backs off and tries again."""


class _LeaderLock:
    """A PostgreSQL session-level advisory lock held on a dedicated connection."""

    def __init__(self, database: Database, name: str) -> None:
        self._database = database
        digest = hashlib.sha256(f"steadfast-outbox-relay:{name}".encode()).digest()
        self._key = int.from_bytes(digest[:8], "big", signed=True)
        self._conn: AsyncConnection | None = None

    async def ensure(self) -> bool:
        if self._database.dialect != "postgresql":
            return True
        if self._conn is not None:
            try:
                await self._conn.execute(text("SELECT 1"))
                return True
            except Exception:
                log.warning("relay.leader_lock_lost")
                await self.release()
        conn = await self._database.engine.connect()
        got = bool(await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key}))
        await conn.commit()
        if not got:
            await conn.close()
            return False
        self._conn = conn
        log.info("relay.leader_lock_acquired")
        return True

    async def release(self) -> None:
        if self._conn is None:
            return
        with contextlib.suppress(Exception):
            await self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
        with contextlib.suppress(Exception):
            await self._conn.close()
        self._conn = None


class OutboxRelay:
    """Publishes one service's outbox to Kafka until stopped."""

    def __init__(
        self,
        *,
        service: str,
        database: Database,
        tables: PlatformTables,
        bootstrap_servers: str,
        topics: set[str],
        batch_size: int = 500,
        poll_interval: float = 0.2,
        retention: timedelta = timedelta(days=30),
        partitions: int = 3,
        replication_factor: int = 1,
        client_id: str | None = None,
        request_timeout_ms: int = REQUEST_TIMEOUT_MS,
    ) -> None:
        """``request_timeout_ms``: how long a send may go unacknowledged (the producer retrying) before
        it counts as failed."""
        self.service = service
        self.store = OutboxStore(database.sessionmaker, tables, reader=database.read_sessionmaker)
        self._bootstrap = bootstrap_servers
        self._topics = topics
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._retention = retention
        self._partitions = partitions
        self._replication_factor = replication_factor
        self._client_id = client_id or f"{service}-relay"
        self._request_timeout_ms = request_timeout_ms
        self._lock = _LeaderLock(database, service)
        self._producer: AIOKafkaProducer | None = None
        self._cluster_id: str | None = None
        self._topics_ready = False
        self._wakeup = asyncio.Event()
        self._stopping = asyncio.Event()
        self._last_purge: float | None = None

    def wake(self) -> None:
        """Tell the relay new rows were committed (it also polls, so this is only a shortcut)."""
        self._wakeup.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wakeup.set()

    async def run(self) -> None:
        """Publish until :meth:`stop`; survives broker outages and database hiccups."""
        log.info("relay.started", service=self.service, bootstrap=self._bootstrap)
        try:
            while not self._stopping.is_set():
                published = await self._publish_with_retries()
                await self._maybe_purge()
                if published == 0 and not self._stopping.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wakeup.wait(), self._poll_interval)
                    self._wakeup.clear()
        finally:
            await self.close()
            log.info("relay.stopped", service=self.service)

    async def close(self) -> None:
        """Stop the producer and give up the leader lock (after :meth:`publish_pending`; ``run`` does it)."""
        await self._close_producer()
        await self._lock.release()

    async def publish_pending(self) -> int:
        """Publish everything unpublished now (one pass, no retries); returns how many were acknowledged.

        It takes the leader lock like :meth:`run`: call :meth:`close` when done.
        """
        total = 0
        while True:
            n = await self._publish_batch()
            total += n
            if n < self._batch_size:
                return total

    async def _publish_with_retries(self) -> int:
        retrying = AsyncRetrying(
            wait=wait_exponential_jitter(multiplier=0.2, max=10.0),
            sleep=self._pause,
            retry=retry_if_exception_type((KafkaError, OSError, TimeoutError, PublishFailed)),
            before_sleep=self._before_retry,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    if self._stopping.is_set():
                        return 0
                    return await self._publish_batch()
        except Exception:
            # Anything not retryable above (a database error, say): log it, wait, and carry on.
            log.exception("relay.unexpected_error", service=self.service)
            await self._pause(1.0)
        return 0

    async def _pause(self, seconds: float) -> None:
        """A wait between attempts, cut short by :meth:`stop`."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _before_retry(self, retry_state: Any) -> None:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        log.warning(
            "relay.retrying",
            service=self.service,
            attempt=retry_state.attempt_number,
            error=repr(exc),
        )
        await self._close_producer()

    async def _publish_batch(self) -> int:
        if not await self._lock.ensure():
            await asyncio.sleep(self._poll_interval * 5)
            return 0
        rows = await self.store.unpublished(self._batch_size)
        await self._report_backlog(rows)
        if not rows:
            return 0
        producer = await self._ensure_producer()
        futures: list[asyncio.Future[Any]] = []
        send_error: BaseException | None = None
        for row in rows:
            try:
                fut = await asyncio.wait_for(
                    producer.send(
                        row.topic,
                        value=row.payload.encode(),
                        key=row.message_key.encode(),
                        headers=[
                            ("content-type", b"application/cloudevents+json; charset=utf-8"),
                            ("ce_type", row.event_type.encode()),
                            ("ce_id", row.event_id.encode()),
                        ],
                    ),
                    SEND_TIMEOUT_SECONDS,
                )
            except (KafkaError, OSError, TimeoutError) as exc:
                send_error = exc
                break
            futures.append(fut)
        results: list[Any] = []
        if futures:
            results = list(
                await asyncio.wait_for(
                    asyncio.gather(*futures, return_exceptions=True), SEND_TIMEOUT_SECONDS * 2
                )
            )
        results.extend([send_error or PublishFailed("not sent")] * (len(rows) - len(results)))
        acknowledged = any(not isinstance(r, BaseException) for r in results)
        if acknowledged and not await self._same_broker(producer):
            results = [PublishFailed("the broker restarted while the batch was in flight")] * len(rows)
        acked, failed, error = self._settle(rows, results)
        await self.store.mark_published(acked)
        PUBLISHED.labels(self.service).inc(len(acked))
        if failed:
            FAILED.labels(self.service).inc(len(failed))
            await self.store.mark_failed(failed, error)
            raise PublishFailed(f"{len(failed)} of {len(rows)} outbox rows not acknowledged: {error}")
        return len(acked)

    @staticmethod
    def _settle(rows: list[OutboxRow], results: list[Any]) -> tuple[list[int], list[int], str]:
        acked: list[int] = []
        failed: list[int] = []
        failed_keys: set[tuple[str, str]] = set()
        error = ""
        for row, result in zip(rows, results, strict=True):
            key = (row.topic, row.message_key)
            if isinstance(result, BaseException):
                failed_keys.add(key)
                failed.append(row.id)
                error = error or repr(result)
            elif key not in failed_keys:
                acked.append(row.id)
        return acked, failed, error

    async def _ensure_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = new_producer(
                self._bootstrap, client_id=self._client_id, request_timeout_ms=self._request_timeout_ms
            )
            try:
                await asyncio.wait_for(producer.start(), SEND_TIMEOUT_SECONDS)
                # Before the topics are ensured: a broker that restarts in between is noticed later.
                self._cluster_id = await self._broker_cluster_id(producer)
            except BaseException:
                with contextlib.suppress(Exception):
                    await producer.stop()
                raise
            self._producer = producer
            self._topics_ready = False
        if not self._topics_ready:
            await ensure_topics(
                self._bootstrap,
                self._topics,
                partitions=self._partitions,
                replication_factor=self._replication_factor,
            )
            self._topics_ready = True
        return self._producer

    @staticmethod
    async def _broker_cluster_id(producer: AIOKafkaProducer) -> str | None:
        """The cluster id the broker reports (``None`` from brokers too old to report one)."""
        client = producer.client
        node_id = client.get_random_node()
        if node_id is None:
            raise KafkaConnectionError("no broker known to the producer")
        response = await asyncio.wait_for(client.send(node_id, MetadataRequest([])), SEND_TIMEOUT_SECONDS)
        cluster_id = getattr(response, "cluster_id", None)
        return str(cluster_id) if cluster_id else None

    async def _same_broker(self, producer: AIOKafkaProducer) -> bool:
        current = await self._broker_cluster_id(producer)
        if current == self._cluster_id:
            return True
        log.warning(
            "relay.broker_changed",
            service=self.service,
            cluster_id=current,
            previous_cluster_id=self._cluster_id,
            hint="a broker that lost its data needs the retained events again: run republish",
        )
        return False

    async def _close_producer(self) -> None:
        producer, self._producer = self._producer, None
        self._topics_ready = False
        if producer is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), 10)

    async def _report_backlog(self, rows: list[OutboxRow]) -> None:
        if len(rows) < self._batch_size:
            BACKLOG.labels(self.service).set(len(rows))
        else:
            count, _oldest = await self.store.backlog()
            BACKLOG.labels(self.service).set(count)

    async def _maybe_purge(self) -> None:
        now = asyncio.get_running_loop().time()
        # The loop's clock starts near the machine's boot, so "never purged" must not be 0.0.
        if self._last_purge is not None and now - self._last_purge < PURGE_EVERY_SECONDS:
            return
        self._last_purge = now
        try:
            purged = await self.store.purge_published(self._retention)
            if purged:
                log.info("relay.purged", service=self.service, rows=purged)
        except Exception:
            log.exception("relay.purge_failed", service=self.service)


def build_relay(definition: ServiceDefinition, settings: ServiceSettings, database: Database) -> OutboxRelay:
    """The relay of a service, configured from its settings."""
    return OutboxRelay(
        service=definition.name,
        database=database,
        tables=definition.tables,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        topics=definition.registry.topics,
        batch_size=settings.relay_batch_size,
        poll_interval=settings.relay_poll_interval_seconds,
        retention=timedelta(days=settings.outbox_retention_days),
        partitions=settings.kafka_topic_partitions,
        replication_factor=settings.kafka_replication_factor,
        client_id=settings.kafka_client_id,
    )
