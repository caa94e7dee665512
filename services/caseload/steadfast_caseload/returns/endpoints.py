"""The statutory returns' routes: the SSDA903 social worker episodes file in and out, the Annex A
workbook in. Imports answer as every import does (``ImportResult``; a 422 problem listing the bad rows in
atomic mode); the export streams a CSV file."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from steadfast_caseload.auth import Reader, Writer
from steadfast_caseload.returns.annex_a_import import AnnexAImport
from steadfast_caseload.returns.schemas import AnnexAResult
from steadfast_caseload.returns.service import SocialWorkerEpisodesImporter, social_worker_episodes_file
from steadfast_shared.access import ChildReadsDep
from steadfast_shared.dates import today
from steadfast_shared.errors import UnsupportedMediaType
from steadfast_shared.http.app import new_router
from steadfast_shared.http.deps import RuntimeDep, UoWDep
from steadfast_shared.http.idempotency import IdempotencyDep
from steadfast_shared.http.imports import ImportParameters, ImportParametersDep, import_answer, import_csv
from steadfast_shared.http.openapi import csv_import_openapi
from steadfast_shared.imports import ImportMode, ImportResult
from steadfast_shared.imports.csv import spool
from steadfast_shared.imports.normalise import DateFormat
from steadfast_shared.schemas import Day

router = new_router("/v1", tags=["returns"])

SSDA903_KIND = SocialWorkerEpisodesImporter.kind
_IMPORTERS = {SSDA903_KIND: SocialWorkerEpisodesImporter}


@router.post(
    f"/imports/{SSDA903_KIND}",
    summary="Import an SSDA903 social worker episodes file into the allocations",
    description=(
        "The DfE's SSDA903 social worker episodes file (CHILD, DOB, SW_ID, SW_DECOM, SW_DEC, SW_REASON; "
        "dates DD/MM/YYYY, ISO dates read too). Each row is an allocation of the child (CHILD, its "
        "external id) to the worker (SW_ID, the worker's external id, or XX followed by it) from "
        "SW_DECOM to SW_DEC, with SW_REASON as the reason for the change of worker; only the year of DOB "
        "is kept. A child has one social worker at a time: an episode overlapping another of the "
        "child's is refused (overlapping_episode), as are an unknown child or worker, an end on or "
        "before the start and a reason that is not a 903 code. Importing the same file again changes "
        "and publishes nothing."
    ),
    response_model=ImportResult,
    openapi_extra=csv_import_openapi(_IMPORTERS),
)
async def import_social_worker_episodes(
    request: Request,
    uow: UoWDep,
    _: Writer,
    __: IdempotencyDep,
    parameters: ImportParametersDep,
) -> JSONResponse:
    # The file's dates are DD/MM/YYYY by the DfE's specification: read them so without being told.
    read = ImportParameters(mode=parameters.mode, charset=parameters.charset, date_format=DateFormat.uk)
    return await import_csv(request, uow, _IMPORTERS, SSDA903_KIND, read)


@router.get(
    f"/exports/{SSDA903_KIND}",
    summary="The SSDA903 social worker episodes file of a collection year (CSV, streamed)",
    description=(
        "For each child looked after on 31 March of `year` (a cla episode active that day), the child's "
        "social worker episodes under way in the collection year (1 April to 31 March): one social worker "
        "at a time (where allocations overlap, the one begun last), SW_ID the worker's external id "
        "(XX in front of one that does not begin SW or XX), SW_DEC empty for an episode open on 31 "
        "March, SW_REASON the recorded reason (FCONTA for a first worker, OTHERS for a change whose "
        "reason was not recorded), DOB empty (only the year of birth is held). Streamed in pages of "
        "children; each child read is logged in the access log."
    ),
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "the CSV file"}},
)
async def export_social_worker_episodes(
    _: Reader,
    reads: ChildReadsDep,
    runtime: RuntimeDep,
    year: Annotated[
        int,
        Query(ge=2000, le=2100, description="the collection year: the one ending on 31 March of this year"),
    ],
) -> StreamingResponse:
    return StreamingResponse(
        social_worker_episodes_file(runtime, reads, year),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="ssda903-social-workers-{year}.csv"'},
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_XLSX_TYPES = {XLSX, "application/octet-stream"}


@router.post(
    "/imports/annex-a",
    summary="Import Ofsted's Annex A workbook (lists 4, 6, 7 and 8)",
    description=(
        "The Annex A workbook (.xlsx, one sheet per list, the sheets named `List 4`, `List 6`...): list 4 "
        "(assessments), 6 (children in need), 7 (child protection) and 8 (children looked after) become "
        "the children's episodes, assessments, last visits, reviews and IRO visits, as the caseload CSV "
        "imports record them, and the allocated worker (by external id or name) an allocation held on "
        "`as_of`; only the year of the date of birth is kept. Other sheets are not read. A workbook with "
        "macros is refused (415); a formula in a cell that is read, a bad date, a missing child id or an "
        "unknown worker is a row error naming the sheet, row, column and reason. Columns not in Ofsted's "
        "layout are listed in the answer and ignored."
    ),
    response_model=AnnexAResult,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The Annex A workbook (.xlsx).",
            "content": {
                XLSX: {
                    "schema": {"type": "string", "format": "binary"},
                    "examples": {
                        "annex-a": {
                            "summary": "Ofsted's Annex A workbook: sheets List 1 ... List 11",
                            "value": "<the .xlsx file's bytes>",
                        }
                    },
                }
            },
        }
    },
)
async def import_annex_a(
    request: Request,
    uow: UoWDep,
    _: Writer,
    __: IdempotencyDep,
    runtime: RuntimeDep,
    mode: Annotated[
        ImportMode, Query(description="atomic: all or nothing; partial: apply the good rows")
    ] = ImportMode.atomic,
    as_of: Annotated[
        Day | None, Query(description="the day the workbook's lists were drawn up; default today")
    ] = None,
) -> JSONResponse:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in _XLSX_TYPES:
        raise UnsupportedMediaType(
            f"send the workbook as {XLSX}, not {content_type or 'no content type'}",
            errors=[{"field": "content-type", "reason": "not_xlsx"}],
        )
    body = await spool(request.stream(), max_bytes=runtime.settings.max_import_bytes)
    try:
        result = await AnnexAImport(uow, mode, as_of or today()).run(body)
    finally:
        body.close()
    return import_answer(request, result)
