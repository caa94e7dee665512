"""Structured logs: JSON lines (or console lines for humans) through structlog, with the request id bound.

No log line holds a name, a Social Work England registration number or a token. One processor,
:func:`redact_personal_data`, runs last before every line is rendered (structlog's own lines and the
standard library's alike, tracebacks included) and:

- replaces the value of every key in :data:`REDACTED_KEYS` (at any depth) with ``[redacted]``;
- removes bearer tokens, JWTs, the input values pydantic quotes in its errors, the parameters
  SQLAlchemy quotes in its errors, and URL query strings from every string;
- rewrites a request ``path`` as :func:`request_path` gives it: the route template with only the ids
  (UUIDs) filled in, so a name a client put in a path never reaches a log.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

REDACTED = "[redacted]"

#: Keys whose values never reach a log line, wherever they appear in a line (matched lower-cased).
REDACTED_KEYS: frozenset[str] = frozenset(
    {
        # credentials
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "password",
        "secret",
        "client_secret",
        # people, as the services record them
        "name",
        "display_name",
        "worker_name",
        "swe_registration_number",
        "auditor",
        "moderator",
        "owner",
        # free text that may name people, and raw request data
        "description",
        "findings",
        "moderation_reason",
        "query",
        "query_string",
        "body",
    }
)

#: The context key under which the request middleware binds its :class:`RequestScope`.
SCOPE_KEY = "_request_scope"


class RequestScope:
    """The ASGI scope of the request being served, bound to the log context so that any line logged
    while serving it gets its ``path`` as :func:`request_path` gives it. Never rendered itself."""

    __slots__ = ("scope",)

    def __init__(self, scope: Mapping[str, Any]) -> None:
        self.scope = scope

    def __repr__(self) -> str:
        return "<request>"


_UNMATCHED = "unmatched"

_STRING_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), rf"\1 {REDACTED}"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), REDACTED),
    (re.compile(r"input_value=.*?(?=, input_type=|\]$)", re.MULTILINE), f"input_value={REDACTED}"),
    (re.compile(r"\[parameters: [^\n]*"), f"[parameters: {REDACTED}]"),
    (re.compile(r"(?<=[\w/}])\?[^\s\"'<>]+"), f"?{REDACTED}"),
)
_TEMPLATE_PARAMETER = re.compile(r"\{(\w+)(?::\w+)?\}")


def _is_id(value: Any) -> bool:
    if isinstance(value, uuid.UUID):
        return True
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _route_templates(app: Any) -> list[str]:
    """The path templates of an app's routes, as its OpenAPI document lists them (built once)."""
    try:
        return [str(path) for path in app.openapi().get("paths", {})]
    except Exception:
        return []


def request_path(scope: Mapping[str, Any]) -> str:
    """The path of a request as it may be logged: the matched route's template with the path
    parameters that are ids (UUIDs) filled in and the others left as ``{name}`` (an external id or a
    mistyped name stays out of the logs); never the query string. For a path no route matched, the
    segments that are ids or words of the app's own routes are kept and any other is ``*``."""
    template = getattr(scope.get("route"), "path", None)
    parameters: Mapping[str, Any] = scope.get("path_params") or {}
    if isinstance(template, str):
        return _TEMPLATE_PARAMETER.sub(
            lambda m: str(parameters[m[1]]) if _is_id(parameters.get(m[1], "")) else m[0], template
        )
    words = {
        segment
        for path in _route_templates(scope.get("app"))
        for segment in path.split("/")
        if segment and "{" not in segment
    }
    raw = str(scope.get("path", ""))
    return "/".join(s if not s or s in words or _is_id(s) else "*" for s in raw.split("/")) or _UNMATCHED


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        for pattern, replacement in _STRING_RULES:
            value = pattern.sub(replacement, value)
        return value
    if isinstance(value, Mapping):
        return {k: REDACTED if str(k).lower() in REDACTED_KEYS else _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrub(v) for v in value]
    if isinstance(value, bytes):
        return _scrub(value.decode("utf-8", "replace"))
    return value


def redact_personal_data(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """The structlog processor that keeps names, registration numbers and tokens out of a log line."""
    bound = event_dict.pop(SCOPE_KEY, None)
    if "path" in event_dict and isinstance(bound, RequestScope):
        event_dict["path"] = request_path(bound.scope)
    for key, value in list(event_dict.items()):
        event_dict[key] = REDACTED if key.lower() in REDACTED_KEYS else _scrub(value)
    return event_dict


def configure_logging(level: str = "INFO", *, json: bool = True) -> None:
    """Route stdlib and structlog logs through one JSON (or console) renderer, personal data redacted."""
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_personal_data,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # The access lines of uvicorn and httpx hold raw URLs, query strings included: the request line of
    # the request middleware (``http.request``) is the access log.
    for noisy in ("aiokafka", "uvicorn.access", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
