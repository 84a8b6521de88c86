"""The notification service's delivery side as a process of its own, for the crash test: the
same runtime (scheduler, relay, SMTP sender) without Kafka consumers, under another name so
it joins no consumer group of the test run. Settings come as JSON in argv[1]."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import signal
import sys

from notification.definition import service
from service_runtime.logging import configure_logging


async def main(overrides: dict) -> None:
    crash_service = dataclasses.replace(service, name="notification-crash", consumers=[])
    settings = service.settings_class(**{"service_name": "notification-crash", **overrides})
    configure_logging(service="notification-crash", level="INFO", json=True)
    runtime = crash_service.runtime(settings)
    stopped = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
    await runtime.start()
    print(json.dumps({"event": "crash runner started"}), flush=True)
    try:
        await stopped.wait()
    finally:
        await runtime.stop()


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
