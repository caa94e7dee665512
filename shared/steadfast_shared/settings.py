"""Service settings: one validated pydantic-settings class per service, each with its own env prefix.

A service subclasses :class:`ServiceSettings` and sets ``model_config`` with its prefix, e.g.
``STAFF_DATABASE_URL``. Settings are built in the app factory or the CLI, never at import time.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The signing key used when none is configured. Refused in production.
DEV_SIGNING_KEY = "steadfast-local-development-key-change-me"


def _fetched_privately(url: str) -> bool:
    """Whether keys fetched from ``url`` cross no network in clear: https, or http to a loopback address
    (an identity-provider sidecar or a proxy on the same host)."""
    parts = urlsplit(url)
    if parts.scheme.lower() == "https":
        return True
    if parts.scheme.lower() != "http" or parts.hostname is None:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class ServiceSettings(BaseSettings):
    """Settings every service has. Subclasses set ``model_config = service_config("STAFF_")``."""

    model_config = SettingsConfigDict(extra="ignore", env_file=None)

    environment: Environment = Environment.development
    database_url: str = "sqlite+aiosqlite:///var/service.db"
    database_pool_size: int = Field(default=10, ge=1)
    #: How long a request waits for a free database connection before it is answered 503 (PostgreSQL).
    database_pool_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_client_id: str | None = None
    #: Topic partitions created by the relay when the topic does not exist yet.
    kafka_topic_partitions: int = Field(default=3, ge=1)
    kafka_replication_factor: int = Field(default=1, ge=1)

    #: HS256 shared secret (embedded default). Ignored when ``jwt_jwks_url`` is set.
    jwt_secret: SecretStr = SecretStr(DEV_SIGNING_KEY)
    #: File holding a generated HS256 secret; read when present, so ``make token`` and the services agree.
    jwt_secret_file: Path | None = None
    #: RS256 via JWKS (production). When set, tokens must be RS256 and carry ``iss`` and ``aud``.
    jwt_jwks_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None

    relay_enabled: bool = True
    #: Run the service's consumers inside ``serve``; off on replicas that only answer requests while
    #: another Deployment consumes (the consumers' group spreads partitions over the replicas that run them).
    consumers_enabled: bool = True
    relay_batch_size: int = Field(default=500, ge=1, le=10_000)
    #: The most events a consumer applies in one transaction (and one offset commit).
    consumer_batch_size: int = Field(default=2000, ge=1, le=10_000)
    #: How long a consumer that fetched fewer than a batch waits for more before applying them: 0 applies
    #: what arrived at once (a single event is applied with no added delay; under load the next batch
    #: gathers while the last one is applied).
    consumer_linger_ms: int = Field(default=0, ge=0, le=5_000)
    #: How long a consumer may go silent before its group gives its partitions to the other members (a
    #: process that died is noticed after this). The local broker also holds a new member's join for half
    #: of it, waiting for others to join too.
    consumer_session_timeout_ms: int = Field(default=10_000, ge=1_000, le=300_000)
    relay_poll_interval_seconds: float = Field(default=0.2, gt=0)
    #: Published outbox rows are kept this long so they can be republished to a broker that lost them.
    outbox_retention_days: int = Field(default=30, ge=0)
    #: Rows of the access log (who read which child's records) are kept this long, then purged: seven
    #: years, the six of the Limitation Act 1980 and one to answer a complaint or request made at its end.
    access_log_retention_days: int = Field(default=2555, ge=1)
    #: Refuse (400) a read of child-level data without a ``Purpose`` header, instead of logging it as
    #: ``unstated``: turn it on once every client sends one.
    access_log_purpose_required: bool = False

    #: The largest JSON request body (413 beyond); a CSV import may be up to ``max_import_bytes``.
    max_request_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_import_bytes: int = Field(default=512 * 1024 * 1024, ge=1024)
    #: Writes (POST, PUT, PATCH, DELETE under ``/v1/``) one client (token subject) may make a minute, per
    #: process; 0 is no limit. Imports have their own budget and do not spend this one.
    rate_limit_writes_per_minute: int = Field(default=600, ge=0)
    #: CSV imports one client may send a minute, per process; 0 is no limit.
    rate_limit_imports_per_minute: int = Field(default=10, ge=0)
    log_level: str = "INFO"
    log_json: bool = True

    @model_validator(mode="after")
    def _refuse_unsafe_production_defaults(self) -> ServiceSettings:
        if self.environment is not Environment.production:
            return self
        problems: list[str] = []
        if self.database_url.startswith("sqlite"):
            problems.append("database_url must be PostgreSQL in production, not SQLite")
        if self.jwt_jwks_url is None:
            # The secret the services will sign with: a secret file's, when it exists, is checked too.
            secret = self.signing_secret()
            if secret == DEV_SIGNING_KEY or len(secret) < 32:
                source = "jwt_secret_file" if self._secret_file_exists() else "jwt_secret"
                problems.append(
                    "set jwt_jwks_url (RS256) or a jwt_secret of at least 32 characters; "
                    f"the development signing key is refused in production (checked: {source})"
                )
        elif not _fetched_privately(self.jwt_jwks_url):
            problems.append(
                "jwt_jwks_url must be an https:// URL in production (http:// only to a loopback address): "
                "signing keys are not fetched in clear"
            )
        if self.jwt_jwks_url is not None and (not self.jwt_issuer or not self.jwt_audience):
            problems.append("jwt_issuer and jwt_audience are required with jwt_jwks_url")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _secret_file_exists(self) -> bool:
        return self.jwt_secret_file is not None and self.jwt_secret_file.exists()

    def signing_secret(self) -> str:
        """The HS256 secret: the secret file's content when it exists, else ``jwt_secret``."""
        if self.jwt_secret_file is not None and self.jwt_secret_file.exists():
            return self.jwt_secret_file.read_text().strip()
        return self.jwt_secret.get_secret_value()

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def service_config(env_prefix: str) -> SettingsConfigDict:
    """The ``model_config`` of a service's settings class, with its environment prefix."""
    return SettingsConfigDict(env_prefix=env_prefix, extra="ignore", env_file=None)
