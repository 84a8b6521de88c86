"""The command line every service shares: `python -m <service> [serve|migrate|asyncapi|dead-letters ...]`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

import uvicorn

from service_runtime import tracing
from service_runtime.clock import format_offset
from service_runtime.clock_control import move_clock
from service_runtime.dead_letters import list_dead_letters, replay_dead_letter
from service_runtime.logging import configure_logging
from service_runtime.service import Service
from service_runtime.settings import ServiceSettings


def main(service: Service, argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"wse-{service.name}", description=service.description)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="run the HTTP API, consumers, outbox relay and scheduler (default)")
    commands.add_parser("migrate", help="apply the database migrations and exit")
    commands.add_parser("asyncapi", help="print the AsyncAPI document generated from the code")
    dead = commands.add_parser("dead-letters", help="list dead letters, or replay one")
    dead_commands = dead.add_subparsers(dest="action", required=True)
    listing = dead_commands.add_parser("list")
    listing.add_argument("--all", action="store_true", help="include replayed ones")
    replay = dead_commands.add_parser("replay")
    replay.add_argument("id", type=int)
    clock = commands.add_parser("clock", help="outside production: show or move the environment's clock (every service follows)")
    clock.add_argument("action", choices=["show", "advance", "set", "reset"])
    clock.add_argument("duration", nargs="?", help="for advance and set: 40d, 8d12h, 90m, 3600s (set: the offset from real time)")
    for name, (help_text, _) in service.commands.items():
        commands.add_parser(name, help=help_text, add_help=False)
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in service.commands:
        settings = service.load_settings()
        configure_logging(service=service.name, level=settings.log_level, json=settings.log_json)
        command = service.commands[argv[0]][1]

        async def run_command() -> int:
            return await command(service.runtime(settings), argv[1:])

        return asyncio.run(run_command())
    args = parser.parse_args(argv)

    settings = service.load_settings()
    configure_logging(service=service.name, level=settings.log_level, json=settings.log_json)
    runtime = service.runtime(settings)

    if args.command in (None, "serve"):
        # Before the app is built: it installs the tracing middleware only when tracing is on.
        tracing.configure(
            service=service.name,
            version=service.version,
            endpoint=settings.otel_exporter_otlp_endpoint,
            traces_endpoint_url=settings.otel_exporter_otlp_traces_endpoint,
        )
        config = uvicorn.Config(
            runtime.app(),
            host=settings.http_host,
            port=settings.http_port,
            log_config=None,  # our structlog handler
            access_log=False,
            timeout_graceful_shutdown=int(settings.graceful_shutdown_seconds),
            lifespan="on",
        )
        try:
            uvicorn.Server(config).run()
        finally:
            tracing.shutdown()  # the last spans leave before the process does
        return 0
    if args.command == "migrate":
        applied = asyncio.run(runtime.migrate())
        print(json.dumps({"applied": applied}))
        return 0
    if args.command == "asyncapi":
        print(json.dumps(runtime.asyncapi(), indent=2))
        return 0
    if args.command == "clock":
        return asyncio.run(_clock(settings, args.action, args.duration))
    return asyncio.run(_dead_letters(runtime, args))


async def _clock(settings: ServiceSettings, action: str, duration: str | None) -> int:
    if settings.platform_environment == "production":
        print("The clock of a production environment cannot be moved (PLATFORM_ENVIRONMENT=production).", file=sys.stderr)
        return 1
    try:
        offset = await move_clock(settings.kafka_bootstrap_servers, action, duration, set_by=f"python -m {settings.service_name} clock")
    except ValueError as error:
        print(str(error), file=sys.stderr)
        return 2
    print(json.dumps({"offset": format_offset(offset), "offset_seconds": offset.total_seconds()}))
    return 0


async def _dead_letters(runtime, args) -> int:
    connection = await runtime.connect()
    try:
        if args.action == "list":
            rows = await list_dead_letters(connection, include_replayed=args.all)
            print(json.dumps(rows, default=str, indent=2))
            return 0
        runtime.declare_consumers(pool=None)  # the runners know the handlers; the connection is passed in
        try:
            outcome = await replay_dead_letter(connection, dead_letter_id=args.id, runners=runtime.runners)
        except LookupError as error:
            print(str(error), file=sys.stderr)
            return 1
        print(outcome)
        return 0 if outcome in ("replayed", "already replayed") else 1
    finally:
        await connection.close()
