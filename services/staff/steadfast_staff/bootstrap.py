"""The staff service's composition root: what it is made of, in one place."""

from pathlib import Path

from steadfast_shared.service import ServiceDefinition
from steadfast_staff.census.endpoints import router as census_router
from steadfast_staff.db import tables
from steadfast_staff.events import registry
from steadfast_staff.imports.endpoints import router as imports_router
from steadfast_staff.placements.endpoints import router as placements_router
from steadfast_staff.posts.endpoints import router as posts_router
from steadfast_staff.registrations.endpoints import router as registrations_router
from steadfast_staff.settings import StaffSettings
from steadfast_staff.surveys.endpoints import router as surveys_router
from steadfast_staff.teams.endpoints import router as teams_router
from steadfast_staff.workers.endpoints import router as workers_router

definition = ServiceDefinition(
    name="staff",
    title="Steadfast staff service",
    description=(
        "Workers and their dated employment history, teams, established posts, Social Work England "
        "registration, student placements, recruitment and exit surveys and staff health checks, and the "
        "DfE children's social work workforce census return."
    ),
    settings_class=StaffSettings,
    tables=tables,
    registry=registry,
    routers=(
        teams_router,
        workers_router,
        posts_router,
        placements_router,
        registrations_router,
        surveys_router,
        # Before the CSV imports' /v1/imports/{kind}, so that /v1/imports/csww is this one.
        census_router,
        imports_router,
    ),
    root=Path(__file__).resolve().parent.parent,
    port=8001,
)
