from alembic import context

from steadfast_caseload import models  # noqa: F401  (every table registered on the metadata)
from steadfast_caseload.db import Base
from steadfast_caseload.settings import CaseloadSettings
from steadfast_shared.db.migrations import run_env

run_env(context, service="caseload", metadata=Base.metadata, settings_class=CaseloadSettings)
