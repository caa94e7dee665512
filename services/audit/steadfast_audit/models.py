"""Every ORM model of the service, imported so the metadata is complete (for Alembic and the app)."""

from steadfast_audit.audits.models import Audit, ElementGrade, LearningAction
from steadfast_audit.directory.models import DirectoryTerms, DirectoryWorker
from steadfast_audit.programme.models import PlannedAudits

__all__ = ["Audit", "DirectoryTerms", "DirectoryWorker", "ElementGrade", "LearningAction", "PlannedAudits"]
