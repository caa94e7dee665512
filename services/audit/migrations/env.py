from alembic import context

from steadfast_audit import models  # noqa: F401  (every table registered on the metadata)
from steadfast_audit.db import Base
from steadfast_audit.settings import AuditSettings
from steadfast_shared.db.migrations import run_env

run_env(context, service="audit", metadata=Base.metadata, settings_class=AuditSettings)
