"""The access log: an append-only record of every read of child-level data.

Who read (the token's subject), when, which child (its pseudonym, the caseload service's id), through
which route and why (the ``Purpose`` header): never the data itself. One row per child named in an
answer, written in the request's own transaction. An auditor with ``access-log:read`` reads it at
``GET /v1/access-log``; rows older than ``access_log_retention_days`` are purged by
:class:`AccessLogPurge`. See ``docs/security.md``, "Access log".

A service keeps one by defining its tables with ``PlatformTables.define(metadata, access_log=True)``,
creating the table in a migration (:func:`create_access_log`), including :func:`access_log_router` and
running :class:`AccessLogPurge` among its tasks; its routes take :data:`ChildReadsDep`.
"""

from steadfast_shared.access.endpoints import ACCESS_LOG_SCOPE, access_log_router
from steadfast_shared.access.migration import create_access_log, drop_access_log
from steadfast_shared.access.purge import AccessLogPurge
from steadfast_shared.access.reads import UNSTATED, ChildReads, ChildReadsDep, child_reads, parse_purpose
from steadfast_shared.access.repository import AccessLogRepository
from steadfast_shared.access.schemas import AccessLogEntry, AccessLogFilters

__all__ = [
    "ACCESS_LOG_SCOPE",
    "UNSTATED",
    "AccessLogEntry",
    "AccessLogFilters",
    "AccessLogPurge",
    "AccessLogRepository",
    "ChildReads",
    "ChildReadsDep",
    "access_log_router",
    "child_reads",
    "create_access_log",
    "drop_access_log",
    "parse_purpose",
]
