from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query, Request, Response, status

from steadfast_caseload.auth import Reader, Writer
from steadfast_caseload.children.models import Outcome
from steadfast_caseload.children.repository import ChildRepository
from steadfast_caseload.children.schemas import (
    AllocationCreate,
    AllocationHistory,
    AllocationRead,
    AllocationUpdate,
    ChildCreate,
    ChildRead,
    ChildSummary,
    EpisodeCreate,
    EpisodeRead,
    EpisodeUpdate,
)
from steadfast_caseload.children.service import ChildService
from steadfast_caseload.directory.repository import DirectoryRepository
from steadfast_shared.access import ChildReadsDep
from steadfast_shared.dates import today
from steadfast_shared.http.app import new_router
from steadfast_shared.http.concurrency import check_if_match, set_etag
from steadfast_shared.http.deps import UoWDep
from steadfast_shared.http.idempotency import IdempotencyDep
from steadfast_shared.http.openapi import upsert_responses
from steadfast_shared.http.pagination import Page, PageParams, page_params
from steadfast_shared.schemas import Day
from steadfast_shared.uow import UnitOfWork

router = new_router("/v1/children", tags=["children"])

ChildRef = Annotated[str, "the child's id, or the case-management system's external_id"]
AsOf = Annotated[Day | None, Query(description="the date the answer is for; default today")]


def child_service(uow: UnitOfWork) -> ChildService:
    return ChildService(ChildRepository(uow.session), DirectoryRepository(uow.session))


def _status(response: Response, outcome: Outcome) -> None:
    """An upsert answers 201 when it created the record, 200 when it updated or left it unchanged."""
    if outcome is not Outcome.created:
        response.status_code = status.HTTP_200_OK
    response.headers["X-Outcome"] = outcome.value


@router.post("", status_code=status.HTTP_201_CREATED, summary="Register a child (a pseudonymous record)")
async def register_child(
    body: ChildCreate, uow: UoWDep, _: Writer, __: IdempotencyDep, response: Response
) -> ChildRead:
    service = child_service(uow)
    child = await service.register(body.external_id)
    response.headers["Location"] = f"/v1/children/{child.id}"
    set_etag(response, child.version)
    return await service.read(child)


@router.get("", summary="List children (without their records)")
async def list_children(
    uow: UoWDep, _: Reader, reads: ChildReadsDep, params: Annotated[PageParams, Depends(page_params)]
) -> Page[ChildSummary]:
    page = await ChildRepository(uow.session).page(params, ChildSummary.of)
    await reads.record(c.id for c in page.items)
    return page


@router.get("/{child}", summary="One child, by id or external_id, with its episodes and allocations")
async def get_child(
    child: ChildRef, uow: UoWDep, _: Reader, reads: ChildReadsDep, response: Response
) -> ChildRead:
    service = child_service(uow)
    found = await service.get(child)
    await reads.record([found.id])
    set_etag(response, found.version)
    return await service.read(found)


@router.post(
    "/{child}/episodes",
    status_code=status.HTTP_201_CREATED,
    responses=upsert_responses(EpisodeRead),
    summary="Record an episode (an upsert by type and start date; If-Match honoured)",
)
async def record_episode(
    child: ChildRef,
    body: EpisodeCreate,
    request: Request,
    uow: UoWDep,
    _: Writer,
    __: IdempotencyDep,
    response: Response,
) -> EpisodeRead:
    outcome, updated, episode = await child_service(uow).record_episode(
        child, body, lambda v: check_if_match(request, v)
    )
    _status(response, outcome)
    set_etag(response, updated.version)
    return EpisodeRead.of(episode)


@router.patch("/{child}/episodes/{episode_id}", summary="Close, reopen or correct an episode's end date")
async def change_episode(
    child: ChildRef,
    episode_id: uuid.UUID,
    body: EpisodeUpdate,
    request: Request,
    uow: UoWDep,
    _: Writer,
    response: Response,
) -> EpisodeRead:
    _outcome, updated, episode = await child_service(uow).change_episode(
        child, episode_id, body, lambda v: check_if_match(request, v)
    )
    set_etag(response, updated.version)
    return EpisodeRead.of(episode)


@router.post(
    "/{child}/allocations",
    status_code=status.HTTP_201_CREATED,
    responses=upsert_responses(AllocationRead),
    summary="Allocate the child to a worker (an upsert by worker and start date; If-Match honoured)",
)
async def allocate_child(
    child: ChildRef,
    body: AllocationCreate,
    request: Request,
    uow: UoWDep,
    _: Writer,
    __: IdempotencyDep,
    response: Response,
) -> AllocationRead:
    service = child_service(uow)
    outcome, updated, allocation = await service.allocate(child, body, lambda v: check_if_match(request, v))
    _status(response, outcome)
    set_etag(response, updated.version)
    return await service.allocation_read(allocation)


@router.get("/{child}/allocations", summary="The child's allocation history and workers in the current run")
async def allocation_history(
    child: ChildRef, uow: UoWDep, _: Reader, reads: ChildReadsDep, as_of: AsOf = None
) -> AllocationHistory:
    history = await child_service(uow).allocation_history(child, as_of or today())
    await reads.record([history.child_id])
    return history


@router.patch(
    "/{child}/allocations/{allocation_id}",
    summary="End, reopen or correct an allocation (If-Match on the child's ETag honoured)",
)
async def change_allocation(
    child: ChildRef,
    allocation_id: uuid.UUID,
    body: AllocationUpdate,
    request: Request,
    uow: UoWDep,
    _: Writer,
    response: Response,
) -> AllocationRead:
    service = child_service(uow)
    _outcome, updated, allocation = await service.change_allocation(
        child, allocation_id, body, lambda v: check_if_match(request, v)
    )
    set_etag(response, updated.version)
    return await service.allocation_read(allocation)
