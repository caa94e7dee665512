"""The projections consumer on the real broker: events produced on the staff, caseload and audit topics
reach the facts the KPI engine loads, a redelivered event is applied once, an unreadable one goes to the
dead-letter topic while the others carry on, and the sources say how far each stream has been read."""

from __future__ import annotations

from datetime import date

from steadfast_audit.events import AuditModerated, AuditRecorded
from steadfast_caseload.events import AllocationStarted, EpisodeRecorded
from steadfast_metrics.facts.records import Allocation, Audit, Episode
from steadfast_metrics.facts.repository import FactsRepository, SourceFreshness
from steadfast_metrics.settings import MetricsSettings
from steadfast_shared.codes import AuditType, EpisodeType, Grade
from steadfast_shared.testing import ServiceClient, produce, read_records, wait_until
from steadfast_staff.events import WorkerHired
from tests.metrics.conftest import allocation, audit, episode, event, new_id, worker

AS_OF = date(2015, 3, 2)


async def test_events_on_the_three_topics_reach_the_loaded_facts(metrics: ServiceClient) -> None:
    settings = metrics.settings
    assert isinstance(settings, MetricsSettings)
    bootstrap = settings.kafka_bootstrap_servers
    hired = worker()
    child = new_id()
    recorded = audit(audit_version=1, overall_grade=Grade.good)
    moderated = audit(
        recorded.audit_id, audit_version=2, overall_grade=Grade.good, moderated_grade=Grade.inadequate
    )
    opened = event(EpisodeRecorded, episode(child, EpisodeType.cla, date(2014, 6, 2), child_version=2))
    unreadable = event(EpisodeRecorded, episode(child, EpisodeType.cp, date(2014, 6, 2), child_version=3))
    unreadable = unreadable.model_copy(update={"data": {**unreadable.data, "episode_type": "adoption"}})

    await produce(bootstrap, settings.staff_topic, [event(WorkerHired, hired)])
    await produce(
        bootstrap,
        settings.caseload_topic,
        [
            opened,
            opened,  # redelivered: the same event id
            unreadable,
            event(AllocationStarted, allocation(child, hired.id, date(2014, 6, 2), child_version=4)),
        ],
    )
    audit_events = [event(AuditModerated, moderated), event(AuditRecorded, recorded)]
    await produce(bootstrap, settings.audit_topic, audit_events)

    # The redelivered episode is a duplicate to the consumer; the unreadable one is never applied.
    expected = {"steadfast.staff": 1, "steadfast.caseload": 2, "steadfast.audit": 2}

    async def followed() -> list[SourceFreshness]:
        async with metrics.runtime.database.sessionmaker() as session:
            sources = await FactsRepository(session).sources()
        return sources if {s.topic: s.events_applied for s in sources} == expected else []

    sources = await wait_until(followed, timeout=30, message="the events were not all applied")
    assert {s.topic: s.newest_event_time for s in sources}["steadfast.audit"] == max(
        e.time for e in audit_events
    )

    async with metrics.runtime.database.sessionmaker() as session:
        repository = FactsRepository(session)
        facts = await repository.load(AS_OF, 182)
        assert (
            await repository.revision() == 4
        )  # the worker, the episode, the allocation, the moderated audit
    assert [w.id for w in facts.workers] == [hired.id]
    assert list(facts.episodes) == [Episode(child, EpisodeType.cla, date(2014, 6, 2), None)]
    assert list(facts.allocations) == [Allocation(child, hired.id, date(2014, 6, 2), None)]
    assert list(facts.audits) == [
        Audit(recorded.audit_id, AuditType.full, "ACIN1", date(2015, 2, 2), Grade.inadequate, None)
    ]

    dead = await read_records(bootstrap, settings.caseload_topic + ".dlq", expect=1, timeout=30)
    assert [r.value for r in dead] == [unreadable.to_json()]
    assert dict(dead[0].headers)["dlq_consumer"] == b"metrics-projections"

    # Freshness on /metrics: the newest event's age per topic (computed at the scrape), and the lag.
    scraped = (await metrics.http.get("/metrics")).text
    age_lines = [
        line
        for line in scraped.splitlines()
        if line.startswith('steadfast_consumer_newest_event_age_seconds{consumer="metrics-projections"')
    ]
    assert {line.split('topic="')[1].split('"')[0] for line in age_lines} >= {
        settings.staff_topic,
        settings.caseload_topic,
        settings.audit_topic,
    }
    assert all(float(line.rsplit(" ", 1)[1]) >= 0 for line in age_lines)
    assert (
        f'steadfast_consumer_lag{{consumer="metrics-projections",partition="0",topic="{settings.staff_topic}"}}'
        in scraped
    )
