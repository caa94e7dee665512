"""The caseload CSV imports of SPEC section 4: ``children``, ``allocations``, ``assessments``, ``visits``,
``reviews`` and ``iro_visits``, run by the shared engine (:mod:`steadfast_shared.imports.csv`).

Every row is an upsert on the child aggregate by the record's key: an episode by (child, episode_type,
episode_start), an allocation by (child, worker, start_date), an assessment by its ``external_id``, a
visit by (child, visit_date, visit_type), a review by (child, review_date), an IRO visit by (child,
visit_date). The aggregate's ``record_*`` methods decide created / updated / unchanged, so a file
imported twice changes nothing and publishes nothing the second time.

The engine hands over batches of parsed rows. Per batch the importer loads the children the batch
names in one query per collection it needs (locked ``FOR UPDATE``), resolves workers in one query (and
remembers them for the rest of the file: ids are plain values, never ORM objects), then applies the
rows in file order. No savepoint is needed per row: every rule of the aggregate is checked before it
changes anything, and the checks the aggregate cannot make (an unknown child or worker, an assessment
id that belongs to another child) are made here before calling it, so a rejected row writes nothing
and partial mode keeps exactly the good rows. A new child in ``children.csv`` is added to the session
only once its first episode is accepted.

Allocations, the largest extract, are applied set-wise: the batch's children and their allocations are
read as plain values (:class:`~steadfast_caseload.children.models.ChildAllocations`, two queries), the
aggregate's own allocation rules are checked row by row in file order, and the batch is written in one
statement per table (``COPY`` on PostgreSQL), with exactly the events ``Child.allocate`` records.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar

from pydantic import ConfigDict, StringConstraints
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from steadfast_caseload.children.models import Assessment, Child, Outcome
from steadfast_caseload.children.repository import ALLOCATIONS, ChildRepository
from steadfast_caseload.directory.repository import DirectoryRepository
from steadfast_shared.codes import AllocationChangeReason, EpisodeType, VisitType
from steadfast_shared.db import as_uuid
from steadfast_shared.db.bulk import FillingTables
from steadfast_shared.errors import ValidationFailed
from steadfast_shared.imports.csv import Importer, ParsedRow, RowError, RowOutcome
from steadfast_shared.schemas import ExternalId, Input
from steadfast_shared.uow import UnitOfWork

Ref = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class _Row(Input):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ChildEpisodeRow(_Row):
    """``children.csv``: one row per episode; a new ``external_id`` registers the child."""

    external_id: ExternalId
    episode_type: EpisodeType
    episode_start: date
    episode_end: date | None = None


class AllocationRow(_Row):
    child_external_id: Ref
    worker_external_id: Ref
    start_date: date
    end_date: date | None = None
    #: Why the child's worker changed (SSDA903 codes); an optional extra column.
    reason: AllocationChangeReason | None = None


class AssessmentRow(_Row):
    external_id: ExternalId
    child_external_id: Ref
    start_date: date
    completed_date: date | None = None


class VisitRow(_Row):
    child_external_id: Ref
    visit_date: date
    visit_type: VisitType
    #: An optional extra column (true/false, yes/no, 1/0); a file without it leaves the value held.
    seen_alone: bool | None = None


class ReviewRow(_Row):
    child_external_id: Ref
    review_date: date


class IroVisitRow(_Row):
    child_external_id: Ref
    visit_date: date


RowT = TypeVar("RowT", bound=_Row)

_OUTCOMES: dict[Outcome, Literal["created", "updated", "unchanged"]] = {
    Outcome.created: "created",
    Outcome.updated: "updated",
    Outcome.unchanged: "unchanged",
}


class _Rejected(Exception):
    """A row the importer refuses before the aggregate sees it (unknown child or worker...)."""

    def __init__(self, column: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.column, self.reason, self.message = column, reason, message


def _rejection(parsed: ParsedRow[Any], exc: ValidationFailed | _Rejected) -> RowError:
    column: str | None
    if isinstance(exc, _Rejected):
        column, reason, message = exc.column, exc.reason, exc.message
    else:
        first = exc.errors[0] if exc.errors else {}
        column = first.get("field")
        reason = str(first.get("reason", exc.code))
        # Name the record the row conflicts with (an allocation's id, say) where the rule gives one.
        extra = {k: v for k, v in first.items() if k not in {"field", "reason", "rule"}}
        message = exc.detail + "".join(f" ({k.replace('_', ' ')} {v})" for k, v in extra.items())
    raw = getattr(parsed.data, column, None) if column else None
    return RowError(
        row=parsed.row,
        column=column,
        reason=reason,
        message=message,
        value=None if raw is None else str(raw),
    )


class ChildRecordsImporter(Generic[RowT]):
    """One import kind: rows that each record one thing about one child."""

    kind: str
    row_model: type[RowT]
    required_columns: tuple[str, ...]
    #: The child's collections the rows touch (loaded per batch, one query each).
    load: ClassVar[tuple[str, ...]]
    #: The column naming the child.
    child_column: ClassVar[str] = "child_external_id"
    #: Whether a row may name a child not yet known (``children.csv`` registers it).
    registers_children: ClassVar[bool] = False

    async def apply(self, uow: UnitOfWork, rows: list[ParsedRow[RowT]]) -> list[RowOutcome | RowError]:
        session = uow.session
        children = await self._children(session, {self._child_ref(p.data) for p in rows})
        await self.prepare(session, rows)
        outcomes: list[RowOutcome | RowError] = []
        for parsed in rows:
            try:
                outcome, record_id = self._apply_row(session, children, parsed.data)
            except (ValidationFailed, _Rejected) as exc:
                outcomes.append(_rejection(parsed, exc))
                continue
            outcomes.append(
                RowOutcome(
                    row=parsed.row, outcome=_OUTCOMES[outcome], key=self.key(parsed.data), id=str(record_id)
                )
            )
        return outcomes

    def _apply_row(self, session: AsyncSession, children: dict[str, Child], row: RowT) -> tuple[Outcome, Any]:
        ref = self._child_ref(row)
        child = children.get(ref)
        if child is not None:
            outcome, record = self.record(child, row)
            return outcome, record.id
        if not self.registers_children:
            raise self._unknown_child(ref)
        # A new child is kept only if its first record is accepted (rules are checked before anything).
        child = Child.register(ref)
        outcome, record = self.record(child, row)
        session.add(child)
        children[ref] = child
        return outcome, record.id

    def _unknown_child(self, ref: str) -> _Rejected:
        return _Rejected(
            self.child_column,
            "unknown_child",
            f"no child {ref!r} is known: import it in children.csv (or by the API) first",
        )

    def _child_ref(self, row: RowT) -> str:
        ref: str = getattr(row, self.child_column)
        return ref

    async def _children(self, session: AsyncSession, refs: set[str]) -> dict[str, Child]:
        """The known children among ``refs``, by external id or (outside children.csv) by the service's id."""
        children = await ChildRepository(session).by_external_ids(refs, for_update=True, load=self.load)
        if self.registers_children:
            return children
        ids = {ref: as_uuid(ref) for ref in refs - children.keys()}
        wanted = {i for i in ids.values() if i is not None}
        if wanted:
            query = (
                select(Child)
                .where(Child.id.in_(wanted))
                .options(*(selectinload(getattr(Child, name)) for name in self.load))
                .with_for_update(of=Child)
            )
            found = {c.id: c for c in (await session.scalars(query)).all()}
            children.update({ref: found[i] for ref, i in ids.items() if i is not None and i in found})
        return children

    async def prepare(self, session: AsyncSession, rows: Sequence[ParsedRow[RowT]]) -> None:
        """Load what the batch needs beyond its children (one query), before any row is applied."""

    def key(self, row: RowT) -> str:
        raise NotImplementedError

    def record(self, child: Child, row: RowT) -> tuple[Outcome, Any]:
        """Apply ``row`` to ``child``; raise before changing anything if a rule is broken."""
        raise NotImplementedError


class ChildrenImporter(ChildRecordsImporter[ChildEpisodeRow]):
    kind = "children"
    row_model = ChildEpisodeRow
    required_columns: tuple[str, ...] = ("external_id", "episode_type", "episode_start", "episode_end")
    load = ("episodes",)
    child_column = "external_id"
    registers_children = True

    def key(self, row: ChildEpisodeRow) -> str:
        return f"{row.external_id}/{row.episode_type.value}/{row.episode_start.isoformat()}"

    def record(self, child: Child, row: ChildEpisodeRow) -> tuple[Outcome, Any]:
        return child.record_episode(row.episode_type, row.episode_start, row.episode_end)


class AllocationsImporter(ChildRecordsImporter[AllocationRow]):
    kind = "allocations"
    row_model = AllocationRow
    required_columns: tuple[str, ...] = ("child_external_id", "worker_external_id", "start_date", "end_date")
    load = ("allocations",)
    #: Rows per batch: each batch costs a few round trips whatever its size, and holds at most this many
    #: rows with their children's allocations (plain values) in memory.
    batch_rows: ClassVar[int] = 2_000

    def __init__(self) -> None:
        #: Worker references resolved so far in this file (plain ids: safe to keep across batches).
        self._workers: dict[str, uuid.UUID] = {}
        #: The batches' lookups read the allocations by child: keep their statistics in step as they fill.
        self._filling = FillingTables(ALLOCATIONS)

    async def prepare(self, session: AsyncSession, rows: Sequence[ParsedRow[AllocationRow]]) -> None:
        wanted = {p.data.worker_external_id for p in rows} - self._workers.keys()
        if wanted:
            self._workers.update(await DirectoryRepository(session).resolve(wanted))

    def _worker(self, ref: str) -> uuid.UUID:
        worker_id = self._workers.get(ref)
        if worker_id is None:
            raise _Rejected(
                "worker_external_id",
                "unknown_worker",
                f"no worker {ref!r} is known to the caseload service: import the worker into the staff "
                "service first (the directory learns workers from the staff events)",
            )
        return worker_id

    async def apply(
        self, uow: UnitOfWork, rows: list[ParsedRow[AllocationRow]]
    ) -> list[RowOutcome | RowError]:
        """Set-wise: the batch's workers (known ones are remembered), then its children with their
        allocations to those workers as plain values (one query), the aggregate's rules per row in file
        order (:class:`ChildAllocations`), then one write per table."""
        repository = ChildRepository(uow.session)
        await self.prepare(uow.session, rows)
        workers = self._workers
        pairs = {(p.data.child_external_id, workers.get(p.data.worker_external_id)) for p in rows}
        children = await repository.allocations_of(pairs, uow.record)
        outcomes: list[RowOutcome | RowError] = []
        for parsed in rows:
            row = parsed.data
            try:
                child = children.get(row.child_external_id)
                if child is None:
                    raise self._unknown_child(row.child_external_id)
                worker_id = workers.get(row.worker_external_id) or self._worker(row.worker_external_id)
                outcome, allocation = child.allocate(worker_id, row.start_date, row.end_date, row.reason)
            except (ValidationFailed, _Rejected) as exc:
                outcomes.append(_rejection(parsed, exc))
                continue
            outcomes.append(RowOutcome.of(parsed.row, _OUTCOMES[outcome], self.key(row), str(allocation.id)))
        written = await repository.save_allocations(children.values())
        await self._filling.wrote(uow.session, written)
        return outcomes

    def key(self, row: AllocationRow) -> str:
        return f"{row.child_external_id}/{row.worker_external_id}/{row.start_date.isoformat()}"

    def record(self, child: Child, row: AllocationRow) -> tuple[Outcome, Any]:
        return child.allocate(self._worker(row.worker_external_id), row.start_date, row.end_date, row.reason)


class AssessmentsImporter(ChildRecordsImporter[AssessmentRow]):
    kind = "assessments"
    row_model = AssessmentRow
    required_columns: tuple[str, ...] = ("external_id", "child_external_id", "start_date", "completed_date")
    load = ("assessments",)

    def __init__(self) -> None:
        #: The child each assessment of the current batch belongs to (an assessment id is unique).
        self._owners: dict[str, uuid.UUID] = {}

    async def prepare(self, session: AsyncSession, rows: Sequence[ParsedRow[AssessmentRow]]) -> None:
        wanted = list({p.data.external_id for p in rows})
        query = select(Assessment.external_id, Assessment.child_id).where(Assessment.external_id.in_(wanted))
        self._owners = {external_id: child_id for external_id, child_id in await session.execute(query)}

    def key(self, row: AssessmentRow) -> str:
        return row.external_id

    def record(self, child: Child, row: AssessmentRow) -> tuple[Outcome, Any]:
        owner = self._owners.get(row.external_id)
        if owner is not None and owner != child.id:
            raise _Rejected(
                "child_external_id",
                "assessment_of_another_child",
                f"the assessment {row.external_id!r} belongs to another child ({owner}); an assessment "
                "cannot move between children",
            )
        result = child.record_assessment(row.external_id, row.start_date, row.completed_date)
        self._owners[row.external_id] = child.id
        return result


class VisitsImporter(ChildRecordsImporter[VisitRow]):
    kind = "visits"
    row_model = VisitRow
    required_columns: tuple[str, ...] = ("child_external_id", "visit_date", "visit_type")
    load = ("episodes", "visits")

    def key(self, row: VisitRow) -> str:
        return f"{row.child_external_id}/{row.visit_date.isoformat()}/{row.visit_type.value}"

    def record(self, child: Child, row: VisitRow) -> tuple[Outcome, Any]:
        seen_alone = row.seen_alone
        if "seen_alone" not in row.model_fields_set:
            # A file without the column says nothing about it: keep what is held (an empty cell clears it).
            held = next(
                (v for v in child.visits if (v.visit_date, v.visit_type) == (row.visit_date, row.visit_type)),
                None,
            )
            seen_alone = held.seen_alone if held is not None else None
        return child.record_visit(row.visit_date, row.visit_type, seen_alone)


class ReviewsImporter(ChildRecordsImporter[ReviewRow]):
    kind = "reviews"
    row_model = ReviewRow
    required_columns: tuple[str, ...] = ("child_external_id", "review_date")
    load = ("reviews",)

    def key(self, row: ReviewRow) -> str:
        return f"{row.child_external_id}/{row.review_date.isoformat()}"

    def record(self, child: Child, row: ReviewRow) -> tuple[Outcome, Any]:
        return child.record_review(row.review_date)


class IroVisitsImporter(ChildRecordsImporter[IroVisitRow]):
    kind = "iro_visits"
    row_model = IroVisitRow
    required_columns: tuple[str, ...] = ("child_external_id", "visit_date")
    load = ("iro_visits",)

    def key(self, row: IroVisitRow) -> str:
        return f"{row.child_external_id}/{row.visit_date.isoformat()}"

    def record(self, child: Child, row: IroVisitRow) -> tuple[Outcome, Any]:
        return child.record_iro_visit(row.visit_date)


IMPORTERS: dict[str, type[Importer[Any]]] = {
    "children": ChildrenImporter,
    "allocations": AllocationsImporter,
    "assessments": AssessmentsImporter,
    "visits": VisitsImporter,
    "reviews": ReviewsImporter,
    "iro_visits": IroVisitsImporter,
}
