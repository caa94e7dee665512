"""What a service's migration runs to create (and drop) its access log, append-only on PostgreSQL.

On PostgreSQL a trigger refuses every ``UPDATE``, every ``TRUNCATE`` and every ``DELETE`` except the
retention purge's: the purge sets ``steadfast.access_log_purge_before`` for its own transaction, and only
rows read before that moment may go. On SQLite (the embedded default, one user's machine) a trigger
refuses ``UPDATE``; no code path but the purge deletes.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from steadfast_shared.access.repository import PURGE_BEFORE_SETTING
from steadfast_shared.db.types import BigIntPK, UtcDateTime

_POSTGRES_GUARD = (
    f"""
CREATE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND OLD.read_at < NULLIF(current_setting('{PURGE_BEFORE_SETTING}', true), '')::timestamptz THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the access log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
""",
    """
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION access_log_append_only()
""",
    """
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only()
""",
)

_SQLITE_GUARD = """
CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log
BEGIN
    SELECT RAISE(ABORT, 'the access log is append-only: UPDATE refused');
END
"""


def create_access_log(op: Any) -> None:
    """In a migration's ``upgrade()``: the ``access_log`` table, its indexes and its guard."""
    op.create_table(
        "access_log",
        sa.Column("id", BigIntPK, autoincrement=True, nullable=False),
        sa.Column("read_at", UtcDateTime(), nullable=False),
        sa.Column("who", sa.String(length=200), nullable=False),
        sa.Column("child", sa.String(length=100), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("route", sa.String(length=200), nullable=False),
        sa.Column("request_id", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_log")),
    )
    op.create_index(op.f("ix_access_log_child"), "access_log", ["child"], unique=False)
    op.create_index(op.f("ix_access_log_read_at"), "access_log", ["read_at"], unique=False)
    op.create_index(op.f("ix_access_log_who"), "access_log", ["who"], unique=False)
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for statement in _POSTGRES_GUARD:
            op.execute(statement)
    elif dialect == "sqlite":
        op.execute(_SQLITE_GUARD)


def drop_access_log(op: Any) -> None:
    """In a migration's ``downgrade()``: the table, its guard with it."""
    op.drop_table("access_log")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION access_log_append_only()")
