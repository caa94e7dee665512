"""docker-compose.yml: the production stack on one host (Kafka, PostgreSQL, each service)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

ONE_SHOT = "-migrate"
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE_KEY|API_KEY|CREDENTIAL")


def _owner(name: str) -> str:
    return name.removesuffix(ONE_SHOT)


def _depends_on(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    depends = definition.get("depends_on") or {}
    assert isinstance(depends, dict), "depends_on must be the long form, with a condition each"
    return depends


def test_compose_parses_with_services_and_volumes(compose: dict[str, Any]) -> None:
    assert "version" not in compose, "the top-level version key is obsolete in the Compose spec"
    assert {"kafka", "postgres"} <= set(compose["services"])
    declared = set(compose.get("volumes") or {})
    for name, definition in compose["services"].items():
        for volume in definition.get("volumes") or []:
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume["source"]
            if not source.startswith((".", "/")):
                assert source in declared, f"{name}: named volume {source!r} is not declared"


def test_interpolations_are_well_formed(repo: Path, interpolation: re.Pattern[str]) -> None:
    text = (repo / "docker-compose.yml").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    for line in lines:
        stripped = interpolation.sub("", line.replace("$$", ""))
        assert "$" not in stripped, f"a bare or malformed $ in docker-compose.yml: {line.strip()}"


def test_every_long_running_service_has_a_healthcheck(compose_services: dict[str, Any]) -> None:
    for name, definition in compose_services.items():
        if name.endswith(ONE_SHOT):
            continue
        healthcheck = definition.get("healthcheck")
        assert healthcheck, f"{name} has no healthcheck"
        assert healthcheck.get("test"), f"{name} has no healthcheck test"
        assert not healthcheck.get("disable"), f"{name} disables its healthcheck"
        assert healthcheck["test"][0] in {"CMD", "CMD-SHELL"}
        for key in ("interval", "timeout", "retries"):
            assert key in healthcheck, f"{name}: healthcheck without {key}"


def test_one_shot_services_run_once(compose_services: dict[str, Any]) -> None:
    one_shots = [n for n in compose_services if n.endswith(ONE_SHOT)]
    assert one_shots, "no migration service"
    for name in one_shots:
        definition = compose_services[name]
        assert str(definition.get("restart", "no")) == "no", f"{name} must not restart"
        assert not definition.get("ports"), f"{name} publishes ports"


def test_every_dependency_has_a_condition_it_can_reach(compose_services: dict[str, Any]) -> None:
    for name, definition in compose_services.items():
        for target, spec in _depends_on(definition).items():
            assert target in compose_services, f"{name} depends on unknown service {target!r}"
            condition = spec.get("condition")
            assert condition in CONDITIONS, f"{name} -> {target}: condition {condition!r}"
            if target.endswith(ONE_SHOT):
                assert condition == "service_completed_successfully", f"{name} -> {target}"
            elif compose_services[target].get("healthcheck"):
                assert condition == "service_healthy", f"{name} -> {target}: wait for healthy"


def test_every_build_dockerfile_exists(repo: Path, compose_services: dict[str, Any]) -> None:
    built = {n: d["build"] for n, d in compose_services.items() if "build" in d}
    assert built, "no service is built from this repository"
    for name, build in built.items():
        assert isinstance(build, dict), f"{name}: give build a context and a dockerfile"
        context = (repo / build.get("context", ".")).resolve()
        assert context == repo, f"{name}: the build context must be the repository root"
        dockerfile = context / build.get("dockerfile", "Dockerfile")
        assert dockerfile.is_file(), f"{name}: {dockerfile} does not exist"
        assert dockerfile == repo / "services" / _owner(name) / "Dockerfile", name


def test_future_services_have_a_marked_place(
    repo: Path, compose_services: dict[str, Any], spec_ports: dict[str, int]
) -> None:
    text = (repo / "docker-compose.yml").read_text()
    for name in spec_ports:
        if name not in compose_services:
            assert f"{name} goes here" in text, f"docker-compose.yml: mark where {name} goes"


def test_environment_variables_carry_the_service_prefix(
    service: str, prefix: str, compose_environment: Callable[..., dict[str, str]]
) -> None:
    for name in (service, f"{service}{ONE_SHOT}"):
        environment = compose_environment(name)
        assert environment, f"{name} has no environment"
        wrong = sorted(k for k in environment if not k.startswith(prefix))
        assert not wrong, f"{name}: variables without the {prefix} prefix: {wrong}"


def test_migration_and_api_share_image_and_configuration(
    service: str, compose_services: dict[str, Any]
) -> None:
    api, migrate = compose_services[service], compose_services[f"{service}{ONE_SHOT}"]
    assert api["image"] == migrate["image"]
    assert api["build"] == migrate["build"]
    assert api["environment"] == migrate["environment"]
    assert migrate["command"] == ["migrate"]
    assert _depends_on(api)[f"{service}{ONE_SHOT}"]["condition"] == "service_completed_successfully"
    assert _depends_on(migrate)["postgres"]["condition"] == "service_healthy"
    assert "--no-migrate" in api["command"], "the API must not migrate: the migration service does"
    assert re.fullmatch(rf"steadfast/{service}:\$\{{STEADFAST_TAG:-[\w.-]+\}}", api["image"])


def test_api_waits_for_broker_and_database(service: str, compose_services: dict[str, Any]) -> None:
    depends = _depends_on(compose_services[service])
    assert depends["kafka"]["condition"] == "service_healthy"
    assert depends["postgres"]["condition"] == "service_healthy"


def test_ports_match_the_spec(service: str, port: int, compose_services: dict[str, Any]) -> None:
    api = compose_services[service]
    assert api.get("ports") == [f"{port}:{port}"], f"{service} must publish {port}:{port}"
    command = api["command"]
    assert command[0] == "serve"
    assert command[command.index("--port") + 1] == str(port)
    assert command[command.index("--host") + 1] == "0.0.0.0"
    probe = " ".join(api["healthcheck"]["test"])
    assert f"127.0.0.1:{port}/healthz" in probe


def test_published_ports_are_only_the_spec_ports(
    compose_services: dict[str, Any], spec_ports: dict[str, int]
) -> None:
    allowed = {f"{p}:{p}" for p in spec_ports.values()}
    for name, definition in compose_services.items():
        for mapping in definition.get("ports") or []:
            assert str(mapping) in allowed, f"{name} publishes {mapping}: keep the broker and database inside"


def test_services_run_in_production(
    service: str, prefix: str, compose_environment: Callable[..., dict[str, str]]
) -> None:
    environment = compose_environment(service)
    assert environment[f"{prefix}ENVIRONMENT"] == "production"
    url = urlsplit(environment[f"{prefix}DATABASE_URL"])
    assert url.scheme == "postgresql+asyncpg"
    assert url.hostname == "postgres"
    assert url.port == 5432
    assert url.path == f"/{service}", "each service has its own database, named after it"
    assert environment[f"{prefix}KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert int(environment[f"{prefix}KAFKA_REPLICATION_FACTOR"]) == 1, "one broker in compose"


def test_no_hard_coded_secrets(compose_services: dict[str, Any], interpolation: re.Pattern[str]) -> None:
    """Secrets come from the operator's environment, required (``${X:?...}``), never a default."""
    for name, definition in compose_services.items():
        environment = definition.get("environment") or {}
        for key, value in environment.items():
            value = str(value)
            if SECRET_NAME.search(key):
                match = interpolation.fullmatch(value)
                assert match, f"{name}: {key} is not a ${{X:?message}} variable"
                assert match.group("op") in {":?", "?"}, (
                    f"{name}: {key} must be a required variable like ${{X:?message}}, not {value!r}"
                )
            if "://" in value:
                password = value.split("://", 1)[1].rpartition("@")[0].partition(":")[2]
                if password:
                    match = interpolation.fullmatch(password)
                    assert match, f"{name}: the password in {key} is not a variable"
                    assert match.group("op") in {":?", "?"}, (
                        f"{name}: the password in {key} must be a required variable, not {password!r}"
                    )


def test_secret_variables_have_no_defaults(repo: Path, interpolation: re.Pattern[str]) -> None:
    text = (repo / "docker-compose.yml").read_text()
    for match in interpolation.finditer(text):
        if SECRET_NAME.search(match.group("name")):
            assert match.group("op") in {":?", "?"}, f"{match.group(0)} must be required, with no default"


def test_development_signing_key_is_nowhere(repo: Path) -> None:
    from steadfast_shared.settings import DEV_SIGNING_KEY

    files = [repo / "docker-compose.yml", *sorted((repo / "deploy").rglob("*.y*ml"))]
    for path in files:
        assert DEV_SIGNING_KEY not in path.read_text(), f"{path} holds the development signing key"


def test_kafka_is_a_single_kraft_node(compose_services: dict[str, Any]) -> None:
    kafka = compose_services["kafka"]
    image, _, tag = kafka["image"].partition(":")
    assert image == "apache/kafka"
    assert re.fullmatch(r"\d+\.\d+\.\d+", tag), f"pin the Kafka version, not {tag!r}"
    environment = {k: str(v) for k, v in kafka["environment"].items()}
    assert set(environment["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert not any("ZOOKEEPER" in k for k in environment)
    assert environment["KAFKA_CONTROLLER_QUORUM_VOTERS"].startswith(f"{environment['KAFKA_NODE_ID']}@kafka:")
    assert "PLAINTEXT://kafka:9092" in environment["KAFKA_ADVERTISED_LISTENERS"]
    assert environment["CLUSTER_ID"]
    assert environment["KAFKA_LOG_DIRS"] in {v.split(":", 1)[1] for v in kafka["volumes"]}


def test_postgres_creates_one_database_per_service(
    repo: Path,
    compose_services: dict[str, Any],
    compose_environment: Callable[..., dict[str, str]],
    spec_ports: dict[str, int],
) -> None:
    postgres = compose_services["postgres"]
    image, _, tag = postgres["image"].partition(":")
    assert image == "postgres"
    assert tag.split("-")[0].split(".")[0] == "16", "PostgreSQL 16"
    mounts = {v.split(":")[1]: v.split(":")[0] for v in postgres["volumes"]}
    init = repo / mounts["/docker-entrypoint-initdb.d"]
    assert init == repo / "deploy" / "postgres" / "init"
    sql = " ".join(p.read_text() for p in sorted(init.glob("*.sql")))
    created = set(re.findall(r"CREATE DATABASE\s+(\w+)\s*;", sql, flags=re.IGNORECASE))
    assert created == set(spec_ports), f"databases created: {sorted(created)}"
    user = postgres["environment"]["POSTGRES_USER"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    for name in compose_services:
        for key, value in compose_environment(name).items():
            if key.endswith("_DATABASE_URL"):
                assert urlsplit(value).username == user, f"{name}: {key} connects as {user}"


@pytest.mark.parametrize("hardening", ["read_only", "cap_drop", "security_opt"])
def test_service_containers_are_hardened(
    service: str, compose_services: dict[str, Any], hardening: str
) -> None:
    for name in (service, f"{service}{ONE_SHOT}"):
        definition = compose_services[name]
        assert definition.get(hardening), f"{name}: set {hardening}"
    assert compose_services[service]["cap_drop"] == ["ALL"]
    assert compose_services[service]["read_only"] is True


def test_ports_are_those_of_the_spec(repo: Path, spec_ports: dict[str, int]) -> None:
    """docs/specification.md (section 6) fixes the ports these checks hold the files to."""
    spec = repo / "docs" / "specification.md"
    assert spec.is_file(), f"{spec} is missing: the project's specification lives in its own docs/"
    match = re.search(
        r"staff (\d+), caseload (\d+), audit (\d+), metrics (\d+)", " ".join(spec.read_text().split())
    )
    assert match, "docs/specification.md section 6 no longer lists the ports as expected"
    assert dict(zip(spec_ports, map(int, match.groups()), strict=True)) == spec_ports


def test_nothing_reads_files_outside_the_repository(repo: Path) -> None:
    """A clone with nothing beside it must pass: no code, test or build file reaches above the repo."""
    outside = re.compile(r"""(\.\./shared|repo\.parent|REPO\.parent|parents\[[3-9]\])""")
    offenders = []
    for path in repo.rglob("*"):
        if not path.is_file() or path.suffix not in {".py", ".toml", ".cfg", ".ini", ".yml", ".yaml", ""}:
            continue
        if any(part in {".venv", ".tools", ".git", "var", "node_modules"} for part in path.parts):
            continue
        if path == Path(__file__):
            continue
        try:
            text = path.read_text()
        except (UnicodeDecodeError, OSError):
            continue
        offenders += [f"{path.relative_to(repo)}: {m.group(0)}" for m in outside.finditer(text)]
    assert not offenders, f"these reach outside the repository: {offenders}"
