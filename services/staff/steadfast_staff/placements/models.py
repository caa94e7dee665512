"""The student placement aggregate: a social work student's professional placement with the council.

A degree student takes two placements, on average a year apart (``first``, ``second``); the council
records each with the student's university and the team that hosts it, and whether the student was
hired afterwards (and, once recorded as a worker, which worker). ``students_per_year`` counts the
placements whose start date falls in the financial year.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from steadfast_shared.db import code_enum, utcnow
from steadfast_shared.db.types import UtcDateTime
from steadfast_shared.domain import Aggregate
from steadfast_shared.errors import ValidationFailed
from steadfast_staff.db import Base
from steadfast_staff.enums import Placement
from steadfast_staff.events import (
    StudentPlacementData,
    StudentPlacementRecorded,
    StudentPlacementRemoved,
    StudentPlacementUpdated,
)
from steadfast_staff.teams.models import Team

#: The fields :meth:`StudentPlacement.update` may change (everything but the external_id).
DETAIL_FIELDS = (
    "student_worker_id",
    "university",
    "placement",
    "team",
    "start_date",
    "end_date",
    "hired_afterwards",
    "hired_worker_id",
)


class StudentPlacement(Aggregate, Base):
    __tablename__ = "student_placements"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    external_id: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    student_worker_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("workers.id"), nullable=True, index=True
    )
    university: Mapped[str] = mapped_column(String(200), nullable=False)
    placement: Mapped[Placement] = mapped_column(code_enum(Placement), nullable=False)
    team_code: Mapped[str] = mapped_column(ForeignKey("teams.code"), nullable=False, index=True)
    start_date: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    hired_afterwards: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    hired_worker_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("workers.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False)

    #: Never read: it tells the flush that a team set up in the same transaction is inserted first.
    team: Mapped[Team] = relationship(lazy="raise")

    @classmethod
    def record_placement(
        cls,
        *,
        external_id: str,
        university: str,
        placement: Placement,
        team: str,
        start_date: date,
        end_date: date | None = None,
        student_worker_id: uuid.UUID | None = None,
        hired_afterwards: bool | None = None,
        hired_worker_id: uuid.UUID | None = None,
    ) -> StudentPlacement:
        """A new placement; ``hired_afterwards`` defaults to whether a hired worker is named."""
        if hired_afterwards is None:
            hired_afterwards = hired_worker_id is not None
        now = utcnow()
        recorded = cls(
            id=uuid.uuid4(),
            external_id=external_id,
            student_worker_id=student_worker_id,
            university=university,
            placement=placement,
            team_code=team,
            start_date=start_date,
            end_date=end_date,
            hired_afterwards=hired_afterwards,
            hired_worker_id=hired_worker_id,
            version=1,
            created_at=now,
            updated_at=now,
        )
        recorded._check()
        recorded.record(StudentPlacementRecorded(str(recorded.id), recorded.snapshot(changed=["recorded"])))
        return recorded

    def active_on(self, day: date) -> bool:
        return self.start_date <= day and (self.end_date is None or day < self.end_date)

    def update(self, **changes: Any) -> list[str]:
        """Change the placement's details; returns the fields that changed (none: no event).

        Naming the worker the student was hired as implies ``hired_afterwards``.
        """
        unknown = set(changes) - set(DETAIL_FIELDS)
        if unknown:
            raise TypeError(f"not placement details: {sorted(unknown)}")
        if changes.get("hired_worker_id") is not None and "hired_afterwards" not in changes:
            changes["hired_afterwards"] = True
        before = self._details()
        desired = {**before, **changes}
        if desired == before:
            return []
        self.student_worker_id = desired["student_worker_id"]
        self.university = desired["university"]
        self.placement = desired["placement"]
        self.team_code = desired["team"]
        self.start_date = desired["start_date"]
        self.end_date = desired["end_date"]
        self.hired_afterwards = desired["hired_afterwards"]
        self.hired_worker_id = desired["hired_worker_id"]
        changed = [k for k, v in self._details().items() if before[k] != v]
        self._check()
        self._changed()
        self.record(StudentPlacementUpdated(str(self.id), self.snapshot(changed=changed)))
        return changed

    def remove(self) -> None:
        """Withdraw a placement recorded in error; the caller deletes the row."""
        self._changed()
        self.record(StudentPlacementRemoved(str(self.id), self.snapshot(changed=["removed"])))

    def _details(self) -> dict[str, Any]:
        return {
            "student_worker_id": self.student_worker_id,
            "university": self.university,
            "placement": self.placement,
            "team": self.team_code,
            "start_date": self.start_date,
            "end_date": self.end_date,
            "hired_afterwards": self.hired_afterwards,
            "hired_worker_id": self.hired_worker_id,
        }

    def _check(self) -> None:
        if self.end_date is not None and self.end_date <= self.start_date:
            raise ValidationFailed.field(
                "end_date", "not_after_start_date", "a placement must end after it starts"
            )
        if self.hired_worker_id is not None and not self.hired_afterwards:
            raise ValidationFailed.field(
                "hired_worker",
                "not_hired",
                "a hired worker is named but hired_afterwards is false",
            )
        if not self.university.strip():
            raise ValidationFailed.field("university", "blank", "the university is required")

    def _changed(self) -> None:
        self.touch()
        self.updated_at = utcnow()

    def snapshot(self, changed: list[str] | None = None) -> StudentPlacementData:
        return StudentPlacementData(
            id=self.id,
            external_id=self.external_id,
            version=self.version,
            student_worker_id=self.student_worker_id,
            university=self.university,
            placement=self.placement,
            team=self.team_code,
            start_date=self.start_date,
            end_date=self.end_date,
            hired_afterwards=self.hired_afterwards,
            hired_worker_id=self.hired_worker_id,
            changed=changed or [],
        )
