from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, Field

from steadfast_caseload.caseloads.models import CaseloadStats, WorkerCaseload
from steadfast_caseload.caseloads.repository import AllocatedChild
from steadfast_shared.codes import EmploymentType, Role
from steadfast_shared.schemas import with_examples

ASHA, TOM, PRIYA = (
    "7c2e9a41-0b5d-4f36-8e1a-2d4c6b8f0a13",
    "9e4b1d72-3a6c-4e85-b0f7-5c8a2e1d4b96",
    "1f8d3c55-6e2a-4b97-a4c0-8b7e5d3f2a61",
)
#: Asha Begum, Tom Reid and Priya Shah in PC3 on 2 March 2015 (the README's caseload tour).
ASHA_CASELOAD = {
    "worker_id": ASHA,
    "external_id": "HR-2001",
    "display_name": "Asha Begum",
    "team": "PC3",
    "role": "social_worker",
    "employment_type": "permanent",
    "fte": 1.0,
    "nqsw": False,
    "caseload": 2,
    "capacity": 1.0,
    "limit": 16,
    "over_by": 0,
}
PC3_CASELOADS = [
    ASHA_CASELOAD,
    {
        **ASHA_CASELOAD,
        "worker_id": TOM,
        "external_id": "HR-2002",
        "display_name": "Tom Reid",
        "employment_type": "agency",
        "caseload": 0,
    },
    {
        **ASHA_CASELOAD,
        "worker_id": PRIYA,
        "external_id": "HR-2003",
        "display_name": "Priya Shah",
        "fte": 0.5,
        "nqsw": True,
        "caseload": 1,
        "capacity": 0.45,
        "limit": 7,
    },
]


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

    model_config = with_examples(ASHA_CASELOAD)

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
    limit: int | None = Field(
        description="capacity x the strategy's limit per full caseload, rounded down (null: the strategy "
        "in force sets no limit)"
    )
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

    #: Asha on the day LCS-1002 was handed to her.
    model_config = with_examples(
        {
            "worker_id": ASHA,
            "external_id": "HR-2001",
            "display_name": "Asha Begum",
            "as_of": "2015-03-02",
            "in_post": True,
            "team": "PC3",
            "role": "social_worker",
            "caseload": 2,
            "children": [
                {
                    "child_id": "5b7e2c90-1d43-4a8f-8e6b-0c9f3a2d7e15",
                    "child_external_id": "LCS-1001",
                    "allocation_id": "0d6a4e18-9c3b-4f72-8a5e-3b1c7f9d2e40",
                    "start_date": "2014-10-06",
                    "end_date": None,
                },
                {
                    "child_id": "a3d8f1c6-42b9-4e07-b5a1-7c6e9d0f2b84",
                    "child_external_id": "LCS-1002",
                    "allocation_id": "6f2b8d03-4e7a-4c19-9d65-0a3e8b1c5f72",
                    "start_date": "2015-03-02",
                    "end_date": None,
                },
            ],
            "assessment": ASHA_CASELOAD,
        }
    )

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

    model_config = with_examples(
        {
            "team": "PC3",
            "as_of": "2015-03-02",
            "workers": PC3_CASELOADS,
            "all": {
                "workers": 3,
                "caseload_total": 3,
                "capacity": 2.45,
                "average": 1.22,
                "mean_per_head": 1.0,
                "highest": 2,
                "over_limit": 0,
            },
            "nqsw": {
                "workers": 1,
                "caseload_total": 1,
                "capacity": 0.45,
                "average": 2.22,
                "mean_per_head": 1.0,
                "highest": 1,
                "over_limit": 0,
            },
        }
    )

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
    strategy_version: int = Field(description="the version of the strategy whose limits apply")
    workers: list[WorkerCaseloadRead] = Field(description="most over their limit first")
