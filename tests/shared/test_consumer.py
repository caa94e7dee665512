"""The idempotent consumer on the real broker and PostgreSQL: once per event id, poison to the DLQ,
offsets only after the database commit, and through broker restarts.

Every test has its own topic and consumer group; the handler writes a receipt per run, in the same
transaction as the tracking row, so a duplicate would show as a second receipt.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import func, select

from steadfast_shared.consumer import DLQ_SUFFIX, Handler, IdempotentConsumer
from steadfast_shared.db import Database
from steadfast_shared.embedded import TansuBroker
from steadfast_shared.events import CloudEvent, new_event
from steadfast_shared.kafka import ensure_topics
from steadfast_shared.testing import TEST_SESSION_TIMEOUT_MS, produce, read_records, wait_until
from steadfast_shared.uow import UnitOfWork
from tests.support.ledger.consumers import receipt_handler
from tests.support.ledger.events import EntryOpened, registry
from tests.support.ledger.models import receipts, tables

processed_events = tables.processed_events


@pytest.fixture
def topic() -> str:
    return f"ledger.test.{uuid.uuid4().hex[:10]}"


@pytest.fixture
def group() -> str:
    return f"ledger-projector-{uuid.uuid4().hex[:6]}"


def new_consumer(
    db: Database, bootstrap: str, topic: str, group: str, handler: Handler, **options: Any
) -> IdempotentConsumer:
    options.setdefault("session_timeout_ms", TEST_SESSION_TIMEOUT_MS)
    return IdempotentConsumer(
        name=group,
        topics=[topic],
        handler=handler,
        database=db,
        tables=tables,
        registry=registry,
        bootstrap_servers=bootstrap,
        retry_delay=0.01,
        **options,
    )


@asynccontextmanager
async def consuming(consumer: IdempotentConsumer) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(consumer.run())
    try:
        yield task
    finally:
        consumer.stop()
        if not task.done():
            await asyncio.wait_for(task, 30)


def event(subject: str | None = None) -> CloudEvent:
    entry_id = subject or str(uuid.uuid4())
    return new_event(
        source="/steadfast/ledger",
        type_=EntryOpened.type,
        subject=entry_id,
        data={"entry_id": entry_id, "key": "k", "amount": 1, "version": 1},
    )


async def receipts_of(db: Database, group: str) -> dict[str, int]:
    """How many receipts the group's handler left for each event id."""
    async with db.sessionmaker() as session:
        rows = await session.execute(
            select(receipts.c.event_id, func.count())
            .where(receipts.c.consumer == group)
            .group_by(receipts.c.event_id)
        )
        return {event_id: int(n) for event_id, n in rows.all()}


async def tracked(db: Database, group: str) -> dict[str, int]:
    async with db.sessionmaker() as session:
        rows = await session.execute(
            select(processed_events.c.event_id, processed_events.c.offset).where(
                processed_events.c.consumer == group
            )
        )
        return {event_id: int(offset) for event_id, offset in rows.all()}


async def committed_offset(bootstrap: str, group: str, tp: TopicPartition) -> int | None:
    """The group's committed offset, read without joining the group."""
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await reader.start()
    try:
        offset = await reader.committed(tp)
    finally:
        await reader.stop()
    return None if offset is None or offset < 0 else int(offset)


def received(db: Database, group: str, events: list[CloudEvent]) -> Callable[[], Awaitable[bool]]:
    """Whether the group's handler has left a receipt for each of ``events``."""

    async def every_one() -> bool:
        return set(await receipts_of(db, group)) >= {e.id for e in events}

    return every_one


def handled(consumer: IdempotentConsumer, count: int) -> Callable[[], bool]:
    return lambda: consumer.stats.processed + consumer.stats.duplicates >= count


async def test_a_duplicate_delivery_is_a_no_op(
    ledger_db: Database, bootstrap: str, topic: str, group: str
) -> None:
    first, second = event(), event()
    consumer = new_consumer(ledger_db, bootstrap, topic, group, receipt_handler(group))
    await produce(bootstrap, topic, [first, first, second, first])

    async with consuming(consumer):
        await wait_until(handled(consumer, 4), timeout=60, message="four deliveries handled")

    assert consumer.stats.processed == 2
    assert consumer.stats.duplicates == 2
    assert await receipts_of(ledger_db, group) == {first.id: 1, second.id: 1}
    assert set(await tracked(ledger_db, group)) == {first.id, second.id}


async def test_poison_messages_go_to_the_dead_letter_topic_and_the_consumer_carries_on(
    ledger_db: Database, bootstrap: str, topic: str, group: str
) -> None:
    refused, fine, later = event(), event(), event()
    handler = receipt_handler(group, fail_when=lambda e: e.id == refused.id)
    consumer = new_consumer(ledger_db, bootstrap, topic, group, handler, max_attempts=3)
    await produce(bootstrap, topic, [b"{this is not json"], key="garbage")
    await produce(bootstrap, topic, [refused, fine])

    async with consuming(consumer):
        await wait_until(
            lambda: consumer.stats.dead_lettered == 2 and consumer.stats.processed == 1,
            timeout=60,
            message="two dead-lettered and one processed",
        )
        await produce(bootstrap, topic, [later])
        await wait_until(lambda: consumer.stats.processed == 2, timeout=60, message="carried on")

    dead = await read_records(bootstrap, topic + DLQ_SUFFIX, expect=2)
    by_key = {record.key: record for record in dead}
    assert set(by_key) == {b"garbage", refused.subject.encode()}
    garbage = dict(by_key[b"garbage"].headers)
    assert by_key[b"garbage"].value == b"{this is not json"
    assert b"not a CloudEvents 1.0 JSON envelope" in garbage["dlq_error"]
    assert garbage["dlq_attempts"] == b"1"
    assert garbage["dlq_original_topic"] == topic.encode()
    assert garbage["dlq_consumer"] == group.encode()
    failed = dict(by_key[refused.subject.encode()].headers)
    assert CloudEvent.from_json(by_key[refused.subject.encode()].value) == refused
    assert failed["dlq_error"] == f"RuntimeError: ledger refuses event {refused.id}".encode()
    assert failed["dlq_attempts"] == b"3"
    assert "dlq_original_offset" in failed
    # Each failed attempt rolled back its receipt along with everything else.
    assert await receipts_of(ledger_db, group) == {fine.id: 1, later.id: 1}
    assert set(await tracked(ledger_db, group)) == {fine.id, later.id}


async def test_offsets_are_committed_only_after_the_database_commit(
    ledger_db: Database, bootstrap: str, topic: str, group: str
) -> None:
    await ensure_topics(bootstrap, [topic, topic + DLQ_SUFFIX], partitions=1)
    tp = TopicPartition(topic, 0)
    first, held, third = event(), event(), event()
    entered = asyncio.Event()
    release = asyncio.Event()
    record_receipt = receipt_handler(group)

    async def slow_handler(uow: UnitOfWork, e: CloudEvent) -> None:
        await record_receipt(uow, e)
        if e.id == held.id:
            entered.set()
            await release.wait()

    async def offset_is(expected: int) -> bool:
        return await committed_offset(bootstrap, group, tp) == expected

    await produce(bootstrap, topic, [first, held, third])
    # One event a batch, so that the first commits before the second is handled (batches of many:
    # tests/shared/test_consumer_batches.py).
    crashed = new_consumer(ledger_db, bootstrap, topic, group, slow_handler, batch_size=1)
    task = asyncio.create_task(crashed.run())
    try:
        await wait_until(entered.is_set, timeout=60, message="the second event being handled")
        # The first event is committed in the database, so its offset is committed too...
        await wait_until(lambda: offset_is(1), timeout=10, message="offset 1 committed")
        assert await receipts_of(ledger_db, group) == {first.id: 1}
        # ...but not the one being handled: its transaction is still open.
        await asyncio.sleep(0.3)
        assert await offset_is(1)
    finally:
        task.cancel()  # the process dies mid-handler: its transaction rolls back
        with pytest.raises(asyncio.CancelledError):
            await task
    assert await receipts_of(ledger_db, group) == {first.id: 1}

    restarted = new_consumer(ledger_db, bootstrap, topic, group, receipt_handler(group))
    async with consuming(restarted):
        await wait_until(handled(restarted, 2), timeout=60, message="the rest handled")
        await wait_until(lambda: offset_is(3), timeout=10, message="offset 3 committed")

    # Resumed after the last committed offset: nothing handled twice, nothing skipped.
    assert restarted.stats.processed == 2
    assert restarted.stats.duplicates == 0
    assert await receipts_of(ledger_db, group) == {first.id: 1, held.id: 1, third.id: 1}
    assert await tracked(ledger_db, group) == {first.id: 0, held.id: 1, third.id: 2}


async def test_the_consumer_survives_a_broker_restart(
    ledger_db: Database, kafka_broker: TansuBroker, bootstrap: str, topic: str, group: str
) -> None:
    before = [event() for _ in range(3)]
    after = [event() for _ in range(3)]
    consumer = new_consumer(ledger_db, bootstrap, topic, group, receipt_handler(group))

    async with consuming(consumer) as task:
        await produce(bootstrap, topic, before)
        await wait_until(handled(consumer, 3), timeout=60, message="handled before the restart")

        await kafka_broker.restart_async(downtime=1.0)  # back empty: no topic, no offsets
        await produce(bootstrap, topic, after)
        await wait_until(received(ledger_db, group, before + after), timeout=60, message="after the restart")
        assert not task.done()

    expected = {e.id: 1 for e in before + after}
    assert await receipts_of(ledger_db, group) == expected
    assert consumer.stats.processed == 6


async def test_the_consumer_reads_every_partition_of_a_topic_recreated_after_a_broker_restart(
    ledger_db: Database, kafka_broker: TansuBroker, bootstrap: str, topic: str, group: str
) -> None:
    # The topic has the consumer's 3 partitions; after the restart a producer's auto-creation makes it
    # again with the broker's default. The consumer must not go on with the old broker's metadata (its
    # Kafka client keeps it for minutes), or the events on the new partitions wait unread.
    await ensure_topics(bootstrap, [topic], partitions=3)
    before = [event() for _ in range(3)]
    after = [event() for _ in range(24)]  # keyed at random: some land beyond the third partition
    consumer = new_consumer(ledger_db, bootstrap, topic, group, receipt_handler(group))

    async with consuming(consumer) as task:
        await produce(bootstrap, topic, before)
        await wait_until(handled(consumer, 3), timeout=60, message="handled before the restart")

        await kafka_broker.restart_async(downtime=1.0)  # back empty: no topic, no offsets
        await produce(bootstrap, topic, after)
        # Up to a session timeout for the new broker's group, and a restart of the Kafka client. (Not a
        # count of events handled: the old client may read the new topic's first partitions before the
        # restart, and the new one reads them again as duplicates, which would reach any count early.)
        await wait_until(received(ledger_db, group, before + after), timeout=120, message="after the restart")
        assert not task.done()

    assert await receipts_of(ledger_db, group) == {e.id: 1 for e in before + after}
