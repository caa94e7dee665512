"""Properties of the KPI engine over generated facts: the order of the records never matters, every
percentage of a part of a whole is within 0-100, and the watch lists list exactly the workers and
children the KPIs count against."""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import date, timedelta
from typing import TypeVar

from hypothesis import given, settings
from hypothesis import strategies as st

from steadfast_metrics.facts.records import (
    SURVEY_FACTORS,
    Allocation,
    Assessment,
    Audit,
    Episode,
    Facts,
    Holding,
    IroVisit,
    Placement,
    Post,
    Review,
    SurveyReturn,
    Terms,
    Visit,
    Worker,
)
from steadfast_metrics.kpis.catalogue import BY_ID, KPI_IDS
from steadfast_metrics.kpis.engine import compute_kpis
from steadfast_metrics.watchlists.lists import (
    children_with_4_or_more_workers,
    children_with_overdue_visits,
    workers_over_limit,
)
from steadfast_shared.codes import AuditType, EmploymentType, EpisodeType, Grade, Role, VisitType
from tests.metrics.kpi_builders import STRATEGY

FIRST_DAY = date(2014, 1, 1)
DAYS = st.integers(0, 360).map(lambda n: FIRST_DAY + timedelta(days=n))
TEAMS = st.sampled_from(["T1", "T2"])
FTES = st.sampled_from([0.25, 0.5, 0.8, 1.0])
WORKER_IDS = [uuid.UUID(int=n) for n in range(1, 8)]
CHILD_IDS = [uuid.UUID(int=n) for n in range(100, 104)]
CHILDREN = st.sampled_from(CHILD_IDS)
_T = TypeVar("_T")


@st.composite
def intervals(draw: st.DrawFn) -> tuple[date, date | None]:
    start = draw(DAYS)
    length = draw(st.none() | st.integers(0, 400))
    return start, None if length is None else start + timedelta(days=length)


@st.composite
def workers(draw: st.DrawFn, worker_id: uuid.UUID) -> Worker:
    start, end = draw(intervals())

    def terms(begin: date, until: date | None) -> Terms:
        return Terms(
            begin,
            until,
            draw(st.sampled_from(Role)),
            draw(TEAMS),
            draw(FTES),
            draw(st.sampled_from(EmploymentType)),
        )

    change = draw(st.none() | st.integers(1, 200))
    segments = (
        [terms(start, None)]
        if change is None
        else [terms(start, start + timedelta(days=change)), terms(start + timedelta(days=change), None)]
    )
    return Worker(
        id=worker_id,
        start_date=start,
        end_date=end,
        terms=segments,
        asye_start=draw(st.none() | DAYS),
        protected_development_pct=draw(st.none() | st.sampled_from([0.0, 10.0, 15.0, 20.0])),
        swe_registration_expiry=draw(st.none() | DAYS),
        external_id=str(worker_id.int),
        display_name=f"Worker {worker_id.int}",
    )


@st.composite
def facts(draw: st.DrawFn) -> Facts:
    staff = [draw(workers(worker_id)) for worker_id in WORKER_IDS[: draw(st.integers(0, len(WORKER_IDS)))]]
    worker_ids = st.sampled_from([w.id for w in staff] + [uuid.UUID(int=999)])  # and one unknown worker

    def allocation() -> st.SearchStrategy[Allocation]:
        return st.builds(lambda c, w, i: Allocation(c, w, *i), CHILDREN, worker_ids, intervals())

    def episode() -> st.SearchStrategy[Episode]:
        return st.builds(
            lambda c, t, i: Episode(c, t, *i), CHILDREN, st.sampled_from(EpisodeType), intervals()
        )

    def assessment() -> st.SearchStrategy[Assessment]:
        return st.builds(lambda c, i: Assessment(c, *i), CHILDREN, intervals())

    def post() -> st.SearchStrategy[Post]:
        holding = st.builds(lambda w, i: Holding(w, *i), worker_ids, intervals())
        return st.builds(
            lambda t, f, i, h: Post(uuid.uuid4(), t, Role.social_worker, f, i[0], i[1], h),
            TEAMS,
            FTES,
            intervals(),
            st.lists(holding, max_size=2),
        )

    def audit() -> st.SearchStrategy[Audit]:
        grades = st.none() | st.sampled_from(Grade)
        return st.builds(
            lambda a, t, c, g, cg: Audit(uuid.uuid4(), a, t, c, g, cg),
            st.sampled_from(AuditType),
            TEAMS,
            st.none() | DAYS,
            grades,
            grades,
        )

    def survey() -> st.SearchStrategy[SurveyReturn]:
        kind = st.sampled_from(sorted(SURVEY_FACTORS))
        return kind.flatmap(
            lambda k: st.builds(
                SurveyReturn,
                st.just(k),
                DAYS,
                st.none() | TEAMS,
                st.dictionaries(st.sampled_from(SURVEY_FACTORS[k]), st.integers(1, 5)),
            )
        )

    return Facts(
        workers=staff,
        posts=draw(st.lists(post(), max_size=4)),
        placements=draw(
            st.lists(st.builds(lambda t, s: Placement(uuid.uuid4(), t, s), TEAMS, DAYS), max_size=3)
        ),
        episodes=draw(st.lists(episode(), max_size=10)),
        allocations=draw(st.lists(allocation(), max_size=20)),
        assessments=draw(st.lists(assessment(), max_size=5)),
        visits=draw(st.lists(st.builds(Visit, CHILDREN, DAYS, st.sampled_from(VisitType)), max_size=8)),
        reviews=draw(st.lists(st.builds(Review, CHILDREN, DAYS), max_size=6)),
        iro_visits=draw(st.lists(st.builds(IroVisit, CHILDREN, DAYS), max_size=4)),
        audits=draw(st.lists(audit(), max_size=6)),
        surveys=draw(st.lists(survey(), max_size=6)),
    )


def shuffled(original: Facts, rng: random.Random) -> Facts:
    def mix(records: Sequence[_T]) -> list[_T]:
        mixed = list(records)
        rng.shuffle(mixed)
        return mixed

    return Facts(
        workers=mix(original.workers),
        posts=[
            Post(p.id, p.team, p.role, p.fte, p.start_date, p.end_date, mix(p.holdings))
            for p in mix(original.posts)
        ],
        placements=mix(original.placements),
        episodes=mix(original.episodes),
        allocations=mix(original.allocations),
        assessments=mix(original.assessments),
        visits=mix(original.visits),
        reviews=mix(original.reviews),
        iro_visits=mix(original.iro_visits),
        audits=mix(original.audits),
        surveys=mix(original.surveys),
    )


AS_OF_DAYS = st.integers(60, 500).map(lambda n: FIRST_DAY + timedelta(days=n))
ANY_TEAM = st.none() | TEAMS | st.just("EMPTY")
#: Percentages of a part of a whole (turnover may exceed 100: leavers over those who stayed).
PART_OF_WHOLE = [k for k in KPI_IDS if BY_ID[k].unit == "%" and k != "turnover_rate"]


@settings(max_examples=60, deadline=None)
@given(original=facts(), as_of=AS_OF_DAYS, team=ANY_TEAM, rng=st.randoms(use_true_random=False))
def test_the_order_of_the_records_changes_nothing(
    original: Facts, as_of: date, team: str | None, rng: random.Random
) -> None:
    assert compute_kpis(shuffled(original, rng), STRATEGY, as_of, team) == compute_kpis(
        original, STRATEGY, as_of, team
    )


@settings(max_examples=60, deadline=None)
@given(generated=facts(), as_of=AS_OF_DAYS, team=ANY_TEAM)
def test_every_kpi_is_answered_and_percentages_of_a_whole_are_within_0_and_100(
    generated: Facts, as_of: date, team: str | None
) -> None:
    answer = compute_kpis(generated, STRATEGY, as_of, team)
    assert list(answer) == list(KPI_IDS)
    for kpi_id in PART_OF_WHOLE:
        value = answer[kpi_id].value
        assert value is None or 0.0 <= value <= 100.0, (kpi_id, value)
    for kpi in answer.values():
        assert kpi.value is None or kpi.value >= 0.0, kpi
    if team == "EMPTY":
        assert {k for k, v in answer.items() if v.value is not None} == set()


@settings(max_examples=60, deadline=None)
@given(generated=facts(), as_of=AS_OF_DAYS, team=ANY_TEAM, limit=st.sampled_from([None, 0.5, 1.0, 2.5]))
def test_the_watch_lists_hold_exactly_those_the_kpis_count_against(
    generated: Facts, as_of: date, team: str | None, limit: float | None
) -> None:
    # Small caseload limits, so that generated caseloads of a few children go over them.
    strategy = STRATEGY.model_copy(update={"caseload_limit": limit})
    answer = compute_kpis(generated, strategy, as_of, team)
    over = answer["workers_over_caseload_limit"]
    assert len(workers_over_limit(generated, strategy, as_of, team)) == (over.numerator or 0)
    visits = answer["statutory_visits_in_time_pct"]
    overdue = children_with_overdue_visits(generated, strategy, as_of, team)
    assert len(overdue) == (visits.denominator or 0) - (visits.numerator or 0)
    assert all(row.days_overdue > 0 for row in overdue)
    stability = answer["children_with_at_most_3_workers_pct"]
    many = children_with_4_or_more_workers(generated, strategy, as_of, team)
    assert len(many) == (stability.denominator or 0) - (stability.numerator or 0)
    assert len(many) == stability.breakdown.get("4+", 0)
