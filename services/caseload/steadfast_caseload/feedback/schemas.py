from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from steadfast_caseload.feedback.models import Feedback
from steadfast_shared.schemas import ExternalId, Input, with_examples

Score = Annotated[int, Field(ge=1, le=5, description="1 (lowest) to 5 (highest); absent: not answered")]
TeamCode = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
    ),
]


class FeedbackScores(BaseModel):
    """The child and family experience factors (SPEC section 3): high is good."""

    involved_in_decisions: Score | None = None
    worker_stability: Score | None = None
    contact_quality: Score | None = None


class FeedbackCreate(FeedbackScores, Input):
    """A returned child/family feedback form. At least one factor must be answered."""

    model_config = with_examples(
        {
            "returned_date": "2015-03-06",
            "external_id": "FB-2015-0042",
            "child": "LCS-1001",
            "involved_in_decisions": 4,
            "worker_stability": 5,
            "contact_quality": 4,
        },
        extra="forbid",
    )

    returned_date: date
    external_id: ExternalId | None = Field(
        default=None, description="the source system's id for the form, if it has one"
    )
    child: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = Field(
        default=None, description="the child's id or external_id; omit when the form is anonymous"
    )
    team: TeamCode | None = Field(
        default=None,
        description="the team it speaks for; default: the team of the child's worker on returned_date",
    )


class FeedbackRead(FeedbackScores):
    id: uuid.UUID
    external_id: str | None
    child_id: uuid.UUID | None
    team: str | None
    returned_date: date

    @classmethod
    def of(cls, feedback: Feedback) -> FeedbackRead:
        return cls(
            id=feedback.id,
            external_id=feedback.external_id,
            child_id=feedback.child_id,
            team=feedback.team,
            returned_date=feedback.returned_date,
            involved_in_decisions=feedback.involved_in_decisions,
            worker_stability=feedback.worker_stability,
            contact_quality=feedback.contact_quality,
        )


class FeedbackFilters(BaseModel):
    team: str | None = None
    returned_from: date | None = Field(default=None, description="only those returned on or after")
    returned_before: date | None = Field(default=None, description="only those returned before")
