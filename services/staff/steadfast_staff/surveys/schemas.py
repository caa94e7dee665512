from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field

from steadfast_staff.events import ExitScores, HealthCheckScores, RecruitmentScores
from steadfast_staff.surveys.models import SurveyReturn
from steadfast_staff.teams.schemas import TeamCode

WorkerRefField = Annotated[
    str, Field(min_length=1, max_length=100, description="a worker's id or external_id")
]


class SurveyReturnCreate(BaseModel):
    """A returned survey. Each factor is scored 1-5; a factor left out (or null) was not answered."""

    model_config = ConfigDict(extra="forbid")

    returned_date: date
    worker: WorkerRefField | None = Field(default=None, description="who returned it; omit when anonymous")
    team: TeamCode | None = Field(
        default=None, description="the team it speaks for; default: the worker's team on returned_date"
    )


class RecruitmentSurveyCreate(RecruitmentScores, SurveyReturnCreate):
    pass


class ExitSurveyCreate(ExitScores, SurveyReturnCreate):
    pass


class StaffHealthCheckCreate(HealthCheckScores, SurveyReturnCreate):
    pass


class SurveyReturnRead(BaseModel):
    id: uuid.UUID
    version: int
    returned_date: date
    worker_id: uuid.UUID | None
    team: str | None

    @classmethod
    def of(cls, survey: SurveyReturn) -> Self:
        return cls.model_validate(
            {
                "id": survey.id,
                "version": survey.version,
                "returned_date": survey.returned_date,
                "worker_id": survey.worker_id,
                "team": survey.team_code,
                **survey.scores(),
            }
        )


class RecruitmentSurveyRead(RecruitmentScores, SurveyReturnRead):
    pass


class ExitSurveyRead(ExitScores, SurveyReturnRead):
    pass


class StaffHealthCheckRead(HealthCheckScores, SurveyReturnRead):
    pass


class SurveyFilters(BaseModel):
    team: str | None = None
    returned_from: date | None = Field(default=None, description="only those returned on or after")
    returned_before: date | None = Field(default=None, description="only those returned before")
