"""Every ORM model of the service, imported so the metadata is complete (for Alembic and the app)."""

from steadfast_caseload.children.models import Allocation, Assessment, Child, Episode, IroVisit, Review, Visit
from steadfast_caseload.directory.models import DirectoryTerms, DirectoryWorker
from steadfast_caseload.feedback.models import Feedback
from steadfast_caseload.strategy.models import StrategyVersion

__all__ = [
    "Allocation",
    "Assessment",
    "Child",
    "DirectoryTerms",
    "DirectoryWorker",
    "Episode",
    "Feedback",
    "IroVisit",
    "Review",
    "StrategyVersion",
    "Visit",
]
