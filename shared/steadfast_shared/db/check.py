"""``python -m steadfast_shared.db.check``: ``alembic check`` for every service, on a real database.

For each ``services/*/alembic.ini`` it creates a scratch PostgreSQL database (from
``STEADFAST_TEST_POSTGRES_URL``, default the local server), upgrades it to head, runs ``alembic check``
(the models and the migrations must agree: no pending autogenerate operations), then downgrades to base
and upgrades again (every migration runs both ways), and drops the database. It fails, never skips,
when PostgreSQL cannot be reached.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from pathlib import Path

from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from steadfast_shared.db.migrations import alembic_config


def server_url() -> str:
    """The PostgreSQL server the checks and the tests use."""
    return os.environ.get(
        "STEADFAST_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    )


async def _admin(sql: str) -> None:
    engine = create_async_engine(server_url(), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


def check_service(alembic_ini: Path) -> None:
    service = alembic_ini.parent.name
    name = f"alembic_check_{service}_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(server_url()).set(database=name).render_as_string(hide_password=False)
        config = alembic_config(alembic_ini, url)
        command.upgrade(config, "head")
        command.check(config)
        command.downgrade(config, "base")
        command.upgrade(config, "head")
        print(f"alembic check: {service}: models and migrations agree; downgrade and upgrade run")
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main(root: Path) -> int:
    inis = sorted(root.glob("services/*/alembic.ini"))
    if not inis:
        print("alembic check: no services found", file=sys.stderr)
        return 1
    for ini in inis:
        check_service(ini)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()))
