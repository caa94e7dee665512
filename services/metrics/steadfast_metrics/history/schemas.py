from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from steadfast_metrics.kpis.status import Status
from steadfast_shared.schemas import Timestamp


class HistoryPoint(BaseModel):
    as_of: date
    value: float | None
    numerator: float | None
    denominator: float | None
    target: float | None
    status: Status | None
    strategy_version: int
    trigger: str = Field(description="schedule or on_demand")


class ForecastRead(BaseModel):
    target_date: date
    target_value: float
    value: float | None = Field(description="the value the recent trend reaches by the target's date")
    on_track: bool | None = Field(description="whether that value meets the target; null: no forecast")
    points_used: int
    slope_per_30_days: float | None


class KpiHistory(BaseModel):
    id: str
    team: str | None
    points: list[HistoryPoint]
    forecast: ForecastRead | None = Field(description="null for a KPI without a target date")


class SnapshotTaken(BaseModel):
    as_of: date
    teams: list[str] = Field(description="the teams snapshotted beside the whole council")
    rows: int
    taken_at: Timestamp
