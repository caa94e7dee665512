"""The outermost checks of every request, before any body is read or parsed.

- **Authenticate first.** A request to an API route (``/v1/...``) must carry a valid bearer token
  before its body is read: an anonymous client cannot make a service parse anything. The scope is
  still checked by each route's dependency (:func:`steadfast_shared.http.deps.require_scope`), which
  reuses the principal verified here.
- **Rate-limit writes and imports.** Once the client is known, a write or an import spends one unit of
  its budget (:mod:`steadfast_shared.http.ratelimit`): past it, a 429 problem with ``Retry-After``.
- **Cap bodies.** A JSON body is at most ``max_request_body_bytes`` (1 MiB by default) and a CSV
  import at most ``max_import_bytes``: a ``Content-Length`` over the cap, or a streamed body that
  grows past it, is a 413 problem before the application sees it.
- **No control characters in the URL.** A path or query parameter holding a C0 control character
  (``%00``...) is a 422 naming it, the rule :class:`steadfast_shared.schemas.Input` applies to bodies
  and CSV cells (PostgreSQL cannot even compare a string holding a NUL).
- **Contain the unexpected.** An exception no handler knows becomes a 500 problem here and is not
  re-raised, so the server keeps the client's keep-alive connection open for its next request.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import structlog
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from steadfast_shared.auth import Principal, TokenVerifier
from steadfast_shared.errors import (
    PROBLEM_BASE,
    PayloadTooLarge,
    SteadfastError,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
)
from steadfast_shared.http.problems import problem_response
from steadfast_shared.http.ratelimit import Allowance, RateLimits
from steadfast_shared.schemas import control_character

log = structlog.get_logger(__name__)

API_PREFIX = "/v1/"
IMPORT_PREFIX = "/v1/imports/"


class RequestGuard:
    """Pure ASGI middleware: authentication before the body, rate limits, body caps, and a 500 that
    keeps the line."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        max_import_bytes: int,
        rate_limits: RateLimits | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_import_bytes = max_import_bytes
        self.rate_limits = rate_limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        path: str = scope.get("path", "")
        started = False
        allowance: Allowance | None = None

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if allowance is not None:
                    headers = list(message.get("headers", []))
                    headers += [(k.lower().encode(), v.encode()) for k, v in allowance.headers().items()]
                    message = {**message, "headers": headers}
            await send(message)

        try:
            if path.startswith(API_PREFIX):
                principal = await self._authenticate(request)
                _refuse_control_characters(scope)
                if self.rate_limits is not None:
                    allowance = await self.rate_limits.spend(request.method, path, principal.subject)
                limit = self.max_import_bytes if path.startswith(IMPORT_PREFIX) else self.max_body_bytes
                receive = await self._capped(request, receive, limit, buffer=limit == self.max_body_bytes)
            await self.app(scope, receive, tracking_send)
        except SteadfastError as exc:
            if started:
                raise
            headers = exc.headers if isinstance(exc, TooManyRequests) else None
            await problem_response(exc.to_problem(), request, headers)(scope, receive, send)
        except Exception:
            log.exception("http.unhandled_error", path=path)
            if started:
                return
            problem = {
                "type": PROBLEM_BASE + "internal_error",
                "title": "Internal error",
                "status": 500,
                "detail": "an unexpected error occurred; the request id identifies it in the logs",
            }
            await problem_response(problem, request)(scope, receive, send)

    @staticmethod
    async def _authenticate(request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized(
                "send a bearer token: Authorization: Bearer <JWT>",
                errors=[{"field": "authorization", "reason": "missing_token"}],
            )
        verifier: TokenVerifier = request.app.state.token_verifier
        principal = await verifier.verify(token.strip())
        request.state.principal = principal
        return principal

    @staticmethod
    async def _capped(request: Request, receive: Receive, limit: int, *, buffer: bool) -> Receive:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise _payload_too_large(limit)
        if not buffer:
            return _counting(receive, limit)
        # A small body is read here whole (at most ``limit`` bytes), then handed on as one message.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return _replay([message], receive)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _payload_too_large(limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return _replay(
                    [{"type": "http.request", "body": b"".join(chunks), "more_body": False}], receive
                )


def _refuse_control_characters(scope: Scope) -> None:
    """A 422 naming the query parameter (or the path) that holds a control character."""
    errors: list[dict[str, Any]] = []
    path: str = scope.get("path", "")
    if (character := control_character(path)) is not None:
        errors.append({"field": "path", "in": "path", "reason": "control_character", "character": character})
    # Read as Starlette reads the query string (latin-1, then percent-decoded).
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        if (character := control_character(name + value)) is not None:
            field = name if control_character(name) is None else "query"
            errors.append(
                {"field": field, "in": "query", "reason": "control_character", "character": character}
            )
    if errors:
        raise ValidationFailed(
            "; ".join(f"{e['field']}: may not contain control characters" for e in errors), errors=errors
        )


def _payload_too_large(limit: int) -> PayloadTooLarge:
    size = f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit // 1024} KiB"
    return PayloadTooLarge(
        f"the request body may be at most {size}",
        errors=[{"field": "body", "reason": "too_large", "limit_bytes": limit}],
    )


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


def _counting(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message: dict[str, Any] = dict(await receive())
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _payload_too_large(limit)
        return message

    return counted
