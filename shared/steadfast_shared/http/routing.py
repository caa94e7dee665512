"""The route class that owns the request's transaction.

Endpoints never commit. After the endpoint returns (and its response is rendered), the route class
stores the ``Idempotency-Key`` answer if there is one, commits the unit of work once, and only then
lets the response go: a client never sees a 2xx for a change that did not commit. Any exception rolls
the unit of work back before the problem+json handler renders it.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from steadfast_shared.http.idempotency import IdempotentReplay, store_idempotent_response
from steadfast_shared.uow import UnitOfWork


class TransactionalRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except IdempotentReplay as replay:
                await _close(request, commit=False)
                return replay.response()
            except BaseException:
                await _close(request, commit=False)
                raise
            try:
                uow: UnitOfWork | None = getattr(request.state, "uow", None)
                if uow is not None and response.status_code < 400:
                    await store_idempotent_response(request, uow, response)
                await _close(request, commit=response.status_code < 400)
            except BaseException:
                await _close(request, commit=False)
                raise
            return response

        return route_handler


async def _close(request: Request, *, commit: bool) -> None:
    uow: UnitOfWork | None = getattr(request.state, "uow", None)
    if uow is None:
        return
    request.state.uow = None
    try:
        if commit:
            await uow.commit()
        else:
            await uow.rollback()
    finally:
        await uow.session.close()
