"""`./dev clock show | advance 40d | set 3d | reset`: move the clock of every running service.

The move itself is the services' own operator command (`python -m identity clock ...`, which
publishes the offset on Kafka, where every service with an adjustable clock follows it); this
then waits until each running service reports the new offset in /health/ready and prints them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx

from devstack import processes
from devstack.config import REPO_ROOT, SERVICES, StackConfig
from devstack.processes import StackError


def move(config: StackConfig, action: str, duration: str | None, *, wait_seconds: float = 30.0) -> list[tuple[str, str, str]]:
    """Apply the action; returns (service, offset, now) per running service once they all follow."""
    command = [sys.executable, "-m", "identity", "clock", action, *([duration] if duration else [])]
    env = {**os.environ, **config.service_env("identity"), "IDENTITY_LOG_LEVEL": "WARNING", "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(command, env=env, capture_output=True, text=True, cwd=REPO_ROOT, timeout=60)
    if result.returncode != 0:
        raise StackError(f"the clock could not be moved: {result.stderr.strip() or result.stdout.strip()}")
    wanted = json.loads(result.stdout.strip().splitlines()[-1])["offset_seconds"]
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
        time.sleep(0.2)
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
        body = httpx.get(f"http://127.0.0.1:{config.service_ports[service]}/health/ready", timeout=2).json()
    except (httpx.HTTPError, ValueError):
        return None
    clock = body.get("clock") if isinstance(body, dict) else None
    return clock if isinstance(clock, dict) else None


def main(config: StackConfig, action: str, duration: str | None) -> int:
    rows = move(config, action, duration)
    width = max(len(name) for name, _, _ in rows)
    for name, offset, now in rows:
        print(f"  {name:<{width}}  {offset:<16}  {now}")
    return 0
