"""Social Work England registration: CPD entries (``/v1/workers/{id}/cpd``) and the watch list
(``/v1/registrations/watch-list``), with the registration year's rules at its boundary (1 December to
30 November; the renewal window closes on 30 November)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from steadfast_shared.dates import today
from steadfast_shared.testing import ServiceClient
from steadfast_staff.db import tables
from steadfast_staff.registrations.year import RegistrationYear, registration_year_of
from tests.staff.conftest import READ, WRITE, event_types, worker_body

pytestmark = pytest.mark.integration


def test_the_registration_year_runs_from_1_december_to_30_november() -> None:
    assert registration_year_of(date(2025, 11, 30)) == 2025
    assert registration_year_of(date(2025, 12, 1)) == 2026
    assert registration_year_of(date(2025, 1, 1)) == 2025
    year = RegistrationYear.containing(date(2024, 12, 1))
    assert (year.year, year.first_day, year.last_day) == (2025, date(2024, 12, 1), date(2025, 11, 30))
    assert (year.renewal_window_opens, year.renewal_window_closes) == (date(2025, 9, 1), date(2025, 11, 30))


async def hire(staff: ServiceClient, external_id: str, **overrides: Any) -> str:
    answer = await staff.http.post(
        "/v1/workers", json=worker_body(external_id, **overrides), headers=staff.auth(*WRITE)
    )
    assert answer.status_code == 201, answer.text
    worker_id: str = answer.json()["id"]
    return worker_id


async def cpd(
    staff: ServiceClient, worker: str, day: str, peer: bool, text: str = "Reflective supervision"
) -> Any:
    answer = await staff.http.post(
        f"/v1/workers/{worker}/cpd",
        json={"entry_date": day, "description": text, "peer_reflection": peer},
        headers=staff.auth(*WRITE),
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


async def watch_list(staff: ServiceClient, as_of: str, **query: Any) -> dict[str, list[str]]:
    answer = await staff.http.get(
        "/v1/registrations/watch-list",
        params={"as_of": as_of, "limit": 100, **query},
        headers=staff.auth(*READ),
    )
    assert answer.status_code == 200, answer.text
    return {w["external_id"]: w["reasons"] for w in answer.json()["items"]}


async def test_a_cpd_entry_is_recorded_listed_and_published_without_its_description(
    staff: ServiceClient,
) -> None:
    worker = await hire(
        staff, "HR1", swe_registration_number="SW104729", swe_registration_expiry="2025-11-30"
    )
    entry = await cpd(staff, "HR1", "2024-11-30", True, "Discussed a case with Ms Patel at the peer group")
    assert (entry["worker_id"], entry["registration_year"]) == (worker, 2024)
    await cpd(staff, "HR1", "2024-12-01", False)
    listed = (await staff.http.get("/v1/workers/HR1/cpd", headers=staff.auth(*READ))).json()
    assert [(e["entry_date"], e["registration_year"]) for e in listed["items"]] == [
        ("2024-11-30", 2024),
        ("2024-12-01", 2025),
    ]
    only_2025 = (
        await staff.http.get("/v1/workers/HR1/cpd?registration_year=2025", headers=staff.auth(*READ))
    ).json()
    assert [e["entry_date"] for e in only_2025["items"]] == ["2024-12-01"]
    paged = (await staff.http.get("/v1/workers/HR1/cpd?limit=1", headers=staff.auth(*READ))).json()
    assert len(paged["items"]) == 1
    assert paged["next_cursor"] is not None

    assert (await event_types(staff, entry["id"])) == ["org.steadfast.staff.cpd_entry.recorded.v1"]
    async with staff.runtime.database.sessionmaker() as session:
        payload = (
            await session.execute(tables.outbox.select().where(tables.outbox.c.message_key == entry["id"]))
        ).one()
    assert "Patel" not in str(payload)


async def test_cpd_entries_are_refused_with_a_problem(staff: ServiceClient) -> None:
    await hire(staff, "HR1")
    answer = await staff.http.post(
        "/v1/workers/HR1/cpd",
        json={"entry_date": str(today() + timedelta(days=7)), "description": "x", "peer_reflection": False},
        headers=staff.auth(*WRITE),
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["errors"][0]["reason"] == "in_the_future"
    answer = await staff.http.post(
        "/v1/workers/HR1/cpd",
        json={"entry_date": "2025-01-01", "description": "", "peer_reflection": False},
        headers=staff.auth(*WRITE),
    )
    assert answer.status_code == 422
    answer = await staff.http.post(
        "/v1/workers/NOBODY/cpd",
        json={"entry_date": "2025-01-01", "description": "x", "peer_reflection": False},
        headers=staff.auth(*WRITE),
    )
    assert answer.status_code == 404
    answer = await staff.http.post(
        "/v1/workers/HR1/cpd",
        json={"entry_date": "2025-01-01", "description": "x", "peer_reflection": False},
        headers=staff.auth(*READ),
    )
    assert answer.status_code == 403


async def test_the_watch_list_applies_the_registration_year_at_its_boundary(staff: ServiceClient) -> None:
    renewed = {"swe_registration_number": "SW1", "swe_registration_expiry": "2025-11-30"}
    await hire(staff, "A", **renewed)
    await cpd(staff, "A", "2025-01-10", True)
    await cpd(staff, "A", "2025-06-01", False)
    await hire(staff, "B", **renewed)
    await cpd(staff, "B", "2024-11-30", True)  # the registration year before: does not count for 2025
    await cpd(staff, "B", "2025-02-01", False)
    await cpd(staff, "B", "2025-05-01", False)
    await hire(staff, "C", **renewed)
    await cpd(staff, "C", "2024-12-01", True)  # the first day of the registration year 2025
    await hire(staff, "D", swe_registration_number="SW4", swe_registration_expiry="2025-10-31")
    await cpd(staff, "D", "2025-03-03", True)
    await cpd(staff, "D", "2025-04-04", False)
    await hire(staff, "E")  # no registration recorded
    await cpd(staff, "E", "2025-03-03", True)
    await cpd(staff, "E", "2025-04-04", True)
    await hire(staff, "F", role="student")
    await hire(staff, "G", end_date="2025-06-01", leaving_reason="resignation")

    assert await watch_list(staff, "2025-11-30") == {
        "B": ["no_peer_reflection"],
        "C": ["fewer_than_two_cpd_entries"],
        "D": ["registration_lapses"],
        "E": ["no_registration_recorded"],
    }
    # Before A's second entry, A is behind too.
    assert (await watch_list(staff, "2025-05-31"))["A"] == ["fewer_than_two_cpd_entries"]
    # The next day is a new registration year: no CPD yet, and a registration to 30 November 2025 lapses
    # before the next window closes (30 November 2026).
    after = await watch_list(staff, "2025-12-01")
    assert sorted(after) == ["A", "B", "C", "D", "E"]
    assert after["A"] == ["registration_lapses", "fewer_than_two_cpd_entries", "no_peer_reflection"]

    answer = await staff.http.get(
        "/v1/registrations/watch-list?as_of=2025-11-30&limit=2", headers=staff.auth(*READ)
    )
    first = answer.json()
    assert [w["external_id"] for w in first["items"]] == ["B", "C"]
    assert first["items"][0]["renewal_window_closes"] == "2025-11-30"
    assert (first["items"][0]["cpd_entries"], first["items"][0]["peer_reflected_entries"]) == (2, 0)
    second = (
        await staff.http.get(
            f"/v1/registrations/watch-list?as_of=2025-11-30&limit=2&cursor={first['next_cursor']}",
            headers=staff.auth(*READ),
        )
    ).json()
    assert [w["external_id"] for w in second["items"]] == ["D", "E"]
    assert second["next_cursor"] is None
    denied = await staff.http.get("/v1/registrations/watch-list", headers=staff.auth("caseload:read"))
    assert denied.status_code == 403
