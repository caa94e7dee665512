"""FastAPI dependencies every service uses: the unit of work, the caller, the scopes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from steadfast_shared.auth import Principal, TokenVerifier
from steadfast_shared.errors import Unauthorized
from steadfast_shared.service import Runtime
from steadfast_shared.uow import UnitOfWork

_bearer = HTTPBearer(auto_error=False, description="A JWT with the scopes the endpoint needs")


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_uow(request: Request) -> UnitOfWork:
    """The request's unit of work. The route class commits it once, after the endpoint returns."""
    existing: UnitOfWork | None = getattr(request.state, "uow", None)
    if existing is not None:
        return existing
    runtime = get_runtime(request)
    relay = getattr(request.app.state, "relay", None)
    session = runtime.database.sessionmaker()
    uow = UnitOfWork(
        session,
        tables=runtime.definition.tables,
        registry=runtime.definition.registry,
        on_commit=relay.wake if relay is not None else None,
    )
    request.state.uow = uow
    return uow


async def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized(
            "send a bearer token: Authorization: Bearer <JWT>",
            errors=[{"field": "authorization", "reason": "missing_token"}],
        )
    verifier: TokenVerifier = request.app.state.token_verifier
    principal = await verifier.verify(credentials.credentials)
    request.state.principal = principal
    return principal


def require_scope(scope: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that authenticates the caller and requires ``scope`` (403 without it)."""

    async def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        principal.require(scope)
        return principal

    dependency.__name__ = f"require_{scope.replace(':', '_')}"
    return dependency


UoWDep = Annotated[UnitOfWork, Depends(get_uow)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
