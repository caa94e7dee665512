"""The statutory returns of the caseload service: the SSDA903 social worker episodes file, imported into
the allocations and exported for the children looked after, and the Ofsted Annex A workbook's lists
imported (:mod:`steadfast_caseload.returns.annex_a_import`).

The import runs in the shared CSV engine (:func:`steadfast_shared.imports.csv.run_import`), so it has
the CSV imports' guarantees: atomic or partial, idempotent (an unchanged row writes and publishes
nothing), each bad row reported with its row, column and reason, events through the outbox. Rows are
applied set-wise, as the allocations import is: per batch one query for the children the rows name with
every allocation they have, the rules row by row in file order, one write per table.

The export streams: it reads the children looked after on 31 March a page at a time (each page in a
transaction of its own, its reads written to the access log before the page is sent) and sends each
page's rows as soon as they are made, so a large council's year neither times out nor fills memory.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import date
from typing import ClassVar

from steadfast_caseload.children.models import ChildAllocations, HeldAllocation, Outcome
from steadfast_caseload.children.repository import ChildRepository
from steadfast_caseload.directory.repository import DirectoryRepository
from steadfast_caseload.returns import ssda903
from steadfast_caseload.returns.repository import ReturnsRepository
from steadfast_caseload.returns.ssda903 import SocialWorkerEpisodeRow
from steadfast_shared.access import ChildReads
from steadfast_shared.access.reads import access_log_table_of
from steadfast_shared.access.repository import AccessLogRepository
from steadfast_shared.db import Database
from steadfast_shared.errors import ValidationFailed
from steadfast_shared.imports.csv import ParsedRow, RowError, RowOutcome
from steadfast_shared.service import Runtime
from steadfast_shared.uow import UnitOfWork

#: The children a page of the export reads (with all their allocations) before it is sent.
EXPORT_PAGE_CHILDREN = 500

#: The allocation rules' fields, as the 903 file names the columns.
_COLUMN_OF_FIELD = {"start_date": "SW_DECOM", "end_date": "SW_DEC", "reason": "SW_REASON"}
_OUTCOMES: dict[Outcome, str] = {
    Outcome.created: "created",
    Outcome.updated: "updated",
    Outcome.unchanged: "unchanged",
}


class _Refused(Exception):
    def __init__(self, column: str, reason: str, message: str, value: object = None) -> None:
        super().__init__(message)
        self.column, self.reason, self.message = column, reason, message
        self.value = None if value is None else str(value)


def _overlaps(a_start: date, a_end: date | None, b_start: date, b_end: date | None) -> bool:
    return a_start < (b_end or date.max) and b_start < (a_end or date.max)


class SocialWorkerEpisodesImporter:
    """``POST /v1/imports/ssda903-social-workers``: each row an allocation of the child to the worker,
    keyed as the allocations import keys them, by (child, worker, ``SW_DECOM``)."""

    kind = "ssda903-social-workers"
    row_model = SocialWorkerEpisodeRow
    required_columns: tuple[str, ...] = ssda903.COLUMNS
    batch_rows: ClassVar[int] = 2_000

    def __init__(self) -> None:
        #: ``SW_ID`` values resolved so far (plain ids, or None for one naming no worker).
        self._workers: dict[str, tuple[uuid.UUID, str] | None] = {}

    async def _resolve_workers(
        self, uow: UnitOfWork, rows: Sequence[ParsedRow[SocialWorkerEpisodeRow]]
    ) -> None:
        wanted = {p.data.SW_ID for p in rows} - self._workers.keys()
        if not wanted:
            return
        candidates = {ref for value in wanted for ref in ssda903.worker_references(value)}
        known = await DirectoryRepository(uow.session).resolve(candidates)
        for value in wanted:
            found = next(((known[r], r) for r in ssda903.worker_references(value) if r in known), None)
            self._workers[value] = found

    async def apply(
        self, uow: UnitOfWork, rows: list[ParsedRow[SocialWorkerEpisodeRow]]
    ) -> list[RowOutcome | RowError]:
        await self._resolve_workers(uow, rows)
        repository = ReturnsRepository(uow.session)
        children = await repository.children_with_all_allocations({p.data.CHILD for p in rows}, uow.record)
        birth_years: dict[uuid.UUID, int] = {}
        held_years = {child.id: year for child, year in children.values()}
        outcomes: list[RowOutcome | RowError] = []
        for parsed in rows:
            row = parsed.data
            try:
                found = children.get(row.CHILD)
                if found is None:
                    raise _Refused(
                        "CHILD",
                        "unknown_child",
                        f"no child {row.CHILD!r} is known: import the child (children.csv, or the API) first",
                        row.CHILD,
                    )
                child = found[0]
                outcome, allocation = self._record(child, row)
            except _Refused as exc:
                outcomes.append(
                    RowError(
                        row=parsed.row,
                        column=exc.column,
                        reason=exc.reason,
                        message=exc.message,
                        value=exc.value,
                    )
                )
                continue
            if row.DOB is not None and held_years.get(child.id) != row.DOB.year:
                held_years[child.id] = birth_years[child.id] = row.DOB.year
                if outcome is Outcome.unchanged:
                    outcome = Outcome.updated
            key = f"{row.CHILD}/{row.SW_ID}/{row.SW_DECOM.isoformat()}"
            outcomes.append(RowOutcome.of(parsed.row, _OUTCOMES[outcome], key, str(allocation.id)))  # type: ignore[arg-type]
        await ChildRepository(uow.session).save_allocations(child for child, _ in children.values())
        if birth_years:
            await repository.save_birth_years(birth_years)
        return outcomes

    def _record(self, child: ChildAllocations, row: SocialWorkerEpisodeRow) -> tuple[Outcome, HeldAllocation]:
        """The 903 file's rules, then the allocation rules (which every allocation keeps)."""
        worker = self._workers.get(row.SW_ID)
        if worker is None:
            raise _Refused(
                "SW_ID",
                "unknown_worker",
                f"no worker {row.SW_ID!r} is known to the caseload service (SW_ID is the worker's external "
                "id, or XX followed by it): import the worker into the staff service first",
                row.SW_ID,
            )
        worker_id = worker[0]
        if row.SW_DEC is not None and row.SW_DEC <= row.SW_DECOM:
            raise _Refused(
                "SW_DEC",
                "end_not_after_start",
                f"the episode ends ({row.SW_DEC:%d/%m/%Y}) on or before the day it starts "
                f"({row.SW_DECOM:%d/%m/%Y}): SW_DEC must be after SW_DECOM",
                ssda903.uk_date(row.SW_DEC),
            )
        for other in child.allocations:
            same = other.worker_id == worker_id and other.start_date == row.SW_DECOM
            if not same and _overlaps(row.SW_DECOM, row.SW_DEC, other.start_date, other.end_date):
                raise _Refused(
                    "SW_DECOM",
                    "overlapping_episode",
                    "the child has one social worker at a time: this episode overlaps the one from "
                    f"{other.start_date:%d/%m/%Y} to {ssda903.uk_date(other.end_date) or 'open'} "
                    f"(allocation {other.id})",
                    ssda903.uk_date(row.SW_DECOM),
                )
        try:
            return child.allocate(worker_id, row.SW_DECOM, row.SW_DEC, row.SW_REASON)
        except ValidationFailed as exc:
            first = exc.errors[0] if exc.errors else {}
            column = _COLUMN_OF_FIELD.get(str(first.get("field")), "SW_DECOM")
            raise _Refused(column, str(first.get("reason", exc.code)), exc.detail) from None


def _csv_lines(rows: Sequence[Sequence[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


async def social_worker_episodes_file(
    runtime: Runtime, reads: ChildReads, year: int, page_children: int | None = None
) -> AsyncIterator[bytes]:
    """The 903 social worker episodes file of the collection year ending on 31 March ``year``, in chunks:
    the header, then one chunk per page of children looked after on 31 March (in external id order),
    each child's episodes of the year as :func:`ssda903.social_worker_timeline` makes them."""
    first, last = ssda903.collection_year(year)
    size = page_children or EXPORT_PAGE_CHILDREN
    database: Database = runtime.database
    table = access_log_table_of(runtime)
    yield _csv_lines([ssda903.COLUMNS])
    after: str | None = None
    while True:
        async with database.read_sessionmaker() as session:
            repository = ReturnsRepository(session)
            page = await repository.looked_after_on(last, after, size)
            allocations = await repository.allocations_of([child_id for child_id, _ in page]) if page else {}
            await session.rollback()
        if not page:
            return
        async with database.sessionmaker() as session, session.begin():
            log = ChildReads(
                repository=AccessLogRepository(session, table),
                who=reads.who,
                purpose=reads.purpose,
                route=reads.route,
                request_id=reads.request_id,
                logged=set(),
            )
            await log.record(child_id for child_id, _ in page)
        rows: list[tuple[str, ...]] = []
        for child_id, external_id in page:
            timeline = ssda903.social_worker_timeline(allocations[child_id])
            rows.extend(ssda903.file_rows(external_id, ssda903.episodes_in_year(timeline, first, last)))
        yield _csv_lines(rows)
        if len(page) < size:
            return
        after = page[-1][1]
