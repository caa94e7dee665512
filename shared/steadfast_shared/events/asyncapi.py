"""The AsyncAPI 3.0 document of every topic, key and event type, generated from the code.

``python -m steadfast_shared.events.asyncapi`` prints it (YAML) from the event registries of every
installed service (the ``steadfast.services`` entry points); ``docs/asyncapi.json`` is that output, and
a test fails when the two differ or when the document does not validate against the AsyncAPI schema.
Each message's payload is the CloudEvents 1.0 envelope whose ``data`` is the event type's JSON Schema.
"""

from __future__ import annotations

import importlib.metadata
import json
import sys
from typing import Any

from steadfast_shared.events.envelope import CloudEvent
from steadfast_shared.events.registry import EventRegistry, EventType
from steadfast_shared.service import ServiceDefinition

ENTRY_POINT_GROUP = "steadfast.services"


def installed_definitions() -> list[ServiceDefinition]:
    definitions = [ep.load() for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)]
    return sorted((d for d in definitions if isinstance(d, ServiceDefinition)), key=lambda d: d.name)


def _name(event_type: EventType[Any]) -> str:
    return event_type.type.removeprefix("org.steadfast.").replace(".", "_")


def _envelope_schema(event_type: EventType[Any]) -> dict[str, Any]:
    envelope = CloudEvent.model_json_schema(mode="serialization")
    properties = dict(envelope["properties"])
    properties["type"] = {"type": "string", "const": event_type.type}
    properties["data"] = event_type.json_schema()
    envelope["properties"] = properties
    envelope["title"] = f"{event_type.type} (CloudEvents 1.0, structured JSON)"
    envelope["required"] = sorted({*envelope.get("required", []), "data", "subject"})
    return envelope


def document(definitions: list[ServiceDefinition]) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of ``definitions``' registries."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for definition in definitions:
        registry: EventRegistry = definition.registry
        for topic in sorted(registry.topics):
            channel_id = topic.replace(".", "_")
            types = sorted((t for t in registry if t.topic == topic), key=lambda t: t.type)
            channels[channel_id] = {
                "address": topic,
                "description": (
                    f"Events published by the {definition.name} service through its transactional outbox. "
                    "Kafka key: the aggregate id (the CloudEvents subject), so one aggregate's events stay "
                    f"in order. Failed deliveries of a consumer go to `{topic}.dlq`."
                ),
                "messages": {_name(t): {"$ref": f"#/components/messages/{_name(t)}"} for t in types},
            }
            operations[f"publish_{channel_id}"] = {
                "action": "send",
                "channel": {"$ref": f"#/channels/{channel_id}"},
                "summary": f"The {definition.name} service's relay publishes these events (at least once).",
                "messages": [{"$ref": f"#/channels/{channel_id}/messages/{_name(t)}"} for t in types],
            }
            for t in types:
                messages[_name(t)] = {
                    "name": t.type,
                    "title": t.type,
                    "summary": t.description,
                    "contentType": "application/cloudevents+json",
                    "headers": {
                        "type": "object",
                        "properties": {
                            "ce_type": {"type": "string", "const": t.type},
                            "ce_id": {"type": "string"},
                            "content-type": {"type": "string"},
                        },
                    },
                    "bindings": {
                        "kafka": {"key": {"type": "string", "description": f"the {t.aggregate} id"}}
                    },
                    "payload": _envelope_schema(t),
                }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Steadfast events",
            "version": "1.0.0",
            "description": (
                "Every topic, key and event type of the Steadfast platform (SPEC section 5), generated from "
                "the services' event registries by `python -m steadfast_shared.events.asyncapi`."
            ),
        },
        "defaultContentType": "application/cloudevents+json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def render(doc: dict[str, Any]) -> str:
    """Stable JSON text (YAML 1.2 is a superset of JSON, so this is also the YAML file)."""
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def main() -> int:
    sys.stdout.write(render(document(installed_definitions())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
