"""The workforce strategy as one document: targets with dated milestones, the caseload weights and
limits, the statutory visit intervals, the KPI window and the tolerance of the ``near`` band.

The metrics service owns it (versioned per council, changed through its API) and publishes every
version on the strategy topic (:mod:`steadfast_shared.strategy.events`); the caseload service applies the
version in force. Both read the rules of the document through :mod:`steadfast_shared.strategy.rules`.
:data:`SHIPPED_STRATEGY` is the Slough 2014-17 strategy (SPEC section 3), what every service applies
until a council changes it.

Numbers are JSON numbers (floats) as people write them (a weight of 0.9, a limit of 16); the rules turn
them into exact decimals before any arithmetic whose result is rounded.
"""

from __future__ import annotations

import datetime as dt
from datetime import date
from enum import StrEnum
from typing import Self

from pydantic import ConfigDict, Field, model_validator

from steadfast_shared.schemas import Input


class Direction(StrEnum):
    """Whether a KPI meets its target from above or from below."""

    at_least = "at_least"
    at_most = "at_most"


class Milestone(Input):
    model_config = ConfigDict(extra="forbid", frozen=True)

    date: dt.date = Field(description="the day by which the value is to be reached")
    value: float


class Target(Input):
    """A KPI's target: milestones in date order; the one that applies on ``as_of`` is the earliest whose
    date is on or after ``as_of``, else the last one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    direction: Direction
    milestones: list[Milestone] = Field(min_length=1)
    applies_from: date | None = Field(
        default=None, description="no target applies before this day (a target set 'from' a date)"
    )
    tolerance_pct: float | None = Field(
        default=None,
        ge=0,
        le=100,
        description="the near band for this KPI, as a % of the target value (default: the strategy's)",
    )

    @model_validator(mode="after")
    def _milestones_in_order(self) -> Self:
        dates = [m.date for m in self.milestones]
        if dates != sorted(dates) or len(set(dates)) != len(dates):
            raise ValueError("milestones must have distinct dates, in date order")
        return self

    def milestone_on(self, as_of: date) -> Milestone | None:
        """The milestone that applies on ``as_of`` (None before ``applies_from``)."""
        if self.applies_from is not None and as_of < self.applies_from:
            return None
        for milestone in self.milestones:
            if milestone.date >= as_of:
                return milestone
        return self.milestones[-1]


class CaseloadWeights(Input):
    """How much of a full caseload a case-holding worker carries (capacity = fte x role weight x NQSW
    factor)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    social_worker: float = Field(default=1.0, gt=0, le=1)
    senior_social_worker: float = Field(default=1.0, gt=0, le=1)
    consultant_practitioner: float = Field(default=0.5, gt=0, le=1)
    nqsw_factor: float = Field(default=0.9, gt=0, le=1)


class VisitIntervals(Input):
    """How often a child must be visited: ``cp`` in working days, ``cla`` in calendar days."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cp_working_days: int = Field(default=10, ge=1, le=365)
    cla_days: int = Field(default=42, ge=1, le=365)


class StrategyDocument(Input):
    """What a council's workforce strategy sets (one version of it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200)
    window_days: int = Field(default=182, ge=1, le=3660, description="the trailing window of event KPIs")
    tolerance_pct: float = Field(
        default=5.0, ge=0, le=100, description="the near band: within this % of the target value"
    )
    caseload_weights: CaseloadWeights = CaseloadWeights()
    visit_intervals: VisitIntervals = VisitIntervals()
    caseload_limit: float | None = Field(
        default=None,
        gt=0,
        description="children per full caseload over which a worker is over their limit; default: the "
        "average_caseload target that applies on as_of",
    )
    nqsw_protected_caseload: float | None = Field(
        default=None,
        gt=0,
        description="the most children an NQSW holds (watch list); default: the "
        "nqsw_student_average_caseload target that applies on as_of",
    )
    registration_warning_days: int = Field(default=60, ge=1, le=366)
    targets: dict[str, Target] = Field(default_factory=dict)

    def target_value(self, kpi_id: str, day: date) -> float | None:
        """The value of the milestone of ``kpi_id``'s target that applies on ``day`` (None: none)."""
        target = self.targets.get(kpi_id)
        milestone = target.milestone_on(day) if target is not None else None
        return milestone.value if milestone is not None else None


def _target(direction: Direction, *milestones: tuple[str, float], applies_from: str | None = None) -> Target:
    return Target(
        direction=direction,
        milestones=[Milestone(date=date.fromisoformat(d), value=v) for d, v in milestones],
        applies_from=date.fromisoformat(applies_from) if applies_from else None,
    )


AT_LEAST, AT_MOST = Direction.at_least, Direction.at_most

#: The Slough children's social care workforce strategy 2014-17 (SPEC section 3), shipped as version 1:
#: what every service applies until the council stores a version of its own.
SHIPPED_STRATEGY = StrategyDocument(
    name="Slough children's social care workforce strategy 2014-17",
    targets={
        "permanent_rate": _target(AT_LEAST, ("2017-03-31", 80)),
        "average_caseload": _target(AT_MOST, ("2015-03-31", 16)),
        "nqsw_student_average_caseload": _target(AT_MOST, ("2015-03-31", 14)),
        "nqsw_protected_development_pct": _target(AT_LEAST, ("2015-03-31", 10)),
        "students_per_year": _target(AT_LEAST, ("2016-03-31", 4), applies_from="2015-04-01"),
        "audits_good_or_better_pct": _target(AT_LEAST, ("2016-03-31", 80)),
        "audits_inadequate_pct": _target(AT_MOST, ("2016-03-31", 5)),
        "audits_contact_good_or_better_pct": _target(AT_LEAST, ("2016-03-31", 60), ("2017-03-31", 80)),
        "assessments_within_45_days_pct": _target(AT_LEAST, ("2015-03-31", 95)),
        "statutory_visits_in_time_pct": _target(AT_LEAST, ("2015-03-31", 95)),
        "children_with_at_most_3_workers_pct": _target(AT_LEAST, ("2017-03-31", 80)),
        "iro_midway_visit_pct": _target(AT_LEAST, ("2015-03-31", 95)),
    },
)

#: The version number of the shipped strategy (the first change stores it as version 1).
SHIPPED_VERSION = 1
