"""Service settings: one validated pydantic-settings class per service, each with its own env prefix.

A service subclasses :class:`ServiceSettings` and sets ``model_config`` with its prefix, e.g.
``STAFF_DATABASE_URL``. Settings are built in the app factory or the CLI, never at import time.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The signing key used when none is configured. Refused in production.
DEV_SIGNING_KEY = "steadfast-local-development-key-change-me"


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
    relay_poll_interval_seconds: float = Field(default=0.2, gt=0)
    #: Published outbox rows are kept this long so they can be republished to a broker that lost them.
    outbox_retention_days: int = Field(default=30, ge=0)

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
            secret = self.jwt_secret.get_secret_value()
            if secret == DEV_SIGNING_KEY or len(secret) < 32:
                problems.append(
                    "set jwt_jwks_url (RS256) or a jwt_secret of at least 32 characters; "
                    "the development signing key is refused in production"
                )
        if self.jwt_jwks_url is not None and (not self.jwt_issuer or not self.jwt_audience):
            problems.append("jwt_issuer and jwt_audience are required with jwt_jwks_url")
        if problems:
            raise ValueError("; ".join(problems))
        return self

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
