from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from steadfast_shared.db import utcnow
from steadfast_shared.db.types import UtcDateTime
from steadfast_shared.domain import Aggregate
from steadfast_staff.db import Base
from steadfast_staff.events import TeamCreated, TeamData, TeamRenamed


class Team(Aggregate, Base):
    """A team, identified by the short code the council chose (``ACIN1``, ``PC3``)."""

    __tablename__ = "teams"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False)

    @classmethod
    def set_up(cls, code: str, name: str | None = None) -> Team:
        team = cls(code=code, name=name or code, version=1, created_at=utcnow())
        team.record(TeamCreated(team.code, team.snapshot()))
        return team

    def rename(self, name: str) -> bool:
        if name == self.name:
            return False
        self.name = name
        self.touch()
        self.record(TeamRenamed(self.code, self.snapshot()))
        return True

    def snapshot(self) -> TeamData:
        return TeamData(code=self.code, name=self.name, version=self.version)
