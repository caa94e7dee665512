"""The embedded default's small commands: `make token` with chosen scopes, and a service's own command
(check-consistency, rebuild) run beside `make run` reaching the same var/ and broker."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest

from steadfast_metrics.bootstrap import definition as metrics
from steadfast_shared.auth import ALL_SCOPES
from steadfast_shared.embedded.runner import (
    BROKER_PORT_ENV,
    VAR_DIR_ENV,
    RunnerError,
    embedded_environment,
    token,
)


def _scopes(minted: str) -> list[str]:
    claims = jwt.decode(minted, options={"verify_signature": False})
    return str(claims["scope"]).split()


def test_make_token_mints_every_scope_or_the_ones_asked_for(tmp_path: Path) -> None:
    environ = {VAR_DIR_ENV: str(tmp_path / "var")}
    assert _scopes(token(environ)) == list(ALL_SCOPES)
    assert _scopes(token(environ, ["staff:read", "metrics:read"])) == ["staff:read", "metrics:read"]
    with pytest.raises(RunnerError, match="no such scope: staff:reed"):
        token(environ, ["staff:reed"])


def test_a_service_command_beside_make_run_follows_its_var_folder_and_broker_port(tmp_path: Path) -> None:
    environ = {VAR_DIR_ENV: str(tmp_path / "var"), BROKER_PORT_ENV: "19092"}
    given = embedded_environment(metrics, environ)
    assert given["METRICS_KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:19092"
    assert (
        given["METRICS_DATABASE_URL"] == f"sqlite+aiosqlite:///{(tmp_path / 'var' / 'data' / 'metrics.db')}"
    )
    assert given["METRICS_JWT_SECRET_FILE"].startswith(str(tmp_path / "var"))
    # What the environment sets itself wins; with neither variable (production), nothing is added.
    own = embedded_environment(metrics, {**environ, "METRICS_KAFKA_BOOTSTRAP_SERVERS": "kafka:9092"})
    assert "METRICS_KAFKA_BOOTSTRAP_SERVERS" not in own
    assert embedded_environment(metrics, {"METRICS_DATABASE_URL": "postgresql+asyncpg://db/metrics"}) == {}
