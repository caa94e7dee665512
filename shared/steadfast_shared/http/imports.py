"""The HTTP side of ``POST /v1/imports/{kind}``: content type, streaming the body, the answer.

``atomic`` mode with a bad row answers 422 problem+json whose ``errors`` list every rejected row (row,
column, reason) and writes nothing; otherwise the answer is the :class:`ImportResult` (200).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse

from steadfast_shared.errors import PROBLEM_BASE, NotFound, UnsupportedMediaType
from steadfast_shared.http.problems import PROBLEM_JSON
from steadfast_shared.imports.csv import Importer, ImportMode, ImportResult, ReadOptions, run_import, spool
from steadfast_shared.imports.normalise import DateFormat
from steadfast_shared.uow import UnitOfWork

CSV_TYPES = {"text/csv", "application/csv", "text/plain"}


@dataclass(frozen=True)
class ImportParameters:
    """The query parameters every import takes: the mode and how to read the file."""

    mode: ImportMode
    charset: str | None
    date_format: DateFormat


def _import_parameters(
    mode: Annotated[
        ImportMode, Query(description="atomic: all or nothing; partial: apply the good rows")
    ] = ImportMode.atomic,
    charset: Annotated[
        str | None,
        Query(
            max_length=40,
            description=(
                "The file's character encoding, when it is not UTF-8 and the Content-Type does not say "
                "(`charset=windows-1252` for a file saved from Excel). Overrides the Content-Type's."
            ),
        ),
    ] = None,
    date_format: Annotated[
        DateFormat,
        Query(
            description=(
                "How the file writes dates: ISO `YYYY-MM-DD` (always accepted), or `DD/MM/YYYY` for a UK "
                "spreadsheet's dates."
            )
        ),
    ] = DateFormat.iso,
) -> ImportParameters:
    return ImportParameters(mode=mode, charset=charset, date_format=date_format)


ImportParametersDep = Annotated[ImportParameters, Depends(_import_parameters)]


def _content_charset(content_type: str) -> str | None:
    message = Message()
    message["content-type"] = content_type
    charset = message.get_param("charset")
    return charset if isinstance(charset, str) and charset else None


async def import_csv(
    request: Request,
    uow: UnitOfWork,
    importers: Mapping[str, type[Importer[Any]]],
    kind: str,
    parameters: ImportParameters,
) -> JSONResponse:
    importer_class = importers.get(kind)
    if importer_class is None:
        raise NotFound(
            f"no import of kind {kind!r} here; this service imports: {', '.join(sorted(importers))}",
            errors=[{"field": "kind", "reason": "unknown_import_kind", "allowed": sorted(importers)}],
        )
    header = request.headers.get("content-type", "")
    content_type = header.split(";")[0].strip().lower()
    if content_type not in CSV_TYPES:
        raise UnsupportedMediaType(
            f"send the file as text/csv (UTF-8), not {content_type or 'no content type'}",
            errors=[{"field": "content-type", "reason": "not_csv"}],
        )
    options = ReadOptions(
        encoding=parameters.charset or _content_charset(header) or "utf-8",
        date_format=parameters.date_format,
    )
    body = await spool(request.stream())
    try:
        result = await run_import(uow, importer_class(), body, parameters.mode, options)
    finally:
        body.close()
    return import_answer(request, result)


def import_answer(request: Request, result: ImportResult, items: str = "rows") -> JSONResponse:
    """An import's answer, whatever the file's format: the result (200) when it committed; else, in
    atomic mode with a bad ``items`` (rows, census items), 422 problem+json whose ``errors`` name each
    rejected one (row, line, column as ``field``, reason), with the result beside them."""
    payload = result.model_dump(mode="json")
    if result.committed:
        return JSONResponse(payload, status_code=200)
    problem = {
        "type": PROBLEM_BASE + "import_rejected",
        "title": "Import rejected",
        "status": 422,
        "detail": (
            f"{result.counts.rejected} of {result.counts.rows} {items} are not valid; in atomic mode "
            f"nothing was imported. Correct them, or import with mode=partial to apply the good {items}."
        ),
        "instance": request.url.path,
        "errors": [
            {
                "row": e.row,
                "line": e.line,
                "field": e.column,
                "reason": e.reason,
                "message": e.message,
                "value": e.value,
            }
            for e in result.rejected
        ],
        "result": payload,
    }
    return JSONResponse(problem, status_code=422, media_type=PROBLEM_JSON)
