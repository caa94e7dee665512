from __future__ import annotations

import datetime as dt
from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from steadfast_metrics.freshness.schemas import Freshness
from steadfast_metrics.kpis.catalogue import Judged
from steadfast_metrics.kpis.status import Status, Trend
from steadfast_metrics.strategy.document import Direction


class TargetRead(BaseModel):
    """The milestone that applies on ``as_of``."""

    value: float
    date: dt.date = Field(description="the milestone's date: the value is to be reached by then")
    direction: Direction
    tolerance_pct: float = Field(description="the near band, as a % of the target value")


class KpiAnswer(BaseModel):
    id: str
    title: str
    unit: str
    judged: Judged
    value: float | None = Field(description="null when no record is eligible (status no_data)")
    numerator: float | None
    denominator: float | None
    target: TargetRead | None
    status: Status | None = Field(
        description="met, near, not_met or no_data; null for a value with no target to judge it against"
    )
    trend: Trend | None = Field(
        default=None, description="survey KPIs: the change of the mean against the previous window"
    )
    breakdown: dict[str, Any] = Field(default_factory=dict)


class KpiReport(BaseModel):
    as_of: date
    team: str | None = Field(description="null: the whole council")
    council: str
    strategy_version: int
    window_days: int
    freshness: Freshness
    kpis: list[KpiAnswer]


class KpiReading(KpiAnswer):
    """One KPI, with what the answer was computed from."""

    as_of: date
    team: str | None
    council: str
    strategy_version: int
    window_days: int
    freshness: Freshness
