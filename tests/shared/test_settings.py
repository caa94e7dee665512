"""Settings refuse unsafe defaults in production and accept them everywhere else."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from steadfast_shared.settings import DEV_SIGNING_KEY, Environment, ServiceSettings
from tests.support.ledger.settings import LedgerSettings

POSTGRES = "postgresql+asyncpg://ledger@db.internal/ledger"
STRONG_SECRET = "x" * 48


@pytest.fixture(autouse=True)
def _no_ledger_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("LEDGER_"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize("environment", [Environment.development, Environment.test])
def test_development_defaults_are_accepted_outside_production(environment: Environment) -> None:
    settings = LedgerSettings(environment=environment)

    assert settings.is_sqlite
    assert settings.signing_secret() == DEV_SIGNING_KEY


def test_production_refuses_sqlite() -> None:
    with pytest.raises(ValidationError, match="database_url must be PostgreSQL"):
        LedgerSettings(environment=Environment.production, jwt_secret=SecretStr(STRONG_SECRET))


def test_production_refuses_the_development_signing_key() -> None:
    with pytest.raises(ValidationError, match="development signing key is refused"):
        LedgerSettings(environment=Environment.production, database_url=POSTGRES)


def test_production_refuses_a_short_secret() -> None:
    with pytest.raises(ValidationError, match="at least 32 characters"):
        LedgerSettings(
            environment=Environment.production, database_url=POSTGRES, jwt_secret=SecretStr("short")
        )


def test_production_reports_every_problem_at_once() -> None:
    with pytest.raises(ValidationError) as raised:
        LedgerSettings(environment=Environment.production)

    message = str(raised.value)
    assert "database_url" in message
    assert "jwt_secret" in message


def test_production_accepts_postgres_and_a_strong_secret() -> None:
    settings = LedgerSettings(
        environment=Environment.production, database_url=POSTGRES, jwt_secret=SecretStr(STRONG_SECRET)
    )

    assert not settings.is_sqlite
    assert settings.signing_secret() == STRONG_SECRET


def test_production_with_jwks_needs_issuer_and_audience() -> None:
    with pytest.raises(ValidationError, match="jwt_issuer and jwt_audience"):
        LedgerSettings(
            environment=Environment.production,
            database_url=POSTGRES,
            jwt_jwks_url="https://login.example/.well-known/jwks.json",
        )

    settings = LedgerSettings(
        environment=Environment.production,
        database_url=POSTGRES,
        jwt_jwks_url="https://login.example/.well-known/jwks.json",
        jwt_issuer="https://login.example/",
        jwt_audience="steadfast",
    )
    assert settings.jwt_jwks_url is not None


def test_settings_come_from_the_service_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEDGER_ENVIRONMENT", "production")
    monkeypatch.setenv("LEDGER_DATABASE_URL", POSTGRES)
    monkeypatch.setenv("LEDGER_JWT_SECRET", STRONG_SECRET)
    monkeypatch.setenv("DATABASE_URL", "sqlite+aiosqlite:///ignored.db")

    settings = LedgerSettings()

    assert settings.environment is Environment.production
    assert settings.database_url == POSTGRES


def test_production_environment_variables_are_checked_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEDGER_ENVIRONMENT", "production")

    with pytest.raises(ValidationError):
        LedgerSettings()


def test_the_secret_file_wins_over_the_secret(tmp_path: Path) -> None:
    secret_file = tmp_path / "jwt.key"
    secret_file.write_text("from-the-file\n")

    settings = ServiceSettings(jwt_secret=SecretStr("from-settings"), jwt_secret_file=secret_file)

    assert settings.signing_secret() == "from-the-file"


def test_a_missing_secret_file_falls_back_to_the_secret(tmp_path: Path) -> None:
    settings = ServiceSettings(jwt_secret=SecretStr("from-settings"), jwt_secret_file=tmp_path / "absent.key")

    assert settings.signing_secret() == "from-settings"
