"""The strategy versions the caseload service has heard of from the metrics service's events: the rows
are copies of published versions, never changed (a change is a higher version)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from steadfast_caseload.db import Base
from steadfast_shared.db.types import BigIntPK, UtcDateTime


class StrategyVersion(Base):
    __tablename__ = "strategy_versions"
    __table_args__ = (UniqueConstraint("council", "version"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    council: Mapped[str] = mapped_column(String(64), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    document: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    #: When the metrics service stored the version.
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
