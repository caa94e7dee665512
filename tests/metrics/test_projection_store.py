"""The projection store (``facts/store.py``) on both databases: a council's history, interleaved, with
every event delivered twice and old events redelivered after newer ones, applied in batches of several
sizes (one transaction each), leaves each projection table holding exactly each record's newest row as
the pure mapping reads it from the whole history, the owned rows of that newest version, the sources
counting every delivery, and a revision that moved; a batch of nothing new writes nothing and leaves
the revision where it was."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, select

from steadfast_metrics.bootstrap import definition
from steadfast_metrics.db import Base
from steadfast_metrics.facts.consumer import GROUP
from steadfast_metrics.facts.mapping import Changes, changes_of
from steadfast_metrics.facts.projector import READ_AHEAD, apply_event, apply_events
from steadfast_metrics.facts.repository import FactsRepository
from steadfast_shared.batch import BatchApplier, Delivered
from steadfast_shared.db import Database, create_database
from steadfast_shared.events import CloudEvent
from steadfast_shared.uow import UnitOfWork
from tests.metrics.test_rebuild import council, interleaved
from tests.support.backends import BACKENDS, migrated_url


def _plain(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def _table(model: Any) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


async def _rows(session: Any, table: Table, columns: list[str]) -> list[tuple[Any, ...]]:
    found = await session.execute(select(*(table.c[c] for c in columns)))
    return sorted((tuple(_plain(v) for v in row) for row in found), key=repr)


async def _fresh_database(
    backend: str, make_database: Callable[..., Awaitable[str]], sqlite_file: Path
) -> Database:
    """A metrics database migrated to head: a scratch PostgreSQL database, or ``sqlite_file``."""
    return create_database(await migrated_url(backend, definition, make_database, sqlite_file))


def _expected(changes: Changes) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    """Per table: its columns and the rows the whole history's newest upserts hold."""
    expected: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {}
    for model, records in changes.upserts.items():
        columns = sorted(next(iter(records.values())).values)
        rows = [tuple(_plain(u.values[c]) for c in columns) for u in records.values()]
        expected[_table(model).name] = (columns, sorted(rows, key=repr))
        owned = [u.owned for u in records.values() if u.owned is not None]
        if owned:
            owned_columns = sorted(owned[0].rows[0])
            owned_rows = [tuple(_plain(r[c]) for c in owned_columns) for o in owned for r in o.rows]
            expected[_table(owned[0].model).name] = (owned_columns, sorted(owned_rows, key=repr))
    return expected


@pytest.mark.parametrize("backend", BACKENDS)
async def test_batches_leave_each_records_newest_row_on_both_databases(
    backend: str, make_database: Callable[..., Awaitable[str]], tmp_path: Path
) -> None:
    history = interleaved(council(seed=11, children=15).events, random.Random(5))
    delivered: list[CloudEvent] = [e for e in history for _ in (1, 2)] + history[::5]
    expected = _expected(changes_of(history))
    assert {"fact_workers", "fact_worker_terms", "fact_allocations", "fact_audits"} <= set(expected)

    for batch_size in (1, 37, len(delivered)):
        database = await _fresh_database(backend, make_database, tmp_path / f"metrics-{batch_size}.db")
        try:
            for first in range(0, len(delivered), batch_size):
                async with database.sessionmaker() as session:
                    uow = UnitOfWork(session, tables=definition.tables, registry=definition.registry)
                    await apply_events(uow, delivered[first : first + batch_size])
                    await uow.commit()
            async with database.sessionmaker() as session:
                for name, (columns, rows) in expected.items():
                    table = Base.metadata.tables[name]
                    assert await _rows(session, table, columns) == rows, (batch_size, name)
                repository = FactsRepository(session)
                revision = await repository.revision()
                assert revision > 0
                sources = {s.topic: s.events_applied for s in await repository.sources()}
                assert sum(sources.values()) == len(delivered)

                # Nothing new: nothing written, the revision unmoved, the sources still counting.
                uow = UnitOfWork(session, tables=definition.tables, registry=definition.registry)
                assert await apply_events(uow, history[:10]) == 0
                await uow.commit()
                assert await repository.revision() == revision
                sources = {s.topic: s.events_applied for s in await repository.sources()}
                assert sum(sources.values()) == len(delivered) + 10
        finally:
            await database.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
async def test_batches_read_ahead_leave_what_the_batch_handler_leaves(
    backend: str, make_database: Callable[..., Awaitable[str]], tmp_path: Path
) -> None:
    """The live consumer's path: the tracking rows drop the copies, and each batch's payloads were read
    ahead from every event of it, copies included; the projections, the sources (counting each event
    once) and the revision are what the batch handler leaves."""
    history = interleaved(council(seed=13, children=12).events, random.Random(8))
    delivered = [e for e in history for _ in (1, 2)] + history[::4]
    expected = _expected(changes_of(history))
    database = await _fresh_database(backend, make_database, tmp_path / "metrics.db")
    applier = BatchApplier(
        name=GROUP,
        database=database,
        tables=definition.tables,
        registry=definition.registry,
        handler=apply_event,
        batch_handler=apply_events,
        read_ahead=READ_AHEAD,
    )
    try:
        offsets = iter(range(len(delivered)))
        for first in range(0, len(delivered), 41):
            batch = [Delivered(e, "t", 0, next(offsets)) for e in delivered[first : first + 41]]
            outcome = await applier.apply(batch, READ_AHEAD.prepare([d.event for d in batch]))
            assert outcome.whole
            assert not outcome.failed
        async with database.sessionmaker() as session:
            for name, (columns, rows) in expected.items():
                assert await _rows(session, Base.metadata.tables[name], columns) == rows, name
            repository = FactsRepository(session)
            assert await repository.revision() > 0
            sources = {s.topic: s.events_applied for s in await repository.sources()}
            assert sum(sources.values()) == len(history)
    finally:
        await database.dispose()
