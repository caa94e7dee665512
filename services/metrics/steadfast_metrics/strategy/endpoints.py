from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request, Response

from steadfast_metrics.auth import Reader, StrategyWriter
from steadfast_metrics.settings import metrics_settings
from steadfast_metrics.strategy.repository import StrategyRepository
from steadfast_metrics.strategy.schemas import StrategyChange, StrategyRead
from steadfast_metrics.strategy.service import StrategyService
from steadfast_shared.http.app import new_router
from steadfast_shared.http.concurrency import check_if_match, set_etag
from steadfast_shared.http.deps import RuntimeDep, UoWDep
from steadfast_shared.http.idempotency import IdempotencyDep
from steadfast_shared.http.pagination import Page, PageParams, page_params
from steadfast_shared.service import Runtime
from steadfast_shared.uow import UnitOfWork

router = new_router("/v1/strategy", tags=["strategy"])

#: The largest version number the strategy table's integer column holds (a larger one is a 422, not
#: a database overflow).
MAX_VERSION = 2**31 - 1


def strategy_service(uow: UnitOfWork, runtime: Runtime) -> StrategyService:
    settings = metrics_settings(runtime)
    return StrategyService(StrategyRepository(uow.session), settings.council)


@router.get("", summary="The strategy in force: targets, milestones, weights, limits, intervals, tolerance")
async def current_strategy(uow: UoWDep, runtime: RuntimeDep, _: Reader, response: Response) -> StrategyRead:
    current = await strategy_service(uow, runtime).current()
    set_etag(response, current.version)
    return current


@router.put(
    "",
    summary="Change the strategy: stores a new version (If-Match: the version it is based on); every KPI "
    "status follows at once",
)
async def change_strategy(
    body: StrategyChange,
    request: Request,
    uow: UoWDep,
    runtime: RuntimeDep,
    principal: StrategyWriter,
    __: IdempotencyDep,
    response: Response,
) -> StrategyRead:
    changed = await strategy_service(uow, runtime).change(
        body, principal.subject, lambda v: check_if_match(request, v)
    )
    set_etag(response, changed.version)
    return changed


@router.get("/versions", summary="Every version of the strategy, oldest first (paged)")
async def strategy_versions(
    uow: UoWDep, runtime: RuntimeDep, _: Reader, params: Annotated[PageParams, Depends(page_params)]
) -> Page[StrategyRead]:
    return await strategy_service(uow, runtime).versions(params)


@router.get("/versions/{version}", summary="One version of the strategy")
async def strategy_version(
    version: Annotated[int, Path(ge=1, le=MAX_VERSION)],
    uow: UoWDep,
    runtime: RuntimeDep,
    _: Reader,
    response: Response,
) -> StrategyRead:
    found = await strategy_service(uow, runtime).version(version)
    set_etag(response, found.version)
    return found
