"""A continuing professional development (CPD) entry, as Social Work England expects social workers to
record them: what was learnt, when, and whether it was reflected on with a peer."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from steadfast_shared.db import utcnow
from steadfast_shared.db.types import UtcDateTime
from steadfast_shared.domain import Aggregate
from steadfast_staff.db import Base
from steadfast_staff.events import CpdEntryData, CpdEntryRecorded
from steadfast_staff.registrations.year import registration_year_of

DESCRIPTION_LENGTH = 2000


class CpdEntry(Aggregate, Base):
    __tablename__ = "cpd_entries"
    __table_args__ = (Index("ix_cpd_entries_worker_date", "worker_id", "entry_date"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    worker_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workers.id", ondelete="CASCADE"), nullable=False)
    entry_date: Mapped[date] = mapped_column(Date, nullable=False)
    description: Mapped[str] = mapped_column(String(DESCRIPTION_LENGTH), nullable=False)
    peer_reflection: Mapped[bool] = mapped_column(Boolean, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False)

    @classmethod
    def record_entry(
        cls, *, worker_id: uuid.UUID, entry_date: date, description: str, peer_reflection: bool
    ) -> CpdEntry:
        entry = cls(
            id=uuid.uuid4(),
            worker_id=worker_id,
            entry_date=entry_date,
            description=description,
            peer_reflection=peer_reflection,
            version=1,
            created_at=utcnow(),
        )
        entry.record(CpdEntryRecorded(str(entry.id), entry.snapshot()))
        return entry

    @property
    def registration_year(self) -> int:
        return registration_year_of(self.entry_date)

    def snapshot(self) -> CpdEntryData:
        return CpdEntryData(
            id=self.id,
            worker_id=self.worker_id,
            version=self.version,
            entry_date=self.entry_date,
            peer_reflection=self.peer_reflection,
            registration_year=self.registration_year,
        )
