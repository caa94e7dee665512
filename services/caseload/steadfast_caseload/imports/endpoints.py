"""``POST /v1/imports/{kind}``: the case-management system's bulk extracts (SPEC section 4).

Kinds: ``children`` (one row per episode), ``allocations``, ``assessments``, ``visits``, ``reviews`` and
``iro_visits``; see :mod:`steadfast_caseload.imports.importers` for each file's key and rules.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from steadfast_caseload.auth import Writer
from steadfast_caseload.imports.importers import IMPORTERS
from steadfast_shared.http.app import new_router
from steadfast_shared.http.deps import UoWDep
from steadfast_shared.http.idempotency import IdempotencyDep
from steadfast_shared.http.imports import ImportParametersDep, import_csv
from steadfast_shared.http.openapi import csv_import_openapi
from steadfast_shared.imports import ImportResult

router = new_router("/v1/imports", tags=["imports"])


@router.post(
    "/{kind}",
    summary="Import a caseload CSV extract (children, allocations, assessments, visits, reviews, iro_visits)",
    description=(
        "Upserts each row by its key (an external_id, or the natural key: an episode by child, type and "
        "start; an allocation by child, worker and start date; a visit by child, date and type; a review "
        "or IRO visit by child and date). Importing the same file again changes and publishes nothing. "
        "A row naming an unknown child or worker, or breaking a rule, is reported with its row, column "
        "and reason; atomic mode then imports nothing, partial mode imports the good rows."
    ),
    response_model=ImportResult,
    openapi_extra=csv_import_openapi(IMPORTERS),
)
async def import_file(
    kind: str,
    request: Request,
    uow: UoWDep,
    _: Writer,
    __: IdempotencyDep,
    parameters: ImportParametersDep,
) -> JSONResponse:
    return await import_csv(request, uow, IMPORTERS, kind, parameters)
