"""End to end: after a council's run through every service (its extracts with real-looking names and
Social Work England numbers, then posts, placements, surveys, feedback, moderation, learning actions and
the audit programme through the APIs, then a CSWW census with its days lost and absence, and a CPD
entry), every event on every topic of the broker, read from the
beginning, carries only the fields its type's allow-list names
(:mod:`steadfast_shared.events.personal_data`), and no event holds a worker's name or registration
number, nor the name of an auditor, a moderator or a learning action's owner (docs/security.md,
"Personal data"). The worker's name is the one personal field that is published (its consumers need
it): it may appear only as a worker event's ``display_name``.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import func, select

from steadfast_audit.directory.models import DirectoryWorker as AuditDirectory
from steadfast_caseload.directory.models import DirectoryWorker as CaseloadDirectory
from steadfast_shared.embedded.broker import TansuBroker
from steadfast_shared.events import CloudEvent
from steadfast_shared.events.personal_data import ALLOWED_FIELDS, leaf_values, unlisted_fields
from steadfast_shared.testing import ServiceClient
from steadfast_shared.testing.helpers import wait_until
from tests.e2e.council import Council, build_council
from tests.staff.census_sample import WORKERS as CENSUS_WORKERS
from tests.staff.census_sample import census_xml, workers_csv

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

WRITE = {
    "staff": ("staff:read", "staff:write"),
    "caseload": ("caseload:read", "caseload:write"),
    "audit": ("audit:read", "audit:write"),
}
FIRST = ("Amara", "Ben", "Chloe", "Dev", "Ewa", "Farid", "Grace", "Hamza", "Isla", "Jonah", "Kemi")
LAST = ("Okafor", "Whitfield", "Nowak", "Patel", "Brennan", "Adeyemi", "Lindqvist", "Moss", "Quinn")
AUDITORS = ("Rosalind Achebe", "Tomasz Wisniewski")
MODERATORS = ("Priya Raman", "Gareth Llewellyn")
OWNER = "Siobhan Gallagher"
#: A CPD entry's free text names a colleague: it stays in the staff service.
CPD_DESCRIPTION = f"Peer reflection on a CP case with {OWNER}"


def council_with_names() -> Council:
    """The end-to-end council, its workers named as people are and its audits with their auditors and
    moderators named."""
    council = build_council()
    for n, worker in enumerate(council.workers):
        worker["display_name"] = f"{FIRST[n % len(FIRST)]} {LAST[(n * 5) % len(LAST)]}-{n}"
        if worker["swe_registration_number"]:
            worker["swe_registration_number"] = f"SW{104729 + n * 7919:06d}"
    for n, row in enumerate(council.audits):
        row["auditor"] = AUDITORS[n % 2]
        moderated = bool(row["moderated_grade"])
        row["moderator"] = MODERATORS[n % 2] if moderated else ""
        row["moderation_reason"] = f"Agreed with {OWNER} at panel" if moderated else ""
    return council


async def send(service: ServiceClient, method: str, url: str, **request: Any) -> dict[str, Any]:
    name = service.runtime.definition.name
    answer = await service.http.request(method, url, headers=service.auth(*WRITE[name]), **request)
    assert answer.status_code in (200, 201), (url, answer.text)
    body: dict[str, Any] = answer.json()
    return body


async def import_csv(service: ServiceClient, kind: str, council: Council) -> None:
    answer = await service.http.post(
        f"/v1/imports/{kind}?mode=atomic",
        content=council.csv(kind).encode(),
        headers={**service.auth(*WRITE[service.runtime.definition.name]), "Content-Type": "text/csv"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["counts"]["rejected"] == 0, answer.json()["rejected"][:5]


async def run_the_council(platform: dict[str, ServiceClient], council: Council) -> None:
    s, c, a = platform["staff"], platform["caseload"], platform["audit"]
    await import_csv(s, "workers", council)
    first, second = council.workers[0]["external_id"], council.workers[1]["external_id"]
    await send(s, "PATCH", "/v1/teams/ACIN1", json={"name": "Assessment and CIN 1"})
    await send(s, "PATCH", f"/v1/workers/{first}", json={"display_name": "Amara Okafor-Reid"})
    await send(
        s,
        "POST",
        f"/v1/workers/{second}/leaving",
        json={"end_date": "2015-05-01", "leaving_reason": "retirement"},
    )
    post = await send(
        s,
        "POST",
        "/v1/posts",
        json={
            "external_id": "P-1",
            "team": "PC3",
            "role": "social_worker",
            "fte": 1.0,
            "start_date": "2014-01-06",
        },
    )
    await send(
        s, "POST", f"/v1/posts/{post['id']}/holdings", json={"worker": first, "start_date": "2014-02-03"}
    )
    await send(
        s,
        "POST",
        "/v1/student-placements",
        json={
            "external_id": "SP-1",
            "university": "Keele",
            "placement": "second",
            "team": "PC3",
            "start_date": "2015-01-05",
            "student": council.workers[-1]["external_id"],
        },
    )
    await send(
        s,
        "POST",
        "/v1/recruitment-surveys",
        json={"returned_date": "2015-01-05", "worker": first, "place": 4},
    )
    await send(
        s,
        "POST",
        "/v1/exit-surveys",
        json={"returned_date": "2015-04-20", "worker": second, "workload_too_high": 5},
    )
    await send(
        s,
        "POST",
        "/v1/staff-health-checks",
        json={"returned_date": "2015-02-09", "team": "PC3", "private_space": 2},
    )

    async def directories_complete() -> bool:
        for service, model in ((c, CaseloadDirectory), (a, AuditDirectory)):
            async with service.runtime.database.sessionmaker() as session:
                if await session.scalar(select(func.count()).select_from(model)) != len(council.workers):
                    return False
        return True

    await wait_until(
        directories_complete, timeout=60, interval=0.3, message="the directories learnt the workers"
    )
    for kind in ("children", "allocations", "assessments", "visits", "reviews", "iro_visits"):
        await import_csv(c, kind, council)
    await send(
        c,
        "POST",
        "/v1/feedback",
        json={"returned_date": "2015-02-16", "child": "C0001", "contact_quality": 4},
    )
    await import_csv(a, "audits", council)
    audit_id = (await send(a, "GET", "/v1/audits/AU001"))["id"]
    action = await send(
        a,
        "POST",
        f"/v1/audits/{audit_id}/learning-actions",
        json={
            "owner": OWNER,
            "description": f"{OWNER} to review the plan with the family",
            "due_date": "2015-04-01",
        },
    )
    await send(
        a,
        "PATCH",
        f"/v1/audits/{audit_id}/learning-actions/{action['id']}",
        json={"owner": MODERATORS[0], "status": "done", "completed_date": "2015-03-20"},
    )
    unmoderated = next(r["external_id"] for r in council.audits if not r["moderated_grade"])
    target = (await send(a, "GET", f"/v1/audits/{unmoderated}"))["id"]
    await send(
        a,
        "POST",
        f"/v1/audits/{target}/moderation",
        json={"moderator": OWNER, "grade": "good", "reason": f"{OWNER} and the team agreed"},
    )
    await send(a, "PUT", "/v1/programme/PC3/2015-04", json={"planned": 6})
    await run_the_census(s)


async def run_the_census(staff: ServiceClient) -> None:
    """The statutory returns' staff side: the census sample's workers, their CSWW census (registration
    numbers, days lost, absence, qualifications) and a CPD entry whose description names a colleague."""
    headers = staff.auth(*WRITE["staff"])
    answer = await staff.http.post(
        "/v1/imports/workers", content=workers_csv().encode(), headers={**headers, "Content-Type": "text/csv"}
    )
    assert answer.status_code == 200, answer.text
    answer = await staff.http.post(
        "/v1/imports/csww?mode=atomic",
        content=census_xml().encode(),
        headers={**headers, "Content-Type": "application/xml"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["counts"]["rejected"] == 0, answer.text
    await send(
        staff,
        "POST",
        f"/v1/workers/{CENSUS_WORKERS[0].external_id}/cpd",
        json={"entry_date": "2022-12-05", "description": CPD_DESCRIPTION, "peer_reflection": True},
    )


async def all_published(platform: dict[str, ServiceClient]) -> bool:
    for name in ("staff", "caseload", "audit"):
        service = platform[name]
        outbox = service.runtime.definition.tables.outbox
        async with service.runtime.database.sessionmaker() as session:
            waiting = await session.scalar(
                select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
            )
        if waiting:
            return False
    return True


async def every_message(bootstrap_servers: str) -> list[tuple[str, bytes]]:
    """Every message of every topic on the broker, from the beginning to the end it has now."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        topics = sorted(t for t in await consumer.topics() if not t.startswith("__"))
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        messages: list[tuple[str, bytes]] = []
        remaining = {tp for tp in partitions if ends[tp] > 0}
        while remaining:
            batch = await asyncio.wait_for(consumer.getmany(timeout_ms=1000), 30)
            for tp, records in batch.items():
                messages.extend((r.topic, r.value) for r in records if r.value is not None)
                if records and records[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
        return messages
    finally:
        await consumer.stop()


async def test_every_event_carries_only_its_allow_listed_fields_and_no_personal_data_but_worker_names(
    platform: dict[str, ServiceClient], own_broker: TansuBroker
) -> None:
    council = council_with_names()
    await run_the_council(platform, council)
    await wait_until(lambda: all_published(platform), timeout=60, interval=0.3, message="every event relayed")

    messages = await every_message(own_broker.bootstrap_servers)
    names = (
        {w["display_name"] for w in council.workers}
        | {"Amara Okafor-Reid"}
        | {w.name for w in CENSUS_WORKERS}
    )
    others = {*AUDITORS, *MODERATORS, OWNER, CPD_DESCRIPTION}
    numbers = {w["swe_registration_number"] for w in council.workers if w["swe_registration_number"]}
    numbers |= {n for w in CENSUS_WORKERS for n in (w.number, w.census_number())}
    seen: Counter[str] = Counter()
    for topic, raw in messages:
        assert not topic.endswith(".dlq"), f"a message was dead-lettered: {raw[:500]!r}"
        event = CloudEvent.from_json(raw)
        seen[event.type] += 1
        assert event.type in ALLOWED_FIELDS, event.type
        assert unlisted_fields(event.type, event.data) == [], event.type
        text = raw.decode()
        for secret in others | numbers:
            assert secret not in text, (event.type, secret)
        named = {v for v in leaf_values(event.data) if isinstance(v, str) and any(n in v for n in names)}
        if event.type.startswith("org.steadfast.staff.worker."):
            assert named <= {event.data["display_name"]}, (event.type, named)
        else:
            assert not named, (event.type, named)
            assert not any(n in text for n in names), event.type

    # The run exercised the event types that used to carry personal data, and nearly every other.
    assert {
        "org.steadfast.staff.worker.hired.v2",
        "org.steadfast.staff.worker.updated.v2",
        "org.steadfast.staff.worker.left.v2",
        "org.steadfast.audit.audit.recorded.v2",
        "org.steadfast.audit.audit.moderated.v2",
        "org.steadfast.audit.learning_action.recorded.v2",
        "org.steadfast.audit.learning_action.changed.v2",
        "org.steadfast.staff.census_record.recorded.v1",
        "org.steadfast.staff.cpd_entry.recorded.v1",
    } <= set(seen)
    assert len(seen) >= 20, sorted(seen)
    assert sum(seen.values()) == len(messages)
    assert len(messages) > 1000
