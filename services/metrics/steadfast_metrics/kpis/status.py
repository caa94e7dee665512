"""Judging a KPI's value against the strategy: the target that applies on ``as_of`` and the status.

- The target is the earliest milestone whose date is on or after ``as_of``, else the last one; none
  before the target's ``applies_from``.
- ``no_data`` when the value is null; otherwise ``met`` when the value is on the right side of the
  target, ``near`` when it misses by no more than the tolerance (a % of the target value: the target's
  own, else the strategy's), else ``not_met``.
- A KPI with no target (monitoring only, or before its target applies) and a value has no status
  (null): there is nothing to judge it against. Survey KPIs are judged by direction: their ``trend``
  says whether the mean moved the good way against the previous window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from steadfast_metrics.kpis.catalogue import BY_ID, Judged, KpiValue
from steadfast_metrics.strategy.document import Direction, Milestone, StrategyDocument, Target

#: Values are compared at this many decimal places, so float noise never flips a status.
PRECISION = 9


class Status(StrEnum):
    met = "met"
    near = "near"
    not_met = "not_met"
    no_data = "no_data"


class Trend(StrEnum):
    better = "better"
    worse = "worse"
    unchanged = "unchanged"


@dataclass(frozen=True)
class Judgement:
    target: Target | None
    milestone: Milestone | None
    status: Status | None
    trend: Trend | None = None


def status_against(value: float, direction: Direction, target_value: float, tolerance_pct: float) -> Status:
    value = round(value, PRECISION)
    band = abs(target_value) * tolerance_pct / 100
    if direction is Direction.at_least:
        if value >= target_value:
            return Status.met
        return Status.near if value >= round(target_value - band, PRECISION) else Status.not_met
    if value <= target_value:
        return Status.met
    return Status.near if value <= round(target_value + band, PRECISION) else Status.not_met


def judge(kpi: KpiValue, strategy: StrategyDocument, as_of: date) -> Judgement:
    definition = BY_ID[kpi.id]
    target = strategy.targets.get(kpi.id)
    milestone = target.milestone_on(as_of) if target is not None else None
    if kpi.value is None:
        return Judgement(target, milestone, Status.no_data)
    trend = _trend(kpi) if definition.judged is Judged.direction else None
    if target is None or milestone is None:
        return Judgement(target, milestone, None, trend)
    tolerance = target.tolerance_pct if target.tolerance_pct is not None else strategy.tolerance_pct
    return Judgement(
        target, milestone, status_against(kpi.value, target.direction, milestone.value, tolerance), trend
    )


def previous_survey_value(kpi: KpiValue) -> float | None:
    """The survey KPI's value in the previous window: the mean of its factors' previous means."""
    factors = kpi.breakdown.get("factors") or {}
    means = [f["previous_mean"] for f in factors.values() if f.get("previous_mean") is not None]
    return sum(means) / len(means) if means else None


def _trend(kpi: KpiValue) -> Trend | None:
    previous = previous_survey_value(kpi)
    if previous is None or kpi.value is None:
        return None
    change = round(kpi.value - previous, PRECISION)
    if change == 0:
        return Trend.unchanged
    good = BY_ID[kpi.id].high_is_good
    return Trend.better if (change > 0) == bool(good) else Trend.worse
