"""``POST /v1/imports/csww`` and ``GET /v1/exports/csww``: the DfE children's social work workforce
census return (docs/integration.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from steadfast_shared.errors import UnsupportedMediaType
from steadfast_shared.http.app import new_router
from steadfast_shared.http.deps import UoWDep, get_runtime
from steadfast_shared.http.idempotency import IdempotencyDep
from steadfast_shared.http.imports import import_answer
from steadfast_shared.imports import ImportMode
from steadfast_shared.imports.csv import spool
from steadfast_staff.auth import Reader, Writer
from steadfast_staff.census.service import CensusImportResult, export_census, import_census
from steadfast_staff.settings import StaffSettings

router = new_router("/v1", tags=["census"])

XML_TYPES = {"application/xml", "text/xml"}
XML_MEDIA_TYPE = "application/xml"
CensusYearQuery = Annotated[
    int,
    Query(ge=2000, le=2100, description="the census year: the year to 30 September of this year"),
]

IMPORT_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": (
            "The census return as the DfE schema (CSWW 2022) writes it: a `Message` with its `CSWWWorker` "
            "items. The file is validated against the schema; document type declarations and entities are "
            "refused. Each item names its worker by `SWENo`: import the workers from HR first."
        ),
        "content": {
            "application/xml": {
                "schema": {"type": "string"},
                "example": (
                    "<Message><Header><CollectionDetails><Collection>CSWW</Collection><Year>2022</Year>"
                    "<ReferenceDate>2022-09-30</ReferenceDate></CollectionDetails></Header>"
                    "<LALevelVacancies><NumberOfVacancies>2.00</NumberOfVacancies><NoAgencyFTE>1.00"
                    "</NoAgencyFTE><NoAgencyHeadcount>1</NoAgencyHeadcount></LALevelVacancies>"
                    "<CSWWWorker><AgencyWorker>0</AgencyWorker><SWENo>SW0000123456</SWENo><FTE>1.000000</FTE>"
                    "<QualInst>University of Kent</QualInst><OrgRole>5</OrgRole>"
                    "<RoleStartDate>2019-09-02</RoleStartDate><FTE30>1.000000</FTE30><Cases30>17</Cases30>"
                    "</CSWWWorker></Message>"
                ),
            }
        },
    }
}


@router.post(
    "/imports/csww",
    summary="Import a CSWW census return (XML)",
    response_model=CensusImportResult,
    openapi_extra=IMPORT_OPENAPI,
)
async def import_csww(
    request: Request,
    uow: UoWDep,
    _: Writer,
    __: IdempotencyDep,
    mode: Annotated[
        ImportMode, Query(description="atomic: all or nothing; partial: apply the good items")
    ] = ImportMode.atomic,
    year: Annotated[
        int | None,
        Query(ge=2000, le=2100, description="the census year, when the file's header does not say it"),
    ] = None,
) -> JSONResponse:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in XML_TYPES:
        raise UnsupportedMediaType(
            f"send the census file as application/xml, not {content_type or 'no content type'}",
            errors=[{"field": "content-type", "reason": "not_xml"}],
        )
    body = await spool(request.stream())
    try:
        result = await import_census(uow, body, mode, year)
    finally:
        body.close()
    return import_answer(request, result, "items")


@router.get(
    "/exports/csww",
    summary="The CSWW census return for a year (XML, streamed)",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {XML_MEDIA_TYPE: {"schema": {"type": "string"}}},
            "description": (
                "The census XML, valid against the DfE schema (CSWW 2022): the workers in post on some day "
                "from 1 October of the year before to 30 September, from their employment records and the "
                "census facts imported for the year. Workers without a Social Work England number are left "
                "out and counted in a comment at the end."
            ),
        }
    },
)
async def export_csww(request: Request, _: Reader, year: CensusYearQuery) -> StreamingResponse:
    runtime = get_runtime(request)
    settings = runtime.settings
    assert isinstance(settings, StaffSettings)
    chunks = export_census(
        runtime.database,
        year,
        la_code=settings.census_la_code,
        page_size=settings.census_export_page_size,
    )
    return StreamingResponse(
        chunks,
        media_type=f"{XML_MEDIA_TYPE}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="csww-{year}.xml"'},
    )
