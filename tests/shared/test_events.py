"""The event contract: CloudEvents 1.0 envelopes and versioned types with a JSON Schema each."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import jsonschema
import pytest
from pydantic import BaseModel, ValidationError

from steadfast_shared.events import CloudEvent, EventRegistry, new_event
from tests.support.ledger.events import (
    TOPIC,
    EntryAdjusted,
    EntryOpened,
    EntryOpenedData,
    registry,
)

#: The attributes CloudEvents 1.0 requires, and the ones this platform always sets.
REQUIRED = {"specversion", "id", "source", "type"}
ALWAYS = REQUIRED | {"subject", "time", "datacontenttype", "data"}


class Thing(BaseModel):
    name: str


def test_a_new_event_is_a_cloudevents_1_0_structured_json_envelope() -> None:
    event = new_event(
        source="/steadfast/ledger",
        type_="org.steadfast.ledger.thing.made.v1",
        subject="thing-1",
        data={"name": "a"},
    )

    document = json.loads(event.to_json())

    assert set(document) >= ALWAYS
    assert document["specversion"] == "1.0"
    assert document["datacontenttype"] == "application/json"
    assert document["subject"] == "thing-1"
    assert document["data"] == {"name": "a"}
    assert uuid.UUID(document["id"])
    assert datetime.fromisoformat(document["time"]).utcoffset() is not None
    assert "dataschema" not in document  # absent, not null, when there is none


def test_event_ids_are_unique() -> None:
    ids = {new_event(source="/s", type_="org.s.t.v1", subject="x", data={}).id for _ in range(1000)}

    assert len(ids) == 1000


def test_an_envelope_survives_the_round_trip() -> None:
    event = new_event(
        source="/s",
        type_="org.s.t.v1",
        subject="x",
        data={"n": 1},
        dataschema="urn:steadfast:event:org.s.t.v1",
    )

    assert CloudEvent.from_json(event.to_json()) == event


@pytest.mark.parametrize("missing", sorted(REQUIRED - {"specversion"} | {"subject", "time"}))
def test_an_envelope_without_a_required_attribute_is_refused(missing: str) -> None:
    document = json.loads(new_event(source="/s", type_="org.s.t.v1", subject="x", data={}).to_json())
    del document[missing]

    with pytest.raises(ValidationError):
        CloudEvent.from_json(json.dumps(document))


def test_extension_attributes_are_kept() -> None:
    document = json.loads(new_event(source="/s", type_="org.s.t.v1", subject="x", data={}).to_json())
    document["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

    event = CloudEvent.from_json(json.dumps(document))

    assert json.loads(event.to_json())["traceparent"] == document["traceparent"]


def test_an_event_type_must_end_in_a_version() -> None:
    with pytest.raises(ValueError, match="end in a version"):
        EventRegistry("/s").register(
            "org.steadfast.ledger.thing.made", Thing, topic="t", aggregate="thing", description="d"
        )


def test_a_last_segment_that_only_starts_with_v_is_not_a_version() -> None:
    with pytest.raises(ValueError, match="end in a version"):
        EventRegistry("/s").register(
            "org.steadfast.ledger.thing.value", Thing, topic="t", aggregate="thing", description="d"
        )


def test_an_event_type_knows_its_version() -> None:
    made = EventRegistry("/s").register(
        "org.steadfast.ledger.thing.made.v12", Thing, topic="t", aggregate="thing", description="d"
    )

    assert made.version == 12


def test_a_type_is_registered_once() -> None:
    things = EventRegistry("/s")
    things.register("org.s.thing.made.v1", Thing, topic="t", aggregate="thing", description="d")

    with pytest.raises(ValueError, match="registered twice"):
        things.register("org.s.thing.made.v1", Thing, topic="t", aggregate="thing", description="d")


def test_the_ledger_registry_lists_its_types_and_topics() -> None:
    assert len(registry) == 2
    assert registry.topics == {TOPIC}
    assert registry.get(EntryOpened.type) is EntryOpened
    assert registry.get("org.steadfast.ledger.entry.closed.v1") is None
    assert {t.type for t in registry} == {EntryOpened.type, EntryAdjusted.type}


def test_every_type_has_a_valid_json_schema_that_its_payloads_satisfy() -> None:
    schemas = registry.json_schemas()

    assert set(schemas) == {EntryOpened.type, EntryAdjusted.type}
    for type_, schema in schemas.items():
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["$id"] == f"urn:steadfast:event:{type_}"
        assert schema["description"]

    opened = EntryOpened("e-1", EntryOpenedData(entry_id="e-1", key="k", amount=5, version=1))
    jsonschema.validate(opened.payload(), schemas[EntryOpened.type])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"entry_id": "e-1", "amount": "five"}, schemas[EntryOpened.type])


def test_an_event_type_refuses_another_types_payload() -> None:
    wrong = EntryOpenedData(entry_id="e-1", key="k", amount=5, version=1)

    with pytest.raises(TypeError, match="carries EntryAdjustedData"):
        EntryAdjusted("e-1", wrong)  # type: ignore[arg-type]


def test_a_payload_parses_back_into_its_model() -> None:
    data = EntryOpenedData(entry_id="e-1", key="k", amount=5, version=1)
    pending = EntryOpened("e-1", data)

    assert EntryOpened.parse(pending.payload()) == data
    assert pending.subject == "e-1"
