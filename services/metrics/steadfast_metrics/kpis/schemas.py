from __future__ import annotations

import datetime as dt
from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from steadfast_metrics.freshness.schemas import FRESHNESS, Freshness
from steadfast_metrics.kpis.catalogue import Judged
from steadfast_metrics.kpis.status import Status, Trend
from steadfast_metrics.strategy.document import Direction
from steadfast_shared.schemas import with_examples

#: PC3 on 9 March 2015, as the README's tour answers it.
AVERAGE_CASELOAD = {
    "id": "average_caseload",
    "title": "Average caseload per full-caseload equivalent",
    "unit": "children",
    "judged": "target",
    "value": 1.22,
    "numerator": 3.0,
    "denominator": 2.45,
    "target": {"value": 16.0, "date": "2015-03-31", "direction": "at_most", "tolerance_pct": 5.0},
    "status": "met",
    "trend": None,
    "breakdown": {"case_holding_workers": 3},
}
PC3_KPIS = [
    {
        "id": "permanent_rate",
        "title": "Permanent (non-agency) qualified social workers, by FTE",
        "unit": "%",
        "judged": "target",
        "value": 60.0,
        "numerator": 1.5,
        "denominator": 2.5,
        "target": {"value": 80.0, "date": "2017-03-31", "direction": "at_least", "tolerance_pct": 5.0},
        "status": "not_met",
        "trend": None,
        "breakdown": {},
    },
    AVERAGE_CASELOAD,
    {
        "id": "audits_good_or_better_pct",
        "title": "Full audits graded good or better",
        "unit": "%",
        "judged": "target",
        "value": 100.0,
        "numerator": 1.0,
        "denominator": 1.0,
        "target": {"value": 80.0, "date": "2016-03-31", "direction": "at_least", "tolerance_pct": 5.0},
        "status": "met",
        "trend": None,
        "breakdown": {"grades": {"outstanding": 0, "good": 1, "requires_improvement": 0, "inadequate": 0}},
    },
    {
        "id": "assessments_within_45_days_pct",
        "title": "Assessments completed within 45 working days",
        "unit": "%",
        "judged": "target",
        "value": None,
        "numerator": None,
        "denominator": None,
        "target": {"value": 95.0, "date": "2015-03-31", "direction": "at_least", "tolerance_pct": 5.0},
        "status": "no_data",
        "trend": None,
        "breakdown": {},
    },
]
ANSWERED_FOR = {
    "as_of": "2015-03-09",
    "team": "PC3",
    "council": "slough",
    "strategy_version": 1,
    "window_days": 182,
    "freshness": FRESHNESS,
}


class TargetRead(BaseModel):
    """The milestone that applies on ``as_of``."""

    value: float
    date: dt.date = Field(description="the milestone's date: the value is to be reached by then")
    direction: Direction
    tolerance_pct: float = Field(description="the near band, as a % of the target value")


class KpiAnswer(BaseModel):
    model_config = with_examples(AVERAGE_CASELOAD)

    id: str
    title: str
    unit: str
    judged: Judged
    value: float | None = Field(description="null when no record is eligible (status no_data)")
    numerator: float | None
    denominator: float | None
    target: TargetRead | None
    status: Status | None = Field(
        description="met, near, not_met or no_data; null for a value with no target to judge it against"
    )
    trend: Trend | None = Field(
        default=None, description="survey KPIs: the change of the mean against the previous window"
    )
    breakdown: dict[str, Any] = Field(default_factory=dict)


class KpiReport(BaseModel):
    #: Four of the KPIs (a report has every one).
    model_config = with_examples({**ANSWERED_FOR, "kpis": PC3_KPIS})

    as_of: date
    team: str | None = Field(description="null: the whole council")
    council: str
    strategy_version: int
    window_days: int
    freshness: Freshness
    kpis: list[KpiAnswer]


class KpiReading(KpiAnswer):
    """One KPI, with what the answer was computed from."""

    model_config = with_examples({**AVERAGE_CASELOAD, **ANSWERED_FOR})

    as_of: date
    team: str | None
    council: str
    strategy_version: int
    window_days: int
    freshness: Freshness
