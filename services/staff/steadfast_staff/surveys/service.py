"""Survey use cases: record a returned survey of any kind."""

from __future__ import annotations

import uuid
from typing import TypeVar

from steadfast_shared.errors import NotFound, ValidationFailed
from steadfast_staff.surveys.models import SurveyReturn
from steadfast_staff.surveys.repository import SurveyRepository
from steadfast_staff.surveys.schemas import SurveyReturnCreate
from steadfast_staff.teams.service import TeamService
from steadfast_staff.workers.repository import WorkerRepository

S = TypeVar("S", bound=SurveyReturn)


class SurveyService:
    def __init__(self, surveys: SurveyRepository, workers: WorkerRepository, teams: TeamService) -> None:
        self.surveys = surveys
        self.workers = workers
        self.teams = teams

    async def record(self, kind: type[S], body: SurveyReturnCreate) -> S:
        """Record a returned survey of ``kind``; its team defaults to the worker's on the returned date."""
        worker_id: uuid.UUID | None = None
        team = body.team
        if body.worker is not None:
            worker = await self.workers.get(body.worker)
            if worker is None:
                raise ValidationFailed.field("worker", "unknown_worker", f"no worker {body.worker!r}")
            worker_id = worker.id
            if team is None:
                team = (worker.terms_on(body.returned_date) or worker.current).team_code
        if team is not None:
            await self.teams.ensure([team])
        survey = kind.returned(
            returned_date=body.returned_date,
            scores=body.model_dump(include=set(kind.FACTORS)),
            worker_id=worker_id,
            team=team,
        )
        self.surveys.add(survey)
        return survey

    async def get(self, kind: type[S], survey_id: uuid.UUID) -> S:
        survey = await self.surveys.get(kind, survey_id)
        if survey is None:
            raise NotFound(
                f"no {kind.NOUN} {survey_id}",
                errors=[{"field": "id", "reason": "unknown_survey"}],
            )
        return survey
