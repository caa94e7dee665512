"""The demo council's generator: deterministic, and the story it is meant to tell holds in its records."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date, timedelta
from functools import cache

import pytest

from steadfast_shared.codes import CASE_HOLDING_ROLES
from steadfast_shared.dates import working_days_between
from steadfast_shared.embedded.demo.council import DemoCouncil, build_demo_council
from steadfast_shared.embedded.demo.loader import demo_strategy, weekly_days
from steadfast_shared.strategy.document import StrategyDocument

TODAY = date(2026, 3, 2)
KINDS = (
    "workers",
    "worker_changes",
    "children",
    "allocations",
    "assessments",
    "visits",
    "reviews",
    "iro_visits",
    "audits",
)


@cache
def council(today: date = TODAY, seed: int = 2015) -> DemoCouncil:
    return build_demo_council(today, seed)


def test_the_same_seed_and_day_give_the_same_records_and_another_seed_others() -> None:
    again = build_demo_council(TODAY, 2015)
    for kind in KINDS:
        assert again.csv(kind) == council().csv(kind), kind
    assert again.posts == council().posts
    assert again.placements == council().placements
    other = build_demo_council(TODAY, 7)
    assert other.csv("allocations") != council().csv("allocations")


def test_the_history_ends_today_and_spans_two_years() -> None:
    c = council()
    assert c.history_start == TODAY - timedelta(days=728)
    days = [date.fromisoformat(r["completed_date"]) for r in c.rows("audits")]
    assert max(days) <= TODAY
    assert min(days) < c.history_start
    visits = [date.fromisoformat(r["visit_date"]) for r in c.rows("visits")]
    assert max(visits) <= TODAY
    assert TODAY - max(visits) < timedelta(days=7)
    moved = build_demo_council(TODAY + timedelta(days=30), 2015)
    assert moved.history_start == c.history_start + timedelta(days=30)
    weeks = weekly_days(TODAY)
    assert weeks[-1] == TODAY
    assert len(weeks) == 105
    assert weeks[0] == TODAY - timedelta(weeks=104)


def test_fourteen_teams_in_the_councils_words_and_about_120_posts() -> None:
    c = council()
    codes = {t.code for t in c.teams}
    assert len(codes) == 14
    assert {"MASH", "ACIN1", "PC1", "LAC1", "LC1", "CWD1", "IRO"} <= codes
    assert {r["team"] for r in c.rows("workers")} == codes
    assert 110 <= len(c.posts) <= 130
    assert {p.team for p in c.posts} == codes


def test_about_half_agency_at_the_start_and_clearly_more_permanent_at_the_end() -> None:
    c = council()
    start, end = c.permanent_rate(c.history_start), c.permanent_rate(TODAY)
    assert 42 <= start <= 58
    assert end >= 75
    # agency workers replaced: leavers at the end of their contract, permanent starters, conversions
    workers = c.rows("workers")
    assert (
        sum(r["leaving_reason"] == "end_of_contract" and r["employment_type"] == "agency" for r in workers)
        > 30
    )
    assert all(r["employment_type"] == "permanent" for r in c.rows("worker_changes"))


def test_open_cases_fall_to_about_1500_and_the_average_caseload_falls_but_some_teams_still_struggle() -> None:
    c = council()
    assert 1350 <= c.open_cases(TODAY) <= 1650
    assert c.open_cases(c.history_start) > c.open_cases(TODAY)
    first, last = c.average_caseload(c.history_start), c.average_caseload(TODAY)
    assert first > last + 1.5
    assert 15 <= last <= 18.5
    struggling = [t.code for t in c.teams if c.average_caseload(TODAY, t.code) > 20]
    assert struggling, "some teams are still over 20"
    assert len(struggling) <= 6


def test_children_with_four_or_more_workers_nqsws_and_expiring_registrations() -> None:
    c = council()
    open_children = [ch for ch in c.children if any(e.end is None for e in ch.episodes)]
    workers = Counter(len({a.worker for a in ch.allocations}) for ch in open_children)
    four_plus = sum(n for k, n in workers.items() if k >= 4)
    assert 0.03 * len(open_children) < four_plus < 0.4 * len(open_children)
    in_post = [w for w in c.workers if w.in_post(TODAY)]
    nqsws = [w for w in in_post if w.asye_start is not None and w.asye_start > TODAY - timedelta(days=365)]
    assert len(nqsws) >= 5
    assert all(w.protected_development_pct for w in nqsws)
    soon = [
        w
        for w in in_post
        if w.swe_registration_expiry is not None and w.swe_registration_expiry <= TODAY + timedelta(days=60)
    ]
    assert 2 <= len(soon) <= 0.3 * len(in_post)
    assert all(w.swe_registration_number is None for w in c.workers if w.role == "student")


def test_assessments_mostly_within_45_working_days_and_audits_a_mix_of_grades() -> None:
    c = council()
    done = [r for r in c.rows("assessments") if r["completed_date"]]
    within = sum(
        working_days_between(date.fromisoformat(r["start_date"]), date.fromisoformat(r["completed_date"]))
        <= 45
        for r in done
    )
    assert 0.75 < within / len(done) < 0.97
    grades = Counter(r["overall_grade"] for r in c.rows("audits"))
    assert set(grades) == {"outstanding", "good", "requires_improvement", "inadequate"}
    assert {r["audit_type"] for r in c.rows("audits")} == {"full", "dip_sample"}
    kinds = Counter(r["visit_type"] for r in c.rows("visits"))
    assert set(kinds) == {"cp", "cla"}


def test_the_records_hang_together_as_the_services_rules_want() -> None:
    c = council()
    workers = {w.external_id: w for w in c.workers}
    for child in c.children:
        for a in child.allocations:
            w = workers[a.worker]
            assert a.end is None or a.end > a.start
            assert w.start_date <= a.start
            assert w.end_date is None or (a.end is not None and a.end <= w.end_date)
            assert w.role in CASE_HOLDING_ROLES or w.role == "student"
        first = min(e.start for e in child.episodes)
        assert all(day >= first for day, _ in child.visits)
        for e in child.episodes:
            assert e.end is None or e.end > e.start
    registrations = [w.swe_registration_number for w in c.workers if w.swe_registration_number]
    assert len(registrations) == len(set(registrations))
    for post in c.posts:
        spans = sorted((start, end) for _, start, end in post.holdings)
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert end is not None
            assert end <= start


def test_the_strategy_is_the_shipped_targets_due_at_the_end_of_next_financial_year() -> None:
    body = demo_strategy(TODAY)
    document = StrategyDocument.model_validate(body["document"])
    assert document.target_value("permanent_rate", TODAY) == 80
    assert document.target_value("average_caseload", TODAY) == 16
    assert document.target_value("assessments_within_45_days_pct", TODAY) == 95
    assert document.target_value("audits_good_or_better_pct", TODAY) == 80
    assert document.targets["permanent_rate"].milestones[-1].date == date(2027, 3, 31)


def test_a_smaller_council_keeps_the_teams() -> None:
    small = build_demo_council(TODAY, 2015, scale=0.15)
    assert {r["team"] for r in small.rows("workers")} == {t.code for t in small.teams}
    assert small.open_cases(TODAY) < council().open_cases(TODAY) / 4
    with pytest.raises(ValueError, match="scale"):
        build_demo_council(TODAY, 2015, scale=0)
