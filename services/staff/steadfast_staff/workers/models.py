"""The worker aggregate: an employment record with its dated history of terms.

A worker is in post on day D when ``start_date <= D`` and (``end_date`` is null or ``D < end_date``).
Role, team, FTE and employment type live in :class:`WorkerTerms` segments ``[effective_from,
effective_to)``, oldest first, contiguous from the start date; the last is open (``effective_to`` null).
A change dated D splits the segment containing D, so every question can be asked "as of" a past date.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import Date, ForeignKey, Index, Numeric, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from steadfast_shared.db import code_enum, utcnow
from steadfast_shared.db.types import UtcDateTime
from steadfast_shared.domain import Aggregate
from steadfast_shared.errors import ValidationFailed
from steadfast_staff.db import Base
from steadfast_staff.enums import EmploymentType, LeavingReason, Role
from steadfast_staff.events import (
    TermsData,
    WorkerData,
    WorkerHired,
    WorkerLeft,
    WorkerTermsChanged,
    WorkerUpdated,
)
from steadfast_staff.teams.models import Team

ASYE_LENGTH = relativedelta(months=12)

#: The fields :meth:`Worker.update_details` may change (terms change through :meth:`Worker.change_terms`).
DETAIL_FIELDS = (
    "display_name",
    "start_date",
    "end_date",
    "leaving_reason",
    "asye_start",
    "asye_end",
    "protected_development_pct",
    "swe_registration_number",
    "swe_registration_expiry",
)


@dataclass(frozen=True)
class Terms:
    """What a dated change can set."""

    role: Role
    team: str
    fte: float
    employment_type: EmploymentType


class WorkerTerms(Base):
    __tablename__ = "worker_terms"
    __table_args__ = (Index("ix_worker_terms_team_from", "team_code", "effective_from"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    worker_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    effective_from: Mapped[date] = mapped_column(Date, nullable=False)
    effective_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    role: Mapped[Role] = mapped_column(code_enum(Role), nullable=False)
    team_code: Mapped[str] = mapped_column(ForeignKey("teams.code"), nullable=False)
    fte: Mapped[float] = mapped_column(Numeric(4, 3, asdecimal=False), nullable=False)
    employment_type: Mapped[EmploymentType] = mapped_column(code_enum(EmploymentType), nullable=False)
    # Never read: it tells the unit of work to insert a new team before the terms that name it.
    team: Mapped[Team] = relationship(lazy="raise")

    def terms(self) -> Terms:
        return Terms(
            role=self.role,
            team=self.team_code,
            fte=float(self.fte),
            employment_type=self.employment_type,
        )

    def covers(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)


class Worker(Aggregate, Base):
    __tablename__ = "workers"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    external_id: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    display_name: Mapped[str] = mapped_column(String(200), nullable=False)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    leaving_reason: Mapped[LeavingReason | None] = mapped_column(code_enum(LeavingReason), nullable=True)
    asye_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    asye_end: Mapped[date | None] = mapped_column(Date, nullable=True)
    protected_development_pct: Mapped[float | None] = mapped_column(
        Numeric(5, 2, asdecimal=False), nullable=True
    )
    swe_registration_number: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    swe_registration_expiry: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False)

    history: Mapped[list[WorkerTerms]] = relationship(
        order_by=WorkerTerms.effective_from, cascade="all, delete-orphan", lazy="raise"
    )

    # -- creating ---------------------------------------------------------------------------------

    @classmethod
    def hire(
        cls,
        *,
        external_id: str,
        display_name: str,
        start_date: date,
        terms: Terms,
        end_date: date | None = None,
        leaving_reason: LeavingReason | None = None,
        asye_start: date | None = None,
        asye_end: date | None = None,
        protected_development_pct: float | None = None,
        swe_registration_number: str | None = None,
        swe_registration_expiry: date | None = None,
    ) -> Worker:
        now = utcnow()
        worker = cls(
            id=uuid.uuid4(),
            external_id=external_id,
            display_name=display_name,
            start_date=start_date,
            version=1,
            created_at=now,
            updated_at=now,
            history=[],
        )
        worker.history.append(
            WorkerTerms(id=uuid.uuid4(), worker_id=worker.id, effective_from=start_date, **_columns(terms))
        )
        worker._set_details(
            end_date=end_date,
            leaving_reason=leaving_reason,
            asye_start=asye_start,
            asye_end=asye_end,
            protected_development_pct=protected_development_pct,
            swe_registration_number=swe_registration_number,
            swe_registration_expiry=swe_registration_expiry,
        )
        worker._check()
        worker.record(WorkerHired(str(worker.id), worker.snapshot(changed=["hired"])))
        return worker

    # -- questions --------------------------------------------------------------------------------

    def in_post_on(self, day: date) -> bool:
        return self.start_date <= day and (self.end_date is None or day < self.end_date)

    def terms_on(self, day: date) -> WorkerTerms | None:
        for segment in self.history:
            if segment.covers(day):
                return segment
        return None

    @property
    def current(self) -> WorkerTerms:
        return self.history[-1]

    # -- changes ----------------------------------------------------------------------------------

    def update_details(self, **changes: Any) -> list[str]:
        """Change details (not terms); returns the fields that actually changed (none: no event).

        Only the fields passed change. A new ``asye_start`` without an ``asye_end`` moves the ASYE end to
        its default, twelve months on.
        """
        unknown = set(changes) - set(DETAIL_FIELDS)
        if unknown:
            raise TypeError(f"not worker details: {sorted(unknown)}")
        if "asye_start" in changes and changes["asye_start"] != self.asye_start and "asye_end" not in changes:
            changes["asye_end"] = None
        before = self._details()
        desired = {**before, **changes}
        self.display_name = desired.pop("display_name")
        self._move_start(desired.pop("start_date"))
        self._set_details(**desired)
        changed = [k for k, v in self._details().items() if before[k] != v]
        if not changed:
            return []
        self._check()
        self._changed()
        ended = "end_date" in changed and self.end_date is not None
        event = WorkerLeft if ended else WorkerUpdated
        self.record(event(str(self.id), self.snapshot(changed=changed)))
        return changed

    def change_terms(self, effective: date, terms: Terms) -> bool:
        """A dated change of role, team, FTE or employment type, effective from ``effective``.

        The segment containing ``effective`` is split (or amended, when it starts that day); later
        segments are left as they are. Returns False, recording nothing, when nothing changes.
        """
        if effective < self.start_date:
            raise ValidationFailed.field(
                "effective_date",
                "before_start_date",
                f"the change is dated before the start date {self.start_date}",
            )
        if self.end_date is not None and effective >= self.end_date:
            raise ValidationFailed.field(
                "effective_date",
                "after_end_date",
                f"the change is dated on or after the end date {self.end_date}",
            )
        segment = self.terms_on(effective)
        assert segment is not None, "history covers every day from the start date"
        if segment.terms() == terms:
            return False
        if segment.effective_from == effective:
            for key, value in _columns(terms).items():
                setattr(segment, key, value)
        else:
            successor = WorkerTerms(
                id=uuid.uuid4(),
                worker_id=self.id,
                effective_from=effective,
                effective_to=segment.effective_to,
                **_columns(terms),
            )
            segment.effective_to = effective
            self.history.append(successor)
            self.history.sort(key=lambda s: s.effective_from)
        self._merge_equal_neighbours()
        self._check()
        self._changed()
        self.record(WorkerTermsChanged(str(self.id), self.snapshot(changed=["terms"])))
        return True

    def leave(self, end_date: date, reason: LeavingReason | None) -> list[str]:
        return self.update_details(end_date=end_date, leaving_reason=reason or LeavingReason.unknown)

    # -- internals --------------------------------------------------------------------------------

    def _set_details(
        self,
        *,
        end_date: date | None = None,
        leaving_reason: LeavingReason | None = None,
        asye_start: date | None = None,
        asye_end: date | None = None,
        protected_development_pct: float | None = None,
        swe_registration_number: str | None = None,
        swe_registration_expiry: date | None = None,
    ) -> None:
        self.end_date = end_date
        self.leaving_reason = leaving_reason
        self.asye_start = asye_start
        self.asye_end = (
            asye_end if asye_end is not None else (asye_start + ASYE_LENGTH if asye_start else None)
        )
        self.protected_development_pct = protected_development_pct
        self.swe_registration_number = swe_registration_number
        self.swe_registration_expiry = swe_registration_expiry

    def _details(self) -> dict[str, Any]:
        return {
            "display_name": self.display_name,
            "start_date": self.start_date,
            "end_date": self.end_date,
            "leaving_reason": self.leaving_reason,
            "asye_start": self.asye_start,
            "asye_end": self.asye_end,
            "protected_development_pct": self.protected_development_pct,
            "swe_registration_number": self.swe_registration_number,
            "swe_registration_expiry": self.swe_registration_expiry,
        }

    def _move_start(self, start: date) -> None:
        if start == self.start_date:
            return
        first = self.history[0]
        if first.effective_to is not None and start >= first.effective_to:
            raise ValidationFailed.field(
                "start_date",
                "conflicts_with_history",
                f"the start date {start} is on or after a dated change on {first.effective_to}",
            )
        first.effective_from = start
        self.start_date = start

    def _merge_equal_neighbours(self) -> None:
        merged: list[WorkerTerms] = []
        for segment in list(self.history):
            if (
                merged
                and merged[-1].terms() == segment.terms()
                and merged[-1].effective_to == segment.effective_from
            ):
                merged[-1].effective_to = segment.effective_to
                self.history.remove(segment)
            else:
                merged.append(segment)

    def _check(self) -> None:
        if self.end_date is not None and self.end_date <= self.start_date:
            raise ValidationFailed.field(
                "end_date", "not_after_start_date", "the end date must be after the start date"
            )
        if self.end_date is None and self.leaving_reason is not None:
            raise ValidationFailed.field(
                "leaving_reason", "without_end_date", "a leaving reason needs an end date"
            )
        if self.asye_start is not None:
            if self.asye_end is not None and self.asye_end <= self.asye_start:
                raise ValidationFailed.field(
                    "asye_end", "not_after_asye_start", "the ASYE must end after it starts"
                )
            segment = self.terms_on(self.asye_start)
            if segment is not None and not segment.role.is_qualified:
                raise ValidationFailed.field(
                    "asye_start",
                    "student_in_asye",
                    "a student cannot be in the ASYE: it starts on qualifying",
                )
        if self.protected_development_pct is not None and not 0 <= self.protected_development_pct <= 100:
            raise ValidationFailed.field(
                "protected_development_pct", "out_of_range", "must be between 0 and 100"
            )

    def _changed(self) -> None:
        self.touch()
        self.updated_at = utcnow()

    def snapshot(self, changed: list[str] | None = None) -> WorkerData:
        return WorkerData(
            id=self.id,
            external_id=self.external_id,
            version=self.version,
            display_name=self.display_name,
            start_date=self.start_date,
            end_date=self.end_date,
            leaving_reason=self.leaving_reason,
            asye_start=self.asye_start,
            asye_end=self.asye_end,
            protected_development_pct=self.protected_development_pct,
            swe_registration_expiry=self.swe_registration_expiry,
            history=[
                TermsData(
                    effective_from=s.effective_from,
                    effective_to=s.effective_to,
                    role=s.role,
                    team=s.team_code,
                    fte=float(s.fte),
                    employment_type=s.employment_type,
                )
                for s in self.history
            ],
            changed=changed or [],
        )


def _columns(terms: Terms) -> dict[str, object]:
    return {
        "role": terms.role,
        "team_code": terms.team,
        "fte": terms.fte,
        "employment_type": terms.employment_type,
    }
