"""The audit programme: how many audits are planned for a team in a month. Progress (how many were
done) is counted from the audits themselves, so it is never out of step with them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from steadfast_audit.db import Base
from steadfast_audit.events import ProgrammeData, ProgrammePlanned
from steadfast_shared.db import utcnow
from steadfast_shared.db.types import UtcDateTime
from steadfast_shared.domain import Aggregate
from steadfast_shared.errors import ValidationFailed


class PlannedAudits(Aggregate, Base):
    __tablename__ = "programme_plans"
    __table_args__ = (CheckConstraint("planned >= 0", name="planned_not_negative"),)

    team: Mapped[str] = mapped_column(String(40), primary_key=True)
    #: The first day of the month.
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    planned: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False)

    @classmethod
    def plan(cls, team: str, month: date, planned: int) -> PlannedAudits:
        _check(month, planned)
        plan = cls(team=team, month=month, planned=planned, version=1, updated_at=utcnow())
        plan.record(ProgrammePlanned(plan.key, plan.snapshot()))
        return plan

    def replan(self, planned: int) -> bool:
        _check(self.month, planned)
        if planned == self.planned:
            return False
        self.planned = planned
        self.updated_at = utcnow()
        self.touch()
        self.record(ProgrammePlanned(self.key, self.snapshot()))
        return True

    @property
    def key(self) -> str:
        return f"{self.team}/{self.month:%Y-%m}"

    def snapshot(self) -> ProgrammeData:
        return ProgrammeData(
            team=self.team, month=f"{self.month:%Y-%m}", planned=self.planned, version=self.version
        )


def _check(month: date, planned: int) -> None:
    if month.day != 1:
        raise ValidationFailed.field("month", "not_a_month", "a month is its first day")
    if planned < 0:
        raise ValidationFailed.field("planned", "negative", "planned audits cannot be negative")
