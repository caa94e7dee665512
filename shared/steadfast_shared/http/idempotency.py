"""``Idempotency-Key`` on creates: a retried POST returns the first answer instead of creating twice.

A create endpoint takes :data:`IdempotencyDep`. With the header present, the first request's status,
body and headers are stored (per caller and key) in the same transaction as the change; a retry with
the same key and the same body gets that stored answer, a retry with the same key and a different body
gets 422, and two concurrent requests with one key cannot both commit (the key is the primary key).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from sqlalchemy import insert, select

from steadfast_shared.auth import Principal
from steadfast_shared.db.types import utcnow
from steadfast_shared.errors import ValidationFailed
from steadfast_shared.http.deps import get_principal, get_uow
from steadfast_shared.uow import UnitOfWork

_REPLAYED_HEADERS = ("location", "etag", "content-type")


@dataclass(frozen=True)
class IdempotencyKey:
    key: str
    request_hash: str
    principal: str


class IdempotentReplay(Exception):
    """Raised to answer with a stored response; caught by the transactional route."""

    def __init__(self, status_code: int, body: bytes, headers: dict[str, str]) -> None:
        super().__init__("idempotent replay")
        self.status_code = status_code
        self.body = body
        self.headers = headers

    def response(self) -> Response:
        headers = dict(self.headers)
        headers["Idempotent-Replayed"] = "true"
        media_type = headers.pop("content-type", "application/json")
        return Response(
            content=self.body, status_code=self.status_code, headers=headers, media_type=media_type
        )


async def idempotency_key(
    request: Request,
    principal: Annotated[Principal, Depends(get_principal)],
    uow: Annotated[UnitOfWork, Depends(get_uow)],
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=200,
            description="Any unique string; a retry with the same key returns the first answer",
        ),
    ] = None,
) -> IdempotencyKey | None:
    if key is None:
        return None
    body = await request.body()
    request_hash = hashlib.sha256(
        request.method.encode() + b" " + request.url.path.encode() + b"\n" + body
    ).hexdigest()
    table = uow.tables.idempotency_keys
    stored = (
        await uow.session.execute(
            select(table).where(table.c.principal == principal.subject, table.c.key == key)
        )
    ).first()
    if stored is not None:
        if stored.request_hash != request_hash:
            raise ValidationFailed.field(
                "Idempotency-Key",
                "key_reused",
                "this Idempotency-Key was already used for a different request",
            )
        headers: dict[str, Any] = json.loads(stored.response_headers)
        raise IdempotentReplay(stored.status_code, stored.response_body.encode(), headers)
    marker = IdempotencyKey(key=key, request_hash=request_hash, principal=principal.subject)
    request.state.idempotency_key = marker
    return marker


async def store_idempotent_response(request: Request, uow: UnitOfWork, response: Response) -> None:
    marker: IdempotencyKey | None = getattr(request.state, "idempotency_key", None)
    if marker is None:
        return
    body = bytes(response.body) if hasattr(response, "body") else b""
    headers = {k: v for k, v in response.headers.items() if k.lower() in _REPLAYED_HEADERS}
    await uow.session.execute(
        insert(uow.tables.idempotency_keys).values(
            principal=marker.principal,
            key=marker.key,
            method=request.method,
            path=request.url.path[:500],
            request_hash=marker.request_hash,
            status_code=response.status_code,
            response_body=body.decode("utf-8", errors="replace"),
            response_headers=json.dumps(headers),
            created_at=utcnow(),
        )
    )


IdempotencyDep = Annotated[IdempotencyKey | None, Depends(idempotency_key)]
