"""Database plumbing shared by every service: metadata, platform tables, engines and sessions."""

from steadfast_shared.db.engine import Database, create_database
from steadfast_shared.db.metadata import NAMING_CONVENTION, PlatformTables, new_metadata
from steadfast_shared.db.types import BigIntPK, as_uuid, by_id_or_external_id, code_enum, utcnow

__all__ = [
    "NAMING_CONVENTION",
    "BigIntPK",
    "Database",
    "PlatformTables",
    "as_uuid",
    "by_id_or_external_id",
    "code_enum",
    "create_database",
    "new_metadata",
    "utcnow",
]
