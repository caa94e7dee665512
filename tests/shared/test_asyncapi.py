"""The AsyncAPI document: generated from the code, committed in docs/, valid AsyncAPI 3.0."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from steadfast_shared.events.asyncapi import document, installed_definitions, render

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "asyncapi.json"
SCHEMA = ROOT / "tests" / "support" / "asyncapi" / "asyncapi-3.0.0.schema.json"


@pytest.fixture(scope="module")
def generated() -> dict[str, Any]:
    return document(installed_definitions())


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))


def test_the_committed_document_is_what_the_code_generates(generated: dict[str, Any]) -> None:
    assert COMMITTED.read_text() == render(generated), (
        "docs/asyncapi.json is stale: run `make asyncapi` and commit it"
    )


def test_the_document_is_valid_asyncapi_3(
    generated: dict[str, Any], validator: jsonschema.Draft7Validator
) -> None:
    errors = [f"{list(e.path)}: {e.message[:200]}" for e in validator.iter_errors(generated)]
    assert errors == []


def test_the_validator_catches_a_broken_document(
    generated: dict[str, Any], validator: jsonschema.Draft7Validator
) -> None:
    broken = copy.deepcopy(generated)
    broken["asyncapi"] = "2.6.0"
    first_channel = next(iter(broken["channels"].values()))
    first_channel["address"] = 42
    assert list(validator.iter_errors(broken))


def test_every_event_type_of_every_service_is_documented(generated: dict[str, Any]) -> None:
    documented = {m["name"] for m in generated["components"]["messages"].values()}
    registered = {t.type for d in installed_definitions() for t in d.registry}
    assert registered
    assert documented == registered
    addresses = {c["address"] for c in generated["channels"].values()}
    assert {t.topic for d in installed_definitions() for t in d.registry} == addresses


def test_each_message_carries_its_payload_schema_inside_the_cloudevents_envelope(
    generated: dict[str, Any],
) -> None:
    for message in generated["components"]["messages"].values():
        payload = message["payload"]
        assert payload["properties"]["type"]["const"] == message["name"]
        assert {"id", "source", "type", "subject", "time", "data"} <= set(payload["required"])
        assert payload["properties"]["data"]["$id"] == f"urn:steadfast:event:{message['name']}"
