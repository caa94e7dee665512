"""The projections: the staff, caseload and audit records as the metrics service last heard of them,
built only from the three event streams (SPEC section 2: no service reads another's tables).

Each row keeps the version of the event that wrote it (a worker's, post's, placement's or survey's
``version``, an audit's ``audit_version``, a child's ``child_version`` for each of the child's records),
so an event not newer than what is held changes nothing: redelivery, replay and reordering all leave
the state the newest event describes. A removed student placement keeps its row, marked ``removed``
with the version of its removal, so that an older event replayed after it cannot bring it back.

``projection_sources`` says how far each stream has been followed; ``projection_revision`` is one
counter that every change to the projections moves on, in the same transaction, so the KPI service can
keep today's answers until it moves.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from steadfast_metrics.db import Base
from steadfast_shared.codes import AuditType, EmploymentType, EpisodeType, Grade, Role, VisitType
from steadfast_shared.db import code_enum
from steadfast_shared.db.types import BigIntPK, UtcDateTime

__all__ = [
    "FactAllocation",
    "FactAssessment",
    "FactAudit",
    "FactEpisode",
    "FactIroVisit",
    "FactPlacement",
    "FactPost",
    "FactPostHolding",
    "FactReview",
    "FactSurveyReturn",
    "FactTerms",
    "FactVisit",
    "FactWorker",
    "ProjectionRevision",
    "ProjectionSource",
]

# -- staff ------------------------------------------------------------------------------------------


class FactWorker(Base):
    """A worker as the newest staff worker event describes them."""

    __tablename__ = "fact_workers"
    __table_args__ = (Index("ix_fact_workers_end_date", "end_date"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(100), nullable=False)
    display_name: Mapped[str] = mapped_column(String(200), nullable=False)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date | None] = mapped_column(Date)
    asye_start: Mapped[date | None] = mapped_column(Date)
    asye_end: Mapped[date | None] = mapped_column(Date)
    protected_development_pct: Mapped[float | None] = mapped_column(Float)
    swe_registration_expiry: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, nullable=False)


class FactTerms(Base):
    """One dated segment of a worker's employment history, ``[effective_from, effective_to)``."""

    __tablename__ = "fact_worker_terms"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    worker_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("fact_workers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    effective_from: Mapped[date] = mapped_column(Date, nullable=False)
    effective_to: Mapped[date | None] = mapped_column(Date)
    role: Mapped[Role] = mapped_column(code_enum(Role), nullable=False)
    team: Mapped[str] = mapped_column(String(40), nullable=False)
    fte: Mapped[float] = mapped_column(Float, nullable=False)
    employment_type: Mapped[EmploymentType] = mapped_column(code_enum(EmploymentType), nullable=False)


class FactPost(Base):
    """An established (funded) post, ``[start_date, end_date)``."""

    __tablename__ = "fact_posts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(100), nullable=False)
    team: Mapped[str] = mapped_column(String(40), nullable=False)
    role: Mapped[Role] = mapped_column(code_enum(Role), nullable=False)
    fte: Mapped[float] = mapped_column(Float, nullable=False)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, nullable=False)


class FactPostHolding(Base):
    """A worker holding a post over ``[start_date, end_date)``."""

    __tablename__ = "fact_post_holdings"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    post_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("fact_posts.id", ondelete="CASCADE"), nullable=False, index=True
    )
    worker_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date | None] = mapped_column(Date)


class FactPlacement(Base):
    """A student placement; ``removed`` when the staff service withdrew it (recorded in error)."""

    __tablename__ = "fact_student_placements"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    team: Mapped[str] = mapped_column(String(40), nullable=False)
    start_date: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    end_date: Mapped[date | None] = mapped_column(Date)
    removed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)


class FactSurveyReturn(Base):
    """A returned survey (recruitment, exit, staff health check, child/family feedback): ``kind`` is a
    key of :data:`steadfast_metrics.facts.records.SURVEY_FACTORS`; ``scores`` holds the answered factors."""

    __tablename__ = "fact_survey_returns"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    returned_date: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    team: Mapped[str | None] = mapped_column(String(40))
    scores: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)


# -- caseload (every record keeps the child's version of the event that last wrote it) --------------


class FactEpisode(Base):
    __tablename__ = "fact_episodes"
    __table_args__ = (
        Index("ix_fact_episodes_child_start", "child_id", "start_date"),
        Index("ix_fact_episodes_end_date", "end_date"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    child_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    #: The source system's id of the child (pseudonymous), for the watch lists.
    child_external_id: Mapped[str] = mapped_column(String(100), nullable=False)
    episode_type: Mapped[EpisodeType] = mapped_column(code_enum(EpisodeType), nullable=False)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date | None] = mapped_column(Date)
    child_version: Mapped[int] = mapped_column(Integer, nullable=False)


class FactAllocation(Base):
    __tablename__ = "fact_allocations"
    __table_args__ = (
        Index("ix_fact_allocations_child_start", "child_id", "start_date"),
        Index("ix_fact_allocations_end_date", "end_date"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    child_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    worker_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date | None] = mapped_column(Date)
    child_version: Mapped[int] = mapped_column(Integer, nullable=False)


class FactAssessment(Base):
    __tablename__ = "fact_assessments"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    child_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    completed_date: Mapped[date | None] = mapped_column(Date, index=True)
    child_version: Mapped[int] = mapped_column(Integer, nullable=False)


class FactVisit(Base):
    __tablename__ = "fact_visits"
    __table_args__ = (Index("ix_fact_visits_child_date", "child_id", "visit_date"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    child_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    visit_date: Mapped[date] = mapped_column(Date, nullable=False)
    visit_type: Mapped[VisitType] = mapped_column(code_enum(VisitType), nullable=False)
    child_version: Mapped[int] = mapped_column(Integer, nullable=False)


class FactReview(Base):
    __tablename__ = "fact_reviews"
    __table_args__ = (
        Index("ix_fact_reviews_child_date", "child_id", "review_date"),
        Index("ix_fact_reviews_review_date", "review_date"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    child_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    review_date: Mapped[date] = mapped_column(Date, nullable=False)
    child_version: Mapped[int] = mapped_column(Integer, nullable=False)


class FactIroVisit(Base):
    __tablename__ = "fact_iro_visits"
    __table_args__ = (Index("ix_fact_iro_visits_child_date", "child_id", "visit_date"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    child_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    visit_date: Mapped[date] = mapped_column(Date, nullable=False)
    child_version: Mapped[int] = mapped_column(Integer, nullable=False)


# -- audit -----------------------------------------------------------------------------------------


class FactAudit(Base):
    """An audit as it counts: ``grade`` is the effective grade (the moderated one when moderated)."""

    __tablename__ = "fact_audits"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    audit_type: Mapped[AuditType] = mapped_column(code_enum(AuditType), nullable=False)
    team: Mapped[str] = mapped_column(String(40), nullable=False)
    completed_date: Mapped[date | None] = mapped_column(Date, index=True)
    grade: Mapped[Grade | None] = mapped_column(code_enum(Grade))
    contact_grade: Mapped[Grade | None] = mapped_column(code_enum(Grade))
    audit_version: Mapped[int] = mapped_column(Integer, nullable=False)


# -- how far the streams have been followed --------------------------------------------------------


class ProjectionSource(Base):
    """One stream (named by its topic in the event contract, e.g. ``steadfast.staff``)."""

    __tablename__ = "projection_sources"

    topic: Mapped[str] = mapped_column(String(200), primary_key=True)
    #: The newest ``time`` of the events applied from the stream (events may arrive out of time order).
    newest_event_time: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    events_applied: Mapped[int] = mapped_column(BigInteger, nullable=False)
    last_applied_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)


class ProjectionRevision(Base):
    """One row (``id`` 1): moved on by every change to the projections, in the change's transaction."""

    __tablename__ = "projection_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(BigInteger, nullable=False)
