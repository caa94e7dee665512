"""The bulk writers (``COPY`` / ``unnest`` on PostgreSQL, one executed statement on SQLite) and the
envelope writer the unit of work serialises the outbox with."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from asyncpg.exceptions import ForeignKeyViolationError  # type: ignore[import-untyped]
from pydantic import BaseModel
from sqlalchemy import Column, ForeignKey, Integer, MetaData, Table, func, select, text

from steadfast_shared.db import Database, create_database
from steadfast_shared.db.bulk import FillingTables, insert_rows, update_rows
from steadfast_shared.events.envelope import CloudEvent, EnvelopeWriter, new_event
from tests.support.backends import migrated_url
from tests.support.ledger.bootstrap import definition
from tests.support.ledger.models import tables

outbox = tables.outbox


@pytest_asyncio.fixture(loop_scope="session", params=["postgresql", "sqlite"])
async def db(
    request: pytest.FixtureRequest, make_database: Callable[..., Awaitable[str]], tmp_path: Path
) -> AsyncIterator[Database]:
    url = await migrated_url(request.param, definition, make_database, tmp_path / "ledger.db")
    database = create_database(url)
    try:
        yield database
    finally:
        await database.dispose()


def _row(n: int, now: datetime) -> dict[str, object]:
    return {
        "event_id": f"e-{n}",
        "topic": "steadfast.ledger",
        "message_key": f"k-{n % 3}",
        "event_type": "org.steadfast.ledger.entry.opened.v1",
        "payload": json.dumps({"n": n, "text": 'ünïcode, "quoted"\n'}),
        "created_at": now,
    }


async def test_rows_are_inserted_in_order_and_updated_by_key(db: Database) -> None:
    now = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    rows = [_row(n, now) for n in range(12_000)]  # more than one COPY's worth
    async with db.sessionmaker() as session:
        await insert_rows(session, outbox, rows)
        await update_rows(
            session,
            outbox,
            "event_id",
            [{"event_id": f"e-{n}", "attempts": n, "last_error": f"err {n}"} for n in range(0, 12_000, 7)],
        )
        await session.commit()
    async with db.sessionmaker() as session:
        found = (await session.execute(select(outbox).order_by(outbox.c.id))).all()
    assert [r.event_id for r in found] == [f"e-{n}" for n in range(12_000)]  # ids drawn in row order
    assert [json.loads(r.payload)["n"] for r in found] == list(range(12_000))
    assert found[5].payload == rows[5]["payload"]
    assert found[5].created_at == now
    assert {r.event_id: (r.attempts, r.last_error) for r in found if r.attempts} == {
        f"e-{n}": (n, f"err {n}") for n in range(7, 12_000, 7)
    }
    assert found[1].attempts == 0
    assert found[1].last_error is None


async def test_rows_written_then_rolled_back_leave_nothing(db: Database) -> None:
    async with db.sessionmaker() as session:
        await insert_rows(session, outbox, [_row(1, datetime.now(UTC))])  # the first statement
        await session.rollback()
    async with db.sessionmaker() as session:
        assert (await session.execute(select(outbox))).all() == []


class _Data(BaseModel):
    child_id: uuid.UUID
    name: str
    day: datetime | None
    missing: int | None = None


def test_the_envelope_writer_writes_what_a_cloud_event_would() -> None:
    time = datetime(2025, 3, 1, 9, 30, 0, 120, tzinfo=UTC)
    data = _Data(child_id=uuid.uuid4(), name='Zoë "x" \u2028', day=time)
    writer = EnvelopeWriter("/steadfast/ledger", time)
    for schema in ("urn:steadfast:event:x.v1", None):
        written = writer.write(
            event_id="id-1", type_="org.steadfast.x.v1", subject="s-1", data=data, dataschema=schema
        )
        event = new_event(
            source="/steadfast/ledger",
            type_="org.steadfast.x.v1",
            subject="s-1",
            data=data.model_dump(mode="json"),
            dataschema=schema,
        )
        expected = event.model_copy(update={"id": "id-1", "time": time}).to_json().decode()
        assert written == expected
        assert CloudEvent.from_json(written) == CloudEvent.from_json(expected)


async def test_statistics_of_a_filling_table_are_refreshed_in_its_transaction(db: Database) -> None:
    """PostgreSQL: once past the mark, a table whose statistics know of fewer rows than half of those
    written is analysed inside the transaction (its uncommitted rows counted); SQLite: nothing to do."""
    filling = FillingTables(outbox, first=1000)
    now = datetime.now(UTC)
    async with db.sessionmaker() as session:
        await insert_rows(session, outbox, [_row(n, now) for n in range(600)])
        await filling.wrote(session, 600)
        assert filling.analysed == []  # not yet at the mark
        await insert_rows(session, outbox, [_row(n, now) for n in range(600, 3000)])
        await filling.wrote(session, 2400)
        if db.dialect == "postgresql":
            assert filling.analysed == [("outbox", 3000)]
            known = await session.scalar(
                text("SELECT reltuples FROM pg_class WHERE oid = 'outbox'::regclass")
            )
            assert known == 3000
        else:
            assert filling.analysed == []
        await insert_rows(session, outbox, [_row(n, now) for n in range(3000, 4000)])
        await filling.wrote(session, 1000)  # below the next mark (4 x 3,000): no look at all
        assert len(filling.analysed) == (1 if db.dialect == "postgresql" else 0)
        await session.rollback()


async def test_a_copy_into_a_table_with_foreign_keys_leaves_the_sessions_plan_cache_mode(
    db: Database,
) -> None:
    metadata = MetaData()
    parent = Table("bulk_parent", metadata, Column("id", Integer, primary_key=True))
    child = Table(
        "bulk_child",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("parent_id", ForeignKey("bulk_parent.id"), nullable=False),
    )
    async with db.sessionmaker() as session:
        connection = await session.connection()
        await connection.run_sync(metadata.create_all)
        await insert_rows(session, parent, [{"id": n} for n in range(10)])
        await insert_rows(session, child, [{"id": n, "parent_id": n % 10} for n in range(100)])
        assert await session.scalar(select(func.count()).select_from(child)) == 100
        if db.dialect == "postgresql":
            assert await session.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"
            with pytest.raises(ForeignKeyViolationError):  # the foreign key is still checked
                await insert_rows(session, child, [{"id": 100, "parent_id": 99}])
        await session.rollback()
