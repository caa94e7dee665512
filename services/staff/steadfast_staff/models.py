"""Every ORM model of the service, imported so the metadata is complete (for Alembic and the app)."""

from steadfast_staff.teams.models import Team
from steadfast_staff.workers.models import Worker, WorkerTerms

__all__ = ["Team", "Worker", "WorkerTerms"]
