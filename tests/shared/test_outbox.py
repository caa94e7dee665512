"""The outbox is written in the same transaction as the change: both commit, or neither does.

Run against both backends a service may use: PostgreSQL (production) and SQLite (embedded default).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from pydantic import BaseModel
from sqlalchemy import FromClause, Row, func, select
from sqlalchemy.exc import IntegrityError

from steadfast_shared.db import Database, create_database
from steadfast_shared.events import CloudEvent, EventRegistry
from steadfast_shared.uow import UnitOfWork
from tests.shared.conftest import unit_of_work
from tests.support.backends import migrated_url
from tests.support.ledger import service
from tests.support.ledger.bootstrap import definition
from tests.support.ledger.events import TOPIC, EntryAdjusted, EntryOpened, EntryOpenedData, registry
from tests.support.ledger.models import Entry, tables

outbox = tables.outbox


@pytest_asyncio.fixture(loop_scope="session", params=["postgresql", "sqlite"])
async def db(
    request: pytest.FixtureRequest,
    make_database: Callable[..., Awaitable[str]],
    tmp_path: Path,
) -> AsyncIterator[Database]:
    url = await migrated_url(request.param, definition, make_database, tmp_path / "ledger.db")
    database = create_database(url)
    try:
        yield database
    finally:
        await database.dispose()


async def count(db: Database, table: FromClause) -> int:
    async with db.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def outbox_rows(db: Database) -> Sequence[Row[Any]]:
    async with db.sessionmaker() as session:
        return (await session.execute(select(outbox).order_by(outbox.c.id))).all()


async def test_a_committed_unit_of_work_leaves_the_change_and_its_event(db: Database) -> None:
    async with unit_of_work(db) as uow:
        entry = await service.open_entry(uow, "rent", 500)
        await uow.commit()

    [row] = await outbox_rows(db)
    assert await count(db, Entry.__table__) == 1
    assert row.event_id == uow.published[0].id
    assert row.topic == TOPIC
    assert row.message_key == entry.id
    assert row.event_type == EntryOpened.type
    assert row.published_at is None
    assert row.attempts == 0
    envelope = CloudEvent.from_json(row.payload)
    assert envelope.source == "/steadfast/ledger"
    assert envelope.subject == entry.id
    assert envelope.dataschema == f"urn:steadfast:event:{EntryOpened.type}"
    assert envelope.data == {"entry_id": entry.id, "key": "rent", "amount": 500, "version": 1}


async def test_a_rolled_back_unit_of_work_leaves_neither_the_change_nor_its_event(
    db: Database,
) -> None:
    async with unit_of_work(db) as uow:
        await service.open_entry(uow, "rent", 500)
        written = await uow.write_outbox()
        inside = await uow.session.scalar(select(func.count()).select_from(outbox))
        await uow.rollback()

    assert written == 1
    assert inside == 1  # the event was in the transaction...
    assert await count(db, outbox) == 0  # ...and went with it
    assert await count(db, Entry.__table__) == 0


async def test_an_error_before_the_commit_leaves_nothing(db: Database) -> None:
    async def handle_then_fail() -> None:
        async with unit_of_work(db) as uow:
            await service.open_entry(uow, "rent", 500)
            await uow.write_outbox()
            raise RuntimeError("handler failed")

    with pytest.raises(RuntimeError, match="handler failed"):
        await handle_then_fail()

    assert await count(db, outbox) == 0
    assert await count(db, Entry.__table__) == 0


async def test_a_change_that_fails_to_commit_publishes_nothing(db: Database) -> None:
    async with unit_of_work(db) as uow:
        await service.open_entry(uow, "rent", 500, entry_id="entry-1")
        await uow.commit()

    async with unit_of_work(db) as uow:
        uow.session.add(Entry.open("rates", 100, entry_id="entry-1"))  # the same primary key
        with pytest.raises(IntegrityError):
            await uow.commit()

    assert [r.event_type for r in await outbox_rows(db)] == [EntryOpened.type]


async def test_one_aggregates_events_are_in_outbox_id_order(db: Database) -> None:
    async with unit_of_work(db) as uow:
        entry = await service.open_entry(uow, "rent", 500)
        await uow.commit()
    for delta in (10, -20, 30):
        async with unit_of_work(db) as uow:
            await service.adjust_entry(uow, entry.id, delta)
            await uow.commit()

    rows = await outbox_rows(db)
    payloads = [CloudEvent.from_json(r.payload).data for r in rows]
    assert [r.event_type for r in rows] == [EntryOpened.type] + [EntryAdjusted.type] * 3
    assert [p["version"] for p in payloads] == [1, 2, 3, 4]
    assert [p["amount"] for p in payloads] == [500, 510, 490, 520]


async def test_an_event_is_written_once_even_if_the_aggregate_is_saved_again(
    db: Database,
) -> None:
    async with unit_of_work(db) as uow:
        entry = await service.open_entry(uow, "rent", 500)
        await uow.write_outbox()
        await uow.commit()
        entry.amount = 501
        await uow.commit()

    assert await count(db, outbox) == 1


async def test_an_event_of_no_aggregate_can_be_recorded_on_the_unit_of_work(db: Database) -> None:
    async with unit_of_work(db) as uow:
        uow.record(
            EntryOpened("imported", EntryOpenedData(entry_id="imported", key="k", amount=1, version=1))
        )
        await uow.commit()

    [row] = await outbox_rows(db)
    assert row.message_key == "imported"


class Stray(BaseModel):
    n: int


async def test_an_unregistered_event_type_is_refused_and_nothing_commits(db: Database) -> None:
    stray = EventRegistry("/elsewhere").register(
        "org.steadfast.elsewhere.stray.v1", Stray, topic="elsewhere", aggregate="stray", description="d"
    )

    async with unit_of_work(db) as uow:
        await service.open_entry(uow, "rent", 500)
        uow.record(stray("s-1", Stray(n=1)))
        with pytest.raises(LookupError, match="not registered"):
            await uow.commit()

    assert await count(db, outbox) == 0
    assert await count(db, Entry.__table__) == 0


async def test_the_relay_is_woken_only_by_a_commit_that_wrote_events(db: Database) -> None:
    woken: list[str] = []
    async with db.sessionmaker() as session:
        uow = UnitOfWork(session, tables=tables, registry=registry, on_commit=lambda: woken.append("x"))
        await uow.commit()
        assert woken == []
        await service.open_entry(uow, "rent", 500)
        await uow.commit()

    assert woken == ["x"]
