from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from steadfast_caseload.children.models import Assessment, IroVisit, Review, Visit
from steadfast_shared.codes import EpisodeType, Role, VisitType
from steadfast_shared.schemas import ExternalId, Input, NotNull, with_examples

# -- records of a child -----------------------------------------------------------------------------


class AssessmentCreate(Input):
    """An assessment, keyed by the case-management system's ``external_id`` (sent again: an update)."""

    model_config = with_examples(
        {"external_id": "ASM-30117", "start_date": "2014-10-06", "completed_date": "2014-11-28"},
        extra="forbid",
    )

    external_id: ExternalId
    start_date: date
    completed_date: date | None = Field(default=None, description="completed and authorised; null while open")


class AssessmentUpdate(Input):
    """A partial update: only the fields sent change (``completed_date: null`` reopens it)."""

    #: The assessment is completed and authorised.
    model_config = with_examples({"completed_date": "2015-03-20"}, extra="forbid")

    start_date: Annotated[date | None, NotNull] = None
    completed_date: date | None = None

    @model_validator(mode="after")
    def _something_changes(self) -> AssessmentUpdate:
        if not self.model_fields_set:
            raise ValueError("send start_date or completed_date")
        return self


class AssessmentRead(BaseModel):
    model_config = with_examples(
        {
            "id": "e1c7b3a9-5d2f-4f68-a0e4-9b8c6d1f3a27",
            "external_id": "ASM-30117",
            "child_id": "5b7e2c90-1d43-4a8f-8e6b-0c9f3a2d7e15",
            "start_date": "2014-10-06",
            "completed_date": "2014-11-28",
        }
    )

    id: uuid.UUID
    external_id: str
    child_id: uuid.UUID
    start_date: date
    completed_date: date | None

    @classmethod
    def of(cls, assessment: Assessment) -> AssessmentRead:
        return cls(
            id=assessment.id,
            external_id=assessment.external_id,
            child_id=assessment.child_id,
            start_date=assessment.start_date,
            completed_date=assessment.completed_date,
        )


class VisitCreate(Input):
    """A statutory visit, keyed by (date, type): sending one again updates ``seen_alone``."""

    model_config = with_examples(
        {"visit_date": "2015-02-23", "visit_type": "cp", "seen_alone": True}, extra="forbid"
    )

    visit_date: date
    visit_type: VisitType
    seen_alone: bool | None = Field(default=None, description="whether the child was seen alone")


class VisitRead(BaseModel):
    id: uuid.UUID
    child_id: uuid.UUID
    visit_date: date
    visit_type: VisitType
    seen_alone: bool | None

    @classmethod
    def of(cls, visit: Visit) -> VisitRead:
        return cls(
            id=visit.id,
            child_id=visit.child_id,
            visit_date=visit.visit_date,
            visit_type=visit.visit_type,
            seen_alone=visit.seen_alone,
        )


class ReviewCreate(Input):
    model_config = with_examples({"review_date": "2015-03-01"}, extra="forbid")

    review_date: date


class ReviewRead(BaseModel):
    id: uuid.UUID
    child_id: uuid.UUID
    review_date: date

    @classmethod
    def of(cls, review: Review) -> ReviewRead:
        return cls(id=review.id, child_id=review.child_id, review_date=review.review_date)


class IroVisitCreate(Input):
    #: The independent reviewing officer sees the child between two reviews.
    model_config = with_examples({"visit_date": "2014-12-01"}, extra="forbid")

    visit_date: date


class IroVisitRead(BaseModel):
    id: uuid.UUID
    child_id: uuid.UUID
    visit_date: date

    @classmethod
    def of(cls, visit: IroVisit) -> IroVisitRead:
        return cls(id=visit.id, child_id=visit.child_id, visit_date=visit.visit_date)


# -- the watch lists --------------------------------------------------------------------------------


class AllocatedWorker(BaseModel):
    """A worker allocated to the child on ``as_of``, with their role and team on that day."""

    id: uuid.UUID
    external_id: str
    display_name: str
    role: Role | None
    team: str | None


class VisitDue(BaseModel):
    episode_type: EpisodeType
    episode_start: date
    reference_date: date = Field(description="the latest visit since the episode started, else its start")
    due_date: date
    days_overdue: int = Field(description="calendar days past the due date; negative: days left")
    overdue: bool


class ChildVisitsDue(BaseModel):
    """A child whose statutory visit is overdue or due soon. The top-level dates are the governing
    (earliest) due date; ``due`` lists each cp / cla episode's own."""

    child_id: uuid.UUID
    child_external_id: str
    episode_type: EpisodeType
    reference_date: date
    due_date: date
    days_overdue: int
    overdue: bool
    due: list[VisitDue]
    workers: list[AllocatedWorker]


class VisitsDueReport(BaseModel):
    as_of: date
    within_days: int
    children: list[ChildVisitsDue]


class AssessmentApproaching(BaseModel):
    assessment_id: uuid.UUID
    external_id: str
    child_id: uuid.UUID
    child_external_id: str
    start_date: date
    working_days_elapsed: int = Field(description="working days D with start_date < D <= as_of")
    working_days_left: int = Field(description="working days left to the timescale; negative: overdue")
    overdue: bool
    workers: list[AllocatedWorker]
    teams: list[str] = Field(description="the allocated workers' teams on as_of")


class AssessmentsApproachingReport(BaseModel):
    as_of: date
    within_working_days: int
    timescale_working_days: int
    assessments: list[AssessmentApproaching]
