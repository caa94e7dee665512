"""The casework audit KPIs (SPEC section 3).

The population is the full audits (not dip samples) completed in the window that have a grade; an
audit's grade is the moderated grade when it was moderated, else the overall grade (the facts carry it
so). The contact KPI takes those of them with a contact-element grade. Per team: the audit's own team.
Each answer also gives the distribution of the grades it counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from steadfast_metrics.facts.records import Audit
from steadfast_metrics.kpis.catalogue import KpiValue
from steadfast_metrics.kpis.measures import Window, percentage
from steadfast_shared.codes import AuditType, Grade

GOOD_OR_BETTER = frozenset({Grade.outstanding, Grade.good})


def full_audits(audits: Iterable[Audit], window: Window, team: str | None) -> list[Audit]:
    """The graded full audits completed in the window (of ``team``)."""
    return [
        a
        for a in audits
        if a.audit_type is AuditType.full
        and a.completed_date in window
        and a.grade is not None
        and (team is None or a.team == team)
    ]


def _graded(kpi_id: str, grades: list[Grade], counted: frozenset[Grade]) -> KpiValue:
    tally = Counter(grades)
    return percentage(
        kpi_id,
        sum(1 for g in grades if g in counted),
        len(grades),
        breakdown={"grades": {grade.value: tally[grade] for grade in Grade}},
    )


def audits_good_or_better_pct(population: list[Audit]) -> KpiValue:
    grades = [a.grade for a in population if a.grade is not None]
    return _graded("audits_good_or_better_pct", grades, GOOD_OR_BETTER)


def audits_inadequate_pct(population: list[Audit]) -> KpiValue:
    grades = [a.grade for a in population if a.grade is not None]
    return _graded("audits_inadequate_pct", grades, frozenset({Grade.inadequate}))


def audits_contact_good_or_better_pct(population: list[Audit]) -> KpiValue:
    grades = [a.contact_grade for a in population if a.contact_grade is not None]
    return _graded("audits_contact_good_or_better_pct", grades, GOOD_OR_BETTER)
