"""The directory's two tables as mixins, so each service declares them on its own metadata::

class DirectoryTerms(DirectoryTermsColumns, Base): ...
class DirectoryWorker(DirectoryWorkerColumns, Base): ...        # no names held
class DirectoryWorker(NamedDirectoryWorkerColumns, Base): ...   # answers name the workers

A service keeps the workers' names only when its answers show them (docs/security.md, "Personal data").
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, Numeric, String, Uuid
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from steadfast_shared.codes import CASE_HOLDING_ROLES, EmploymentType, Role
from steadfast_shared.dates import active_on
from steadfast_shared.db import code_enum


class DirectoryTermsColumns:
    """One dated segment of a worker's terms, ``[effective_from, effective_to)``."""

    __tablename__ = "directory_worker_terms"

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:  # noqa: N805 (a declared_attr receives the class)
        return (Index("ix_directory_worker_terms_team_from", "team", "effective_from"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)

    @declared_attr
    def worker_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(
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


class DirectoryWorkerColumns:
    """A worker as the staff service last described them (``version`` is the staff service's)."""

    __tablename__ = "directory_workers"

    #: The staff service's worker id.
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    asye_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    asye_end: Mapped[date | None] = mapped_column(Date, nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    @declared_attr
    def terms(cls) -> Mapped[list[Any]]:
        return relationship(
            "DirectoryTerms",
            order_by="DirectoryTerms.effective_from",
            cascade="all, delete-orphan",
            lazy="raise",
        )

    def in_post_on(self, day: date) -> bool:
        return active_on(self.start_date, self.end_date, day)

    def terms_on(self, day: date) -> Any:
        """The :class:`DirectoryTermsColumns` segment in force on ``day``, or None."""
        return next((t for t in self.terms if t.covers(day)), None)

    def is_nqsw_on(self, day: date) -> bool:
        """Qualified, in post and inside the ASYE period (``asye_start <= day < asye_end``)."""
        terms = self.terms_on(day)
        return (
            self.in_post_on(day)
            and terms is not None
            and terms.role.is_qualified
            and self.asye_start is not None
            and active_on(self.asye_start, self.asye_end, day)
        )

    def is_case_holding_on(self, day: date) -> bool:
        terms = self.terms_on(day)
        return self.in_post_on(day) and terms is not None and terms.role in CASE_HOLDING_ROLES


class NamedDirectoryWorkerColumns(DirectoryWorkerColumns):
    """A worker with the name their manager knows them by, for a service whose answers name workers."""

    display_name: Mapped[str] = mapped_column(String(200), nullable=False)
