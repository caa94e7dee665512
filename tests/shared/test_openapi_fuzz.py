"""Schemathesis against every service's own OpenAPI, with a token holding every scope and data loaded
(hardening issue, evidence): no 5xx, no answer that breaks its own schema, no status or content type
the document does not list.

Each service runs in-process (its lifespan, PostgreSQL and the broker as in the other integration
tests) behind a real uvicorn on a free port; schemathesis calls it from a worker thread. Every operation
is tried with generated parameters and bodies, and, where its path names records, once more with the
ids of the records loaded. The default (3 examples per operation, the same ones every run) keeps the
four services within about a minute; ``make soak`` (or ``STEADFAST_FUZZ_EXAMPLES=N``) runs 60 (or N)
new ones.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok

from steadfast_audit.bootstrap import definition as audit
from steadfast_caseload.bootstrap import definition as caseload
from steadfast_metrics.bootstrap import definition as metrics
from steadfast_shared.auth import ALL_SCOPES
from steadfast_shared.service import ServiceDefinition
from steadfast_shared.testing import ServiceClient
from steadfast_shared.testing.helpers import wait_until
from steadfast_staff.bootstrap import definition as staff
from tests.audit.conftest import seed_directory as seed_audit_directory
from tests.caseload.conftest import seed_directory as seed_caseload_directory
from tests.metrics import test_kpis_api as kpis_api
from tests.support.staff_events import staff_worker

pytestmark = pytest.mark.integration

#: Workbook uploads (the caseload service's Annex A import) are sent as the bytes generated, as any
#: binary body is.
schemathesis.serializer.alias(
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/octet-stream"
)

#: Examples per operation: a few in ``make test``; many in a soak (``STEADFAST_SOAK_ROUNDS``, as the
#: fault tests read it) or as ``STEADFAST_FUZZ_EXAMPLES`` says.
SOAK = "STEADFAST_SOAK_ROUNDS" in os.environ or "STEADFAST_FUZZ_EXAMPLES" in os.environ
EXAMPLES = int(os.environ.get("STEADFAST_FUZZ_EXAMPLES") or (60 if SOAK else 3))
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
SERVICES: dict[str, ServiceDefinition] = {
    "staff": staff,
    "caseload": caseload,
    "audit": audit,
    "metrics": metrics,
}

WORKERS_CSV = """external_id,display_name,role,employment_type,fte,team,start_date,asye_start
HR-1,Amira Khan,social_worker,permanent,1.0,ACIN1,2014-01-06,
HR-2,Ben Hale,senior_social_worker,agency,0.5,ACIN1,2014-03-03,
HR-3,Cara Osei,social_worker,permanent,1.0,PC3,2014-09-01,2014-09-01
"""
CASELOAD_CSVS = {
    "children": "external_id,episode_type,episode_start,episode_end\n"
    "LCS-1,cp,2015-01-05,\nLCS-2,cla,2014-06-02,\n",
    "allocations": "child_external_id,worker_external_id,start_date,end_date\n"
    "LCS-1,HR-1,2015-01-05,\nLCS-2,HR-3,2014-06-02,\n",
    "assessments": "external_id,child_external_id,start_date,completed_date\n"
    "AS-1,LCS-1,2015-01-05,2015-02-20\n",
    "visits": "child_external_id,visit_date,visit_type\nLCS-1,2015-02-23,cp\n",
    "reviews": "child_external_id,review_date\nLCS-2,2014-09-01\nLCS-2,2015-03-01\n",
    "iro_visits": "child_external_id,visit_date\nLCS-2,2014-12-01\n",
}
AUDITS_CSV = (
    "external_id,child_external_id,worker_external_id,team,audit_type,completed_date,overall_grade,"
    "contact_grade,moderated_grade\n"
    "AU-1,LCS-1,HR-1,ACIN1,full,2015-02-02,good,good,\n"
    "AU-2,LCS-2,HR-3,PC3,dip_sample,2015-02-10,requires_improvement,,\n"
)


@asynccontextmanager
async def served(service: ServiceClient) -> AsyncIterator[str]:
    """The running app behind uvicorn on a free port (its lifespan is already started)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(service.app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        await wait_until(lambda: server.started, timeout=10, message="uvicorn started")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def imported(service: ServiceClient, kind: str, body: str) -> None:
    answer = await service.http.post(
        f"/v1/imports/{kind}",
        content=body.encode(),
        headers={**service.auth(*ALL_SCOPES), "Content-Type": "text/csv"},
    )
    assert answer.status_code == 200, answer.text


async def first_id(service: ServiceClient, path: str) -> str:
    answer = await service.http.get(path, headers=service.auth(*ALL_SCOPES))
    assert answer.status_code == 200, answer.text
    body: Any = answer.json()
    items = body["items"] if isinstance(body, dict) else body
    assert items, f"{path} lists nothing"
    return str(items[0]["id"])


async def load(name: str, service: ServiceClient) -> dict[str, str]:
    """Load a little of everything the service holds; answer known path parameter values by name."""
    token = service.auth(*ALL_SCOPES)
    if name == "staff":
        await imported(service, "workers", WORKERS_CSV)
        post = await service.http.post(
            "/v1/posts",
            json={
                "external_id": "POST-1",
                "team": "ACIN1",
                "role": "social_worker",
                "fte": 1.0,
                "start_date": "2014-01-06",
            },
            headers=token,
        )
        assert post.status_code == 201, post.text
        return {"worker": "HR-1", "code": "ACIN1", "post": post.json()["id"]}
    if name == "caseload":
        await seed_caseload_directory(service, staff_worker("HR-1"), staff_worker("HR-3", team="PC3"))
        for kind, body in CASELOAD_CSVS.items():
            await imported(service, kind, body)
        return {
            "child": "LCS-1",
            "worker": "HR-1",
            "team": "ACIN1",
            "assessment": await first_id(service, "/v1/children/LCS-1/assessments"),
        }
    if name == "audit":
        await seed_audit_directory(service, staff_worker("HR-1"), staff_worker("HR-3", team="PC3"))
        await imported(service, "audits", AUDITS_CSV)
        return {"audit": await first_id(service, "/v1/audits"), "team": "ACIN1", "month": "2015-02"}
    await kpis_api.seed(service, *kpis_api.worked_example())
    return {"kpi_id": "average_caseload", "name": "workers_over_caseload_limit", "version": "1"}


@dataclass
class Run:
    """What the fuzzing saw: one entry per distinct failure, and the statuses answered per operation."""

    failures: dict[str, str] = field(default_factory=dict)
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))


def fuzz(document: dict[str, Any], base_url: str, headers: dict[str, str], known: dict[str, str]) -> Run:
    """Run every operation's examples through the checks."""
    schema = schemathesis.openapi.from_dict(document)
    seen = Run()
    failures = seen.failures
    session = requests.Session()
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            failures[f"invalid schema {result.err()}"] = str(result.err())
            continue
        operation = result.ok()
        names = re.findall(r"{(\w+)}", operation.path)
        strategies = [operation.as_strategy()]
        if names and all(n in known for n in names):
            strategies.append(operation.as_strategy(path_parameters={n: known[n] for n in names}))
        for strategy in strategies:

            @given(case=strategy)
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=not SOAK,  # the same examples at every make test; new ones in a soak
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def run(case: schemathesis.Case) -> None:
                try:
                    response = case.call(base_url=base_url, session=session, headers=headers)
                    seen.statuses[case.operation.label][response.status_code] += 1
                    case.validate_response(response, checks=CHECKS, headers=headers)
                except (Exception, BaseExceptionGroup) as exc:
                    title = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                    key = f"{case.operation.label}: {title}"
                    failures.setdefault(
                        key,
                        f"{key}\n    {case.method} {case.formatted_path} "
                        f"query={case.query} body={str(case.body)[:300]}\n    "
                        + "\n    ".join(str(exc).strip().splitlines()[:12]),
                    )

            run()
    session.close()
    return seen


@pytest.mark.parametrize("name", sorted(SERVICES))
async def test_every_operation_answers_as_its_openapi_says(
    name: str, start_service: Callable[..., Awaitable[ServiceClient]]
) -> None:
    service = await start_service(SERVICES[name], consumers_enabled=False)
    known = await load(name, service)
    document = (await service.http.get("/openapi.json")).json()
    headers = service.auth(*ALL_SCOPES)
    async with served(service) as base_url:
        seen = await asyncio.to_thread(fuzz, document, base_url, headers, known)
    assert not seen.failures, f"{name}: {len(seen.failures)} failures:\n" + "\n".join(seen.failures.values())
    # Every operation was called, and the loaded records were found (not only 404s and 422s).
    operations = {f"{m.upper()} {p}" for p, entries in document["paths"].items() for m in entries}
    assert set(seen.statuses) == operations
    successes = {label for label, counts in seen.statuses.items() if any(200 <= s < 300 for s in counts)}
    assert len(successes) >= len(operations) // 2, dict(seen.statuses)
