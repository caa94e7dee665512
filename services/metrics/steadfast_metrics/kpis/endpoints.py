from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Path, Query, Request

from steadfast_metrics.auth import Reader
from steadfast_metrics.kpis.cache import KpiCache
from steadfast_metrics.kpis.catalogue import KPI_IDS
from steadfast_metrics.kpis.schemas import KpiReading, KpiReport
from steadfast_metrics.kpis.service import KpiService
from steadfast_metrics.settings import metrics_settings
from steadfast_shared.dates import today
from steadfast_shared.http.app import new_router
from steadfast_shared.http.deps import RuntimeDep, UoWDep
from steadfast_shared.service import Runtime
from steadfast_shared.uow import UnitOfWork

router = new_router("/v1/kpis", tags=["kpis"])

#: The consumer whose lag the answers report (see steadfast_metrics.facts.consumer).
PROJECTIONS_CONSUMER = "metrics-projections"

#: The days a KPI can be asked for: wide enough for any council's records, narrow enough that a window
#: or a year back (or a working day ahead) never leaves the calendar.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2199, 12, 31)

AsOf = Annotated[
    date | None,
    Query(
        ge=FIRST_DAY,
        le=LAST_DAY,
        description=f"the day measured (YYYY-MM-DD, {FIRST_DAY} to {LAST_DAY}); default today",
    ),
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


def kpi_service(request: Request, uow: UnitOfWork, runtime: Runtime) -> KpiService:
    """The KPI service of this request, with the process's cache and this replica's consumer lag."""
    settings = metrics_settings(runtime)
    cache: KpiCache | None = getattr(request.app.state, "kpi_cache", None)
    if cache is None:
        cache = request.app.state.kpi_cache = KpiCache(settings.kpi_cache_seconds)
    consumer = getattr(request.app.state, "background_tasks", {}).get(PROJECTIONS_CONSUMER)
    return KpiService.of(uow.session, settings, cache, getattr(consumer, "partition_lag", None))


@router.get("", summary="Every KPI of the strategy as of a day, for the council or a team")
async def kpis(
    request: Request, uow: UoWDep, runtime: RuntimeDep, _: Reader, as_of: AsOf = None, team: Team = None
) -> KpiReport:
    return await kpi_service(request, uow, runtime).report(as_of or today(), team)


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
    return await kpi_service(request, uow, runtime).reading(kpi_id, as_of or today(), team)
