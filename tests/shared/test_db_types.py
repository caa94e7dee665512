"""``UtcDateTime``: timestamps come back timezone-aware on SQLite as on PostgreSQL (hardening, defect 7).

SQLite keeps no offset, so ``created_at`` of a child or a strategy version was rendered without one,
breaking the responses' own ``date-time`` schema.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, Table, insert, select

from steadfast_shared.db.engine import create_database
from steadfast_shared.db.types import UtcDateTime

metadata = MetaData()
stamps = Table("stamps", metadata, Column("id", Integer, primary_key=True), Column("at", UtcDateTime()))


async def test_sqlite_reads_back_an_aware_utc_timestamp(tmp_path: Path) -> None:
    database = create_database(f"sqlite+aiosqlite:///{tmp_path / 'types.db'}")
    try:
        async with database.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
            london_summer = datetime(2015, 7, 1, 9, 30, tzinfo=timezone(timedelta(hours=1)))
            await conn.execute(insert(stamps).values(id=1, at=london_summer))
            await conn.execute(insert(stamps).values(id=2, at=None))
        async with database.engine.connect() as conn:
            rows = dict((await conn.execute(select(stamps.c.id, stamps.c.at))).tuples().all())
        assert rows[1] == datetime(2015, 7, 1, 8, 30, tzinfo=UTC)
        assert rows[1].utcoffset() == timedelta(0)
        assert rows[2] is None
    finally:
        await database.dispose()
