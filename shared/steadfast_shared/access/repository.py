"""Every query on the access log: appending rows, the auditor's pages and the retention purge."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from steadfast_shared.access.schemas import AccessLogEntry, AccessLogFilters
from steadfast_shared.http.pagination import Page, PageParams, paginate

#: The PostgreSQL setting the purge sets for its own transaction; the append-only trigger lets a delete
#: through only for rows read before it (see ``steadfast_shared.access.migration``).
PURGE_BEFORE_SETTING = "steadfast.access_log_purge_before"


class AccessLogRepository:
    """The access log table of one service's database. Rows are appended, read and purged, never
    changed."""

    def __init__(self, session: AsyncSession, table: Table) -> None:
        self.session = session
        self.table = table

    async def append(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert rows in the session's transaction (they commit, or roll back, with the request)."""
        if rows:
            await self.session.execute(insert(self.table), list(rows))

    async def page(self, params: PageParams, filters: AccessLogFilters) -> Page[AccessLogEntry]:
        """Oldest first, by id (the order rows were written in)."""
        t = self.table
        query = select(t.c.id)
        if filters.child is not None:
            query = query.where(t.c.child == filters.child)
        if filters.who is not None:
            query = query.where(t.c.who == filters.who)
        if filters.read_from is not None:
            query = query.where(t.c.read_at >= filters.read_from)
        if filters.read_before is not None:
            query = query.where(t.c.read_at < filters.read_before)
        ids = await paginate(
            self.session, query, key_columns=[t.c.id], key_of=lambda i: [i], params=params, to_item=int
        )
        rows = (await self.session.execute(select(t).where(t.c.id.in_(ids.items)).order_by(t.c.id))).all()
        return Page[AccessLogEntry](items=[AccessLogEntry.of(r) for r in rows], next_cursor=ids.next_cursor)

    async def purge_before(self, cutoff: datetime) -> int:
        """Delete the rows read before ``cutoff``; answers how many. The only delete the log allows."""
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(
                text("SELECT set_config(:name, :cutoff, true)"),
                {"name": PURGE_BEFORE_SETTING, "cutoff": cutoff.isoformat()},
            )
        result = await self.session.execute(delete(self.table).where(self.table.c.read_at < cutoff))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
