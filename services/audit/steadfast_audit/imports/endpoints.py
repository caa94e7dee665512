"""``POST /v1/imports/audits``: the audit system's bulk extract (SPEC section 4); see
:mod:`steadfast_audit.imports.importers` for the columns and rules."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from steadfast_audit.audits.endpoints import elements_of
from steadfast_audit.auth import Writer
from steadfast_audit.imports.importers import importers_for
from steadfast_audit.settings import DEFAULT_ELEMENTS
from steadfast_shared.http.app import new_router
from steadfast_shared.http.deps import RuntimeDep, UoWDep
from steadfast_shared.http.idempotency import IdempotencyDep
from steadfast_shared.http.imports import ImportParametersDep, import_csv
from steadfast_shared.http.openapi import csv_import_openapi
from steadfast_shared.imports import ImportResult

router = new_router("/v1/imports", tags=["imports"])


@router.post(
    "/{kind}",
    summary="Import an audit CSV extract (audits)",
    description=(
        "Upserts each audit by its external_id. Importing the same file again changes and publishes "
        "nothing. A row naming an unknown worker, or breaking a rule (completed without an overall grade, "
        "an unknown element), is reported with its row, column and reason; atomic mode then imports "
        "nothing, partial mode imports the good rows."
    ),
    response_model=ImportResult,
    openapi_extra=csv_import_openapi(
        importers_for(DEFAULT_ELEMENTS),
        note="Audits also take one `<element>_grade` column per audit element the service is set up with "
        f"(by default: {', '.join(DEFAULT_ELEMENTS)}).",
    ),
)
async def import_file(
    kind: str,
    request: Request,
    uow: UoWDep,
    runtime: RuntimeDep,
    _: Writer,
    __: IdempotencyDep,
    parameters: ImportParametersDep,
) -> JSONResponse:
    return await import_csv(request, uow, importers_for(elements_of(runtime)), kind, parameters)
