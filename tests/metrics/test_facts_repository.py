"""The loader: it leaves out only what cannot matter on ``as_of``, so the KPI engine gives the same answer
from the loaded facts as from every fact there is, for the council and for each team."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from pydantic import BaseModel

from steadfast_audit.events import AuditData, AuditRecorded
from steadfast_caseload.events import (
    AllocationData,
    AllocationStarted,
    AssessmentData,
    AssessmentRecorded,
    EpisodeData,
    EpisodeRecorded,
    FeedbackData,
    FeedbackReturned,
    IroVisitData,
    IroVisitRecorded,
    ReviewData,
    ReviewRecorded,
    VisitData,
    VisitRecorded,
)
from steadfast_metrics.bootstrap import definition
from steadfast_metrics.facts.records import (
    SURVEY_FACTORS,
    Allocation,
    Assessment,
    Audit,
    CurrentRun,
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
from steadfast_metrics.kpis.casework import CaseIndex, worker_counts
from steadfast_metrics.kpis.engine import compute_kpis
from steadfast_metrics.strategy.document import SLOUGH_2014_17
from steadfast_shared.codes import AuditType, EmploymentType, EpisodeType, Grade, Role, VisitType
from steadfast_shared.db import create_database
from steadfast_shared.events import CloudEvent
from steadfast_staff.events import (
    ExitSurveyData,
    ExitSurveyReturned,
    PostData,
    PostEstablished,
    RecruitmentSurveyData,
    RecruitmentSurveyReturned,
    StaffHealthCheckData,
    StaffHealthCheckReturned,
    StudentPlacementData,
    StudentPlacementRecorded,
    WorkerData,
    WorkerHired,
)
from tests.metrics.conftest import (
    Projections,
    allocation,
    assessment,
    audit,
    episode,
    event,
    feedback,
    iro_visit,
    new_id,
    placement,
    post,
    recruitment_survey,
    review,
    terms,
    visit,
    worker,
)
from tests.support.backends import migrated_url

AS_OF = date(2015, 3, 2)
WINDOW_FIRST = AS_OF - timedelta(days=181)


@pytest_asyncio.fixture(loop_scope="session", params=["postgresql", "sqlite"])
async def projections(
    request: pytest.FixtureRequest, make_database: Callable[..., Awaitable[str]], tmp_path: Path
) -> AsyncIterator[Projections]:
    """The projections on PostgreSQL and on SQLite (the embedded default): the loader counts runs
    where the rows are, in SQL both must answer alike."""
    url = await migrated_url(request.param, definition, make_database, tmp_path / "metrics.db")
    database = create_database(url, pool_size=2)
    try:
        yield Projections(database)
    finally:
        await database.dispose()


async def test_the_loader_leaves_out_what_cannot_matter_on_the_day(projections: Projections) -> None:
    in_post, left_last_year, left_long_ago, not_yet = new_id(), new_id(), new_id(), new_id()
    open_case, closed_case, assessed, reviewed = new_id(), new_id(), new_id(), new_id()
    this_year, last_year = placement(start_date=date(2014, 4, 1)), placement(start_date=date(2014, 3, 31))
    next_year = placement(start_date=date(2015, 4, 1))
    established, gone = (
        post(start_date=date(2014, 1, 6)),
        post(start_date=date(2013, 1, 7), end_date=date(2015, 3, 2)),
    )
    await projections.apply(
        event(WorkerHired, worker(in_post)),
        event(WorkerHired, worker(left_last_year, end_date=date(2014, 3, 3))),
        event(WorkerHired, worker(left_long_ago, end_date=date(2014, 2, 28))),
        event(WorkerHired, worker(not_yet, start_date=date(2015, 3, 3))),
        event(PostEstablished, established),
        event(PostEstablished, gone),
        *(event(StudentPlacementRecorded, p) for p in (this_year, last_year, next_year)),
        # A child with an open episode: its active episode and allocation, and its current run (from the
        # first episode, which the second touches) counted with its two workers up to as_of.
        event(EpisodeRecorded, episode(open_case, EpisodeType.cin, date(2012, 1, 2), date(2013, 1, 7))),
        event(EpisodeRecorded, episode(open_case, EpisodeType.cp, date(2013, 1, 7))),
        event(EpisodeRecorded, episode(open_case, EpisodeType.cla, date(2015, 3, 3))),
        event(AllocationStarted, allocation(open_case, left_long_ago, date(2012, 1, 2), date(2013, 6, 3))),
        event(AllocationStarted, allocation(open_case, in_post, date(2013, 6, 3))),
        event(AllocationStarted, allocation(open_case, not_yet, date(2015, 3, 3))),
        event(VisitRecorded, visit(open_case, date(2015, 1, 5), VisitType.cp)),
        event(VisitRecorded, visit(open_case, date(2015, 2, 2), VisitType.cp)),
        event(VisitRecorded, visit(open_case, date(2015, 1, 19), VisitType.other)),
        event(VisitRecorded, visit(open_case, date(2015, 3, 3), VisitType.cp)),
        # A closed case: nothing of it matters now.
        event(EpisodeRecorded, episode(closed_case, EpisodeType.cin, date(2013, 1, 7), date(2014, 1, 6))),
        event(AllocationStarted, allocation(closed_case, left_long_ago, date(2013, 1, 7), date(2014, 1, 6))),
        event(VisitRecorded, visit(closed_case, date(2013, 5, 6), VisitType.cin)),
        # An assessment completed in the window, one completed before it, one still open.
        event(AllocationStarted, allocation(assessed, left_long_ago, date(2013, 1, 7), date(2014, 9, 1))),
        event(AllocationStarted, allocation(assessed, in_post, date(2014, 9, 1), date(2014, 11, 3))),
        event(AllocationStarted, allocation(assessed, left_last_year, date(2014, 1, 6), date(2014, 3, 3))),
        event(AssessmentRecorded, assessment(assessed, date(2014, 8, 11), date(2014, 10, 13))),
        event(AssessmentRecorded, assessment(assessed, date(2014, 6, 2), date(2014, 8, 29))),
        event(AssessmentRecorded, assessment(assessed, date(2015, 2, 2))),
        # Reviews: the one in the window, its previous one, and IRO visits since that previous review.
        event(ReviewRecorded, review(reviewed, date(2013, 12, 2))),
        event(ReviewRecorded, review(reviewed, date(2014, 6, 2))),
        event(ReviewRecorded, review(reviewed, date(2014, 12, 1))),
        event(ReviewRecorded, review(reviewed, date(2015, 3, 3))),
        event(IroVisitRecorded, iro_visit(reviewed, date(2014, 3, 3))),
        event(IroVisitRecorded, iro_visit(reviewed, date(2014, 9, 1))),
        event(AllocationStarted, allocation(reviewed, left_long_ago, date(2013, 1, 7), date(2014, 2, 28))),
        event(AllocationStarted, allocation(reviewed, in_post, date(2014, 2, 28), date(2014, 6, 3))),
        event(AllocationStarted, allocation(reviewed, in_post, date(2014, 11, 3), date(2014, 12, 2))),
        # Audits in and out of the window, surveys in the window, the previous one and before.
        event(AuditRecorded, in_window := audit(completed_date=WINDOW_FIRST)),
        event(AuditRecorded, audit(completed_date=WINDOW_FIRST - timedelta(days=1))),
        event(AuditRecorded, audit(completed_date=AS_OF + timedelta(days=1))),
        event(AuditRecorded, audit(completed_date=None)),
        event(RecruitmentSurveyReturned, recruitment_survey(AS_OF, place=5)),
        event(RecruitmentSurveyReturned, recruitment_survey(WINDOW_FIRST - timedelta(days=182), place=3)),
        event(RecruitmentSurveyReturned, recruitment_survey(WINDOW_FIRST - timedelta(days=183), place=1)),
        event(FeedbackReturned, feedback(AS_OF + timedelta(days=1), contact_quality=2)),
    )

    facts = await projections.load(AS_OF, 182)

    assert {w.id for w in facts.workers} == {in_post, left_last_year}
    assert [p.id for p in facts.posts] == [established.id]
    assert [p.id for p in facts.placements] == [this_year.id]
    assert set(facts.episodes) == {Episode(open_case, EpisodeType.cp, date(2013, 1, 7), None)}
    assert facts.runs_as_of == AS_OF
    assert list(facts.current_runs) == [CurrentRun(open_case, date(2012, 1, 2), 2)]
    # Active on as_of (caseloads, teams), on the assessment's completion day, on a day of the window for
    # the reviewed child (the team on its review day); not the open case's history (counted in its run).
    assert set(facts.allocations) == {
        Allocation(open_case, in_post, date(2013, 6, 3), None),
        Allocation(assessed, in_post, date(2014, 9, 1), date(2014, 11, 3)),
        Allocation(reviewed, in_post, date(2014, 11, 3), date(2014, 12, 2)),
    }
    assert set(facts.visits) == {Visit(open_case, date(2015, 2, 2), VisitType.cp)}  # its latest by as_of
    assert list(facts.assessments) == [Assessment(assessed, date(2014, 8, 11), date(2014, 10, 13))]
    assert list(facts.reviews) == [Review(reviewed, date(2014, 6, 2)), Review(reviewed, date(2014, 12, 1))]
    assert list(facts.iro_visits) == [IroVisit(reviewed, date(2014, 9, 1))]
    assert [a.id for a in facts.audits] == [in_window.audit_id]
    assert [s.scores for s in facts.surveys] == [{"place": 3}, {"place": 5}]


async def test_the_loader_counts_each_current_run_as_the_engine_does(projections: Projections) -> None:
    overlapping, gap, unallocated = new_id(), new_id(), new_id()
    w1, w2, w3 = new_id(), new_id(), new_id()
    await projections.apply(
        # An episode inside an earlier one ends before the next starts; the earlier one touches it: the
        # run starts with the first. Two episodes active. An allocation ending on the run's first day
        # has no day in it; one worker twice is one worker; an allocation after as_of does not count.
        event(EpisodeRecorded, episode(overlapping, EpisodeType.cin, date(2010, 1, 4), date(2012, 1, 2))),
        event(EpisodeRecorded, episode(overlapping, EpisodeType.cp, date(2011, 6, 1), date(2011, 7, 1))),
        event(EpisodeRecorded, episode(overlapping, EpisodeType.cin, date(2012, 1, 2))),
        event(EpisodeRecorded, episode(overlapping, EpisodeType.cp, date(2014, 5, 5))),
        event(AllocationStarted, allocation(overlapping, w1, date(2009, 1, 5), date(2010, 1, 4))),
        event(AllocationStarted, allocation(overlapping, w2, date(2011, 1, 3), date(2011, 2, 7))),
        event(AllocationStarted, allocation(overlapping, w2, date(2013, 1, 7))),
        event(AllocationStarted, allocation(overlapping, w3, date(2015, 3, 3))),
        # A day without an episode: the run starts after it.
        event(EpisodeRecorded, episode(gap, EpisodeType.cin, date(2012, 1, 2), date(2013, 1, 7))),
        event(EpisodeRecorded, episode(gap, EpisodeType.cp, date(2013, 1, 8))),
        event(AllocationStarted, allocation(gap, w1, date(2012, 6, 4), date(2013, 1, 8))),
        event(AllocationStarted, allocation(gap, w3, date(2012, 6, 4), date(2013, 1, 9))),
        # Two open episodes, no allocation: a run with no worker.
        event(EpisodeRecorded, episode(unallocated, EpisodeType.cin, date(2011, 1, 3))),
        event(EpisodeRecorded, episode(unallocated, EpisodeType.cla, date(2014, 1, 6))),
    )
    facts = await projections.load(AS_OF, 182)
    assert {r.child_id: (r.start_date, r.workers) for r in facts.current_runs} == {
        overlapping: (date(2010, 1, 4), 1),
        gap: (date(2013, 1, 8), 1),
        unallocated: (date(2011, 1, 3), 0),
    }


# -- the engine's answer does not depend on what the loader left out --------------------------------

TEAMS = ("ACIN1", "PC3", "IRO1")
CASE_HOLDERS = (Role.social_worker, Role.senior_social_worker, Role.consultant_practitioner)


def _day(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randrange((last - first).days + 1))


def _council(seed: int) -> list[BaseModel]:
    """A council's records over 2012-2016, as the producers' final payloads."""
    rng = random.Random(seed)
    records: list[BaseModel] = []
    workers: list[WorkerData] = []
    for _ in range(18):
        start = _day(rng, date(2012, 1, 1), date(2015, 10, 1))
        end = rng.choice([None, None, _day(rng, start + timedelta(days=30), date(2016, 12, 31))])
        role = rng.choice([*CASE_HOLDERS, *CASE_HOLDERS, Role.practice_manager, Role.student])
        employment = rng.choice(list(EmploymentType))
        history = [terms(start, None, role=role, team=rng.choice(TEAMS), fte=rng.choice([0.5, 0.8, 1.0]))]
        history[0] = history[0].model_copy(update={"employment_type": employment})
        if rng.random() < 0.4:
            moved = _day(rng, start + timedelta(days=1), start + timedelta(days=500))
            history = [
                history[0].model_copy(update={"effective_to": moved}),
                history[0].model_copy(update={"effective_from": moved, "team": rng.choice(TEAMS)}),
            ]
        asye = _day(rng, start, start + timedelta(days=60)) if rng.random() < 0.3 else None
        workers.append(
            worker(
                start_date=start,
                end_date=end,
                history=history,
                asye_start=asye,
                asye_end=asye + timedelta(days=365) if asye else None,
                protected_development_pct=rng.choice([None, 5.0, 10.0, 12.5]),
            )
        )
    records.extend(workers)
    for _ in range(8):
        start = _day(rng, date(2012, 1, 1), date(2015, 6, 1))
        holders = []
        day = start
        for holder in rng.sample(workers, 2):
            until = rng.choice([None, day + timedelta(days=rng.randrange(60, 600))])
            holders.append((holder.id, day, until))
            if until is None:
                break
            day = until
        records.append(
            post(
                team=rng.choice(TEAMS),
                fte=rng.choice([0.5, 1.0]),
                start_date=start,
                end_date=rng.choice([None, _day(rng, start + timedelta(days=200), date(2016, 12, 31))]),
                holders=holders,
            )
        )
    records.extend(
        placement(team=rng.choice(TEAMS), start_date=_day(rng, date(2013, 1, 1), date(2016, 9, 1)))
        for _ in range(8)
    )
    case_holders = [w for w in workers if w.history[0].role in CASE_HOLDERS] or workers
    for _ in range(40):
        child = new_id()
        day = _day(rng, date(2012, 1, 1), date(2015, 12, 1))
        for _ in range(rng.randint(1, 3)):
            end = rng.choice([None, day + timedelta(days=rng.randrange(20, 500))])
            records.append(episode(child, rng.choice(list(EpisodeType)), day, end))
            if end is None:
                break
            day = end + timedelta(days=rng.choice([0, 0, 1, 40]))
        day = _day(rng, date(2012, 1, 1), date(2015, 12, 1))
        for _ in range(rng.randint(1, 4)):
            end = rng.choice([None, day + timedelta(days=rng.randrange(10, 400))])
            records.append(allocation(child, rng.choice(case_holders).id, day, end))
            if end is None:
                break
            day = end
        for _ in range(rng.randint(0, 2)):
            start = _day(rng, date(2012, 6, 1), date(2016, 3, 1))
            done = rng.choice([None, start + timedelta(days=rng.randrange(5, 120))])
            records.append(assessment(child, start, done))
        visits = {
            (_day(rng, date(2012, 1, 1), date(2016, 3, 1)), rng.choice(list(VisitType))) for _ in range(6)
        }
        records.extend(visit(child, d, t) for d, t in visits)
        reviews = {_day(rng, date(2012, 6, 1), date(2016, 3, 1)) for _ in range(rng.randint(0, 5))}
        records.extend(review(child, d) for d in reviews)
        iro = {_day(rng, date(2012, 6, 1), date(2016, 3, 1)) for _ in range(rng.randint(0, 4))}
        records.extend(iro_visit(child, d) for d in iro)
    grades = [*Grade, None]
    for _ in range(25):
        overall = rng.choice(grades)
        records.append(
            audit(
                audit_type=rng.choice(list(AuditType)),
                team=rng.choice(TEAMS),
                completed_date=rng.choice([None, _day(rng, date(2013, 1, 1), date(2016, 3, 1))]),
                overall_grade=overall,
                moderated_grade=rng.choice([None, None, rng.choice(list(Grade))]) if overall else None,
                contact_grade=rng.choice(grades),
            )
        )
    for _ in range(30):
        returned = _day(rng, date(2013, 1, 1), date(2016, 3, 1))
        team = rng.choice([*TEAMS, None])
        score = rng.randint
        match rng.randrange(4):
            case 0:
                records.append(
                    recruitment_survey(
                        returned, team=team, place=score(1, 5), terms_and_conditions=score(1, 5)
                    )
                )
            case 1:
                records.append(
                    ExitSurveyData(
                        id=new_id(),
                        version=1,
                        returned_date=returned,
                        team=team,
                        workload_too_high=score(1, 5),
                    )
                )
            case 2:
                records.append(
                    StaffHealthCheckData(
                        id=new_id(),
                        version=1,
                        returned_date=returned,
                        team=team,
                        private_space=score(1, 5),
                    )
                )
            case _:
                records.append(
                    feedback(returned, team=team, contact_quality=score(1, 5), worker_stability=score(1, 5))
                )
    return records


_EVENT_TYPES: dict[type[BaseModel], Any] = {
    WorkerData: WorkerHired,
    PostData: PostEstablished,
    StudentPlacementData: StudentPlacementRecorded,
    RecruitmentSurveyData: RecruitmentSurveyReturned,
    ExitSurveyData: ExitSurveyReturned,
    StaffHealthCheckData: StaffHealthCheckReturned,
    EpisodeData: EpisodeRecorded,
    AllocationData: AllocationStarted,
    AssessmentData: AssessmentRecorded,
    VisitData: VisitRecorded,
    ReviewData: ReviewRecorded,
    IroVisitData: IroVisitRecorded,
    FeedbackData: FeedbackReturned,
    AuditData: AuditRecorded,
}

_SURVEY_KINDS: dict[type[BaseModel], str] = {
    RecruitmentSurveyData: "recruit_reasons",
    ExitSurveyData: "leaver_reasons",
    StaffHealthCheckData: "staff_health_check",
    FeedbackData: "child_family_experience",
}


def _every_fact(records: list[BaseModel]) -> Facts:
    """Every record as the engine reads it, nothing left out (what the loader is measured against)."""
    found: dict[str, list[Any]] = {name: [] for name in Facts.__dataclass_fields__ if name != "notes"}
    for r in records:
        if isinstance(r, WorkerData):
            history = [
                Terms(t.effective_from, t.effective_to, t.role, t.team, t.fte, t.employment_type)
                for t in r.history
            ]
            found["workers"].append(
                Worker(
                    r.id,
                    r.start_date,
                    r.end_date,
                    tuple(history),
                    r.asye_start,
                    r.asye_end,
                    r.protected_development_pct,
                    r.swe_registration_expiry,
                    r.external_id,
                    r.display_name,
                )
            )
        elif isinstance(r, PostData):
            holdings = tuple(Holding(h.worker_id, h.start_date, h.end_date) for h in r.holdings)
            found["posts"].append(Post(r.id, r.team, r.role, r.fte, r.start_date, r.end_date, holdings))
        elif isinstance(r, StudentPlacementData):
            found["placements"].append(Placement(r.id, r.team, r.start_date, r.end_date))
        elif isinstance(r, EpisodeData):
            found["episodes"].append(Episode(r.child_id, r.episode_type, r.start_date, r.end_date))
        elif isinstance(r, AllocationData):
            found["allocations"].append(Allocation(r.child_id, r.worker_id, r.start_date, r.end_date))
        elif isinstance(r, AssessmentData):
            found["assessments"].append(Assessment(r.child_id, r.start_date, r.completed_date))
        elif isinstance(r, VisitData):
            found["visits"].append(Visit(r.child_id, r.visit_date, r.visit_type))
        elif isinstance(r, ReviewData):
            found["reviews"].append(Review(r.child_id, r.review_date))
        elif isinstance(r, IroVisitData):
            found["iro_visits"].append(IroVisit(r.child_id, r.visit_date))
        elif isinstance(r, AuditData):
            contact = r.element_grades.get("contact")
            found["audits"].append(
                Audit(r.audit_id, r.audit_type, r.team, r.completed_date, r.effective_grade, contact)
            )
        elif isinstance(r, (RecruitmentSurveyData, ExitSurveyData, StaffHealthCheckData, FeedbackData)):
            kind = _SURVEY_KINDS[type(r)]
            answers = r.model_dump(include=set(SURVEY_FACTORS[kind]))
            scores = {k: v for k, v in answers.items() if v is not None}
            found["surveys"].append(SurveyReturn(kind, r.returned_date, r.team, scores))
        else:
            raise TypeError(type(r))
    return Facts(
        workers=tuple(found["workers"]),
        posts=tuple(found["posts"]),
        placements=tuple(found["placements"]),
        episodes=tuple(found["episodes"]),
        allocations=tuple(found["allocations"]),
        assessments=tuple(found["assessments"]),
        visits=tuple(found["visits"]),
        reviews=tuple(found["reviews"]),
        iro_visits=tuple(found["iro_visits"]),
        audits=tuple(found["audits"]),
        surveys=tuple(found["surveys"]),
    )


def _rounded(value: Any) -> Any:
    """Floats to 9 places, throughout (sums over records in another order may differ in the last bit)."""
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {name: _rounded(getattr(value, name)) for name in value.__dataclass_fields__}
    return value


async def test_the_engine_answers_the_same_from_the_loaded_facts_as_from_every_fact(
    projections: Projections,
) -> None:
    records = _council(seed=20150302)
    envelopes: list[CloudEvent] = [event(_EVENT_TYPES[type(r)], r) for r in records]
    await projections.apply(*envelopes)
    everything = _every_fact(records)
    days = [date(2013, 6, 28), date(2014, 4, 1), AS_OF, date(2015, 9, 30), date(2016, 3, 31)]
    compared = 0
    for window_days in (182, 30, 400):
        strategy = SLOUGH_2014_17.model_copy(update={"window_days": window_days})
        for as_of in days:
            loaded = await projections.load(as_of, window_days)
            assert len(loaded.allocations) <= len(everything.allocations)
            # The runs counted in SQL are the engine's own, child by child.
            runs = {r.child_id: (r.start_date, r.workers) for r in loaded.current_runs}
            assert runs == worker_counts(CaseIndex(everything), as_of, None), (as_of, window_days)
            for team in (None, *TEAMS):
                want = compute_kpis(everything, strategy, as_of, team)
                got = compute_kpis(loaded, strategy, as_of, team)
                assert _rounded(got) == _rounded(want), (as_of, window_days, team)
                compared += sum(1 for v in want.values() if v.value is not None)
    assert compared > 500  # the council's records give most KPIs a value on most days
