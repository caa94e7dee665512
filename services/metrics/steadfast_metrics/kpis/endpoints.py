from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Request
from fastapi.responses import Response

from steadfast_metrics.auth import Reader
from steadfast_metrics.kpis.catalogue import KPI_IDS
from steadfast_metrics.kpis.exports import kpi_report_csv
from steadfast_metrics.kpis.schemas import KpiReading, KpiReport
from steadfast_metrics.kpis.service import KpiService, kpi_service
from steadfast_shared.dates import FIRST_DAY, LAST_DAY, today
from steadfast_shared.http.app import new_router
from steadfast_shared.http.csv_export import CSV_ANSWER, wants_csv
from steadfast_shared.http.deps import RuntimeDep, UoWDep
from steadfast_shared.schemas import Day
from steadfast_shared.service import Runtime
from steadfast_shared.uow import UnitOfWork

router = new_router("/v1/kpis", tags=["kpis"])

#: The consumer whose lag the answers report (see steadfast_metrics.facts.consumer).
PROJECTIONS_CONSUMER = "metrics-projections"

AsOf = Annotated[
    Day | None,
    Query(description=f"the day measured (YYYY-MM-DD, {FIRST_DAY} to {LAST_DAY}); default today"),
]
Team = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=40,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$",
        description="a team's code; default the whole council",
    ),
]
KpiId = Annotated[str, Path(description=f"one of: {', '.join(KPI_IDS)}")]


def request_kpi_service(request: Request, uow: UnitOfWork, runtime: Runtime) -> KpiService:
    """The KPI service of this request, with the process's cache and this replica's consumer lag."""
    consumer = getattr(request.app.state, "background_tasks", {}).get(PROJECTIONS_CONSUMER)
    return kpi_service(runtime, uow.session, getattr(consumer, "partition_lag", None))


@router.get(
    "",
    summary="Every KPI of the strategy as of a day, for the council or a team (JSON, or CSV)",
    response_model=KpiReport,
    responses=CSV_ANSWER,
)
async def kpis(
    request: Request, uow: UoWDep, runtime: RuntimeDep, _: Reader, as_of: AsOf = None, team: Team = None
) -> KpiReport | Response:
    report = await request_kpi_service(request, uow, runtime).report(as_of or today(), team)
    return kpi_report_csv(report) if wants_csv(request) else report


@router.get("/{kpi_id}", summary="One KPI as of a day, for the council or a team")
async def kpi(
    kpi_id: KpiId,
    request: Request,
    uow: UoWDep,
    runtime: RuntimeDep,
    _: Reader,
    as_of: AsOf = None,
    team: Team = None,
) -> KpiReading:
    return await request_kpi_service(request, uow, runtime).reading(kpi_id, as_of or today(), team)
