from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request, Response, status

from steadfast_shared.http.app import new_router
from steadfast_shared.http.concurrency import check_if_match, set_etag
from steadfast_shared.http.deps import UoWDep
from steadfast_shared.http.idempotency import IdempotencyDep
from steadfast_shared.http.pagination import Page, PageParams, page_params
from steadfast_shared.schemas import Day
from steadfast_shared.uow import UnitOfWork
from steadfast_staff.auth import Reader, Writer
from steadfast_staff.enums import Placement
from steadfast_staff.placements.repository import StudentPlacementRepository
from steadfast_staff.placements.schemas import (
    StudentPlacementCreate,
    StudentPlacementRead,
    StudentPlacementUpdate,
)
from steadfast_staff.placements.service import StudentPlacementService
from steadfast_staff.teams.repository import TeamRepository
from steadfast_staff.teams.service import TeamService
from steadfast_staff.workers.repository import WorkerRepository

router = new_router("/v1/student-placements", tags=["student placements"])

PlacementRef = Annotated[str, "the placement's id, or its external_id"]


def placement_service(uow: UnitOfWork) -> StudentPlacementService:
    return StudentPlacementService(
        StudentPlacementRepository(uow.session),
        WorkerRepository(uow.session),
        TeamService(TeamRepository(uow.session)),
    )


def _answer(response: Response, placement: StudentPlacementRead) -> StudentPlacementRead:
    set_etag(response, placement.version)
    return placement


@router.post("", status_code=status.HTTP_201_CREATED, summary="Record a student placement")
async def record_placement(
    body: StudentPlacementCreate, uow: UoWDep, _: Writer, __: IdempotencyDep, response: Response
) -> StudentPlacementRead:
    placement = await placement_service(uow).record(body)
    response.headers["Location"] = f"/v1/student-placements/{placement.id}"
    return _answer(response, StudentPlacementRead.of(placement))


@router.get("", summary="List student placements, filtered by team, university, placement and start date")
async def list_placements(
    uow: UoWDep,
    _: Reader,
    params: Annotated[PageParams, Depends(page_params)],
    team: str | None = None,
    university: str | None = None,
    placement: Placement | None = None,
    start_from: Annotated[Day | None, Query(description="only those starting on or after")] = None,
    start_before: Annotated[Day | None, Query(description="only those starting before")] = None,
) -> Page[StudentPlacementRead]:
    return await StudentPlacementRepository(uow.session).page(
        params,
        team=team,
        university=university,
        placement=placement,
        start_from=start_from,
        start_before=start_before,
    )


@router.get("/{placement}", summary="One student placement, by id or external_id")
async def get_placement(
    placement: PlacementRef, uow: UoWDep, _: Reader, response: Response
) -> StudentPlacementRead:
    return _answer(response, StudentPlacementRead.of(await placement_service(uow).get(placement)))


@router.patch("/{placement}", summary="Change a student placement (If-Match honoured)")
async def update_placement(
    placement: PlacementRef,
    body: StudentPlacementUpdate,
    request: Request,
    uow: UoWDep,
    _: Writer,
    response: Response,
) -> StudentPlacementRead:
    updated = await placement_service(uow).update(placement, body, lambda v: check_if_match(request, v))
    return _answer(response, StudentPlacementRead.of(updated))


@router.delete(
    "/{placement}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a student placement recorded in error (If-Match honoured)",
)
async def remove_placement(placement: PlacementRef, request: Request, uow: UoWDep, _: Writer) -> Response:
    await placement_service(uow).remove(placement, lambda v: check_if_match(request, v))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
