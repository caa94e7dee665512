from alembic import context

from steadfast_shared.db.migrations import run_env
from steadfast_staff import models  # noqa: F401  (every table registered on the metadata)
from steadfast_staff.db import Base
from steadfast_staff.settings import StaffSettings

run_env(context, service="staff", metadata=Base.metadata, settings_class=StaffSettings)
