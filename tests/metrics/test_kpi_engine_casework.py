"""The casework KPIs' edge cases, each worked by hand: the 45 working days across Easter, statutory
visits on and after their due day, workers per child across a continuous run of episodes, IRO visits
strictly between reviews, the window's ends and the per-team rules."""

from __future__ import annotations

from datetime import date

from steadfast_metrics.facts.records import Assessment, Facts, IroVisit, Review, Visit
from steadfast_metrics.kpis.casework import run_start, workers_in_run
from steadfast_metrics.kpis.catalogue import KpiValue
from steadfast_metrics.kpis.engine import compute_kpis
from steadfast_metrics.strategy.document import VisitIntervals
from steadfast_shared.codes import EpisodeType, VisitType
from tests.metrics.kpi_builders import AS_OF, STRATEGY, allocate, d, episode, in_turn, new_id, worker

CP, CLA, CIN, ASSESSMENT = EpisodeType.cp, EpisodeType.cla, EpisodeType.cin, EpisodeType.assessment


def kpi(facts: Facts, kpi_id: str, as_of: date = AS_OF, team: str | None = None) -> KpiValue:
    return compute_kpis(facts, STRATEGY, as_of, team=team, ids=[kpi_id])[kpi_id]


# Assessments


def test_an_assessment_across_easter_is_in_time_on_its_45th_working_day_and_late_the_day_after() -> None:
    # Start Friday 2015-03-20. Nine weeks of working days would end Friday 22 May, but Good Friday 3 April,
    # Easter Monday 6 April and May Day 4 May are bank holidays (+3), and so is Monday 25 May: the 45th
    # working day is Thursday 2015-05-28 (69 calendar days). Completed 2015-05-29 is the 46th.
    child = new_id()
    in_time = Facts(assessments=[Assessment(child, d("2015-03-20"), d("2015-05-28"))])
    late = Facts(assessments=[Assessment(child, d("2015-03-20"), d("2015-05-29"))])
    assert kpi(in_time, "assessments_within_45_days_pct", d("2015-06-01")).value == 100.0
    assert kpi(late, "assessments_within_45_days_pct", d("2015-06-01")).value == 0.0


def test_assessments_count_when_completed_in_the_window_both_ends_included() -> None:
    # Window of 2015-03-02 (182 days): [2014-09-02, 2015-03-02]. Two in time inside, one late inside,
    # one completed the day before the window, one after as_of, one still open.
    child = new_id()
    facts = Facts(
        assessments=[
            Assessment(child, d("2014-08-20"), d("2014-09-02")),
            Assessment(child, d("2015-02-20"), AS_OF),
            Assessment(child, d("2014-10-01"), d("2015-01-30")),
            Assessment(child, d("2014-08-01"), d("2014-09-01")),
            Assessment(child, d("2015-02-20"), d("2015-03-03")),
            Assessment(child, d("2015-02-20"), None),
        ]
    )
    value = kpi(facts, "assessments_within_45_days_pct")
    assert (value.numerator, value.denominator) == (2, 3)
    assert value.value is not None
    assert round(value.value, 4) == 66.6667


def test_an_assessment_counts_for_the_team_of_the_childs_worker_on_the_completion_day() -> None:
    # X was with A (T1) until 2015-02-10, then with B (T2); assessment completed 2015-02-05.
    a, b = worker(team="T1"), worker(team="T2")
    x = new_id()
    facts = Facts(
        workers=[a, b],
        allocations=[allocate(x, a, d("2015-01-05"), d("2015-02-10")), allocate(x, b, d("2015-02-10"))],
        assessments=[Assessment(x, d("2015-01-05"), d("2015-02-05"))],
    )
    assert kpi(facts, "assessments_within_45_days_pct", team="T1").denominator == 1
    assert kpi(facts, "assessments_within_45_days_pct", team="T2").value is None


# Statutory visits


def test_a_cp_child_is_in_time_ten_working_days_after_the_last_visit_and_not_eleven() -> None:
    # CP from Monday 2015-01-05; visits 2015-01-20 and Monday 2015-02-02 (the latest is the reference);
    # 10 working days later is Monday 2015-02-16.
    child = new_id()
    facts = Facts(
        episodes=[episode(child, CP, d("2015-01-05"))],
        visits=[Visit(child, d("2015-01-20"), VisitType.cp), Visit(child, d("2015-02-02"), VisitType.cp)],
    )
    assert kpi(facts, "statutory_visits_in_time_pct", d("2015-02-16")).value == 100.0
    assert kpi(facts, "statutory_visits_in_time_pct", d("2015-02-17")).value == 0.0


def test_a_cla_child_is_in_time_42_days_after_the_last_visit_and_not_43() -> None:
    # CLA from 2015-01-05, visited (a visit of any type counts) 2015-01-19: due 2015-03-02.
    child = new_id()
    facts = Facts(
        episodes=[episode(child, CLA, d("2015-01-05"))],
        visits=[Visit(child, d("2015-01-19"), VisitType.other)],
    )
    assert kpi(facts, "statutory_visits_in_time_pct", d("2015-03-02")).value == 100.0
    assert kpi(facts, "statutory_visits_in_time_pct", d("2015-03-03")).value == 0.0


def test_without_a_visit_the_episode_start_is_the_reference_and_visits_outside_it_do_not_count() -> None:
    # CLA from 2015-01-05 (due 2015-02-16); a visit the day before it started and one after as_of.
    child = new_id()
    facts = Facts(
        episodes=[episode(child, CLA, d("2015-01-05"))],
        visits=[Visit(child, d("2015-01-04"), VisitType.cla), Visit(child, d("2015-02-20"), VisitType.cla)],
    )
    assert kpi(facts, "statutory_visits_in_time_pct", d("2015-02-16")).value == 100.0
    assert kpi(facts, "statutory_visits_in_time_pct", d("2015-02-17")).value == 0.0
    # On 2015-02-20 the later visit is on or before as_of and counts.
    assert kpi(facts, "statutory_visits_in_time_pct", d("2015-02-20")).value == 100.0


def test_a_child_on_both_plans_counts_once_and_is_in_time_only_if_in_time_for_both() -> None:
    # Y: CP from 2015-02-16 (due 2015-03-02, in time), CLA from 2015-01-05 with no visit before
    # 2015-02-16: the 2015-02-16 visit is the reference for both, so both are in time on 2015-03-02.
    # Z: CP from 2015-02-23 (due 2015-03-09, in time), CLA from 2015-01-05 never visited (due 2015-02-16).
    # W: CIN only, not counted.
    y, z, w = new_id(), new_id(), new_id()
    facts = Facts(
        episodes=[
            episode(y, CP, d("2015-02-16")),
            episode(y, CLA, d("2015-01-05")),
            episode(z, CP, d("2015-02-23")),
            episode(z, CLA, d("2015-01-05")),
            episode(w, CIN, d("2015-01-05")),
        ],
        visits=[Visit(y, d("2015-02-16"), VisitType.cp)],
    )
    value = kpi(facts, "statutory_visits_in_time_pct")
    assert (value.numerator, value.denominator, value.value) == (1, 2, 50.0)


def test_two_active_cp_episodes_are_timed_from_the_earlier_start() -> None:
    # CP episodes from 2015-01-05 and 2015-02-23, no visit: due 2015-01-19, so overdue on 2015-03-02
    # (from 2015-02-23 it would have been in time).
    child = new_id()
    facts = Facts(episodes=[episode(child, CP, d("2015-01-05")), episode(child, CP, d("2015-02-23"))])
    assert kpi(facts, "statutory_visits_in_time_pct").value == 0.0


def test_a_plan_that_ended_is_not_counted() -> None:
    child = new_id()
    facts = Facts(episodes=[episode(child, CP, d("2014-01-06"), AS_OF)])
    assert kpi(facts, "statutory_visits_in_time_pct").value is None
    assert kpi(facts, "statutory_visits_in_time_pct", d("2015-03-01")).value == 0.0


def test_the_visit_intervals_are_the_strategys() -> None:
    # CLA from 2015-01-05 with a 28-day interval: due 2015-02-02.
    child = new_id()
    facts = Facts(episodes=[episode(child, CLA, d("2015-01-05"))])
    weekly = STRATEGY.model_copy(update={"visit_intervals": VisitIntervals(cp_working_days=5, cla_days=28)})
    kpis = compute_kpis(facts, weekly, d("2015-02-02"), ids=["statutory_visits_in_time_pct"])
    assert kpis["statutory_visits_in_time_pct"].value == 100.0
    kpis = compute_kpis(facts, weekly, d("2015-02-03"), ids=["statutory_visits_in_time_pct"])
    assert kpis["statutory_visits_in_time_pct"].value == 0.0


def test_a_child_counts_in_each_team_of_a_worker_allocated_on_as_of() -> None:
    # X (CP, overdue) is allocated to A (T1) and B (T2); Y (CP, in time) to A only.
    a, b = worker(team="T1"), worker(team="T2")
    x, y = new_id(), new_id()
    facts = Facts(
        workers=[a, b],
        allocations=[allocate(x, a), allocate(x, b), allocate(y, a)],
        episodes=[episode(x, CP, d("2015-01-05")), episode(y, CP, d("2015-02-23"))],
    )
    t1 = kpi(facts, "statutory_visits_in_time_pct", team="T1")
    assert (t1.numerator, t1.denominator) == (1, 2)
    t2 = kpi(facts, "statutory_visits_in_time_pct", team="T2")
    assert (t2.numerator, t2.denominator) == (0, 1)
    assert kpi(facts, "statutory_visits_in_time_pct", team="T3").value is None


# Workers per child


def test_a_b_a_is_two_workers() -> None:
    # CIN since 2014-06-01: A, then B from 2014-09-01, then A again from 2014-12-01.
    a, b = worker(), worker()
    child = new_id()
    facts = Facts(
        workers=[a, b],
        episodes=[episode(child, CIN, d("2014-06-01"))],
        allocations=[
            allocate(child, a, d("2014-06-01"), d("2014-09-01")),
            allocate(child, b, d("2014-09-01"), d("2014-12-01")),
            allocate(child, a, d("2014-12-01")),
        ],
    )
    value = kpi(facts, "children_with_at_most_3_workers_pct")
    assert (value.value, value.numerator, value.denominator) == (100.0, 1, 1)
    assert value.breakdown == {"0": 0, "1": 0, "2": 1, "3": 0, "4+": 0}


def test_four_workers_in_the_run_is_more_than_three() -> None:
    # P: four workers in turn since 2014-06-01; Q: one worker; R: an episode but no allocation (0 workers).
    workers = [worker() for _ in range(4)]
    p, q, r = new_id(), new_id(), new_id()
    starts = [d("2014-06-01"), d("2014-08-01"), d("2014-10-01"), d("2014-12-01")]
    facts = Facts(
        workers=workers,
        episodes=[
            episode(p, CIN, d("2014-06-01")),
            episode(q, CP, d("2015-01-05")),
            episode(r, CLA, d("2015-02-01")),
        ],
        allocations=[
            *in_turn(p, workers, starts),
            allocate(q, workers[0], d("2015-01-05")),
        ],
    )
    value = kpi(facts, "children_with_at_most_3_workers_pct")
    assert (value.numerator, value.denominator) == (2, 3)
    assert value.breakdown == {"0": 1, "1": 1, "2": 0, "3": 0, "4+": 1}


def test_the_run_reaches_back_through_episodes_that_touch_or_overlap() -> None:
    # Assessment [2014-01-01, 2014-03-01), CIN [2014-03-01, 2014-10-01) touching it, CP from 2014-09-01
    # overlapping the CIN: the run starts 2014-01-01.
    child = new_id()
    episodes = [
        episode(child, ASSESSMENT, d("2014-01-01"), d("2014-03-01")),
        episode(child, CIN, d("2014-03-01"), d("2014-10-01")),
        episode(child, CP, d("2014-09-01")),
    ]
    assert run_start(episodes, AS_OF) == d("2014-01-01")


def test_a_day_without_an_episode_breaks_the_run() -> None:
    # Assessment [2014-01-01, 2014-02-28): its last day is 2014-02-27; the CIN starts 2014-03-01, so
    # 2014-02-28 has no episode and the run starts 2014-03-01.
    child = new_id()
    episodes = [
        episode(child, ASSESSMENT, d("2014-01-01"), d("2014-02-28")),
        episode(child, CIN, d("2014-03-01")),
    ]
    assert run_start(episodes, AS_OF) == d("2014-03-01")
    # Nothing active: no run.
    assert run_start(episodes, d("2014-02-28")) is None


def test_an_episode_spanning_an_earlier_gap_joins_the_run_whatever_the_order() -> None:
    # CP from 2015-01-01 (active); an assessment [2014-01-01, 2014-02-01) ended long before; a CIN
    # [2013-06-01, 2015-01-01) touches the CP and starts earlier still: the run starts 2013-06-01.
    child = new_id()
    episodes = [
        episode(child, ASSESSMENT, d("2014-01-01"), d("2014-02-01")),
        episode(child, CP, d("2015-01-01")),
        episode(child, CIN, d("2013-06-01"), d("2015-01-01")),
    ]
    assert run_start(episodes, AS_OF) == d("2013-06-01")
    assert run_start(list(reversed(episodes)), AS_OF) == d("2013-06-01")


def test_workers_count_when_their_allocation_was_active_on_a_day_of_the_run() -> None:
    # Run [2014-03-01, as_of]. U's allocation ended 2014-03-01 (last day 2014-02-28): out. V's ended
    # 2014-03-02 (active on 2014-03-01): in. W's starts after as_of: out. A zero-length one: out.
    u, v, w, z = worker(), worker(), worker(), worker()
    child = new_id()
    allocations = [
        allocate(child, u, d("2014-01-01"), d("2014-03-01")),
        allocate(child, v, d("2014-01-01"), d("2014-03-02")),
        allocate(child, w, d("2015-03-03")),
        allocate(child, z, d("2014-06-01"), d("2014-06-01")),
    ]
    assert workers_in_run(allocations, d("2014-03-01"), AS_OF) == {v.id}


# IRO visits


def test_an_iro_visit_counts_only_strictly_between_the_two_reviews() -> None:
    # Reviews of X on 2014-12-01 and 2015-02-02; of Y on 2014-12-01 and 2015-02-02; of Z on 2015-01-05
    # and 2015-02-02. X's IRO visit is on the previous review day, Y's on the review day, Z's between.
    x, y, z = new_id(), new_id(), new_id()
    facts = Facts(
        reviews=[
            Review(x, d("2014-12-01")),
            Review(x, d("2015-02-02")),
            Review(y, d("2014-12-01")),
            Review(y, d("2015-02-02")),
            Review(z, d("2015-01-05")),
            Review(z, d("2015-02-02")),
        ],
        iro_visits=[IroVisit(x, d("2014-12-01")), IroVisit(y, d("2015-02-02")), IroVisit(z, d("2015-01-06"))],
    )
    value = kpi(facts, "iro_midway_visit_pct")
    # Eligible: X, Y, Z's second reviews; Z's first is also in the window but has no previous review.
    assert (value.numerator, value.denominator) == (1, 3)


def test_the_previous_review_may_be_before_the_window_but_the_review_must_be_in_it() -> None:
    # Window of 2015-03-02: [2014-09-02, 2015-03-02]. Reviews 2014-03-01, 2014-09-01 (out, day before),
    # 2014-09-02 (in: previous 2014-09-01), 2015-03-02 (in), 2015-03-03 (after as_of). IRO visits
    # 2014-06-01 (between the first two) and 2015-01-01 (between 2014-09-02 and 2015-03-02).
    x = new_id()
    facts = Facts(
        reviews=[
            Review(x, d(day))
            for day in ("2014-03-01", "2014-09-01", "2014-09-02", "2015-03-02", "2015-03-03")
        ],
        iro_visits=[IroVisit(x, d("2014-06-01")), IroVisit(x, d("2015-01-01"))],
    )
    value = kpi(facts, "iro_midway_visit_pct")
    assert (value.numerator, value.denominator, value.value) == (1, 2, 50.0)


def test_a_first_review_alone_is_not_eligible() -> None:
    x = new_id()
    facts = Facts(reviews=[Review(x, d("2015-01-05"))], iro_visits=[IroVisit(x, d("2015-01-01"))])
    assert kpi(facts, "iro_midway_visit_pct").value is None


def test_a_review_counts_for_the_team_of_the_childs_worker_on_the_review_day() -> None:
    a, b = worker(team="T1"), worker(team="T2")
    x = new_id()
    facts = Facts(
        workers=[a, b],
        allocations=[allocate(x, a, d("2014-01-01"), d("2015-01-10")), allocate(x, b, d("2015-01-10"))],
        reviews=[Review(x, d("2014-10-01")), Review(x, d("2015-01-05")), Review(x, d("2015-02-20"))],
    )
    assert kpi(facts, "iro_midway_visit_pct", team="T1").denominator == 1  # 2015-01-05, with A
    assert kpi(facts, "iro_midway_visit_pct", team="T2").denominator == 1  # 2015-02-20, with B
    assert kpi(facts, "iro_midway_visit_pct").denominator == 2
