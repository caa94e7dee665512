"""Optimistic concurrency: an aggregate's ``version`` is its ``ETag``; updates honour ``If-Match``."""

from __future__ import annotations

from fastapi import Request, Response

from steadfast_shared.errors import PreconditionFailed


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


def check_if_match(request: Request, version: int) -> None:
    """Refuse the update (412) when ``If-Match`` names another version. No header: last writer wins."""
    header = request.headers.get("if-match")
    if header is None:
        return
    candidates = {c.strip().removeprefix("W/") for c in header.split(",")}
    if "*" in candidates or etag(version) in candidates:
        return
    raise PreconditionFailed(
        f"the resource has changed: its ETag is now {etag(version)}; fetch it again and retry",
        errors=[{"field": "If-Match", "reason": "stale_etag", "current": etag(version)}],
    )
