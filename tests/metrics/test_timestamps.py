"""Every timestamp a response carries has its timezone (regression, hardening issue: ``created_at`` of a
child and of a strategy version were rendered without an offset on SQLite, breaking the responses' own
``date-time`` schema). Checked on PostgreSQL and on SQLite, the two databases the project runs on."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from steadfast_caseload.bootstrap import definition as caseload_definition
from steadfast_metrics.bootstrap import definition as metrics_definition
from tests.support.backends import BACKENDS, service_on

pytestmark = pytest.mark.integration


def assert_utc(stamp: str | None) -> None:
    assert stamp is not None
    assert datetime.fromisoformat(stamp).utcoffset() == timedelta(0), stamp


@pytest.mark.parametrize("backend", BACKENDS)
async def test_strategy_versions_carry_their_offset(
    backend: str, make_database: Callable[..., Awaitable[str]], service_settings: Any, tmp_path: Path
) -> None:
    unique = uuid.uuid4().hex
    async with service_on(
        backend,
        metrics_definition,
        make_database=make_database,
        service_settings=service_settings,
        tmp_path=tmp_path,
        consumers_enabled=False,
        snapshot_interval_days=0,
        staff_topic=f"test.staff.{unique}",
        caseload_topic=f"test.caseload.{unique}",
        audit_topic=f"test.audit.{unique}",
    ) as metrics:
        read, write = metrics.auth("metrics:read"), metrics.auth("metrics:read", "strategy:write")
        shipped = (await metrics.http.get("/v1/strategy/versions", headers=read)).json()["items"]
        assert [v["created_at"] for v in shipped] == [None]  # the shipped default, never stored yet
        document = (await metrics.http.get("/v1/strategy", headers=read)).json()["document"]
        changed = await metrics.http.put(
            "/v1/strategy", json={"document": document}, headers={**write, "If-Match": '"1"'}
        )
        assert changed.status_code == 200, changed.text
        assert_utc(changed.json()["created_at"])
        assert_utc((await metrics.http.get("/v1/strategy", headers=read)).json()["created_at"])
        versions = (await metrics.http.get("/v1/strategy/versions", headers=read)).json()["items"]
        assert [v["version"] for v in versions] == [1, 2]
        for version in versions:  # the shipped default is stored with the first change
            assert_utc(version["created_at"])
        assert_utc((await metrics.http.get("/v1/strategy/versions/2", headers=read)).json()["created_at"])


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_childs_created_at_carries_its_offset(
    backend: str, make_database: Callable[..., Awaitable[str]], service_settings: Any, tmp_path: Path
) -> None:
    async with service_on(
        backend,
        caseload_definition,
        make_database=make_database,
        service_settings=service_settings,
        tmp_path=tmp_path,
        consumers_enabled=False,
    ) as caseload:
        read, write = caseload.auth("caseload:read"), caseload.auth("caseload:read", "caseload:write")
        made = await caseload.http.post("/v1/children", json={"external_id": "LCS-TZ"}, headers=write)
        assert made.status_code == 201, made.text
        assert_utc(made.json()["created_at"])
        assert_utc((await caseload.http.get("/v1/children/LCS-TZ", headers=read)).json()["created_at"])
        assert_utc((await caseload.http.get("/v1/children", headers=read)).json()["items"][0]["created_at"])
