"""The ledger's HTTP API: thin endpoints over :mod:`tests.support.ledger.service`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from pydantic import BaseModel, ConfigDict

from steadfast_shared.auth import Principal
from steadfast_shared.http.app import new_router
from steadfast_shared.http.concurrency import check_if_match, set_etag
from steadfast_shared.http.deps import UoWDep, require_scope
from steadfast_shared.http.idempotency import IdempotencyDep
from tests.support.ledger import service

READ = "ledger:read"
WRITE = "ledger:write"

router = new_router("/v1/entries", tags=["entries"])

ReaderDep = Annotated[Principal, Depends(require_scope(READ))]
WriterDep = Annotated[Principal, Depends(require_scope(WRITE))]


class EntryIn(BaseModel):
    key: str
    amount: int


class AdjustmentIn(BaseModel):
    delta: int


class EntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    key: str
    amount: int
    version: int


@router.post("", status_code=201)
async def open_entry(
    body: EntryIn, uow: UoWDep, _: WriterDep, __: IdempotencyDep, response: Response
) -> EntryOut:
    entry = await service.open_entry(uow, body.key, body.amount)
    set_etag(response, entry.version)
    response.headers["Location"] = f"/v1/entries/{entry.id}"
    return EntryOut.model_validate(entry)


@router.get("/{entry_id}")
async def get_entry(entry_id: str, uow: UoWDep, _: ReaderDep, response: Response) -> EntryOut:
    entry = await service.get_entry(uow, entry_id)
    set_etag(response, entry.version)
    return EntryOut.model_validate(entry)


@router.post("/{entry_id}/adjustments")
async def adjust_entry(
    entry_id: str,
    body: AdjustmentIn,
    uow: UoWDep,
    _: WriterDep,
    request: Request,
    response: Response,
) -> EntryOut:
    current = await service.get_entry(uow, entry_id, for_update=True)
    check_if_match(request, current.version)
    entry = await service.adjust_entry(uow, entry_id, body.delta)
    set_etag(response, entry.version)
    return EntryOut.model_validate(entry)
