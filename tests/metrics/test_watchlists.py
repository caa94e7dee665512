"""The watch lists, worked by hand from the same rules as the KPIs (as of Monday 2 March 2015)."""

from __future__ import annotations

from datetime import timedelta

from steadfast_metrics.facts.records import Facts, Visit
from steadfast_metrics.strategy.document import StrategyDocument
from steadfast_metrics.watchlists.lists import (
    ChildWithManyWorkers,
    ChildWithOverdueVisit,
    children_with_4_or_more_workers,
    children_with_overdue_visits,
    nqsws_over_protected_caseload,
    registrations_expiring,
    workers_over_limit,
)
from steadfast_shared.codes import EpisodeType, Role, VisitType
from tests.metrics.kpi_builders import (
    AS_OF,
    STRATEGY,
    allocate,
    children_of,
    d,
    episode,
    in_turn,
    new_id,
    worked_example,
    worker,
)


def test_the_worked_example_has_one_worker_over_their_limit() -> None:
    example = worked_example()
    (row,) = workers_over_limit(example.facts, STRATEGY, AS_OF)
    assert (row.worker_id, row.display_name, row.team) == (example.a.id, "A", "T1")
    assert (row.caseload, row.capacity, row.limit, row.over_by) == (18, 1.0, 16, 2)


def test_workers_over_their_limit_most_over_first() -> None:
    # G (consultant practitioner, limit 8) holds 13: over by 5; A over by 2; D (limit 7) holds 8: by 1.
    example = worked_example()
    g = worker(Role.consultant_practitioner, team="T2", name="G")
    facts = Facts(
        workers=[*example.facts.workers, g],
        allocations=[*example.facts.allocations, *children_of(g, 13), *children_of(example.d, 1)],
    )
    rows = workers_over_limit(facts, STRATEGY, AS_OF)
    assert [(r.display_name, r.limit, r.over_by) for r in rows] == [("G", 8, 5), ("A", 16, 2), ("D", 7, 1)]
    assert [r.display_name for r in workers_over_limit(facts, STRATEGY, AS_OF, team="T2")] == ["G"]
    assert workers_over_limit(facts, StrategyDocument(name="no limit"), AS_OF) == []


def test_nqsws_over_their_protected_caseload() -> None:
    # Protected caseload 14 (the NQSW target on 2015-03-02). N1 holds 16 (over by 2), N2 14 (not over);
    # S, a qualified worker out of their ASYE, holds 20 and is not listed.
    n1 = worker(asye_start=d("2014-09-01"), name="N1")
    n2 = worker(asye_start=d("2014-09-01"), name="N2")
    s = worker(asye_start=d("2013-09-01"), name="S")
    facts = Facts(
        workers=[n1, n2, s], allocations=[*children_of(n1, 16), *children_of(n2, 14), *children_of(s, 20)]
    )
    (row,) = nqsws_over_protected_caseload(facts, STRATEGY, AS_OF)
    assert (row.worker_id, row.caseload, row.protected_caseload, row.over_by) == (n1.id, 16, 14, 2)
    # A strategy of 12.5: at most 12 children, so N2 is over by 2 and N1 by 4.
    lower = STRATEGY.model_copy(update={"nqsw_protected_caseload": 12.5})
    rows = nqsws_over_protected_caseload(facts, lower, AS_OF)
    assert [(r.display_name, r.protected_caseload, r.over_by) for r in rows] == [("N1", 12, 4), ("N2", 12, 2)]
    assert nqsws_over_protected_caseload(facts, StrategyDocument(name="none"), AS_OF) == []


def test_children_with_overdue_visits_by_their_most_overdue_plan() -> None:
    # X: CP from 2015-02-02, last visit 2015-02-13 -> due 2015-02-27, 3 days overdue; CLA from 2015-01-05,
    #    for which the same visit is the reference: due 2015-03-27, in time.
    # Y: CLA from 2014-12-01, never visited: due 2015-01-12, 49 days overdue.
    # Z: CP from 2015-02-23: due 2015-03-09, in time.
    x, y, z = new_id(), new_id(), new_id()
    facts = Facts(
        episodes=[
            episode(x, EpisodeType.cp, d("2015-02-02")),
            episode(x, EpisodeType.cla, d("2015-01-05")),
            episode(y, EpisodeType.cla, d("2014-12-01")),
            episode(z, EpisodeType.cp, d("2015-02-23")),
        ],
        visits=[Visit(x, d("2015-02-13"), VisitType.cp)],
    )
    assert children_with_overdue_visits(facts, STRATEGY, AS_OF) == [
        ChildWithOverdueVisit(y, EpisodeType.cla, d("2014-12-01"), d("2015-01-12"), 49),
        ChildWithOverdueVisit(x, EpisodeType.cp, d("2015-02-13"), d("2015-02-27"), 3),
    ]


def test_the_most_overdue_plan_of_a_child_on_both_is_reported() -> None:
    # CP from 2015-02-16, never visited: due 2015-03-02, in time. CLA from 2015-01-05: due 2015-02-16,
    # 14 days overdue. Only the CLA is reported.
    x = new_id()
    facts = Facts(
        episodes=[episode(x, EpisodeType.cp, d("2015-02-16")), episode(x, EpisodeType.cla, d("2015-01-05"))]
    )
    (row,) = children_with_overdue_visits(facts, STRATEGY, AS_OF)
    assert (row.episode_type, row.due_date, row.days_overdue) == (EpisodeType.cla, d("2015-02-16"), 14)


def test_overdue_visits_per_team() -> None:
    a, b = worker(team="T1"), worker(team="T2")
    x = new_id()
    facts = Facts(
        workers=[a, b], allocations=[allocate(x, a)], episodes=[episode(x, EpisodeType.cla, d("2014-12-01"))]
    )
    assert len(children_with_overdue_visits(facts, STRATEGY, AS_OF, team="T1")) == 1
    assert children_with_overdue_visits(facts, STRATEGY, AS_OF, team="T2") == []


def test_children_with_4_or_more_workers_in_their_run() -> None:
    # P: CIN since 2014-06-01 with four workers in turn (listed); Q: three (not listed).
    workers = [worker() for _ in range(4)]
    p, q = new_id(), new_id()
    starts = [d("2014-06-01"), d("2014-08-01"), d("2014-10-01"), d("2014-12-01")]
    allocations = [*in_turn(p, workers, starts), *in_turn(q, workers[:3], starts[:3])]
    facts = Facts(
        workers=workers,
        episodes=[episode(p, EpisodeType.cin, d("2014-06-01")), episode(q, EpisodeType.cp, d("2014-06-01"))],
        allocations=allocations,
    )
    assert children_with_4_or_more_workers(facts, STRATEGY, AS_OF) == [
        ChildWithManyWorkers(p, 4, d("2014-06-01"))
    ]


def test_registrations_expiring_within_the_warning_period_or_already_expired() -> None:
    # Warning 60 days: 2015-05-01 is the last day included. E1 expires 2015-05-01 (60 days left), E2
    # 2015-05-02 (not listed), E3 expired 2015-02-27 and is still in post (-3), E4 expired and left,
    # E5 has no expiry on record, E6 expires today (0).
    horizon = AS_OF + timedelta(days=60)
    assert horizon == d("2015-05-01")
    workers = [
        worker(swe_registration_expiry=horizon, name="E1"),
        worker(swe_registration_expiry=horizon + timedelta(days=1), name="E2"),
        worker(swe_registration_expiry=d("2015-02-27"), name="E3"),
        worker(swe_registration_expiry=d("2015-02-27"), end=AS_OF, name="E4"),
        worker(name="E5"),
        worker(swe_registration_expiry=AS_OF, team="T2", name="E6"),
    ]
    rows = registrations_expiring(Facts(workers=workers), STRATEGY, AS_OF)
    assert [(r.display_name, r.expiry, r.days_left) for r in rows] == [
        ("E3", d("2015-02-27"), -3),
        ("E6", AS_OF, 0),
        ("E1", horizon, 60),
    ]
    assert [
        r.display_name for r in registrations_expiring(Facts(workers=workers), STRATEGY, AS_OF, team="T2")
    ] == ["E6"]
