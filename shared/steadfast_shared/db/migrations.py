"""Alembic plumbing shared by every service's ``migrations/env.py``.

Each service keeps its own migration history and its own version table (``alembic_version_<service>``);
the URL comes from the service's settings (its ``<PREFIX>_DATABASE_URL``) unless the caller passes one
in ``config.attributes["database_url"]`` (the test plugin and the CLI do). Autogenerate compares types
and drops empty revisions; SQLite runs in batch mode so ALTERs work there too.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from steadfast_shared.settings import ServiceSettings


def version_table(service: str) -> str:
    return f"alembic_version_{service}"


def alembic_config(alembic_ini: Path, database_url: str) -> Config:
    """A config for ``alembic_ini`` that migrates ``database_url``."""
    config = Config(str(alembic_ini))
    config.set_main_option("script_location", str(alembic_ini.parent / "migrations"))
    config.attributes["database_url"] = database_url
    return config


def upgrade(alembic_ini: Path, database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(alembic_ini, database_url), revision)


def run_env(context: Any, *, service: str, metadata: MetaData, settings_class: type[ServiceSettings]) -> None:
    """The body of a service's ``migrations/env.py``."""
    config = context.config
    url = config.attributes.get("database_url") or settings_class().database_url
    is_sqlite = url.startswith("sqlite")

    def process_revision_directives(ctx: MigrationContext, revision: Any, directives: list[Any]) -> None:
        cmd_opts = getattr(config, "cmd_opts", None)
        if cmd_opts is not None and getattr(cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []

    options: dict[str, Any] = {
        "target_metadata": metadata,
        "version_table": version_table(service),
        "compare_type": True,
        "render_as_batch": is_sqlite,
        "process_revision_directives": process_revision_directives,
    }

    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True, dialect_opts={"paramstyle": "named"}, **options)
        with context.begin_transaction():
            context.run_migrations()
        return

    def do_run(connection: Connection) -> None:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()

    async def run_async() -> None:
        if is_sqlite:
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(do_run)
        await engine.dispose()

    connection = config.attributes.get("connection")
    if connection is not None:
        do_run(connection)
        return
    asyncio.run(run_async())


def heads(alembic_ini: Path) -> list[str]:
    config = Config(str(alembic_ini))
    config.set_main_option("script_location", str(alembic_ini.parent / "migrations"))
    return list(ScriptDirectory.from_config(config).get_heads())
