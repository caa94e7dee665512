"""The idempotent consumer's batches, on the real broker and on both databases: a batch is one
transaction and one offset commit; a poison message in the middle of a batch is dead-lettered alone
while every other event lands; a consumer killed mid-batch and restarted applies every event once.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import pytest_asyncio
from aiokafka import TopicPartition
from sqlalchemy.exc import IntegrityError, OperationalError

from steadfast_shared.consumer import DLQ_SUFFIX
from steadfast_shared.db import Database, create_database
from steadfast_shared.events import CloudEvent
from steadfast_shared.kafka import ensure_topics
from steadfast_shared.service import ServiceDefinition
from steadfast_shared.testing import produce, read_records, wait_until
from steadfast_shared.uow import UnitOfWork
from tests.shared.test_consumer import (
    committed_offset,
    consuming,
    event,
    new_consumer,
    receipts_of,
    tracked,
)
from tests.support.backends import BACKENDS, migrated_url
from tests.support.ledger.bootstrap import definition
from tests.support.ledger.consumers import receipt_handler


@pytest.fixture
def topic() -> str:
    return f"ledger.batches.{uuid.uuid4().hex[:10]}"


@pytest.fixture
def group() -> str:
    return f"ledger-batches-{uuid.uuid4().hex[:6]}"


@pytest_asyncio.fixture(loop_scope="session", params=BACKENDS)
async def db(
    request: pytest.FixtureRequest,
    make_database: Callable[[ServiceDefinition], Awaitable[str]],
    tmp_path: Path,
) -> AsyncIterator[Database]:
    """The ledger's database on PostgreSQL, or on a SQLite file (the embedded default)."""
    url = await migrated_url(request.param, definition, make_database, tmp_path / "ledger.db")
    database = create_database(url, pool_size=5)
    try:
        yield database
    finally:
        await database.dispose()


async def one_partition(bootstrap: str, topic: str) -> TopicPartition:
    """The topic with a single partition, so that the test knows what one fetch returns."""
    await ensure_topics(bootstrap, [topic, topic + DLQ_SUFFIX], partitions=1)
    return TopicPartition(topic, 0)


async def test_a_batch_is_one_transaction_and_one_offset_commit(
    db: Database, bootstrap: str, topic: str, group: str
) -> None:
    tp = await one_partition(bootstrap, topic)
    events = [event() for _ in range(60)]
    await produce(bootstrap, topic, events)
    consumer = new_consumer(db, bootstrap, topic, group, receipt_handler(group), batch_size=25)

    async with consuming(consumer):
        await wait_until(lambda: consumer.stats.processed == 60, timeout=60, message="60 applied")

    assert await receipts_of(db, group) == {e.id: 1 for e in events}
    assert await tracked(db, group) == {e.id: offset for offset, e in enumerate(events)}
    # Fetched all at once, 60 events take at least 3 batches of 25; never one per event.
    assert 3 <= consumer.stats.batches < 60
    assert await committed_offset(bootstrap, group, tp) == 60


async def test_a_poison_message_in_the_middle_of_a_batch_is_dead_lettered_alone(
    db: Database, bootstrap: str, topic: str, group: str
) -> None:
    await one_partition(bootstrap, topic)
    before = [event() for _ in range(10)]
    refused = event()
    after = [event() for _ in range(10)]
    handler = receipt_handler(group, fail_when=lambda e: e.id == refused.id)
    await produce(bootstrap, topic, [*before[:5]])
    await produce(bootstrap, topic, [b"{not a cloud event"], key="garbage")
    await produce(bootstrap, topic, [*before[5:], refused, *after])
    consumer = new_consumer(db, bootstrap, topic, group, handler, batch_size=500)

    async with consuming(consumer):
        await wait_until(
            lambda: consumer.stats.processed == 20 and consumer.stats.dead_lettered == 2,
            timeout=60,
            message="20 applied and 2 dead-lettered",
        )

    # Every other event landed, once; the refused one rolled back with each attempt.
    assert await receipts_of(db, group) == {e.id: 1 for e in before + after}
    assert set(await tracked(db, group)) == {e.id for e in before + after}
    dead = await read_records(bootstrap, topic + DLQ_SUFFIX, expect=2)
    attempts = {record.key: dict(record.headers)["dlq_attempts"] for record in dead}
    assert attempts == {b"garbage": b"1", refused.subject.encode(): b"3"}


async def test_a_consumer_killed_mid_batch_and_restarted_applies_every_event_once(
    db: Database, bootstrap: str, topic: str, group: str
) -> None:
    tp = await one_partition(bootstrap, topic)
    events = [event() for _ in range(40)]
    held = events[17]
    entered, release = asyncio.Event(), asyncio.Event()
    record_receipt = receipt_handler(group)

    async def slow_handler(uow: UnitOfWork, e: CloudEvent) -> None:
        await record_receipt(uow, e)
        if e.id == held.id:
            entered.set()
            await release.wait()

    await produce(bootstrap, topic, events)
    killed = new_consumer(db, bootstrap, topic, group, slow_handler, batch_size=500)
    task = asyncio.create_task(killed.run())
    try:
        await wait_until(entered.is_set, timeout=60, message="the batch being applied")
    finally:
        task.cancel()  # the process dies mid-batch: the batch's transaction rolls back
        with pytest.raises(asyncio.CancelledError):
            await task
    # Nothing of the batch is left, and no offset was committed for it.
    assert await receipts_of(db, group) == {}
    assert await tracked(db, group) == {}
    assert await committed_offset(bootstrap, group, tp) is None

    restarted = new_consumer(db, bootstrap, topic, group, receipt_handler(group))
    async with consuming(restarted):
        await wait_until(lambda: restarted.stats.processed == 40, timeout=60, message="all applied")
        await wait_until(
            lambda: committed_offset_is(bootstrap, group, tp, 40), timeout=10, message="offset 40"
        )
    assert restarted.stats.duplicates == 0
    assert await receipts_of(db, group) == {e.id: 1 for e in events}


async def committed_offset_is(bootstrap: str, group: str, tp: TopicPartition, expected: int) -> bool:
    return await committed_offset(bootstrap, group, tp) == expected


async def test_a_batch_delivered_again_is_a_no_op(
    db: Database, bootstrap: str, topic: str, group: str
) -> None:
    """The batch's tracking rows are one statement that skips what is tracked: copies within the batch
    and copies of events applied by an earlier batch (a republished outbox) apply nothing."""
    await one_partition(bootstrap, topic)
    first = [event() for _ in range(5)]
    await produce(bootstrap, topic, [*first, first[0], first[0]])
    consumer = new_consumer(db, bootstrap, topic, group, receipt_handler(group), batch_size=500)
    async with consuming(consumer):
        await wait_until(
            lambda: consumer.stats.processed + consumer.stats.duplicates == 7,
            timeout=60,
            message="seven deliveries",
        )
        await produce(bootstrap, topic, [*first, event()])
        await wait_until(
            lambda: consumer.stats.processed + consumer.stats.duplicates == 13,
            timeout=60,
            message="thirteen deliveries",
        )
    assert consumer.stats.processed == 6
    assert consumer.stats.duplicates == 7
    receipts = await receipts_of(db, group)
    assert len(receipts) == 6
    assert set(receipts.values()) == {1}


async def test_an_unavailable_database_dead_letters_nothing_and_the_batch_is_applied_when_it_answers(
    db: Database, bootstrap: str, topic: str, group: str
) -> None:
    """A lost connection is not the events' fault: the consumer waits and applies the same batch again,
    and nothing goes to the dead-letter topic (a handler raising the error the driver raises when the
    server goes away stands for the outage; the tests in tests/faults restart a real PostgreSQL)."""
    await one_partition(bootstrap, topic)
    events = [event() for _ in range(12)]
    record_receipt = receipt_handler(group)
    outages = 12  # more failures than the bisection's depth and an event's attempts together

    async def flaky(uow: UnitOfWork, e: CloudEvent) -> None:
        nonlocal outages
        if e.id == events[6].id and outages:
            outages -= 1
            raise OperationalError("SELECT 1", {}, ConnectionResetError("server closed the connection"))
        await record_receipt(uow, e)

    await produce(bootstrap, topic, events)
    # The waits between attempts double from retry_delay; capped at 0.1 s here (10 s in a service), the
    # 12 outages take a second instead of half a minute.
    consumer = new_consumer(
        db, bootstrap, topic, group, flaky, batch_size=500, database_retry_max_seconds=0.1
    )
    async with consuming(consumer):
        await wait_until(lambda: consumer.stats.processed == 12, timeout=60, message="all applied")

    assert outages == 0
    assert consumer.stats.dead_lettered == 0
    assert await receipts_of(db, group) == {e.id: 1 for e in events}


def test_what_counts_as_the_database_being_unavailable() -> None:
    from steadfast_shared.batch import _unavailable

    reset = OperationalError("SELECT 1", {}, ConnectionResetError("reset"))
    assert _unavailable(reset)
    assert _unavailable(ConnectionRefusedError())
    assert _unavailable(OperationalError("BEGIN", {}, Exception("database is locked")))

    class ShuttingDown(Exception):
        sqlstate = "57P01"  # admin_shutdown

    assert _unavailable(OperationalError("SELECT 1", {}, ShuttingDown("terminating connection")))
    # The events' fault: bisected and, alone, dead-lettered.
    assert not _unavailable(RuntimeError("ledger refuses"))
    assert not _unavailable(IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert not _unavailable(OperationalError("INSERT", {}, Exception("too many SQL variables")))
