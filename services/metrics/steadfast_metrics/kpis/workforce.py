"""The workforce KPIs (SPEC section 3): who is in post on a day, on what terms, holding how many children
against what capacity, and the DfE census rates.

On a day D a worker is *in post* when their employment is active (``start_date <= D < end_date``) and
their terms are ``Worker.terms_on(D)``. *Qualified*: any role but student. *NQSW*: qualified and
``asye_start <= D < asye_end`` (``asye_end`` defaults to ``asye_start`` + 12 months). *Case-holding*:
social worker, senior social worker or consultant practitioner. *Capacity* of a case-holding worker =
fte x the strategy's weight for the role x the NQSW factor when an NQSW. *Caseload* = the number of
distinct children with an allocation to the worker active on D, so on a handover day a child counts only
for the worker who takes it on.

A worker's *limit* is ``floor(capacity x L)``, L being the strategy's ``caseload_limit`` or else the
``average_caseload`` target that applies on D. Capacity and limit are the shared library's rules
(:mod:`steadfast_shared.strategy.rules`), in exact decimals, the very rules the caseload service's
over-limit list applies (capacity 0.7 x 0.8 = 0.56 with L 25 is a limit of 14). An NQSW's *protected
caseload* is the strategy's ``nqsw_protected_caseload`` or else the ``nqsw_student_average_caseload``
target that applies on D, rounded down: caseloads are whole children, so holding more than 14.5
children is holding more than 14.

Per team, a worker belongs to the team of their terms on D; a leaver (turnover) to the team of their
last day; a post to its own team; a placement to its own team.

Sums of FTE and of capacity are exact (``math.fsum``), so the order of the records never changes an answer.
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from steadfast_metrics.facts.records import Allocation, Facts, Placement, Post, Terms, Worker
from steadfast_metrics.kpis.catalogue import KpiValue
from steadfast_metrics.kpis.measures import percentage, ratio
from steadfast_metrics.strategy.document import StrategyDocument
from steadfast_shared.codes import EmploymentType, Role
from steadfast_shared.dates import active_on
from steadfast_shared.strategy.rules import CaseloadWeighting, caseload_limit, per_full_caseload

#: How long an ASYE lasts when the record gives no end.
ASYE_LENGTH = relativedelta(months=12)

#: Absorbs float error before rounding down a protected caseload taken from a target value.
_ROUNDING_TOLERANCE = 1e-9


@dataclass(frozen=True)
class OnDuty:
    """A worker in post on one day, with the terms, caseload and capacity of that day."""

    worker: Worker
    terms: Terms
    nqsw: bool
    caseload: int
    #: Share of a full caseload (exact, :mod:`steadfast_shared.strategy.rules`); None for a worker who
    #: does not hold cases.
    capacity: Decimal | None

    @property
    def qualified(self) -> bool:
        return self.terms.role.is_qualified

    @property
    def student(self) -> bool:
        return self.terms.role is Role.student

    @property
    def agency(self) -> bool:
        return self.terms.employment_type is EmploymentType.agency

    @property
    def case_holding(self) -> bool:
        return self.capacity is not None


def asye_end(worker: Worker) -> date | None:
    """The first day after the worker's ASYE (None when they have no ASYE on record)."""
    if worker.asye_start is None:
        return None
    return worker.asye_end if worker.asye_end is not None else worker.asye_start + ASYE_LENGTH


def is_nqsw(worker: Worker, terms: Terms, day: date) -> bool:
    end = asye_end(worker)
    return (
        terms.role.is_qualified
        and worker.asye_start is not None
        and end is not None
        and worker.asye_start <= day < end
    )


def capacity(terms: Terms, nqsw: bool, weighting: CaseloadWeighting) -> Decimal | None:
    """fte x role weight x NQSW factor; None for a role that does not hold cases."""
    return weighting.capacity(terms.role, terms.fte, nqsw)


def caseloads_on(allocations: Iterable[Allocation], day: date) -> dict[uuid.UUID, int]:
    """Per worker, the number of distinct children allocated to them on ``day``."""
    children: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for allocation in allocations:
        if active_on(allocation.start_date, allocation.end_date, day):
            children[allocation.worker_id].add(allocation.child_id)
    return {worker_id: len(held) for worker_id, held in children.items()}


def _caseloads(facts: Facts, day: date) -> dict[uuid.UUID, int]:
    """:func:`caseloads_on` the facts' allocations, counted once per day and kept with the facts."""
    key = ("caseloads", day)
    caseloads = facts.memo.get(key)
    if not isinstance(caseloads, dict):
        caseloads = facts.memo[key] = caseloads_on(facts.allocations, day)
    return caseloads


def staff_on(facts: Facts, strategy: StrategyDocument, day: date, team: str | None = None) -> list[OnDuty]:
    """The workers in post on ``day`` (those of ``team`` when given), in the order of ``facts``."""
    caseloads = _caseloads(facts, day)
    weighting = CaseloadWeighting.of(strategy)
    staff = []
    for worker in facts.workers:
        terms = worker.terms_on(day)
        if terms is None or (team is not None and terms.team != team):
            continue
        nqsw = is_nqsw(worker, terms, day)
        staff.append(
            OnDuty(
                worker=worker,
                terms=terms,
                nqsw=nqsw,
                caseload=caseloads.get(worker.id, 0),
                capacity=capacity(terms, nqsw, weighting),
            )
        )
    return staff


def _target_value(strategy: StrategyDocument, kpi_id: str, day: date) -> float | None:
    target = strategy.targets.get(kpi_id)
    milestone = target.milestone_on(day) if target is not None else None
    return milestone.value if milestone is not None else None


def limit_per_full_caseload(strategy: StrategyDocument, day: date) -> Decimal | None:
    """L: children per full caseload over which a worker is over their limit (None: no limit set)."""
    return per_full_caseload(strategy, day)


def worker_limit(worker_capacity: Decimal, limit_per_full: Decimal) -> int:
    """The most children a worker of this capacity holds: capacity x L, rounded down."""
    return caseload_limit(worker_capacity, limit_per_full)


def protected_caseload(strategy: StrategyDocument, day: date) -> int | None:
    """The most children an NQSW holds, per head (None: the strategy sets none)."""
    value = strategy.nqsw_protected_caseload
    if value is None:
        value = _target_value(strategy, "nqsw_student_average_caseload", day)
    return None if value is None else math.floor(value + _ROUNDING_TOLERANCE)


def _fte(staff: Iterable[OnDuty]) -> float:
    return math.fsum(member.terms.fte for member in staff)


def employed_fte(staff: Sequence[OnDuty]) -> float:
    """The DfE census's employed FTE: qualified workers in post who are not agency workers."""
    return _fte(m for m in staff if m.qualified and not m.agency)


def permanent_rate(staff: Sequence[OnDuty]) -> KpiValue:
    qualified = [m for m in staff if m.qualified]
    return percentage("permanent_rate", employed_fte(staff), _fte(qualified))


def average_caseload(staff: Sequence[OnDuty]) -> KpiValue:
    holders = [m for m in staff if m.capacity is not None]
    return ratio(
        "average_caseload",
        sum(m.caseload for m in holders),
        math.fsum(m.capacity for m in holders if m.capacity is not None),
        breakdown={"case_holding_workers": len(holders)},
    )


def workers_over_caseload_limit(staff: Sequence[OnDuty], limit_per_full: Decimal | None) -> KpiValue:
    holders = [m for m in staff if m.capacity is not None]
    if limit_per_full is None:
        return KpiValue("workers_over_caseload_limit", None)
    over_by = [
        m.caseload - worker_limit(m.capacity, limit_per_full) for m in holders if m.capacity is not None
    ]
    over = [n for n in over_by if n > 0]
    return percentage(
        "workers_over_caseload_limit",
        len(over),
        len(holders),
        breakdown={
            "over": len(over),
            "over_by_1_2": sum(1 for n in over if n <= 2),
            "over_by_3_or_more": sum(1 for n in over if n >= 3),
            "case_holding_workers": len(holders),
        },
    )


def nqsw_student_average_caseload(staff: Sequence[OnDuty]) -> KpiValue:
    nqsws = [m for m in staff if m.nqsw]
    students = [m for m in staff if m.student]
    return ratio(
        "nqsw_student_average_caseload",
        sum(m.caseload for m in [*nqsws, *students]),
        len(nqsws) + len(students),
        breakdown={"nqsws": len(nqsws), "students": len(students)},
    )


def nqsw_protected_development_pct(staff: Sequence[OnDuty]) -> KpiValue:
    nqsws = [m for m in staff if m.nqsw]
    recorded = [
        m.worker.protected_development_pct for m in nqsws if m.worker.protected_development_pct is not None
    ]
    return ratio(
        "nqsw_protected_development_pct",
        math.fsum(recorded),
        len(recorded),
        breakdown={"nqsws": len(nqsws), "nqsws_without_value": len(nqsws) - len(recorded)},
    )


def financial_year(day: date) -> tuple[date, date]:
    """The financial year containing ``day``, as ``[1 April, next 1 April)``."""
    start = date(day.year if day.month >= 4 else day.year - 1, 4, 1)
    return start, date(start.year + 1, 4, 1)


def students_per_year(placements: Iterable[Placement], as_of: date, team: str | None) -> KpiValue:
    start, end = financial_year(as_of)
    count = sum(1 for p in placements if start <= p.start_date < end and (team is None or p.team == team))
    # SPEC section 3: no eligible record (no placement starting in the year) is null, never 0.
    return KpiValue(
        "students_per_year",
        float(count) if count else None,
        numerator=count,
        breakdown={"financial_year": f"{start.year}-{(start.year + 1) % 100:02d}"},
    )


def agency_rate(staff: Sequence[OnDuty]) -> KpiValue:
    agency = _fte(m for m in staff if m.qualified and m.agency)
    return percentage("agency_rate", agency, agency + employed_fte(staff))


def _held(post: Post, workers: Mapping[uuid.UUID, Worker], day: date) -> bool:
    """Whether a non-agency worker in post holds the post on ``day``."""
    for holding in post.holdings:
        worker = workers.get(holding.worker_id)
        if worker is None or not active_on(holding.start_date, holding.end_date, day):
            continue
        terms = worker.terms_on(day)
        if terms is not None and terms.employment_type is not EmploymentType.agency:
            return True
    return False


def vacancy_rate(
    staff: Sequence[OnDuty], posts: Iterable[Post], workers: Iterable[Worker], day: date, team: str | None
) -> KpiValue:
    by_id = {w.id: w for w in workers}
    vacant = math.fsum(
        post.fte
        for post in posts
        if active_on(post.start_date, post.end_date, day)
        and (team is None or post.team == team)
        and not _held(post, by_id, day)
    )
    return percentage("vacancy_rate", vacant, vacant + employed_fte(staff))


def turnover_rate(
    staff: Sequence[OnDuty], workers: Iterable[Worker], day: date, team: str | None
) -> KpiValue:
    first = day - relativedelta(years=1) + timedelta(days=1)
    leavers = []
    for worker in workers:
        if worker.end_date is None or not first <= worker.end_date <= day:
            continue
        last_terms = worker.terms_on(worker.end_date - timedelta(days=1))
        if (
            last_terms is not None
            and last_terms.role.is_qualified
            and last_terms.employment_type is not EmploymentType.agency
            and (team is None or last_terms.team == team)
        ):
            leavers.append(last_terms.fte)
    return percentage("turnover_rate", math.fsum(leavers), employed_fte(staff))
