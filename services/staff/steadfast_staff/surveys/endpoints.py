from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query, Response, status

from steadfast_shared.http.app import new_router
from steadfast_shared.http.deps import UoWDep
from steadfast_shared.http.idempotency import IdempotencyDep
from steadfast_shared.http.pagination import Page, PageParams, page_params
from steadfast_shared.schemas import Day
from steadfast_shared.uow import UnitOfWork
from steadfast_staff.auth import Reader, Writer
from steadfast_staff.surveys.models import ExitSurvey, RecruitmentSurvey, StaffHealthCheck
from steadfast_staff.surveys.repository import SurveyRepository
from steadfast_staff.surveys.schemas import (
    ExitSurveyCreate,
    ExitSurveyRead,
    RecruitmentSurveyCreate,
    RecruitmentSurveyRead,
    StaffHealthCheckCreate,
    StaffHealthCheckRead,
    SurveyFilters,
)
from steadfast_staff.surveys.service import SurveyService
from steadfast_staff.teams.repository import TeamRepository
from steadfast_staff.teams.service import TeamService
from steadfast_staff.workers.repository import WorkerRepository

router = new_router("/v1", tags=["surveys"])

Params = Annotated[PageParams, Depends(page_params)]


def survey_filters(
    team: str | None = None,
    returned_from: Annotated[Day | None, Query(description="only those returned on or after")] = None,
    returned_before: Annotated[Day | None, Query(description="only those returned before")] = None,
) -> SurveyFilters:
    return SurveyFilters(team=team, returned_from=returned_from, returned_before=returned_before)


Filters = Annotated[SurveyFilters, Depends(survey_filters)]


def survey_service(uow: UnitOfWork) -> SurveyService:
    return SurveyService(
        SurveyRepository(uow.session),
        WorkerRepository(uow.session),
        TeamService(TeamRepository(uow.session)),
    )


# -- recruitment surveys ----------------------------------------------------------------------------


@router.post(
    "/recruitment-surveys",
    status_code=status.HTTP_201_CREATED,
    summary="Record a returned recruitment survey (why a new recruit applied)",
)
async def record_recruitment_survey(
    body: RecruitmentSurveyCreate, uow: UoWDep, _: Writer, __: IdempotencyDep, response: Response
) -> RecruitmentSurveyRead:
    survey = await survey_service(uow).record(RecruitmentSurvey, body)
    response.headers["Location"] = f"/v1/recruitment-surveys/{survey.id}"
    return RecruitmentSurveyRead.of(survey)


@router.get("/recruitment-surveys", summary="List returned recruitment surveys, by team and period")
async def list_recruitment_surveys(
    uow: UoWDep, _: Reader, params: Params, filters: Filters
) -> Page[RecruitmentSurveyRead]:
    return await SurveyRepository(uow.session).page(
        RecruitmentSurvey, params, filters=filters, to_item=RecruitmentSurveyRead.of
    )


@router.get("/recruitment-surveys/{survey}", summary="One returned recruitment survey")
async def get_recruitment_survey(survey: uuid.UUID, uow: UoWDep, _: Reader) -> RecruitmentSurveyRead:
    return RecruitmentSurveyRead.of(await survey_service(uow).get(RecruitmentSurvey, survey))


# -- exit surveys -----------------------------------------------------------------------------------


@router.post(
    "/exit-surveys",
    status_code=status.HTTP_201_CREATED,
    summary="Record a returned exit survey (why a leaver left)",
)
async def record_exit_survey(
    body: ExitSurveyCreate, uow: UoWDep, _: Writer, __: IdempotencyDep, response: Response
) -> ExitSurveyRead:
    survey = await survey_service(uow).record(ExitSurvey, body)
    response.headers["Location"] = f"/v1/exit-surveys/{survey.id}"
    return ExitSurveyRead.of(survey)


@router.get("/exit-surveys", summary="List returned exit surveys, by team and period")
async def list_exit_surveys(uow: UoWDep, _: Reader, params: Params, filters: Filters) -> Page[ExitSurveyRead]:
    return await SurveyRepository(uow.session).page(
        ExitSurvey, params, filters=filters, to_item=ExitSurveyRead.of
    )


@router.get("/exit-surveys/{survey}", summary="One returned exit survey")
async def get_exit_survey(survey: uuid.UUID, uow: UoWDep, _: Reader) -> ExitSurveyRead:
    return ExitSurveyRead.of(await survey_service(uow).get(ExitSurvey, survey))


# -- staff health checks ----------------------------------------------------------------------------


@router.post(
    "/staff-health-checks",
    status_code=status.HTTP_201_CREATED,
    summary="Record a returned staff health check",
)
async def record_staff_health_check(
    body: StaffHealthCheckCreate, uow: UoWDep, _: Writer, __: IdempotencyDep, response: Response
) -> StaffHealthCheckRead:
    survey = await survey_service(uow).record(StaffHealthCheck, body)
    response.headers["Location"] = f"/v1/staff-health-checks/{survey.id}"
    return StaffHealthCheckRead.of(survey)


@router.get("/staff-health-checks", summary="List returned staff health checks, by team and period")
async def list_staff_health_checks(
    uow: UoWDep, _: Reader, params: Params, filters: Filters
) -> Page[StaffHealthCheckRead]:
    return await SurveyRepository(uow.session).page(
        StaffHealthCheck, params, filters=filters, to_item=StaffHealthCheckRead.of
    )


@router.get("/staff-health-checks/{survey}", summary="One returned staff health check")
async def get_staff_health_check(survey: uuid.UUID, uow: UoWDep, _: Reader) -> StaffHealthCheckRead:
    return StaffHealthCheckRead.of(await survey_service(uow).get(StaffHealthCheck, survey))
