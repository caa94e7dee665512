"""Fixtures of the metrics service's tests, and builders of the events its projections are made from.

The events are built with the producers' own payload models (the staff, caseload and audit services'
``events.py``), so a test feeds the projector exactly what those services publish; the metrics service
itself never imports them.

- ``metrics``: the service running in-process (its projections consumer included) on a fresh database,
  reading staff, caseload and audit topics of its own, so no other test's events reach it.
- ``projections``: a fresh migrated database alone (no broker), for applying events through
  :func:`steadfast_metrics.facts.projector.apply_event` directly (the mapping alone needs no database:
  `test_projection_mapping.py`).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pytest_asyncio
from pydantic import BaseModel

from steadfast_audit.events import AuditData
from steadfast_caseload.events import (
    AllocationData,
    AssessmentData,
    EpisodeData,
    FeedbackData,
    IroVisitData,
    ReviewData,
    VisitData,
)
from steadfast_metrics.bootstrap import definition
from steadfast_metrics.facts.projector import apply_event
from steadfast_metrics.facts.records import Facts
from steadfast_metrics.facts.repository import FactsRepository
from steadfast_shared.codes import AuditType, EmploymentType, EpisodeType, Grade, Role, VisitType
from steadfast_shared.db import Database, create_database
from steadfast_shared.events import CloudEvent, EventType
from steadfast_shared.events.envelope import new_event
from steadfast_shared.testing import ServiceClient
from steadfast_shared.uow import UnitOfWork
from steadfast_staff.enums import Placement
from steadfast_staff.events import (
    HoldingData,
    PostData,
    RecruitmentSurveyData,
    StudentPlacementData,
    TermsData,
    WorkerData,
)

START = date(2014, 1, 6)

#: The field of each payload that names its aggregate (the Kafka key).
_SUBJECTS = ("child_id", "audit_id", "feedback_id", "id", "code")


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def event(event_type: EventType[Any], data: BaseModel, *, time: datetime | None = None) -> CloudEvent:
    """The envelope the producer publishes ``data`` in (its ``time`` may be given)."""
    if not isinstance(data, event_type.data_model):
        raise TypeError(f"{event_type.type} carries {event_type.data_model.__name__}")
    subject = next(str(getattr(data, f)) for f in _SUBJECTS if getattr(data, f, None) is not None)
    built = new_event(
        source="/steadfast/" + event_type.type.split(".")[2],
        type_=event_type.type,
        subject=subject,
        data=data.model_dump(mode="json"),
    )
    return built if time is None else built.model_copy(update={"time": time})


# -- staff ------------------------------------------------------------------------------------------


def terms(
    effective_from: date = START,
    effective_to: date | None = None,
    *,
    role: Role = Role.social_worker,
    team: str = "ACIN1",
    fte: float = 1.0,
    employment_type: EmploymentType = EmploymentType.permanent,
) -> TermsData:
    return TermsData(
        effective_from=effective_from,
        effective_to=effective_to,
        role=role,
        team=team,
        fte=fte,
        employment_type=employment_type,
    )


def worker(
    worker_id: uuid.UUID | None = None,
    *,
    version: int = 1,
    start_date: date = START,
    end_date: date | None = None,
    history: list[TermsData] | None = None,
    asye_start: date | None = None,
    asye_end: date | None = None,
    protected_development_pct: float | None = None,
    swe_registration_expiry: date | None = None,
    external_id: str | None = None,
) -> WorkerData:
    worker_id = worker_id or new_id()
    return WorkerData(
        id=worker_id,
        external_id=external_id or f"W-{worker_id.hex[:8]}",
        version=version,
        display_name=f"Worker {worker_id.hex[:8]}",
        start_date=start_date,
        end_date=end_date,
        leaving_reason=None,
        asye_start=asye_start,
        asye_end=asye_end,
        protected_development_pct=protected_development_pct,
        swe_registration_expiry=swe_registration_expiry,
        history=history if history is not None else [terms(start_date, end_date)],
    )


def post(
    post_id: uuid.UUID | None = None,
    *,
    version: int = 1,
    team: str = "ACIN1",
    fte: float = 1.0,
    start_date: date = START,
    end_date: date | None = None,
    holders: Sequence[tuple[uuid.UUID, date, date | None]] = (),
) -> PostData:
    post_id = post_id or new_id()
    return PostData(
        id=post_id,
        external_id=f"P-{post_id.hex[:8]}",
        version=version,
        team=team,
        role=Role.social_worker,
        fte=fte,
        start_date=start_date,
        end_date=end_date,
        holdings=[
            HoldingData(id=uuid.uuid5(post_id, f"{w}/{s}"), worker_id=w, start_date=s, end_date=e)
            for w, s, e in holders
        ],
    )


def placement(
    placement_id: uuid.UUID | None = None,
    *,
    version: int = 1,
    team: str = "ACIN1",
    start_date: date = date(2015, 9, 1),
    end_date: date | None = None,
) -> StudentPlacementData:
    placement_id = placement_id or new_id()
    return StudentPlacementData(
        id=placement_id,
        external_id=f"S-{placement_id.hex[:8]}",
        version=version,
        student_worker_id=None,
        university="Brunel",
        placement=Placement.first,
        team=team,
        start_date=start_date,
        end_date=end_date,
        hired_afterwards=False,
        hired_worker_id=None,
    )


def recruitment_survey(
    returned_date: date,
    *,
    survey_id: uuid.UUID | None = None,
    version: int = 1,
    team: str | None = "ACIN1",
    **scores: int,
) -> RecruitmentSurveyData:
    return RecruitmentSurveyData(
        id=survey_id or new_id(),
        version=version,
        returned_date=returned_date,
        team=team,
        **scores,
    )


# -- caseload ---------------------------------------------------------------------------------------


def _child(child_id: uuid.UUID, child_version: int) -> dict[str, Any]:
    return {
        "child_id": child_id,
        "child_external_id": f"C-{child_id.hex[:8]}",
        "child_version": child_version,
    }


def episode(
    child_id: uuid.UUID,
    episode_type: EpisodeType,
    start_date: date,
    end_date: date | None = None,
    *,
    child_version: int = 1,
    episode_id: uuid.UUID | None = None,
) -> EpisodeData:
    return EpisodeData(
        **_child(child_id, child_version),
        episode_id=episode_id or new_id(),
        episode_type=episode_type,
        start_date=start_date,
        end_date=end_date,
    )


def allocation(
    child_id: uuid.UUID,
    worker_id: uuid.UUID,
    start_date: date,
    end_date: date | None = None,
    *,
    child_version: int = 1,
    allocation_id: uuid.UUID | None = None,
) -> AllocationData:
    return AllocationData(
        **_child(child_id, child_version),
        allocation_id=allocation_id or new_id(),
        worker_id=worker_id,
        start_date=start_date,
        end_date=end_date,
        reason=None,
    )


def assessment(
    child_id: uuid.UUID,
    start_date: date,
    completed_date: date | None = None,
    *,
    child_version: int = 1,
    assessment_id: uuid.UUID | None = None,
) -> AssessmentData:
    assessment_id = assessment_id or new_id()
    return AssessmentData(
        **_child(child_id, child_version),
        assessment_id=assessment_id,
        external_id=f"A-{assessment_id.hex[:8]}",
        start_date=start_date,
        completed_date=completed_date,
    )


def visit(
    child_id: uuid.UUID, visit_date: date, visit_type: VisitType = VisitType.cp, *, child_version: int = 1
) -> VisitData:
    return VisitData(
        **_child(child_id, child_version),
        visit_id=new_id(),
        visit_date=visit_date,
        visit_type=visit_type,
        seen_alone=True,
    )


def review(child_id: uuid.UUID, review_date: date, *, child_version: int = 1) -> ReviewData:
    return ReviewData(**_child(child_id, child_version), review_id=new_id(), review_date=review_date)


def iro_visit(child_id: uuid.UUID, visit_date: date, *, child_version: int = 1) -> IroVisitData:
    return IroVisitData(**_child(child_id, child_version), iro_visit_id=new_id(), visit_date=visit_date)


def feedback(returned_date: date, *, team: str | None = "ACIN1", **scores: int | None) -> FeedbackData:
    answers: dict[str, int | None] = {
        "involved_in_decisions": None,
        "worker_stability": None,
        "contact_quality": None,
    }
    answers.update(scores)
    return FeedbackData(
        feedback_id=new_id(),
        external_id=None,
        child_id=None,
        team=team,
        returned_date=returned_date,
        **answers,
    )


# -- audit ------------------------------------------------------------------------------------------


def audit(
    audit_id: uuid.UUID | None = None,
    *,
    audit_version: int = 1,
    audit_type: AuditType = AuditType.full,
    team: str = "ACIN1",
    completed_date: date | None = date(2015, 2, 2),
    overall_grade: Grade | None = Grade.good,
    moderated_grade: Grade | None = None,
    contact_grade: Grade | None = None,
) -> AuditData:
    return AuditData(
        audit_id=audit_id or new_id(),
        external_id=None,
        audit_type=audit_type,
        child_ref="C-1",
        worker_id=new_id(),
        team=team,
        started_date=completed_date,
        completed_date=completed_date,
        overall_grade=overall_grade,
        element_grades={} if contact_grade is None else {"contact": contact_grade},
        moderated_grade=moderated_grade,
        moderated_date=completed_date if moderated_grade is not None else None,
        effective_grade=moderated_grade or overall_grade,
        audit_version=audit_version,
    )


# -- applying and loading ---------------------------------------------------------------------------


@dataclass
class Projections:
    """A migrated metrics database, and ways to apply events to it and read the facts back."""

    database: Database

    async def apply(self, *events: CloudEvent) -> None:
        """Apply each event in a unit of work of its own, as the consumer does."""
        for applied in events:
            async with self.database.sessionmaker() as session:
                uow = UnitOfWork(session, tables=definition.tables, registry=definition.registry)
                await apply_event(uow, applied)
                await uow.commit()

    async def load(self, as_of: date, window_days: int = 182) -> Facts:
        async with self.database.sessionmaker() as session:
            return await FactsRepository(session).load(as_of, window_days)


@pytest_asyncio.fixture(loop_scope="session")
async def projections(make_database: Callable[..., Awaitable[str]]) -> AsyncIterator[Projections]:
    database = create_database(await make_database(definition), pool_size=2)
    try:
        yield Projections(database)
    finally:
        await database.dispose()


@pytest_asyncio.fixture(loop_scope="session")
async def metrics(start_service: Callable[..., Awaitable[ServiceClient]]) -> ServiceClient:
    """The metrics service, its projections consumer reading topics of its own, with no snapshot
    schedule (tests take snapshots on demand; tests/metrics/test_snapshot_schedule.py runs it)."""
    unique = uuid.uuid4().hex
    return await start_service(
        definition,
        staff_topic=f"test.staff.{unique}",
        caseload_topic=f"test.caseload.{unique}",
        audit_topic=f"test.audit.{unique}",
        snapshot_interval_days=0,  # no scheduled snapshot of "today" in the tests' histories
    )
