"""The child aggregate and the records it owns: episodes, allocations, assessments, visits, reviews and
IRO visits.

A child is known by a pseudonymous id and the case-management system's ``external_id``; no name, date
of birth or address is held (only the year of birth the statutory returns give, never published).
Every record is dated, every interval half-open (``[start, end)``), so a worker's caseload and a
child's history of workers can be answered for any date. Each ``record_*`` method is an upsert by the
record's natural key (SPEC section 4) and says what it did, so the API and the bulk imports share one
set of rules; a rule broken names the rule and the record it conflicts with.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from sqlalchemy import Boolean, Date, ForeignKey, Index, SmallInteger, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from steadfast_caseload.db import Base
from steadfast_caseload.events import (
    AllocationChanged,
    AllocationData,
    AllocationStarted,
    AssessmentChanged,
    AssessmentData,
    AssessmentRecorded,
    ChildData,
    ChildRegistered,
    EpisodeChanged,
    EpisodeData,
    EpisodeRecorded,
    IroVisitData,
    IroVisitRecorded,
    ReviewData,
    ReviewRecorded,
    VisitChanged,
    VisitData,
    VisitRecorded,
)
from steadfast_shared.codes import AllocationChangeReason, EpisodeType, VisitType
from steadfast_shared.dates import active_on
from steadfast_shared.db import code_enum, utcnow
from steadfast_shared.db.types import UtcDateTime
from steadfast_shared.domain import Aggregate
from steadfast_shared.errors import ValidationFailed
from steadfast_shared.events.registry import PendingEvent


class Outcome(StrEnum):
    created = "created"
    updated = "updated"
    unchanged = "unchanged"


def _rule(field: str, reason: str, detail: str, **record: object) -> ValidationFailed:
    return ValidationFailed(detail, errors=[{"field": field, "reason": reason, "rule": reason, **record}])


_ONE_DAY = timedelta(days=1)


def _overlaps(a_start: date, a_end: date | None, b_start: date, b_end: date | None) -> bool:
    return a_start < (b_end or date.max) and b_start < (a_end or date.max)


class AllocationFacts(Protocol):
    """What the allocation rules read of an allocation: the ORM row or a :class:`HeldAllocation`."""

    id: uuid.UUID
    worker_id: uuid.UUID
    start_date: date
    end_date: date | None
    reason: AllocationChangeReason | None


A = TypeVar("A", bound=AllocationFacts)


def allocation_rules(held: Iterable[A], worker_id: uuid.UUID, start: date, end: date | None) -> A | None:
    """The rules of allocating a child to a worker over ``[start, end)``, against the child's
    allocations ``held``: the allocation of the same (worker, start) it updates, or None for a new
    one. Raises, before anything changes, if a rule is broken."""
    if end is not None and end <= start:
        raise _rule(
            "end_date",
            "end_not_after_start",
            "an allocation must end after it starts",
            worker_id=str(worker_id),
            start_date=str(start),
            end_date=str(end),
        )
    same_worker = [a for a in held if a.worker_id == worker_id]
    existing = next((a for a in same_worker if a.start_date == start), None)
    for other in same_worker:
        if other is not existing and _overlaps(start, end, other.start_date, other.end_date):
            raise _rule(
                "start_date",
                "overlapping_allocation",
                f"the child is already allocated to this worker from {other.start_date}"
                f" to {other.end_date or 'open'}",
                conflicting_allocation=str(other.id),
                worker_id=str(worker_id),
                start_date=str(start),
            )
    return existing


def allocation_unchanged(
    existing: AllocationFacts, end: date | None, reason: AllocationChangeReason | None
) -> bool:
    """Whether recording (end, reason) on ``existing`` changes nothing (no reason keeps the one held)."""
    return existing.end_date == end and (reason is None or existing.reason == reason)


class Episode(Base):
    __tablename__ = "episodes"
    __table_args__ = (UniqueConstraint("child_id", "episode_type", "start_date"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"), nullable=False)
    episode_type: Mapped[EpisodeType] = mapped_column(code_enum(EpisodeType), nullable=False)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)

    def active_on(self, day: date) -> bool:
        return active_on(self.start_date, self.end_date, day)


class Allocation(Base):
    __tablename__ = "allocations"
    __table_args__ = (
        UniqueConstraint("child_id", "worker_id", "start_date"),
        Index("ix_allocations_worker_dates", "worker_id", "start_date", "end_date"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"), nullable=False)
    worker_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("directory_workers.id"), nullable=False)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    #: Why the child's worker changed to this one (SSDA903 codes); null for a first allocation.
    reason: Mapped[AllocationChangeReason | None] = mapped_column(
        code_enum(AllocationChangeReason), nullable=True
    )

    def active_on(self, day: date) -> bool:
        return active_on(self.start_date, self.end_date, day)


class Assessment(Base):
    __tablename__ = "assessments"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    external_id: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    child_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("children.id", ondelete="CASCADE"), nullable=False, index=True
    )
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    #: The date the assessment was completed and authorised; null while open.
    completed_date: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)


class Visit(Base):
    __tablename__ = "visits"
    __table_args__ = (UniqueConstraint("child_id", "visit_date", "visit_type"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"), nullable=False)
    visit_date: Mapped[date] = mapped_column(Date, nullable=False)
    visit_type: Mapped[VisitType] = mapped_column(code_enum(VisitType), nullable=False)
    seen_alone: Mapped[bool | None] = mapped_column(Boolean, nullable=True)


class Review(Base):
    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("child_id", "review_date"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"), nullable=False)
    review_date: Mapped[date] = mapped_column(Date, nullable=False)


class IroVisit(Base):
    __tablename__ = "iro_visits"
    __table_args__ = (UniqueConstraint("child_id", "visit_date"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"), nullable=False)
    visit_date: Mapped[date] = mapped_column(Date, nullable=False)


class Child(Aggregate, Base):
    __tablename__ = "children"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    external_id: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False)
    #: The year the child was born, as the statutory returns give it (the SSDA903 and Annex A files' date
    #: of birth, of which only the year is kept); held for the returns, never published.
    birth_year: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)

    episodes: Mapped[list[Episode]] = relationship(
        order_by=Episode.start_date, cascade="all, delete-orphan", lazy="raise"
    )
    allocations: Mapped[list[Allocation]] = relationship(
        order_by=Allocation.start_date, cascade="all, delete-orphan", lazy="raise"
    )
    assessments: Mapped[list[Assessment]] = relationship(
        order_by=Assessment.start_date, cascade="all, delete-orphan", lazy="raise"
    )
    visits: Mapped[list[Visit]] = relationship(
        order_by=Visit.visit_date, cascade="all, delete-orphan", lazy="raise"
    )
    reviews: Mapped[list[Review]] = relationship(
        order_by=Review.review_date, cascade="all, delete-orphan", lazy="raise"
    )
    iro_visits: Mapped[list[IroVisit]] = relationship(
        order_by=IroVisit.visit_date, cascade="all, delete-orphan", lazy="raise"
    )

    # -- creating ---------------------------------------------------------------------------------

    @classmethod
    def register(cls, external_id: str) -> Child:
        child = cls(
            id=uuid.uuid4(),
            external_id=external_id,
            version=1,
            created_at=utcnow(),
            episodes=[],
            allocations=[],
            assessments=[],
            visits=[],
            reviews=[],
            iro_visits=[],
        )
        child.record(ChildRegistered(str(child.id), ChildData(**child._about())))
        return child

    # -- questions --------------------------------------------------------------------------------

    def first_episode_start(self) -> date | None:
        return min((e.start_date for e in self.episodes), default=None)

    def current_run_start(self, as_of: date) -> date | None:
        """The start of the earliest episode in the continuous run of episodes active on ``as_of``.

        Episodes that overlap or touch (one starts the day another ends) form one run.
        """
        active = [e for e in self.episodes if e.active_on(as_of)]
        if not active:
            return None
        start = min(e.start_date for e in active)
        changed = True
        while changed:
            changed = False
            for episode in self.episodes:
                if episode.start_date < start and (episode.end_date is None or episode.end_date >= start):
                    start = episode.start_date
                    changed = True
        return start

    def workers_since(self, start: date, as_of: date) -> list[uuid.UUID]:
        """Distinct workers with an allocation active on any day of ``[start, as_of]``, first first."""
        seen: list[uuid.UUID] = []
        for allocation in self.allocations:
            overlaps = _overlaps(allocation.start_date, allocation.end_date, start, as_of + _ONE_DAY)
            if overlaps and allocation.worker_id not in seen:
                seen.append(allocation.worker_id)
        return seen

    # -- recording (upserts by natural key) -------------------------------------------------------

    def record_episode(
        self, episode_type: EpisodeType, start: date, end: date | None
    ) -> tuple[Outcome, Episode]:
        if episode_type not in EpisodeType.__members__.values():
            raise _rule(
                "episode_type",
                "unknown_episode_type",
                f"{episode_type!r} is not an episode type (one of {', '.join(EpisodeType)})",
                episode_type=str(episode_type),
                start_date=str(start),
            )
        episode_type = EpisodeType(episode_type)
        if end is not None and end <= start:
            raise _rule(
                "episode_end",
                "end_not_after_start",
                "an episode must end after it starts",
                episode_type=str(episode_type),
                start_date=str(start),
                end_date=str(end),
            )
        existing = next(
            (e for e in self.episodes if e.episode_type == episode_type and e.start_date == start), None
        )
        if existing is not None:
            if existing.end_date == end:
                return Outcome.unchanged, existing
            existing.end_date = end
            self._changed()
            self.record(EpisodeChanged(str(self.id), self._episode_data(existing)))
            return Outcome.updated, existing
        episode = Episode(
            id=uuid.uuid4(), child_id=self.id, episode_type=episode_type, start_date=start, end_date=end
        )
        self.episodes.append(episode)
        self._changed()
        self.record(EpisodeRecorded(str(self.id), self._episode_data(episode)))
        return Outcome.created, episode

    def allocate(
        self,
        worker_id: uuid.UUID,
        start: date,
        end: date | None,
        reason: AllocationChangeReason | None = None,
    ) -> tuple[Outcome, Allocation]:
        """Allocate the child to a worker over ``[start, end)``; the same (worker, start) updates it."""
        existing = allocation_rules(self.allocations, worker_id, start, end)
        if existing is not None:
            if allocation_unchanged(existing, end, reason):
                return Outcome.unchanged, existing
            existing.end_date = end
            if reason is not None:
                existing.reason = reason
            self._changed()
            self.record(AllocationChanged(str(self.id), self._allocation_data(existing)))
            return Outcome.updated, existing
        allocation = Allocation(
            id=uuid.uuid4(),
            child_id=self.id,
            worker_id=worker_id,
            start_date=start,
            end_date=end,
            reason=reason,
        )
        self.allocations.append(allocation)
        self._changed()
        self.record(AllocationStarted(str(self.id), self._allocation_data(allocation)))
        return Outcome.created, allocation

    def record_assessment(
        self, external_id: str, start: date, completed: date | None
    ) -> tuple[Outcome, Assessment]:
        if completed is not None and completed < start:
            raise _rule(
                "completed_date",
                "completed_before_start",
                "an assessment cannot be completed before it starts",
            )
        existing = next((a for a in self.assessments if a.external_id == external_id), None)
        if existing is not None:
            if (existing.start_date, existing.completed_date) == (start, completed):
                return Outcome.unchanged, existing
            existing.start_date, existing.completed_date = start, completed
            self._changed()
            self.record(AssessmentChanged(str(self.id), self._assessment_data(existing)))
            return Outcome.updated, existing
        assessment = Assessment(
            id=uuid.uuid4(),
            external_id=external_id,
            child_id=self.id,
            start_date=start,
            completed_date=completed,
        )
        self.assessments.append(assessment)
        self._changed()
        self.record(AssessmentRecorded(str(self.id), self._assessment_data(assessment)))
        return Outcome.created, assessment

    def record_visit(
        self, visit_date: date, visit_type: VisitType, seen_alone: bool | None
    ) -> tuple[Outcome, Visit]:
        first = self.first_episode_start()
        if first is None or visit_date < first:
            raise _rule(
                "visit_date",
                "visit_before_first_episode",
                f"a visit on {visit_date} is before the child's first episode"
                + (f" ({first})" if first else " (the child has no episode)"),
            )
        existing = next(
            (v for v in self.visits if v.visit_date == visit_date and v.visit_type == visit_type), None
        )
        if existing is not None:
            if existing.seen_alone == seen_alone:
                return Outcome.unchanged, existing
            existing.seen_alone = seen_alone
            self._changed()
            self.record(VisitChanged(str(self.id), self._visit_data(existing)))
            return Outcome.updated, existing
        visit = Visit(
            id=uuid.uuid4(),
            child_id=self.id,
            visit_date=visit_date,
            visit_type=visit_type,
            seen_alone=seen_alone,
        )
        self.visits.append(visit)
        self._changed()
        self.record(VisitRecorded(str(self.id), self._visit_data(visit)))
        return Outcome.created, visit

    def record_review(self, review_date: date) -> tuple[Outcome, Review]:
        existing = next((r for r in self.reviews if r.review_date == review_date), None)
        if existing is not None:
            return Outcome.unchanged, existing
        review = Review(id=uuid.uuid4(), child_id=self.id, review_date=review_date)
        self.reviews.append(review)
        self._changed()
        self.record(
            ReviewRecorded(
                str(self.id), ReviewData(**self._about(), review_id=review.id, review_date=review_date)
            )
        )
        return Outcome.created, review

    def record_iro_visit(self, visit_date: date) -> tuple[Outcome, IroVisit]:
        existing = next((v for v in self.iro_visits if v.visit_date == visit_date), None)
        if existing is not None:
            return Outcome.unchanged, existing
        visit = IroVisit(id=uuid.uuid4(), child_id=self.id, visit_date=visit_date)
        self.iro_visits.append(visit)
        self._changed()
        self.record(
            IroVisitRecorded(
                str(self.id), IroVisitData(**self._about(), iro_visit_id=visit.id, visit_date=visit_date)
            )
        )
        return Outcome.created, visit

    # -- internals --------------------------------------------------------------------------------

    def _changed(self) -> None:
        self.touch()

    def _about(self) -> dict[str, Any]:
        return {"child_id": self.id, "child_external_id": self.external_id, "child_version": self.version}

    def _episode_data(self, e: Episode) -> EpisodeData:
        return EpisodeData(
            **self._about(),
            episode_id=e.id,
            episode_type=e.episode_type,
            start_date=e.start_date,
            end_date=e.end_date,
        )

    def _allocation_data(self, a: Allocation) -> AllocationData:
        return AllocationData(
            **self._about(),
            allocation_id=a.id,
            worker_id=a.worker_id,
            start_date=a.start_date,
            end_date=a.end_date,
            reason=a.reason,
        )

    def _assessment_data(self, a: Assessment) -> AssessmentData:
        return AssessmentData(
            **self._about(),
            assessment_id=a.id,
            external_id=a.external_id,
            start_date=a.start_date,
            completed_date=a.completed_date,
        )

    def _visit_data(self, v: Visit) -> VisitData:
        return VisitData(
            **self._about(),
            visit_id=v.id,
            visit_date=v.visit_date,
            visit_type=v.visit_type,
            seen_alone=v.seen_alone,
        )


# -- the allocations of many children at once (the bulk import) -----------------------------------


@dataclass(slots=True)
class HeldAllocation:
    """An allocation as plain values (no ORM object): what :class:`ChildAllocations` holds."""

    id: uuid.UUID
    worker_id: uuid.UUID
    start_date: date
    end_date: date | None
    reason: AllocationChangeReason | None


@dataclass
class ChildAllocations:
    """A child's allocations as plain values, for applying a batch of allocation rows set-wise: those
    to the workers the batch names for the child at least (the rules compare an allocation only with
    the child's others of the same worker), all of them where the database reads them all.

    :meth:`allocate` keeps :meth:`Child.allocate`'s rules (:func:`allocation_rules`), outcomes, version
    and events exactly, but on values loaded in one query per batch: what it changed is read back by
    the repository (``created``, ``updated``, ``version``) and written in one statement per table, and
    the events go to ``record`` (the unit of work's, so that a batch's events keep the file's order).
    """

    id: uuid.UUID
    external_id: str
    version: int
    allocations: list[HeldAllocation]
    record: Callable[[PendingEvent], None]
    created: list[HeldAllocation] = field(default_factory=list)
    updated: dict[uuid.UUID, HeldAllocation] = field(default_factory=dict)
    #: The events' subject: the child's id as text.
    subject: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.subject = str(self.id)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def allocate(
        self,
        worker_id: uuid.UUID,
        start: date,
        end: date | None,
        reason: AllocationChangeReason | None = None,
    ) -> tuple[Outcome, HeldAllocation]:
        existing = allocation_rules(self.allocations, worker_id, start, end)
        if existing is not None:
            if allocation_unchanged(existing, end, reason):
                return Outcome.unchanged, existing
            existing.end_date = end
            if reason is not None:
                existing.reason = reason
            self.version += 1
            if not any(a is existing for a in self.created):
                self.updated[existing.id] = existing
            self.record(AllocationChanged(self.subject, self._data(existing)))
            return Outcome.updated, existing
        allocation = HeldAllocation(uuid.uuid4(), worker_id, start, end, reason)
        self.allocations.append(allocation)
        self.created.append(allocation)
        self.version += 1
        self.record(AllocationStarted(self.subject, self._data(allocation)))
        return Outcome.created, allocation

    def _data(self, a: HeldAllocation) -> AllocationData:
        return AllocationData(
            child_id=self.id,
            child_external_id=self.external_id,
            child_version=self.version,
            allocation_id=a.id,
            worker_id=a.worker_id,
            start_date=a.start_date,
            end_date=a.end_date,
            reason=a.reason,
        )
