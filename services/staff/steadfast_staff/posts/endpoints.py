from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query, Request, Response, status

from steadfast_shared.dates import today
from steadfast_shared.http.app import new_router
from steadfast_shared.http.concurrency import check_if_match, set_etag
from steadfast_shared.http.deps import UoWDep
from steadfast_shared.http.idempotency import IdempotencyDep
from steadfast_shared.http.pagination import Page, PageParams, page_params
from steadfast_shared.schemas import Day
from steadfast_shared.uow import UnitOfWork
from steadfast_staff.auth import Reader, Writer
from steadfast_staff.enums import Role
from steadfast_staff.posts.repository import PostRepository
from steadfast_staff.posts.schemas import HoldingCreate, HoldingEnding, PostCreate, PostRead, PostUpdate
from steadfast_staff.posts.service import PostService
from steadfast_staff.teams.repository import TeamRepository
from steadfast_staff.teams.service import TeamService
from steadfast_staff.workers.repository import WorkerRepository

router = new_router("/v1/posts", tags=["posts"])

PostRef = Annotated[str, "the post's id, or the establishment system's external_id"]


def post_service(uow: UnitOfWork) -> PostService:
    return PostService(
        PostRepository(uow.session),
        WorkerRepository(uow.session),
        TeamService(TeamRepository(uow.session)),
    )


def _answer(response: Response, post: PostRead) -> PostRead:
    set_etag(response, post.version)
    return post


@router.post("", status_code=status.HTTP_201_CREATED, summary="Establish a post")
async def establish_post(
    body: PostCreate, uow: UoWDep, _: Writer, __: IdempotencyDep, response: Response
) -> PostRead:
    post = await post_service(uow).establish(body)
    response.headers["Location"] = f"/v1/posts/{post.id}"
    return _answer(response, PostRead.of(post))


@router.get("", summary="List established posts, filtered by team, role, and whether established or held")
async def list_posts(
    uow: UoWDep,
    _: Reader,
    params: Annotated[PageParams, Depends(page_params)],
    team: str | None = None,
    role: Role | None = None,
    established: Annotated[
        bool | None, Query(description="only posts established (true) or not (false) on as_of")
    ] = None,
    held: Annotated[bool | None, Query(description="only posts held (true) or not (false) on as_of")] = None,
    as_of: Annotated[
        Day | None, Query(description="the date established and held refer to; default today")
    ] = None,
) -> Page[PostRead]:
    return await PostRepository(uow.session).page(
        params, as_of=as_of or today(), team=team, role=role, established=established, held=held
    )


@router.get("/{post}", summary="One post with its holdings, by id or external_id")
async def get_post(post: PostRef, uow: UoWDep, _: Reader, response: Response) -> PostRead:
    return _answer(response, PostRead.of(await post_service(uow).get(post)))


@router.patch("/{post}", summary="Change a post's team, role, FTE or dates (If-Match honoured)")
async def update_post(
    post: PostRef, body: PostUpdate, request: Request, uow: UoWDep, _: Writer, response: Response
) -> PostRead:
    updated = await post_service(uow).update(post, body, lambda v: check_if_match(request, v))
    return _answer(response, PostRead.of(updated))


@router.post("/{post}/holdings", summary="Record that a worker holds the post from a date")
async def assign_holder(
    post: PostRef,
    body: HoldingCreate,
    request: Request,
    uow: UoWDep,
    _: Writer,
    __: IdempotencyDep,
    response: Response,
) -> PostRead:
    updated = await post_service(uow).assign(post, body, lambda v: check_if_match(request, v))
    return _answer(response, PostRead.of(updated))


@router.post("/{post}/holdings/{holding}/ending", summary="End a worker's holding of the post")
async def end_holding(
    post: PostRef,
    holding: uuid.UUID,
    body: HoldingEnding,
    request: Request,
    uow: UoWDep,
    _: Writer,
    response: Response,
) -> PostRead:
    updated = await post_service(uow).end_holding(post, holding, body, lambda v: check_if_match(request, v))
    return _answer(response, PostRead.of(updated))
