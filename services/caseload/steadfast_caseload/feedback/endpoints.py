from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Response, status

from steadfast_caseload.auth import Reader, Writer
from steadfast_caseload.casework.repository import CaseworkRepository
from steadfast_caseload.children.repository import ChildRepository
from steadfast_caseload.directory.repository import DirectoryRepository
from steadfast_caseload.feedback.repository import FeedbackRepository
from steadfast_caseload.feedback.schemas import FeedbackCreate, FeedbackFilters, FeedbackRead
from steadfast_caseload.feedback.service import FeedbackService
from steadfast_shared.access import ChildReadsDep
from steadfast_shared.http.app import new_router
from steadfast_shared.http.deps import UoWDep
from steadfast_shared.http.idempotency import IdempotencyDep
from steadfast_shared.http.pagination import Page, PageParams, page_params
from steadfast_shared.schemas import Day
from steadfast_shared.uow import UnitOfWork

router = new_router("/v1/feedback", tags=["feedback"])


def feedback_service(uow: UnitOfWork) -> FeedbackService:
    return FeedbackService(
        FeedbackRepository(uow.session),
        ChildRepository(uow.session),
        CaseworkRepository(uow.session),
        DirectoryRepository(uow.session),
    )


def feedback_filters(
    team: str | None = None,
    returned_from: Annotated[Day | None, Query(description="only those returned on or after")] = None,
    returned_before: Annotated[Day | None, Query(description="only those returned before")] = None,
) -> FeedbackFilters:
    return FeedbackFilters(team=team, returned_from=returned_from, returned_before=returned_before)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Record returned child/family feedback")
async def record_feedback(
    body: FeedbackCreate, uow: UoWDep, _: Writer, __: IdempotencyDep, response: Response
) -> FeedbackRead:
    feedback = await feedback_service(uow).record(body)
    response.headers["Location"] = f"/v1/feedback/{feedback.id}"
    return FeedbackRead.of(feedback)


@router.get(
    "", summary="List returned feedback, by team and period (returned_from <= date < returned_before)"
)
async def list_feedback(
    uow: UoWDep,
    _: Reader,
    reads: ChildReadsDep,
    params: Annotated[PageParams, Depends(page_params)],
    filters: Annotated[FeedbackFilters, Depends(feedback_filters)],
) -> Page[FeedbackRead]:
    page = await FeedbackRepository(uow.session).page(params, filters=filters)
    await reads.record(f.child_id for f in page.items)
    return page


@router.get("/{feedback}", summary="One returned feedback form, by id or external_id")
async def get_feedback(feedback: str, uow: UoWDep, _: Reader, reads: ChildReadsDep) -> FeedbackRead:
    found = await feedback_service(uow).get(feedback)
    await reads.record([found.child_id])
    return FeedbackRead.of(found)
