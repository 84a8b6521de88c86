"""`./dev` – the one entry for people: up, down, status, logs, test, docs, bench."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time

from devstack import clock, demo, manifests, processes, stack
from devstack.config import MAX_REPLICAS, REPO_ROOT, SERVICES, StackConfig, parse_replicas
from devstack.processes import StackError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./dev", description="Run the WSE platform locally on real Kafka, PostgreSQL and SMTP.")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start everything; Ctrl-C stops it")
    up.add_argument("-d", "--detach", action="store_true", help="start in the background and return once healthy")
    up.add_argument(
        "--replicas",
        type=_replicas,
        default={},
        metavar="SERVICE=N[,...]",
        help=f"run N processes of a service (1 to {MAX_REPLICAS}; default 1): replica n is <service>-n on the service's port + 100*(n-1)",
    )
    commands.add_parser("down", help="stop everything ./dev up started")
    commands.add_parser("status", help="what runs, where, and whether it is healthy")
    logs = commands.add_parser("logs", help="follow the logs (of one component)")
    logs.add_argument("name", nargs="?", help=f"one of {', '.join(SERVICES)}, kafka, postgres, mailsink, portal, or a replica (notification-2)")
    logs.add_argument("--no-follow", action="store_true")
    test = commands.add_parser("test", help="run the whole test suite on a stack of its own")
    test.add_argument("pytest_args", nargs=argparse.REMAINDER)
    commands.add_parser("docs", help="write each service's AsyncAPI document to docs/asyncapi/")
    commands.add_parser("lint", help="ruff (lint and format check) and mypy, as CI runs them")
    commands.add_parser("manifests", help="write the Kubernetes manifests generated from the contracts (deploy/kubernetes/base/kafka/topics.yaml)")
    clock_command = commands.add_parser("clock", help="show or move the clock of every running service (never in production)")
    clock_command.add_argument("action", choices=["show", "advance", "set", "reset"])
    clock_command.add_argument("duration", nargs="?", help="advance/set: 40d, 8d12h, 90m, 3600s")
    bench = commands.add_parser("bench", help="run a benchmark from bench/ on a stack of its own")
    bench.add_argument("bench_args", nargs=argparse.REMAINDER)
    argv = sys.argv[1:] if argv is None else argv
    # `test` and `bench` hand everything after them to pytest / the benchmark untouched.
    if argv and argv[0] in ("test", "bench"):
        args = argparse.Namespace(command=argv[0], pytest_args=argv[1:], bench_args=argv[1:])
    else:
        args = parser.parse_args(argv)

    try:
        if args.command == "up":
            return _up(detach=args.detach, replicas=args.replicas)
        if args.command == "down":
            stack.down(StackConfig.dev())
            print("Stopped.")
            return 0
        if args.command == "status":
            _print_status(StackConfig.dev())
            return 0
        if args.command == "logs":
            return _logs(StackConfig.dev(), args.name, follow=not args.no_follow)
        if args.command == "test":
            return _pytest(args.pytest_args)
        if args.command == "docs":
            return _docs()
        if args.command == "lint":
            return _lint()
        if args.command == "manifests":
            return manifests.main()
        if args.command == "clock":
            return clock.main(StackConfig.dev(), args.action, args.duration)
        if args.command == "bench":
            return subprocess.call([sys.executable, str(REPO_ROOT / "bench" / "run.py"), *args.bench_args], cwd=REPO_ROOT)
    except StackError as error:
        print(f"\n./dev: {error}", file=sys.stderr)
        return 1
    return 2


def _replicas(text: str) -> dict[str, int]:
    try:
        return parse_replicas(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _up(*, detach: bool, replicas: dict[str, int]) -> int:
    config = StackConfig.dev()
    try:
        stack.up(config, replicas)
    except BaseException:  # whatever stopped it, leave nothing half-started behind
        stack.down(config)
        raise
    try:
        demo.seed(config, stack.DEVELOPMENT_OPERATOR["national_register_number"])
    except Exception as error:  # the stack runs; only the demo people are missing
        print(f"./dev: the demo people could not be made ({error}); sign in as the helpdesk operator and make them in the portal.", file=sys.stderr)
    _print_status(config)
    if detach:
        print("\nRunning in the background: ./dev logs [service], ./dev status, ./dev down")
        return 0
    print("\nFollowing the logs; Ctrl-C stops everything.\n")
    follower = subprocess.Popen(["tail", "-n", "0", "-F", *[str(processes.log_file(config, n)) for n in (*stack.component_names(config), stack.PORTAL)]])
    stopping = False

    def request_stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    components = [*stack.component_names(config), stack.PORTAL, "kafka", "mailsink"]
    try:
        ticks = 0
        while not stopping:
            time.sleep(0.2)
            ticks += 1
            # `./dev down` from another terminal: nothing left to follow, so this one ends too.
            if ticks % 5 == 0 and not any(processes.running_pid(config, name) for name in components):
                print("\nThe stack was stopped (./dev down).", flush=True)
                break
    finally:
        follower.terminate()
        print("\nStopping ...", flush=True)
        stack.down(config)
        print("Stopped.")
    return 0


def _print_status(config: StackConfig) -> None:
    rows = stack.status(config)
    width = max(len(name) for name, _, _ in rows)
    for name, state, where in rows:
        print(f"  {name:<{width}}  {state:<22}  {where}")
    print(f"\n  the portal: http://127.0.0.1:{config.portal_port}  (open it in a browser)")
    print(f"  logs: {config.logs_dir}   OpenAPI: http://127.0.0.1:<port>/schema   metrics: /metrics")
    print(f"  sign in as the helpdesk operator: national register number {stack.DEVELOPMENT_OPERATOR['national_register_number']} (README: Identity);")
    print("  in the portal, the demo people are one click away on its sign-in page")


def _logs(config: StackConfig, name: str | None, *, follow: bool) -> int:
    names = [name] if name else [*stack.component_names(config), "kafka", "mailsink"]
    files = [str(processes.log_file(config, n)) for n in names if processes.log_file(config, n).exists()]
    if not files:
        print(f"No logs of {name} yet (./dev status lists what runs)." if name else "No logs yet: ./dev up first.")
        return 1
    return subprocess.call(["tail", "-n", "100", *(["-F"] if follow else []), *files])


# The tests that need no Kafka, PostgreSQL or SMTP: each service's domain rules, and the pure
# parts (numbers, MIME, templates' contracts). `./dev test --fast` runs just these, in seconds.
FAST_TESTS = [
    "tests/identity/test_domain.py",
    "tests/identity/test_numbers.py",
    "tests/registration/test_domain.py",
    "tests/recognition/test_domain.py",
    "tests/attestation/test_domain.py",
    "tests/attestation/test_bulk_parsing.py",
    "tests/notification/test_domain.py",
    "tests/notification/test_templates.py",
    "tests/notification/test_mime.py",
    "tests/platform/test_calendar.py",
    "tests/platform/test_paging.py",
    "tests/platform/test_pii.py",
    "tests/platform/test_tracing.py",
    "tests/test_devstack_replicas.py",
]


def _pytest(pytest_args: list[str]) -> int:
    """The tests start their own Kafka, PostgreSQL and mail sink on the test ports (tests/conftest.py)."""
    if "--fast" in pytest_args:
        pytest_args = [a for a in pytest_args if a != "--fast"] + [t for t in FAST_TESTS if (REPO_ROOT / t).exists()]
    return subprocess.call([sys.executable, "-m", "pytest", *pytest_args], cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})


def _lint() -> int:
    """What CI runs before the tests: ruff's lint, ruff's format check, mypy; each must find nothing."""
    failed = 0
    for name, command in (
        ("ruff check", [sys.executable, "-m", "ruff", "check", "."]),
        ("ruff format --check", [sys.executable, "-m", "ruff", "format", "--check", "."]),
        ("mypy", [sys.executable, "-m", "mypy"]),
    ):
        print(f"== {name}", flush=True)
        if subprocess.call(command, cwd=REPO_ROOT) != 0:
            failed += 1
    if failed:
        print(f"\n./dev lint: {failed} of 3 checks found something (see above)", file=sys.stderr)
    return 1 if failed else 0


def _docs() -> int:
    target = REPO_ROOT / "docs" / "asyncapi"
    target.mkdir(parents=True, exist_ok=True)
    for service in SERVICES:
        output = subprocess.run([sys.executable, "-m", service, "asyncapi"], capture_output=True, text=True, check=True).stdout
        (target / f"{service}.json").write_text(json.dumps(json.loads(output), indent=2) + "\n")
        print(f"wrote {target / (service + '.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
