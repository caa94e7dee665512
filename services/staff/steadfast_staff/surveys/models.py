"""Returned surveys: why new recruits applied, why leavers left, and the staff health check.

Each kind has its own table with one column per factor, named as the workforce strategy names it, rather
than one table with a ``kind`` column. The kinds share no factor, so one table would hold either a
column per factor of every kind (most of them null, and nothing in the schema saying which belong to
which kind) or the scores as a JSON blob (no per-factor column, no CHECK on the range). With a table per
kind the schema says what each survey asks, the database keeps every score in 1-5, and each kind has its
own event type whose JSON Schema lists its factors. The columns and rules they share live once, in
:class:`SurveyReturn`.

A factor left empty was not answered: it is null, and a mean over the factor leaves the return out. A
return must answer at least one factor. Returns are facts recorded once; they are not edited.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Self

from pydantic import BaseModel
from sqlalchemy import CheckConstraint, Date, ForeignKey, SmallInteger, Uuid
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from steadfast_shared.db import utcnow
from steadfast_shared.db.types import UtcDateTime
from steadfast_shared.domain import Aggregate
from steadfast_shared.errors import ValidationFailed
from steadfast_shared.events import EventType
from steadfast_staff.db import Base
from steadfast_staff.events import (
    ExitScores,
    ExitSurveyData,
    ExitSurveyReturned,
    HealthCheckScores,
    RecruitmentScores,
    RecruitmentSurveyData,
    RecruitmentSurveyReturned,
    StaffHealthCheckData,
    StaffHealthCheckReturned,
    SurveyReturnData,
)
from steadfast_staff.teams.models import Team

LOWEST_SCORE = 1
HIGHEST_SCORE = 5


def score_checks(scores: type[BaseModel]) -> tuple[CheckConstraint, ...]:
    """One CHECK per factor column: a score is 1-5, or null when not answered."""
    return tuple(
        CheckConstraint(f"{factor} BETWEEN {LOWEST_SCORE} AND {HIGHEST_SCORE}", name=f"{factor}_score")
        for factor in scores.model_fields
    )


class SurveyReturn(Aggregate):
    """What every returned survey has: the day it came back, and optionally who returned it and their team."""

    #: What the council calls it ("exit survey").
    NOUN: ClassVar[str]
    #: The factors the survey asks about, in the strategy's order.
    FACTORS: ClassVar[tuple[str, ...]]
    data_model: ClassVar[type[SurveyReturnData]]
    returned_event: ClassVar[EventType[Any]]

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    returned_date: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    worker_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("workers.id"), nullable=True, index=True)
    team_code: Mapped[str | None] = mapped_column(ForeignKey("teams.code"), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False)

    @declared_attr
    def team(cls) -> Mapped[Team | None]:
        """Never read: it tells the flush that a team set up in the same transaction is inserted first."""
        return relationship(Team, lazy="raise")

    if TYPE_CHECKING:
        # The declarative constructor each concrete kind gets from ``Base``.
        def __init__(self, **kwargs: Any) -> None: ...

    @classmethod
    def returned(
        cls,
        *,
        returned_date: date,
        scores: Mapping[str, int | None],
        worker_id: uuid.UUID | None = None,
        team: str | None = None,
    ) -> Self:
        """A survey returned on ``returned_date``, with ``scores`` by factor (left out: not answered)."""
        answers = cls.check_scores(scores)
        survey = cls(
            id=uuid.uuid4(),
            returned_date=returned_date,
            worker_id=worker_id,
            team_code=team,
            version=1,
            created_at=utcnow(),
            **answers,
        )
        survey.record(cls.returned_event(str(survey.id), survey.snapshot()))
        return survey

    @classmethod
    def check_scores(cls, scores: Mapping[str, int | None]) -> dict[str, int | None]:
        """Every factor of the kind, its score or null; refuses unknown factors, scores outside 1-5, and a
        return that answers nothing."""
        unknown = sorted(set(scores) - set(cls.FACTORS))
        if unknown:
            raise ValidationFailed(
                f"not factors of this survey: {', '.join(unknown)}",
                errors=[{"field": f, "reason": "unknown_factor"} for f in unknown],
            )
        answers: dict[str, int | None] = {}
        for factor in cls.FACTORS:
            score = scores.get(factor)
            if score is not None and (
                isinstance(score, bool)
                or not isinstance(score, int)
                or not LOWEST_SCORE <= score <= HIGHEST_SCORE
            ):
                raise ValidationFailed.field(
                    factor,
                    "out_of_range",
                    f"{factor}: a score is a whole number from {LOWEST_SCORE} to {HIGHEST_SCORE}",
                    value=score,
                )
            answers[factor] = score
        if all(score is None for score in answers.values()):
            raise ValidationFailed(
                "the survey answers no factor: score at least one of " + ", ".join(cls.FACTORS),
                errors=[{"field": "scores", "reason": "no_answers"}],
            )
        return answers

    def scores(self) -> dict[str, int | None]:
        return {factor: getattr(self, factor) for factor in self.FACTORS}

    def snapshot(self) -> SurveyReturnData:
        return self.data_model.model_validate(
            {
                "id": self.id,
                "version": self.version,
                "returned_date": self.returned_date,
                "team": self.team_code,
                **self.scores(),
            }
        )


class RecruitmentSurvey(SurveyReturn, Base):
    """Why a new recruit applied (high is good)."""

    __tablename__ = "recruitment_surveys"
    __table_args__ = score_checks(RecruitmentScores)

    NOUN = "recruitment survey"
    FACTORS = tuple(RecruitmentScores.model_fields)
    data_model = RecruitmentSurveyData
    returned_event = RecruitmentSurveyReturned

    right_post_right_time: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    place: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    development_opportunities: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    advert_and_communications: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    terms_and_conditions: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)


class ExitSurvey(SurveyReturn, Base):
    """Why a leaver left (low is good)."""

    __tablename__ = "exit_surveys"
    __table_args__ = score_checks(ExitScores)

    NOUN = "exit survey"
    FACTORS = tuple(ExitScores.model_fields)
    data_model = ExitSurveyData
    returned_event = ExitSurveyReturned

    insufficient_support_supervision: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    workload_too_high: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    no_career_path: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)


class StaffHealthCheck(SurveyReturn, Base):
    """The staff health check (high is good)."""

    __tablename__ = "staff_health_checks"
    __table_args__ = score_checks(HealthCheckScores)

    NOUN = "staff health check"
    FACTORS = tuple(HealthCheckScores.model_fields)
    data_model = StaffHealthCheckData
    returned_event = StaffHealthCheckReturned

    private_space: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    office_environment: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    supervision_quality: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    senior_manager_visibility: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
