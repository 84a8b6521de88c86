"""`python -m portal serve` | `python -m portal migrate`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

import asyncpg

from portal.settings import PortalSettings
from service_runtime import tracing
from service_runtime.logging import configure_logging
from service_runtime.migrations import apply_migrations, discover


async def migrate(settings: PortalSettings) -> list[str]:
    connection = await asyncpg.connect(settings.database_url)
    try:
        return await apply_migrations(connection, discover("portal", "portal.migrations"))
    finally:
        await connection.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portal", description="The WSE reference portal.")
    parser.add_argument("command", choices=["serve", "migrate"])
    arguments = parser.parse_args(argv)
    settings = PortalSettings()
    configure_logging(service="portal", level=settings.log_level, json=settings.log_json)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per service call is noise, not news
    applied = asyncio.run(migrate(settings))
    if arguments.command == "migrate":
        print("applied: " + (", ".join(applied) or "nothing new"))
        return 0
    import uvicorn

    from portal.app import create_app

    if settings.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(settings.metrics_port, addr=settings.http_host)  # its own thread; not routed by the Ingress
    # Before the app is built: it installs the tracing middleware only when tracing is on.
    tracing.configure(service="portal", endpoint=settings.otel_exporter_otlp_endpoint, traces_endpoint_url=settings.otel_exporter_otlp_traces_endpoint)
    try:
        uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port, log_level="warning", access_log=False, proxy_headers=True)
    finally:
        tracing.shutdown()  # the last spans leave before the process does
    return 0


if __name__ == "__main__":
    sys.exit(main())
