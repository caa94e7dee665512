"""No log line holds a name, a Social Work England registration number or a token, and request paths
are logged with ids, never names (docs/security.md, "Personal data").

The lines are the real ones: the JSON the services' log handler writes (``configure_logging``), captured
from its stream while the staff and audit services answer requests on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import urllib.parse
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
import structlog
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError

from steadfast_audit.bootstrap import definition as audit_definition
from steadfast_shared.logging import SCOPE_KEY, RequestScope, configure_logging
from steadfast_shared.testing import ServiceClient
from steadfast_staff.bootstrap import definition as staff_definition

NAME = "Amara Okafor"
SWE_NUMBER = "SW654321"
FORGED = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJtYWxsb3J5In0.Zm9yZ2VkLXNpZ25hdHVyZQ"
NEVER_LOGGED = (NAME, "Okafor", urllib.parse.quote(NAME), SWE_NUMBER, FORGED)


class LogLines:
    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    def all(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines() if line.strip()]

    def text(self) -> str:
        return self.stream.getvalue()

    def requests(self) -> list[dict[str, Any]]:
        return [line for line in self.all() if line["event"] == "http.request"]


@contextlib.contextmanager
def captured_logs() -> Iterator[LogLines]:
    """The services' log configuration, its handler writing to a buffer until the block ends."""
    configure_logging("INFO", json=True)
    stream = io.StringIO()
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(stream)
    try:
        yield LogLines(stream)
    finally:
        handler.setStream(previous)


@pytest.fixture
def log_lines() -> Iterator[LogLines]:
    with captured_logs() as lines:
        yield lines


def _assert_clean(lines: LogLines, *secrets: str) -> None:
    text = lines.text()
    for secret in (*NEVER_LOGGED, *secrets):
        assert secret not in text, (secret, [line for line in text.splitlines() if secret in line])


async def test_requests_carrying_a_name_a_registration_number_and_tokens_log_none_of_them(
    start_service: Callable[..., Awaitable[ServiceClient]],
) -> None:
    staff = await start_service(staff_definition)
    audit = await start_service(audit_definition, consumers_enabled=False)
    with captured_logs() as lines:
        await _requests(staff, audit)
    _assert_clean(lines, staff.token("staff:read", "staff:write"), audit.token("audit:read"))
    # the ids, and only the ids, are in the paths logged
    worker_id = (await staff.http.get("/v1/workers/HR-LOG-1", headers=staff.auth("staff:read"))).json()["id"]
    assert [(r["method"], r["path"], r["status"]) for r in lines.requests()] == [
        ("POST", "/v1/workers", 201),
        ("POST", "/v1/workers", 422),
        ("GET", f"/v1/workers/{worker_id}", 200),
        ("GET", "/v1/workers/{worker}", 404),
        ("GET", "/v1/workers", 200),
        ("GET", "/v1/*/*", 404),
        ("GET", "/v1/workers", 401),
        ("GET", "/v1/learning-actions/overdue", 200),
    ]


async def _requests(staff: ServiceClient, audit: ServiceClient) -> None:
    token = staff.token("staff:read", "staff:write")
    auth = {"Authorization": f"Bearer {token}"}
    body = {
        "external_id": "HR-LOG-1",
        "display_name": NAME,
        "role": "social_worker",
        "employment_type": "permanent",
        "fte": 1.0,
        "team": "ACIN1",
        "start_date": "2014-01-06",
        "swe_registration_number": SWE_NUMBER,
    }

    created = await staff.http.post("/v1/workers", json=body, headers=auth)
    assert created.status_code == 201, created.text
    worker_id = created.json()["id"]
    refused = await staff.http.post("/v1/workers", json={**body, "fte": "lots"}, headers=auth)
    assert refused.status_code == 422
    by_id = await staff.http.get(f"/v1/workers/{worker_id}", headers=auth)
    assert by_id.status_code == 200
    named = await staff.http.get(f"/v1/workers/{urllib.parse.quote(NAME)}", headers=auth)
    assert named.status_code == 404
    queried = await staff.http.get(
        "/v1/workers", params={"team": "ACIN1", "display_name": NAME, "number": SWE_NUMBER}, headers=auth
    )
    assert queried.status_code == 200
    nowhere = await staff.http.get(f"/v1/{urllib.parse.quote(NAME)}/{SWE_NUMBER}", headers=auth)
    assert nowhere.status_code == 404
    forged = await staff.http.get("/v1/workers", headers={"Authorization": f"Bearer {FORGED}"})
    assert forged.status_code == 401
    owner = await audit.http.get(
        "/v1/learning-actions/overdue",
        params={"owner": NAME},
        headers=audit.auth("audit:read"),
    )
    assert owner.status_code == 200, owner.text


class _Worker(BaseModel):
    fte: float


def test_tracebacks_and_errors_that_quote_the_data_are_redacted(log_lines: LogLines) -> None:
    """Errors quote what they were given (pydantic the input, SQLAlchemy the parameters): a line with
    such an error, or its traceback, keeps the error and loses the data."""
    log = structlog.get_logger("tests.redaction")
    try:
        _Worker.model_validate({"fte": f"{NAME} {SWE_NUMBER}"})
    except ValidationError as exc:
        log.warning("consumer.handler_failed", error=f"{type(exc).__name__}: {exc}")
        log.exception("http.unhandled_error")
    statement = "INSERT INTO workers (display_name, swe_registration_number) VALUES (?, ?)"
    integrity = IntegrityError(statement, (NAME, SWE_NUMBER), Exception("UNIQUE constraint failed"))
    log.warning("http.integrity_error", error=str(integrity))
    logging.getLogger("some.library").error("retrying with Authorization: Bearer %s", FORGED)
    log.info(
        "learning_action.listed",
        owner=NAME,
        filters={"display_name": NAME, "worker": {"swe_registration_number": SWE_NUMBER}},
        headers=[("authorization", f"Bearer {FORGED}")],
        url=f"/v1/learning-actions/overdue?owner={urllib.parse.quote(NAME)}",
    )

    lines = log_lines.all()
    assert [line["event"] for line in lines[:3]] == [
        "consumer.handler_failed",
        "http.unhandled_error",
        "http.integrity_error",
    ]
    assert "float_parsing" in lines[0]["error"]
    assert "input_value=[redacted]" in lines[0]["error"]
    assert "Traceback" in lines[1]["exception"]
    assert "UNIQUE constraint failed" in lines[2]["error"]
    assert lines[4]["owner"] == "[redacted]"
    assert lines[4]["url"] == "/v1/learning-actions/overdue?[redacted]"
    _assert_clean(log_lines)


def test_a_line_logged_without_a_request_keeps_its_own_path(log_lines: LogLines) -> None:
    structlog.get_logger("tests.redaction").info("import.file", path="/data/workers.csv")
    assert log_lines.all()[0]["path"] == "/data/workers.csv"


def test_any_line_logged_while_serving_a_request_gets_the_requests_loggable_path(
    log_lines: LogLines,
) -> None:
    """The request middleware binds the request's scope: a line logged deep inside (an unexpected
    error's, say) with the raw path gets the route template, ids filled in, instead."""
    worker_id = "0b6f4f1e-8c1f-4d59-9a55-1f5a3e0f7f10"

    class Route:
        path = "/v1/workers/{worker}/changes/{change}"

    scope = {"route": Route(), "path_params": {"worker": worker_id, "change": NAME}}
    structlog.contextvars.bind_contextvars(**{SCOPE_KEY: RequestScope(scope)})
    try:
        structlog.get_logger("tests.redaction").error("http.unhandled_error", path=f"/v1/workers/{NAME}")
    finally:
        structlog.contextvars.unbind_contextvars(SCOPE_KEY)
    [line] = log_lines.all()
    assert line["path"] == f"/v1/workers/{worker_id}/changes/{{change}}"
    assert SCOPE_KEY not in line
    _assert_clean(log_lines)
