from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field

from steadfast_shared.schemas import Input, with_examples
from steadfast_staff.events import ExitScores, HealthCheckScores, RecruitmentScores
from steadfast_staff.surveys.models import SurveyReturn
from steadfast_staff.teams.schemas import TeamCode

WorkerRefField = Annotated[
    str, Field(min_length=1, max_length=100, description="a worker's id or external_id")
]


class SurveyReturnCreate(Input):
    """A returned survey. Each factor is scored 1-5; a factor left out (or null) was not answered."""

    model_config = ConfigDict(extra="forbid")

    returned_date: date
    worker: WorkerRefField | None = Field(default=None, description="who returned it; omit when anonymous")
    team: TeamCode | None = Field(
        default=None, description="the team it speaks for; default: the worker's team on returned_date"
    )


class RecruitmentSurveyCreate(RecruitmentScores, SurveyReturnCreate):
    #: An anonymous return from a new recruit to ACIN1.
    model_config = with_examples(
        {
            "returned_date": "2025-03-10",
            "team": "ACIN1",
            "right_post_right_time": 4,
            "place": 5,
            "development_opportunities": 4,
            "advert_and_communications": 3,
            "terms_and_conditions": 3,
        },
        extra="forbid",
    )


class ExitSurveyCreate(ExitScores, SurveyReturnCreate):
    #: A leaver's exit questionnaire (the team is the worker's on the day).
    model_config = with_examples(
        {
            "returned_date": "2025-08-29",
            "worker": "HR-1002",
            "insufficient_support_supervision": 2,
            "workload_too_high": 5,
            "no_career_path": 3,
        },
        extra="forbid",
    )


class StaffHealthCheckCreate(HealthCheckScores, SurveyReturnCreate):
    model_config = with_examples(
        {
            "returned_date": "2025-03-14",
            "team": "PC3",
            "private_space": 2,
            "office_environment": 3,
            "supervision_quality": 4,
            "senior_manager_visibility": 3,
        },
        extra="forbid",
    )


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
