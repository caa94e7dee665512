"""Kafka clients configured the way the platform needs them.

Producers use ``acks=all`` and no idempotence (the local Tansu broker refuses idempotent producers,
and delivery is at-least-once anyway: every consumer de-duplicates by event id).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

log = structlog.get_logger(__name__)


#: How long a producer waits for a send's acknowledgement (retrying meanwhile) before it fails it.
REQUEST_TIMEOUT_MS = 15_000


def new_producer(
    bootstrap_servers: str, *, client_id: str | None = None, request_timeout_ms: int = REQUEST_TIMEOUT_MS
) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id or "steadfast",
        acks="all",
        enable_idempotence=False,
        linger_ms=5,
        request_timeout_ms=request_timeout_ms,
        retry_backoff_ms=200,
        max_request_size=4 * 1024 * 1024,
    )


async def ensure_topics(
    bootstrap_servers: str,
    topics: Iterable[str],
    *,
    partitions: int = 3,
    replication_factor: int = 1,
    timeout: float = 15.0,
) -> None:
    """Create the topics that do not exist yet (with their ``.dlq`` twins left to consumers)."""
    wanted = sorted(set(topics))
    if not wanted:
        return
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=int(timeout * 1000))
    await asyncio.wait_for(admin.start(), timeout)
    try:
        existing = set(await asyncio.wait_for(admin.list_topics(), timeout))
        missing = [t for t in wanted if t not in existing]
        if not missing:
            return
        try:
            await asyncio.wait_for(
                admin.create_topics(
                    [
                        NewTopic(t, num_partitions=partitions, replication_factor=replication_factor)
                        for t in missing
                    ]
                ),
                timeout,
            )
            log.info("kafka.topics_created", topics=missing)
        except TopicAlreadyExistsError:
            pass
    finally:
        await admin.close()


async def broker_reachable(bootstrap_servers: str, *, timeout: float = 3.0) -> bool:
    """Whether a Kafka broker answers a metadata request within ``timeout`` seconds."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=int(timeout * 1000))
    try:
        await asyncio.wait_for(admin.start(), timeout)
        await asyncio.wait_for(admin.list_topics(), timeout)
        return True
    except (KafkaError, OSError, TimeoutError):
        return False
    finally:
        try:
            await admin.close()
        except Exception:
            log.debug("kafka.admin_close_failed")
