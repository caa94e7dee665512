"""Testing support: the pytest plugin (:mod:`steadfast_shared.testing.plugin`) and its helpers.

The plugin starts the real broker and makes real, migrated PostgreSQL databases; these helpers drive a
service in-process and read what it published. See the plugin's docstring for the fixtures.
"""

from steadfast_shared.testing.databases import MigratedDatabases, PostgresUnavailable
from steadfast_shared.testing.helpers import (
    TEST_SESSION_TIMEOUT_MS,
    ServiceClient,
    bearer,
    mint_token,
    produce,
    read_records,
    read_topic,
    service_app,
    wait_until,
)

__all__ = [
    "TEST_SESSION_TIMEOUT_MS",
    "MigratedDatabases",
    "PostgresUnavailable",
    "ServiceClient",
    "bearer",
    "mint_token",
    "produce",
    "read_records",
    "read_topic",
    "service_app",
    "wait_until",
]
