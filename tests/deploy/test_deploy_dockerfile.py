"""services/<service>/Dockerfile and .dockerignore: a multi-stage uv build of one service."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest

UV_IMAGE = re.compile(r"ghcr\.io/astral-sh/uv:\d+\.\d+\.\d+(@sha256:[0-9a-f]{64})?")
PYTHON_IMAGE = re.compile(r"python:3\.11(\.\d+)?-slim(-\w+)?(@sha256:[0-9a-f]{64})?")


def _stage_names(dockerfile: Any) -> dict[str, str]:
    """Stage name -> its base image, ARGs expanded."""
    names: dict[str, str] = {}
    for instruction in dockerfile.instructions:
        if instruction.keyword == "FROM":
            words = instruction.args.split()
            base = dockerfile.expand(next(w for w in words if not w.startswith("--")))
            name = words[-1] if len(words) >= 3 and words[-2].upper() == "AS" else str(instruction.stage)
            names[name] = base
    return names


def _copy_sources(dockerfile: Any) -> list[str]:
    """The build-context paths that COPY and ADD take (copies from stages and images left out)."""
    sources: list[str] = []
    for instruction in dockerfile.instructions:
        if instruction.keyword not in {"COPY", "ADD"}:
            continue
        args = instruction.args
        if args.startswith("["):
            words = json.loads(args)
        else:
            words = shlex.split(args)
        flags = [w for w in words if w.startswith("--")]
        paths = [w for w in words if not w.startswith("--")]
        if any(f.startswith("--from=") for f in flags):
            continue
        assert len(paths) >= 2, f"{instruction.keyword} {args}"
        sources.extend(dockerfile.expand(p) for p in paths[:-1])
    return sources


def _exec_form(instruction: Any) -> list[str]:
    args = instruction.args
    if args.upper().startswith("CMD "):
        args = args[4:]
    value = json.loads(args)
    assert isinstance(value, list), f"{instruction.keyword} must use the exec (JSON) form"
    return value


def _last(instructions: list[Any], keyword: str) -> Any:
    found = [i for i in instructions if i.keyword == keyword]
    assert found, f"no {keyword} in the final stage"
    return found[-1]


def test_multi_stage_with_the_same_python_in_build_and_runtime(dockerfile: Any) -> None:
    stages = _stage_names(dockerfile)
    assert dockerfile.stages >= 2, "build in one stage, run in another"
    assert {"builder", "runtime"} <= set(stages), f"stages: {sorted(stages)}"
    assert PYTHON_IMAGE.fullmatch(stages["runtime"]), f"runtime on {stages['runtime']}"
    assert stages["builder"] == stages["runtime"], "the virtualenv's interpreter must be the runtime's"
    assert list(stages)[-1] == "runtime", "the runtime stage comes last"


def test_uv_comes_from_the_pinned_official_image(dockerfile: Any) -> None:
    stages = _stage_names(dockerfile)
    copies = [
        i for i in dockerfile.instructions if i.keyword == "COPY" and "--from=" in i.args and "/uv" in i.args
    ]
    assert copies, "uv is copied from its image"
    source = re.search(r"--from=(\S+)", copies[0].args)
    assert source
    image = stages.get(source.group(1), dockerfile.expand(source.group(1)))
    assert UV_IMAGE.fullmatch(image), f"uv image {image!r} is not pinned to a version"


def test_dependencies_are_installed_frozen_without_dev_tools(dockerfile: Any, service: str) -> None:
    syncs = [i.args for i in dockerfile.instructions if i.keyword == "RUN" and "uv sync" in i.args]
    assert syncs, "uv sync is never run"
    for command in syncs:
        words = command.split()
        assert "--frozen" in words, "install exactly uv.lock: uv sync --frozen"
        assert "--no-dev" in words
        assert words[words.index("--package") + 1] == f"steadfast-{service}"
    assert any("--no-install-workspace" in c for c in syncs[:-1]), "a dependencies-only layer first"
    assert "--no-install-workspace" not in syncs[-1], "the last sync installs the service itself"
    runtime = dockerfile.stage(-1)
    assert not any("uv" in i.args.split() for i in runtime if i.keyword == "RUN"), "no uv at run time"


def test_runtime_has_the_builders_app_at_the_same_path(dockerfile: Any) -> None:
    """The workspace packages are editable installs: their sources must stay where uv put them."""
    builder = [
        i for i in dockerfile.instructions if i.stage == list(_stage_names(dockerfile)).index("builder")
    ]
    assert [i.args for i in builder if i.keyword == "WORKDIR"][-1] == "/app"
    env = " ".join(i.args for i in builder if i.keyword == "ENV")
    assert "UV_PROJECT_ENVIRONMENT=/app/.venv" in env
    copies = [i.args for i in dockerfile.stage(-1) if i.keyword == "COPY"]
    assert "--from=builder /app /app" in copies
    runtime_env = " ".join(i.args for i in dockerfile.stage(-1) if i.keyword == "ENV")
    assert 'PATH="/app/.venv/bin:' in runtime_env


def test_migrations_reach_the_image(dockerfile: Any, repo: Path, dockerignore: Any, service: str) -> None:
    """``steadfast-<service> migrate`` reads alembic.ini and migrations/ beside the package."""
    root = repo / "services" / service
    assert (root / "alembic.ini").is_file(), f"{service} has no alembic.ini"
    assert f"services/{service}/" in _copy_sources(dockerfile)
    for path in [root / "alembic.ini", *sorted((root / "migrations").rglob("*.py"))]:
        relative = path.relative_to(repo).as_posix()
        if "__pycache__" not in relative:
            assert not dockerignore.excludes(relative), f"{relative} is left out of the image"


def test_runs_as_a_non_root_user(dockerfile: Any) -> None:
    user = _last(dockerfile.stage(-1), "USER").args
    name = user.split(":")[0]
    assert name not in {"root", "0", ""}, f"USER {user}"
    assert name.isdigit(), "a numeric UID, so that Kubernetes' runAsNonRoot can check it"


def test_healthcheck_entrypoint_and_port(dockerfile: Any, service: str, port: int) -> None:
    final = dockerfile.stage(-1)
    healthcheck = _last(final, "HEALTHCHECK")
    assert f"127.0.0.1:{port}/healthz" in healthcheck.args
    assert "--interval" in healthcheck.args
    assert _last(final, "EXPOSE").args == str(port)
    assert _exec_form(_last(final, "ENTRYPOINT")) == [f"steadfast-{service}"]
    command = _exec_form(_last(final, "CMD"))
    assert command[0] == "serve"
    assert command[command.index("--port") + 1] == str(port)
    assert command[command.index("--host") + 1] == "0.0.0.0"
    assert "--no-migrate" in command, "migrations are a separate step"


def test_every_copied_path_exists_and_is_in_the_build_context(
    dockerfile: Any, repo: Path, dockerignore: Any, service: str
) -> None:
    sources = _copy_sources(dockerfile)
    assert "uv.lock" in sources
    assert any(s.rstrip("/") == "shared" for s in sources), "the shared library is copied"
    assert any(s.rstrip("/") == f"services/{service}" for s in sources)
    for source in sources:
        path = repo / source
        assert path.exists(), f"COPY {source}: no such path in the repository"
        assert not dockerignore.excludes(source.rstrip("/")), f"COPY {source}: excluded by .dockerignore"
        if path.is_dir():
            for file in path.rglob("*"):
                relative = file.relative_to(repo).as_posix()
                if file.is_file() and file.suffix in {".py", ".toml", ".ini", ".mako", ".json", ".sql"}:
                    if {"__pycache__", "tests"} & set(file.parts):
                        continue
                    assert not dockerignore.excludes(relative), f"{relative} is left out of the image"


def test_copy_paths_stay_inside_the_service(dockerfile: Any, service: str) -> None:
    for source in _copy_sources(dockerfile):
        top = source.split("/")[0]
        if top == "services":
            assert source.split("/")[1] == service, f"{service}'s image copies {source}"
        else:
            assert top in {"pyproject.toml", "uv.lock", "shared"}, f"{service}'s image copies {source}"


@pytest.mark.parametrize(
    ("path", "excluded"),
    [
        (".venv/bin/python", True),
        ("var/service.db", True),
        (".git/HEAD", True),
        ("shared/steadfast_shared/__pycache__/settings.cpython-311.pyc", True),
        ("services/staff/steadfast_staff/__pycache__/x.pyc", True),
        (".env", True),
        ("services/staff/.env", True),
        ("tests/deploy/conftest.py", True),
        ("deploy/k8s/staff/secret.example.yaml", True),
        ("docker-compose.yml", True),
        ("uv.lock", False),
        ("pyproject.toml", False),
        ("shared/pyproject.toml", False),
        ("shared/steadfast_shared/settings.py", False),
        ("services/staff/pyproject.toml", False),
    ],
)
def test_dockerignore(dockerignore: Any, path: str, excluded: bool) -> None:
    assert dockerignore.excludes(path) is excluded


def test_dockerfiles_differ_only_in_service_name_and_port(
    dockerfile: Any, staff_dockerfile: Any, service: str, port: int
) -> None:
    """A new service's Dockerfile is staff's with the name and port swapped (deploy/README.md)."""

    def lines(d: Any) -> list[str]:
        return [f"{i.keyword} {i.args}" for i in d.instructions]

    expected = [line.replace("staff", service).replace("8001", str(port)) for line in lines(staff_dockerfile)]
    assert lines(dockerfile) == expected
