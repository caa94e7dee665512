"""The command line every service has: ``python -m steadfast_<service> <command>``.

Commands: ``serve`` (migrate unless told not to, then the HTTP API with its relay and consumers),
``migrate``, ``relay`` (the outbox relay alone), ``republish`` (send retained events again, for a
broker that lost them), ``purge-outbox``, ``outbox-status``, ``token`` (a local bearer token).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import signal
import sys
from datetime import datetime, timedelta

import uvicorn
from sqlalchemy.orm import configure_mappers

from steadfast_shared.auth import ALL_SCOPES, mint_local_token
from steadfast_shared.db.engine import create_database
from steadfast_shared.db.migrations import upgrade
from steadfast_shared.embedded.runner import embedded_environment
from steadfast_shared.logging import configure_logging
from steadfast_shared.outbox.relay import build_relay
from steadfast_shared.outbox.store import OutboxStore
from steadfast_shared.service import Runtime, ServiceDefinition


def freeze_startup_heap() -> None:
    """Leave what the process has built to serve (modules, models, schemas, mappers: some hundreds of
    thousands of objects that live as long as it does) out of the cyclic garbage collector's work.

    Python's full collections traverse every tracked object, and a request that makes many objects (a
    bulk import makes some twenty per row) sets off one every few thousand rows: without this, half of a
    100,000-row import's CPU time went to traversing the app's own objects again and again
    (``docs/benchmarks.md``). Garbage is collected first; what is frozen is never freed, so this is for
    a serving process, after its app is built, not for one that builds apps again and again (tests).
    """
    configure_mappers()
    gc.collect()
    gc.freeze()


def run_cli(definition: ServiceDefinition, argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"steadfast-{definition.name}", description=definition.title)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP API (with the outbox relay and the consumers)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--no-migrate", action="store_true", help="do not apply migrations first")

    sub.add_parser("migrate", help="apply the database migrations (alembic upgrade head)")
    sub.add_parser("relay", help="run the outbox relay alone")

    republish = sub.add_parser("republish", help="mark retained published events for publishing again")
    republish.add_argument("--from-id", type=int)
    republish.add_argument("--to-id", type=int)
    republish.add_argument("--since", type=datetime.fromisoformat, help="ISO date-time")

    purge = sub.add_parser("purge-outbox", help="delete published events older than the retention")
    purge.add_argument("--older-than-days", type=int)

    sub.add_parser("outbox-status", help="print the outbox backlog as JSON")

    token = sub.add_parser("token", help="print a locally signed bearer token (HS256)")
    token.add_argument("--scope", action="append", help="a scope; repeat it (default: every scope)")
    token.add_argument("--subject", default="local-admin")
    token.add_argument("--days", type=int, default=30)

    for command in definition.commands:
        command.configure(sub.add_parser(command.name, help=command.help))

    args = parser.parse_args(argv)
    if args.command != "serve":
        os.environ.update(embedded_environment(definition, os.environ))
    settings = definition.settings()
    configure_logging(settings.log_level, json=settings.log_json)

    if args.command == "migrate":
        upgrade(definition.alembic_ini, settings.database_url)
        print(json.dumps({"service": definition.name, "migrated": "head"}))
        return 0
    if args.command == "serve":
        if not args.no_migrate:
            upgrade(definition.alembic_ini, settings.database_url)
        from steadfast_shared.http.app import create_app

        app = create_app(definition, settings)
        freeze_startup_heap()
        uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False)
        return 0
    if args.command == "token":
        scopes = tuple(args.scope) if args.scope else ALL_SCOPES
        print(
            mint_local_token(
                settings.signing_secret(),
                scopes=scopes,
                subject=args.subject,
                ttl=timedelta(days=args.days),
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
            )
        )
        return 0
    return asyncio.run(_async_command(definition, args))


async def _async_command(definition: ServiceDefinition, args: argparse.Namespace) -> int:
    settings = definition.settings()
    database = create_database(settings.database_url)
    try:
        own = {command.name: command for command in definition.commands}
        if args.command in own:
            return await own[args.command].run(
                Runtime(definition=definition, settings=settings, database=database), args
            )
        store = OutboxStore(database.sessionmaker, definition.tables, reader=database.read_sessionmaker)
        if args.command == "republish":
            count = await store.republish(from_id=args.from_id, to_id=args.to_id, since=args.since)
            print(json.dumps({"service": definition.name, "republished": count}))
        elif args.command == "purge-outbox":
            days = (
                args.older_than_days if args.older_than_days is not None else settings.outbox_retention_days
            )
            print(
                json.dumps(
                    {
                        "service": definition.name,
                        "purged": await store.purge_published(timedelta(days=days)),
                    }
                )
            )
        elif args.command == "outbox-status":
            count, oldest = await store.backlog()
            print(
                json.dumps(
                    {
                        "service": definition.name,
                        "unpublished": count,
                        "oldest": oldest.isoformat() if oldest else None,
                    }
                )
            )
        elif args.command == "relay":
            relay = build_relay(definition, settings, database)
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, relay.stop)
            await relay.run()
        return 0
    finally:
        await database.dispose()


def main_for(definition: ServiceDefinition) -> None:
    sys.exit(run_cli(definition))
