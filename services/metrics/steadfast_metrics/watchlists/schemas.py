from __future__ import annotations

import uuid
from datetime import date
from typing import Generic, TypeVar

from pydantic import BaseModel, Field

from steadfast_metrics.freshness.schemas import Freshness
from steadfast_shared.codes import EpisodeType

T = TypeVar("T")


class WorkerOverLimitRead(BaseModel):
    worker_id: uuid.UUID
    external_id: str
    display_name: str
    team: str
    caseload: int
    capacity: float
    limit: int
    over_by: int


class NqswOverProtectedCaseloadRead(BaseModel):
    worker_id: uuid.UUID
    external_id: str
    display_name: str
    team: str
    caseload: int
    protected_caseload: int
    over_by: int


class ChildWithOverdueVisitRead(BaseModel):
    child_id: uuid.UUID
    child_external_id: str | None
    episode_type: EpisodeType
    reference_date: date
    due_date: date
    days_overdue: int


class ChildWithManyWorkersRead(BaseModel):
    child_id: uuid.UUID
    child_external_id: str | None
    workers: int
    run_start: date


class RegistrationExpiringRead(BaseModel):
    worker_id: uuid.UUID
    external_id: str
    display_name: str
    team: str
    expiry: date
    days_left: int = Field(description="negative: expired already")


class WatchListSummary(BaseModel):
    name: str
    title: str
    count: int


class WatchListIndex(BaseModel):
    as_of: date
    team: str | None
    lists: list[WatchListSummary]
    freshness: Freshness


class WatchListPage(BaseModel, Generic[T]):
    name: str
    title: str
    as_of: date
    team: str | None
    total: int
    items: list[T]
    next_cursor: str | None = Field(default=None, description="pass as ?cursor= for the next page")
    freshness: Freshness
