"""Helpers for tests: a service app in-process, bearer tokens, reading and writing topics, polling."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar, overload

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from fastapi import FastAPI

from steadfast_shared.auth import mint_local_token
from steadfast_shared.events.envelope import CloudEvent
from steadfast_shared.http.app import create_app
from steadfast_shared.kafka import new_producer
from steadfast_shared.outbox.relay import OutboxRelay
from steadfast_shared.service import Runtime, ServiceDefinition
from steadfast_shared.settings import ServiceSettings

T = TypeVar("T")

#: A Kafka record as aiokafka returns it (``topic``, ``partition``, ``offset``, ``key``, ``value``,
#: ``headers``); aiokafka ships no type information.
Record = Any

#: The consumers' session timeout in tests (``consumer_session_timeout_ms``; 10 s in a deployment). The
#: local broker holds a new group member's JoinGroup for half the session timeout, waiting for others,
#: so each consumer a test starts would wait 5 s for its first fetch, and a consumer killed without
#: leaving its group would hold its partitions for 10 s. Three heartbeats fit in it (one a second).
TEST_SESSION_TIMEOUT_MS = 3_000


def mint_token(
    settings: ServiceSettings,
    *scopes: str,
    subject: str = "test-user",
    ttl: timedelta = timedelta(hours=1),
) -> str:
    """A bearer token the service built from ``settings`` accepts, carrying exactly ``scopes``."""
    return mint_local_token(
        settings.signing_secret(),
        scopes=list(scopes),
        subject=subject,
        ttl=ttl,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )


def bearer(token: str) -> dict[str, str]:
    """The ``Authorization`` header for ``token``."""
    return {"Authorization": f"Bearer {token}"}


@dataclass
class ServiceClient:
    """A service running in-process: its app (lifespan started) and an HTTP client on it."""

    app: FastAPI
    http: httpx.AsyncClient
    settings: ServiceSettings

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    @property
    def relay(self) -> OutboxRelay | None:
        relay: OutboxRelay | None = getattr(self.app.state, "relay", None)
        return relay

    def token(self, *scopes: str, subject: str = "test-user") -> str:
        return mint_token(self.settings, *scopes, subject=subject)

    def auth(self, *scopes: str, subject: str = "test-user") -> dict[str, str]:
        """Headers with a bearer token carrying ``scopes``: ``client.http.get(url, headers=...)``."""
        return bearer(self.token(*scopes, subject=subject))


@asynccontextmanager
async def service_app(
    definition: ServiceDefinition,
    settings: ServiceSettings,
    *,
    base_url: str = "http://testserver",
) -> AsyncIterator[ServiceClient]:
    """Build the service's app, run its lifespan (engine, relay, consumers) and yield a client."""
    app = create_app(definition, settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as http:
            yield ServiceClient(app=app, http=http, settings=settings)


@overload
async def wait_until(
    condition: Callable[[], Awaitable[T]],
    *,
    timeout: float = 10.0,
    interval: float = 0.05,
    message: str = "the condition did not hold",
) -> T: ...


@overload
async def wait_until(
    condition: Callable[[], T],
    *,
    timeout: float = 10.0,
    interval: float = 0.05,
    message: str = "the condition did not hold",
) -> T: ...


async def wait_until(
    condition: Callable[[], Any],
    *,
    timeout: float = 10.0,
    interval: float = 0.05,
    message: str = "the condition did not hold",
) -> Any:
    """Poll ``condition`` (sync or async) until it returns something truthy, and return that.

    Raises :class:`AssertionError` with ``message`` (and the last value) after ``timeout`` seconds.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if loop.time() >= deadline:
            raise AssertionError(f"{message} within {timeout:.1f}s (last value: {value!r})")
        await asyncio.sleep(interval)


async def read_records(
    bootstrap_servers: str,
    topic: str,
    *,
    expect: int | None = None,
    where: Callable[[Record], bool] | None = None,
    timeout: float = 15.0,
) -> list[Record]:
    """Every record of ``topic`` (that ``where`` accepts), from the beginning, in partition order.

    With ``expect``, keep reading until at least that many records match or ``timeout`` passes, and
    return what was read either way, so that the caller's assertion shows what is missing. Without it,
    read up to the end offsets the topic had when reading began. A topic that does not exist yet is
    waited for (and is an empty list when nothing is expected).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    found: list[Record] = []
    # A consumer learns a topic's partitions when it starts: one started before the topic existed
    # would never see them, so start (again) until the topic is there or the time is up.
    while True:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_servers,
            client_id="steadfast-test-reader",
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            request_timeout_ms=10_000,
        )
        await asyncio.wait_for(consumer.start(), timeout)
        partitions: set[int] | None = consumer.partitions_for_topic(topic)
        if partitions or not expect or loop.time() >= deadline:
            break
        await consumer.stop()
        await asyncio.sleep(0.1)
    try:
        if not partitions:
            return []
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        end = await consumer.end_offsets(assigned) if expect is None else {}
        while True:
            batches = await consumer.getmany(*assigned, timeout_ms=200, max_records=5000)
            for records in batches.values():
                found.extend(r for r in records if where is None or where(r))
            if expect is not None:
                if len(found) >= expect:
                    break
            elif all([await consumer.position(tp) >= end[tp] for tp in assigned]):
                break
            if loop.time() >= deadline:
                break
    finally:
        await consumer.stop()
    found.sort(key=lambda r: (r.partition, r.offset))
    return found


async def read_topic(
    bootstrap_servers: str,
    topic: str,
    *,
    expect: int | None = None,
    where: Callable[[CloudEvent], bool] | None = None,
    timeout: float = 15.0,
) -> list[CloudEvent]:
    """The CloudEvents on ``topic`` (that ``where`` accepts), as :func:`read_records` reads them.

    Events are in partition, then offset, order: the events of one key are in the order the broker
    holds them. A record that is not a CloudEvent fails the read.
    """

    def parse(record: Record) -> CloudEvent:
        try:
            return CloudEvent.from_json(record.value)
        except ValueError as exc:
            raise AssertionError(
                f"{topic}[{record.partition}]@{record.offset} is not a CloudEvent: {record.value!r}"
            ) from exc

    def matches(record: Record) -> bool:
        return where is None or where(parse(record))

    records = await read_records(bootstrap_servers, topic, expect=expect, where=matches, timeout=timeout)
    return [parse(r) for r in records]


async def produce(
    bootstrap_servers: str,
    topic: str,
    messages: Iterable[CloudEvent | bytes],
    *,
    key: str | None = None,
    headers: Sequence[tuple[str, bytes]] = (),
) -> None:
    """Send ``messages`` to ``topic`` and wait for every acknowledgement.

    A :class:`CloudEvent` is sent as its JSON with its subject as the key; raw bytes are sent as they
    are, with ``key``.
    """
    producer = new_producer(bootstrap_servers, client_id="steadfast-test-producer")
    await producer.start()
    try:
        futures = []
        for message in messages:
            value = message.to_json() if isinstance(message, CloudEvent) else message
            message_key = message.subject if isinstance(message, CloudEvent) else key
            futures.append(
                await producer.send(
                    topic,
                    value=value,
                    key=message_key.encode() if message_key is not None else None,
                    headers=list(headers),
                )
            )
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
