"""Writing many rows at once: ``COPY`` on PostgreSQL, one prepared multi-row statement elsewhere.

For work that writes thousands of rows per transaction (a bulk import's batches, their outbox rows):
the per-row cost of the ORM's unit of work, or of one ``INSERT`` per row, is what such work would
otherwise spend its time on. Both helpers run in the session's own transaction, so what they write
commits or rolls back with everything else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import ARRAY, Table, bindparam, cast, func, insert, update
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

#: Rows per ``COPY``: bounds the memory of one call (the rows are encoded before they are sent).
COPY_ROWS = 5_000
_NOTHING = object()


def _processors(table: Table, columns: Sequence[str], dialect: Dialect) -> list[Callable[[Any], Any]]:
    """Each column's bind processing (what a statement would do to its values), remembering the last
    value it processed: a value repeated down a column (a batch's one timestamp) is converted once."""

    def remembering(processor: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
        if processor is None:
            return lambda value: value
        last: list[Any] = [_NOTHING, None]

        def process(value: Any) -> Any:
            if value is None:
                return None
            if value is not last[0]:
                last[0], last[1] = value, processor(value)
            return last[1]

        return process

    return [remembering(table.c[name].type._cached_bind_processor(dialect)) for name in columns]


async def _asyncpg(connection: AsyncConnection) -> Any | None:
    """The asyncpg connection under ``connection`` with its transaction begun; None on another driver."""
    if connection.dialect.name != "postgresql" or connection.dialect.driver != "asyncpg":
        return None
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    if not driver.is_in_transaction():
        # SQLAlchemy's asyncpg adapter opens the transaction on its first statement: make sure it has,
        # or what is sent straight to the driver would commit on its own.
        await connection.exec_driver_sql("SELECT 1")
    return driver


async def insert_rows(session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (dicts naming the same columns; columns left out take their defaults) in order.

    On PostgreSQL through ``COPY ... FROM STDIN`` (binary), each value first passed through its column
    type's bind processing, as a statement would pass it; ids drawn from a sequence are drawn in row
    order. Elsewhere one ``INSERT`` executed for all the rows.
    """
    if not rows:
        return
    connection = await session.connection()
    driver = await _asyncpg(connection)
    if driver is None:
        await session.execute(insert(table), list(rows))
        return
    columns = list(rows[0].keys())
    processors = _processors(table, columns, connection.dialect)
    for start in range(0, len(rows), COPY_ROWS):
        records = [
            tuple(process(row[name]) for process, name in zip(processors, columns, strict=True))
            for row in rows[start : start + COPY_ROWS]
        ]
        await driver.copy_records_to_table(
            table.name, records=records, columns=columns, schema_name=table.schema
        )


async def update_rows(
    session: AsyncSession, table: Table, key: str, rows: Sequence[Mapping[str, Any]]
) -> None:
    """``UPDATE table SET <the other columns> WHERE <key> = ...`` for each row (dicts naming the same
    columns). On PostgreSQL one statement joining the table to the rows as arrays (``unnest``);
    elsewhere one ``UPDATE`` executed for all the rows."""
    if not rows:
        return
    columns = list(rows[0].keys())
    names = [name for name in columns if name != key]
    connection = await session.connection()
    driver = await _asyncpg(connection)
    if driver is None:
        statement = (
            update(table)
            .where(table.c[key] == bindparam(f"b_{key}"))
            .values({name: bindparam(f"b_{name}") for name in names})
        )
        await session.execute(statement, [{f"b_{name}": row[name] for name in columns} for row in rows])
        return
    arrays = [cast(bindparam(f"b_{name}"), ARRAY(table.c[name].type)) for name in columns]
    given = func.unnest(*arrays).table_valued(*columns).render_derived(name="rows")
    statement = (
        update(table)
        .values({name: given.c[name] for name in names})
        .where(table.c[key] == given.c[key])
        .execution_options(synchronize_session=False)
    )
    await session.execute(statement, {f"b_{name}": [row[name] for row in rows] for name in columns})
