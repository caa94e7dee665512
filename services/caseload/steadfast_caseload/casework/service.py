"""Casework use cases: a child's assessments, statutory visits, reviews and IRO visits, and the two
watch lists a team manager needs: visits overdue or due soon, and open assessments nearing 45 working
days. The rules on the records live in the child aggregate; the date arithmetic of the watch lists is
the shared library's (:mod:`steadfast_shared.strategy.rules`, the metrics service's KPIs use the same),
with the visit intervals of the strategy in force (SPEC section 3)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from steadfast_caseload.casework.repository import CaseFilter, CaseworkRepository
from steadfast_caseload.casework.schemas import (
    AllocatedWorker,
    AssessmentApproaching,
    AssessmentCreate,
    AssessmentsApproachingReport,
    AssessmentUpdate,
    ChildVisitsDue,
    VisitCreate,
    VisitDue,
    VisitsDueReport,
)
from steadfast_caseload.children.models import Assessment, Child, IroVisit, Outcome, Review, Visit
from steadfast_caseload.children.repository import ChildRepository
from steadfast_caseload.directory.models import DirectoryWorker
from steadfast_caseload.directory.repository import DirectoryRepository
from steadfast_caseload.strategy.service import StrategyService
from steadfast_shared.codes import EpisodeType
from steadfast_shared.domain import Precondition
from steadfast_shared.errors import Conflict, NotFound, ValidationFailed
from steadfast_shared.strategy import SHIPPED_STRATEGY, VisitIntervals
from steadfast_shared.strategy.rules import (
    ASSESSMENT_TIMESCALE_WORKING_DAYS,
    assessment_working_days,
    assessment_working_days_left,
    visit_due_date,
    visit_reference_date,
)

__all__ = [
    "ASSESSMENT_TIMESCALE_WORKING_DAYS",
    "AssessmentProgress",
    "CaseworkService",
    "VisitIntervals",
    "assessment_progress",
    "visit_due",
]


def visit_due(
    episode_type: EpisodeType,
    episode_start: date,
    last_visit: date | None,
    as_of: date,
    intervals: VisitIntervals,
) -> VisitDue:
    """When the next statutory visit of an active ``cp`` / ``cla`` episode is due, as seen on ``as_of``.

    The reference date is the latest visit on or after the episode's start (and on or before ``as_of``),
    else the start; the visit is in time while ``as_of`` is no later than the due date (the shared
    rules, :mod:`steadfast_shared.strategy.rules`, with the intervals of the strategy in force).
    """
    reference = visit_reference_date(episode_start, [] if last_visit is None else [last_visit], as_of)
    due = visit_due_date(episode_type, reference, intervals)
    return VisitDue(
        episode_type=episode_type,
        episode_start=episode_start,
        reference_date=reference,
        due_date=due,
        days_overdue=(as_of - due).days,
        overdue=as_of > due,
    )


@dataclass(frozen=True)
class AssessmentProgress:
    working_days_elapsed: int
    working_days_left: int
    overdue: bool


def assessment_progress(start_date: date, as_of: date) -> AssessmentProgress:
    """How far an assessment still open on ``as_of`` is into its 45 working days (bank holidays excluded)."""
    left = assessment_working_days_left(start_date, as_of)
    return AssessmentProgress(
        working_days_elapsed=assessment_working_days(start_date, as_of),
        working_days_left=left,
        overdue=left < 0,
    )


def _unknown_child(ref: str) -> NotFound:
    return NotFound(f"no child {ref!r}", errors=[{"field": "child", "reason": "unknown_child"}])


class CaseworkService:
    def __init__(
        self,
        children: ChildRepository,
        casework: CaseworkRepository,
        directory: DirectoryRepository,
        strategy: StrategyService | None = None,
    ) -> None:
        self.children = children
        self.casework = casework
        self.directory = directory
        #: Where the visit intervals come from (the strategy in force); only the visits-due list needs it.
        self.strategy = strategy

    async def visit_intervals(self) -> VisitIntervals:
        if self.strategy is None:
            return SHIPPED_STRATEGY.visit_intervals
        return (await self.strategy.in_force()).document.visit_intervals

    async def child(self, ref: str, *, for_update: bool = False, load: Sequence[str] = ()) -> Child:
        child = await self.children.get(ref, for_update=for_update, load=load)
        if child is None:
            raise _unknown_child(ref)
        return child

    # -- assessments ------------------------------------------------------------------------------

    async def record_assessment(self, ref: str, body: AssessmentCreate) -> tuple[Outcome, Assessment]:
        child = await self.child(ref, for_update=True, load=("assessments",))
        owner = await self.casework.assessment_child(body.external_id)
        if owner is not None and owner != child.id:
            raise Conflict(
                f"assessment {body.external_id!r} belongs to another child",
                errors=[{"field": "external_id", "reason": "assessment_of_another_child"}],
            )
        return child.record_assessment(body.external_id, body.start_date, body.completed_date)

    async def get_assessment(self, ref: str, assessment_ref: str) -> Assessment:
        child = await self.child(ref, load=("assessments",))
        return self._assessment_of(child, assessment_ref)

    async def update_assessment(
        self, ref: str, assessment_ref: str, body: AssessmentUpdate, precondition: Precondition | None = None
    ) -> Assessment:
        child = await self.child(ref, for_update=True, load=("assessments",))
        if precondition is not None:
            precondition(child.version)
        assessment = self._assessment_of(child, assessment_ref)
        changes = body.model_dump(exclude_unset=True)
        start = changes.get("start_date", assessment.start_date)
        completed = changes.get("completed_date", assessment.completed_date)
        _, assessment = child.record_assessment(assessment.external_id, start, completed)
        return assessment

    @staticmethod
    def _assessment_of(child: Child, assessment_ref: str) -> Assessment:
        found = next(
            (a for a in child.assessments if assessment_ref in (str(a.id), a.external_id)),
            None,
        )
        if found is None:
            raise NotFound(
                f"child {child.external_id!r} has no assessment {assessment_ref!r}",
                errors=[{"field": "assessment", "reason": "unknown_assessment"}],
            )
        return found

    async def assessments(self, ref: str) -> Sequence[Assessment]:
        return await self.casework.assessments_of((await self.child(ref)).id)

    # -- visits, reviews, IRO visits --------------------------------------------------------------

    async def record_visit(self, ref: str, body: VisitCreate) -> tuple[Outcome, Visit]:
        child = await self.child(ref, for_update=True, load=("episodes", "visits"))
        return child.record_visit(body.visit_date, body.visit_type, body.seen_alone)

    async def visits(self, ref: str) -> Sequence[Visit]:
        return await self.casework.visits_of((await self.child(ref)).id)

    async def record_review(self, ref: str, review_date: date) -> tuple[Outcome, Review]:
        child = await self.child(ref, for_update=True, load=("reviews",))
        return child.record_review(review_date)

    async def reviews(self, ref: str) -> Sequence[Review]:
        return await self.casework.reviews_of((await self.child(ref)).id)

    async def record_iro_visit(self, ref: str, visit_date: date) -> tuple[Outcome, IroVisit]:
        child = await self.child(ref, for_update=True, load=("iro_visits",))
        return child.record_iro_visit(visit_date)

    async def iro_visits(self, ref: str) -> Sequence[IroVisit]:
        return await self.casework.iro_visits_of((await self.child(ref)).id)

    # -- the watch lists --------------------------------------------------------------------------

    async def visits_due(
        self, *, as_of: date, within_days: int, team: str | None = None, worker: str | None = None
    ) -> VisitsDueReport:
        """Children with an active ``cp`` or ``cla`` episode whose visit is overdue on ``as_of`` or due
        within ``within_days`` calendar days, most overdue first."""
        rows = await self.casework.statutory_episodes(as_of, await self._filter(team, worker))
        intervals = await self.visit_intervals()
        per_child: dict[uuid.UUID, tuple[str, dict[EpisodeType, VisitDue]]] = {}
        for row in rows:
            due = visit_due(row.episode_type, row.start_date, row.last_visit, as_of, intervals)
            _, by_type = per_child.setdefault(row.child_id, (row.child_external_id, {}))
            held = by_type.get(row.episode_type)
            # Two active episodes of one type: the stricter (earlier) due date holds.
            if held is None or due.due_date < held.due_date:
                by_type[row.episode_type] = due
        horizon = as_of + timedelta(days=within_days)
        listed: list[tuple[uuid.UUID, str, list[VisitDue]]] = []
        for child_id, (external_id, by_type) in per_child.items():
            dues = sorted(by_type.values(), key=lambda d: (d.due_date, d.episode_type))
            if dues[0].due_date <= horizon:
                listed.append((child_id, external_id, dues))
        workers = await self._workers_on([c for c, _, _ in listed], as_of)
        children = [
            ChildVisitsDue(
                child_id=child_id,
                child_external_id=external_id,
                episode_type=dues[0].episode_type,
                reference_date=dues[0].reference_date,
                due_date=dues[0].due_date,
                days_overdue=dues[0].days_overdue,
                overdue=dues[0].overdue,
                due=dues,
                workers=workers.get(child_id, []),
            )
            for child_id, external_id, dues in listed
        ]
        children.sort(key=lambda c: (c.due_date, c.child_external_id))
        return VisitsDueReport(as_of=as_of, within_days=within_days, children=children)

    async def assessments_approaching(
        self,
        *,
        as_of: date,
        within_working_days: int,
        team: str | None = None,
        worker: str | None = None,
    ) -> AssessmentsApproachingReport:
        """Assessments open on ``as_of`` with at most ``within_working_days`` working days left of 45
        (overdue ones included), fewest days left first."""
        rows = await self.casework.open_assessments(as_of, await self._filter(team, worker))
        approaching = [
            (row, progress)
            for row in rows
            if (progress := assessment_progress(row.start_date, as_of)).working_days_left
            <= within_working_days
        ]
        workers = await self._workers_on([row.child_id for row, _ in approaching], as_of)
        assessments = []
        for row, progress in approaching:
            allocated = workers.get(row.child_id, [])
            assessments.append(
                AssessmentApproaching(
                    assessment_id=row.assessment_id,
                    external_id=row.external_id,
                    child_id=row.child_id,
                    child_external_id=row.child_external_id,
                    start_date=row.start_date,
                    working_days_elapsed=progress.working_days_elapsed,
                    working_days_left=progress.working_days_left,
                    overdue=progress.overdue,
                    workers=allocated,
                    teams=sorted({w.team for w in allocated if w.team is not None}),
                )
            )
        assessments.sort(key=lambda a: (a.working_days_left, a.external_id))
        return AssessmentsApproachingReport(
            as_of=as_of,
            within_working_days=within_working_days,
            timescale_working_days=ASSESSMENT_TIMESCALE_WORKING_DAYS,
            assessments=assessments,
        )

    async def _filter(self, team: str | None, worker: str | None) -> CaseFilter:
        worker_id: uuid.UUID | None = None
        if worker is not None:
            worker_id = (await self.directory.resolve([worker])).get(worker)
            if worker_id is None:
                raise ValidationFailed.field("worker", "unknown_worker", f"no worker {worker!r}")
        return CaseFilter(worker_id=worker_id, team=team)

    async def _workers_on(
        self, child_ids: Sequence[uuid.UUID], as_of: date
    ) -> dict[uuid.UUID, list[AllocatedWorker]]:
        allocated = await self.casework.allocated_on(child_ids, as_of)
        directory = await self.directory.with_terms({w for ws in allocated.values() for w in ws})
        return {
            child_id: [_allocated_worker(directory[w], as_of) for w in worker_ids if w in directory]
            for child_id, worker_ids in allocated.items()
        }


def _allocated_worker(worker: DirectoryWorker, as_of: date) -> AllocatedWorker:
    terms = worker.terms_on(as_of)
    return AllocatedWorker(
        id=worker.id,
        external_id=worker.external_id,
        display_name=worker.display_name,
        role=terms.role if terms is not None else None,
        team=terms.team if terms is not None else None,
    )
