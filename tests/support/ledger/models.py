"""The ledger's tables: the platform tables, one aggregate (``entries``) and a consumer's receipts."""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, Column, DateTime, String, Table
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from steadfast_shared.db import BigIntPK, PlatformTables, new_metadata
from steadfast_shared.domain import Aggregate
from tests.support.ledger.events import (
    EntryAdjusted,
    EntryAdjustedData,
    EntryOpened,
    EntryOpenedData,
)


class Base(DeclarativeBase):
    metadata = new_metadata()


tables = PlatformTables.define(Base.metadata)


class Entry(Aggregate, Base):
    __tablename__ = "entries"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)

    @classmethod
    def open(cls, key: str, amount: int, *, entry_id: str | None = None) -> Entry:
        entry = cls(id=entry_id or str(uuid.uuid4()), key=key, amount=amount, version=1)
        entry.record(
            EntryOpened(
                entry.id,
                EntryOpenedData(entry_id=entry.id, key=key, amount=amount, version=1),
            )
        )
        return entry

    def adjust(self, delta: int) -> None:
        self.amount += delta
        self.touch()
        self.record(
            EntryAdjusted(
                self.id,
                EntryAdjustedData(entry_id=self.id, delta=delta, amount=self.amount, version=self.version),
            )
        )


#: What the ledger's consumers saw: one row per handler run (no unique key, so a duplicate shows).
receipts = Table(
    "receipts",
    Base.metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column("consumer", String(100), nullable=False),
    Column("event_id", String(64), nullable=False, index=True),
    Column("event_type", String(200), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)
