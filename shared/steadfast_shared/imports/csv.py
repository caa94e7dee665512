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

import codecs
import csv
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, Literal, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from steadfast_shared.errors import BadRequest, PayloadTooLarge, ValidationFailed
from steadfast_shared.uow import UnitOfWork

SPOOL_IN_MEMORY_BYTES = 4 * 1024 * 1024
MAX_IMPORT_BYTES = 512 * 1024 * 1024
BATCH_ROWS = 500
#: How many row outcomes of each kind the answer lists; counts are always complete.
MAX_LISTED = 10_000

RowT = TypeVar("RowT", bound=BaseModel)


class ImportMode(StrEnum):
    atomic = "atomic"
    partial = "partial"


class RowError(BaseModel):
    row: int
    column: str | None
    reason: str
    message: str
    value: str | None = None


class RowOutcome(BaseModel):
    row: int
    outcome: Literal["created", "updated", "unchanged"]
    key: str
    id: str | None = None


class ImportCounts(BaseModel):
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0


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


@dataclass(frozen=True)
class ParsedRow(Generic[RowT]):
    row: int
    data: RowT


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


def _text_lines(binary: Any) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
    pending = ""
    line_number = 1
    while True:
        chunk = binary.read(64 * 1024)
        final = not chunk
        try:
            pending += decoder.decode(chunk, final=final)
        except UnicodeDecodeError as exc:
            raise BadRequest(
                f"the file is not UTF-8 near line {line_number}: {exc.reason}",
                errors=[{"field": "body", "reason": "not_utf8", "row": line_number}],
            ) from exc
        lines = pending.splitlines(keepends=True)
        if not final and lines and not lines[-1].endswith(("\n", "\r")):
            pending = lines.pop()
        else:
            pending = ""
        for line in lines:
            line_number += 1
            yield line
        if final:
            return


def _row_errors(row: int, exc: ValidationError, raw: dict[str, str | None]) -> list[RowError]:
    errors = []
    for err in exc.errors():
        column = str(err["loc"][0]) if err.get("loc") else None
        value = raw.get(column) if column else None
        message = err.get("msg", "invalid")
        errors.append(
            RowError(
                row=row,
                column=column,
                reason=str(err.get("type", "invalid")),
                message=message,
                value=value,
            )
        )
    return errors


async def run_import(uow: UnitOfWork, importer: Importer[Any], body: Any, mode: ImportMode) -> ImportResult:
    """Run an import over a spooled CSV body inside the request's unit of work.

    In ``atomic`` mode with any rejected row the caller must not commit: the result says
    ``committed=False`` and the route renders it as 422.
    """
    reader = csv.reader(_text_lines(body), dialect="excel", strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationFailed.field(
            "body", "empty_file", "the file is empty: it needs a header row"
        ) from None
    except csv.Error as exc:
        raise ValidationFailed.field(
            "body", "malformed_csv", f"the header row is not valid CSV: {exc}"
        ) from exc
    columns = [c.strip() for c in header]
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
    known = set(importer.row_model.model_fields)
    result = ImportResult(
        kind=importer.kind,
        mode=mode,
        committed=True,
        counts=ImportCounts(),
        created=[],
        updated=[],
        unchanged=[],
        rejected=[],
    )
    batch: list[ParsedRow[Any]] = []
    row_number = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            row_number += 1
            _record(
                result,
                RowError(row=row_number, column=None, reason="malformed_csv", message=str(exc)),
            )
            break
        row_number = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        result.counts.rows += 1
        if len(cells) != len(columns):
            _record(
                result,
                RowError(
                    row=row_number,
                    column=None,
                    reason="wrong_number_of_cells",
                    message=f"the row has {len(cells)} cells; the header has {len(columns)}",
                ),
            )
            continue
        raw = {c: (v.strip() or None) for c, v in zip(columns, cells, strict=True) if c in known}
        try:
            parsed = importer.row_model.model_validate(raw)
        except ValidationError as exc:
            for error in _row_errors(row_number, exc, raw):
                _record(result, error, count=False)
            result.counts.rejected += 1
            continue
        batch.append(ParsedRow(row=row_number, data=parsed))
        if len(batch) >= BATCH_ROWS:
            await _apply(uow, importer, batch, result)
            batch = []
    if batch:
        await _apply(uow, importer, batch, result)
    # Cell errors are found as rows are read, rule errors as each batch is applied: report in row order.
    result.rejected.sort(key=lambda e: e.row)
    if mode is ImportMode.atomic and result.counts.rejected:
        # Nothing is kept: say so, rather than list rows as created that the rollback will undo.
        result.committed = False
        result.counts.created = result.counts.updated = result.counts.unchanged = 0
        result.created, result.updated, result.unchanged = [], [], []
    return result


async def _apply(
    uow: UnitOfWork, importer: Importer[Any], batch: list[ParsedRow[Any]], result: ImportResult
) -> None:
    outcomes = await importer.apply(uow, batch)
    for outcome in outcomes:
        _record(result, outcome)
    # Push the batch to the database and publish its events into the outbox now, so memory stays flat.
    await uow.write_outbox()
    uow.session.expunge_all()


def _record(result: ImportResult, outcome: RowOutcome | RowError, *, count: bool = True) -> None:
    if isinstance(outcome, RowError):
        if count:
            result.counts.rejected += 1
        target: list[Any] = result.rejected
    else:
        setattr(result.counts, outcome.outcome, getattr(result.counts, outcome.outcome) + 1)
        target = getattr(result, outcome.outcome)
    if len(target) < MAX_LISTED:
        target.append(outcome)
    else:
        result.truncated = True
