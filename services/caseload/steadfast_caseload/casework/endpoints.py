from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response, status

from steadfast_caseload.auth import Reader, Writer
from steadfast_caseload.casework.repository import CaseworkRepository
from steadfast_caseload.casework.schemas import (
    AssessmentCreate,
    AssessmentRead,
    AssessmentsApproachingReport,
    AssessmentUpdate,
    IroVisitCreate,
    IroVisitRead,
    ReviewCreate,
    ReviewRead,
    VisitCreate,
    VisitRead,
    VisitsDueReport,
)
from steadfast_caseload.casework.service import CaseworkService
from steadfast_caseload.children.models import Outcome
from steadfast_caseload.children.repository import ChildRepository
from steadfast_caseload.directory.repository import DirectoryRepository
from steadfast_caseload.strategy.endpoints import strategy_service
from steadfast_shared.access import ChildReadsDep
from steadfast_shared.dates import today
from steadfast_shared.http.app import new_router
from steadfast_shared.http.concurrency import check_if_match
from steadfast_shared.http.deps import RuntimeDep, UoWDep
from steadfast_shared.http.idempotency import IdempotencyDep
from steadfast_shared.http.openapi import upsert_responses
from steadfast_shared.schemas import Day
from steadfast_shared.service import Runtime
from steadfast_shared.uow import UnitOfWork

router = new_router("/v1", tags=["casework"])

ChildRef = Annotated[str, "the child's id, or the case-management system's external_id"]
AsOf = Annotated[Day | None, Query(description="the date the list is as of; default today")]
TeamFilter = Annotated[str | None, Query(description="only children allocated to a worker of this team")]
WorkerFilter = Annotated[
    str | None, Query(description="only children allocated to this worker (id or external_id)")
]


def casework_service(uow: UnitOfWork, runtime: Runtime | None = None) -> CaseworkService:
    return CaseworkService(
        ChildRepository(uow.session),
        CaseworkRepository(uow.session),
        DirectoryRepository(uow.session),
        strategy_service(uow, runtime) if runtime is not None else None,
    )


def _created(response: Response, outcome: Outcome) -> None:
    """An upsert by natural key: 201 when it created the record, 200 when it was already there."""
    if outcome is not Outcome.created:
        response.status_code = status.HTTP_200_OK


# -- assessments ------------------------------------------------------------------------------------


@router.post(
    "/children/{child}/assessments",
    status_code=status.HTTP_201_CREATED,
    responses=upsert_responses(AssessmentRead),
    summary="Record an assessment of a child (sent again with the same external_id: updated)",
)
async def record_assessment(
    child: ChildRef, body: AssessmentCreate, uow: UoWDep, _: Writer, __: IdempotencyDep, response: Response
) -> AssessmentRead:
    outcome, assessment = await casework_service(uow).record_assessment(child, body)
    _created(response, outcome)
    response.headers["Location"] = f"/v1/children/{assessment.child_id}/assessments/{assessment.id}"
    return AssessmentRead.of(assessment)


@router.get("/children/{child}/assessments", summary="A child's assessments, oldest first")
async def list_assessments(
    child: ChildRef, uow: UoWDep, _: Reader, reads: ChildReadsDep
) -> list[AssessmentRead]:
    service = casework_service(uow)
    await reads.record([(await service.child(child)).id])
    return [AssessmentRead.of(a) for a in await service.assessments(child)]


@router.get("/children/{child}/assessments/{assessment}", summary="One assessment, by id or external_id")
async def get_assessment(
    child: ChildRef, assessment: str, uow: UoWDep, _: Reader, reads: ChildReadsDep
) -> AssessmentRead:
    found = await casework_service(uow).get_assessment(child, assessment)
    await reads.record([found.child_id])
    return AssessmentRead.of(found)


@router.patch(
    "/children/{child}/assessments/{assessment}",
    summary="Complete (or correct) an assessment; If-Match takes the child's ETag",
)
async def update_assessment(
    child: ChildRef, assessment: str, body: AssessmentUpdate, request: Request, uow: UoWDep, _: Writer
) -> AssessmentRead:
    updated = await casework_service(uow).update_assessment(
        child, assessment, body, lambda version: check_if_match(request, version)
    )
    return AssessmentRead.of(updated)


# -- statutory visits -------------------------------------------------------------------------------


@router.post(
    "/children/{child}/visits",
    status_code=status.HTTP_201_CREATED,
    responses=upsert_responses(VisitRead),
    summary="Record a statutory visit (sent again with the same date and type: seen_alone updated)",
)
async def record_visit(
    child: ChildRef, body: VisitCreate, uow: UoWDep, _: Writer, __: IdempotencyDep, response: Response
) -> VisitRead:
    outcome, visit = await casework_service(uow).record_visit(child, body)
    _created(response, outcome)
    return VisitRead.of(visit)


@router.get("/children/{child}/visits", summary="A child's visits, oldest first")
async def list_visits(child: ChildRef, uow: UoWDep, _: Reader, reads: ChildReadsDep) -> list[VisitRead]:
    service = casework_service(uow)
    await reads.record([(await service.child(child)).id])
    return [VisitRead.of(v) for v in await service.visits(child)]


# -- reviews and IRO visits -------------------------------------------------------------------------


@router.post(
    "/children/{child}/reviews",
    status_code=status.HTTP_201_CREATED,
    responses=upsert_responses(ReviewRead),
    summary="Record a review",
)
async def record_review(
    child: ChildRef, body: ReviewCreate, uow: UoWDep, _: Writer, __: IdempotencyDep, response: Response
) -> ReviewRead:
    outcome, review = await casework_service(uow).record_review(child, body.review_date)
    _created(response, outcome)
    return ReviewRead.of(review)


@router.get("/children/{child}/reviews", summary="A child's reviews, oldest first")
async def list_reviews(child: ChildRef, uow: UoWDep, _: Reader, reads: ChildReadsDep) -> list[ReviewRead]:
    service = casework_service(uow)
    await reads.record([(await service.child(child)).id])
    return [ReviewRead.of(r) for r in await service.reviews(child)]


@router.post(
    "/children/{child}/iro-visits",
    status_code=status.HTTP_201_CREATED,
    responses=upsert_responses(IroVisitRead),
    summary="Record a visit to the child by their independent reviewing officer",
)
async def record_iro_visit(
    child: ChildRef, body: IroVisitCreate, uow: UoWDep, _: Writer, __: IdempotencyDep, response: Response
) -> IroVisitRead:
    outcome, visit = await casework_service(uow).record_iro_visit(child, body.visit_date)
    _created(response, outcome)
    return IroVisitRead.of(visit)


@router.get("/children/{child}/iro-visits", summary="A child's IRO visits, oldest first")
async def list_iro_visits(
    child: ChildRef, uow: UoWDep, _: Reader, reads: ChildReadsDep
) -> list[IroVisitRead]:
    service = casework_service(uow)
    await reads.record([(await service.child(child)).id])
    return [IroVisitRead.of(v) for v in await service.iro_visits(child)]


# -- the watch lists --------------------------------------------------------------------------------


@router.get(
    "/visits/due",
    summary="Children whose statutory visit is overdue or due within N days, by worker and team",
)
async def visits_due(
    uow: UoWDep,
    runtime: RuntimeDep,
    _: Reader,
    reads: ChildReadsDep,
    as_of: AsOf = None,
    within_days: Annotated[int, Query(ge=0, le=366, description="calendar days ahead")] = 7,
    team: TeamFilter = None,
    worker: WorkerFilter = None,
) -> VisitsDueReport:
    report = await casework_service(uow, runtime).visits_due(
        as_of=as_of or today(), within_days=within_days, team=team, worker=worker
    )
    await reads.record(c.child_id for c in report.children)
    return report


@router.get(
    "/assessments/approaching",
    summary="Open assessments within N working days of (or past) the 45-working-day timescale",
)
async def assessments_approaching(
    uow: UoWDep,
    _: Reader,
    reads: ChildReadsDep,
    as_of: AsOf = None,
    within_working_days: Annotated[int, Query(ge=0, le=45, description="working days left at most")] = 10,
    team: TeamFilter = None,
    worker: WorkerFilter = None,
) -> AssessmentsApproachingReport:
    report = await casework_service(uow).assessments_approaching(
        as_of=as_of or today(), within_working_days=within_working_days, team=team, worker=worker
    )
    await reads.record(a.child_id for a in report.assessments)
    return report
