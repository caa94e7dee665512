"""The audit CSV import of SPEC section 4: ``audits.csv``, upserted by ``external_id``.

Columns: ``external_id, child_external_id, worker_external_id, team, audit_type, completed_date,
overall_grade, contact_grade, moderated_grade``; optional extras: ``started_date``, ``auditor``,
``moderator``, ``moderation_reason`` and ``<element>_grade`` for every configured element. An empty
``team`` is the worker's team on the completed date. A ``moderated_grade`` without a ``moderator`` is
recorded as moderated in the source system. A file without an element's column leaves that grade as
held; an empty cell removes it. Unchanged rows record no event, so a file imported twice publishes
nothing the second time. Every rule is checked before an audit changes, so a rejected row writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any, ClassVar

from pydantic import ConfigDict, StringConstraints, create_model

from steadfast_audit.audits.models import Audit, Outcome
from steadfast_audit.audits.repository import AuditRepository
from steadfast_audit.audits.service import team_on
from steadfast_audit.directory.models import DirectoryWorker
from steadfast_audit.directory.repository import DirectoryRepository
from steadfast_audit.settings import DEFAULT_ELEMENTS
from steadfast_shared.codes import AuditType, Grade
from steadfast_shared.errors import ValidationFailed
from steadfast_shared.imports.csv import Importer, ParsedRow, RowError, RowOutcome
from steadfast_shared.schemas import ExternalId, Input, Text
from steadfast_shared.uow import UnitOfWork

Ref = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
IMPORTED_MODERATOR = "source system"
IMPORTED_REASON = "moderated in the source system (imported)"


class AuditRow(Input):
    model_config = ConfigDict(extra="allow", frozen=True)

    external_id: ExternalId
    child_external_id: Ref
    worker_external_id: Ref
    team: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None = None
    audit_type: AuditType
    completed_date: date | None = None
    overall_grade: Grade | None = None
    moderated_grade: Grade | None = None
    started_date: date | None = None
    auditor: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    moderator: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    moderation_reason: Text | None = None
    contact_grade: Grade | None = None


class _Rejected(Exception):
    def __init__(self, column: str, reason: str, message: str, value: Any = None) -> None:
        super().__init__(message)
        self.column, self.reason, self.message, self.value = column, reason, message, value


class AuditsImporter:
    kind = "audits"
    row_model = AuditRow
    required_columns: tuple[str, ...] = (
        "external_id",
        "child_external_id",
        "worker_external_id",
        "team",
        "audit_type",
        "completed_date",
        "overall_grade",
        "contact_grade",
        "moderated_grade",
    )
    #: The configured elements (the endpoint binds the service's settings in a subclass).
    elements: ClassVar[tuple[str, ...]] = DEFAULT_ELEMENTS

    def __init__(self) -> None:
        self._workers: dict[str, DirectoryWorker | None] = {}

    async def apply(self, uow: UnitOfWork, rows: list[ParsedRow[AuditRow]]) -> list[RowOutcome | RowError]:
        session = uow.session
        audits = await AuditRepository(session).by_external_ids([p.data.external_id for p in rows])
        await self._load_workers(DirectoryRepository(session), rows)
        outcomes: list[RowOutcome | RowError] = []
        for parsed in rows:
            row = parsed.data
            try:
                outcome, audit = self._apply_row(audits.get(row.external_id), row)
            except _Rejected as exc:
                outcomes.append(
                    RowError(
                        row=parsed.row,
                        column=exc.column,
                        reason=exc.reason,
                        message=exc.message,
                        value=None if exc.value is None else str(exc.value),
                    )
                )
                continue
            except ValidationFailed as exc:
                first = exc.errors[0] if exc.errors else {}
                column = _column(str(first.get("field", "")))
                raw = getattr(row, column, None) if column else None
                outcomes.append(
                    RowError(
                        row=parsed.row,
                        column=column or None,
                        reason=str(first.get("reason", exc.code)),
                        message=exc.detail,
                        value=None if raw is None else str(raw),
                    )
                )
                continue
            if outcome is Outcome.created:
                session.add(audit)
                audits[row.external_id] = audit
            outcomes.append(
                RowOutcome(row=parsed.row, outcome=outcome.value, key=row.external_id, id=str(audit.id))
            )
        return outcomes

    async def _load_workers(
        self, directory: DirectoryRepository, rows: Sequence[ParsedRow[AuditRow]]
    ) -> None:
        wanted = {p.data.worker_external_id for p in rows} - self._workers.keys()
        if not wanted:
            return
        resolved = await directory.resolve(wanted)
        found = await directory.with_terms(resolved.values())
        for ref in wanted:
            worker_id = resolved.get(ref)
            self._workers[ref] = found.get(worker_id) if worker_id is not None else None

    def _element_grades(self, row: AuditRow) -> dict[str, Grade | None]:
        """The element grades the row's columns give (a column the file lacks gives nothing). The
        configured elements' columns are fields of the row model (:func:`importers_for`), so their
        grades were read, labels and all, like every other code; another ``<x>_grade`` column with a
        grade in it names an element this service does not audit."""
        cells = {**(row.model_extra or {}), **{c: getattr(row, c) for c in row.model_fields_set}}
        for column, value in cells.items():
            element = column.removesuffix("_grade")
            if column == element or element in {"overall", "moderated", *self.elements}:
                continue
            if value not in (None, ""):
                raise _Rejected(column, "unknown_element", f"{element!r} is not an audit element here", value)
        return {
            element: getattr(row, f"{element}_grade", None)
            for element in self.elements
            if f"{element}_grade" in row.model_fields_set
        }

    def _apply_row(self, held: Audit | None, row: AuditRow) -> tuple[Outcome, Audit]:
        worker = self._workers.get(row.worker_external_id)
        if worker is None:
            raise _Rejected(
                "worker_external_id",
                "unknown_worker",
                f"no worker {row.worker_external_id!r} is known to the audit service: import the worker into "
                "the staff service first (the directory learns workers from the staff events)",
                row.worker_external_id,
            )
        grades = self._element_grades(row)
        if row.completed_date is None and row.started_date is None:
            raise _Rejected(
                "completed_date", "date_required", "an audit has a completed date (or a started_date column)"
            )
        team = row.team or team_on(worker, row.completed_date or row.started_date, field="team")
        fields: dict[str, Any] = {
            "audit_type": row.audit_type,
            "child_ref": row.child_external_id,
            "worker_id": worker.id,
            "team": team,
            "completed_date": row.completed_date,
            "overall_grade": row.overall_grade,
        }
        for optional in ("started_date", "auditor"):
            if optional in row.model_fields_set:
                fields[optional] = getattr(row, optional)
        if held is None:
            audit = Audit.record_new(
                external_id=row.external_id,
                elements=self.elements,
                element_grades={e: g for e, g in grades.items() if g is not None},
                **fields,
            )
            outcome = Outcome.created
        else:
            audit = held
            self._check_moderation(audit, row, fields)
            outcome = audit.revise(fields, elements=self.elements, element_grades=grades)
        if row.moderated_grade is not None:
            moderated = audit.moderate(
                moderator=row.moderator or audit.moderator or IMPORTED_MODERATOR,
                grade=row.moderated_grade,
                reason=row.moderation_reason or audit.moderation_reason or IMPORTED_REASON,
                on=audit.moderated_date or row.completed_date or date.today(),
            )
            if moderated is Outcome.updated and outcome is Outcome.unchanged:
                outcome = Outcome.updated
        return outcome, audit

    def _check_moderation(self, audit: Audit, row: AuditRow, fields: dict[str, Any]) -> None:
        """The moderation rules, checked before the revision changes the audit (so a rejected row
        writes nothing)."""
        if row.moderated_grade is None:
            return
        if fields["completed_date"] is None:
            raise ValidationFailed.field(
                "moderated_grade", "audit_not_completed", "only a completed audit can be moderated"
            )
        moderator = row.moderator or audit.moderator or IMPORTED_MODERATOR
        auditor = fields.get("auditor", audit.auditor)
        if auditor is not None and moderator.strip().casefold() == auditor.strip().casefold():
            raise ValidationFailed.field(
                "moderator", "moderator_is_auditor", "the moderator must be someone other than the auditor"
            )


def _column(field: str) -> str:
    """The CSV column a domain field is read from."""
    if field.startswith("element_grades."):
        return field.removeprefix("element_grades.") + "_grade"
    return {"audit": "moderated_grade", "reason": "moderation_reason"}.get(field, field)


def importers_for(elements: Sequence[str]) -> dict[str, type[Importer[Any]]]:
    """The import kinds of the service, bound to its configured elements: the row model has a
    ``<element>_grade`` field for each, so a grade written as its label (``Requires Improvement``) is
    read as the code and reported, as in every other code column."""
    grade_columns: dict[str, Any] = {f"{element}_grade": (Grade | None, None) for element in elements}
    row_model = create_model("AuditRow", __base__=AuditRow, **grade_columns)
    bound = type("AuditsImporter", (AuditsImporter,), {"elements": tuple(elements), "row_model": row_model})
    return {"audits": bound}
