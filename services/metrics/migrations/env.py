from alembic import context

from steadfast_metrics import models  # noqa: F401  (every table registered on the metadata)
from steadfast_metrics.db import Base
from steadfast_metrics.settings import MetricsSettings
from steadfast_shared.db.migrations import run_env

run_env(context, service="metrics", metadata=Base.metadata, settings_class=MetricsSettings)
