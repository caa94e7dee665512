"""Each worker's caseload in a team on a day, against the limit that applies to them: a pure function of
the facts and the strategy, on the engine's own rules (:mod:`~steadfast_metrics.kpis.workforce`).

- A case-holding worker's limit is ``floor(capacity x L)``, L as for ``workers_over_caseload_limit``
  (no L in the strategy: no limit), so the workers over it are the ones that KPI counts.
- NQSWs and students also carry the protected caseload (per head) when the strategy sets one, as the
  NQSW watch list judges them; a student, who holds no full caseload, has that alone.

Workers over their limit come first (most over first), then the rest by name.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from steadfast_metrics.facts.records import Facts
from steadfast_metrics.kpis.workforce import (
    OnDuty,
    limit_per_full_caseload,
    protected_caseload,
    staff_on,
    worker_limit,
)
from steadfast_metrics.strategy.document import StrategyDocument
from steadfast_shared.codes import Role


@dataclass(frozen=True)
class WorkerCaseload:
    worker_id: uuid.UUID
    external_id: str
    display_name: str
    role: Role
    nqsw: bool
    student: bool
    caseload: int
    capacity: float | None
    #: floor(capacity x L); None for a student, or when the strategy sets no L.
    limit: int | None
    #: The protected caseload of an NQSW or student (None for others, or when the strategy sets none).
    protected_caseload: int | None

    @property
    def over_by(self) -> int:
        """How many children over their limit (the protected caseload for a student), else 0."""
        bound = self.limit if self.limit is not None else self.protected_caseload if self.student else None
        return max(self.caseload - bound, 0) if bound is not None else 0


def team_caseloads(facts: Facts, strategy: StrategyDocument, as_of: date, team: str) -> list[WorkerCaseload]:
    per_full = limit_per_full_caseload(strategy, as_of)
    protected = protected_caseload(strategy, as_of)
    rows = [
        _caseload(member, per_full, protected)
        for member in staff_on(facts, strategy, as_of, team)
        if member.case_holding or member.student
    ]
    return sorted(rows, key=lambda r: (-r.over_by, r.display_name, str(r.worker_id)))


def _caseload(member: OnDuty, per_full: Decimal | None, protected: int | None) -> WorkerCaseload:
    return WorkerCaseload(
        worker_id=member.worker.id,
        external_id=member.worker.external_id,
        display_name=member.worker.display_name,
        role=member.terms.role,
        nqsw=member.nqsw,
        student=member.student,
        caseload=member.caseload,
        capacity=float(member.capacity) if member.capacity is not None else None,
        limit=worker_limit(member.capacity, per_full)
        if member.capacity is not None and per_full is not None
        else None,
        protected_caseload=protected if member.nqsw or member.student else None,
    )
