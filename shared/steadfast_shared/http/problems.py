"""RFC 9457 problem+json for every failure: domain errors, validation, routing, auth and the unexpected."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from steadfast_shared.errors import PROBLEM_BASE, Conflict, SteadfastError

log = structlog.get_logger(__name__)

PROBLEM_JSON = "application/problem+json"

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
    503: "service_unavailable",
}

#: Seconds a client is asked to wait before retrying when the database was busy.
BUSY_RETRY_AFTER_SECONDS = 5


#: How many field errors a validation problem lists (the count of all is given beside them).
MAX_LISTED_ERRORS = 100


def problem_response(
    problem: dict[str, Any], request: Request, headers: dict[str, str] | None = None
) -> JSONResponse:
    problem.setdefault("instance", request.url.path)
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        problem.setdefault("request_id", request_id)
    response_headers = dict(headers or {})
    if problem["status"] == 401:
        response_headers.setdefault("WWW-Authenticate", 'Bearer realm="steadfast"')
    return JSONResponse(
        problem, status_code=problem["status"], media_type=PROBLEM_JSON, headers=response_headers
    )


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:] or parts
    return ".".join(parts)


async def _on_domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SteadfastError)
    return problem_response(exc.to_problem(), request)


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for err in exc.errors():
        loc = err.get("loc", ())
        errors.append(
            {
                "field": _field(loc),
                "in": str(loc[0]) if loc else "body",
                "reason": err.get("type", "invalid"),
                "message": err.get("msg", ""),
            }
        )
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    problem: dict[str, Any] = {
        "type": PROBLEM_BASE + "validation_failed",
        "title": "Validation failed",
        "status": 422,
        "detail": detail or "the request is not valid",
        "errors": errors[:MAX_LISTED_ERRORS],
    }
    if len(errors) > MAX_LISTED_ERRORS:
        problem["errors_total"] = len(errors)
        problem["detail"] += f" (the first {MAX_LISTED_ERRORS} of {len(errors)} errors are listed)"
    return problem_response(problem, request)


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(exc.status_code, "http_error")
    problem = {
        "type": PROBLEM_BASE + code,
        "title": code.replace("_", " ").capitalize(),
        "status": exc.status_code,
        "detail": str(exc.detail),
    }
    return problem_response(problem, request, headers=dict(exc.headers or {}))


async def _on_integrity_error(request: Request, exc: Exception) -> JSONResponse:
    log.warning("http.integrity_error", error=str(exc.__cause__ or exc)[:500])
    conflict = Conflict("the change conflicts with data already stored (a duplicate, or a concurrent change)")
    return problem_response(conflict.to_problem(), request)


def database_busy(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite's "database is locked" (the write lock was held past the busy timeout):
    a transient condition, not a fault of the request."""
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig or exc)


async def _on_operational_error(request: Request, exc: Exception) -> JSONResponse:
    if not database_busy(exc):
        return await _on_unexpected(request, exc)
    log.warning("http.database_busy", route=getattr(request.scope.get("route"), "path", None))
    return _busy(
        request,
        "another change held the database for too long (a long atomic import?); nothing was changed: "
        "retry the request",
    )


async def _on_pool_timeout(request: Request, exc: Exception) -> JSONResponse:
    log.warning("http.database_pool_exhausted", route=getattr(request.scope.get("route"), "path", None))
    return _busy(
        request,
        "every database connection of this instance was in use for as long as a request may wait for "
        "one; nothing was changed: retry the request",
    )


def _busy(request: Request, detail: str) -> JSONResponse:
    """503 ``database_busy`` with ``Retry-After``: a transient condition, not a fault of the request."""
    problem = {
        "type": PROBLEM_BASE + "database_busy",
        "title": "Database busy",
        "status": 503,
        "detail": detail,
    }
    return problem_response(problem, request, headers={"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)})


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("http.unhandled_error", path=request.url.path)
    problem = {
        "type": PROBLEM_BASE + "internal_error",
        "title": "Internal error",
        "status": 500,
        "detail": "an unexpected error occurred; the request id identifies it in the logs",
    }
    return problem_response(problem, request)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(SteadfastError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(IntegrityError, _on_integrity_error)
    app.add_exception_handler(OperationalError, _on_operational_error)
    app.add_exception_handler(PoolTimeout, _on_pool_timeout)
    app.add_exception_handler(Exception, _on_unexpected)
