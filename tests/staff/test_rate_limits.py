"""Rate limits per client on writes and imports (hardening issue: security controls).

The staff service runs with low budgets here (the test settings turn the limits off everywhere else).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
import pytest_asyncio

from steadfast_shared.testing import ServiceClient
from steadfast_staff.bootstrap import definition
from tests.staff.conftest import READ, WRITE, worker_body

pytestmark = pytest.mark.integration

WRITES_PER_MINUTE = 3
IMPORTS_PER_MINUTE = 2
HEADER = "external_id,display_name,role,employment_type,fte,team,start_date\n"


@pytest_asyncio.fixture(loop_scope="session")
async def staff(start_service: Callable[..., Awaitable[ServiceClient]]) -> ServiceClient:
    return await start_service(
        definition,
        rate_limit_writes_per_minute=WRITES_PER_MINUTE,
        rate_limit_imports_per_minute=IMPORTS_PER_MINUTE,
    )


async def hire(staff: ServiceClient, external_id: str, subject: str = "hr-integration") -> int:
    answer = await staff.http.post(
        "/v1/workers", json=worker_body(external_id), headers=staff.auth(*WRITE, subject=subject)
    )
    return answer.status_code


async def test_a_client_past_its_writes_budget_gets_a_429_problem_naming_the_limit(
    staff: ServiceClient,
) -> None:
    first = await staff.http.post(
        "/v1/workers", json=worker_body("HR-R0"), headers=staff.auth(*WRITE, subject="hr-integration")
    )
    assert first.status_code == 201, first.text
    assert first.headers["ratelimit-limit"] == str(WRITES_PER_MINUTE)
    assert first.headers["ratelimit-remaining"] == str(WRITES_PER_MINUTE - 1)
    assert 1 <= int(first.headers["ratelimit-reset"]) <= 60
    assert first.headers["ratelimit-policy"] == f"{WRITES_PER_MINUTE};w=60"
    assert [await hire(staff, f"HR-R{i}") for i in (1, 2)] == [201, 201]

    refused = await staff.http.post(
        "/v1/workers", json=worker_body("HR-R3"), headers=staff.auth(*WRITE, subject="hr-integration")
    )
    assert refused.status_code == 429, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["ratelimit-remaining"] == "0"
    problem = refused.json()
    assert problem["type"].endswith("/too_many_requests")
    assert problem["status"] == 429
    assert f"at most {WRITES_PER_MINUTE} writes a minute" in problem["detail"]
    [error] = problem["errors"]
    assert error["field"] == "rate_limit"
    assert error["limit"] == "writes"
    assert error["setting"] == "rate_limit_writes_per_minute"
    assert error["per_minute"] == WRITES_PER_MINUTE
    assert error["retry_after_seconds"] == int(refused.headers["retry-after"])

    missing = await staff.http.get("/v1/workers/HR-R3", headers=staff.auth(*READ))
    assert missing.status_code == 404, "the refused write changed nothing"


async def test_each_client_has_its_own_budget(staff: ServiceClient) -> None:
    assert [await hire(staff, f"HR-A{i}", subject="client-a") for i in range(4)] == [201, 201, 201, 429]
    assert await hire(staff, "HR-B0", subject="client-b") == 201, "another subject is not held back"


async def test_reads_are_not_limited(staff: ServiceClient) -> None:
    assert [await hire(staff, f"HR-G{i}", subject="reader") for i in range(4)][-1] == 429
    for _ in range(3 * WRITES_PER_MINUTE):
        answer = await staff.http.get("/v1/workers", headers=staff.auth(*READ, subject="reader"))
        assert answer.status_code == 200, answer.text
        assert "ratelimit-limit" not in answer.headers


async def test_imports_have_their_own_lower_budget(staff: ServiceClient) -> None:
    async def send(external_id: str) -> int:
        row = f"{external_id},A Worker,social_worker,permanent,1,ACIN1,2014-01-06\n"
        answer = await staff.http.post(
            "/v1/imports/workers",
            content=(HEADER + row).encode(),
            headers={**staff.auth(*WRITE, subject="analyst"), "Content-Type": "text/csv"},
        )
        if answer.status_code == 429:
            assert answer.json()["errors"][0]["limit"] == "imports"
            assert answer.json()["errors"][0]["setting"] == "rate_limit_imports_per_minute"
        return answer.status_code

    assert [await send(f"HR-I{i}") for i in range(IMPORTS_PER_MINUTE + 1)] == [200, 200, 429]
    assert await hire(staff, "HR-I9", subject="analyst") == 201, "imports do not spend the writes budget"


async def test_an_anonymous_request_is_refused_before_any_budget_is_spent(staff: ServiceClient) -> None:
    for _ in range(WRITES_PER_MINUTE + 1):
        answer = await staff.http.post("/v1/workers", json=worker_body("HR-X"))
        assert answer.status_code == 401
    assert await hire(staff, "HR-X") == 201
