"""The caseload service's composition root: what it is made of, in one place."""

from pathlib import Path

from steadfast_caseload import models  # noqa: F401  (every table registered on the metadata)
from steadfast_caseload.caseloads.endpoints import router as caseloads_router
from steadfast_caseload.casework.endpoints import router as casework_router
from steadfast_caseload.children.endpoints import router as children_router
from steadfast_caseload.db import tables
from steadfast_caseload.directory.projector import worker_directory_consumer
from steadfast_caseload.events import registry
from steadfast_caseload.feedback.endpoints import router as feedback_router
from steadfast_caseload.imports.endpoints import router as imports_router
from steadfast_caseload.returns.endpoints import router as returns_router
from steadfast_caseload.settings import CaseloadSettings
from steadfast_caseload.strategy.endpoints import router as strategy_router
from steadfast_caseload.strategy.projector import strategy_consumer
from steadfast_shared.access import AccessLogPurge, access_log_router
from steadfast_shared.service import ServiceDefinition

definition = ServiceDefinition(
    name="caseload",
    title="Steadfast caseload service",
    description=(
        "Children (pseudonymous), their episodes, allocations to workers, assessments, statutory visits, "
        "reviews, IRO visits and child/family feedback; caseloads and overdue work on any date."
    ),
    settings_class=CaseloadSettings,
    tables=tables,
    registry=registry,
    routers=(
        # Before the imports: its import routes are more specific than /v1/imports/{kind}.
        returns_router,
        imports_router,
        casework_router,
        feedback_router,
        children_router,
        caseloads_router,
        strategy_router,
        access_log_router(),
    ),
    tasks=(AccessLogPurge,),
    root=Path(__file__).resolve().parent.parent,
    port=8002,
    consumers=(worker_directory_consumer, strategy_consumer),
)
