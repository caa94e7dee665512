"""Every ORM model of the service, imported so the metadata is complete (for Alembic and the app)."""

from steadfast_staff.census.models import CensusRecord
from steadfast_staff.placements.models import StudentPlacement
from steadfast_staff.posts.models import Post, PostHolding
from steadfast_staff.registrations.models import CpdEntry
from steadfast_staff.surveys.models import ExitSurvey, RecruitmentSurvey, StaffHealthCheck
from steadfast_staff.teams.models import Team
from steadfast_staff.workers.models import Worker, WorkerTerms

__all__ = [
    "CensusRecord",
    "CpdEntry",
    "ExitSurvey",
    "Post",
    "PostHolding",
    "RecruitmentSurvey",
    "StaffHealthCheck",
    "StudentPlacement",
    "Team",
    "Worker",
    "WorkerTerms",
]
