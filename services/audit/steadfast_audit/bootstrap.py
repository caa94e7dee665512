"""The audit service's composition root: what it is made of, in one place."""

from pathlib import Path

from steadfast_audit import models  # noqa: F401  (every table registered on the metadata)
from steadfast_audit.audits.endpoints import router as audits_router
from steadfast_audit.db import tables
from steadfast_audit.directory.projector import worker_directory_consumer
from steadfast_audit.events import registry
from steadfast_audit.imports.endpoints import router as imports_router
from steadfast_audit.learning.endpoints import router as learning_router
from steadfast_audit.programme.endpoints import router as programme_router
from steadfast_audit.settings import AuditSettings
from steadfast_shared.access import AccessLogPurge, access_log_router
from steadfast_shared.service import ServiceDefinition

definition = ServiceDefinition(
    name="audit",
    title="Steadfast audit service",
    description=(
        "Casework quality audits and dip samples: overall and element grades, moderation, learning "
        "actions and the audit programme (planned against done, per team and month)."
    ),
    settings_class=AuditSettings,
    tables=tables,
    registry=registry,
    routers=(imports_router, learning_router, programme_router, audits_router, access_log_router()),
    tasks=(AccessLogPurge,),
    root=Path(__file__).resolve().parent.parent,
    port=8003,
    consumers=(worker_directory_consumer,),
)
