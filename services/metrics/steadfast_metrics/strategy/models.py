"""Versions of a council's strategy document: each change is a new row, never an update, so the history
of the targets is kept and any KPI answer names the version it was judged against. Each version stored
is published in the same transaction (the outbox), so the caseload service applies the same rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from steadfast_metrics.db import Base
from steadfast_shared.db import utcnow
from steadfast_shared.db.types import BigIntPK, UtcDateTime
from steadfast_shared.domain import Aggregate


class StrategyVersion(Aggregate, Base):
    """One stored version; it records its own publication (``Aggregate.record``), never a change."""

    __tablename__ = "strategy_versions"
    __table_args__ = (UniqueConstraint("council", "version"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    council: Mapped[str] = mapped_column(String(64), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    document: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    changed_by: Mapped[str] = mapped_column(String(200), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False)
