"""Every KPI of SPEC section 3: its id, what it measures and how it is judged."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Judged(StrEnum):
    """How a KPI's status is decided."""

    target = "target"  # against the strategy's target (met / near / not_met)
    monitoring = "monitoring"  # reported, no target (status only no_data when there is no value)
    direction = "direction"  # surveys: the change against the previous window says better or worse


@dataclass(frozen=True)
class KpiDefinition:
    id: str
    title: str
    unit: str
    judged: Judged
    #: For a survey: whether a higher score is better.
    high_is_good: bool | None = None


@dataclass(frozen=True)
class KpiValue:
    """What the engine computes for one KPI on one date (and team): no status, no target."""

    id: str
    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    breakdown: Mapping[str, Any] = field(default_factory=dict)


CATALOGUE: tuple[KpiDefinition, ...] = (
    KpiDefinition(
        "permanent_rate", "Permanent (non-agency) qualified social workers, by FTE", "%", Judged.target
    ),
    KpiDefinition(
        "average_caseload", "Average caseload per full-caseload equivalent", "children", Judged.target
    ),
    KpiDefinition(
        "workers_over_caseload_limit",
        "Case-holding workers over their caseload limit",
        "%",
        Judged.monitoring,
    ),
    KpiDefinition(
        "nqsw_student_average_caseload", "Average caseload of NQSWs and students", "children", Judged.target
    ),
    KpiDefinition("nqsw_protected_development_pct", "NQSWs' protected development time", "%", Judged.target),
    KpiDefinition(
        "students_per_year", "Student placements starting in the financial year", "placements", Judged.target
    ),
    KpiDefinition("audits_good_or_better_pct", "Full audits graded good or better", "%", Judged.target),
    KpiDefinition("audits_inadequate_pct", "Full audits graded inadequate", "%", Judged.target),
    KpiDefinition(
        "audits_contact_good_or_better_pct",
        "Full audits with contact graded good or better",
        "%",
        Judged.target,
    ),
    KpiDefinition(
        "assessments_within_45_days_pct", "Assessments completed within 45 working days", "%", Judged.target
    ),
    KpiDefinition(
        "statutory_visits_in_time_pct", "Children on CP or CLA plans visited in time", "%", Judged.target
    ),
    KpiDefinition(
        "children_with_at_most_3_workers_pct", "Children with 3 or fewer social workers", "%", Judged.target
    ),
    KpiDefinition(
        "iro_midway_visit_pct", "Reviews with an IRO visit since the last review", "%", Judged.target
    ),
    KpiDefinition("agency_rate", "Agency rate (DfE census)", "%", Judged.monitoring),
    KpiDefinition("vacancy_rate", "Vacancy rate (DfE census)", "%", Judged.monitoring),
    KpiDefinition("turnover_rate", "Turnover rate (DfE census)", "%", Judged.monitoring),
    KpiDefinition("recruit_reasons", "Why recruits joined", "score", Judged.direction, high_is_good=True),
    KpiDefinition("leaver_reasons", "Why leavers left", "score", Judged.direction, high_is_good=False),
    KpiDefinition("staff_health_check", "Staff health check", "score", Judged.direction, high_is_good=True),
    KpiDefinition(
        "child_family_experience", "Child and family experience", "score", Judged.direction, high_is_good=True
    ),
)

KPI_IDS: tuple[str, ...] = tuple(d.id for d in CATALOGUE)
BY_ID: Mapping[str, KpiDefinition] = {d.id: d for d in CATALOGUE}
