"""Column types that behave the same on PostgreSQL and SQLite."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, Integer, TypeDecorator
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

#: A 64-bit auto-increment key on PostgreSQL that is still SQLite's ``INTEGER PRIMARY KEY`` rowid.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """A point in time, stored in UTC and always read back timezone-aware.

    PostgreSQL's ``timestamptz`` keeps the offset; SQLite keeps none and hands back a naive value,
    which a response would then render without an offset (breaking its own ``date-time`` schema).
    Values are converted to UTC before they are written and read back as UTC on both databases.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        return datetime

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"UtcDateTime takes a datetime, not {type(value).__name__}")
        # A naive value is taken to be UTC already (what SQLite hands back, written again).
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def code_enum(enum: type[StrEnum]) -> SAEnum:
    """A column holding one of a service's codes, stored as its value (a plain string, no native type,
    so adding a code needs no database migration of a type)."""
    return SAEnum(
        enum,
        native_enum=False,
        length=40,
        validate_strings=True,
        values_callable=lambda e: [m.value for m in e],
    )


def as_uuid(ref: str) -> uuid.UUID | None:
    """``ref`` as a UUID, or None when it is not one (then it is an external id)."""
    try:
        return uuid.UUID(ref)
    except ValueError:
        return None


def by_id_or_external_id(
    id_column: InstrumentedAttribute[uuid.UUID], external_id_column: InstrumentedAttribute[str], ref: str
) -> ColumnElement[bool]:
    """The condition finding a record by the service's id or by the source system's ``external_id``."""
    record_id = as_uuid(ref)
    return id_column == record_id if record_id is not None else external_id_column == ref
