"""The forecast of a KPI at its target's date, from the recent trend.

A straight line is fitted by least squares to the latest snapshots' values against their dates
(``statistics.linear_regression``, the standard library's) and read at the target's date. The KPI is on
track when that forecast meets the target (the same test as ``met``). There is no forecast with fewer than
two snapshots on different days, or once the target's date has passed (the status then says it all).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from steadfast_metrics.kpis.status import Status, status_against
from steadfast_metrics.strategy.document import Direction


@dataclass(frozen=True)
class Point:
    as_of: date
    value: float


@dataclass(frozen=True)
class Forecast:
    target_date: date
    target_value: float
    value: float | None
    on_track: bool | None
    points_used: int
    #: Change of the value per 30 days along the fitted line.
    slope_per_30_days: float | None


def forecast(
    points: Sequence[Point],
    *,
    target_date: date,
    target_value: float,
    direction: Direction,
    latest: int,
    today: date,
    bounds: tuple[float, float | None] = (0.0, None),
) -> Forecast:
    """The value the recent trend reaches by ``target_date``, held within ``bounds`` (a KPI's values
    cannot leave them: a percentage of a whole stays within 0 and 100, a count or mean above 0)."""
    recent = sorted(points, key=lambda p: p.as_of)[-latest:]
    usable = len({p.as_of for p in recent}) >= 2 and target_date >= today
    if not usable:
        return Forecast(target_date, target_value, None, None, len(recent), None)
    xs = [float(p.as_of.toordinal()) for p in recent]
    ys = [p.value for p in recent]
    slope, intercept = statistics.linear_regression(xs, ys)
    low, high = bounds
    value = max(low, slope * target_date.toordinal() + intercept)
    if high is not None:
        value = min(high, value)
    on_track = status_against(value, direction, target_value, 0.0) is Status.met
    return Forecast(target_date, target_value, value, on_track, len(recent), slope * 30)
