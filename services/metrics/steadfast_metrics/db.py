"""The metrics service's metadata, its declarative base and the shared platform tables."""

from sqlalchemy.orm import DeclarativeBase

from steadfast_shared.db import PlatformTables, new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


tables = PlatformTables.define(Base.metadata, access_log=True)
