"""The authorisation matrix (hardening issue, security controls): every operation of every service's
OpenAPI against every kind of caller.

The scope an operation needs is declared once, by the ``require_scope`` dependency its endpoint takes
(``steadfast_<service>/auth.py``); :func:`steadfast_shared.http.openapi.operations` reads that
declaration. For each operation and caller the expected answer follows from it:

- no token, a forged or expired token, one from another issuer or for another audience: 401 (under
  ``/v1``);
- a token without the operation's scope (another service's, the other verb's, ``ops:admin``): 403;
- a token with it: neither 401 nor 403 (a 404 or 422 for the made-up ids and empty bodies is fine).

An operation of the OpenAPI document that the route declarations do not account for, or an API
operation that declares no scope, fails the test: a route added later cannot go unchecked.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from steadfast_audit.bootstrap import definition as audit
from steadfast_caseload.bootstrap import definition as caseload
from steadfast_metrics.bootstrap import definition as metrics
from steadfast_shared.auth import ALL_SCOPES, mint_local_token
from steadfast_shared.http.openapi import Operation, operations
from steadfast_shared.service import ServiceDefinition
from steadfast_shared.testing import ServiceClient, bearer, mint_token
from steadfast_staff.bootstrap import definition as staff

pytestmark = pytest.mark.integration

SERVICES = {"staff": staff, "caseload": caseload, "audit": audit, "metrics": metrics}

ISSUER = "https://idp.council.example"
AUDIENCE = "steadfast"

#: The operational routes every service answers without a token (SPEC section 6).
PUBLIC = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics")}


@dataclass(frozen=True)
class Caller:
    name: str
    #: The scopes the caller's token carries; None when the caller cannot authenticate at all.
    scopes: frozenset[str] | None
    headers: dict[str, str]


def callers(service: ServiceClient) -> list[Caller]:
    settings = service.settings
    refused = [
        Caller("no token", None, {}),
        Caller("not a bearer token", None, {"Authorization": "Basic dXNlcjpwYXNz"}),
        Caller(
            "forged (another key)",
            None,
            bearer(
                mint_local_token(
                    "not-the-service-key-" + uuid.uuid4().hex,
                    issuer=settings.jwt_issuer,
                    audience=settings.jwt_audience,
                )
            ),
        ),
        Caller("expired", None, bearer(mint_token(settings, *ALL_SCOPES, ttl=timedelta(minutes=-5)))),
        Caller(
            "another issuer",
            None,
            bearer(
                mint_local_token(
                    settings.signing_secret(), issuer="someone-else", audience=settings.jwt_audience
                )
            ),
        ),
        Caller(
            "another audience",
            None,
            bearer(
                mint_local_token(settings.signing_secret(), issuer=settings.jwt_issuer, audience="elsewhere")
            ),
        ),
        Caller("garbage", None, {"Authorization": "Bearer not.a.jwt"}),
    ]
    scoped = [Caller(scope, frozenset({scope}), bearer(mint_token(settings, scope))) for scope in ALL_SCOPES]
    scoped.append(Caller("no scope at all", frozenset(), bearer(mint_token(settings))))
    scoped.append(Caller("every scope", frozenset(ALL_SCOPES), bearer(mint_token(settings, *ALL_SCOPES))))
    return refused + scoped


def expected(operation: Operation, caller: Caller) -> str:
    """``401``, ``403`` or ``allowed`` (anything but 401 and 403)."""
    if not operation.protected:
        return "allowed"
    if caller.scopes is None:
        return "401"
    return "allowed" if set(operation.scopes) <= caller.scopes else "403"


def concrete_path(operation: Operation) -> str:
    path = operation.path
    for name in operation.path_parameters:
        path = path.replace("{" + name + "}", str(uuid.uuid4()))
    return path


async def answer(service: ServiceClient, operation: Operation, caller: Caller) -> int:
    request: dict[str, Any] = {"headers": dict(caller.headers)}
    if operation.csv_import:
        request["content"] = b"external_id\n"
        request["headers"]["Content-Type"] = "text/csv"
    elif operation.reads_body:
        request["json"] = {}
    response = await service.http.request(operation.method, concrete_path(operation), **request)
    return response.status_code


def documented_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    methods = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}
    return {
        (method.upper(), path)
        for path, entries in document["paths"].items()
        for method in entries
        if method in methods
    }


@pytest.mark.parametrize("name", sorted(SERVICES))
async def test_every_operation_answers_every_caller_as_its_scope_declares(
    name: str, start_service: Callable[..., Awaitable[ServiceClient]]
) -> None:
    definition: ServiceDefinition = SERVICES[name]
    # An issuer and an audience configured, so that a token from elsewhere is told apart.
    service = await start_service(
        definition, consumers_enabled=False, jwt_issuer=ISSUER, jwt_audience=AUDIENCE
    )
    document = (await service.http.get("/openapi.json")).json()
    declared = operations(service.app)
    by_key = {(o.method, o.path): o for o in declared}

    missing = documented_operations(document) - set(by_key)
    assert not missing, f"{name}: operations in the OpenAPI with no entry in the matrix: {sorted(missing)}"
    unscoped = [key for key, o in by_key.items() if o.protected and not o.scopes]
    assert not unscoped, f"{name}: API operations that declare no scope (use require_scope): {unscoped}"
    public = {key for key, o in by_key.items() if not o.protected}
    assert public == PUBLIC, f"{name}: the routes answered without a token are {sorted(public)}"
    assert len(declared) >= 8

    wrong: list[str] = []
    checked = 0
    for operation in declared:
        # The security each operation documents is the scope its dependency declares.
        entry = document["paths"][operation.path][operation.method.lower()]
        documented_security = [{"bearer": list(operation.scopes)}] if operation.protected else []
        if entry.get("security") != documented_security:
            wrong.append(f"{operation.method} {operation.path} documents security {entry.get('security')}")
        for caller in callers(service):
            status = await answer(service, operation, caller)
            checked += 1
            want = expected(operation, caller)
            got = str(status) if status in {401, 403} else "allowed"
            if got != want:
                wrong.append(
                    f"{operation.method} {operation.path} needs {list(operation.scopes)}; "
                    f"{caller.name}: {status}, expected {want}"
                )
    assert not wrong, f"{name}: {len(wrong)} of {checked} answers are wrong:\n" + "\n".join(wrong)
