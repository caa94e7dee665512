"""FastAPI dependencies every service uses: the unit of work, the caller, the scopes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from steadfast_shared.auth import Principal, TokenVerifier
from steadfast_shared.errors import Unauthorized
from steadfast_shared.service import Runtime
from steadfast_shared.uow import UnitOfWork

#: Requests that only read: their unit of work begins a read-only transaction (see ``db.engine``), which on
#: SQLite does not queue behind a writer.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_WRITES_ON_READ = "steadfast_writes_on_read"

D = TypeVar("D", bound=Callable[..., object])

_bearer = HTTPBearer(auto_error=False, description="A JWT with the scopes the endpoint needs")


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def writes_on_read(dependency: D) -> D:
    """Mark a dependency whose routes write even when they answer a ``GET`` (the access log does).

    A request to a route that depends on it gets a writing unit of work (on SQLite, ``BEGIN IMMEDIATE``),
    so its write cannot fail half-way on a snapshot another writer made stale.
    """
    setattr(dependency, _WRITES_ON_READ, True)
    return dependency


def _route_writes_on_read(request: Request) -> bool:
    route = request.scope.get("route")
    if route is None:
        return False
    known: bool | None = getattr(route, _WRITES_ON_READ, None)
    if known is None:
        dependant = getattr(route, "dependant", None)
        known = dependant is not None and any(
            getattr(d.call, _WRITES_ON_READ, False) for d in _dependencies(dependant)
        )
        setattr(route, _WRITES_ON_READ, known)
    return known


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for dependency in dependant.dependencies:
        yield dependency
        yield from _dependencies(dependency)


def get_uow(request: Request) -> UnitOfWork:
    """The request's unit of work. The route class commits it once, after the endpoint returns.

    A ``GET`` (``HEAD``, ``OPTIONS``) request's session comes from the read session factory: on SQLite its
    transaction begins deferred, so a read answers while another transaction holds the write lock. A
    route that writes on a read (see :func:`writes_on_read`) gets the writing factory.
    """
    existing: UnitOfWork | None = getattr(request.state, "uow", None)
    if existing is not None:
        return existing
    runtime = get_runtime(request)
    relay = getattr(request.app.state, "relay", None)
    database = runtime.database
    reads_only = request.method in READ_METHODS and not _route_writes_on_read(request)
    factory = database.read_sessionmaker if reads_only else database.sessionmaker
    session = factory()
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
    verified = getattr(request.state, "principal", None)
    if isinstance(verified, Principal):
        return verified  # the request guard verified the token before the body was read
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
    # The declaration the OpenAPI document (``security``) and the authorisation matrix test read.
    dependency.required_scope = scope  # type: ignore[attr-defined]
    return dependency


def required_scope(dependency: object) -> str | None:
    """The scope a :func:`require_scope` dependency requires, or None for any other callable."""
    scope = getattr(dependency, "required_scope", None)
    return scope if isinstance(scope, str) else None


UoWDep = Annotated[UnitOfWork, Depends(get_uow)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
