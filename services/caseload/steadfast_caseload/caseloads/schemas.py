from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, Field

from steadfast_caseload.caseloads.models import CaseloadStats, WorkerCaseload
from steadfast_caseload.caseloads.repository import AllocatedChild
from steadfast_shared.codes import EmploymentType, Role


class CaseloadChild(BaseModel):
    child_id: uuid.UUID
    child_external_id: str
    allocation_id: uuid.UUID
    start_date: date
    end_date: date | None

    @classmethod
    def of(cls, row: AllocatedChild) -> CaseloadChild:
        return cls(
            child_id=row.child_id,
            child_external_id=row.child_external_id,
            allocation_id=row.allocation_id,
            start_date=row.start_date,
            end_date=row.end_date,
        )


class WorkerCaseloadRead(BaseModel):
    """A case-holding worker's caseload on ``as_of`` against their limit."""

    worker_id: uuid.UUID
    external_id: str
    display_name: str
    team: str
    role: Role
    employment_type: EmploymentType
    fte: float
    nqsw: bool
    caseload: int = Field(description="distinct children with an allocation active on as_of")
    capacity: float = Field(description="fte x role weight x NQSW factor")
    limit: int = Field(description="capacity x the caseload limit, rounded down")
    over_by: int = Field(description="how many children over the limit (0 when within it)")

    @classmethod
    def of(cls, assessed: WorkerCaseload) -> WorkerCaseloadRead:
        holder = assessed.holder
        return cls(
            worker_id=holder.worker_id,
            external_id=holder.external_id,
            display_name=holder.display_name,
            team=holder.team,
            role=holder.role,
            employment_type=holder.employment_type,
            fte=holder.fte,
            nqsw=holder.nqsw,
            caseload=holder.caseload,
            capacity=round(float(assessed.capacity), 4),
            limit=assessed.limit,
            over_by=assessed.over_by,
        )


class WorkerCaseloadAnswer(BaseModel):
    """One worker's caseload on ``as_of``; ``assessment`` is null unless they are case-holding then."""

    worker_id: uuid.UUID
    external_id: str
    display_name: str
    as_of: date
    in_post: bool
    team: str | None
    role: Role | None
    caseload: int
    children: list[CaseloadChild]
    assessment: WorkerCaseloadRead | None


class StatsRead(BaseModel):
    workers: int
    caseload_total: int = Field(description="sum of the workers' caseloads")
    capacity: float = Field(description="sum of the workers' capacities (full caseload equivalents)")
    average: float | None = Field(description="caseload_total ÷ capacity: children per full caseload")
    mean_per_head: float | None = Field(description="caseload_total ÷ workers, unweighted")
    highest: int | None
    over_limit: int = Field(description="workers whose caseload exceeds their limit")

    @classmethod
    def of(cls, stats: CaseloadStats) -> StatsRead:
        return cls(
            workers=stats.workers,
            caseload_total=stats.caseload_total,
            capacity=round(float(stats.capacity), 4),
            average=stats.average,
            mean_per_head=stats.mean_per_head,
            highest=stats.highest,
            over_limit=stats.over_limit,
        )


class TeamCaseloads(BaseModel):
    """A team's case-holding workers on ``as_of`` (by their terms that day), and its figures for all of
    them and for its newly qualified workers."""

    team: str
    as_of: date
    workers: list[WorkerCaseloadRead]
    all: StatsRead
    nqsw: StatsRead


class TeamFigures(BaseModel):
    team: str
    all: StatsRead
    nqsw: StatsRead


class CaseloadSummary(BaseModel):
    as_of: date
    teams: list[TeamFigures]
    all: StatsRead
    nqsw: StatsRead


class OverLimit(BaseModel):
    as_of: date
    team: str | None
    workers: list[WorkerCaseloadRead] = Field(description="most over their limit first")
