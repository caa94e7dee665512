"""The post aggregate: an established (funded) post and who holds it over time.

A post is established on day D when ``start_date <= D`` and (``end_date`` is null or ``D < end_date``).
Its holdings are half-open intervals ``[start_date, end_date)`` naming one worker each, oldest first;
they never overlap (a post is not held by two workers at once) and lie inside the post's established
period and inside the holder's employment. A post not held on a day it is established is vacant.

A post's team, role and FTE are not dated: a change restates the post. A council that changes a post
from a date disestablishes it (``end_date``) and establishes a new one, so the vacancy rate of past
dates keeps the posts as they were.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Numeric, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from steadfast_shared.db import code_enum, utcnow
from steadfast_shared.db.types import UtcDateTime
from steadfast_shared.domain import Aggregate
from steadfast_shared.errors import NotFound, ValidationFailed
from steadfast_staff.db import Base
from steadfast_staff.enums import Role
from steadfast_staff.events import (
    HoldingData,
    PostData,
    PostDisestablished,
    PostEstablished,
    PostHolderAssigned,
    PostHoldingEnded,
    PostUpdated,
)
from steadfast_staff.teams.models import Team

#: The fields :meth:`Post.update` may change (holdings change through :meth:`Post.assign` and
#: :meth:`Post.end_holding`).
DETAIL_FIELDS = ("team", "role", "fte", "start_date", "end_date")


@dataclass(frozen=True)
class Holder:
    """The worker a holding names, with the dates of their employment."""

    worker_id: uuid.UUID
    start_date: date
    end_date: date | None

    def in_post_on(self, day: date) -> bool:
        return self.start_date <= day and (self.end_date is None or day < self.end_date)


class PostHolding(Base):
    __tablename__ = "post_holdings"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    post_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), nullable=False, index=True
    )
    worker_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workers.id"), nullable=False, index=True)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)

    def covers(self, day: date) -> bool:
        return self.start_date <= day and (self.end_date is None or day < self.end_date)

    def overlaps(self, start: date, end: date | None) -> bool:
        """Whether ``[start, end)`` shares a day with this holding."""
        return (end is None or self.start_date < end) and (self.end_date is None or start < self.end_date)


class Post(Aggregate, Base):
    __tablename__ = "posts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    external_id: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    team_code: Mapped[str] = mapped_column(ForeignKey("teams.code"), nullable=False, index=True)
    role: Mapped[Role] = mapped_column(code_enum(Role), nullable=False)
    fte: Mapped[float] = mapped_column(Numeric(4, 3, asdecimal=False), nullable=False)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False)

    holdings: Mapped[list[PostHolding]] = relationship(
        order_by=PostHolding.start_date, cascade="all, delete-orphan", lazy="raise"
    )
    #: Never read: it tells the flush that a team set up in the same transaction is inserted first.
    team: Mapped[Team] = relationship(lazy="raise")

    # -- creating ---------------------------------------------------------------------------------

    @classmethod
    def establish(
        cls,
        *,
        external_id: str,
        team: str,
        role: Role,
        fte: float,
        start_date: date,
        end_date: date | None = None,
    ) -> Post:
        now = utcnow()
        post = cls(
            id=uuid.uuid4(),
            external_id=external_id,
            team_code=team,
            role=role,
            fte=fte,
            start_date=start_date,
            end_date=end_date,
            version=1,
            created_at=now,
            updated_at=now,
            holdings=[],
        )
        post._check()
        post.record(PostEstablished(str(post.id), post.snapshot(changed=["established"])))
        return post

    # -- questions --------------------------------------------------------------------------------

    def established_on(self, day: date) -> bool:
        return self.start_date <= day and (self.end_date is None or day < self.end_date)

    def holding_on(self, day: date) -> PostHolding | None:
        for holding in self.holdings:
            if holding.covers(day):
                return holding
        return None

    def holding(self, holding_id: uuid.UUID) -> PostHolding:
        for holding in self.holdings:
            if holding.id == holding_id:
                return holding
        raise NotFound(
            f"post {self.external_id!r} has no holding {holding_id}",
            errors=[{"field": "holding", "reason": "unknown_holding"}],
        )

    def vacant_on(self, day: date) -> bool:
        """Established and held by nobody (whether the holder is agency staff is the metrics' question)."""
        return self.established_on(day) and self.holding_on(day) is None

    # -- changes ----------------------------------------------------------------------------------

    def update(self, **changes: Any) -> list[str]:
        """Change the post's details; returns the fields that changed (none: no event).

        Disestablishing a post (setting an ``end_date``) ends the holdings still open on that day with
        it; a holding that starts on or after the new end date is an error (end or correct it first).
        """
        unknown = set(changes) - set(DETAIL_FIELDS)
        if unknown:
            raise TypeError(f"not post details: {sorted(unknown)}")
        before = self._details()
        desired = {**before, **changes}
        if desired == before:
            return []
        self.team_code = desired["team"]
        self.role = desired["role"]
        self.fte = desired["fte"]
        self.start_date = desired["start_date"]
        self.end_date = desired["end_date"]
        changed = [k for k, v in self._details().items() if before[k] != v]
        if self.end_date is not None and self._clip_holdings(self.end_date):
            changed.append("holdings")
        self._check()
        self._changed()
        ended = "end_date" in changed and self.end_date is not None
        event = PostDisestablished if ended else PostUpdated
        self.record(event(str(self.id), self.snapshot(changed=changed)))
        return changed

    def assign(self, holder: Holder, start_date: date, end_date: date | None = None) -> PostHolding:
        """Record that ``holder`` holds the post over ``[start_date, end_date)``.

        With no ``end_date``, the holding ends when the post is disestablished or the worker leaves,
        whichever is first (open when neither is known).
        """
        if end_date is None:
            end_date = _earliest(self.end_date, holder.end_date)
        self._check_holding(holder, start_date, end_date)
        for other in self.holdings:
            if other.overlaps(start_date, end_date):
                raise _already_held(other)
        holding = PostHolding(
            id=uuid.uuid4(),
            post_id=self.id,
            worker_id=holder.worker_id,
            start_date=start_date,
            end_date=end_date,
        )
        self.holdings.append(holding)
        self.holdings.sort(key=lambda h: h.start_date)
        self._changed()
        self.record(PostHolderAssigned(str(self.id), self.snapshot(changed=["holdings"])))
        return holding

    def end_holding(self, holding_id: uuid.UUID, end_date: date, holder: Holder) -> bool:
        """End a holding on ``end_date`` (the first day the worker no longer holds the post).

        Moving an end date already set is a correction, allowed under the same rules. Returns False,
        recording nothing, when the holding already ends that day.
        """
        holding = self.holding(holding_id)
        if holding.end_date == end_date:
            return False
        self._check_holding(holder, holding.start_date, end_date)
        for other in self.holdings:
            if other is not holding and other.overlaps(holding.start_date, end_date):
                raise _already_held(other)
        holding.end_date = end_date
        self._changed()
        self.record(PostHoldingEnded(str(self.id), self.snapshot(changed=["holdings"])))
        return True

    # -- internals --------------------------------------------------------------------------------

    def _check_holding(self, holder: Holder, start: date, end: date | None) -> None:
        if end is not None and end <= start:
            raise ValidationFailed.field(
                "end_date", "not_after_start_date", "a holding must end after it starts"
            )
        if not self.established_on(start):
            raise ValidationFailed.field(
                "start_date",
                "post_not_established",
                f"the post is not established on {start}: it runs from {self.start_date}"
                + (f" to {self.end_date}" if self.end_date else ""),
            )
        if self.end_date is not None and (end is None or end > self.end_date):
            raise ValidationFailed.field(
                "end_date",
                "after_post_end_date",
                f"the holding runs past the day the post is disestablished, {self.end_date}",
            )
        if not holder.in_post_on(start):
            raise ValidationFailed.field(
                "start_date",
                "worker_not_in_post",
                f"the worker is not in post on {start}",
                worker_id=str(holder.worker_id),
            )
        if holder.end_date is not None and (end is None or end > holder.end_date):
            raise ValidationFailed.field(
                "end_date",
                "after_worker_end_date",
                f"the holding runs past the worker's end date, {holder.end_date}",
                worker_id=str(holder.worker_id),
            )

    def _clip_holdings(self, end: date) -> bool:
        clipped = False
        for holding in self.holdings:
            if holding.start_date >= end:
                raise ValidationFailed.field(
                    "end_date",
                    "held_after_end_date",
                    f"a holding starts on {holding.start_date}, on or after the new end date {end}",
                    holding_id=str(holding.id),
                )
            if holding.end_date is None or holding.end_date > end:
                holding.end_date = end
                clipped = True
        return clipped

    def _details(self) -> dict[str, Any]:
        return {
            "team": self.team_code,
            "role": self.role,
            "fte": float(self.fte),
            "start_date": self.start_date,
            "end_date": self.end_date,
        }

    def _check(self) -> None:
        if self.end_date is not None and self.end_date <= self.start_date:
            raise ValidationFailed.field(
                "end_date", "not_after_start_date", "a post must be disestablished after it is established"
            )
        if not self.role.is_qualified:
            raise ValidationFailed.field(
                "role",
                "student_post",
                "an established post is a qualified social work post; record students as placements",
            )
        if not 0 < self.fte <= 1:
            raise ValidationFailed.field("fte", "out_of_range", "the FTE must be above 0 and at most 1")
        if self.holdings and self.holdings[0].start_date < self.start_date:
            raise ValidationFailed.field(
                "start_date",
                "held_before_start_date",
                f"a holding starts on {self.holdings[0].start_date}, before the post is established",
            )

    def _changed(self) -> None:
        self.touch()
        self.updated_at = utcnow()

    def snapshot(self, changed: list[str] | None = None) -> PostData:
        return PostData(
            id=self.id,
            external_id=self.external_id,
            version=self.version,
            team=self.team_code,
            role=self.role,
            fte=float(self.fte),
            start_date=self.start_date,
            end_date=self.end_date,
            holdings=[
                HoldingData(id=h.id, worker_id=h.worker_id, start_date=h.start_date, end_date=h.end_date)
                for h in self.holdings
            ],
            changed=changed or [],
        )


def _earliest(*days: date | None) -> date | None:
    known = [d for d in days if d is not None]
    return min(known) if known else None


def _already_held(other: PostHolding) -> ValidationFailed:
    return ValidationFailed.field(
        "start_date",
        "already_held",
        "the post is already held then: by worker "
        f"{other.worker_id} from {other.start_date}" + (f" to {other.end_date}" if other.end_date else ""),
        holding_id=str(other.id),
    )
