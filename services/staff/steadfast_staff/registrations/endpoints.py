from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Response, status

from steadfast_shared.dates import today
from steadfast_shared.http.app import new_router
from steadfast_shared.http.concurrency import set_etag
from steadfast_shared.http.deps import UoWDep
from steadfast_shared.http.idempotency import IdempotencyDep
from steadfast_shared.http.pagination import Page, PageParams, page_params
from steadfast_shared.schemas import Day
from steadfast_shared.uow import UnitOfWork
from steadfast_staff.auth import Reader, Writer
from steadfast_staff.registrations.repository import CpdRepository
from steadfast_staff.registrations.schemas import CpdEntryCreate, CpdEntryRead, RegistrationWatch
from steadfast_staff.registrations.service import RegistrationService
from steadfast_staff.workers.repository import WorkerRepository

router = new_router("/v1", tags=["registrations"])

WorkerRef = Annotated[str, "the worker's id, or the HR system's external_id"]


def registration_service(uow: UnitOfWork) -> RegistrationService:
    return RegistrationService(WorkerRepository(uow.session), CpdRepository(uow.session))


@router.post(
    "/workers/{worker}/cpd",
    status_code=status.HTTP_201_CREATED,
    summary="Record a CPD entry for a worker (Social Work England registration)",
)
async def record_cpd_entry(
    worker: WorkerRef, body: CpdEntryCreate, uow: UoWDep, _: Writer, __: IdempotencyDep, response: Response
) -> CpdEntryRead:
    entry = await registration_service(uow).record_cpd(worker, body)
    response.headers["Location"] = f"/v1/workers/{entry.worker_id}/cpd"
    set_etag(response, entry.version)
    return CpdEntryRead.of(entry)


@router.get("/workers/{worker}/cpd", summary="A worker's CPD entries, oldest first")
async def list_cpd_entries(
    worker: WorkerRef,
    uow: UoWDep,
    _: Reader,
    params: Annotated[PageParams, Depends(page_params)],
    registration_year: Annotated[
        int | None,
        Query(ge=2000, le=2100, description="only this registration year's (1 December to 30 November)"),
    ] = None,
) -> Page[CpdEntryRead]:
    return await registration_service(uow).cpd_entries(worker, params, registration_year)


@router.get(
    "/registrations/watch-list",
    summary="Workers whose registration lapses before the next renewal window closes, or behind on CPD",
)
async def registration_watch_list(
    uow: UoWDep,
    _: Reader,
    params: Annotated[PageParams, Depends(page_params)],
    as_of: Annotated[Day | None, Query(description="the day the rules are applied on; default today")] = None,
) -> Page[RegistrationWatch]:
    return await registration_service(uow).watch_list(params, as_of or today())
