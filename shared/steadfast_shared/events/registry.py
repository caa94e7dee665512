"""Versioned event types, each with one pydantic model (and so one JSON Schema) and one topic.

A service declares its event types in its ``events.py`` on an :class:`EventRegistry`; the registry is
what the AsyncAPI document is generated from, what the unit of work checks every event against, and
what consumers use to parse payloads.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

D = TypeVar("D", bound=BaseModel)

_VERSIONED = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+\.v[0-9]+$")


@dataclass(frozen=True)
class EventType(Generic[D]):
    """One versioned event type: ``org.steadfast.<service>.<aggregate>.<what happened>.v<N>``."""

    type: str
    data_model: builtins.type[D]
    topic: str
    aggregate: str
    description: str

    def __post_init__(self) -> None:
        if not _VERSIONED.match(self.type):
            raise ValueError(f"event type {self.type!r} must be reverse-DNS and end in a version such as .v1")

    @property
    def version(self) -> int:
        return int(self.type.rsplit(".", 1)[-1][1:])

    def json_schema(self) -> dict[str, Any]:
        schema = self.data_model.model_json_schema(mode="serialization")
        schema["$id"] = f"urn:steadfast:event:{self.type}"
        schema.setdefault("description", self.description)
        return schema

    def parse(self, data: dict[str, Any]) -> D:
        return self.data_model.model_validate(data)

    def __call__(self, subject: str, data: D) -> PendingEvent:
        """An event of this type about aggregate ``subject``, waiting for the unit of work."""
        if not isinstance(data, self.data_model):
            raise TypeError(f"{self.type} carries {self.data_model.__name__}, not {type(data).__name__}")
        return PendingEvent(event_type=self, subject=subject, data=data)


@dataclass(frozen=True)
class PendingEvent:
    """An event an aggregate recorded; the unit of work turns it into an outbox row."""

    event_type: EventType[Any]
    subject: str
    data: BaseModel

    def payload(self) -> dict[str, Any]:
        dumped: dict[str, Any] = self.data.model_dump(mode="json")
        return dumped


class EventRegistry:
    """The event types of one service (or of the whole platform, when registries are merged)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._types: dict[str, EventType[Any]] = {}

    def register(
        self, type_: str, data_model: builtins.type[D], *, topic: str, aggregate: str, description: str
    ) -> EventType[D]:
        if type_ in self._types:
            raise ValueError(f"event type {type_!r} registered twice")
        event_type: EventType[D] = EventType(
            type=type_,
            data_model=data_model,
            topic=topic,
            aggregate=aggregate,
            description=description,
        )
        self._types[type_] = event_type
        return event_type

    def get(self, type_: str) -> EventType[Any] | None:
        return self._types.get(type_)

    def __iter__(self) -> Iterator[EventType[Any]]:
        return iter(self._types.values())

    def __len__(self) -> int:
        return len(self._types)

    @property
    def topics(self) -> set[str]:
        return {t.topic for t in self._types.values()}

    def json_schemas(self) -> dict[str, dict[str, Any]]:
        return {t.type: t.json_schema() for t in self._types.values()}
