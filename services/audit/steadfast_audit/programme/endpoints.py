from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Response, status

from steadfast_audit.audits.repository import AuditRepository
from steadfast_audit.auth import Reader, Writer
from steadfast_audit.programme.repository import ProgrammeRepository
from steadfast_audit.programme.schemas import PlanRead, PlanUpdate, ProgrammeProgress, month_label
from steadfast_audit.programme.service import ProgrammeService, parse_month
from steadfast_shared.dates import today
from steadfast_shared.http.app import new_router
from steadfast_shared.http.concurrency import set_etag
from steadfast_shared.http.deps import UoWDep
from steadfast_shared.http.idempotency import IdempotencyDep
from steadfast_shared.uow import UnitOfWork

router = new_router("/v1/programme", tags=["programme"])

TeamPath = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]


def programme_service(uow: UnitOfWork) -> ProgrammeService:
    return ProgrammeService(ProgrammeRepository(uow.session), AuditRepository(uow.session))


@router.put(
    "/{team}/{month}",
    summary="Set how many audits are planned for a team in a month (yyyy-mm)",
    responses={201: {"model": PlanRead, "description": "The plan was set for the first time"}},
)
async def set_plan(
    team: TeamPath,
    month: str,
    body: PlanUpdate,
    uow: UoWDep,
    _: Writer,
    __: IdempotencyDep,
    response: Response,
) -> PlanRead:
    created, plan = await programme_service(uow).plan(team, parse_month(month), body.planned)
    if created:
        response.status_code = status.HTTP_201_CREATED
    set_etag(response, plan.version)
    return PlanRead(team=plan.team, month=month_label(plan.month), planned=plan.planned)


@router.get("", summary="Programme progress: audits planned and completed per team and month")
async def progress(
    uow: UoWDep,
    _: Reader,
    from_: Annotated[
        str | None, Query(alias="from", description="first month, yyyy-mm; default this month")
    ] = None,
    to: Annotated[str | None, Query(description="last month, yyyy-mm; default the first")] = None,
    team: str | None = None,
) -> list[ProgrammeProgress]:
    first = parse_month(from_, "from") if from_ is not None else today().replace(day=1)
    last = parse_month(to, "to") if to is not None else first
    return await programme_service(uow).progress(first, last, team)
