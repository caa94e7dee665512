from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import Depends, Query, Request, Response, status
from pydantic import Field

from steadfast_audit.audits.models import ActionStatus, Outcome
from steadfast_audit.audits.repository import AuditRepository
from steadfast_audit.audits.schemas import (
    AuditCreate,
    AuditDetail,
    AuditFilters,
    AuditRead,
    AuditUpdate,
    GradeDistribution,
    LearningActionRead,
    ModerationCreate,
    Person,
)
from steadfast_audit.audits.service import AuditService
from steadfast_audit.auth import Reader, Writer
from steadfast_audit.directory.repository import DirectoryRepository
from steadfast_audit.settings import AuditSettings
from steadfast_shared.access import ChildReadsDep
from steadfast_shared.codes import AuditType, Grade
from steadfast_shared.errors import ValidationFailed
from steadfast_shared.http.app import new_router
from steadfast_shared.http.concurrency import check_if_match, set_etag
from steadfast_shared.http.deps import RuntimeDep, UoWDep
from steadfast_shared.http.idempotency import IdempotencyDep
from steadfast_shared.http.pagination import Page, PageParams, page_params
from steadfast_shared.schemas import Day, Input, NotNull, Text, with_examples
from steadfast_shared.service import Runtime
from steadfast_shared.uow import UnitOfWork

router = new_router("/v1/audits", tags=["audits"])

AuditRef = Annotated[str, "the audit's id, or the source system's external_id"]


def elements_of(runtime: Runtime) -> list[str]:
    settings = runtime.settings
    if not isinstance(settings, AuditSettings):
        raise TypeError("the audit endpoints need the audit service's settings")
    return settings.audit_elements


def audit_service(uow: UnitOfWork, runtime: Runtime) -> AuditService:
    return AuditService(AuditRepository(uow.session), DirectoryRepository(uow.session), elements_of(runtime))


async def audit_filters(
    uow: UoWDep,
    team: str | None = None,
    worker: Annotated[str | None, Query(description="the worker's staff id or external_id")] = None,
    grade: Annotated[Grade | None, Query(description="the effective (moderated, else overall) grade")] = None,
    audit_type: AuditType | None = None,
    child: Annotated[str | None, Query(description="the child reference the audit was recorded with")] = None,
    completed_from: Annotated[Day | None, Query(description="completed on or after")] = None,
    completed_before: Annotated[Day | None, Query(description="completed before")] = None,
) -> AuditFilters:
    worker_id: uuid.UUID | None = None
    if worker is not None:
        found = (await DirectoryRepository(uow.session).resolve([worker])).get(worker)
        if found is None:
            raise ValidationFailed.field("worker", "unknown_worker", f"no worker {worker!r} is known")
        worker_id = found
    return AuditFilters(
        team=team,
        worker_id=worker_id,
        grade=grade,
        audit_type=audit_type,
        child=child,
        completed_from=completed_from,
        completed_before=completed_before,
    )


Filters = Annotated[AuditFilters, Depends(audit_filters)]


class LearningActionCreate(Input):
    model_config = with_examples(
        {"owner": "HR-2001", "description": "add timescales to the plan", "due_date": "2015-03-23"},
        extra="forbid",
    )

    owner: Person = Field(description="who is to do it (a worker or a manager)")
    description: Annotated[Text, Field(min_length=1)]
    due_date: date


class LearningActionUpdate(Input):
    #: Done: completing an action needs its completed date.
    model_config = with_examples({"status": "done", "completed_date": "2015-03-20"}, extra="forbid")

    owner: Annotated[Person | None, NotNull] = None
    due_date: Annotated[date | None, NotNull] = None
    status: Annotated[ActionStatus | None, NotNull] = None
    completed_date: date | None = Field(default=None, description="required when the status becomes done")


@router.post("", status_code=status.HTTP_201_CREATED, summary="Record a casework audit or dip sample")
async def record_audit(
    body: AuditCreate, uow: UoWDep, runtime: RuntimeDep, _: Writer, __: IdempotencyDep, response: Response
) -> AuditDetail:
    audit = await audit_service(uow, runtime).record(body)
    response.headers["Location"] = f"/v1/audits/{audit.id}"
    set_etag(response, audit.version)
    return AuditDetail.detail(audit)


@router.get("", summary="List audits by team, worker, effective grade, type and completed period (paged)")
async def list_audits(
    uow: UoWDep,
    _: Reader,
    reads: ChildReadsDep,
    params: Annotated[PageParams, Depends(page_params)],
    filters: Filters,
) -> Page[AuditRead]:
    page = await AuditRepository(uow.session).page(params, filters=filters)
    await reads.record(a.child for a in page.items)
    return page


@router.get(
    "/grades",
    summary="Grade distribution of completed audits: overall (effective grade) and per element",
)
async def grade_distribution(
    uow: UoWDep, runtime: RuntimeDep, _: Reader, filters: Filters
) -> GradeDistribution:
    return await audit_service(uow, runtime).distribution(filters)


@router.get("/{audit}", summary="One audit with its grades, moderation and learning actions")
async def get_audit(
    audit: AuditRef, uow: UoWDep, runtime: RuntimeDep, _: Reader, reads: ChildReadsDep, response: Response
) -> AuditDetail:
    found = await audit_service(uow, runtime).get(audit)
    await reads.record([found.child_ref])
    set_etag(response, found.version)
    return AuditDetail.detail(found)


@router.patch("/{audit}", summary="Change an audit: complete it, grade it, correct it (If-Match honoured)")
async def revise_audit(
    audit: AuditRef,
    body: AuditUpdate,
    request: Request,
    uow: UoWDep,
    runtime: RuntimeDep,
    _: Writer,
    __: IdempotencyDep,
    response: Response,
) -> AuditDetail:
    revised = await audit_service(uow, runtime).revise(audit, body, lambda v: check_if_match(request, v))
    set_etag(response, revised.version)
    return AuditDetail.detail(revised)


@router.post(
    "/{audit}/moderation",
    summary="Moderate a completed audit: a second reviewer confirms or changes the grade, with a reason",
)
async def moderate_audit(
    audit: AuditRef,
    body: ModerationCreate,
    request: Request,
    uow: UoWDep,
    runtime: RuntimeDep,
    _: Writer,
    __: IdempotencyDep,
    response: Response,
) -> AuditDetail:
    moderated = await audit_service(uow, runtime).moderate(audit, body, lambda v: check_if_match(request, v))
    set_etag(response, moderated.version)
    return AuditDetail.detail(moderated)


@router.post(
    "/{audit}/learning-actions",
    status_code=status.HTTP_201_CREATED,
    summary="Agree a learning action arising from the audit",
)
async def add_learning_action(
    audit: AuditRef,
    body: LearningActionCreate,
    uow: UoWDep,
    runtime: RuntimeDep,
    _: Writer,
    __: IdempotencyDep,
    response: Response,
) -> LearningActionRead:
    found, action = await audit_service(uow, runtime).add_learning_action(
        audit, owner=body.owner, description=body.description, due_date=body.due_date
    )
    response.headers["Location"] = f"/v1/audits/{found.id}/learning-actions/{action.id}"
    set_etag(response, found.version)
    return LearningActionRead.of(action)


@router.patch(
    "/{audit}/learning-actions/{action}",
    summary="Re-own, re-date or close a learning action (done needs completed_date; If-Match honoured)",
)
async def update_learning_action(
    audit: AuditRef,
    action: uuid.UUID,
    body: LearningActionUpdate,
    request: Request,
    uow: UoWDep,
    runtime: RuntimeDep,
    _: Writer,
    __: IdempotencyDep,
    response: Response,
) -> LearningActionRead:
    found, outcome, updated = await audit_service(uow, runtime).update_learning_action(
        audit, action, body.model_dump(exclude_unset=True), lambda v: check_if_match(request, v)
    )
    response.headers["X-Outcome"] = Outcome(outcome).value
    set_etag(response, found.version)
    return LearningActionRead.of(updated)
