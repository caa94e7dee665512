"""The watch lists: the workers and children behind the KPIs that need a manager's attention on
``as_of``, as pure functions of the facts and the strategy (the same rules as the engine, from the same
helpers in :mod:`~steadfast_metrics.kpis.workforce` and :mod:`~steadfast_metrics.kpis.casework`).

- *Workers over their limit*: case-holding workers whose caseload exceeds ``floor(capacity x L)``
  (L as for ``workers_over_caseload_limit``; no L, no list), most over first.
- *NQSWs over their protected caseload*: NQSWs holding more children than the strategy's
  ``nqsw_protected_caseload``, else the ``nqsw_student_average_caseload`` target that applies on
  ``as_of``, per head whatever their FTE (no value, no list), most over first.
- *Children with overdue visits*: children with an active ``cp`` / ``cla`` plan not visited in time,
  reported by their most overdue plan, most overdue first.
- *Children with 4 or more workers* in their current continuous run of episodes, most workers first.
- *Registrations expiring*: workers in post whose Social Work England registration expires within
  ``registration_warning_days`` of ``as_of``, or has already expired while they are still in post
  (``days_left`` negative), soonest first.

Per team, a worker is in the team of their terms on ``as_of``; a child in the team of a worker it is
allocated to on ``as_of``. Ties are listed in a stable order (name, then id).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from steadfast_metrics.facts.records import Facts
from steadfast_metrics.kpis.casework import CaseIndex, visits_due, worker_counts
from steadfast_metrics.kpis.workforce import (
    OnDuty,
    limit_per_full_caseload,
    protected_caseload,
    staff_on,
    worker_limit,
)
from steadfast_metrics.strategy.document import StrategyDocument
from steadfast_shared.codes import EpisodeType


@dataclass(frozen=True)
class WorkerOverLimit:
    worker_id: uuid.UUID
    external_id: str
    display_name: str
    team: str
    caseload: int
    capacity: float
    limit: int
    over_by: int


@dataclass(frozen=True)
class NqswOverProtectedCaseload:
    worker_id: uuid.UUID
    external_id: str
    display_name: str
    team: str
    caseload: int
    protected_caseload: int
    over_by: int


@dataclass(frozen=True)
class ChildWithOverdueVisit:
    child_id: uuid.UUID
    episode_type: EpisodeType
    reference_date: date
    due_date: date
    days_overdue: int


@dataclass(frozen=True)
class ChildWithManyWorkers:
    child_id: uuid.UUID
    workers: int
    run_start: date


@dataclass(frozen=True)
class RegistrationExpiring:
    worker_id: uuid.UUID
    external_id: str
    display_name: str
    team: str
    expiry: date
    days_left: int


#: A child has "many" workers from this many on.
MANY_WORKERS = 4


def _by_name(member: OnDuty) -> tuple[str, str]:
    return member.worker.display_name, str(member.worker.id)


def workers_over_limit(
    facts: Facts, strategy: StrategyDocument, as_of: date, team: str | None = None
) -> list[WorkerOverLimit]:
    per_full_caseload = limit_per_full_caseload(strategy, as_of)
    if per_full_caseload is None:
        return []
    rows = []
    for member in sorted(staff_on(facts, strategy, as_of, team), key=_by_name):
        if member.capacity is None:
            continue
        limit = worker_limit(member.capacity, per_full_caseload)
        if member.caseload > limit:
            rows.append(
                WorkerOverLimit(
                    worker_id=member.worker.id,
                    external_id=member.worker.external_id,
                    display_name=member.worker.display_name,
                    team=member.terms.team,
                    caseload=member.caseload,
                    capacity=float(member.capacity),
                    limit=limit,
                    over_by=member.caseload - limit,
                )
            )
    return sorted(rows, key=lambda r: -r.over_by)


def nqsws_over_protected_caseload(
    facts: Facts, strategy: StrategyDocument, as_of: date, team: str | None = None
) -> list[NqswOverProtectedCaseload]:
    protected = protected_caseload(strategy, as_of)
    if protected is None:
        return []
    rows = [
        NqswOverProtectedCaseload(
            worker_id=member.worker.id,
            external_id=member.worker.external_id,
            display_name=member.worker.display_name,
            team=member.terms.team,
            caseload=member.caseload,
            protected_caseload=protected,
            over_by=member.caseload - protected,
        )
        for member in sorted(staff_on(facts, strategy, as_of, team), key=_by_name)
        if member.nqsw and member.caseload > protected
    ]
    return sorted(rows, key=lambda r: -r.over_by)


def children_with_overdue_visits(
    facts: Facts, strategy: StrategyDocument, as_of: date, team: str | None = None
) -> list[ChildWithOverdueVisit]:
    index = CaseIndex(facts)
    rows = []
    for child in sorted(index.children_with_episode(as_of, team, (EpisodeType.cp, EpisodeType.cla)), key=str):
        overdue = [d for d in visits_due(index, child, as_of, strategy.visit_intervals) if not d.in_time]
        if overdue:
            worst = max(overdue, key=lambda d: d.days_overdue)
            rows.append(
                ChildWithOverdueVisit(
                    child_id=child,
                    episode_type=worst.episode_type,
                    reference_date=worst.reference_date,
                    due_date=worst.due_date,
                    days_overdue=worst.days_overdue,
                )
            )
    return sorted(rows, key=lambda r: -r.days_overdue)


def children_with_4_or_more_workers(
    facts: Facts, strategy: StrategyDocument, as_of: date, team: str | None = None
) -> list[ChildWithManyWorkers]:
    counts = worker_counts(CaseIndex(facts), as_of, team)
    rows = [
        ChildWithManyWorkers(child_id=child, workers=workers, run_start=start)
        for child, (start, workers) in sorted(counts.items(), key=lambda item: str(item[0]))
        if workers >= MANY_WORKERS
    ]
    return sorted(rows, key=lambda r: -r.workers)


def registrations_expiring(
    facts: Facts, strategy: StrategyDocument, as_of: date, team: str | None = None
) -> list[RegistrationExpiring]:
    horizon = as_of + timedelta(days=strategy.registration_warning_days)
    rows = [
        RegistrationExpiring(
            worker_id=member.worker.id,
            external_id=member.worker.external_id,
            display_name=member.worker.display_name,
            team=member.terms.team,
            expiry=expiry,
            days_left=(expiry - as_of).days,
        )
        for member in sorted(staff_on(facts, strategy, as_of, team), key=_by_name)
        if (expiry := member.worker.swe_registration_expiry) is not None and expiry <= horizon
    ]
    return sorted(rows, key=lambda r: r.days_left)
