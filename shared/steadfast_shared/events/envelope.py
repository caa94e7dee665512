"""CloudEvents 1.0 structured JSON mode: the Kafka message value of every event (SPEC section 5)."""

from __future__ import annotations

import json
import os
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from steadfast_shared.db.types import utcnow


class CloudEvent(BaseModel):
    """A CloudEvents 1.0 envelope. ``subject`` is the aggregate id and the Kafka key."""

    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: str = "1.0"
    id: str = Field(min_length=1)
    source: str = Field(min_length=1, description="the service that published it, e.g. /steadfast/staff")
    type: str = Field(
        min_length=1,
        description="reverse-DNS and versioned, e.g. org.steadfast.staff.worker.hired.v1",
    )
    subject: str = Field(min_length=1, description="the aggregate id; also the Kafka message key")
    time: datetime
    datacontenttype: str = "application/json"
    dataschema: str | None = None
    data: dict[str, Any]

    def to_json(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> CloudEvent:
        return cls.model_validate_json(raw)


def new_event(
    *, source: str, type_: str, subject: str, data: dict[str, Any], dataschema: str | None = None
) -> CloudEvent:
    """A new envelope with a fresh id and the current time."""
    return CloudEvent(
        id=str(uuid.uuid4()),
        source=source,
        type=type_,
        subject=subject,
        time=utcnow(),
        data=data,
        dataschema=dataschema,
    )


_TIME = TypeAdapter(datetime)


class EnvelopeWriter:
    """Serialises many events of one source at one time straight to their JSON envelopes.

    ``write(...)`` returns exactly what ``new_event(...).to_json()`` would (the same members in the
    same order, the data as its model serialises it in JSON mode) without building a
    :class:`CloudEvent` per event and dumping its data twice: the unit of work writes its outbox rows
    with it. The ``time`` of every envelope is the writer's.
    """

    def __init__(self, source: str, time: datetime) -> None:
        self.time = time
        self._head = '{"specversion":"1.0","id":'
        self._source = f',"source":{json.dumps(source, ensure_ascii=False)},"type":'
        self._time = f',"time":{_TIME.dump_json(time).decode()},"datacontenttype":"application/json"'
        #: Each (type, dataschema) written so far, as its JSON: a batch's events are of few types.
        self._types: dict[tuple[str, str | None], tuple[str, str]] = {}

    def write(
        self, *, event_id: str, type_: str, subject: str, data: BaseModel, dataschema: str | None
    ) -> str:
        encoded = self._types.get((type_, dataschema))
        if encoded is None:
            schema = (
                "" if dataschema is None else f',"dataschema":{json.dumps(dataschema, ensure_ascii=False)}'
            )
            encoded = self._types[(type_, dataschema)] = (json.dumps(type_, ensure_ascii=False), schema)
        type_json, schema = encoded
        return (
            f"{self._head}{json.dumps(event_id)}{self._source}{type_json}"
            f',"subject":{json.dumps(subject, ensure_ascii=False)}{self._time}{schema}'
            f',"data":{data.model_dump_json()}}}'
        )


_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def uuid4_strings(count: int) -> list[str]:
    """``count`` fresh ``str(uuid.uuid4())``: the same random version-4 ids (122 random bits each, from
    ``os.urandom``), drawn in one call and written straight as text."""
    digits = os.urandom(16 * count).hex()
    ids = []
    for start in range(0, 32 * count, 32):
        h = digits[start : start + 32]
        ids.append(f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}")
    return ids
