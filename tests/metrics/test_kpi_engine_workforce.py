"""The workforce KPIs' edge cases, each worked by hand: handovers, leavers, the end of an ASYE, the
financial year, protected development time and the DfE census rates, and the per-team rules."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from steadfast_metrics.facts.records import Facts, Holding, Placement, Post, Terms, Worker
from steadfast_metrics.kpis.engine import compute_kpis
from steadfast_metrics.kpis.workforce import caseloads_on, protected_caseload, worker_limit
from steadfast_metrics.strategy.document import StrategyDocument
from steadfast_shared.codes import EmploymentType, Role
from tests.metrics.kpi_builders import AS_OF, LONG_AGO, STRATEGY, allocate, children_of, d, new_id, worker


def test_on_a_handover_day_the_child_counts_only_for_the_worker_taking_over() -> None:
    # Child X: with A until 2015-03-02 (A's last day 2015-03-01), with B from 2015-03-02.
    a, b = worker(name="A"), worker(name="B")
    x = new_id()
    allocations = [allocate(x, a, d("2015-01-05"), AS_OF), allocate(x, b, AS_OF)]
    assert caseloads_on(allocations, AS_OF) == {b.id: 1}
    assert caseloads_on(allocations, d("2015-03-01")) == {a.id: 1}
    # Two full capacities, one child: 1 / 2 = 0.5 on either day, never 2 / 2.
    facts = Facts(workers=[a, b], allocations=allocations)
    for day in (d("2015-03-01"), AS_OF):
        kpi = compute_kpis(facts, STRATEGY, day, ids=["average_caseload"])["average_caseload"]
        assert (kpi.value, kpi.numerator, kpi.denominator) == (0.5, 1, 2.0)


def test_a_child_allocated_twice_to_the_same_worker_counts_once() -> None:
    a = worker()
    x = new_id()
    assert caseloads_on([allocate(x, a), allocate(x, a, d("2015-01-01"))], AS_OF) == {a.id: 1}


def test_a_worker_leaving_on_as_of_is_not_in_post_and_counts_in_turnover() -> None:
    # L (permanent, 1.0) has end_date 2015-03-02: last day in post 2015-03-01. P (permanent, 1.0) stays.
    leaver, stayer = worker(end=AS_OF, name="L"), worker(name="P")
    facts = Facts(workers=[leaver, stayer])
    on_the_day = compute_kpis(facts, STRATEGY, AS_OF)
    assert on_the_day["permanent_rate"].denominator == 1.0  # only P
    # Turnover: L's 1.0 FTE over P's 1.0 employed FTE = 100 %.
    assert (on_the_day["turnover_rate"].numerator, on_the_day["turnover_rate"].denominator) == (1.0, 1.0)
    assert on_the_day["turnover_rate"].value == 100.0
    day_before = compute_kpis(facts, STRATEGY, d("2015-03-01"))
    assert day_before["permanent_rate"].denominator == 2.0
    assert (day_before["turnover_rate"].value, day_before["turnover_rate"].numerator) == (0.0, 0)


def test_turnover_counts_leavers_of_the_twelve_months_up_to_and_including_as_of() -> None:
    # L left on 2015-03-02. The window of as_of 2016-03-01 is [2015-03-02, 2016-03-01]: L is in it;
    # that of 2016-03-02 is [2015-03-03, 2016-03-02]: L is not.
    facts = Facts(workers=[worker(end=AS_OF), worker(fte=0.5)])
    last_day = compute_kpis(facts, STRATEGY, d("2016-03-01"), ids=["turnover_rate"])["turnover_rate"]
    assert (last_day.numerator, last_day.denominator, last_day.value) == (1.0, 0.5, 200.0)
    after = compute_kpis(facts, STRATEGY, d("2016-03-02"), ids=["turnover_rate"])["turnover_rate"]
    assert (after.numerator, after.value) == (0, 0.0)


def test_turnover_counts_only_qualified_non_agency_leavers_at_their_fte_and_team_on_their_last_day() -> None:
    # M: 1.0 FTE in T1 until 2015-01-01, then 0.6 FTE in T2 until leaving on 2015-02-01 -> 0.6 in T2.
    moved = Worker(
        id=new_id(),
        start_date=LONG_AGO,
        end_date=d("2015-02-01"),
        terms=[
            Terms(LONG_AGO, d("2015-01-01"), Role.social_worker, "T1", 1.0, EmploymentType.permanent),
            Terms(d("2015-01-01"), None, Role.social_worker, "T2", 0.6, EmploymentType.permanent),
        ],
    )
    agency = worker(employment_type=EmploymentType.agency, end=d("2015-02-01"), team="T2")
    student = worker(Role.student, end=d("2015-02-01"), team="T2")
    stayers = [worker(team="T1"), worker(team="T2", fte=0.5)]
    facts = Facts(workers=[moved, agency, student, *stayers])
    council = compute_kpis(facts, STRATEGY, AS_OF, ids=["turnover_rate"])["turnover_rate"]
    assert (council.numerator, council.denominator) == (0.6, 1.5)
    assert council.value == pytest.approx(40.0)
    t2 = compute_kpis(facts, STRATEGY, AS_OF, team="T2", ids=["turnover_rate"])["turnover_rate"]
    assert (t2.numerator, t2.denominator) == (0.6, 0.5)
    assert t2.value == pytest.approx(120.0)
    t1 = compute_kpis(facts, STRATEGY, AS_OF, team="T1", ids=["turnover_rate"])["turnover_rate"]
    assert (t1.numerator, t1.value) == (0, 0.0)


def test_on_the_day_the_asye_ends_the_worker_is_no_longer_an_nqsw_and_has_a_full_capacity() -> None:
    # N: social worker, 1.0 FTE, ASYE from 2014-03-03, so asye_end defaults to 2015-03-03; 15 children.
    n = worker(asye_start=d("2014-03-03"), protected_development_pct=10.0)
    facts = Facts(workers=[n], allocations=children_of(n, 15))
    during = compute_kpis(facts, STRATEGY, d("2015-03-02"))
    # Capacity 1.0 x 0.9 = 0.9: 15 / 0.9 = 16.67; limit floor(0.9 x 16) = 14, so over by 1.
    assert during["average_caseload"].value == pytest.approx(15 / 0.9)
    assert during["workers_over_caseload_limit"].breakdown["over_by_1_2"] == 1
    assert during["nqsw_student_average_caseload"].value == 15.0
    assert during["nqsw_protected_development_pct"].value == 10.0
    after = compute_kpis(facts, STRATEGY, d("2015-03-03"))
    # Capacity back to 1.0: 15 / 1.0 = 15; limit 16, not over; no NQSW or student left.
    assert after["average_caseload"].value == 15.0
    assert after["workers_over_caseload_limit"].numerator == 0
    assert after["nqsw_student_average_caseload"].value is None
    assert after["nqsw_protected_development_pct"].value is None


def test_a_recorded_asye_end_overrides_the_twelve_months() -> None:
    n = worker(asye_start=d("2014-09-01"), asye_end=d("2015-02-01"))
    facts = Facts(workers=[n], allocations=children_of(n, 9))
    assert compute_kpis(facts, STRATEGY, d("2015-01-31"))["average_caseload"].value == pytest.approx(10.0)
    assert compute_kpis(facts, STRATEGY, d("2015-02-01"))["average_caseload"].value == 9.0


def test_a_student_with_an_asye_date_is_not_an_nqsw() -> None:
    student = worker(Role.student, asye_start=d("2015-01-01"))
    kpi = compute_kpis(Facts(workers=[student]), STRATEGY, AS_OF)["nqsw_student_average_caseload"]
    assert kpi.breakdown == {"nqsws": 0, "students": 1}


def test_the_limit_rounds_down_but_not_below_a_whole_number_float_error_would_hide() -> None:
    assert worker_limit(Decimal("0.45"), Decimal(16)) == 7  # the worked example's D: 7.2
    assert 0.7 * 0.8 * 25 < 14  # floating point; the shared rules multiply exact decimals
    assert worker_limit(Decimal("0.7") * Decimal("0.8"), Decimal(25)) == 14


def test_the_protected_caseload_comes_from_the_strategy_or_the_nqsw_target() -> None:
    assert protected_caseload(STRATEGY, AS_OF) == 14
    assert protected_caseload(STRATEGY.model_copy(update={"nqsw_protected_caseload": 10.5}), AS_OF) == 10
    assert protected_caseload(StrategyDocument(name="none"), AS_OF) is None


def test_protected_development_is_the_mean_of_the_nqsws_who_have_a_value() -> None:
    # NQSWs with 10 and 20 % and one with no value: (10 + 20) / 2 = 15; the qualified non-NQSW with 50
    # does not count.
    nqsws = [worker(asye_start=d("2014-09-01"), protected_development_pct=p) for p in (10.0, 20.0, None)]
    others = [worker(protected_development_pct=50.0)]
    kpi = compute_kpis(Facts(workers=[*nqsws, *others]), STRATEGY, AS_OF)["nqsw_protected_development_pct"]
    assert (kpi.value, kpi.numerator, kpi.denominator) == (15.0, 30.0, 2)
    assert kpi.breakdown == {"nqsws": 3, "nqsws_without_value": 1}


def test_students_per_year_counts_placements_starting_in_the_financial_year_of_as_of() -> None:
    # FY 2014-15 is [2014-04-01, 2015-03-31]: the first and last days count, the days either side don't.
    placements = [
        Placement(new_id(), "T1", d("2014-03-31")),
        Placement(new_id(), "T1", d("2014-04-01")),
        Placement(new_id(), "T2", d("2015-03-31")),
        Placement(new_id(), "T1", d("2015-04-01")),
    ]
    facts = Facts(placements=placements)
    kpi = compute_kpis(facts, STRATEGY, AS_OF, ids=["students_per_year"])["students_per_year"]
    assert (kpi.value, kpi.numerator, kpi.denominator) == (2.0, 2, None)
    assert kpi.breakdown == {"financial_year": "2014-15"}
    t1 = compute_kpis(facts, STRATEGY, AS_OF, team="T1", ids=["students_per_year"])["students_per_year"]
    assert t1.value == 1.0
    next_year = compute_kpis(facts, STRATEGY, d("2015-04-01"), ids=["students_per_year"])["students_per_year"]
    assert (next_year.value, next_year.breakdown) == (1.0, {"financial_year": "2015-16"})
    turn_of_century = compute_kpis(Facts(), STRATEGY, d("2099-06-01"))["students_per_year"]
    assert turn_of_century.breakdown == {"financial_year": "2099-00"}


def test_a_post_held_by_an_agency_worker_is_vacant() -> None:
    perm, agency = worker(name="perm"), worker(employment_type=EmploymentType.agency, name="agency")
    leaver = worker(end=d("2015-02-01"), name="left")
    posts = [
        Post(new_id(), "T1", Role.social_worker, 1.0, LONG_AGO, None, [Holding(perm.id, LONG_AGO, None)]),
        Post(new_id(), "T1", Role.social_worker, 1.0, LONG_AGO, None, [Holding(agency.id, LONG_AGO, None)]),
        Post(new_id(), "T2", Role.social_worker, 0.5, LONG_AGO, None),
        # held on paper by a worker who has left: vacant
        Post(new_id(), "T2", Role.social_worker, 1.0, LONG_AGO, None, [Holding(leaver.id, LONG_AGO, None)]),
        # no longer established (ended the day before), or not yet (starts tomorrow): not counted
        Post(new_id(), "T1", Role.social_worker, 1.0, LONG_AGO, AS_OF),
        Post(new_id(), "T1", Role.social_worker, 1.0, d("2015-03-03"), None),
    ]
    facts = Facts(workers=[perm, agency, leaver], posts=posts)
    answer = compute_kpis(facts, STRATEGY, AS_OF)
    # Vacant: 1.0 (agency) + 0.5 (never held) + 1.0 (leaver) = 2.5; employed 1.0: 2.5 / 3.5.
    vacancy = answer["vacancy_rate"]
    assert (vacancy.numerator, vacancy.denominator) == (2.5, 3.5)
    assert vacancy.value == pytest.approx(71.428_571_4)
    # Agency: 1.0 / (1.0 + 1.0).
    assert answer["agency_rate"].value == 50.0
    # Per team the post's team: T1 vacant 1.0 (agency's) over 1.0 + employed 1.0; T2 vacant 1.5, employed 0.
    t1 = compute_kpis(facts, STRATEGY, AS_OF, team="T1", ids=["vacancy_rate"])["vacancy_rate"]
    assert (t1.numerator, t1.denominator, t1.value) == (1.0, 2.0, 50.0)
    t2 = compute_kpis(facts, STRATEGY, AS_OF, team="T2", ids=["vacancy_rate"])["vacancy_rate"]
    assert (t2.numerator, t2.denominator, t2.value) == (1.5, 1.5, 100.0)


def test_a_post_whose_holding_ended_is_vacant_from_that_day() -> None:
    holder = worker()
    post = Post(
        new_id(), "T1", Role.social_worker, 1.0, LONG_AGO, None, [Holding(holder.id, LONG_AGO, AS_OF)]
    )
    facts = Facts(workers=[holder], posts=[post])
    assert compute_kpis(facts, STRATEGY, d("2015-03-01"))["vacancy_rate"].value == 0.0
    assert compute_kpis(facts, STRATEGY, AS_OF)["vacancy_rate"].value == 50.0  # 1.0 / (1.0 + 1.0)


def test_workers_count_in_the_team_of_their_terms_on_as_of() -> None:
    # M moved from T1 to T2 on 2015-02-01 with their 10 children; S stays in T1 with 20.
    moved = Worker(
        id=new_id(),
        start_date=LONG_AGO,
        end_date=None,
        terms=[
            Terms(LONG_AGO, d("2015-02-01"), Role.social_worker, "T1", 1.0, EmploymentType.permanent),
            Terms(d("2015-02-01"), None, Role.social_worker, "T2", 1.0, EmploymentType.agency),
        ],
    )
    stays = worker(team="T1")
    facts = Facts(workers=[moved, stays], allocations=[*children_of(moved, 10), *children_of(stays, 20)])
    t1 = compute_kpis(facts, STRATEGY, AS_OF, team="T1")
    assert (t1["average_caseload"].numerator, t1["average_caseload"].denominator) == (20, 1.0)
    assert t1["permanent_rate"].value == 100.0
    t2 = compute_kpis(facts, STRATEGY, AS_OF, team="T2")
    assert (t2["average_caseload"].numerator, t2["permanent_rate"].value) == (10, 0.0)
    january = compute_kpis(facts, STRATEGY, date(2015, 1, 15), team="T1")
    assert (january["average_caseload"].numerator, january["permanent_rate"].value) == (30, 100.0)
