"""The variables that compose and Kubernetes set are the service's real settings, and they validate.

The settings class is ``steadfast_<service>.settings.<Service>Settings`` (pydantic-settings, prefix
``<SERVICE>_``, a subclass of ``steadfast_shared.settings.ServiceSettings``); until that module exists
the shared base class with the service's prefix stands in for it.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from steadfast_shared.settings import ServiceSettings

#: Fields a deployment never sets: fixed by the service's own class.
#: Settings a deployment never sets: the service's own name, and the demo council's flag (set only by
#: `make run` while var/ holds the generated council; documented in the README's configuration table).
NOT_DEPLOYMENT_SETTINGS = {"service_name", "demo_council"}


def _unknown(names: list[str], prefix: str, settings_class: type[Any]) -> list[str]:
    fields = set(settings_class.model_fields)
    return sorted(
        n for n in names if n.removeprefix(prefix).lower() not in fields or not n.startswith(prefix)
    )


def _k8s_environment(k8s_root: Path, service: str) -> dict[str, str]:
    config = yaml.safe_load((k8s_root / service / "configmap.yaml").read_text())["data"]
    secret = yaml.safe_load((k8s_root / service / "secret.example.yaml").read_text())["stringData"]
    return {**config, **secret}


def _build(settings_class: type[Any], environment: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    return settings_class()


def test_the_settings_class_has_the_service_prefix(
    service: str, prefix: str, settings_class: type[Any]
) -> None:
    assert issubclass(settings_class, ServiceSettings)
    assert settings_class.model_config.get("env_prefix") == prefix


def test_compose_sets_only_real_settings(
    service: str,
    prefix: str,
    settings_class: type[Any],
    compose_environment: Callable[..., dict[str, str]],
) -> None:
    for name in (service, f"{service}-migrate"):
        unknown = _unknown(list(compose_environment(name)), prefix, settings_class)
        assert not unknown, f"docker-compose.yml {name}: not settings of {settings_class.__name__}: {unknown}"


def test_kubernetes_sets_only_real_settings(
    service: str, prefix: str, settings_class: type[Any], k8s_root: Path
) -> None:
    names = list(_k8s_environment(k8s_root, service))
    text = (k8s_root / service / "secret.example.yaml").read_text()
    names += re.findall(rf"#\s*({prefix}[A-Z0-9_]+):", text)  # the commented-out alternatives too
    unknown = _unknown(names, prefix, settings_class)
    assert not unknown, f"deploy/k8s/{service}: not settings of {settings_class.__name__}: {unknown}"


def test_readme_documents_every_setting(repo: Path, settings_class: type[Any], prefix: str) -> None:
    """The tables in deploy/README.md name each setting once, and only real ones.

    The main table lists, with staff's prefix, the settings every service has (ServiceSettings) and
    staff's own; another service's own settings are rows with its prefix.
    """
    readme = (repo / "deploy" / "README.md").read_text()

    def rows(row_prefix: str) -> list[str]:
        found = re.findall(rf"^\| `{row_prefix}([A-Z0-9_]+)` \|", readme, flags=re.MULTILINE)
        return [name.lower() for name in found]

    staff_rows = rows("STAFF_")
    own_rows = rows(prefix) if prefix != "STAFF_" else []
    assert len(staff_rows) == len(set(staff_rows)), "a variable is listed twice"
    assert len(own_rows) == len(set(own_rows)), "a variable is listed twice"
    if prefix == "STAFF_":
        documented = set(staff_rows)
    else:
        common = set(staff_rows) & set(ServiceSettings.model_fields)
        assert not common & set(own_rows), f"{prefix} rows repeat the common table: {common & set(own_rows)}"
        documented = common | set(own_rows)
    fields = set(settings_class.model_fields) - NOT_DEPLOYMENT_SETTINGS
    assert documented == fields, (
        f"undocumented: {sorted(fields - documented)}; not settings: {sorted(documented - fields)}"
    )


def test_compose_configuration_passes_production_validation(
    service: str,
    prefix: str,
    settings_class: type[Any],
    compose_environment: Callable[..., dict[str, str]],
    clean_environment: pytest.MonkeyPatch,
) -> None:
    settings = _build(settings_class, compose_environment(service), clean_environment)
    assert settings.environment == "production"
    assert not settings.is_sqlite
    assert settings.kafka_bootstrap_servers == "kafka:9092"
    assert settings.jwt_jwks_url is None, "compose uses the HS256 secret; set no JWKS URL, not even empty"


def test_compose_without_its_secret_would_be_refused(
    service: str,
    prefix: str,
    settings_class: type[Any],
    compose_environment: Callable[..., dict[str, str]],
    clean_environment: pytest.MonkeyPatch,
) -> None:
    """A short secret is refused in production: compose's stand-in must not be what makes it pass."""
    environment = compose_environment(service)
    environment[f"{prefix}JWT_SECRET"] = "too-short"
    with pytest.raises(ValidationError, match="jwt_secret"):
        _build(settings_class, environment, clean_environment)


def test_kubernetes_configuration_passes_production_validation(
    service: str,
    settings_class: type[Any],
    k8s_root: Path,
    clean_environment: pytest.MonkeyPatch,
) -> None:
    settings = _build(settings_class, _k8s_environment(k8s_root, service), clean_environment)
    assert settings.environment == "production"
    assert not settings.is_sqlite
    assert settings.jwt_jwks_url
    assert settings.jwt_issuer
    assert settings.jwt_audience
    assert settings.kafka_replication_factor >= 3


def test_the_service_definition_listens_where_the_deployment_expects(service: str, port: int) -> None:
    """The composition root's name and port are the ones the Dockerfile, compose and k8s use."""
    bootstrap = importlib.import_module(f"steadfast_{service}.bootstrap")
    definition = bootstrap.definition
    assert definition.name == service
    if hasattr(definition, "port"):
        assert definition.port == port
    assert (definition.root / "alembic.ini").is_file(), "migrate reads alembic.ini from the root"
    assert definition.root == Path(str(bootstrap.__file__)).resolve().parents[1], (
        "the image keeps services/<service>/ (alembic.ini, migrations/) beside the package; "
        "update services/<service>/Dockerfile if the root moves"
    )
