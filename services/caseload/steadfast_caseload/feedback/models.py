"""Child and family feedback: a returned survey scored 1-5 on the SPEC's three factors
(``involved_in_decisions``, ``worker_stability``, ``contact_quality``). A factor left blank was not
answered. The child is optional (a family may answer for several children, or anonymously)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, SmallInteger, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from steadfast_caseload.db import Base
from steadfast_caseload.events import FeedbackData, FeedbackReturned
from steadfast_shared.db import utcnow
from steadfast_shared.db.types import UtcDateTime
from steadfast_shared.domain import Aggregate
from steadfast_shared.errors import ValidationFailed

FACTORS = ("involved_in_decisions", "worker_stability", "contact_quality")


class Feedback(Aggregate, Base):
    __tablename__ = "feedback"
    __table_args__ = tuple(
        CheckConstraint(f"{factor} IS NULL OR ({factor} BETWEEN 1 AND 5)", name=f"{factor}_1_to_5")
        for factor in FACTORS
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    external_id: Mapped[str | None] = mapped_column(String(100), nullable=True, unique=True)
    child_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("children.id"), nullable=True, index=True)
    team: Mapped[str | None] = mapped_column(String(40), nullable=True)
    returned_date: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    involved_in_decisions: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    worker_stability: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    contact_quality: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False)

    @classmethod
    def returned(
        cls,
        *,
        returned_date: date,
        external_id: str | None = None,
        child_id: uuid.UUID | None = None,
        team: str | None = None,
        scores: dict[str, int | None],
    ) -> Feedback:
        unknown = set(scores) - set(FACTORS)
        if unknown:
            raise ValidationFailed.field(
                sorted(unknown)[0], "unknown_factor", f"not a feedback factor: {sorted(unknown)}"
            )
        for factor, score in scores.items():
            if score is not None and not 1 <= score <= 5:
                raise ValidationFailed.field(
                    factor, "score_out_of_range", "scores are whole numbers from 1 to 5"
                )
        if all(scores.get(f) is None for f in FACTORS):
            raise ValidationFailed.field("scores", "no_answers", "feedback must answer at least one factor")
        feedback = cls(
            id=uuid.uuid4(),
            external_id=external_id,
            child_id=child_id,
            team=team,
            returned_date=returned_date,
            version=1,
            created_at=utcnow(),
            **{f: scores.get(f) for f in FACTORS},
        )
        feedback.record(FeedbackReturned(str(feedback.id), feedback.snapshot()))
        return feedback

    def snapshot(self) -> FeedbackData:
        return FeedbackData(
            feedback_id=self.id,
            external_id=self.external_id,
            child_id=self.child_id,
            team=self.team,
            returned_date=self.returned_date,
            involved_in_decisions=self.involved_in_decisions,
            worker_stability=self.worker_stability,
            contact_quality=self.contact_quality,
        )
