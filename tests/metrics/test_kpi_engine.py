"""The KPI engine's contract and SPEC section 3's worked example (as of Monday 2 March 2015)."""

from __future__ import annotations

from datetime import date

import pytest

from steadfast_metrics.facts.records import (
    Assessment,
    Audit,
    Facts,
    IroVisit,
    Placement,
    Post,
    Review,
    SurveyReturn,
    Visit,
)
from steadfast_metrics.kpis.catalogue import KPI_IDS
from steadfast_metrics.kpis.engine import compute_kpis
from steadfast_metrics.strategy.document import StrategyDocument
from steadfast_shared.codes import AuditType, EpisodeType, Grade, VisitType
from tests.metrics.kpi_builders import AS_OF, STRATEGY, d, episode, new_id, worked_example


def test_the_worked_example_permanent_rate() -> None:
    # Qualified: A, B, C, D, E (F is a student). Non-agency: A 1 + C 1 + D 0.5 + E 1 = 3.5 of 4.5.
    kpi = compute_kpis(worked_example().facts, STRATEGY, AS_OF)["permanent_rate"]
    assert (kpi.numerator, kpi.denominator) == (3.5, 4.5)
    assert kpi.value == pytest.approx(77.777_777_8)
    assert round(kpi.value or 0, 1) == 77.8


def test_the_worked_example_average_caseload() -> None:
    # Case-holding: A, B, C, D. Capacities 1.0 + 1.0 + 0.5 + 0.5 x 0.9 = 2.95; 18 + 15 + 6 + 7 = 46.
    kpi = compute_kpis(worked_example().facts, STRATEGY, AS_OF)["average_caseload"]
    assert kpi.numerator == 46
    assert kpi.denominator == pytest.approx(2.95)
    assert kpi.value == pytest.approx(46 / 2.95)
    assert round(kpi.value or 0, 2) == 15.59
    assert kpi.breakdown == {"case_holding_workers": 4}


def test_the_worked_example_workers_over_their_limit() -> None:
    # Limits at 16 per full caseload: A 16, B 16, C 8, D floor(7.2) = 7. Only A (18) is over, by 2.
    kpi = compute_kpis(worked_example().facts, STRATEGY, AS_OF)["workers_over_caseload_limit"]
    assert (kpi.value, kpi.numerator, kpi.denominator) == (25.0, 1, 4)
    assert kpi.breakdown == {"over": 1, "over_by_1_2": 1, "over_by_3_or_more": 0, "case_holding_workers": 4}


def test_the_worked_example_nqsw_and_student_average_caseload() -> None:
    # D (NQSW) holds 7 and F (student) 3: (7 + 3) / 2 = 5.0.
    kpi = compute_kpis(worked_example().facts, STRATEGY, AS_OF)["nqsw_student_average_caseload"]
    assert (kpi.value, kpi.numerator, kpi.denominator) == (5.0, 10, 2)
    assert kpi.breakdown == {"nqsws": 1, "students": 1}


def test_every_kpi_is_answered_in_catalogue_order() -> None:
    answer = compute_kpis(worked_example().facts, STRATEGY, AS_OF)
    assert list(answer) == list(KPI_IDS)
    assert all(answer[kpi_id].id == kpi_id for kpi_id in KPI_IDS)


def test_only_the_kpis_asked_for_are_answered_still_in_catalogue_order() -> None:
    answer = compute_kpis(worked_example().facts, STRATEGY, AS_OF, ids=["turnover_rate", "permanent_rate"])
    assert list(answer) == ["permanent_rate", "turnover_rate"]


def test_an_unknown_kpi_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown KPIs: caseload_happiness"):
        compute_kpis(Facts(), STRATEGY, AS_OF, ids=["permanent_rate", "caseload_happiness"])


def test_with_no_records_no_kpi_has_a_value_not_even_the_count_of_placements() -> None:
    answer = compute_kpis(Facts(), STRATEGY, AS_OF)
    assert {k: v.value for k, v in answer.items() if v.value is not None} == {}


def test_an_empty_team_has_no_value_for_any_kpi() -> None:
    # Every kind of record exists for team T1 (or no team); team EMPTY has none of them.
    example = worked_example()
    child = example.facts.allocations[0].child_id
    facts = Facts(
        workers=example.facts.workers,
        allocations=example.facts.allocations,
        posts=[Post(new_id(), "T1", example.a.terms[0].role, 1.0, d("2014-01-01"), None)],
        placements=[Placement(new_id(), "T1", d("2014-09-01"))],
        episodes=[episode(child, EpisodeType.cp, d("2015-02-02"))],
        assessments=[Assessment(child, d("2015-01-05"), d("2015-02-02"))],
        visits=[Visit(child, d("2015-02-20"), VisitType.cp)],
        reviews=[Review(child, d("2014-12-01")), Review(child, d("2015-02-20"))],
        iro_visits=[IroVisit(child, d("2015-01-10"))],
        audits=[Audit(new_id(), AuditType.full, "T1", d("2015-02-02"), Grade.good, Grade.good)],
        surveys=[
            SurveyReturn(kind, d("2015-02-02"), None, {"place": 4, "workload_too_high": 2})
            for kind in ("recruit_reasons", "leaver_reasons")
        ]
        + [SurveyReturn("staff_health_check", d("2015-02-02"), "T1", {"private_space": 3})],
    )
    council = compute_kpis(facts, STRATEGY, AS_OF)
    empty = compute_kpis(facts, STRATEGY, AS_OF, team="EMPTY")
    # Every KPI but the child and family experience (no return) has a value for the council (turnover
    # 0 of 3.5 FTE), so the team's missing values are the team filter's doing.
    assert {k for k, v in council.items() if v.value is None} == {"child_family_experience"}
    assert council["turnover_rate"].value == 0.0
    assert {k: v.value for k, v in empty.items() if v.value is not None} == {}
    assert empty["students_per_year"].breakdown == {"financial_year": "2014-15"}


def test_with_no_caseload_limit_and_no_average_caseload_target_no_worker_is_over() -> None:
    strategy = StrategyDocument(name="no targets")
    kpi = compute_kpis(worked_example().facts, strategy, AS_OF)["workers_over_caseload_limit"]
    assert kpi.value is None


def test_the_strategys_caseload_limit_overrides_the_average_caseload_target() -> None:
    # At 14 per full caseload: A 18 > 14 (by 4), B 15 > 14 (by 1), C 6 vs 7, D 7 vs floor(6.3) = 6 (by 1).
    strategy = STRATEGY.model_copy(update={"caseload_limit": 14.0})
    kpi = compute_kpis(worked_example().facts, strategy, AS_OF)["workers_over_caseload_limit"]
    assert (kpi.value, kpi.numerator, kpi.denominator) == (75.0, 3, 4)
    assert kpi.breakdown == {"over": 3, "over_by_1_2": 2, "over_by_3_or_more": 1, "case_holding_workers": 4}


def test_after_the_average_caseload_milestone_the_last_milestone_still_sets_the_limit() -> None:
    # The only milestone (16 by 2015-03-31) applies after its date too: A is still the one over.
    kpi = compute_kpis(worked_example().facts, STRATEGY, date(2015, 6, 1))["workers_over_caseload_limit"]
    assert (kpi.numerator, kpi.denominator) == (1, 4)
