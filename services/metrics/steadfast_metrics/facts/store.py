"""Applies a batch's row changes (:class:`~steadfast_metrics.facts.mapping.Changes`) to the projection
tables with a few set-wise statements, the same on PostgreSQL and SQLite.

Per table one upsert of every record's newest row, ``INSERT ... ON CONFLICT (id) DO UPDATE ... WHERE
held.version < new.version RETURNING id``: the rows returned are the records written, whose owned rows
(a worker's terms, a post's holdings) are then replaced with one delete and one insert. On PostgreSQL
the rows travel as one array per column (``INSERT ... SELECT * FROM unnest(...)``), so a table's
statement is the same text for any batch and is prepared once per connection; on SQLite SQLAlchemy sends
multi-row ``VALUES`` pages. The row lock the upsert takes keeps two consumers of one
record from interleaving (they do not: a record's events share a partition). Then the revision is
moved on by the number of records written, and each stream's source row is moved on, one upsert each.
The caller's transaction holds it all; nothing here commits.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ColumnElement,
    Float,
    Table,
    TextClause,
    Uuid,
    any_,
    bindparam,
    delete,
    func,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from steadfast_metrics.db import Base
from steadfast_metrics.facts.mapping import Changes, Owned, Upsert
from steadfast_metrics.facts.models import ProjectionRevision, ProjectionSource
from steadfast_shared.db import utcnow

#: Ids per ``IN (...)`` list on SQLite (it caps the parameters of one statement).
_CHUNK = 500


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _sql_type(column: Column[Any]) -> str:
    return str(column.type.compile(dialect=postgresql.dialect()))


@cache
def _unnested(table: Table, key: str | None, version: str | None) -> TextClause:
    """PostgreSQL: the insert of ``table``'s rows given as one array per column (its columns but an
    autoincremented key), as an upsert by ``key`` guarded by ``version`` returning the keys written
    when ``key`` is given."""
    columns = [c for c in table.columns if not (c.primary_key and c.autoincrement is True)]
    names = ", ".join(f'"{c.name}"' for c in columns)
    arrays = ", ".join(f"CAST(:{c.name} AS {_sql_type(c)}[])" for c in columns)
    # Names from the table's own metadata, values only as parameters.
    sql = f'INSERT INTO "{table.name}" ({names}) SELECT * FROM unnest({arrays})'  # noqa: S608
    if key is not None and version is not None:
        updates = ", ".join(f'"{c.name}" = EXCLUDED."{c.name}"' for c in columns if c.name != key)
        sql += (
            f' ON CONFLICT ("{key}") DO UPDATE SET {updates}'
            f' WHERE "{table.name}"."{version}" < EXCLUDED."{version}" RETURNING "{key}"'
        )
    return text(sql)


def _arrays(table: Table, rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """The rows as one list per column, in the types asyncpg sends as those of the column's array."""
    arrays: dict[str, list[Any]] = {}
    for column in table.columns:
        if column.primary_key and column.autoincrement is True:
            continue
        values = [row[column.name] for row in rows]
        if isinstance(column.type, JSON):
            values = [None if v is None else json.dumps(v) for v in values]
        elif isinstance(column.type, Float):
            values = [None if v is None else float(v) for v in values]
        arrays[column.name] = values
    return arrays


class ProjectionStore:
    """The projection tables of one session's transaction, written a batch at a time."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._dialect = session.get_bind().dialect.name
        self._insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
        self._greatest = func.greatest if self._dialect == "postgresql" else func.max

    async def apply(self, changes: Changes) -> int:
        """Write ``changes``; returns how many records were written (0: the projections are unchanged
        and the revision did not move)."""
        written = 0
        for records in changes.upserts.values():
            written += await self._upsert_all(list(records.values()))
        if written:
            await self._move_revision(written)
        if changes.streams:
            await self._follow_streams(changes)
        return written

    async def _upsert_all(self, upserts: Sequence[Upsert]) -> int:
        first = upserts[0]
        table = _table(first.model)
        key = table.c[first.key.key]
        version = table.c[first.version.key]
        rows = [u.values for u in upserts]
        if self._dialect == "postgresql":
            statement: Any = _unnested(table, key.name, version.name)
            answer = await self._session.execute(statement, _arrays(table, rows))
        else:
            insert = self._insert(table)
            excluded = insert.excluded
            statement = insert.on_conflict_do_update(
                index_elements=[key],
                set_={c.name: excluded[c.name] for c in table.columns if c.name != key.name},
                where=version < excluded[version.name],
            ).returning(key)
            answer = await self._session.execute(statement, rows)
        written = set(answer.scalars())
        owned = [u.owned for u in upserts if u.owned is not None and u.record_id in written]
        if owned:
            await self._replace_owned(owned, [u.record_id for u in upserts if u.record_id in written])
        return len(written)

    async def _replace_owned(self, owned: Sequence[Owned], parents: Sequence[uuid.UUID]) -> None:
        model, parent = owned[0].model, owned[0].parent
        for among in self._among(parent, parents):
            await self._session.execute(delete(model).where(among))
        rows = [row for o in owned for row in o.rows]
        if not rows:
            return
        table = _table(model)
        if self._dialect == "postgresql":
            await self._session.execute(_unnested(table, None, None), _arrays(table, rows))
        else:
            await self._session.execute(self._insert(table), rows)

    def _among(self, column: Any, ids: Sequence[uuid.UUID]) -> Iterator[ColumnElement[bool]]:
        """``column`` is one of ``ids``, as few conditions as the database allows: on PostgreSQL one
        array parameter (``= ANY``), on SQLite ``IN`` lists of at most ``_CHUNK`` ids."""
        if self._dialect == "postgresql":
            yield column == any_(bindparam("ids", list(ids), type_=postgresql.ARRAY(Uuid)))
            return
        for first in range(0, len(ids), _CHUNK):
            yield column.in_(ids[first : first + _CHUNK])

    async def _move_revision(self, by: int) -> None:
        table = _table(ProjectionRevision)
        statement = self._insert(table).values(id=1, revision=by)
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=[table.c.id], set_={"revision": table.c.revision + statement.excluded.revision}
            )
        )

    async def _follow_streams(self, changes: Changes) -> None:
        table = _table(ProjectionSource)
        statement = self._insert(table)
        excluded = statement.excluded
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.topic],
            set_={
                "newest_event_time": self._greatest(table.c.newest_event_time, excluded.newest_event_time),
                "events_applied": table.c.events_applied + excluded.events_applied,
                "last_applied_at": excluded.last_applied_at,
            },
        )
        now = utcnow()
        await self._session.execute(
            statement,
            [
                {
                    "topic": topic,
                    "newest_event_time": progress.newest_event_time,
                    "events_applied": progress.events,
                    "last_applied_at": now,
                }
                for topic, progress in sorted(changes.streams.items())
            ],
        )
