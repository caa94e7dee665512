from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from steadfast_shared.schemas import Input, NotNull, with_examples
from steadfast_staff.enums import Placement
from steadfast_staff.placements.models import StudentPlacement
from steadfast_staff.teams.schemas import TeamCode
from steadfast_staff.workers.schemas import ExternalId

University = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
WorkerRefField = Annotated[
    str, Field(min_length=1, max_length=100, description="a worker's id or external_id")
]


class StudentPlacementCreate(Input):
    model_config = with_examples(
        {
            "external_id": "SP-2025-07",
            "university": "Royal Holloway, University of London",
            "placement": "second",
            "team": "ACIN1",
            "start_date": "2025-01-13",
            "end_date": "2025-05-23",
        },
        extra="forbid",
    )

    external_id: ExternalId = Field(description="the council's (or university's) id for the placement")
    student: WorkerRefField | None = Field(default=None, description="the student, if recorded as a worker")
    university: University
    placement: Placement = Field(description="the student's first or second placement")
    team: TeamCode = Field(description="the team hosting the placement")
    start_date: date
    end_date: date | None = None
    hired_afterwards: bool | None = Field(
        default=None,
        description="whether the council hired the student; default: whether hired_worker is set",
    )
    hired_worker: WorkerRefField | None = Field(default=None, description="the worker the student became")


class StudentPlacementUpdate(Input):
    """A partial update: only the fields sent change (null clears an optional field)."""

    #: The student qualified and was hired as a newly qualified social worker.
    model_config = with_examples({"hired_afterwards": True, "hired_worker": "HR-1042"}, extra="forbid")

    student: WorkerRefField | None = None
    university: Annotated[University | None, NotNull] = None
    placement: Annotated[Placement | None, NotNull] = None
    team: Annotated[TeamCode | None, NotNull] = None
    start_date: Annotated[date | None, NotNull] = None
    end_date: date | None = None
    hired_afterwards: Annotated[bool | None, NotNull] = None
    hired_worker: WorkerRefField | None = None


class StudentPlacementRead(BaseModel):
    id: uuid.UUID
    external_id: str
    version: int
    student_worker_id: uuid.UUID | None
    university: str
    placement: Placement
    team: str
    start_date: date
    end_date: date | None
    hired_afterwards: bool
    hired_worker_id: uuid.UUID | None

    @classmethod
    def of(cls, placement: StudentPlacement) -> StudentPlacementRead:
        return cls(
            id=placement.id,
            external_id=placement.external_id,
            version=placement.version,
            student_worker_id=placement.student_worker_id,
            university=placement.university,
            placement=placement.placement,
            team=placement.team_code,
            start_date=placement.start_date,
            end_date=placement.end_date,
            hired_afterwards=placement.hired_afterwards,
            hired_worker_id=placement.hired_worker_id,
        )
