"""`./dev clock show | advance 40d | set 3d | reset`: move the clock of every running service.

The move is what the services' own operator command does (`python -m <service> clock ...`):
publish the offset on Kafka, where every service with an adjustable clock follows it. This then
waits until each running service reports the new offset in /health/ready and prints them.
"""

from __future__ import annotations

import asyncio
import time

import httpx

from devstack import processes
from devstack.config import SERVICES, StackConfig
from devstack.processes import StackError
from service_runtime.clock_control import move_clock


async def move(config: StackConfig, action: str, duration: str | None, *, wait_seconds: float = 30.0) -> list[tuple[str, str, str]]:
    """Apply the action; returns (service, offset, now) per running service once they all follow."""
    if config.clock_env().get("PLATFORM_ENVIRONMENT") not in ("development", "test", "acceptance"):
        raise StackError(f"the {config.name} stack runs as production does: its clock cannot be moved")
    try:
        offset = await move_clock(config.kafka_bootstrap, action, duration, set_by=f"./dev clock ({config.name})")
    except ValueError as error:
        raise StackError(str(error)) from None
    wanted = offset.total_seconds()
    running = [s for s in SERVICES if processes.running_pid(config, s)]
    deadline = time.monotonic() + wait_seconds
    seen: dict[str, dict[str, object]] = {}
    while time.monotonic() < deadline:
        for service in running:
            clock = _clock_of(config, service)
            if clock is not None:
                seen[service] = clock
        if all(s in seen and seen[s].get("offset_seconds") == wanted for s in running):
            break
        await asyncio.sleep(0.2)
    rows = []
    for service in running:
        clock = seen.get(service)
        if clock is None:
            rows.append((service, "not adjustable", "(real time)"))
        elif clock.get("offset_seconds") != wanted:
            rows.append((service, f"{clock.get('offset')} (still moving?)", str(clock.get("now"))))
        else:
            rows.append((service, str(clock["offset"]), str(clock["now"])))
    if not running:
        rows.append(("(no service running)", f"{wanted:+.0f}s", "./dev up -d starts them on this offset"))
    return rows


def _clock_of(config: StackConfig, service: str) -> dict[str, object] | None:
    try:
        body = httpx.get(  # a loopback health check of 2 s at most, from the command line
            f"http://127.0.0.1:{config.service_ports[service]}/health/ready", timeout=2
        ).json()
    except (httpx.HTTPError, ValueError):
        return None
    clock = body.get("clock") if isinstance(body, dict) else None
    return clock if isinstance(clock, dict) else None


def main(config: StackConfig, action: str, duration: str | None) -> int:
    rows = asyncio.run(move(config, action, duration))
    width = max(len(name) for name, _, _ in rows)
    for name, offset, now in rows:
        print(f"  {name:<{width}}  {offset:<16}  {now}")
    return 0
