"""KPI snapshots: every KPI for the council and each team, as of the day a snapshot was taken.

A snapshot is taken on a schedule (weekly by default) or on demand; taking one again for the same day
replaces that day's values (one row per day, team and KPI), so a retried or doubled schedule run leaves
one snapshot. The forecast is fitted to these rows.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from steadfast_metrics.db import Base
from steadfast_shared.db import utcnow
from steadfast_shared.db.types import BigIntPK, UtcDateTime

#: The ``team`` of a council-wide snapshot row (a real team code is never empty).
COUNCIL = ""


class KpiSnapshot(Base):
    __tablename__ = "kpi_snapshots"
    __table_args__ = (UniqueConstraint("as_of", "team", "kpi_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    as_of: Mapped[date] = mapped_column(Date, nullable=False)
    team: Mapped[str] = mapped_column(String(40), nullable=False)
    kpi_id: Mapped[str] = mapped_column(String(64), nullable=False)
    value: Mapped[float | None] = mapped_column(Float)
    numerator: Mapped[float | None] = mapped_column(Float)
    denominator: Mapped[float | None] = mapped_column(Float)
    target: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    breakdown: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    strategy_version: Mapped[int] = mapped_column(Integer, nullable=False)
    #: ``schedule`` or ``on_demand``.
    trigger: Mapped[str] = mapped_column(String(16), nullable=False)
    taken_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False)
