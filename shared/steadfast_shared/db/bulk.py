"""Writing many rows at once: ``COPY`` on PostgreSQL, one prepared multi-row statement elsewhere.

For work that writes thousands of rows per transaction (a bulk import's batches, their outbox rows):
the per-row cost of the ORM's unit of work, or of one ``INSERT`` per row, is what such work would
otherwise spend its time on. Both helpers run in the session's own transaction, so what they write
commits or rolls back with everything else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import ARRAY, Table, bindparam, cast, func, insert, text, update
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

#: Rows per ``COPY``: bounds the memory of one call (the rows are encoded before they are sent).
COPY_ROWS = 5_000
_NOTHING = object()


def _processors(table: Table, columns: Sequence[str], dialect: Dialect) -> list[Callable[[Any], Any] | None]:
    """Each column's bind processing (what a statement would do to its values; None where it does
    nothing), remembering the last value it processed: a value repeated down a column (a batch's one
    timestamp, a code) is converted once."""

    def remembering(processor: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
        if processor is None:
            return None
        last: list[Any] = [_NOTHING, None]

        def process(value: Any) -> Any:
            if value is None:
                return None
            if value is not last[0]:
                last[0], last[1] = value, processor(value)
            return last[1]

        return process

    return [remembering(table.c[name].type._cached_bind_processor(dialect)) for name in columns]


def _records(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    processors: Sequence[Callable[[Any], Any] | None],
) -> list[tuple[Any, ...]]:
    """The rows as tuples of ``columns``, each value bind-processed where its column says so."""
    get = itemgetter(*columns) if len(columns) > 1 else (lambda row: (row[columns[0]],))
    processed = [(i, process) for i, process in enumerate(processors) if process is not None]
    if not processed:
        return [get(row) for row in rows]
    records = []
    for row in rows:
        values = list(get(row))
        for i, process in processed:
            values[i] = process(values[i])
        records.append(tuple(values))
    return records


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


async def driver_connection(session: AsyncSession) -> Any | None:
    """The asyncpg connection under ``session``'s, its transaction begun, for a statement whose rows are
    many plain values (a batch's lookup); None on another driver."""
    return await _asyncpg(await session.connection())


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
    # A foreign key is checked by a trigger per row, through a cached plan (a primary key lookup). The
    # sessions' ``plan_cache_mode=force_custom_plan`` (see ``steadfast_shared.db.engine``) would plan it
    # again for every row, which doubles the cost of the COPY: let it keep its plan meanwhile.
    previous = None
    if table.foreign_keys:
        previous = await driver.fetchval(
            "SELECT current_setting('plan_cache_mode'), set_config('plan_cache_mode', 'auto', true)"
        )
    for start in range(0, len(rows), COPY_ROWS):
        records = _records(rows[start : start + COPY_ROWS], columns, processors)
        await driver.copy_records_to_table(
            table.name, records=records, columns=columns, schema_name=table.schema
        )
    if previous is not None and previous != "auto":
        await driver.execute("SELECT set_config('plan_cache_mode', $1, true)", previous)


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


#: Rows a :class:`FillingTables` lets a transaction write before it first looks at the statistics.
STATISTICS_FIRST = 2_000


class FillingTables:
    """Keeps PostgreSQL's statistics of tables that one long transaction fills (a bulk import) in step
    with what it wrote, so that the planner's picture of them is not "empty" while they fill.

    Without statistics (a fresh database, or a table that has grown many times over since its last
    ``ANALYZE``) a batch's lookup ``child_id = ANY(...)`` of 500 keys is estimated to match nearly every
    row, and planned as a sequential scan: each batch reads the whole table again, so an import's time
    grows with the square of its file. :meth:`wrote` is told how many rows the transaction wrote; once
    they pass a mark (2,000 rows, then each time four times as many) it reads the tables' row counts as
    the planner knows them (``pg_class.reltuples``), and analyses each table that knows of fewer rows
    than half of those written. ``ANALYZE`` inside the transaction counts the rows it has inserted (not
    yet committed), and its statistics commit or roll back with it.

    ``ANALYZE`` holds its lock (``SHARE UPDATE EXCLUSIVE``: it blocks no read or write, only another
    ``ANALYZE`` or ``VACUUM`` of the table) to the end of the transaction, so it is taken ``NOWAIT`` in a
    savepoint: when another transaction holds it (an import running beside this one), this one carries on
    without. Elsewhere than PostgreSQL it does nothing.
    """

    def __init__(self, *tables: Table, first: int = STATISTICS_FIRST) -> None:
        self.tables = tables
        self.written = 0
        self._mark = first
        #: Each ANALYZE run, as (table name, rows written so far): for tests and benchmarks.
        self.analysed: list[tuple[str, int]] = []

    async def wrote(self, session: AsyncSession, rows: int) -> None:
        self.written += rows
        if self.written < self._mark:
            return
        self._mark = self.written * 4
        connection = await session.connection()
        if connection.dialect.name != "postgresql":
            return
        quoted = [connection.dialect.identifier_preparer.format_table(table) for table in self.tables]
        known = (
            (
                await session.execute(
                    text(
                        "SELECT (SELECT c.reltuples FROM pg_class c WHERE c.oid = to_regclass(n)) "
                        "FROM unnest(CAST(:names AS text[])) WITH ORDINALITY AS t (n, i) ORDER BY i"
                    ),
                    {"names": quoted},
                )
            )
            .scalars()
            .all()
        )
        for table, name, reltuples in zip(self.tables, quoted, known, strict=True):
            if reltuples is not None and reltuples >= self.written / 2:
                continue
            try:
                async with session.begin_nested():
                    await session.execute(text(f"LOCK TABLE {name} IN SHARE UPDATE EXCLUSIVE MODE NOWAIT"))
                    await session.execute(text(f"ANALYZE {name}"))
            except DBAPIError:
                continue  # another transaction is analysing it: carry on with the statistics there are
            self.analysed.append((table.name, self.written))
