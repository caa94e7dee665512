"""The audit service's directory of workers, built only from the staff service's events.

An audit names the worker whose case was audited and the team they were in at the time; the directory
holds who the worker is (id, external id, name), when they are in post and their dated terms (role,
team...), so that the team on the audit's date can be found. The staff service owns these facts; this is
a read model, replaced whole by each newer staff event (by ``version``). It is adapted from the caseload
service's directory.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Date, ForeignKey, Index, Integer, Numeric, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from steadfast_audit.db import Base
from steadfast_shared.codes import EmploymentType, Role
from steadfast_shared.dates import active_on
from steadfast_shared.db import code_enum


class DirectoryTerms(Base):
    __tablename__ = "directory_worker_terms"
    __table_args__ = (Index("ix_directory_worker_terms_team_from", "team", "effective_from"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    worker_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("directory_workers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    effective_from: Mapped[date] = mapped_column(Date, nullable=False)
    effective_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    role: Mapped[Role] = mapped_column(code_enum(Role), nullable=False)
    team: Mapped[str] = mapped_column(String(40), nullable=False)
    fte: Mapped[float] = mapped_column(Numeric(4, 3, asdecimal=False), nullable=False)
    employment_type: Mapped[EmploymentType] = mapped_column(code_enum(EmploymentType), nullable=False)

    def covers(self, day: date) -> bool:
        return active_on(self.effective_from, self.effective_to, day)


class DirectoryWorker(Base):
    __tablename__ = "directory_workers"

    #: The staff service's worker id.
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    display_name: Mapped[str] = mapped_column(String(200), nullable=False)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    asye_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    asye_end: Mapped[date | None] = mapped_column(Date, nullable=True)
    #: The staff service's version of the worker this row reflects.
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    terms: Mapped[list[DirectoryTerms]] = relationship(
        order_by=DirectoryTerms.effective_from, cascade="all, delete-orphan", lazy="raise"
    )

    def in_post_on(self, day: date) -> bool:
        return active_on(self.start_date, self.end_date, day)

    def terms_on(self, day: date) -> DirectoryTerms | None:
        return next((t for t in self.terms if t.covers(day)), None)
