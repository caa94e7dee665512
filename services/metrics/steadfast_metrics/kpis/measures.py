"""The small pieces every KPI module shares: the trailing window of event KPIs, and how a percentage, a
ratio or a mean becomes a :class:`~steadfast_metrics.kpis.catalogue.KpiValue` (value None, never 0 and
never an error, when nothing is eligible)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from steadfast_metrics.kpis.catalogue import KpiValue


@dataclass(frozen=True)
class Window:
    """The days ``first`` to ``last``, both included."""

    first: date
    last: date

    @classmethod
    def trailing(cls, as_of: date, days: int) -> Window:
        """``[as_of - days + 1, as_of]``: the window of event KPIs (SPEC section 3)."""
        return cls(as_of - timedelta(days=days - 1), as_of)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Window:
        """The window of the same length that ends the day before this one starts."""
        return Window(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last


def ratio(
    kpi_id: str,
    numerator: float,
    denominator: float,
    *,
    scale: float = 1.0,
    breakdown: Mapping[str, Any] | None = None,
) -> KpiValue:
    """``scale`` x numerator ÷ denominator; no value when the denominator is 0 (nothing eligible).

    The quotient is taken first: ``numerator / denominator`` is at most 1 whenever the numerator is at
    most the denominator, so a percentage of a whole never rounds above 100 (``100 * x / x`` can)."""
    value = scale * (numerator / denominator) if denominator else None
    return KpiValue(kpi_id, value, numerator, denominator, dict(breakdown or {}))


def percentage(
    kpi_id: str, numerator: float, denominator: float, breakdown: Mapping[str, Any] | None = None
) -> KpiValue:
    """numerator ÷ denominator in % (0-100 when the numerator is part of the denominator)."""
    return ratio(kpi_id, numerator, denominator, scale=100.0, breakdown=breakdown)
