from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse

from steadfast_shared.auth import Principal
from steadfast_shared.http.app import new_router
from steadfast_shared.http.deps import UoWDep, require_scope
from steadfast_shared.http.idempotency import IdempotencyDep
from steadfast_shared.http.imports import ImportParametersDep, import_csv
from steadfast_shared.http.openapi import csv_import_openapi
from steadfast_shared.imports import Importer, ImportResult
from steadfast_staff.workers.importer import WorkersImporter

router = new_router("/v1/imports", tags=["imports"])

IMPORTERS: dict[str, type[Importer[Any]]] = {"workers": WorkersImporter}


@router.post(
    "/{kind}",
    summary="Import a CSV file (upsert by external_id)",
    response_model=ImportResult,
    openapi_extra=csv_import_openapi(IMPORTERS),
)
async def import_file(
    kind: str,
    request: Request,
    uow: UoWDep,
    _: Annotated[Principal, Depends(require_scope("staff:write"))],
    __: IdempotencyDep,
    parameters: ImportParametersDep,
) -> JSONResponse:
    return await import_csv(request, uow, IMPORTERS, kind, parameters)
