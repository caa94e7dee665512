"""Fixtures of the deployment checks: the files under test, parsed, and what SPEC section 6 fixes.

These checks are static (no Docker engine, no cluster): they parse docker-compose.yml, deploy/k8s,
the services' Dockerfiles and .dockerignore and hold them to the rules in deploy/README.md.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]

#: SPEC section 6: each service's HTTP port.
SPEC_PORTS = {"staff": 8001, "caseload": 8002, "audit": 8003, "metrics": 8004}

#: ``${NAME}``, ``${NAME:-default}``, ``${NAME-default}``, ``${NAME:?message}``, ``${NAME?message}``.
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def _present_services() -> list[str]:
    """The services that exist in the repository (``services/<name>/pyproject.toml``)."""
    return sorted(
        p.parent.name for p in (REPO / "services").glob("*/pyproject.toml") if p.parent.name in SPEC_PORTS
    )


def env_prefix(service: str) -> str:
    return f"{service.upper()}_"


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str
    stage: int


@dataclass(frozen=True)
class Dockerfile:
    path: Path
    text: str
    instructions: tuple[Instruction, ...]
    #: ARG defaults declared before the first FROM.
    global_args: dict[str, str]

    @property
    def stages(self) -> int:
        return sum(1 for i in self.instructions if i.keyword == "FROM")

    def stage(self, index: int) -> list[Instruction]:
        wanted = index if index >= 0 else self.stages + index
        return [i for i in self.instructions if i.stage == wanted]

    def expand(self, value: str) -> str:
        return re.sub(
            r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?",
            lambda m: self.global_args.get(m.group(1), m.group(0)),
            value,
        )


def _parse_dockerfile(path: Path) -> Dockerfile:
    """Instructions with continuation lines joined; comments and parser directives dropped."""
    text = path.read_text()
    logical: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if current and line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1].rstrip() + " "
            continue
        logical.append(current + line)
        current = ""
    if current:
        logical.append(current)

    instructions: list[Instruction] = []
    global_args: dict[str, str] = {}
    stage = -1
    for line in logical:
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        elif keyword == "ARG" and stage == -1:
            name, _, default = args.strip().partition("=")
            global_args[name] = default
        instructions.append(Instruction(keyword, args.strip(), stage))
    return Dockerfile(path, text, tuple(instructions), global_args)


@dataclass(frozen=True)
class DockerIgnore:
    """``.dockerignore`` semantics: the last matching pattern wins; a match on a folder covers its files."""

    rules: tuple[tuple[re.Pattern[str], bool], ...]

    @classmethod
    def load(cls, path: Path) -> DockerIgnore:
        rules: list[tuple[re.Pattern[str], bool]] = []
        for raw in path.read_text().splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            pattern = line[1:].strip() if negate else line
            pattern = pattern.strip("/")
            rules.append((re.compile(_glob_to_regex(pattern)), negate))
        return cls(tuple(rules))

    def excludes(self, relative: str) -> bool:
        parts = Path(relative).parts
        candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        excluded = False
        for regex, negate in self.rules:
            if any(regex.fullmatch(c) for c in candidates):
                excluded = not negate
        return excluded


def _glob_to_regex(pattern: str) -> str:
    out = ""
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif c == "*":
            out += "[^/]*"
            i += 1
        elif c == "?":
            out += "[^/]"
            i += 1
        elif c == "[":
            end = pattern.index("]", i)
            out += "[" + pattern[i + 1 : end].replace("!", "^", 1) + "]"
            i = end + 1
        else:
            out += re.escape(c)
            i += 1
    return out


def _substitute(value: str, secrets: dict[str, str] | None = None) -> str:
    """A compose value with its ``${...}`` filled in: defaults, or a stand-in for required ones."""

    def fill(m: re.Match[str]) -> str:
        name, op, arg = m.group("name"), m.group("op") or "", m.group("arg") or ""
        if secrets and name in secrets:
            return secrets[name]
        if op.endswith("-"):
            return arg
        if "SECRET" in name:
            return "s" * 48
        return f"stand-in-{name.lower().replace('_', '-')}"

    return INTERPOLATION.sub(fill, value)


def _missing_deployment(service: str) -> list[str]:
    """What a service of the repository lacks to be deployed (deploy/README.md, Adding a service)."""
    missing = []
    if not (REPO / "services" / service / "Dockerfile").is_file():
        missing.append(f"services/{service}/Dockerfile")
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text()) or {}
    for name in (service, f"{service}-migrate"):
        if name not in (compose.get("services") or {}):
            missing.append(f"the {name} service in docker-compose.yml")
    kustomization = yaml.safe_load((REPO / "deploy" / "k8s" / "kustomization.yaml").read_text()) or {}
    if service not in (kustomization.get("resources") or []):
        missing.append(f"deploy/k8s/{service}/ in deploy/k8s/kustomization.yaml")
    return missing


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests that take ``service`` run once for each service of the repository: a service whose
    deployment files are missing fails them (and test_every_service_is_deployed says what is missing)."""
    if "service" in metafunc.fixturenames:
        params = _present_services()
        metafunc.parametrize("service", params)


@pytest.fixture(scope="session")
def present_services() -> list[str]:
    return _present_services()


@pytest.fixture(scope="session")
def missing_deployment() -> Callable[[str], list[str]]:
    return _missing_deployment


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def spec_ports() -> dict[str, int]:
    return dict(SPEC_PORTS)


@pytest.fixture
def port(service: str) -> int:
    return SPEC_PORTS[service]


@pytest.fixture
def prefix(service: str) -> str:
    return env_prefix(service)


@pytest.fixture(scope="session")
def interpolation() -> re.Pattern[str]:
    return INTERPOLATION


# ---------------------------------------------------------------------------------------- compose
@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    assert isinstance(data, dict), "docker-compose.yml is not a mapping"
    return data


@pytest.fixture(scope="session")
def compose_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services = compose.get("services")
    assert isinstance(services, dict), "docker-compose.yml has no services"
    assert services, "docker-compose.yml has no services"
    return services


@pytest.fixture(scope="session")
def compose_environment(
    compose_services: dict[str, dict[str, Any]],
) -> Callable[..., dict[str, str]]:
    """A compose service's environment as the container sees it, with stand-ins for required values."""

    def resolve(name: str, secrets: dict[str, str] | None = None) -> dict[str, str]:
        environment = compose_services[name].get("environment") or {}
        if isinstance(environment, list):
            environment = dict(item.partition("=")[::2] for item in environment)
        return {str(k): _substitute(str(v), secrets) for k, v in environment.items()}

    return resolve


# ------------------------------------------------------------------------------------- Dockerfiles
@pytest.fixture
def dockerfile(service: str) -> Dockerfile:
    path = REPO / "services" / service / "Dockerfile"
    assert path.is_file(), f"{path.relative_to(REPO)} is missing: see deploy/README.md, Adding a service"
    return _parse_dockerfile(path)


@pytest.fixture(scope="session")
def staff_dockerfile() -> Dockerfile:
    return _parse_dockerfile(REPO / "services" / "staff" / "Dockerfile")


@pytest.fixture(scope="session")
def dockerignore() -> DockerIgnore:
    return DockerIgnore.load(REPO / ".dockerignore")


# -------------------------------------------------------------------------------------- Kubernetes
@pytest.fixture(scope="session")
def k8s_root() -> Path:
    return REPO / "deploy" / "k8s"


@pytest.fixture(scope="session")
def k8s_documents(k8s_root: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Every YAML document under deploy/k8s, with the file it came from."""
    docs: list[tuple[Path, dict[str, Any]]] = []
    for path in sorted(k8s_root.rglob("*.y*ml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc is not None:
                docs.append((path, doc))
    return docs


@pytest.fixture(scope="session")
def k8s_objects(k8s_documents: list[tuple[Path, dict[str, Any]]]) -> list[dict[str, Any]]:
    """The Kubernetes objects under deploy/k8s (the kustomizations left out)."""
    return [doc for _, doc in k8s_documents if doc.get("kind") != "Kustomization"]


@pytest.fixture(scope="session")
def k8s_object(k8s_objects: list[dict[str, Any]]) -> Callable[[str, str], dict[str, Any]]:
    """The one object of a kind and name under deploy/k8s."""

    def find(kind: str, name: str) -> dict[str, Any]:
        matches = [o for o in k8s_objects if o.get("kind") == kind and o["metadata"]["name"] == name]
        assert len(matches) == 1, f"expected one {kind} {name!r} under deploy/k8s, found {len(matches)}"
        return matches[0]

    return find


# ---------------------------------------------------------------------------------------- settings
@pytest.fixture
def settings_class(service: str) -> type[Any]:
    """The service's settings class, or a stand-in subclass of ServiceSettings with its prefix.

    ``steadfast_<service>.settings.<Service>Settings`` when it exists; until then the shared base
    class with the service's prefix, which has the same fields.
    """
    from steadfast_shared.settings import ServiceSettings, service_config

    try:
        module = importlib.import_module(f"steadfast_{service}.settings")
    except ModuleNotFoundError as exc:
        if exc.name not in {f"steadfast_{service}", f"steadfast_{service}.settings"}:
            raise
        return type(
            f"{service.title()}Settings",
            (ServiceSettings,),
            {"model_config": service_config(env_prefix(service))},
        )
    cls = getattr(module, f"{service.title()}Settings")
    assert issubclass(cls, ServiceSettings), f"{cls} does not subclass ServiceSettings"
    assert cls.model_config.get("env_prefix") == env_prefix(service)
    return cls


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No service settings leak in from the environment of the test run."""
    for name in list(os.environ):
        if any(name.startswith(env_prefix(s)) for s in SPEC_PORTS):
            monkeypatch.delenv(name)
    return monkeypatch
