"""The metrics service's composition root: what it is made of, in one place."""

from pathlib import Path

from steadfast_metrics import models  # noqa: F401  (every table registered on the metadata)
from steadfast_metrics.dashboard.endpoints import STATIC
from steadfast_metrics.dashboard.endpoints import router as dashboard_router
from steadfast_metrics.db import tables
from steadfast_metrics.events import registry
from steadfast_metrics.facts.consumer import projections_consumer
from steadfast_metrics.history.endpoints import router as history_router
from steadfast_metrics.history.schedule import SnapshotSchedule
from steadfast_metrics.kpis.endpoints import router as kpis_router
from steadfast_metrics.kpis.service import KPI_CACHE, new_kpi_cache
from steadfast_metrics.rebuild.commands import COMMANDS
from steadfast_metrics.reports.endpoints import router as reports_router
from steadfast_metrics.settings import MetricsSettings
from steadfast_metrics.strategy.endpoints import router as strategy_router
from steadfast_metrics.watchlists.endpoints import router as watchlists_router
from steadfast_shared.access import AccessLogPurge, access_log_router
from steadfast_shared.service import ServiceDefinition

definition = ServiceDefinition(
    name="metrics",
    title="Steadfast metrics service",
    description=(
        "Live KPIs against the council's workforce strategy, on any date and per team, built only from "
        "the staff, caseload and audit events: the strategy's targets, KPI history and forecasts, "
        "watch lists."
    ),
    settings_class=MetricsSettings,
    tables=tables,
    registry=registry,
    routers=(
        history_router,
        kpis_router,
        watchlists_router,
        strategy_router,
        reports_router,
        access_log_router(),
        dashboard_router,
    ),
    root=Path(__file__).resolve().parent.parent,
    port=8004,
    consumers=(projections_consumer,),
    tasks=(SnapshotSchedule, AccessLogPurge),
    commands=COMMANDS,
    components={KPI_CACHE: new_kpi_cache},
    static_files={"/static": STATIC},
)
