"""``POST /v1/imports/annex-a``: the Annex A workbook's lists 4, 6, 7 and 8 into children, episodes,
assessments, visits, reviews, IRO visits and allocations, through the caseload imports' own importers.

The workbook is spooled (as every import body is, capped at the import size) and read with openpyxl in
read-only mode, a row at a time. A workbook with macros is refused; a formula in a cell that is read is
a row error. Each row's cells are read first (a bad date, a missing child id, an unknown worker: the row
is refused and nothing of it is written); the good rows are then applied in batches, the episodes first
(a row whose episode breaks a rule goes no further), then the records that hang off the child, by the
same importers and rules as the CSV files. Atomic mode writes nothing if any row is refused.
"""

from __future__ import annotations

import uuid
import zipfile
from collections.abc import Sequence
from datetime import date
from typing import Any

import openpyxl
from sqlalchemy import select

from steadfast_caseload.children.models import Outcome
from steadfast_caseload.children.repository import ChildRepository
from steadfast_caseload.directory.models import DirectoryWorker
from steadfast_caseload.imports.importers import (
    AssessmentRow,
    AssessmentsImporter,
    ChildEpisodeRow,
    ChildRecordsImporter,
    ChildrenImporter,
    IroVisitRow,
    IroVisitsImporter,
    ReviewRow,
    ReviewsImporter,
    VisitRow,
    VisitsImporter,
)
from steadfast_caseload.returns import annex_a
from steadfast_caseload.returns.annex_a import CellError, ListRow
from steadfast_caseload.returns.repository import ReturnsRepository
from steadfast_caseload.returns.schemas import AnnexAResult, SheetReport
from steadfast_shared.errors import UnsupportedMediaType, ValidationFailed
from steadfast_shared.imports.csv import MAX_LISTED, ImportCounts, ImportMode, ParsedRow, RowError, RowOutcome
from steadfast_shared.uow import UnitOfWork

BATCH_ROWS = 500
#: How far down a sheet its header row is looked for.
HEADER_SEARCH_ROWS = 10


def _normalised_name(name: str) -> str:
    return " ".join(name.split()).casefold()


class _Workers:
    """The directory's workers by external id and by name (Annex A names the allocated worker)."""

    def __init__(self, rows: Sequence[tuple[uuid.UUID, str, str]]) -> None:
        self.by_external_id = {external_id: worker_id for worker_id, external_id, _ in rows}
        self.by_name: dict[str, set[uuid.UUID]] = {}
        for worker_id, _, name in rows:
            self.by_name.setdefault(_normalised_name(name), set()).add(worker_id)

    def find(self, ref: str) -> uuid.UUID:
        if ref in self.by_external_id:
            return self.by_external_id[ref]
        found = self.by_name.get(_normalised_name(ref), set())
        if len(found) == 1:
            return next(iter(found))
        if found:
            raise CellError(
                annex_a.WORKER,
                "ambiguous_worker",
                f"{len(found)} workers are named {ref!r}: name the worker by external id",
                ref,
            )
        raise CellError(
            annex_a.WORKER,
            "unknown_worker",
            f"no worker {ref!r} is known to the caseload service (by external id or name): import the "
            "worker into the staff service first",
            ref,
        )


class AnnexAImport:
    def __init__(self, uow: UnitOfWork, mode: ImportMode, as_of: date) -> None:
        self.uow, self.mode, self.as_of = uow, mode, as_of
        self.result = AnnexAResult(
            kind="annex-a",
            mode=mode,
            committed=True,
            counts=ImportCounts(),
            created=[],
            updated=[],
            unchanged=[],
            rejected=[],
            as_of=as_of,
        )
        self._importers: dict[str, Any] = {
            "children": ChildrenImporter(),
            "assessments": AssessmentsImporter(),
            "visits": VisitsImporter(),
            "reviews": ReviewsImporter(),
            "iro_visits": IroVisitsImporter(),
        }
        self._workers: _Workers | None = None

    async def run(self, body: Any) -> AnnexAResult:
        try:
            with zipfile.ZipFile(body) as archive:
                if any(name.lower().endswith("vbaproject.bin") for name in archive.namelist()):
                    raise UnsupportedMediaType(
                        "the workbook holds macros: save it as an .xlsx workbook without them",
                        errors=[{"field": "body", "reason": "macros"}],
                    )
            body.seek(0)
            workbook = openpyxl.load_workbook(body, read_only=True, data_only=False, keep_links=False)
        except (zipfile.BadZipFile, KeyError, OSError) as exc:
            raise UnsupportedMediaType(
                f"the body is not an .xlsx workbook ({exc})", errors=[{"field": "body", "reason": "not_xlsx"}]
            ) from None
        rows = await self.uow.session.execute(
            select(DirectoryWorker.id, DirectoryWorker.external_id, DirectoryWorker.display_name)
        )
        self._workers = _Workers([tuple(r) for r in rows.all()])  # type: ignore[misc]
        try:
            for sheet in workbook.worksheets:
                number = annex_a.list_number(sheet.title)
                layout = annex_a.LISTS.get(number) if number is not None else None
                if layout is None:
                    self.result.ignored_sheets.append(sheet.title)
                    continue
                await self._sheet(sheet, layout)
        finally:
            workbook.close()
        self.result.rejected.sort(key=lambda e: (e.column or "", e.row))
        if self.mode is ImportMode.atomic and self.result.counts.rejected:
            self.result.committed = False
            self.result.counts.created = self.result.counts.updated = self.result.counts.unchanged = 0
            self.result.created, self.result.updated, self.result.unchanged = [], [], []
        return self.result

    async def _sheet(self, sheet: Any, layout: annex_a.ListLayout) -> None:
        report = SheetReport(sheet=sheet.title, annex_a_list=layout.number)
        self.result.sheets.append(report)
        cells_of = sheet.iter_rows()
        columns: list[str] | None = None
        header_row = 0
        batch: list[ListRow] = []
        for number, cells in enumerate(cells_of, start=1):
            if columns is None:
                names = [annex_a.header_name(c.value) for c in cells]
                if annex_a.CHILD in names:
                    columns, header_row = names, number
                    missing = [c for c in (annex_a.CHILD, layout.start) if c not in names]
                    duplicated = sorted({c for c in names if c and names.count(c) > 1})
                    if missing or duplicated:
                        raise ValidationFailed(
                            f"{sheet.title}: the header lacks {', '.join(missing)}"
                            if missing
                            else f"{sheet.title}: the header repeats {', '.join(duplicated)}",
                            errors=[
                                {"field": f"{sheet.title}: {c}", "row": number, "reason": "missing_column"}
                                for c in missing
                            ]
                            + [
                                {"field": f"{sheet.title}: {c}", "row": number, "reason": "duplicate_column"}
                                for c in duplicated
                            ],
                        )
                    report.ignored_columns = [
                        c for c in names if c and c not in layout.read and c in layout.layout
                    ]
                    report.unknown_columns = [c for c in names if c and c not in layout.layout]
                elif number >= HEADER_SEARCH_ROWS:
                    raise ValidationFailed(
                        f"{sheet.title}: no header row naming {annex_a.CHILD!r} in its first "
                        f"{HEADER_SEARCH_ROWS} rows",
                        errors=[
                            {"field": f"{sheet.title}: {annex_a.CHILD}", "row": 1, "reason": "missing_column"}
                        ],
                    )
                continue
            values = {
                columns[i]: (c.value, c.data_type)
                for i, c in enumerate(cells)
                if i < len(columns) and columns[i]
            }
            if all(annex_a._blank(v) for v, _ in values.values()):
                continue
            report.rows += 1
            self.result.counts.rows += 1
            try:
                row = annex_a.read_row(sheet.title, number, layout, values)
                if row.worker is not None and self._open_on_as_of(row):
                    assert self._workers is not None
                    self._workers.find(row.worker)
            except CellError as exc:
                self._reject(sheet.title, number, exc.column, exc.reason, exc.message, exc.value)
                continue
            report.warnings.extend(f"row {number}: {w}" for w in row.warnings)
            batch.append(row)
            if len(batch) >= BATCH_ROWS:
                await self._apply(batch)
                batch = []
        if batch:
            await self._apply(batch)
        del header_row

    def _open_on_as_of(self, row: ListRow) -> bool:
        end = annex_a.episode_end(row)
        return row.start <= self.as_of and (end is None or self.as_of < end)

    def _reject(
        self, sheet: str, row: int, column: str | None, reason: str, message: str, value: str | None
    ) -> None:
        self.result.counts.rejected += 1
        if len(self.result.rejected) < MAX_LISTED:
            self.result.rejected.append(
                RowError(
                    row=row,
                    column=f"{sheet}: {column}" if column else sheet,
                    reason=reason,
                    message=message,
                    value=value,
                )
            )
        else:
            self.result.truncated = True

    def _outcome(self, sheet: str, outcome: RowOutcome) -> None:
        kind = outcome.outcome
        setattr(self.result.counts, kind, getattr(self.result.counts, kind) + 1)
        target = getattr(self.result, kind)
        if len(target) < MAX_LISTED:
            target.append(
                RowOutcome(row=outcome.row, outcome=kind, key=f"{sheet}/{outcome.key}", id=outcome.id)
            )
        else:
            self.result.truncated = True

    async def _through(self, kind: str, rows: list[tuple[ListRow, Any]], columns: dict[str, str]) -> set[int]:
        """Apply ``rows`` (the list row and the importer's row model) with the ``kind`` importer; answers
        the ids (``id()``) of the list rows refused."""
        if not rows:
            return set()
        importer: ChildRecordsImporter[Any] = self._importers[kind]
        outcomes = await importer.apply(
            self.uow, [ParsedRow(row=n, data=data) for n, (_, data) in enumerate(rows)]
        )
        refused: set[int] = set()
        for (row, _), outcome in zip(rows, outcomes, strict=True):
            if isinstance(outcome, RowError):
                refused.add(id(row))
                column = columns.get(outcome.column or "", outcome.column)
                self._reject(row.sheet, row.row, column, outcome.reason, outcome.message, outcome.value)
            else:
                self._outcome(
                    row.sheet,
                    RowOutcome(
                        row=row.row, outcome=outcome.outcome, key=f"{kind}/{outcome.key}", id=outcome.id
                    ),
                )
        return refused

    async def _apply(self, batch: list[ListRow]) -> None:
        layout_columns = lambda row: {  # noqa: E731
            "episode_start": row.layout.start,
            "episode_end": row.layout.end or row.layout.start,
            "start_date": row.layout.start,
            "completed_date": row.layout.end or row.layout.start,
            "visit_date": row.layout.visit or row.layout.start,
            "review_date": row.layout.review or row.layout.start,
        }
        columns = layout_columns(batch[0])
        episodes = [
            (
                r,
                ChildEpisodeRow(
                    external_id=r.child,
                    episode_type=r.layout.episode_type,
                    episode_start=r.start,
                    episode_end=annex_a.episode_end(r),
                ),
            )
            for r in batch
        ]
        refused = await self._through("children", episodes, columns)
        good = [r for r in batch if id(r) not in refused]
        await self.uow.write_outbox()
        years = {r.child: r.birth_year for r in good if r.birth_year is not None}
        if years:
            children = await ReturnsRepository(self.uow.session).children_with_all_allocations(
                years, self.uow.record
            )
            changed = {child.id: years[ref] for ref, (child, held) in children.items() if held != years[ref]}
            await ReturnsRepository(self.uow.session).save_birth_years(changed)
        await self._through(
            "assessments",
            [
                (
                    r,
                    AssessmentRow(
                        external_id=annex_a.assessment_id(r),
                        child_external_id=r.child,
                        start_date=r.start,
                        completed_date=r.end,
                    ),
                )
                for r in good
                if r.layout.number == 4
            ],
            columns,
        )
        await self._through(
            "visits",
            [
                (
                    r,
                    VisitRow(
                        child_external_id=r.child,
                        visit_date=r.visit,
                        visit_type=annex_a.visit_type(r.layout),
                        seen_alone=r.seen_alone,
                    ),
                )
                for r in good
                if r.visit is not None
            ],
            columns,
        )
        await self._through(
            "reviews",
            [
                (r, ReviewRow(child_external_id=r.child, review_date=r.review))
                for r in good
                if r.review is not None
            ],
            columns,
        )
        await self._through(
            "iro_visits",
            [
                (r, IroVisitRow(child_external_id=r.child, visit_date=r.iro_visit))
                for r in good
                if r.iro_visit is not None
            ],
            {"visit_date": batch[0].layout.iro_visit or ""},
        )
        await self._allocate([r for r in good if r.worker is not None and self._open_on_as_of(r)])
        if self.mode is ImportMode.partial:
            await self.uow.checkpoint()
        else:
            await self.uow.write_outbox()
        self.uow.session.expunge_all()

    async def _allocate(self, rows: list[ListRow]) -> None:
        """The allocated worker holds the child on ``as_of``: unchanged if an allocation to the worker is
        active then, else an allocation from ``as_of`` (Annex A does not say since when)."""
        if not rows:
            return
        assert self._workers is not None
        workers = {id(r): self._workers.find(r.worker or "") for r in rows}
        repository = ChildRepository(self.uow.session)
        children = await repository.allocations_of({(r.child, workers[id(r)]) for r in rows}, self.uow.record)
        for row in rows:
            child = children.get(row.child)
            if child is None:
                continue  # its episode was refused, and reported
            worker_id = workers[id(row)]
            held = next(
                (
                    a
                    for a in child.allocations
                    if a.worker_id == worker_id
                    and a.start_date <= self.as_of
                    and (a.end_date is None or self.as_of < a.end_date)
                ),
                None,
            )
            try:
                outcome, allocation = (
                    (Outcome.unchanged, held)
                    if held is not None
                    else child.allocate(worker_id, self.as_of, None)
                )
            except ValidationFailed as exc:
                self._reject(
                    row.sheet,
                    row.row,
                    annex_a.WORKER,
                    str((exc.errors or [{}])[0].get("reason", exc.code)),
                    exc.detail,
                    row.worker,
                )
                continue
            self._outcome(
                row.sheet,
                RowOutcome(
                    row=row.row,
                    outcome=outcome.value,
                    key=f"allocations/{row.child}/{row.worker}/{allocation.start_date}",
                    id=str(allocation.id),
                ),
            )
        await repository.save_allocations(children.values())
