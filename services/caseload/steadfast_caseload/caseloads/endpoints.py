from __future__ import annotations

from typing import Annotated

from fastapi import Query

from steadfast_caseload.auth import Reader
from steadfast_caseload.caseloads.repository import CaseloadRepository
from steadfast_caseload.caseloads.schemas import (
    CaseloadSummary,
    OverLimit,
    TeamCaseloads,
    WorkerCaseloadAnswer,
)
from steadfast_caseload.caseloads.service import CaseloadService
from steadfast_caseload.directory.repository import DirectoryRepository
from steadfast_caseload.strategy.endpoints import strategy_service
from steadfast_shared.access import ChildReadsDep
from steadfast_shared.dates import today
from steadfast_shared.http.app import new_router
from steadfast_shared.http.deps import RuntimeDep, UoWDep
from steadfast_shared.schemas import Day
from steadfast_shared.service import Runtime
from steadfast_shared.uow import UnitOfWork

router = new_router("/v1", tags=["caseloads"])

AsOf = Annotated[Day | None, Query(description="the day the caseloads are counted on; default today")]


def caseload_service(uow: UnitOfWork, runtime: Runtime) -> CaseloadService:
    return CaseloadService(
        CaseloadRepository(uow.session), DirectoryRepository(uow.session), strategy_service(uow, runtime)
    )


@router.get("/workers/{worker}/caseload", summary="A worker's caseload on a date (the children allocated)")
async def worker_caseload(
    worker: str, uow: UoWDep, _: Reader, reads: ChildReadsDep, runtime: RuntimeDep, as_of: AsOf = None
) -> WorkerCaseloadAnswer:
    answer = await caseload_service(uow, runtime).of_worker(worker, as_of or today())
    await reads.record(c.child_id for c in answer.children)
    return answer


@router.get("/teams/{team}/caseloads", summary="A team's caseloads on a date, with average and highest")
async def team_caseloads(
    team: str, uow: UoWDep, _: Reader, runtime: RuntimeDep, as_of: AsOf = None
) -> TeamCaseloads:
    return await caseload_service(uow, runtime).of_team(team, as_of or today())


@router.get("/caseloads", summary="Every team's caseload figures on a date")
async def caseload_summary(
    uow: UoWDep, _: Reader, runtime: RuntimeDep, as_of: AsOf = None
) -> CaseloadSummary:
    return await caseload_service(uow, runtime).summary(as_of or today())


@router.get("/caseloads/over-limit", summary="Case-holding workers over their limit, most over first")
async def over_limit(
    uow: UoWDep, _: Reader, runtime: RuntimeDep, as_of: AsOf = None, team: str | None = None
) -> OverLimit:
    return await caseload_service(uow, runtime).over_limit(as_of or today(), team)
