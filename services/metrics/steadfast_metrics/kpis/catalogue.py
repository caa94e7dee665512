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
    #: What it measures, in plain words (the dashboard's KPI page shows it).
    definition: str
    #: What the numerator and the denominator count, for KPIs that are a ratio.
    counts: tuple[str, str] | None = None
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
        "permanent_rate",
        "Permanent (non-agency) qualified social workers, by FTE",
        "%",
        Judged.target,
        "Of the qualified social workers in post, the share employed by the council rather than through "
        "an agency, counted in full-time equivalents.",
        ("FTE of qualified workers who are not agency", "FTE of all qualified workers in post"),
    ),
    KpiDefinition(
        "average_caseload",
        "Average caseload per full-caseload equivalent",
        "children",
        Judged.target,
        "How many children a full-time, fully experienced case-holding social worker holds on average: "
        "the children allocated to case holders, divided by their capacity (part-time workers, "
        "consultant practitioners and NQSWs count for less than one).",
        ("children allocated to case-holding workers", "their capacity in full caseloads"),
    ),
    KpiDefinition(
        "workers_over_caseload_limit",
        "Case-holding workers over their caseload limit",
        "%",
        Judged.monitoring,
        "The share of case-holding workers holding more children than their own limit (their capacity "
        "times the caseload target, rounded down).",
        ("case-holding workers over their limit", "case-holding workers"),
    ),
    KpiDefinition(
        "nqsw_student_average_caseload",
        "Average caseload of NQSWs and students",
        "children",
        Judged.target,
        "How many children newly qualified social workers in their assessed first year (ASYE) and "
        "students hold on average, per person.",
        ("children allocated to NQSWs and students", "NQSWs and students in post"),
    ),
    KpiDefinition(
        "nqsw_protected_development_pct",
        "NQSWs' protected development time",
        "%",
        Judged.target,
        "The average share of their time that NQSWs have protected for learning and development.",
    ),
    KpiDefinition(
        "students_per_year",
        "Student placements starting in the financial year",
        "placements",
        Judged.target,
        "Social work student placements starting in the financial year (1 April to 31 March).",
    ),
    KpiDefinition(
        "audits_good_or_better_pct",
        "Full audits graded good or better",
        "%",
        Judged.target,
        "Of the full casework audits completed in the window, the share graded outstanding or good "
        "(with the moderated grade where an audit was moderated).",
        ("full audits graded outstanding or good", "full audits completed"),
    ),
    KpiDefinition(
        "audits_inadequate_pct",
        "Full audits graded inadequate",
        "%",
        Judged.target,
        "Of the full casework audits completed in the window, the share graded inadequate.",
        ("full audits graded inadequate", "full audits completed"),
    ),
    KpiDefinition(
        "audits_contact_good_or_better_pct",
        "Full audits with contact graded good or better",
        "%",
        Judged.target,
        "Of the full audits completed in the window that graded the contact with the child and family, "
        "the share where that contact was outstanding or good.",
        ("audits with contact graded outstanding or good", "audits with a contact grade"),
    ),
    KpiDefinition(
        "assessments_within_45_days_pct",
        "Assessments completed within 45 working days",
        "%",
        Judged.target,
        "Of the children and family assessments completed in the window, the share completed within 45 "
        "working days of starting (weekends and bank holidays do not count).",
        ("assessments completed within 45 working days", "assessments completed"),
    ),
    KpiDefinition(
        "statutory_visits_in_time_pct",
        "Children on CP or CLA plans visited in time",
        "%",
        Judged.target,
        "Of the children on a child protection plan or looked after, the share whose statutory visit is "
        "not overdue (child protection every 10 working days, looked after every 6 weeks, by default).",
        ("children visited in time", "children on a CP or CLA plan"),
    ),
    KpiDefinition(
        "children_with_at_most_3_workers_pct",
        "Children with 3 or fewer social workers",
        "%",
        Judged.target,
        "Of the children with an open case, the share who have had at most three different social "
        "workers since their current involvement with children's social care began.",
        ("children with 3 or fewer workers", "children with an open case"),
    ),
    KpiDefinition(
        "iro_midway_visit_pct",
        "Reviews with an IRO visit since the last review",
        "%",
        Judged.target,
        "Of the looked-after children's reviews held in the window that follow an earlier review, the "
        "share where the independent reviewing officer visited the child in between.",
        ("reviews with an IRO visit since the last review", "reviews after an earlier review"),
    ),
    KpiDefinition(
        "agency_rate",
        "Agency rate (DfE census)",
        "%",
        Judged.monitoring,
        "Agency workers' FTE as a share of agency and employed FTE, as the DfE workforce census counts it.",
        ("agency FTE", "agency and employed FTE"),
    ),
    KpiDefinition(
        "vacancy_rate",
        "Vacancy rate (DfE census)",
        "%",
        Judged.monitoring,
        "Posts not held by an employed worker as a share of vacancy and employed FTE, as the DfE workforce "
        "census counts it.",
        ("vacancy FTE", "vacancy and employed FTE"),
    ),
    KpiDefinition(
        "turnover_rate",
        "Turnover rate (DfE census)",
        "%",
        Judged.monitoring,
        "Employed workers who left in the last 12 months, as a share of employed FTE, as the DfE "
        "workforce census counts it.",
        ("FTE of employed workers who left in 12 months", "employed FTE"),
    ),
    KpiDefinition(
        "recruit_reasons",
        "Why recruits joined",
        "score",
        Judged.direction,
        "New recruits' average scores (1 to 5) for what brought them to the council; higher is better.",
        high_is_good=True,
    ),
    KpiDefinition(
        "leaver_reasons",
        "Why leavers left",
        "score",
        Judged.direction,
        "Leavers' average scores (1 to 5) for why they left; lower is better.",
        high_is_good=False,
    ),
    KpiDefinition(
        "staff_health_check",
        "Staff health check",
        "score",
        Judged.direction,
        "Staff's average scores (1 to 5) in the health check survey; higher is better.",
        high_is_good=True,
    ),
    KpiDefinition(
        "child_family_experience",
        "Child and family experience",
        "score",
        Judged.direction,
        "Children's and families' average scores (1 to 5) for their experience of the service; higher is "
        "better.",
        high_is_good=True,
    ),
)

KPI_IDS: tuple[str, ...] = tuple(d.id for d in CATALOGUE)
BY_ID: Mapping[str, KpiDefinition] = {d.id: d for d in CATALOGUE}
