"""Rebuilding the projections from the topics (SPEC section 5), on the real broker and PostgreSQL.

- The rebuild's batch path leaves, table by table, what applying the same
  deliveries one by one leaves (duplicates, replays and redeliveries included), whatever the batch size.
- A council's events consumed live, then rebuilt into a second database: the consistency check finds
  no difference on three days; the ``check-consistency`` command says so (exit 0), and after a fact of
  the live database is tampered with it reports the difference (exit 1).
- Every event delivered twice: the rebuild counts the copies and gives the KPIs of one delivery.
- ``rebuild --into URL`` rebuilds another database; ``snapshot`` takes a KPI snapshot.
- An in-place rebuild is refused while the service consumes; with the service stopped it rebuilds
  (a row no event wrote is gone), and the service started again resumes after the events rebuilt.
- A broker that lost every event (Tansu restarted empty): the staff service republishes its outbox, and
  a rebuild of the metrics database brings the workers back.
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text, update

from steadfast_audit.events import AuditChanged, AuditModerated, AuditRecorded
from steadfast_caseload.events import (
    AllocationChanged,
    AllocationStarted,
    AssessmentChanged,
    AssessmentRecorded,
    EpisodeRecorded,
    FeedbackReturned,
    IroVisitRecorded,
    ReviewRecorded,
    VisitRecorded,
)
from steadfast_metrics.bootstrap import definition
from steadfast_metrics.db import tables as metrics_tables
from steadfast_metrics.facts.consumer import GROUP
from steadfast_metrics.facts.models import FactAudit, FactWorker
from steadfast_metrics.facts.projector import apply_events
from steadfast_metrics.facts.repository import FactsRepository
from steadfast_metrics.kpis.catalogue import KPI_IDS
from steadfast_metrics.rebuild.consistency import check_consistency
from steadfast_metrics.rebuild.service import PROJECTION_TABLES, RebuildRefused, rebuild_projections
from steadfast_metrics.settings import MetricsSettings
from steadfast_shared.cli import run_cli
from steadfast_shared.codes import AuditType, EmploymentType, EpisodeType, Grade, Role, VisitType
from steadfast_shared.consumer import IdempotentConsumer
from steadfast_shared.db import Database, create_database, utcnow
from steadfast_shared.embedded.broker import TansuBroker
from steadfast_shared.events import CloudEvent
from steadfast_shared.kafka import ensure_topics
from steadfast_shared.outbox.store import OutboxStore
from steadfast_shared.settings import Environment
from steadfast_shared.testing import ServiceClient, produce, read_topic, service_app, wait_until
from steadfast_shared.uow import UnitOfWork
from steadfast_staff.bootstrap import definition as staff_definition
from steadfast_staff.events import TOPIC as STAFF_TOPIC
from steadfast_staff.events import (
    PostEstablished,
    PostHolderAssigned,
    RecruitmentSurveyReturned,
    StudentPlacementRecorded,
    WorkerHired,
    WorkerLeft,
    WorkerTermsChanged,
)
from tests.metrics.conftest import (
    Projections,
    allocation,
    assessment,
    audit,
    episode,
    event,
    feedback,
    iro_visit,
    placement,
    post,
    recruitment_survey,
    review,
    terms,
    visit,
    worker,
)

pytestmark = pytest.mark.integration

TEAMS = ("ACIN1", "PC3")
#: The days the KPIs are compared on.
DAYS = [date(2014, 12, 1), date(2015, 3, 2), date(2015, 6, 1)]
MakeDatabase = Callable[..., Awaitable[str]]


# -- a council's events -----------------------------------------------------------------------------


@dataclass
class Council:
    """The events of a small council, by the stream that carries them."""

    staff: list[CloudEvent] = field(default_factory=list)
    caseload: list[CloudEvent] = field(default_factory=list)
    audit: list[CloudEvent] = field(default_factory=list)

    @property
    def events(self) -> list[CloudEvent]:
        return [*self.staff, *self.caseload, *self.audit]


def council(seed: int = 2015, children: int = 40) -> Council:
    """Twelve workers in two teams (an agency worker, an NQSW with protected time, a student, a team
    move, a leaver), posts with holders, forty children with episodes, allocations and handovers,
    assessments, visits, reviews and IRO visits, audits graded and moderated, placements and surveys."""
    rng = random.Random(seed)
    made = Council()
    start = date(2014, 1, 6)
    roles = [Role.social_worker] * 6 + [Role.senior_social_worker] * 2 + [Role.consultant_practitioner]
    roles += [Role.practice_manager, Role.student, Role.social_worker]
    workers: list[uuid.UUID] = []
    for n, role in enumerate(roles):
        team = TEAMS[n % 2]
        worker_id = uuid.uuid4()
        workers.append(worker_id)
        employment = EmploymentType.agency if n == 3 else EmploymentType.permanent
        history = [terms(start, role=role, team=team, employment_type=employment)]
        hired = worker(worker_id, version=1, history=history)
        if n == 4:  # a newly qualified social worker, with protected development time
            hired = worker(
                worker_id, version=1, history=history, asye_start=start, protected_development_pct=10.0
            )
        made.staff.append(event(WorkerHired, hired))
        if n == 5:  # moves team
            moved = date(2014, 11, 3)
            history = [
                terms(start, moved, role=role, team=team, employment_type=employment),
                terms(moved, role=role, team=TEAMS[(n + 1) % 2], employment_type=employment),
            ]
            made.staff.append(event(WorkerTermsChanged, worker(worker_id, version=2, history=history)))
        if n == 7:  # leaves
            left = date(2015, 2, 2)
            history = [terms(start, left, role=role, team=team, employment_type=employment)]
            made.staff.append(event(WorkerLeft, worker(worker_id, version=2, end_date=left, history=history)))
    for n in range(4):
        post_id = uuid.uuid4()
        made.staff.append(event(PostEstablished, post(post_id, version=1, team=TEAMS[n % 2])))
        holders = [(workers[n], start, None)]
        made.staff.append(
            event(PostHolderAssigned, post(post_id, version=2, team=TEAMS[n % 2], holders=holders))
        )
    for team in TEAMS:
        made.staff.append(event(StudentPlacementRecorded, placement(team=team, start_date=date(2014, 9, 1))))
        made.staff.append(
            event(RecruitmentSurveyReturned, recruitment_survey(date(2015, 1, 12), team=team, place=4))
        )
    holding = [w for w, role in zip(workers, roles, strict=True) if role is not Role.practice_manager]
    for _ in range(children):
        made.caseload.extend(_child(rng, holding))
    for n in range(10):
        audit_id = uuid.uuid4()
        kind = AuditType.dip_sample if n % 4 == 3 else AuditType.full
        done = date(2015, 1, 5) + timedelta(days=rng.randrange(0, 120))
        grade = rng.choice(list(Grade))
        made.audit.append(
            event(AuditRecorded, audit(audit_id, audit_version=1, audit_type=kind, completed_date=None))
        )
        made.audit.append(
            event(
                AuditChanged,
                audit(
                    audit_id,
                    audit_version=2,
                    audit_type=kind,
                    team=TEAMS[n % 2],
                    completed_date=done,
                    overall_grade=grade,
                    contact_grade=rng.choice(list(Grade)),
                ),
            )
        )
        if n % 3 == 0:
            moderated = audit(
                audit_id,
                audit_version=3,
                audit_type=kind,
                team=TEAMS[n % 2],
                completed_date=done,
                overall_grade=grade,
                moderated_grade=Grade.inadequate,
            )
            made.audit.append(event(AuditModerated, moderated))
    return made


def _child(rng: random.Random, workers: list[uuid.UUID]) -> list[CloudEvent]:
    """One child's events, each moving the child's version on."""
    child = uuid.uuid4()
    version = 0

    def bump() -> int:
        nonlocal version
        version += 1
        return version

    kind = rng.choice([EpisodeType.cp, EpisodeType.cla, EpisodeType.cin, EpisodeType.assessment])
    opened = date(2014, 3, 3) + timedelta(days=rng.randrange(0, 400))
    events = [event(EpisodeRecorded, episode(child, kind, opened, child_version=bump()))]
    first, second = rng.sample(workers, 2)
    allocation_id = uuid.uuid4()
    events.append(
        event(
            AllocationStarted,
            allocation(child, first, opened, child_version=bump(), allocation_id=allocation_id),
        )
    )
    if rng.random() < 0.4:  # a handover
        handed = opened + timedelta(days=rng.randrange(20, 120))
        ended = allocation(child, first, opened, handed, child_version=bump(), allocation_id=allocation_id)
        events.append(event(AllocationChanged, ended))
        events.append(event(AllocationStarted, allocation(child, second, handed, child_version=bump())))
    assessment_id = uuid.uuid4()
    events.append(
        event(
            AssessmentRecorded,
            assessment(child, opened, child_version=bump(), assessment_id=assessment_id),
        )
    )
    completed = opened + timedelta(days=rng.randrange(20, 80))
    events.append(
        event(
            AssessmentChanged,
            assessment(child, opened, completed, child_version=bump(), assessment_id=assessment_id),
        )
    )
    visited = VisitType(kind.value) if kind in (EpisodeType.cp, EpisodeType.cla) else VisitType.other
    for k in range(rng.randrange(1, 4)):
        day = opened + timedelta(days=7 + 25 * k)
        events.append(event(VisitRecorded, visit(child, day, visited, child_version=bump())))
    if kind in (EpisodeType.cp, EpisodeType.cla):
        reviewed = opened + timedelta(days=60)
        events.append(event(ReviewRecorded, review(child, reviewed, child_version=bump())))
        if rng.random() < 0.7:
            events.append(
                event(IroVisitRecorded, iro_visit(child, reviewed - timedelta(days=3), child_version=bump()))
            )
    if rng.random() < 0.2:
        events.append(event(FeedbackReturned, feedback(opened + timedelta(days=30), contact_quality=4)))
    return events


# -- helpers ----------------------------------------------------------------------------------------


def topics_of_their_own(bootstrap: str, database_url: str, **overrides: Any) -> MetricsSettings:
    unique = uuid.uuid4().hex
    values: dict[str, Any] = {
        "environment": Environment.test,
        "database_url": database_url,
        "database_pool_size": 5,
        "kafka_bootstrap_servers": bootstrap,
        "staff_topic": f"test.staff.{unique}",
        "caseload_topic": f"test.caseload.{unique}",
        "audit_topic": f"test.audit.{unique}",
        "relay_poll_interval_seconds": 0.05,
        "log_json": False,
    }
    values.update(overrides)
    return MetricsSettings(**values)


def settings_topics(settings: MetricsSettings) -> list[str]:
    return [settings.staff_topic, settings.caseload_topic, settings.audit_topic]


def database_url(database: Database) -> str:
    return database.engine.url.render_as_string(hide_password=False)


async def publish(settings: MetricsSettings, made: Council, *, copies: int = 1) -> None:
    """Produce the council's events on the settings' topics, ``copies`` times each (the same envelope)."""
    bootstrap = settings.kafka_bootstrap_servers
    for topic, events in (
        (settings.staff_topic, made.staff),
        (settings.caseload_topic, made.caseload),
        (settings.audit_topic, made.audit),
    ):
        await produce(bootstrap, topic, [e for e in events for _ in range(copies)])


async def events_applied(database: Database) -> int:
    async with database.sessionmaker() as session:
        return sum(s.events_applied for s in await FactsRepository(session).sources())


async def tracked(database: Database) -> int:
    processed = metrics_tables.processed_events
    async with database.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(processed)) or 0)


#: Columns a rebuild need not give the same values: a surrogate key, a wall-clock time.
SURROGATES = {"fact_worker_terms": {"id"}, "projection_sources": {"last_applied_at"}}


async def projected_rows(database: Database) -> dict[str, list[str]]:
    """Every projected row (a worker's terms without their surrogate id, the sources without when they
    were last applied, whether the revision moved rather than its value), sorted, by table."""
    found: dict[str, list[str]] = {}
    async with database.sessionmaker() as session:
        for table in PROJECTION_TABLES:
            skipped = {"fact_worker_terms": {"id"}, "projection_sources": {"last_applied_at"}}.get(
                table.name, set()
            )
            columns: list[Any] = [c for c in table.columns if c.name not in skipped]
            if table.name == "projection_revision":
                # It counts the records each transaction wrote: it moves whenever the projections
                # change (it keys the answer cache), by how much depends on how events were batched.
                columns = [(table.c.revision > 0).label("moved")]
            rows = await session.execute(select(*columns))
            found[table.name] = sorted(repr(tuple(row)) for row in rows)
    return found


def interleaved(events: list[CloudEvent], rng: random.Random) -> list[CloudEvent]:
    """The aggregates' events in a random interleaving that keeps each aggregate's own order (as Kafka
    keeps one key's order)."""
    queues: dict[str, list[CloudEvent]] = {}
    for e in events:
        queues.setdefault(e.subject, []).append(e)
    turns = [subject for subject, queue in queues.items() for _ in queue]
    rng.shuffle(turns)
    return [queues[subject].pop(0) for subject in turns]


async def truncate(database: Database) -> None:
    async with database.sessionmaker() as session:
        names = ", ".join(t.name for t in PROJECTION_TABLES)
        await session.execute(text(f"TRUNCATE {names} RESTART IDENTITY"))
        await session.commit()


# -- the batch path ---------------------------------------------------------------------------------


async def test_the_batch_path_leaves_what_applying_one_by_one_leaves(projections: Projections) -> None:
    history = interleaved(council(seed=7, children=12).events, random.Random(3))
    deliveries = [
        history,
        [e for e in history for _ in (1, 2)],  # every event twice
        history + history,  # the whole history replayed
        history + history[::7],  # old events redelivered after newer ones
    ]
    for delivered in deliveries:
        await truncate(projections.database)
        await projections.apply(*delivered)
        one_by_one = await projected_rows(projections.database)
        for batch_size in (2, 29, len(delivered)):
            await truncate(projections.database)
            for first in range(0, len(delivered), batch_size):
                async with projections.database.sessionmaker() as session:
                    uow = UnitOfWork(session, tables=definition.tables, registry=definition.registry)
                    await apply_events(uow, delivered[first : first + batch_size])
                    await uow.commit()
            assert await projected_rows(projections.database) == one_by_one, batch_size
    assert one_by_one["projection_revision"]  # something was written
    assert len(one_by_one["fact_allocations"]) > 12


# -- live processing, the rebuild and the consistency check -----------------------------------------


def assigned(consumer: IdempotentConsumer) -> int:
    """How many partitions the live consumer holds (its Kafka client is private: tests only)."""
    client = consumer._consumer
    return len(client.assignment()) if client is not None else 0


def command_environment(monkeypatch: pytest.MonkeyPatch, settings: MetricsSettings) -> None:
    """The environment ``steadfast-metrics`` reads its settings from."""
    for name, value in {
        "ENVIRONMENT": "test",
        "DATABASE_URL": settings.database_url,
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "STAFF_TOPIC": settings.staff_topic,
        "CASELOAD_TOPIC": settings.caseload_topic,
        "AUDIT_TOPIC": settings.audit_topic,
        "LOG_JSON": "false",
        "LOG_LEVEL": "WARNING",
    }.items():
        monkeypatch.setenv(f"METRICS_{name}", value)


async def run_command(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    """Run ``steadfast-metrics <argv>`` (in a thread: the command line runs an event loop of its own);
    its exit status and the JSON it printed."""
    capsys.readouterr()
    status = await asyncio.to_thread(run_cli, definition, list(argv))
    printed = [line for line in capsys.readouterr().out.splitlines() if line.startswith('{"service"')]
    assert len(printed) == 1, printed
    answer: dict[str, Any] = json.loads(printed[0])
    return status, answer


async def test_a_rebuild_gives_what_live_processing_gave_and_the_check_says_so(
    metrics: ServiceClient,
    make_database: MakeDatabase,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = metrics.settings
    assert isinstance(settings, MetricsSettings)
    made = council()
    total = len(made.events)
    live = metrics.runtime.database
    await publish(settings, made)

    async def all_applied() -> bool:
        return await events_applied(live) == total

    await wait_until(all_applied, timeout=60, message="the live consumer did not apply every event")

    rebuilt = create_database(await make_database(definition), pool_size=2)
    try:
        result = await rebuild_projections(rebuilt, settings, batch_size=100)
        assert (result.events_read, result.events_applied, result.duplicates, result.dead_letters) == (
            total,
            total,
            0,
            0,
        )
        assert sum(o for parts in result.end_offsets.values() for o in parts.values()) == total
        assert set(result.end_offsets) == {
            settings.staff_topic,
            settings.caseload_topic,
            settings.audit_topic,
        }
        assert await tracked(rebuilt) == total
        report = await check_consistency(live, rebuilt, settings, DAYS)
        assert report.consistent, report.summary()["differences"]
        assert report.teams == {day: list(TEAMS) for day in DAYS}
        assert report.answers_compared == len(DAYS) * (1 + len(TEAMS)) * len(KPI_IDS)
        assert all(live_rows == rebuilt_rows > 0 for live_rows, rebuilt_rows in report.tables.values())
        assert await projected_rows(rebuilt) == await projected_rows(live)
    finally:
        await rebuilt.dispose()

    # An in-place rebuild is refused while the service consumes, before anything is emptied.
    consumer = metrics.app.state.background_tasks[GROUP]
    assert isinstance(consumer, IdempotentConsumer)
    every_partition = assigned(consumer)
    with pytest.raises(RebuildRefused, match="other active members"):
        await rebuild_projections(live, settings, commit_offsets=True)
    assert await events_applied(live) == total
    # The service gets every partition back (Tansu needs the group to settle before its members leave).
    await wait_until(lambda: assigned(consumer) == every_partition, timeout=30)

    # The command, end to end: a scratch database made beside the live one, rebuilt, compared, dropped.
    command_environment(monkeypatch, settings)
    days = [d.isoformat() for d in DAYS]
    status, answer = await run_command(capsys, "check-consistency", "--as-of", *days)
    assert status == 0, answer["differences"]
    assert answer["consistent"] is True
    assert answer["rebuild"]["events_applied"] == total
    assert answer["scratch"].endswith("(created and dropped)")

    # A fact of the live database tampered with: the check finds it.
    async with live.sessionmaker() as session:
        await session.execute(update(FactAudit).values(grade=Grade.inadequate))
        await session.commit()
    status, answer = await run_command(capsys, "check-consistency", "--as-of", *days)
    assert status == 1
    assert answer["consistent"] is False
    differing = {(d["kind"], d["subject"], d["field"]) for d in answer["differences"]}
    assert ("kpi", "audits_inadequate_pct", "value") in differing
    assert all(kind == "kpi" and subject.startswith("audits_") for kind, subject, _ in differing)


async def test_every_event_delivered_twice_rebuilds_what_one_delivery_gave(
    kafka_broker: TansuBroker, make_database: MakeDatabase, projections: Projections
) -> None:
    made = council(seed=11, children=15)
    total = len(made.events)
    settings = topics_of_their_own(kafka_broker.bootstrap_servers, "unused")
    await publish(settings, made, copies=2)
    await projections.apply(*made.events)  # each event once, as the live consumer applies them
    rebuilt = create_database(await make_database(definition), pool_size=2)
    try:
        result = await rebuild_projections(rebuilt, settings, batch_size=64)
        assert (result.events_read, result.events_applied, result.duplicates) == (2 * total, total, total)
        assert await tracked(rebuilt) == total
        report = await check_consistency(projections.database, rebuilt, settings, DAYS)
        assert report.consistent, report.summary()["differences"]
        assert await projected_rows(rebuilt) == await projected_rows(projections.database)
    finally:
        await rebuilt.dispose()


async def test_the_rebuild_into_and_snapshot_commands(
    kafka_broker: TansuBroker,
    make_database: MakeDatabase,
    projections: Projections,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    made = council(seed=13, children=8)
    total = len(made.events)
    live_url = database_url(projections.database)
    settings = topics_of_their_own(kafka_broker.bootstrap_servers, live_url)
    await publish(settings, made)
    command_environment(monkeypatch, settings)
    into = await make_database(definition)

    status, answer = await run_command(capsys, "rebuild", "--into", into, "--batch-size", "40")
    assert status == 0
    assert (answer["events_read"], answer["events_applied"], answer["duplicates"]) == (total, total, 0)
    assert answer["rebuilt"] == into  # no password to hide on the test server
    rebuilt = create_database(into, pool_size=2)
    try:
        await projections.apply(*made.events)
        assert await projected_rows(rebuilt) == await projected_rows(projections.database)
    finally:
        await rebuilt.dispose()

    status, answer = await run_command(capsys, "snapshot", "--as-of", "2015-03-02")
    assert status == 0
    assert answer["snapshot"]["as_of"] == "2015-03-02"
    assert answer["snapshot"]["teams"] == list(TEAMS)
    assert answer["snapshot"]["rows"] == (1 + len(TEAMS)) * len(KPI_IDS)


# -- in place ---------------------------------------------------------------------------------------


async def test_an_in_place_rebuild_then_the_service_started_again_applies_only_what_came_after(
    kafka_broker: TansuBroker, projections: Projections
) -> None:
    settings = topics_of_their_own(kafka_broker.bootstrap_servers, "unused")
    await ensure_topics(settings.kafka_bootstrap_servers, settings_topics(settings))
    made = council(seed=5, children=10)
    total = len(made.events)
    await publish(settings, made)
    database = projections.database
    await projections.apply(*made.events)  # the state live processing gave
    live_state = await projected_rows(database)
    # ... and a row no event wrote, which the rebuild must not keep.
    stray = event(WorkerHired, worker())
    await projections.apply(stray)

    result = await rebuild_projections(database, settings, batch_size=50, commit_offsets=True)
    assert (result.events_applied, result.duplicates, result.dead_letters) == (total, 0, 0)
    assert await projected_rows(database) == live_state
    assert await tracked(database) == total

    # Started again, the service resumes after the events rebuilt (the group's offsets were committed at
    # the end offsets): the new event is applied, none of the rebuilt ones is even read again.
    service_settings = settings.model_copy(update={"database_url": database_url(database)})
    async with service_app(definition, service_settings) as service:
        late = event(WorkerHired, worker())
        await produce(settings.kafka_bootstrap_servers, settings.staff_topic, [late])

        async def one_more() -> bool:
            return await events_applied(database) == total + 1

        await wait_until(one_more, timeout=60, message="the new event was not applied")
        consumer = service.app.state.background_tasks[GROUP]
        assert isinstance(consumer, IdempotentConsumer)
        assert (consumer.stats.processed, consumer.stats.duplicates) == (1, 0)
    assert await tracked(database) == total + 1


# -- a broker that lost the events ------------------------------------------------------------------


async def test_after_the_broker_lost_every_event_a_republish_and_a_rebuild_bring_the_workers_back(
    tmp_path: Path, make_database: MakeDatabase, service_settings: Callable[..., Any]
) -> None:
    broker = TansuBroker(log_file=tmp_path / "forgetful-broker.log")
    await broker.start_async()
    try:
        staff_url = await make_database(staff_definition)
        staff_settings = service_settings(
            staff_definition, staff_url, kafka_bootstrap_servers=broker.bootstrap_servers
        )
        async with service_app(staff_definition, staff_settings) as staff:
            since = utcnow() - timedelta(seconds=1)
            hired = []
            for n in range(3):
                body = {
                    "external_id": f"LOST{n}",
                    "display_name": f"Worker LOST{n}",
                    "role": "social_worker",
                    "employment_type": "permanent",
                    "fte": 1.0,
                    "team": TEAMS[n % 2],
                    "start_date": "2014-01-06",
                }
                answer = await staff.http.post(
                    "/v1/workers", json=body, headers=staff.auth("staff:read", "staff:write")
                )
                assert answer.status_code == 201, answer.text
                hired.append(uuid.UUID(answer.json()["id"]))
            store = OutboxStore(staff.runtime.database.sessionmaker, staff_definition.tables)

            async def relayed() -> bool:
                return (await store.backlog())[0] == 0

            await wait_until(relayed, timeout=30, message="the staff outbox was not relayed")
            published = len(await read_topic(broker.bootstrap_servers, STAFF_TOPIC))
            assert published >= len(hired)

            await broker.restart_async()  # an empty broker: every event is gone
            assert await read_topic(broker.bootstrap_servers, STAFF_TOPIC) == []
            assert await store.republish(since=since) == published
            await wait_until(relayed, timeout=60, message="the republished events were not relayed")

        metrics_url = await make_database(definition)
        metrics_settings = MetricsSettings(
            environment=Environment.test,
            database_url=metrics_url,
            kafka_bootstrap_servers=broker.bootstrap_servers,
        )
        database = create_database(metrics_url, pool_size=2)
        try:
            result = await rebuild_projections(database, metrics_settings)
            # A relay retrying after the restart may have sent some twice: each is applied once.
            assert result.events_applied == published
            assert result.events_read == published + result.duplicates
            async with database.sessionmaker() as session:
                workers = set((await session.scalars(select(FactWorker.id))).all())
            assert workers == set(hired)
        finally:
            await database.dispose()
    finally:
        await broker.stop_async()
