"""The rules of the workforce strategy that more than one service applies, written once (SPEC section 3).

Pure functions of the strategy document and plain values, called by the caseload service (its caseload,
over-limit, visits-due and assessments answers) and by the metrics service (its KPIs and watch lists), so
the two can never disagree on a worker's limit or a child's due date.

**Numbers.** A capacity is a :class:`~decimal.Decimal`, in both services. The inputs are decimals people
wrote (an FTE of 0.45, a weight of 0.9, a limit of 16) and a limit is rounded *down*, which is
discontinuous at every whole number: in binary floating point 0.7 x 0.8 x 25 is 13.999999999999998, a
limit of 13 where the strategy means 14. :func:`exact` reads a float as the decimal it was written as
(its shortest representation) and every product is exact, so no tolerance is needed. Averages and
percentages, which are reported rounded and never floored, stay floats.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from steadfast_shared.codes import CASE_HOLDING_ROLES, EpisodeType, Role
from steadfast_shared.dates import add_working_days, working_days_between
from steadfast_shared.strategy.document import StrategyDocument, VisitIntervals

#: Working days from the start of an assessment to its completion (Working Together 2015).
ASSESSMENT_TIMESCALE_WORKING_DAYS = 45

#: The episodes with a statutory visit interval.
VISITED_EPISODES = (EpisodeType.cp, EpisodeType.cla)


def exact(value: float | int | Decimal) -> Decimal:
    """``value`` as the decimal it was written as (a float by its shortest representation: 0.45 is
    ``Decimal("0.45")``, not the binary fraction just below it)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    return Decimal(repr(value))


# -- capacity and limits ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseloadWeighting:
    """The strategy's caseload weights as exact decimals: build it once per strategy, use it per worker."""

    weights: Mapping[Role, Decimal]
    nqsw_factor: Decimal

    @classmethod
    def of(cls, strategy: StrategyDocument) -> CaseloadWeighting:
        weights = strategy.caseload_weights
        return cls(
            weights={role: exact(getattr(weights, role.value)) for role in CASE_HOLDING_ROLES},
            nqsw_factor=exact(weights.nqsw_factor),
        )

    def capacity(self, role: Role, fte: float | Decimal, nqsw: bool) -> Decimal | None:
        """A worker's share of a full caseload: fte x role weight x the NQSW factor in the ASYE year;
        None for a role that does not hold cases."""
        weight = self.weights.get(role)
        if weight is None:
            return None
        return exact(fte) * weight * (self.nqsw_factor if nqsw else Decimal(1))


def per_full_caseload(strategy: StrategyDocument, day: date) -> Decimal | None:
    """L, the children per full caseload over which a worker is over their limit on ``day``: the
    strategy's ``caseload_limit``, else its ``average_caseload`` target on that day (None: neither)."""
    if strategy.caseload_limit is not None:
        return exact(strategy.caseload_limit)
    value = strategy.target_value("average_caseload", day)
    return None if value is None else exact(value)


def caseload_limit(capacity: Decimal, limit_per_full_caseload: Decimal) -> int:
    """The most children a worker of ``capacity`` holds: capacity x L, rounded down."""
    return math.floor(capacity * limit_per_full_caseload)


def over_by(caseload: int, limit: int | None) -> int:
    """How many children over their limit a worker is (0 within it, or when there is no limit)."""
    return 0 if limit is None else max(0, caseload - limit)


# -- statutory visits -------------------------------------------------------------------------------


def visit_reference_date(episode_start: date, visit_dates: Iterable[date], as_of: date) -> date:
    """The latest visit on or after the episode's start and on or before ``as_of``, else the start."""
    return max((d for d in visit_dates if episode_start <= d <= as_of), default=episode_start)


def visit_due_date(episode_type: EpisodeType, reference: date, intervals: VisitIntervals) -> date:
    """When the next statutory visit is due: ``cp`` the interval in working days after the reference
    date, ``cla`` the interval in calendar days. Other episodes have no interval (ValueError)."""
    if episode_type is EpisodeType.cp:
        return add_working_days(reference, intervals.cp_working_days)
    if episode_type is EpisodeType.cla:
        return reference + timedelta(days=intervals.cla_days)
    raise ValueError(f"{episode_type} episodes have no statutory visit interval")


# -- assessments ------------------------------------------------------------------------------------


def assessment_working_days(start_date: date, day: date) -> int:
    """Working days of an assessment from its start to ``day`` (bank holidays excluded)."""
    return working_days_between(start_date, day)


def assessment_in_time(start_date: date, completed_date: date) -> bool:
    """Completed within 45 working days of its start."""
    return assessment_working_days(start_date, completed_date) <= ASSESSMENT_TIMESCALE_WORKING_DAYS


def assessment_working_days_left(start_date: date, as_of: date) -> int:
    """Working days left of the 45 on ``as_of`` (negative: overdue by that many)."""
    return ASSESSMENT_TIMESCALE_WORKING_DAYS - assessment_working_days(start_date, as_of)
