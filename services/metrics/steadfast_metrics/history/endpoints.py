from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, status

from steadfast_metrics.auth import Reader, StrategyWriter
from steadfast_metrics.history.repository import SnapshotRepository
from steadfast_metrics.history.schemas import KpiHistory, SnapshotTaken
from steadfast_metrics.history.service import HistoryService
from steadfast_metrics.kpis.endpoints import AsOf, KpiId, Team, request_kpi_service
from steadfast_metrics.settings import metrics_settings
from steadfast_shared.dates import today
from steadfast_shared.errors import ValidationFailed
from steadfast_shared.http.app import new_router
from steadfast_shared.http.deps import RuntimeDep, UoWDep
from steadfast_shared.http.idempotency import IdempotencyDep
from steadfast_shared.schemas import Day
from steadfast_shared.service import Runtime
from steadfast_shared.uow import UnitOfWork

router = new_router("/v1", tags=["history"])


def history_service(request: Request, uow: UnitOfWork, runtime: Runtime) -> HistoryService:
    settings = metrics_settings(runtime)
    return HistoryService(
        SnapshotRepository(uow.session), request_kpi_service(request, uow, runtime), settings.forecast_points
    )


@router.get(
    "/kpis/{kpi_id}/history",
    summary="A KPI's snapshots for the council or a team, and the forecast at its target's date",
)
async def kpi_history(
    kpi_id: KpiId,
    request: Request,
    uow: UoWDep,
    runtime: RuntimeDep,
    _: Reader,
    team: Team = None,
    from_: Annotated[Day | None, Query(alias="from", description="first day (YYYY-MM-DD)")] = None,
    to: Annotated[Day | None, Query(description="last day (YYYY-MM-DD)")] = None,
) -> KpiHistory:
    if from_ is not None and to is not None and to < from_:
        raise ValidationFailed.field("to", "before_from", "the last day is not before the first")
    return await history_service(request, uow, runtime).history(kpi_id, team, from_, to)


@router.post(
    "/snapshots",
    status_code=status.HTTP_201_CREATED,
    summary="Take a snapshot of every KPI, for the council and each team, now (as of a day, default today); "
    "taking one again the same day replaces it",
)
async def take_snapshot(
    request: Request,
    uow: UoWDep,
    runtime: RuntimeDep,
    _: StrategyWriter,
    __: IdempotencyDep,
    as_of: AsOf = None,
) -> SnapshotTaken:
    return await history_service(request, uow, runtime).take(as_of or today(), "on_demand")
