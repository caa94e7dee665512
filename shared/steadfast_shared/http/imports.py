"""The HTTP side of ``POST /v1/imports/{kind}``: content type, streaming the body, the answer.

``atomic`` mode with a bad row answers 422 problem+json whose ``errors`` list every rejected row (row,
column, reason) and writes nothing; otherwise the answer is the :class:`ImportResult` (200).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from steadfast_shared.errors import PROBLEM_BASE, NotFound, UnsupportedMediaType
from steadfast_shared.http.problems import PROBLEM_JSON
from steadfast_shared.imports.csv import Importer, ImportMode, run_import, spool
from steadfast_shared.uow import UnitOfWork

CSV_TYPES = {"text/csv", "application/csv", "text/plain"}


async def import_csv(
    request: Request,
    uow: UnitOfWork,
    importers: Mapping[str, type[Importer[Any]]],
    kind: str,
    mode: ImportMode,
) -> JSONResponse:
    importer_class = importers.get(kind)
    if importer_class is None:
        raise NotFound(
            f"no import of kind {kind!r} here; this service imports: {', '.join(sorted(importers))}",
            errors=[{"field": "kind", "reason": "unknown_import_kind", "allowed": sorted(importers)}],
        )
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in CSV_TYPES:
        raise UnsupportedMediaType(
            f"send the file as text/csv (UTF-8), not {content_type or 'no content type'}",
            errors=[{"field": "content-type", "reason": "not_csv"}],
        )
    body = await spool(request.stream())
    try:
        result = await run_import(uow, importer_class(), body, mode)
    finally:
        body.close()
    payload = result.model_dump(mode="json")
    if result.committed:
        return JSONResponse(payload, status_code=200)
    problem = {
        "type": PROBLEM_BASE + "import_rejected",
        "title": "Import rejected",
        "status": 422,
        "detail": (
            f"{result.counts.rejected} of {result.counts.rows} rows are not valid; in atomic mode nothing "
            "was imported. Correct them, or import with mode=partial to apply the good rows."
        ),
        "instance": request.url.path,
        "errors": [
            {
                "row": e.row,
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
