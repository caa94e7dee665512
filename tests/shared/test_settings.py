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


# Secrets come only from the environment (hardening issue): the one built-in secret is the development
# signing key, and it is refused outside development and test wherever it comes from.
def test_the_only_built_in_secret_is_the_development_signing_key() -> None:
    built_in = {
        name: field.default
        for name, field in ServiceSettings.model_fields.items()
        if isinstance(field.default, SecretStr) or "secret" in name or "password" in name
    }
    assert built_in == {"jwt_secret": SecretStr(DEV_SIGNING_KEY), "jwt_secret_file": None}
    default_url = ServiceSettings.model_fields["database_url"].default
    assert "@" not in default_url, "the default database URL carries no user or password"


@pytest.mark.parametrize("environment", [Environment.development, Environment.test])
def test_the_built_in_secret_is_accepted_only_in_development_and_test(environment: Environment) -> None:
    assert LedgerSettings(environment=environment).signing_secret() == DEV_SIGNING_KEY
    with pytest.raises(ValidationError, match="development signing key is refused"):
        LedgerSettings(environment=Environment.production, database_url=POSTGRES)


@pytest.mark.parametrize("content", [DEV_SIGNING_KEY, "short-key"])
def test_production_checks_the_secret_file_it_would_sign_with(tmp_path: Path, content: str) -> None:
    secret_file = tmp_path / "jwt.key"
    secret_file.write_text(content + "\n")
    with pytest.raises(ValidationError, match=r"checked: jwt_secret_file"):
        LedgerSettings(
            environment=Environment.production,
            database_url=POSTGRES,
            jwt_secret=SecretStr(STRONG_SECRET),
            jwt_secret_file=secret_file,
        )
    secret_file.write_text(STRONG_SECRET)
    settings = LedgerSettings(
        environment=Environment.production, database_url=POSTGRES, jwt_secret_file=secret_file
    )
    assert settings.signing_secret() == STRONG_SECRET


@pytest.mark.parametrize(
    "url",
    [
        "http://login.example/.well-known/jwks.json",
        "http://10.0.0.7/.well-known/jwks.json",
        "http://127.0.0.1.example/.well-known/jwks.json",
        "ftp://login.example/jwks.json",
        "login.example/jwks.json",
    ],
)
def test_production_refuses_a_jwks_url_in_clear(url: str) -> None:
    with pytest.raises(ValidationError, match="https:// URL"):
        LedgerSettings(
            environment=Environment.production,
            database_url=POSTGRES,
            jwt_jwks_url=url,
            jwt_issuer="https://login.example/",
            jwt_audience="steadfast",
        )


@pytest.mark.parametrize(
    "url",
    [
        "https://login.example/.well-known/jwks.json",
        "http://127.0.0.1:8080/.well-known/jwks.json",
        "http://[::1]:8080/.well-known/jwks.json",
        "http://localhost/.well-known/jwks.json",
    ],
)
def test_production_fetches_keys_over_https_or_from_a_loopback_sidecar(url: str) -> None:
    settings = LedgerSettings(
        environment=Environment.production,
        database_url=POSTGRES,
        jwt_jwks_url=url,
        jwt_issuer="https://login.example/",
        jwt_audience="steadfast",
    )
    assert settings.jwt_jwks_url == url


def test_a_secret_is_never_shown_in_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEDGER_JWT_SECRET", STRONG_SECRET)
    settings = LedgerSettings()
    assert settings.signing_secret() == STRONG_SECRET, "read from the environment"
    assert STRONG_SECRET not in repr(settings)
    assert STRONG_SECRET not in str(settings.model_dump())
