"""What a service is made of, declared once in its ``bootstrap.py`` (the composition root).

Each service package also names its definition under the ``steadfast.services`` entry-point group, so
that the embedded runner (``make run``) finds every installed service without a hand-kept list.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from fastapi import APIRouter

from steadfast_shared.db.engine import Database
from steadfast_shared.db.metadata import PlatformTables
from steadfast_shared.events.registry import EventRegistry
from steadfast_shared.settings import ServiceSettings

if TYPE_CHECKING:
    from steadfast_shared.consumer import IdempotentConsumer


class BackgroundTask(Protocol):
    """Something a running service does beside answering requests (a consumer, a scheduler)."""

    name: str

    async def run(self) -> None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class ServiceCommand:
    """A command of the service's own, beside the shared ones (``steadfast-<service> <name>``)."""

    name: str
    help: str
    #: Adds the command's arguments to its sub-parser.
    configure: Callable[[argparse.ArgumentParser], None]
    #: Runs it with a runtime (settings and an open database); the result is the exit status.
    run: Callable[[Runtime, argparse.Namespace], Awaitable[int]]


@dataclass
class Runtime:
    """What a running service holds: built in the lifespan (or a CLI command), never at import.

    ``components`` are the objects the definition says a process makes once (a cache, say), made here
    when the runtime is, so every request, task and command of the process shares the same ones."""

    definition: ServiceDefinition
    settings: ServiceSettings
    database: Database
    components: dict[str, Any] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.components = {name: make(self) for name, make in self.definition.components.items()}


@dataclass(frozen=True)
class ServiceDefinition:
    """A service: its name, tables, events, HTTP routers, migrations and consumers."""

    name: str
    title: str
    description: str
    settings_class: type[ServiceSettings]
    tables: PlatformTables
    registry: EventRegistry
    routers: Sequence[APIRouter]
    #: The folder holding the service's ``alembic.ini`` and ``migrations/``.
    root: Path
    #: The port of the embedded default (SPEC section 6): staff 8001, caseload 8002, audit 8003, metrics 8004.
    port: int = 8000
    consumers: Sequence[Callable[[Runtime], IdempotentConsumer]] = field(default_factory=tuple)
    #: Other background work started in the lifespan beside the consumers (a snapshot schedule, say).
    tasks: Sequence[Callable[[Runtime], BackgroundTask]] = field(default_factory=tuple)
    #: Commands of the service's own, added to its command line.
    commands: Sequence[ServiceCommand] = field(default_factory=tuple)
    #: What the process makes once, by name (``Runtime.components``), e.g. an answer cache.
    components: Mapping[str, Callable[[Runtime], Any]] = field(default_factory=dict)
    #: Folders of files served as they are, by URL prefix (a dashboard's stylesheets and scripts, say).
    static_files: Mapping[str, Path] = field(default_factory=dict)
    version: str = "0.1.0"

    @property
    def env_prefix(self) -> str:
        """The prefix of the service's environment variables, e.g. ``STAFF_``."""
        return str(self.settings_class.model_config.get("env_prefix", ""))

    @property
    def alembic_ini(self) -> Path:
        return self.root / "alembic.ini"

    def settings(self) -> ServiceSettings:
        return self.settings_class()
