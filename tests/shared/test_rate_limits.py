"""The rate limiter's rules, without HTTP: which requests spend which budget, and 0 as no limit."""

from __future__ import annotations

import pytest

from steadfast_shared.errors import TooManyRequests
from steadfast_shared.http.ratelimit import RateLimits


def test_writes_and_imports_spend_their_own_budgets_and_reads_none() -> None:
    limits = RateLimits(writes_per_minute=600, imports_per_minute=10)
    assert limits.budget_for("POST", "/v1/workers") is limits.writes
    assert limits.budget_for("patch", "/v1/audits/1") is limits.writes
    assert limits.budget_for("DELETE", "/v1/strategy/targets/x") is limits.writes
    assert limits.budget_for("POST", "/v1/imports/workers") is limits.imports
    for method in ("GET", "HEAD", "OPTIONS"):
        assert limits.budget_for(method, "/v1/workers") is None
    assert limits.budget_for("POST", "/healthz") is None


def test_a_budget_of_zero_is_no_limit() -> None:
    limits = RateLimits(writes_per_minute=0, imports_per_minute=0)
    assert limits.budget_for("POST", "/v1/workers") is None
    assert limits.budget_for("POST", "/v1/imports/workers") is None


async def test_the_budget_is_spent_per_client() -> None:
    limits = RateLimits(writes_per_minute=2, imports_per_minute=1)
    first = await limits.spend("POST", "/v1/workers", "a")
    assert first is not None
    assert (first.remaining, first.budget.name) == (1, "writes")
    assert await limits.spend("POST", "/v1/workers", "a") is not None
    with pytest.raises(TooManyRequests) as refused:
        await limits.spend("POST", "/v1/workers", "a")
    assert refused.value.headers["Retry-After"] == refused.value.headers["RateLimit-Reset"]
    assert refused.value.to_problem()["errors"][0]["limit"] == "writes"
    assert await limits.spend("POST", "/v1/workers", "b") is not None
    assert await limits.spend("POST", "/v1/imports/children", "a") is not None
    assert await limits.spend("GET", "/v1/workers", "a") is None
