"""The CSV import engine every service's ``POST /v1/imports/{kind}`` runs.

- The body is spooled to a temporary file (in memory up to a few MB, on disk beyond), then read row by
  row and applied in batches: a 100,000-row file is never held in memory whole.
- Each row is validated by the importer's pydantic row model (empty cells are nulls); a bad cell is
  reported with its row number (the header is row 1, as a spreadsheet shows it), its column and the
  reason. The importer then applies valid rows, upserting by ``external_id`` or the natural key, and
  says for each row whether it was created, updated, unchanged or rejected (a rule it breaks).
- ``atomic`` mode rolls the whole file back on any rejected row; ``partial`` mode keeps the good rows.
- Importing the same file twice changes nothing the second time: unchanged rows record no event.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, Literal, Protocol, TypeVar

from pydantic import BaseModel, Field, ValidationError

from steadfast_shared.collector import collection_paused
from steadfast_shared.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from steadfast_shared.exports import FORMULA_TRIGGERS, is_formula
from steadfast_shared.imports.fast import FastRows
from steadfast_shared.imports.normalise import CellNormaliser, DateFormat, Normalisation
from steadfast_shared.imports.reader import (
    BadRecord,
    Record,
    UnsupportedEncoding,
    codec_name,
    read_records,
    starts_with_bom,
)
from steadfast_shared.uow import UnitOfWork

SPOOL_IN_MEMORY_BYTES = 4 * 1024 * 1024
MAX_IMPORT_BYTES = 512 * 1024 * 1024
BATCH_ROWS = 500
#: How many row outcomes of each kind the answer lists; counts are always complete.
MAX_LISTED = 10_000
#: How many formula cells the answer lists (their total is always complete), and how much of each value.
MAX_LISTED_FORMULA_CELLS = 1_000
MAX_FORMULA_VALUE_CHARS = 200

RowT = TypeVar("RowT", bound=BaseModel)
_object_setattr = object.__setattr__


class ImportMode(StrEnum):
    atomic = "atomic"
    partial = "partial"


class RowError(BaseModel):
    row: int
    #: The physical line the row starts on (differs from ``row`` after a cell holding a line break);
    #: None for a rule broken by a row that the importer reports.
    line: int | None = None
    column: str | None
    reason: str
    message: str
    value: str | None = None


class RowOutcome(BaseModel):
    row: int
    outcome: Literal["created", "updated", "unchanged"]
    key: str
    id: str | None = None

    @classmethod
    def of(
        cls, row: int, outcome: Literal["created", "updated", "unchanged"], key: str, id: str
    ) -> RowOutcome:
        """``RowOutcome(row=..., outcome=..., key=..., id=...)`` for values already of the right types,
        without validating them again: an importer that applies rows set-wise makes one per row."""
        made = cls.__new__(cls)
        _object_setattr(made, "__dict__", {"row": row, "outcome": outcome, "key": key, "id": id})
        _object_setattr(made, "__pydantic_fields_set__", {"row", "outcome", "key", "id"})
        _object_setattr(made, "__pydantic_extra__", None)
        _object_setattr(made, "__pydantic_private__", None)
        return made


class ImportCounts(BaseModel):
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0


class FormulaCell(BaseModel):
    row: int
    line: int | None = None
    column: str
    value: str = Field(description=f"the cell as stored (its first {MAX_FORMULA_VALUE_CHARS} characters)")


class FormulaCells(BaseModel):
    """Cells a spreadsheet would run as a formula: they begin with ``=``, ``+``, ``-`` or ``@`` and are
    not a number (``-1`` is data). They are stored as sent; every CSV export neutralises them."""

    total: int = 0
    cells: list[FormulaCell] = Field(default_factory=list)
    truncated: bool = False


class ImportResult(BaseModel):
    kind: str
    mode: ImportMode
    committed: bool
    counts: ImportCounts
    created: list[RowOutcome]
    updated: list[RowOutcome]
    unchanged: list[RowOutcome]
    rejected: list[RowError]
    truncated: bool = False
    normalised: Normalisation | None = None
    formula_cells: FormulaCells = Field(default_factory=FormulaCells)


@dataclass(frozen=True)
class ParsedRow(Generic[RowT]):
    row: int
    data: RowT
    line: int | None = None


class Importer(Protocol[RowT]):
    """One import kind (``workers``, ``allocations``...): its columns, row model, and how to apply rows."""

    kind: str
    row_model: type[RowT]
    required_columns: tuple[str, ...]

    async def apply(self, uow: UnitOfWork, rows: list[ParsedRow[RowT]]) -> list[RowOutcome | RowError]:
        """Apply a batch of valid rows in order; one outcome per row. Rejections must write nothing."""
        ...


async def spool(stream: AsyncIterator[bytes], *, max_bytes: int = MAX_IMPORT_BYTES) -> Any:
    """Copy a request body to a temporary file (memory first, disk past a few MB)."""
    spooled = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES, mode="w+b")  # noqa: SIM115
    size = 0
    async for chunk in stream:
        size += len(chunk)
        if size > max_bytes:
            spooled.close()
            raise PayloadTooLarge(f"an import may be at most {max_bytes // (1024 * 1024)} MiB")
        spooled.write(chunk)
    spooled.seek(0)
    return spooled


def _row_errors(record: Record, exc: ValidationError, raw: dict[str, str | None]) -> list[RowError]:
    errors = []
    for err in exc.errors():
        column = str(err["loc"][0]) if err.get("loc") else None
        value = raw.get(column) if column else None
        message = err.get("msg", "invalid")
        errors.append(
            RowError(
                row=record.row,
                line=record.line,
                column=column,
                reason=str(err.get("type", "invalid")),
                message=message,
                value=value,
            )
        )
    return errors


@dataclass(frozen=True)
class ReadOptions:
    """How to read the file: its character encoding and how its dates are written."""

    encoding: str = "utf-8"
    date_format: DateFormat = DateFormat.iso


async def run_import(
    uow: UnitOfWork,
    importer: Importer[Any],
    body: Any,
    mode: ImportMode,
    options: ReadOptions | None = None,
) -> ImportResult:
    """Run an import over a spooled CSV body inside the request's unit of work.

    In ``atomic`` mode with any rejected row the caller must not commit: the result says
    ``committed=False`` and the route renders it as 422.
    """
    options = options or ReadOptions()
    try:
        encoding = codec_name(options.encoding)
    except UnsupportedEncoding as exc:
        raise UnsupportedMediaType(
            str(exc), errors=[{"field": "charset", "reason": "unsupported_charset"}]
        ) from None
    normalisation = Normalisation(
        encoding=encoding,
        byte_order_mark_removed=encoding == "utf-8" and starts_with_bom(body),
        date_format=options.date_format,
    )
    records = read_records(body, encoding)
    first = next(records, None)
    if first is None:
        raise ValidationFailed.field("body", "empty_file", "the file is empty: it needs a header row")
    if isinstance(first, BadRecord):
        raise ValidationFailed(
            f"the header row cannot be read: {first.message}",
            errors=[{"field": "body", "row": 1, "line": first.line, "reason": first.reason}],
        )
    columns = [c.strip() for c in first.cells]
    missing = [c for c in importer.required_columns if c not in columns]
    if missing:
        raise ValidationFailed(
            f"the header lacks the columns {', '.join(missing)}",
            errors=[{"field": c, "row": 1, "reason": "missing_column"} for c in missing],
        )
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        raise ValidationFailed(
            f"the header repeats the columns {', '.join(duplicated)}",
            errors=[{"field": c, "row": 1, "reason": "duplicate_column"} for c in duplicated],
        )
    # Columns the row model does not name are dropped, unless it asks for them (``extra="allow"``).
    known = set(importer.row_model.model_fields)
    keep_extra = importer.row_model.model_config.get("extra") == "allow"
    kept = [(i, c) for i, c in enumerate(columns) if keep_extra or c in known]
    normalise = CellNormaliser(importer.row_model, options.date_format, normalisation)
    # The common row is read without the model's validation; any other goes to the model (see fast.py).
    fast = None if keep_extra else FastRows.for_model(importer.row_model)
    validate = importer.row_model.model_validate
    result = ImportResult(
        kind=importer.kind,
        mode=mode,
        committed=True,
        counts=ImportCounts(),
        created=[],
        updated=[],
        unchanged=[],
        rejected=[],
        normalised=normalisation,
    )
    tally = _Tally(result)
    batch_rows: int = getattr(importer, "batch_rows", BATCH_ROWS)
    batch: list[ParsedRow[Any]] = []
    for record in records:
        if isinstance(record, BadRecord):
            tally.rows += 1
            tally.record(
                RowError(
                    row=record.row,
                    line=record.line,
                    column=None,
                    reason=record.reason,
                    message=record.message,
                ),
            )
            continue
        cells = [cell.strip() for cell in record.cells]
        if not any(cells):
            continue
        tally.rows += 1
        if len(cells) != len(columns):
            tally.record(
                RowError(
                    row=record.row,
                    line=record.line,
                    column=None,
                    reason="wrong_number_of_cells",
                    message=f"the row has {len(cells)} cells; the header has {len(columns)}",
                ),
            )
            continue
        raw = {c: cells[i] or None for i, c in kept}
        for value in raw.values():
            if value is not None and value[0] in FORMULA_TRIGGERS:
                _report_formulas(result, record, raw)
                break
        parsed = None if fast is None else fast(raw)
        if parsed is None:
            raw = normalise(raw)
            parsed = None if fast is None else fast(raw)
        if parsed is None:
            try:
                parsed = validate(raw)
            except ValidationError as exc:
                for error in _row_errors(record, exc, raw):
                    tally.record(error, count=False)
                tally.rejected += 1
                continue
        batch.append(ParsedRow(row=record.row, data=parsed, line=record.line))
        if len(batch) >= batch_rows:
            await _apply(uow, importer, batch, tally)
            batch = []
    if batch:
        await _apply(uow, importer, batch, tally)
    tally.close()
    # Cell errors are found as rows are read, rule errors as each batch is applied: report in row order.
    result.rejected.sort(key=lambda e: e.row)
    if mode is ImportMode.atomic and result.counts.rejected:
        # Nothing is kept: say so, rather than list rows as created that the rollback will undo.
        result.committed = False
        result.counts.created = result.counts.updated = result.counts.unchanged = 0
        result.created, result.updated, result.unchanged = [], [], []
    return result


class _Tally:
    """The counts and listed outcomes of an import as it runs, in plain attributes (a pydantic model's
    assignment costs more than the row's own work); :meth:`close` writes them to the result."""

    def __init__(self, result: ImportResult) -> None:
        self.result = result
        self.rows = self.created = self.updated = self.unchanged = self.rejected = 0
        self.truncated = False
        self._lists: dict[str, list[Any]] = {
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
        }

    def record(self, outcome: RowOutcome | RowError, *, count: bool = True) -> None:
        if isinstance(outcome, RowError):
            if count:
                self.rejected += 1
            target: list[Any] = self.result.rejected
        else:
            kind = outcome.outcome
            if kind == "created":
                self.created += 1
            elif kind == "updated":
                self.updated += 1
            else:
                self.unchanged += 1
            target = self._lists[kind]
        if len(target) < MAX_LISTED:
            target.append(outcome)
        else:
            self.truncated = True

    def close(self) -> None:
        counts = self.result.counts
        counts.rows, counts.created, counts.updated = self.rows, self.created, self.updated
        counts.unchanged, counts.rejected = self.unchanged, self.rejected
        if self.truncated:
            self.result.truncated = True


async def _apply(
    uow: UnitOfWork, importer: Importer[Any], batch: list[ParsedRow[Any]], tally: _Tally
) -> None:
    # A batch makes some twenty objects a row (its records, events, envelopes, the rows written), none
    # in a cycle: the collector is paused while it is applied and runs again between batches.
    with collection_paused():
        outcomes = await importer.apply(uow, batch)
        lines: dict[int, int | None] | None = None
        for outcome in outcomes:
            if isinstance(outcome, RowError) and outcome.line is None:
                if lines is None:
                    lines = {parsed.row: parsed.line for parsed in batch}
                outcome.line = lines.get(outcome.row)
            tally.record(outcome)
        # Push the batch to the database and publish its events into the outbox now, so memory stays
        # flat.
        if tally.result.mode is ImportMode.partial:
            # Partial mode keeps the good rows whatever follows: commit each batch, so that a long import
            # does not hold the database (on SQLite its one write lock) until the end of the file.
            await uow.checkpoint()
        else:
            await uow.write_outbox()
        uow.session.expunge_all()


def _report_formulas(result: ImportResult, record: Record, raw: dict[str, str | None]) -> None:
    report = result.formula_cells
    for column, value in raw.items():
        if value is None or not is_formula(value):
            continue
        report.total += 1
        if len(report.cells) < MAX_LISTED_FORMULA_CELLS:
            report.cells.append(
                FormulaCell(
                    row=record.row, line=record.line, column=column, value=value[:MAX_FORMULA_VALUE_CHARS]
                )
            )
        else:
            report.truncated = True
