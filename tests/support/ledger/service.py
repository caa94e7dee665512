"""The ledger's business operations. They only ``flush()``: the caller's unit of work commits."""

from __future__ import annotations

from sqlalchemy import select

from steadfast_shared.errors import NotFound
from steadfast_shared.uow import UnitOfWork
from tests.support.ledger.models import Entry


async def open_entry(uow: UnitOfWork, key: str, amount: int, *, entry_id: str | None = None) -> Entry:
    entry = Entry.open(key, amount, entry_id=entry_id)
    uow.session.add(entry)
    await uow.session.flush()
    return entry


async def get_entry(uow: UnitOfWork, entry_id: str, *, for_update: bool = False) -> Entry:
    query = select(Entry).where(Entry.id == entry_id)
    if for_update:
        query = query.with_for_update()
    entry = await uow.session.scalar(query)
    if entry is None:
        raise NotFound(f"no entry {entry_id!r}")
    return entry


async def adjust_entry(uow: UnitOfWork, entry_id: str, delta: int) -> Entry:
    """Lock the entry's row first, so concurrent adjustments queue and versions never repeat."""
    entry = await get_entry(uow, entry_id, for_update=True)
    entry.adjust(delta)
    await uow.session.flush()
    return entry
