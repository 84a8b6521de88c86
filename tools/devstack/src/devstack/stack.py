"""Start, stop and inspect a whole stack."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import httpx

from devstack import kafka, postgres, processes
from devstack.config import REPO_ROOT, SERVICES, StackConfig, replica_name
from devstack.processes import StackError

MAILSINK = "mailsink"
PORTAL = "portal"


def start_infrastructure(config: StackConfig) -> None:
    config.state_dir.mkdir(parents=True, exist_ok=True)
    postgres.start(config)
    kafka.start(config)
    start_mailsink(config)


def start_mailsink(config: StackConfig) -> None:
    if processes.running_pid(config, MAILSINK):
        return
    processes.require_free_port(config.smtp_port, "SMTP", config.port_variable("SMTP"))
    processes.require_free_port(config.smtp_http_port, "SMTP web view", config.port_variable("SMTP_HTTP"))
    processes.start(
        config,
        MAILSINK,
        [
            sys.executable,
            "-m",
            "devstack.mailsink",
            "--host",
            "127.0.0.1",
            "--smtp-port",
            str(config.smtp_port),
            "--http-port",
            str(config.smtp_http_port),
            "--store",
            str(config.state_dir / "mail"),
        ],
    )
    _wait_http(f"http://127.0.0.1:{config.smtp_http_port}/health", MAILSINK, config, timeout=20)


def migrate_services(config: StackConfig) -> None:
    postgres.ensure_databases(config, [*SERVICES, PORTAL])
    for service in SERVICES:
        result = subprocess.run([sys.executable, "-m", service, "migrate"], env={**_env(), **config.service_env(service)}, capture_output=True, text=True)
        if result.returncode != 0:
            raise StackError(f"Migrations of {service} failed:\n{result.stdout}{result.stderr}")
    result = subprocess.run([sys.executable, "-m", "portal", "migrate"], env={**_env(), **config.portal_env()}, capture_output=True, text=True)
    if result.returncode != 0:
        raise StackError(f"Migrations of the portal failed:\n{result.stdout}{result.stderr}")


def start_services(config: StackConfig, replicas: dict[str, int] | None = None) -> None:
    """Every service, and `replicas[service] - 1` more processes of the services named there."""
    replicas = replicas or {}
    for service in SERVICES:
        for number in range(1, replicas.get(service, 1) + 1):
            start_replica(config, service, number, wait=False)
    for service in SERVICES:
        for number in range(1, replicas.get(service, 1) + 1):
            wait_replica(config, service, number)
    start_portal(config)


# ------------------------------------------------------------------------------------- replicas
# Replica 1 of a service is the service itself; replica n is `<service>-n` on its own port
# (config.replica_port), with the same settings otherwise: the same database, the same consumer
# groups. Tests and benchmarks start, kill and start replicas mid-run with these.


def start_replica(config: StackConfig, service: str, number: int, *, env: dict[str, str] | None = None, wait: bool = True) -> int:
    """Start replica `number` of `service` (unless it runs); `env` adds to or overrides its settings.
    Returns its pid; with `wait`, once it is ready (/health/ready)."""
    name = replica_name(service, number)
    pid = processes.running_pid(config, name)
    if pid is None:
        port = config.replica_port(service, number)
        what = f"the {service} service" if number == 1 else f"replica {number} of {service} (its port + {port - config.service_ports[service]})"
        processes.require_free_port(port, what, config.port_variable(service.upper()))
        pid = processes.start(config, name, [sys.executable, "-m", service, "serve"], env={**config.replica_env(service, number), **(env or {})}, cwd=REPO_ROOT)
    if wait:
        wait_replica(config, service, number)
    return pid


def wait_replica(config: StackConfig, service: str, number: int, *, timeout: float = 120) -> None:
    # 120 s: on a fresh Kafka, a busy machine can take over a minute to coordinate the consumer
    # groups a service joins before it is ready (a CI run saw attestation miss 60 s).
    _wait_http(f"http://127.0.0.1:{config.replica_port(service, number)}/health/ready", replica_name(service, number), config, timeout=timeout)


def kill_replica(config: StackConfig, service: str, number: int) -> int | None:
    """SIGKILL, as a lost node or the kernel's OOM killer would: no graceful shutdown, no leaving
    the consumer groups. Returns the pid it killed (None: it was not running)."""
    name = replica_name(service, number)
    pid = processes.running_pid(config, name)
    processes.stop(config, name, sig=signal.SIGKILL)
    return pid


def stop_replica(config: StackConfig, service: str, number: int) -> None:
    """SIGTERM: the replica finishes its work in flight and leaves its consumer groups."""
    processes.stop(config, replica_name(service, number))


def replica_numbers(config: StackConfig, service: str) -> list[int]:
    """The replicas of `service` this stack has a pid file for (running or not), 1 first."""
    numbers = {1} if processes.pid_file(config, service).exists() else set()
    for path in config.pids_dir.glob(f"{service}-*.pid"):
        suffix = path.stem.removeprefix(f"{service}-")
        if suffix.isdigit():
            numbers.add(int(suffix))
    return sorted(numbers)


def component_names(config: StackConfig) -> list[str]:
    """The services and their extra replicas, as processes knows them (logs, pids)."""
    return [replica_name(s, n) for s in SERVICES for n in sorted({1, *replica_numbers(config, s)})]


def start_portal(config: StackConfig) -> None:
    """The reference portal, over the services' public APIs (README: Portal)."""
    if not processes.running_pid(config, PORTAL):
        processes.require_free_port(config.portal_port, "the portal", config.port_variable("PORTAL"))
        processes.start(config, PORTAL, [sys.executable, "-m", "portal", "serve"], env=config.portal_env(), cwd=REPO_ROOT)
    _wait_http(f"http://127.0.0.1:{config.portal_port}/health/ready", PORTAL, config, timeout=60)


# The helpdesk operator a local stack starts with, to sign in through the development identity
# provider (a valid national register number of nobody real).
DEVELOPMENT_OPERATOR = {
    "national_register_number": "85073003328",
    "first_name": "Hanne",
    "last_name": "Helpdesk",
    "email": "helpdesk@wse.example",
    "date_of_birth": "1985-07-30",
}


def bootstrap_identity(config: StackConfig) -> None:
    """The department and its first operator (idempotent)."""
    arguments = [f"--{name.replace('_', '-')}={value}" for name, value in DEVELOPMENT_OPERATOR.items()]
    result = subprocess.run(
        [sys.executable, "-m", "identity", "bootstrap", *arguments], env={**_env(), **config.service_env("identity")}, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise StackError(f"Bootstrapping identity failed:\n{result.stdout}{result.stderr}")


def up(config: StackConfig, replicas: dict[str, int] | None = None) -> None:
    start_infrastructure(config)
    migrate_services(config)
    bootstrap_identity(config)
    start_services(config, replicas)


def down(config: StackConfig) -> None:
    processes.stop(config, PORTAL)
    for service in reversed(SERVICES):
        for number in reversed(sorted({1, *replica_numbers(config, service)})):
            processes.stop(config, replica_name(service, number))
    processes.stop(config, MAILSINK)
    kafka.stop(config)
    postgres.stop(config)


def status(config: StackConfig) -> list[tuple[str, str, str]]:
    rows = [
        (PORTAL, _state(config, PORTAL, f"http://127.0.0.1:{config.portal_port}/health/ready"), f"http://127.0.0.1:{config.portal_port}"),
        ("postgres", _state(config, "postgres"), f"postgresql://127.0.0.1:{config.postgres_port}"),
        ("kafka", _state(config, "kafka"), config.kafka_bootstrap),
        (
            MAILSINK,
            _state(config, MAILSINK, f"http://127.0.0.1:{config.smtp_http_port}/health"),
            f"smtp://127.0.0.1:{config.smtp_port}  view http://127.0.0.1:{config.smtp_http_port}",
        ),
    ]
    for service in SERVICES:
        url = f"http://127.0.0.1:{config.service_ports[service]}"
        rows.append((service, _state(config, service, url + "/health/ready"), url))
        for number in replica_numbers(config, service):
            if number > 1:
                name, url = replica_name(service, number), f"http://127.0.0.1:{config.replica_port(service, number)}"
                rows.append((name, _state(config, name, url + "/health/ready"), url))
    return rows


def _state(config: StackConfig, name: str, health_url: str | None = None) -> str:
    pid = processes.running_pid(config, name)
    if pid is None:
        return "stopped"
    if health_url is None:
        return f"running (pid {pid})"
    try:
        ok = httpx.get(health_url, timeout=2).status_code == 200
    except httpx.HTTPError:
        ok = False
    return f"{'healthy' if ok else 'unhealthy'} (pid {pid})"


def _wait_http(url: str, name: str, config: StackConfig, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if not processes.running_pid(config, name):
            raise StackError(f"{name} exited while starting. The last lines of its log:\n{processes.tail(processes.log_file(config, name))}")
        time.sleep(0.2)
    raise StackError(
        f"{name} did not become healthy at {url} within {timeout:.0f} s. The last lines of its log:\n{processes.tail(processes.log_file(config, name))}"
    )


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)
