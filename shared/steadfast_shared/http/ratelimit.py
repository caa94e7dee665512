"""Per-client rate limits on writes and imports, applied by the request guard after authentication.

Every request under ``/v1/`` that changes something (any method but GET, HEAD and OPTIONS) spends one
unit of its client's budget; the client is the verified token's subject, so two tokens with different
subjects have separate budgets and an anonymous client never reaches this far. Imports
(``/v1/imports/...``) have their own, lower budget and do not spend the writes budget. Reads are not
limited.

The algorithm is the `limits <https://limits.readthedocs.io>`_ library's moving window over one
minute, kept in the process's memory: each replica counts on its own, so with N replicas behind a load
balancer a client may make up to N times the budget. A shared store (Redis) would make the count
exact across replicas; the stack has none, and the limit is a guard against a runaway or hostile
client, not an accounting of use.

An allowed request's answer carries ``RateLimit-Limit``, ``RateLimit-Remaining``, ``RateLimit-Reset``
(seconds) and ``RateLimit-Policy`` (IETF draft-ietf-httpapi-ratelimit-headers); a refused one is a 429
problem naming the budget, with ``Retry-After``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from steadfast_shared.errors import TooManyRequests

#: Methods that only read: never limited.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
API_PREFIX = "/v1/"
IMPORT_PREFIX = "/v1/imports/"
WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Budget:
    """One budget: its name in answers, the setting that sizes it, and requests per minute."""

    name: str
    setting: str
    per_minute: int

    @property
    def item(self) -> RateLimitItem:
        return RateLimitItemPerMinute(self.per_minute, namespace=self.name)


@dataclass(frozen=True)
class Allowance:
    """What an allowed request may still do: the headers its answer carries."""

    budget: Budget
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        return rate_limit_headers(self.budget, self.remaining, self.reset_seconds)


def rate_limit_headers(budget: Budget, remaining: int, reset_seconds: int) -> dict[str, str]:
    """The IETF draft RateLimit headers for ``budget``."""
    return {
        "RateLimit-Limit": str(budget.per_minute),
        "RateLimit-Remaining": str(max(remaining, 0)),
        "RateLimit-Reset": str(reset_seconds),
        "RateLimit-Policy": f"{budget.per_minute};w={WINDOW_SECONDS}",
    }


class RateLimits:
    """The writes and imports budgets of one process, per client (see the module docstring).

    A budget of 0 requests a minute is no limit.
    """

    def __init__(self, *, writes_per_minute: int, imports_per_minute: int) -> None:
        self.writes = (
            Budget("writes", "rate_limit_writes_per_minute", writes_per_minute)
            if writes_per_minute > 0
            else None
        )
        self.imports = (
            Budget("imports", "rate_limit_imports_per_minute", imports_per_minute)
            if imports_per_minute > 0
            else None
        )
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def budget_for(self, method: str, path: str) -> Budget | None:
        """The budget a request spends, or None when it is not limited (a read, or outside ``/v1/``)."""
        if method.upper() in SAFE_METHODS or not path.startswith(API_PREFIX):
            return None
        return self.imports if path.startswith(IMPORT_PREFIX) else self.writes

    async def spend(self, method: str, path: str, client: str) -> Allowance | None:
        """Spend one unit of ``client``'s budget for this request.

        Returns what is left (None when the request is not limited); raises :class:`TooManyRequests`
        when the budget is spent, with the ``Retry-After`` and RateLimit headers to answer with.
        """
        budget = self.budget_for(method, path)
        if budget is None:
            return None
        item = budget.item
        allowed = await self._limiter.hit(item, client)
        stats = await self._limiter.get_window_stats(item, client)
        reset_seconds = max(1, math.ceil(stats.reset_time - time.time()))
        if allowed:
            return Allowance(budget, stats.remaining, reset_seconds)
        raise TooManyRequests(
            f"this client may make at most {budget.per_minute} {budget.name} a minute; "
            f"retry in {reset_seconds} s",
            errors=[
                {
                    "field": "rate_limit",
                    "reason": "rate_limited",
                    "limit": budget.name,
                    "setting": budget.setting,
                    "per_minute": budget.per_minute,
                    "retry_after_seconds": reset_seconds,
                }
            ],
            headers={"Retry-After": str(reset_seconds), **rate_limit_headers(budget, 0, reset_seconds)},
        )
