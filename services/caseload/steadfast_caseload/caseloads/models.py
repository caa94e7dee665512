"""The caseload rules of SPEC section 3, free of the database: capacity, limit, and a team's figures.

A case-holding worker's *capacity* is ``fte`` x role weight (a consultant practitioner carries half a
caseload) x the NQSW factor in the ASYE year; their *limit* is ``capacity`` x the limit per full
caseload, rounded down. The weights and the limit are the strategy's (the version in force), and the
arithmetic is the shared library's (:mod:`steadfast_shared.strategy.rules`), exact decimals, the very
rules the metrics service's KPIs use.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from steadfast_shared.codes import EmploymentType, Role
from steadfast_shared.dates import active_on
from steadfast_shared.strategy import StrategyDocument
from steadfast_shared.strategy.rules import CaseloadWeighting, caseload_limit, over_by, per_full_caseload


@dataclass(frozen=True)
class CaseloadPolicy:
    """The strategy's caseload rules on one day: the weights, and the limit per full caseload (None
    when the strategy sets none: nobody is then over a limit)."""

    weighting: CaseloadWeighting
    limit_per_full_caseload: Decimal | None
    #: The version of the strategy the policy comes from.
    strategy_version: int = 1

    @classmethod
    def of(cls, strategy: StrategyDocument, day: date, version: int = 1) -> CaseloadPolicy:
        return cls(CaseloadWeighting.of(strategy), per_full_caseload(strategy, day), version)

    def capacity(self, role: Role, fte: float, nqsw: bool) -> Decimal:
        capacity = self.weighting.capacity(role, fte, nqsw)
        if capacity is None:
            raise ValueError(f"a {role} holds no cases")
        return capacity

    def limit(self, capacity: Decimal) -> int | None:
        if self.limit_per_full_caseload is None:
            return None
        return caseload_limit(capacity, self.limit_per_full_caseload)


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
    limit: int | None

    @classmethod
    def assess(cls, holder: CaseHolder, policy: CaseloadPolicy) -> WorkerCaseload:
        capacity = policy.capacity(holder.role, holder.fte, holder.nqsw)
        return cls(holder=holder, capacity=capacity, limit=policy.limit(capacity))

    @property
    def over_by(self) -> int:
        return over_by(self.holder.caseload, self.limit)


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
