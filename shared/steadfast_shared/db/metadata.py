"""Metadata with a naming convention, and the platform tables every service has.

Each service owns one :class:`~sqlalchemy.MetaData` (so its Alembic history holds only its own tables)
built by :func:`new_metadata`, and calls :func:`PlatformTables.define` on it once to add the outbox,
the consumer tracking table and the idempotency-key table (and, in a service that answers with
child-level data, the access log: ``define(metadata, access_log=True)``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from steadfast_shared.db.types import BigIntPK, UtcDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    """A fresh metadata object with the project's constraint naming convention."""
    return MetaData(naming_convention=NAMING_CONVENTION)


@dataclass(frozen=True)
class PlatformTables:
    """The tables the shared library reads and writes in every service's database."""

    #: Events waiting to be published (and, for the retention period, already published ones).
    outbox: Table
    #: One row per (consumer, event id) processed: the idempotent consumer's tracking table.
    processed_events: Table
    #: Stored answers of creates made with an ``Idempotency-Key`` header.
    idempotency_keys: Table
    #: Who read which child's records, when and why (see ``steadfast_shared.access``); None in a service
    #: that holds no child-level data.
    access_log: Table | None = None

    @classmethod
    def define(cls, metadata: MetaData, *, access_log: bool = False) -> PlatformTables:
        outbox = Table(
            "outbox",
            metadata,
            Column("id", BigIntPK, primary_key=True, autoincrement=True),
            Column("event_id", String(64), nullable=False, unique=True),
            Column("topic", String(200), nullable=False),
            Column("message_key", String(200), nullable=False),
            Column("event_type", String(200), nullable=False),
            Column("payload", Text, nullable=False),
            Column("created_at", UtcDateTime(), nullable=False),
            Column("published_at", UtcDateTime(), nullable=True),
            Column("attempts", Integer, nullable=False, server_default="0"),
            Column("last_error", Text, nullable=True),
        )
        Index(
            "ix_outbox_unpublished",
            outbox.c.id,
            postgresql_where=outbox.c.published_at.is_(None),
            sqlite_where=outbox.c.published_at.is_(None),
        )
        Index("ix_outbox_published_at", outbox.c.published_at)
        processed = Table(
            "processed_events",
            metadata,
            Column("consumer", String(100), nullable=False),
            Column("event_id", String(64), nullable=False),
            Column("topic", String(200), nullable=False),
            Column("partition", Integer, nullable=False),
            Column("offset", BigInteger, nullable=False),
            Column("processed_at", UtcDateTime(), nullable=False),
            PrimaryKeyConstraint("consumer", "event_id"),
        )
        idempotency = Table(
            "idempotency_keys",
            metadata,
            Column("principal", String(200), nullable=False),
            Column("key", String(200), nullable=False),
            Column("method", String(10), nullable=False),
            Column("path", String(500), nullable=False),
            Column("request_hash", String(64), nullable=False),
            Column("status_code", Integer, nullable=False),
            Column("response_body", Text, nullable=False),
            Column("response_headers", Text, nullable=False),
            Column("created_at", UtcDateTime(), nullable=False),
            PrimaryKeyConstraint("principal", "key"),
        )
        return cls(
            outbox=outbox,
            processed_events=processed,
            idempotency_keys=idempotency,
            access_log=define_access_log(metadata) if access_log else None,
        )


def define_access_log(metadata: MetaData) -> Table:
    """The access log table: one row per child named in an answer, never the data itself.

    Append-only: the application inserts rows and the retention purge deletes old ones; on PostgreSQL a
    trigger (installed by the service's migration, see ``steadfast_shared.access.migration``) refuses
    every other update or delete.
    """
    return Table(
        "access_log",
        metadata,
        Column("id", BigIntPK, primary_key=True, autoincrement=True),
        Column("read_at", UtcDateTime(), nullable=False, index=True),
        Column("who", String(200), nullable=False, index=True),
        Column("child", String(100), nullable=False, index=True),
        Column("purpose", String(64), nullable=False),
        Column("route", String(200), nullable=False),
        Column("request_id", String(200), nullable=True),
    )
