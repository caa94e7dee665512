"""Typed domain errors. Services raise them; the HTTP layer renders them as RFC 9457 problem+json.

Every error has a stable ``code`` (the last segment of the problem ``type`` URI), an HTTP status and a
human title; ``errors`` lists field-level reasons (``field``, ``reason``, and any context) so an
integrator can tell exactly which input was wrong.
"""

from __future__ import annotations

from typing import Any

PROBLEM_BASE = "https://steadfast.example/problems/"


class SteadfastError(Exception):
    status: int = 500
    code: str = "internal_error"
    title: str = "Internal error"

    def __init__(
        self, detail: str | None = None, *, errors: list[dict[str, Any]] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors or []
        self.extra = extra

    def to_problem(self) -> dict[str, Any]:
        problem: dict[str, Any] = {
            "type": PROBLEM_BASE + self.code,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors:
            problem["errors"] = self.errors
        problem.update(self.extra)
        return problem


class BadRequest(SteadfastError):
    status = 400
    code = "bad_request"
    title = "Bad request"


class ValidationFailed(SteadfastError):
    """Input that is well-formed but breaks a rule. ``errors`` names each field and reason."""

    status = 422
    code = "validation_failed"
    title = "Validation failed"

    @classmethod
    def field(cls, field: str, reason: str, detail: str | None = None, **context: Any) -> ValidationFailed:
        return cls(detail or f"{field}: {reason}", errors=[{"field": field, "reason": reason, **context}])


class Unauthorized(SteadfastError):
    status = 401
    code = "unauthorized"
    title = "Authentication required"


class Forbidden(SteadfastError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class NotFound(SteadfastError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(SteadfastError):
    status = 409
    code = "conflict"
    title = "Conflict"


class PreconditionFailed(SteadfastError):
    status = 412
    code = "precondition_failed"
    title = "Precondition failed"


class PreconditionRequired(SteadfastError):
    status = 428
    code = "precondition_required"
    title = "Precondition required"


class UnsupportedMediaType(SteadfastError):
    status = 415
    code = "unsupported_media_type"
    title = "Unsupported media type"


class PayloadTooLarge(SteadfastError):
    status = 413
    code = "payload_too_large"
    title = "Payload too large"


class ServiceUnavailable(SteadfastError):
    status = 503
    code = "service_unavailable"
    title = "Service unavailable"


class TooManyRequests(SteadfastError):
    """A client spent its rate-limit budget. ``headers`` (``Retry-After``, RateLimit) go on the answer."""

    status = 429
    code = "too_many_requests"
    title = "Too many requests"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail, errors=errors, **extra)
        self.headers = dict(headers or {})
