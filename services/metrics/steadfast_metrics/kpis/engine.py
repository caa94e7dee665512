"""The KPI engine: every KPI of SPEC section 3 as a pure function of the facts, the strategy, ``as_of``
and (optionally) a team. No database, no clock: the same facts give the same answer, whatever their
order.

:func:`compute_kpis` returns one :class:`~steadfast_metrics.kpis.catalogue.KpiValue` per KPI, in
catalogue order. Values are exact floats (the API rounds); percentages are 0-100. A KPI with nothing
eligible has value None, never 0 and never an error. Status and target are judged elsewhere, against the
strategy, at read time.

The rules, where SPEC section 3 leaves a choice (the modules say the rest):

Workers (:mod:`~steadfast_metrics.kpis.workforce`)
    - A worker's terms on a day are ``Worker.terms_on(day)``; None means not in post. A worker whose
      ``end_date`` is ``as_of`` is not in post on ``as_of`` (and counts in turnover).
    - NQSW: qualified and ``asye_start <= as_of < asye_end``; ``asye_end`` defaults to ``asye_start`` +
      12 months. On the ``asye_end`` day the worker is no longer an NQSW and their capacity is no longer
      reduced.
    - Caseload: distinct children with an allocation active on ``as_of`` (half-open: on a handover day the
      child counts only for the worker taking over).
    - Limit: ``floor(capacity x L)``, L the strategy's ``caseload_limit`` or else the ``average_caseload``
      milestone that applies on ``as_of``; with neither, ``workers_over_caseload_limit`` has no value.
    - ``nqsw_student_average_caseload``: per head, over NQSWs and students in post.
    - ``nqsw_protected_development_pct``: the mean over the NQSWs who have a value recorded; NQSWs without
      one are left out (and counted in the breakdown as ``nqsws_without_value``).
    - ``students_per_year``: placements whose start date falls in the financial year (1 April - 31 March)
      containing ``as_of``, including those booked to start later that year. A year with no placement has
      no eligible record, so its value is null (``no_data``), as SPEC section 3 rules for every KPI.
    - Vacancy FTE: the FTE of established posts active on ``as_of`` held by no non-agency worker in post
      (a post held by an agency worker is vacant; a held post is not vacant whatever the holder's FTE).
    - Turnover: the FTE on their last day (``end_date`` - 1) of the qualified non-agency workers whose
      ``end_date`` falls in ``[as_of - 1 year + 1 day, as_of]``, over the employed FTE on ``as_of``
      (so it may exceed 100). No employed FTE: no value.

Casework (:mod:`~steadfast_metrics.kpis.casework`)
    - Assessments count when completed in the window; in time at ``<= 45`` working days.
    - Statutory visits: a child with two active episodes of one type is timed from the earlier start; the
      reference visit may be of any visit type.
    - Workers per child: the continuous run reaches back through episodes that overlap or touch (no gap
      day); a child with no worker counts in bucket ``"0"`` and as having at most 3.
    - IRO visits: the previous review is the child's latest earlier review, even one before the window;
      a visit on either review day does not count.

Audits (:mod:`~steadfast_metrics.kpis.audits`): full audits completed in the window with a grade; the
grade is the moderated one when moderated.

Surveys (:mod:`~steadfast_metrics.kpis.surveys`): the mean of the factor means of the returns in the
window, with the previous window's figures and the change in the breakdown.

Per team (``team=CODE``)
    - Worker KPIs: the workers whose terms on ``as_of`` are in the team; turnover: the team on the
      leaver's last day; vacancy: the post's team.
    - Child KPIs (statutory visits, workers per child): children allocated on ``as_of`` to a worker of the
      team on that day (a child may count in two teams); an assessment: allocated on its completion date;
      a review: allocated on its review date.
    - Audits, surveys, placements: their own team (a record with no team never matches a team).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from functools import cached_property

from steadfast_metrics.facts.records import Audit, Facts
from steadfast_metrics.kpis import audits, casework, surveys, workforce
from steadfast_metrics.kpis.catalogue import KPI_IDS, KpiValue
from steadfast_metrics.kpis.measures import Window
from steadfast_metrics.strategy.document import StrategyDocument


class _Answer:
    """What the KPIs of one answer share, each piece worked out once and only when a KPI asks."""

    def __init__(self, facts: Facts, strategy: StrategyDocument, as_of: date, team: str | None) -> None:
        self.facts, self.strategy, self.as_of, self.team = facts, strategy, as_of, team
        self.window = Window.trailing(as_of, strategy.window_days)

    @cached_property
    def staff(self) -> list[workforce.OnDuty]:
        return workforce.staff_on(self.facts, self.strategy, self.as_of, self.team)

    @cached_property
    def full_audits(self) -> list[Audit]:
        return audits.full_audits(self.facts.audits, self.window, self.team)

    def survey(self, kind: str) -> KpiValue:
        return surveys.survey_kpi(kind, self.facts.surveys, self.window, self.team)


_MEASURES: dict[str, Callable[[_Answer], KpiValue]] = {
    "permanent_rate": lambda a: workforce.permanent_rate(a.staff),
    "average_caseload": lambda a: workforce.average_caseload(a.staff),
    "workers_over_caseload_limit": lambda a: workforce.workers_over_caseload_limit(
        a.staff, workforce.limit_per_full_caseload(a.strategy, a.as_of)
    ),
    "nqsw_student_average_caseload": lambda a: workforce.nqsw_student_average_caseload(a.staff),
    "nqsw_protected_development_pct": lambda a: workforce.nqsw_protected_development_pct(a.staff),
    "students_per_year": lambda a: workforce.students_per_year(a.facts.placements, a.as_of, a.team),
    "audits_good_or_better_pct": lambda a: audits.audits_good_or_better_pct(a.full_audits),
    "audits_inadequate_pct": lambda a: audits.audits_inadequate_pct(a.full_audits),
    "audits_contact_good_or_better_pct": lambda a: audits.audits_contact_good_or_better_pct(a.full_audits),
    "assessments_within_45_days_pct": lambda a: casework.assessments_within_45_days_pct(
        a.facts, a.window, a.team
    ),
    "statutory_visits_in_time_pct": lambda a: casework.statutory_visits_in_time_pct(
        a.facts, a.as_of, a.team, a.strategy.visit_intervals
    ),
    "children_with_at_most_3_workers_pct": lambda a: casework.children_with_at_most_3_workers_pct(
        a.facts, a.as_of, a.team
    ),
    "iro_midway_visit_pct": lambda a: casework.iro_midway_visit_pct(a.facts, a.window, a.team),
    "agency_rate": lambda a: workforce.agency_rate(a.staff),
    "vacancy_rate": lambda a: workforce.vacancy_rate(
        a.staff, a.facts.posts, a.facts.workers, a.as_of, a.team
    ),
    "turnover_rate": lambda a: workforce.turnover_rate(a.staff, a.facts.workers, a.as_of, a.team),
    "recruit_reasons": lambda a: a.survey("recruit_reasons"),
    "leaver_reasons": lambda a: a.survey("leaver_reasons"),
    "staff_health_check": lambda a: a.survey("staff_health_check"),
    "child_family_experience": lambda a: a.survey("child_family_experience"),
}


def compute_kpis(
    facts: Facts,
    strategy: StrategyDocument,
    as_of: date,
    team: str | None = None,
    ids: Iterable[str] | None = None,
) -> dict[str, KpiValue]:
    """Every KPI (or those of ``ids``) on ``as_of`` for the council (``team`` None) or one team.

    Raises ``ValueError`` for an id the catalogue does not know.
    """
    wanted = set(KPI_IDS if ids is None else ids)
    unknown = sorted(wanted - set(KPI_IDS))
    if unknown:
        raise ValueError(f"unknown KPIs: {', '.join(unknown)}")
    answer = _Answer(facts, strategy, as_of, team)
    return {kpi_id: _MEASURES[kpi_id](answer) for kpi_id in KPI_IDS if kpi_id in wanted}
