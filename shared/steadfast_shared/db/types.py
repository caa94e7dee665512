"""Column types that behave the same on PostgreSQL and SQLite."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Integer
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

#: A 64-bit auto-increment key on PostgreSQL that is still SQLite's ``INTEGER PRIMARY KEY`` rowid.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


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
