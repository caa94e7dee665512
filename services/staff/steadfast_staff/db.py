"""The staff service's metadata, its declarative base and the shared platform tables."""

from enum import StrEnum

from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import DeclarativeBase

from steadfast_shared.db import PlatformTables, new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


tables = PlatformTables.define(Base.metadata)


def code_enum(enum: type[StrEnum]) -> SAEnum:
    """A column of one of the service's codes, stored as its value (a plain string, no native type)."""
    return SAEnum(
        enum,
        native_enum=False,
        length=40,
        validate_strings=True,
        values_callable=lambda e: [m.value for m in e],
    )
