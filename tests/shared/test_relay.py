"""The relay publishes the outbox to the real broker: in order per key, at least once, no matter what.

Every test uses its own database and its own aggregate ids (``prefix``) on the shared ``ledger.events``
topic, and reads back only its own events.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import func, select, update

from steadfast_shared.db import Database
from steadfast_shared.db.types import utcnow
from steadfast_shared.embedded import TansuBroker
from steadfast_shared.events import CloudEvent
from steadfast_shared.outbox import OutboxRelay
from steadfast_shared.testing import read_records, read_topic, wait_until
from tests.shared.conftest import new_relay, unit_of_work
from tests.support.ledger import service
from tests.support.ledger.events import TOPIC
from tests.support.ledger.models import tables

outbox = tables.outbox


@pytest.fixture
def prefix() -> str:
    return uuid.uuid4().hex[:12]


@asynccontextmanager
async def running(relay: OutboxRelay) -> AsyncIterator[OutboxRelay]:
    task = asyncio.create_task(relay.run())
    try:
        yield relay
    finally:
        relay.stop()
        await asyncio.wait_for(task, 30)


async def open_entries(db: Database, prefix: str, count: int) -> list[str]:
    ids = [f"{prefix}-{n}" for n in range(count)]
    async with unit_of_work(db) as uow:
        for entry_id in ids:
            await service.open_entry(uow, entry_id, 0, entry_id=entry_id)
        await uow.commit()
    return ids


async def adjust(db: Database, entry_id: str, delta: int = 1) -> str:
    async with unit_of_work(db) as uow:
        await service.adjust_entry(uow, entry_id, delta)
        await uow.commit()
    return uow.published[0].id


async def unpublished(db: Database) -> int:
    async with db.sessionmaker() as session:
        query = select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
        return int(await session.scalar(query) or 0)


async def published(db: Database, *, above: int) -> bool:
    """Whether more than ``above`` rows have been published."""
    async with db.sessionmaker() as session:
        query = select(func.count()).select_from(outbox).where(outbox.c.published_at.is_not(None))
        return int(await session.scalar(query) or 0) > above


async def all_published(db: Database) -> bool:
    return await unpublished(db) == 0


async def event_ids(db: Database) -> list[str]:
    async with db.sessionmaker() as session:
        return list((await session.scalars(select(outbox.c.event_id).order_by(outbox.c.id))).all())


def mine(prefix: str) -> Any:
    return lambda event: event.subject.startswith(prefix)


def versions_per_key(events: Iterable[CloudEvent]) -> dict[str, list[int]]:
    """The aggregate versions each key's events carry, first deliveries only, in offset order."""
    seen: set[str] = set()
    versions: dict[str, list[int]] = defaultdict(list)
    for event in events:
        if event.id not in seen:
            seen.add(event.id)
            versions[event.subject].append(int(event.data["version"]))
    return dict(versions)


def every_version(last: dict[str, int], first: int = 1) -> dict[str, list[int]]:
    return {key: list(range(first, n + 1)) for key, n in last.items()}


async def topic_partitions(bootstrap: str, topic: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [description] = await admin.describe_topics([topic])
        return len(description["partitions"])
    finally:
        await admin.close()


async def test_each_keys_events_are_published_in_order(
    ledger_db: Database, bootstrap: str, prefix: str
) -> None:
    keys = await open_entries(ledger_db, prefix, 20)
    adjustments = [key for key in keys for _ in range(14)]
    random.shuffle(adjustments)
    queue: asyncio.Queue[str] = asyncio.Queue()
    for key in adjustments:
        queue.put_nowait(key)

    async def writer() -> None:
        while not queue.empty():
            await adjust(ledger_db, queue.get_nowait())

    # Small batches, so that one key's events span many batches and sends.
    async with running(new_relay(ledger_db, bootstrap, batch_size=7)):
        await asyncio.gather(*(writer() for _ in range(4)))
        await wait_until(lambda: all_published(ledger_db), timeout=60, message="all published")

    total = len(keys) + len(adjustments)
    records = await read_records(
        bootstrap, TOPIC, expect=total, where=lambda r: r.key.decode().startswith(prefix)
    )
    events = [CloudEvent.from_json(r.value) for r in records]
    assert {e.id for e in events} == set(await event_ids(ledger_db))
    assert versions_per_key(events) == every_version({key: 15 for key in keys})
    partitions: dict[str, set[int]] = defaultdict(set)
    for record in records:
        partitions[record.key.decode()].add(record.partition)
        headers = dict(record.headers)
        event = CloudEvent.from_json(record.value)
        assert record.key.decode() == event.subject
        assert headers["ce_id"].decode() == event.id
        assert headers["ce_type"].decode() == event.type
        assert headers["content-type"].startswith(b"application/cloudevents+json")
    assert all(len(p) == 1 for p in partitions.values()), "a key's events span partitions"


async def test_every_committed_event_is_delivered_despite_late_commits(
    ledger_db: Database, bootstrap: str, prefix: str
) -> None:
    """Concurrent writers draw outbox ids, then commit late and in any order (sequence gaps)."""
    keys = await open_entries(ledger_db, prefix, 8)
    committed: list[str] = []
    rolled_back: list[str] = []
    versions = {key: 1 for key in keys}
    straggler_key = f"{prefix}-straggler"

    async def writer(key: str, rng: random.Random) -> None:
        for _ in range(25):
            async with unit_of_work(ledger_db) as uow:
                await service.adjust_entry(uow, key, 1)
                await uow.write_outbox()  # the outbox id is drawn here...
                [event] = uow.published
                await asyncio.sleep(rng.uniform(0, 0.04))  # ...and committed after others'
                if rng.random() < 0.2:
                    await uow.rollback()
                    rolled_back.append(event.id)
                else:
                    await uow.commit()
                    committed.append(event.id)
                    versions[key] += 1

    async def straggler(drawn: asyncio.Event) -> None:
        """Holds the lowest new id until many higher ones are published, then commits."""
        async with unit_of_work(ledger_db) as uow:
            await service.open_entry(uow, straggler_key, 0, entry_id=straggler_key)
            await uow.write_outbox()
            [event] = uow.published
            drawn.set()
            await wait_until(
                lambda: published(ledger_db, above=len(keys) + 40), timeout=60, message="others published"
            )
            await uow.commit()
            committed.append(event.id)
            versions[straggler_key] = 1

    async def writers() -> None:
        drawn = asyncio.Event()
        held = asyncio.create_task(straggler(drawn))
        await drawn.wait()
        # Two writers per key: they queue on the entry's row lock while holding their outbox ids.
        await asyncio.gather(*(writer(key, random.Random(n)) for n, key in enumerate(keys * 2)))
        await held

    async with running(new_relay(ledger_db, bootstrap, batch_size=20)):
        await writers()
        await wait_until(lambda: all_published(ledger_db), timeout=60, message="all published")

    events = await read_topic(
        bootstrap, TOPIC, expect=len(committed) + len(keys), where=mine(prefix), timeout=30
    )
    delivered = {e.id for e in events}
    assert set(committed) <= delivered
    assert not set(rolled_back) & delivered
    assert delivered == set(await event_ids(ledger_db))
    assert versions_per_key(events) == every_version(versions)

    # The scenario really happened: rows were published past lower ids that committed later.
    async with ledger_db.sessionmaker() as session:
        rows = (await session.execute(select(outbox.c.id, outbox.c.published_at))).all()
    overtaken = sum(
        1 for low in rows for high in rows if low.id < high.id and low.published_at > high.published_at
    )
    assert overtaken >= 40, "too few commits landed behind a published higher id"


async def test_a_stopped_broker_loses_no_event_and_rows_are_marked_only_when_acknowledged(
    ledger_db: Database, kafka_broker: TansuBroker, bootstrap: str, prefix: str
) -> None:
    keys = await open_entries(ledger_db, prefix, 4)
    # The sends to the stopped broker fail once unacknowledged for the producer's request timeout: 2 s
    # here instead of 15 s.
    relay = new_relay(ledger_db, bootstrap, batch_size=50, request_timeout_ms=2_000)
    async with running(relay):
        before = [await adjust(ledger_db, key) for key in keys]
        await wait_until(lambda: all_published(ledger_db), timeout=30, message="published")
        async with ledger_db.sessionmaker() as session:
            first_id, last_id = (
                await session.execute(select(func.min(outbox.c.id), func.max(outbox.c.id)))
            ).one()

        kafka_broker.stop()
        during = [await adjust(ledger_db, key) for key in keys for _ in range(3)]

        async def send_failed() -> bool:
            async with ledger_db.sessionmaker() as session:
                query = select(func.count()).where(outbox.c.last_error.is_not(None))
                return bool(await session.scalar(query))

        # The relay sent them, the broker never acknowledged: recorded as failed, not as published.
        await wait_until(send_failed, timeout=60, interval=0.2, message="a failed send recorded")
        assert await unpublished(ledger_db) == len(during)

        kafka_broker.start()  # on the same port, and empty: every topic is gone
        after = [await adjust(ledger_db, key) for key in keys]
        await wait_until(lambda: all_published(ledger_db), timeout=60, message="published")

    # The relay created the topic again itself (with its partitions, not the broker's default).
    assert await topic_partitions(bootstrap, TOPIC) == 3
    events = await read_topic(bootstrap, TOPIC, expect=len(during) + len(after), where=mine(prefix))
    delivered = {e.id for e in events}
    assert set(during) | set(after) <= delivered
    assert not set(before) & delivered, "the restarted broker should have come back empty"
    assert versions_per_key(events) == every_version({key: 6 for key in keys}, first=3)

    # What the broker lost is still in the outbox for the retention period: send it again.
    assert await relay.store.republish(from_id=first_id, to_id=last_id) == len(keys) + len(before)
    assert await relay.publish_pending() == len(keys) + len(before)
    events = await read_topic(
        bootstrap, TOPIC, expect=len(keys) * 2 + len(during) + len(after), where=mine(prefix)
    )
    assert {e.id for e in events} == set(await event_ids(ledger_db))
    await relay.close()


async def test_a_broker_restart_during_sends_loses_no_event(
    ledger_db: Database, kafka_broker: TansuBroker, bootstrap: str, prefix: str
) -> None:
    """A short outage: the sends in flight when the broker goes away are delivered when it is back."""
    keys = await open_entries(ledger_db, prefix, 4)
    async with running(new_relay(ledger_db, bootstrap, batch_size=50)):
        await wait_until(lambda: all_published(ledger_db), timeout=30, message="published")
        kafka_broker.stop()
        during = [await adjust(ledger_db, key) for key in keys for _ in range(3)]
        await asyncio.sleep(0.5)  # the outage itself: the relay's sends are in flight meanwhile
        assert await unpublished(ledger_db) == len(during)
        kafka_broker.start()
        after = [await adjust(ledger_db, key) for key in keys for _ in range(2)]
        await wait_until(lambda: all_published(ledger_db), timeout=60, message="published")

    events = await read_topic(bootstrap, TOPIC, expect=len(during) + len(after), where=mine(prefix))
    assert set(during) | set(after) <= {e.id for e in events}
    assert versions_per_key(events) == every_version({key: 6 for key in keys}, first=2)


async def test_published_rows_are_purged_after_the_retention_period(
    ledger_db: Database, bootstrap: str, prefix: str
) -> None:
    keys = await open_entries(ledger_db, prefix, 6)
    relay = new_relay(ledger_db, bootstrap, retention=timedelta(days=30))
    assert await relay.publish_pending() == len(keys)
    await relay.close()
    async with ledger_db.sessionmaker() as session, session.begin():
        old_ids = (await session.scalars(select(outbox.c.id).order_by(outbox.c.id).limit(3))).all()
        long_ago = utcnow() - timedelta(days=31)
        await session.execute(update(outbox).where(outbox.c.id.in_(old_ids)).values(published_at=long_ago))
    waiting = await adjust(ledger_db, keys[0])  # unpublished rows are never purged, however old
    async with ledger_db.sessionmaker() as session, session.begin():
        await session.execute(
            update(outbox)
            .where(outbox.c.event_id == waiting)
            .values(created_at=utcnow() - timedelta(days=90))
        )

    # A running relay purges when it starts, then every few minutes.
    async def purged() -> bool:
        async with ledger_db.sessionmaker() as session:
            return not (await session.scalars(select(outbox.c.id).where(outbox.c.id.in_(old_ids)))).all()

    async with running(new_relay(ledger_db, bootstrap, retention=timedelta(days=30))):
        await wait_until(purged, timeout=15, message="the expired rows purged")
        await wait_until(lambda: all_published(ledger_db), timeout=15, message="published")

    remaining = await event_ids(ledger_db)
    assert len(remaining) == len(keys) - len(old_ids) + 1
    assert waiting in remaining
    assert await relay.store.purge_published(timedelta(days=30)) == 0
    assert await relay.store.purge_published(timedelta(0)) == len(remaining)


async def test_republish_sends_a_range_of_retained_events_again(
    ledger_db: Database, bootstrap: str, prefix: str
) -> None:
    keys = await open_entries(ledger_db, prefix, 10)
    relay = new_relay(ledger_db, bootstrap)
    try:
        assert await relay.publish_pending() == 10
        async with ledger_db.sessionmaker() as session:
            ids = (await session.scalars(select(outbox.c.id).order_by(outbox.c.id))).all()
        midway = utcnow()
        later = [await adjust(ledger_db, key) for key in keys[:2]]
        assert await relay.publish_pending() == 2

        assert await relay.store.republish(from_id=ids[3], to_id=ids[6]) == 4
        assert (await relay.store.backlog())[0] == 4
        assert await relay.publish_pending() == 4
        assert await relay.store.republish(since=midway) == 2
        assert await relay.publish_pending() == 2
        assert await relay.store.republish(from_id=ids[-1] + 1000) == 0
    finally:
        await relay.close()

    events = await read_topic(bootstrap, TOPIC, expect=12 + 4 + 2, where=mine(prefix))
    deliveries: dict[str, int] = defaultdict(int)
    for event in events:
        deliveries[event.id] += 1
    all_ids = await event_ids(ledger_db)
    assert [deliveries[event_id] for event_id in all_ids[:10]] == [1, 1, 1, 2, 2, 2, 2, 1, 1, 1]
    assert [deliveries[event_id] for event_id in later] == [2, 2]


async def test_only_one_relay_per_database_publishes(
    ledger_db: Database, bootstrap: str, prefix: str
) -> None:
    first = new_relay(ledger_db, bootstrap)
    second = new_relay(ledger_db, bootstrap)
    async with running(first):
        keys = await open_entries(ledger_db, prefix, 3)
        await wait_until(lambda: all_published(ledger_db), timeout=30, message="published")
        async with running(second):
            for _ in range(5):
                for key in keys:
                    await adjust(ledger_db, key)
            await wait_until(lambda: all_published(ledger_db), timeout=30, message="published")
            assert first._lock._conn is not None
            assert second._lock._conn is None, "the standby relay took the lock too"
            first.stop()
            for key in keys:
                await adjust(ledger_db, key)
            await wait_until(lambda: all_published(ledger_db), timeout=30, message="taken over")
            assert second._lock._conn is not None

    events = await read_topic(bootstrap, TOPIC, expect=3 * 7, where=mine(prefix))
    assert {e.id for e in events} == set(await event_ids(ledger_db))
    assert versions_per_key(events) == every_version({key: 7 for key in keys})
