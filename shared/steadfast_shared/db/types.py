"""Column types that behave the same on PostgreSQL and SQLite."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Integer
from sqlalchemy import Enum as SAEnum

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
