from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response, status

from steadfast_shared.http.app import new_router
from steadfast_shared.http.concurrency import check_if_match, set_etag
from steadfast_shared.http.deps import UoWDep
from steadfast_shared.http.idempotency import IdempotencyDep
from steadfast_shared.http.pagination import Page, PageParams, page_params
from steadfast_shared.uow import UnitOfWork
from steadfast_staff.auth import Reader, Writer
from steadfast_staff.teams.repository import TeamRepository
from steadfast_staff.teams.schemas import TeamCreate, TeamRead, TeamUpdate
from steadfast_staff.teams.service import TeamService

router = new_router("/v1/teams", tags=["teams"])


def _service(uow: UnitOfWork) -> TeamService:
    return TeamService(TeamRepository(uow.session))


@router.post("", status_code=status.HTTP_201_CREATED, summary="Set up a team")
async def create_team(
    body: TeamCreate, uow: UoWDep, _: Writer, __: IdempotencyDep, response: Response
) -> TeamRead:
    team = await _service(uow).create(body.code, body.name)
    response.headers["Location"] = f"/v1/teams/{team.code}"
    set_etag(response, team.version)
    return TeamRead.of(team)


@router.get("", summary="List teams")
async def list_teams(
    uow: UoWDep, _: Reader, params: Annotated[PageParams, Depends(page_params)]
) -> Page[TeamRead]:
    return await TeamRepository(uow.session).page(params)


@router.get("/{code}", summary="One team")
async def get_team(code: str, uow: UoWDep, _: Reader, response: Response) -> TeamRead:
    team = await _service(uow).get(code)
    set_etag(response, team.version)
    return TeamRead.of(team)


@router.patch("/{code}", summary="Rename a team")
async def update_team(
    code: str, body: TeamUpdate, request: Request, uow: UoWDep, _: Writer, response: Response
) -> TeamRead:
    team = await _service(uow).rename(code, body.name, lambda version: check_if_match(request, version))
    set_etag(response, team.version)
    return TeamRead.of(team)
