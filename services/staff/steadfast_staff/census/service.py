"""The CSWW census: import a year's return into the staff service, and export one from its records.

**The census year** ``Y`` is the year to 30 September ``Y``: its workers are those in post on some day
from 1 October ``Y-1`` to 30 September ``Y`` (the reference date). A worker's *census day* is the
reference date if they are in post then, else their last day in post.

**Import.** Each ``CSWWWorker`` item names its worker by Social Work England number (the census holds
no name nor HR id: import the workers from HR first). The employment facts it reports are checked
against the worker's dated record on the census day, and a disagreement is a row error naming the
element: the HR record is the source of those (``RoleStartDate`` against the start date; ``AgencyWorker``,
``FTE`` and ``OrgRole`` against the terms in force; ``FTE30`` against those of 30 September;
``RoleEndDate`` and ``ReasonLeave`` against the end date and leaving reason). Where the worker's record
is silent (no end date, an unknown leaving reason) the return fills it. The census's own facts are kept
in the worker's :class:`CensusRecord` for the year, upserted: the same file twice changes nothing.

The census writes a last day in post (``RoleEndDate``); Steadfast's ``end_date`` is the first day not
in post (SPEC section 2, half-open intervals): ``end_date = RoleEndDate + 1 day``.

**Export.** Streamed, a page of workers at a time, in the schema's order: the header, the council's
vacancies on the reference date, then one item per worker of the census year.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import IO, Literal

from sqlalchemy import text

from steadfast_shared.db import utcnow
from steadfast_shared.db.engine import Database
from steadfast_shared.errors import ValidationFailed
from steadfast_shared.imports import ImportMode, ImportResult, RowError, RowOutcome
from steadfast_shared.imports.csv import MAX_LISTED, ImportCounts
from steadfast_shared.uow import UnitOfWork
from steadfast_staff.census import mapping
from steadfast_staff.census.models import CensusFacts, CensusRecord
from steadfast_staff.census.repository import CensusRepository
from steadfast_staff.census.xml import (
    DOCUMENT_END,
    NOT_STORED,
    CensusItem,
    CensusReader,
    HostileXml,
    MalformedXml,
    RawItem,
    SchemaProblem,
    document_start,
    schema_problems,
    skipped_comment,
    to_item,
    worker_element,
)
from steadfast_staff.enums import LeavingReason
from steadfast_staff.workers.models import Worker

BATCH_ITEMS = 500
#: Workers read per query by the export.
EXPORT_PAGE_SIZE = 500
#: Workers without a registration number named in the export's closing comment.
MAX_SKIPPED_LISTED = 100
FTE_TOLERANCE = Decimal("0.0005")
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class CensusYear:
    year: int

    @property
    def first_day(self) -> date:
        return date(self.year - 1, 10, 1)

    @property
    def reference_date(self) -> date:
        return date(self.year, 9, 30)

    def includes(self, worker: Worker) -> bool:
        return worker.start_date <= self.reference_date and (
            worker.end_date is None or worker.end_date > self.first_day
        )

    def census_day(self, worker: Worker) -> date:
        if worker.in_post_on(self.reference_date) or worker.end_date is None:
            return self.reference_date
        return worker.end_date - ONE_DAY

    def left_in_year(self, worker: Worker) -> bool:
        return (
            worker.end_date is not None and self.first_day <= worker.end_date - ONE_DAY <= self.reference_date
        )


class CensusImportResult(ImportResult):
    census_year: int
    not_stored: dict[str, int] = {}
    """Elements read and not kept (equality data), with the number of items that had them."""


def facts_of(item: CensusItem) -> CensusFacts:
    return CensusFacts(
        census_role=item.census_role,
        start_origin=item.start_origin,
        leaver_destination=item.leaver_destination,
        census_leaving_reason=item.census_leaving_reason,
        cases_30_sept=item.cases_30_sept,
        working_days_lost=item.working_days_lost,
        contract_weeks=tuple(item.contract_weeks),
        absent_30_sept=tuple(item.absent_30_sept),
        absence_reasons=tuple(item.absence_reasons),
        cfkss_statuses=tuple(item.cfkss_statuses),
        qualifying_institutions=tuple(item.qualifying_institutions),
        qualification_level=item.qualification_level,
        step_up_graduate=item.step_up_graduate,
        frontline_graduate=item.frontline_graduate,
    )


class _Rejected(Exception):
    def __init__(self, errors: list[tuple[str, str, str, str | None]]) -> None:
        super().__init__(errors[0][2])
        self.errors = errors


def _fte(value: float) -> Decimal:
    return Decimal(f"{value:.6f}")


def check_against_worker(
    worker: Worker, item: CensusItem, year: CensusYear
) -> list[tuple[str, str, str, str | None]]:
    """What the item says that the worker's dated record contradicts: (element, reason, message, value)."""
    problems: list[tuple[str, str, str, str | None]] = []

    def disagree(element: str, message: str, value: object) -> None:
        problems.append(
            (element, "disagrees_with_worker_record", message, None if value is None else str(value))
        )

    if not year.includes(worker):
        problems.append(
            (
                "RoleStartDate",
                "not_in_census_year",
                f"the worker's record ({worker.start_date} to {worker.end_date or 'now'}) has them in post "
                f"on no day from {year.first_day} to {year.reference_date}",
                None,
            )
        )
        return problems
    day = year.census_day(worker)
    terms = worker.terms_on(day)
    assert terms is not None, "a worker in post has terms"
    if not terms.role.is_qualified:
        problems.append(("OrgRole", "student_not_in_census", f"the worker is a student on {day}", None))
        return problems
    if mapping.is_agency(terms.employment_type) != item.agency_worker:
        disagree(
            "AgencyWorker",
            f"the worker's employment type on {day} is {terms.employment_type}",
            mapping.yes_no(item.agency_worker),
        )
    if item.fte is not None and abs(_fte(terms.fte) - item.fte) > FTE_TOLERANCE:
        disagree("FTE", f"the worker's FTE on {day} is {terms.fte}", item.fte)
    if item.fte_30_sept is not None:
        on_reference = (
            worker.terms_on(year.reference_date) if worker.in_post_on(year.reference_date) else None
        )
        if on_reference is None:
            disagree("FTE30", f"the worker is not in post on {year.reference_date}", item.fte_30_sept)
        elif abs(_fte(on_reference.fte) - item.fte_30_sept) > FTE_TOLERANCE:
            disagree(
                "FTE30", f"the worker's FTE on {year.reference_date} is {on_reference.fte}", item.fte_30_sept
            )
    if item.census_role is not None and not mapping.role_agrees(terms.role, item.census_role):
        disagree("OrgRole", f"the worker's role on {day} is {terms.role}", item.census_role)
    if item.role_end_date is None and year.left_in_year(worker):
        assert worker.end_date is not None
        disagree(
            "RoleEndDate",
            f"the worker's record has their last day in post on {worker.end_date - ONE_DAY}; the item "
            "has none",
            None,
        )
    return problems


class CensusImport:
    """One census file's import, in the request's unit of work."""

    def __init__(self, uow: UnitOfWork, mode: ImportMode, year: int) -> None:
        self.uow = uow
        self.mode = mode
        self.year = CensusYear(year)
        self.repository = CensusRepository(uow.session)
        self.seen: set[uuid.UUID] = set()
        self.result = CensusImportResult(
            kind="csww",
            mode=mode,
            committed=True,
            counts=ImportCounts(),
            created=[],
            updated=[],
            unchanged=[],
            rejected=[],
            census_year=year,
        )

    def reject(self, raw: RawItem, errors: list[tuple[str | None, str, str, str | None]]) -> None:
        self.result.counts.rejected += 1
        for column, reason, message, value in errors:
            if len(self.result.rejected) >= MAX_LISTED:
                self.result.truncated = True
                break
            self.result.rejected.append(
                RowError(
                    row=raw.position,
                    line=raw.line,
                    column=column,
                    reason=reason,
                    message=message,
                    value=value,
                )
            )

    def count(self, outcome: RowOutcome) -> None:
        counts = self.result.counts
        listed = {
            "created": self.result.created,
            "updated": self.result.updated,
            "unchanged": self.result.unchanged,
        }
        setattr(counts, outcome.outcome, getattr(counts, outcome.outcome) + 1)
        target = listed[outcome.outcome]
        if len(target) < MAX_LISTED:
            target.append(outcome)
        else:
            self.result.truncated = True

    async def apply(self, batch: list[tuple[RawItem, CensusItem]]) -> None:
        spellings = {item.swe_number: mapping.steadfast_swe_numbers(item.swe_number) for _, item in batch}
        by_number = await self.repository.workers_by_numbers(n for found in spellings.values() for n in found)
        candidates = {
            number: [w for spelling in found for w in by_number.get(spelling, [])]
            for number, found in spellings.items()
        }
        matched: list[tuple[RawItem, CensusItem, Worker]] = []
        for raw, item in batch:
            worker = self._match(raw, item, candidates[item.swe_number])
            if worker is not None:
                matched.append((raw, item, worker))
        records = await self.repository.records((w.id for _, _, w in matched), self.year.year)
        for raw, item, worker in matched:
            try:
                async with self.uow.savepoint():
                    outcome = self._apply_one(raw, item, worker, records)
                self.count(outcome)
            except _Rejected as exc:
                self.uow.session.expunge(worker)
                self.reject(raw, list(exc.errors))
            except ValidationFailed as exc:
                self.uow.session.expunge(worker)
                first = exc.errors[0] if exc.errors else {}
                self.reject(
                    raw, [("RoleEndDate", str(first.get("reason", exc.code)), exc.detail or "", None)]
                )
        if self.mode is ImportMode.partial:
            await self.uow.checkpoint()
        else:
            await self.uow.write_outbox()
        self.uow.session.expunge_all()

    def _match(self, raw: RawItem, item: CensusItem, candidates: list[Worker]) -> Worker | None:
        if len(candidates) > 1:
            active = [w for w in candidates if self.year.includes(w)] or candidates
            if len(active) > 1:
                active = [w for w in active if w.start_date == item.role_start_date]
            candidates = active
        if not candidates:
            self.reject(
                raw,
                [
                    (
                        "SWENo",
                        "unknown_worker",
                        "no worker has this Social Work England number: import the workers from HR first",
                        item.swe_number,
                    )
                ],
            )
            return None
        if len(candidates) > 1:
            self.reject(
                raw,
                [
                    (
                        "SWENo",
                        "ambiguous_worker",
                        f"{len(candidates)} workers in the census year have this number and RoleStartDate "
                        "tells them apart from none",
                        item.swe_number,
                    )
                ],
            )
            return None
        worker = candidates[0]
        if worker.id in self.seen:
            self.reject(
                raw,
                [("SWENo", "duplicate_item", "an earlier item of the file is this worker", item.swe_number)],
            )
            return None
        self.seen.add(worker.id)
        return worker

    def _apply_one(
        self, raw: RawItem, item: CensusItem, worker: Worker, records: dict[uuid.UUID, CensusRecord]
    ) -> RowOutcome:
        errors: list[tuple[str, str, str, str | None]] = []
        if item.role_start_date is not None and item.role_start_date != worker.start_date:
            errors.append(
                (
                    "RoleStartDate",
                    "disagrees_with_worker_record",
                    f"the worker's record starts on {worker.start_date}",
                    item.role_start_date.isoformat(),
                )
            )
        filled = self._fill_leaving(item, worker, errors)
        if not errors:
            errors.extend(check_against_worker(worker, item, self.year))
        if errors:
            raise _Rejected(errors)
        facts = facts_of(item)
        record = records.get(worker.id)
        outcome: Literal["created", "updated", "unchanged"]
        if record is None:
            record = CensusRecord.record_return(worker.id, self.year.year, facts)
            self.repository.add(record)
            records[worker.id] = record
            outcome = "created"
        else:
            outcome = "updated" if record.amend(facts) or filled else "unchanged"
        return RowOutcome.of(raw.position, outcome, item.swe_number, str(record.id))

    def _fill_leaving(
        self, item: CensusItem, worker: Worker, errors: list[tuple[str, str, str, str | None]]
    ) -> bool:
        """Record the leaving the item reports where the worker's record has none; True if it changed."""
        reported = item.census_leaving_reason
        if item.role_end_date is None:
            if reported is not None:
                errors.append(("ReasonLeave", "without_end_date", "ReasonLeave needs a RoleEndDate", None))
            return False
        end = item.role_end_date + ONE_DAY
        reason = (
            mapping.LEAVING_REASON_FROM_CENSUS[reported] if reported is not None else LeavingReason.unknown
        )
        if worker.end_date is None:
            return bool(worker.leave(end, reason))
        if worker.end_date != end:
            errors.append(
                (
                    "RoleEndDate",
                    "disagrees_with_worker_record",
                    f"the worker's record has their last day in post on {worker.end_date - ONE_DAY}",
                    item.role_end_date.isoformat(),
                )
            )
            return False
        if reported is None:
            return False
        if worker.leaving_reason in (None, LeavingReason.unknown):
            return bool(worker.update_details(leaving_reason=reason))
        if not mapping.leaving_reason_agrees(worker.leaving_reason, reported):
            errors.append(
                (
                    "ReasonLeave",
                    "disagrees_with_worker_record",
                    f"the worker's leaving reason is {worker.leaving_reason}",
                    str(reported),
                )
            )
        return False


def _refused(detail: str, reason: str, **context: object) -> ValidationFailed:
    return ValidationFailed(detail, errors=[{"field": "body", "reason": reason, **context}])


async def import_census(
    uow: UnitOfWork, body: IO[bytes], mode: ImportMode, year: int | None
) -> CensusImportResult:
    """Validate ``body`` against the census schema, then apply its items in batches."""
    invalid: dict[int, list[SchemaProblem]] = {}
    outside: list[SchemaProblem] = []
    listed = 0
    try:
        for problem in schema_problems(body):
            if problem.item is None:
                outside.append(problem)
                if len(outside) >= 100:
                    break
                continue
            found = invalid.setdefault(problem.item, [])
            if listed < MAX_LISTED:
                found.append(problem)
                listed += 1
    except HostileXml as exc:
        raise _refused(f"the document is refused: {exc}", "forbidden_xml") from None
    except MalformedXml as exc:
        raise _refused(
            f"the document is not well-formed XML: {exc}", "malformed_xml", line=exc.line
        ) from None
    if outside:
        raise ValidationFailed(
            "the document is not a census return: "
            + "; ".join(f"{p.path}: {p.message}" for p in outside[:5]),
            errors=[
                {"field": p.element, "path": p.path, "reason": p.reason, "message": p.message}
                for p in outside
            ],
        )
    reader = CensusReader(body)
    run: CensusImport | None = None
    not_stored: dict[str, int] = {}
    batch: list[tuple[RawItem, CensusItem]] = []
    try:
        for raw in reader.items():
            if run is None:
                run = CensusImport(uow, mode, _census_year(year, reader.year))
            run.result.counts.rows += 1
            for name in NOT_STORED:
                if name in raw.values:
                    not_stored[name] = not_stored.get(name, 0) + 1
            problems = invalid.get(raw.position)
            if problems is not None:
                if not problems:  # its schema errors were past the listed ones: counted, not listed
                    run.result.truncated = True
                run.reject(raw, [(p.element, p.reason, p.message, p.value) for p in problems])
                continue
            item, item_problems = to_item(raw)
            if item is None:
                run.reject(raw, [(p.element, p.reason, p.message, p.value) for p in item_problems])
                continue
            batch.append((raw, item))
            if len(batch) >= BATCH_ITEMS:
                await run.apply(batch)
                batch = []
        if run is not None and batch:
            await run.apply(batch)
    except HostileXml as exc:
        raise _refused(f"the document is refused: {exc}", "forbidden_xml") from None
    except MalformedXml as exc:
        raise _refused(
            f"the document is not well-formed XML: {exc}", "malformed_xml", line=exc.line
        ) from None
    if run is None:
        raise _refused("the document has no CSWWWorker item", "no_items")
    result = run.result
    result.not_stored = not_stored
    result.rejected.sort(key=lambda e: e.row)
    if mode is ImportMode.atomic and result.counts.rejected:
        result.committed = False
        result.counts.created = result.counts.updated = result.counts.unchanged = 0
        result.created, result.updated, result.unchanged = [], [], []
    return result


def _census_year(asked: int | None, in_file: int | None) -> int:
    if asked is not None and in_file is not None and asked != in_file:
        raise ValidationFailed.field(
            "year", "disagrees_with_file", f"the file's header says {in_file}, the request {asked}"
        )
    year = asked if asked is not None else in_file
    if year is None:
        raise ValidationFailed.field(
            "year", "missing_year", "the file's header has no Year: say which census year with ?year="
        )
    return year


# -- export --------------------------------------------------------------------------------------------


def census_item(worker: Worker, records: list[CensusRecord], year: CensusYear) -> CensusItem | None:
    """The worker's item in ``year``'s return, from their record and the census records of the year (the
    census's own facts) and before (the qualification, which a later return need not repeat). None for
    a worker outside the census (a student) or without a registration number the census can hold."""
    day = year.census_day(worker)
    terms = worker.terms_on(day)
    if terms is None or not terms.role.is_qualified or not worker.swe_registration_number:
        return None
    number = mapping.census_swe_number(worker.swe_registration_number)
    if number is None:
        return None
    this_year = next((r for r in records if r.census_year == year.year), None)
    facts = this_year.facts() if this_year is not None else CensusFacts()
    qualification = this_year or (records[0] if records else None)
    known = qualification.facts() if qualification is not None else CensusFacts()
    left = year.left_in_year(worker)
    in_post = worker.in_post_on(year.reference_date)
    on_reference = worker.terms_on(year.reference_date) if in_post else None
    return CensusItem(
        agency_worker=mapping.is_agency(terms.employment_type),
        swe_number=number,
        fte=_fte(terms.fte),
        qualifying_institutions=list(known.qualifying_institutions),
        qualification_level=known.qualification_level,
        step_up_graduate=known.step_up_graduate,
        census_role=mapping.census_role_for(terms.role, facts.census_role),
        role_start_date=worker.start_date,
        start_origin=facts.start_origin,
        role_end_date=worker.end_date - ONE_DAY if left and worker.end_date is not None else None,
        leaver_destination=facts.leaver_destination if left else None,
        census_leaving_reason=mapping.census_leaving_reason_for(
            worker.leaving_reason or LeavingReason.unknown, facts.census_leaving_reason
        )
        if left
        else None,
        fte_30_sept=_fte(on_reference.fte) if on_reference is not None else None,
        cases_30_sept=facts.cases_30_sept,
        working_days_lost=facts.working_days_lost,
        contract_weeks=list(facts.contract_weeks),
        frontline_graduate=known.frontline_graduate,
        absent_30_sept=list(facts.absent_30_sept),
        absence_reasons=list(facts.absence_reasons),
        cfkss_statuses=list(facts.cfkss_statuses),
    )


async def export_census(
    database: Database, year: int, *, la_code: str | None, page_size: int = EXPORT_PAGE_SIZE
) -> AsyncIterator[bytes]:
    """The census XML for ``year``, a page of workers at a time, from one read transaction."""
    census = CensusYear(year)
    async with database.read_sessionmaker() as session, session.begin():
        if database.dialect == "postgresql":
            # One snapshot for the whole document, however long it takes to send.
            await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
        repository = CensusRepository(session)
        vacancies = await repository.vacancies(census.reference_date)
        yield document_start(
            year=year,
            reference_date=census.reference_date,
            la_code=la_code,
            generated_at=utcnow(),
            vacancies=vacancies,
        ).encode()
        after: str | None = None
        skipped: list[str] = []
        skipped_total = 0
        while True:
            workers = await repository.population_page(
                first_day=census.first_day, reference_date=census.reference_date, after=after, limit=page_size
            )
            if not workers:
                break
            after = workers[-1].external_id
            records = await repository.records_up_to((w.id for w in workers), year)
            chunk: list[str] = []
            for worker in workers:
                item = census_item(worker, records.get(worker.id, []), census)
                if item is not None:
                    chunk.append(worker_element(item))
                    continue
                terms = worker.terms_on(census.census_day(worker))
                if terms is not None and terms.role.is_qualified:
                    skipped_total += 1
                    if len(skipped) < MAX_SKIPPED_LISTED:
                        skipped.append(worker.external_id)
            if chunk:
                yield "".join(chunk).encode()
            session.expunge_all()
            if len(workers) < page_size:
                break
        yield (DOCUMENT_END + skipped_comment(skipped, skipped_total)).encode()
