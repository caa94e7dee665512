from __future__ import annotations

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
from steadfast_staff.teams.repository import TeamRepository
from steadfast_staff.teams.service import TeamService
from steadfast_staff.workers.repository import WorkerRepository
from steadfast_staff.workers.schemas import (
    ExpiringRegistration,
    Leaving,
    TermsChange,
    TermsRead,
    WorkerCreate,
    WorkerRead,
    WorkerUpdate,
)
from steadfast_staff.workers.service import WorkerService

router = new_router("/v1", tags=["workers"])

WorkerRef = Annotated[str, "the worker's id, or the HR system's external_id"]


def worker_service(uow: UnitOfWork) -> WorkerService:
    return WorkerService(WorkerRepository(uow.session), TeamService(TeamRepository(uow.session)))


def _answer(response: Response, worker: WorkerRead) -> WorkerRead:
    set_etag(response, worker.version)
    return worker


@router.post("/workers", status_code=status.HTTP_201_CREATED, summary="Record a worker (a starter)")
async def hire_worker(
    body: WorkerCreate, uow: UoWDep, _: Writer, __: IdempotencyDep, response: Response
) -> WorkerRead:
    worker = await worker_service(uow).hire(body)
    response.headers["Location"] = f"/v1/workers/{worker.id}"
    return _answer(response, WorkerRead.of(worker))


@router.get("/workers", summary="List workers, filtered by team and role as of a date")
async def list_workers(
    uow: UoWDep,
    _: Reader,
    params: Annotated[PageParams, Depends(page_params)],
    team: str | None = None,
    role: Role | None = None,
    in_post: Annotated[
        bool | None, Query(description="only those in post (true) or not (false) on as_of")
    ] = None,
    as_of: Annotated[
        Day | None, Query(description="the date team, role and in_post refer to; default today")
    ] = None,
) -> Page[WorkerRead]:
    return await WorkerRepository(uow.session).page(
        params, as_of=as_of or today(), team=team, role=role, in_post=in_post
    )


@router.get("/workers/{worker}", summary="One worker, by id or external_id")
async def get_worker(worker: WorkerRef, uow: UoWDep, _: Reader, response: Response) -> WorkerRead:
    return _answer(response, WorkerRead.of(await worker_service(uow).get(worker)))


@router.get("/workers/{worker}/history", summary="A worker's dated employment history")
async def get_worker_history(worker: WorkerRef, uow: UoWDep, _: Reader) -> list[TermsRead]:
    return [TermsRead.of(s) for s in (await worker_service(uow).get(worker)).history]


@router.patch("/workers/{worker}", summary="Change a worker's details (If-Match honoured)")
async def update_worker(
    worker: WorkerRef,
    body: WorkerUpdate,
    request: Request,
    uow: UoWDep,
    _: Writer,
    response: Response,
) -> WorkerRead:
    updated = await worker_service(uow).update(worker, body, lambda v: check_if_match(request, v))
    return _answer(response, WorkerRead.of(updated))


@router.post("/workers/{worker}/changes", summary="A dated change of role, team, FTE or employment type")
async def change_worker_terms(
    worker: WorkerRef,
    body: TermsChange,
    request: Request,
    uow: UoWDep,
    _: Writer,
    response: Response,
) -> WorkerRead:
    updated = await worker_service(uow).change_terms(worker, body, lambda v: check_if_match(request, v))
    return _answer(response, WorkerRead.of(updated))


@router.post("/workers/{worker}/leaving", summary="Record that a worker leaves (end date and reason)")
async def record_leaving(
    worker: WorkerRef, body: Leaving, request: Request, uow: UoWDep, _: Writer, response: Response
) -> WorkerRead:
    updated = await worker_service(uow).leave(worker, body, lambda v: check_if_match(request, v))
    return _answer(response, WorkerRead.of(updated))


@router.get("/registrations/expiring", summary="Social Work England registrations expiring within N days")
async def expiring_registrations(
    uow: UoWDep,
    _: Reader,
    within_days: Annotated[int, Query(ge=0, le=3650)] = 60,
    as_of: Day | None = None,
) -> list[ExpiringRegistration]:
    return await worker_service(uow).expiring_registrations(as_of=as_of or today(), within_days=within_days)
