"""Every database connection in use for longer than a request may wait is a 503 ``database_busy`` with
``Retry-After``, not a 500; the next request, once a connection is free, is answered as usual."""

from __future__ import annotations

from typing import Any

from steadfast_staff.bootstrap import definition


async def test_a_request_that_finds_no_free_connection_is_a_503_and_the_next_one_is_answered(
    start_service: Any,
) -> None:
    service = await start_service(
        definition, database_pool_size=1, database_pool_timeout_seconds=0.5, relay_enabled=False
    )
    engine = service.runtime.database.engine
    held = [await engine.connect(), await engine.connect()]  # the pool's one and its one overflow
    try:
        busy = await service.http.get("/v1/workers", headers=service.auth("staff:read"))
        assert busy.status_code == 503, busy.text
        assert busy.headers["content-type"] == "application/problem+json"
        assert busy.json()["type"].endswith("/database_busy")
        assert int(busy.headers["Retry-After"]) > 0
    finally:
        for connection in held:
            await connection.close()
    answered = await service.http.get("/v1/workers", headers=service.auth("staff:read"))
    assert answered.status_code == 200, answered.text
