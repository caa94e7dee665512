"""The caseload rules of SPEC section 3, free of the database: capacity, limit, and a team's figures.

A case-holding worker's *capacity* is ``fte`` x role weight (a consultant practitioner carries half a
caseload) x the NQSW factor in the ASYE year; their *limit* is ``capacity`` x the caseload limit, rounded
down. Decimal arithmetic keeps ``0.45 x 16`` at 7.2 rather than at a binary fraction below a whole number.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from steadfast_caseload.settings import CaseloadSettings
from steadfast_shared.codes import EmploymentType, Role
from steadfast_shared.dates import active_on


def _decimal(value: float) -> Decimal:
    return Decimal(str(value))


@dataclass(frozen=True)
class CaseloadPolicy:
    caseload_limit: Decimal = Decimal(16)
    nqsw_factor: Decimal = Decimal("0.9")
    consultant_practitioner_weight: Decimal = Decimal("0.5")

    @classmethod
    def of(cls, settings: CaseloadSettings) -> CaseloadPolicy:
        return cls(
            caseload_limit=_decimal(settings.caseload_limit),
            nqsw_factor=_decimal(settings.nqsw_limit_factor),
            consultant_practitioner_weight=_decimal(settings.consultant_practitioner_weight),
        )

    def capacity(self, role: Role, fte: float, nqsw: bool) -> Decimal:
        weight = self.consultant_practitioner_weight if role is Role.consultant_practitioner else Decimal(1)
        return _decimal(fte) * weight * (self.nqsw_factor if nqsw else Decimal(1))

    def limit(self, capacity: Decimal) -> int:
        return math.floor(capacity * self.caseload_limit)


def is_nqsw(asye_start: date | None, asye_end: date | None, as_of: date) -> bool:
    """Inside the ASYE period on ``as_of`` (``asye_start <= as_of < asye_end``)."""
    return asye_start is not None and active_on(asye_start, asye_end, as_of)


@dataclass(frozen=True)
class CaseHolder:
    """A case-holding worker in post on a date, with the terms in force and their caseload that day."""

    worker_id: uuid.UUID
    external_id: str
    display_name: str
    role: Role
    team: str
    fte: float
    employment_type: EmploymentType
    nqsw: bool
    caseload: int


@dataclass(frozen=True)
class WorkerCaseload:
    holder: CaseHolder
    capacity: Decimal
    limit: int

    @classmethod
    def assess(cls, holder: CaseHolder, policy: CaseloadPolicy) -> WorkerCaseload:
        capacity = policy.capacity(holder.role, holder.fte, holder.nqsw)
        return cls(holder=holder, capacity=capacity, limit=policy.limit(capacity))

    @property
    def over_by(self) -> int:
        return max(0, self.holder.caseload - self.limit)


@dataclass(frozen=True)
class CaseloadStats:
    """A group's figures: ``average`` is children per full caseload (sum of caseloads ÷ sum of
    capacity, the ``average_caseload`` KPI); ``mean_per_head`` is unweighted. None when nobody counts."""

    workers: int
    caseload_total: int
    capacity: Decimal
    average: float | None
    mean_per_head: float | None
    highest: int | None
    over_limit: int

    @classmethod
    def of(cls, group: Sequence[WorkerCaseload]) -> CaseloadStats:
        total = sum(w.holder.caseload for w in group)
        capacity = sum((w.capacity for w in group), Decimal(0))
        return cls(
            workers=len(group),
            caseload_total=total,
            capacity=capacity,
            average=round(float(total / capacity), 2) if capacity > 0 else None,
            mean_per_head=round(total / len(group), 2) if group else None,
            highest=max((w.holder.caseload for w in group), default=None),
            over_limit=sum(1 for w in group if w.over_by > 0),
        )
