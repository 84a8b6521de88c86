"""Rebalance benchmark (issue 15, item 6): how long a SIGKILLed replica's partitions wait.

Two replicas of the notification service (`python -m notification serve`, started by devstack
like `./dev up --replicas notification=2`) under a steady stream of notification requests; the
replica holding the most partitions of `notification.requests` is SIGKILLed and a replacement
started at once, `--kills` times in a row; each time, the seconds from the SIGKILL until every
partition the dead replica held has been handled again by a live replica (their `/metrics`,
polled every 0.1 s: devstack.replicas). The same, in the same run, with aiokafka's defaults
(session 10 s, heartbeat 3 s) as the baseline, against the runtime's settings (6 s, 1.5 s).

    uv run python bench/replicas/run.py              # about 3 minutes; --help for the options

It prints a table and writes bench/replicas/results/latest.json. Its own stack: infrastructure
from devstack in .run/bench-replicas (WSE_BENCH_STATE_DIR) on the bench ports moved by
WSE_BENCH_PORT_BASE (24000 unless set), wiped first and stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# The repo root for bench.common, shared with the other benchmarks.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
REPO_ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("WSE_BENCH_STATE_DIR", str(REPO_ROOT / ".run" / "bench-replicas"))
os.environ.setdefault("WSE_BENCH_PORT_BASE", "24000")

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from bench.common import BenchStack, Deadline, code_state, results_head, settings_of, write_results  # noqa: E402
from devstack import postgres, replicas, stack  # noqa: E402
from devstack.config import StackConfig  # noqa: E402

SERVICE = "notification"
CODE = ["runtime/src/service_runtime", "services/notification/src", "tools/devstack/src/devstack"]


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=5, help="kills per setting (default 5; at most 7: replicas are numbered up to 9)")
    parser.add_argument("--rate", type=float, default=10.0, help="notification requests a second during the run (default 10)")
    parser.add_argument("--session-ms", type=int, default=6000, help="the runtime's consumer session timeout (default 6000)")
    parser.add_argument("--heartbeat-ms", type=int, default=1500, help="the runtime's heartbeat interval (default 1500)")
    parser.add_argument("--baseline-session-ms", type=int, default=10000, help="the baseline's: aiokafka's default 10000")
    parser.add_argument("--baseline-heartbeat-ms", type=int, default=3000, help="the baseline's: aiokafka's default 3000")
    parser.add_argument("--timeout", type=float, default=1200, help="the run's hard limit in seconds (default 1200)")
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "results" / "latest.json")
    args = parser.parse_args(argv)
    if not 1 <= args.kills <= 7:
        parser.error("--kills: 1 to 7")
    return args


async def measure(config: StackConfig, name: str, session_ms: int, heartbeat_ms: int, args: argparse.Namespace, deadline: Deadline) -> dict[str, Any]:
    """One setting: two replicas, `kills` kills each followed by a replacement, under load."""
    prefix = f"bench-{name}-{int(time.time())}."
    group = f"{prefix}notification.requests"
    env = {
        "CONSUMER_SESSION_TIMEOUT_MS": str(session_ms),
        "CONSUMER_HEARTBEAT_INTERVAL_MS": str(heartbeat_ms),
        "NOTIFICATION_CONSUMER_GROUP_PREFIX": prefix,
        "NOTIFICATION_DELIVERY_LEASE_SECONDS": "10",
        "NOTIFICATION_LOG_LEVEL": "WARNING",
        "JWKS_URL": "http://127.0.0.1:9/unused",
    }
    partitions = await replicas.start_group_at_end(config.kafka_bootstrap, group, replicas.REQUESTS_TOPIC)
    print(f"\n{name}: session {session_ms} ms, heartbeat {heartbeat_ms} ms; group {group}", flush=True)
    for number in (1, 2):
        stack.start_replica(config, SERVICE, number, env=env, wait=False)
    for number in (1, 2):
        await asyncio.to_thread(stack.wait_replica, config, SERVICE, number)
    load = replicas.NotificationLoad(config.kafka_bootstrap, args.rate)
    producing = asyncio.create_task(load.run())
    kills: list[dict[str, Any]] = []
    live, next_number = [1, 2], 3
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(args.kills):
                deadline.left()
                kill = await replicas.kill_and_measure(
                    client,
                    config,
                    SERVICE,
                    live=live,
                    replacement=next_number,
                    group=group,
                    env=env,
                    partitions=partitions,
                    within_seconds=min(120, deadline.left()),
                )
                kills.append({"victim": kill.victim, "partitions": sorted(kill.partitions), "seconds": round(kill.rebalance_seconds, 3)})
                print(
                    f"  killed {SERVICE}-{kill.victim} (partitions {sorted(kill.partitions)}): consumed again after {kill.rebalance_seconds:.2f} s", flush=True
                )
                live = [n for n in live if n != kill.victim] + [next_number]
                await asyncio.to_thread(stack.wait_replica, config, SERVICE, next_number)
                next_number += 1
        load.stop.set()
        await producing
        # Nothing lost on the way (the replica test proves more; this only checks the run was sound).
        connection = await asyncpg.connect(config.database_url(SERVICE))
        try:
            requested, waited = len(load.requests), time.monotonic()
            keys = [r.idempotency_key for r in load.requests]
            while (
                done := await connection.fetchval("SELECT count(*) FROM notifications WHERE status = 'delivered' AND idempotency_key = ANY($1)", keys)
            ) < requested:
                if time.monotonic() - waited > min(120, deadline.left()):
                    break
                await asyncio.sleep(0.5)
        finally:
            await connection.close()
    finally:
        load.stop.set()
        if not producing.done():
            producing.cancel()
        for number in stack.replica_numbers(config, SERVICE):
            await asyncio.to_thread(stack.stop_replica, config, SERVICE, number)
    seconds = [k["seconds"] for k in kills]
    return {
        "setting": name,
        "session_timeout_ms": session_ms,
        "heartbeat_interval_ms": heartbeat_ms,
        "kills": kills,
        "min": min(seconds),
        "median": round(statistics.median(seconds), 3),
        "max": max(seconds),
        "requests": requested,
        "delivered": done,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    config = StackConfig.bench()
    results: list[dict[str, Any]] = []
    code_at_start = code_state(*CODE)
    with BenchStack(config) as run:
        subprocess.run(["rm", "-rf", str(config.state_dir)], check=True)
        deadline = run.start(args.timeout)
        postgres.ensure_databases(config, [SERVICE])
        for name, session_ms, heartbeat_ms in (
            ("runtime", args.session_ms, args.heartbeat_ms),
            ("aiokafka-defaults", args.baseline_session_ms, args.baseline_heartbeat_ms),
        ):
            results.append(asyncio.run(measure(config, name, session_ms, heartbeat_ms, args, deadline)))
    if run.error:
        print(f"\nThe benchmark failed: {run.error}", file=sys.stderr)
        return 1
    ours, baseline = results
    ratio = ours["median"] / baseline["median"]
    print(
        f"\nRebalance time after a SIGKILL (from the kill until the dead replica's partitions are handled again), {args.kills} kills each, {args.rate:g} requests/s"
    )
    print(f"  {'setting':<20} {'session/heartbeat':>18} {'min':>7} {'median':>7} {'max':>7}   delivered/requested")
    for r in results:
        print(
            f"  {r['setting']:<20} {r['session_timeout_ms']:>9} / {r['heartbeat_interval_ms']:<6} {r['min']:>6.2f}s {r['median']:>6.2f}s {r['max']:>6.2f}s   {r['delivered']}/{r['requests']}"
        )
    print(f"  ratio of the medians (runtime / aiokafka defaults): {ratio:.2f}")
    met = ours["max"] < 10
    print(f"  {'MET   ' if met else 'MISSED'} target under 10 s: the runtime's worst {ours['max']:.2f} s [baseline worst {baseline['max']:.2f} s]")
    code_now = code_state(*CODE)
    write_results(
        args.output,
        {
            **results_head("replicas", "bench/replicas/run.py", argv, shared="load generator, 2-3 notification replicas, PostgreSQL, Kafka, mail sink"),
            "settings": settings_of(args),
            "results": results,
            "ratio_of_medians": round(ratio, 3),
            "target_met": met,
            "code_at_start": code_at_start,
            "code": code_now,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
