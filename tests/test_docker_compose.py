"""The container stack (docker-compose.yml, Dockerfile, deploy/postgres/init-databases.sql), checked
by reading the files: no Docker engine is needed. `docker compose config -q` runs too where the
compose CLI is installed."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
INIT_SQL = ROOT / "deploy" / "postgres" / "init-databases.sql"

# Service -> the port it listens on (its default <SERVICE>_HTTP_PORT).
APP_SERVICES = {
    "identity": 8001,
    "registration": 8002,
    "recognition": 8003,
    "attestation": 8004,
    "notification": 8005,
}
INFRA_SERVICES = ("kafka", "postgres", "mailpit")
# The rule for host ports (see the comment at the top of docker-compose.yml): these may be run with
# `docker compose up --scale X=N`, so they publish a block of host ports (or none), never one
# fixed host port; the others run as one replica and keep their default port on the host.
SCALABLE = ("registration", "recognition", "attestation")
SINGLE_REPLICA = ("identity", "notification")
MIN_REPLICAS = 3  # `docker compose up --scale registration=3` must work

JWKS_URL = "http://identity:8001/.well-known/jwks.json"
KAFKA = "kafka:9092"


# -- helpers ------------------------------------------------------------------------------------


def load_compose() -> dict:
    assert COMPOSE_FILE.is_file(), f"{COMPOSE_FILE} is missing"
    document = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(document, dict) and isinstance(document.get("services"), dict), "no services: mapping"
    return document


def services() -> dict[str, dict]:
    return load_compose()["services"]


def environment(service: dict) -> dict[str, str]:
    """The environment of a service, whether written as a mapping or as a list of KEY=VALUE."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        pairs = (item.split("=", 1) if "=" in item else (item, "") for item in raw)
        return {key: value for key, value in pairs}
    return {str(key): "" if value is None else str(value) for key, value in raw.items()}


def setting(service_name: str, env: dict[str, str], field: str) -> str | None:
    """What load_settings would read: <SERVICE>_FIELD wins over the shared FIELD."""
    return env.get(f"{service_name.upper()}_{field}", env.get(field))


def depends_on(service: dict) -> dict[str, str]:
    """Dependency -> condition; the short (list) form means service_started."""
    raw = service.get("depends_on") or {}
    if isinstance(raw, list):
        return {name: "service_started" for name in raw}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in raw.items()}


def host_range(published: str) -> tuple[int, int] | None:
    """'8001' -> (8001, 8001), '8020-8029' -> (8020, 8029), '' -> None (an ephemeral host port)."""
    published = published.strip()
    if not published:
        return None
    low, _, high = published.partition("-")
    return int(low), int(high or low)


def port_bindings(service: dict) -> list[tuple[range | None, int]]:
    """Each published port as (host ports or None for ephemeral, container port)."""
    bindings = []
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):  # long syntax
            target = int(entry["target"])
            published = "" if entry.get("published") is None else str(entry["published"])
        else:
            spec = str(entry).split("/", 1)[0]  # drop /tcp
            parts = spec.rsplit(":", 2)
            if len(parts) == 1:
                published, target = "", int(parts[0])
            else:
                published, target = parts[-2], int(parts[-1])
            assert "-" not in str(target), f"container port ranges are not used here: {entry!r}"
        span = host_range(published)
        bindings.append((None if span is None else range(span[0], span[1] + 1), target))
    return bindings


def database_urls() -> dict[str, str]:
    """Every *_DATABASE_URL of every service, by service."""
    found = {}
    for name, service in services().items():
        for key, value in environment(service).items():
            if key.endswith("DATABASE_URL"):
                found[f"{name}:{key}"] = value
    return found


def init_sql() -> str:
    assert INIT_SQL.is_file(), f"{INIT_SQL} is missing"
    # Drop comments, so a commented-out statement does not count.
    return re.sub(r"--[^\n]*", "", INIT_SQL.read_text(encoding="utf-8"))


# -- the compose file ---------------------------------------------------------------------------


def test_every_service_of_the_stack_is_defined():
    defined = set(services())
    missing = (set(APP_SERVICES) | set(INFRA_SERVICES)) - defined
    assert not missing, f"docker-compose.yml lacks {sorted(missing)}"


def test_no_service_pins_a_container_name():
    pinned = [name for name, service in services().items() if "container_name" in service]
    assert not pinned, f"container_name makes `--scale` impossible: {pinned}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_is_built_from_the_shared_dockerfile(name):
    service = services()[name]
    build = service.get("build")
    assert isinstance(build, dict), f"{name}: build must be a mapping with context and args"
    assert build.get("context") in (".", "./"), f"{name}: build context must be the repository root"
    assert build.get("dockerfile", "Dockerfile") == "Dockerfile"
    args = build.get("args") or {}
    if isinstance(args, list):
        args = dict(item.split("=", 1) for item in args)
    assert args.get("SERVICE") == name, f"{name}: build arg SERVICE is {args.get('SERVICE')!r}"
    assert "image" not in service or "build" in service


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_environment(name):
    env = environment(services()[name])
    prefix = name.upper()

    url = env.get(f"{prefix}_DATABASE_URL")
    assert url, f"{name}: {prefix}_DATABASE_URL is not set"
    parts = urlsplit(url)
    assert parts.scheme in ("postgresql", "postgres"), url
    assert (parts.hostname, parts.port) == ("postgres", 5432), f"{name}: database must be postgres:5432, got {url}"
    assert parts.path == f"/{name}", f"{name}: must use its own database {name!r}, got {parts.path!r}"
    assert (parts.username, parts.password) == (name, name), f"{name}: must log in as its own role, got {url}"

    assert setting(name, env, "KAFKA_BOOTSTRAP_SERVERS") == KAFKA
    assert env.get(f"{prefix}_HTTP_HOST") == "0.0.0.0", f"{name}: must listen on 0.0.0.0 in its container"
    assert setting(name, env, "HTTP_PORT") == str(APP_SERVICES[name])
    assert setting(name, env, "JWKS_URL") == JWKS_URL


def test_portal_reaches_every_service_by_its_public_api_and_keeps_only_sessions():
    portal = services()["portal"]
    assert portal["build"]["args"]["SERVICE"] == "portal"
    env = environment(portal)
    parts = urlsplit(env["PORTAL_DATABASE_URL"])
    assert (parts.hostname, parts.port, parts.path, parts.username) == ("postgres", 5432, "/portal", "portal")
    for name, port in APP_SERVICES.items():
        assert env[f"PORTAL_{name.upper()}_URL"] == f"http://{name}:{port}", f"the portal must call {name} at its service name and port"
    assert env["PORTAL_HTTP_HOST"] == "0.0.0.0" and env["PORTAL_HTTP_PORT"] == "8000"
    assert port_bindings(portal) == [(range(8000, 8001), 8000)], "the portal keeps its port 8000 on the host"
    assert ":8000/health/ready" in " ".join(portal["healthcheck"]["test"])
    assert depends_on(portal).get("postgres") == "service_healthy"


def test_notification_sends_mail_to_mailpit():
    env = environment(services()["notification"])
    assert env.get("NOTIFICATION_SMTP_HOST") == "mailpit"
    assert env.get("NOTIFICATION_SMTP_PORT") == "1025"
    assert depends_on(services()["notification"]).get("mailpit") == "service_healthy"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_waits_for_healthy_kafka_and_postgres(name):
    all_services = services()
    conditions = depends_on(all_services[name])
    for dependency in ("kafka", "postgres"):
        assert conditions.get(dependency) == "service_healthy", f"{name}: depends_on {dependency}: {conditions.get(dependency)!r}"
    for dependency, condition in conditions.items():
        assert dependency in all_services, f"{name} depends on an undefined service {dependency!r}"
        if condition == "service_healthy":
            check = all_services[dependency].get("healthcheck") or {}
            assert check.get("test") and not check.get("disable"), f"{dependency} has no healthcheck to wait for"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_healthcheck_asks_its_readiness_endpoint(name):
    check = services()[name].get("healthcheck")
    assert isinstance(check, dict) and not check.get("disable"), f"{name}: no healthcheck"
    test = check.get("test")
    assert isinstance(test, list) and test[0] in ("CMD", "CMD-SHELL"), f"{name}: healthcheck test {test!r}"
    command = " ".join(test[1:])
    assert "curl" not in command and "wget" not in command, "python:3.11-slim has neither curl nor wget"
    assert re.search(r"\bpython3?\b", command) and "urllib" in command, f"{name}: check with python's urllib: {command}"
    assert f":{APP_SERVICES[name]}/health/ready" in command, f"{name}: must call /health/ready on port {APP_SERVICES[name]}"
    for key in ("interval", "timeout", "retries"):
        assert key in check, f"{name}: healthcheck lacks {key}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_publishes_its_own_port(name):
    bindings = port_bindings(services()[name])
    assert bindings, f"{name}: publishes no port"
    assert {target for _, target in bindings} == {APP_SERVICES[name]}, f"{name}: publish the port it listens on"


@pytest.mark.parametrize("name", SCALABLE)
def test_scalable_service_ports_allow_several_replicas(name):
    for hosts, target in port_bindings(services()[name]):
        if hosts is None:
            continue  # an ephemeral host port never clashes
        assert len(hosts) >= MIN_REPLICAS, (
            f"{name}: host port(s) {hosts.start}-{hosts.stop - 1} -> {target} leave room for {len(hosts)} "
            f"replica(s); `--scale {name}={MIN_REPLICAS}` needs a block of at least {MIN_REPLICAS}"
        )


@pytest.mark.parametrize("name", SINGLE_REPLICA)
def test_single_replica_service_keeps_its_default_host_port(name):
    hosts = [hosts for hosts, _ in port_bindings(services()[name])]
    assert hosts == [range(APP_SERVICES[name], APP_SERVICES[name] + 1)], f"{name}: expected host port {APP_SERVICES[name]}"


def test_no_two_services_claim_the_same_host_port():
    claimed: dict[int, str] = {}
    for name, service in services().items():
        for hosts, _ in port_bindings(service):
            for port in hosts or ():
                assert port not in claimed, f"host port {port} is published by both {claimed[port]} and {name}"
                claimed[port] = name


def test_kafka_is_a_single_kraft_node():
    kafka = services()["kafka"]
    assert kafka.get("image") == "apache/kafka:4.1.1"
    env = environment(kafka)
    assert set(env.get("KAFKA_PROCESS_ROLES", "").split(",")) == {"broker", "controller"}
    assert env.get("KAFKA_NODE_ID") == "1"
    assert env.get("KAFKA_CONTROLLER_QUORUM_VOTERS") == "1@kafka:9093"
    assert set(env.get("KAFKA_LISTENERS", "").split(",")) == {"PLAINTEXT://:9092", "CONTROLLER://:9093"}
    assert env.get("KAFKA_ADVERTISED_LISTENERS") == f"PLAINTEXT://{KAFKA}"
    assert env.get("KAFKA_CONTROLLER_LISTENER_NAMES") == "CONTROLLER"
    for key in ("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"):
        assert env.get(key) == "1", f"{key} must be 1 on a single broker"
    test = " ".join((kafka.get("healthcheck") or {}).get("test") or [])
    assert "/opt/kafka/bin/kafka-broker-api-versions.sh" in test and "localhost:9092" in test


def test_postgres_runs_the_init_script_and_reports_health():
    postgres = services()["postgres"]
    assert str(postgres.get("image", "")).startswith("postgres:16")
    mounts = [str(volume) for volume in postgres.get("volumes") or []]
    assert any(
        volume.split(":")[0] in ("./deploy/postgres/init-databases.sql", "deploy/postgres/init-databases.sql")
        and volume.split(":")[1].startswith("/docker-entrypoint-initdb.d")
        for volume in mounts
    ), f"init-databases.sql is not mounted into /docker-entrypoint-initdb.d: {mounts}"
    assert environment(postgres).get("POSTGRES_PASSWORD"), "the postgres image refuses to start without a password"
    assert "pg_isready" in " ".join((postgres.get("healthcheck") or {}).get("test") or [])
    assert [(hosts, target) for hosts, target in port_bindings(postgres)] == [(range(5433, 5434), 5432)]


def test_mailpit_publishes_smtp_and_web_ui():
    mailpit = services()["mailpit"]
    assert str(mailpit.get("image", "")).startswith("axllent/mailpit")
    published = {target: hosts for hosts, target in port_bindings(mailpit)}
    assert published.get(1025) == range(1025, 1026) and published.get(8025) == range(8025, 8026)


# -- the databases ------------------------------------------------------------------------------


def test_every_database_in_a_database_url_is_created_by_the_init_script():
    sql = init_sql()
    databases = {
        match.lower(): owner.lower() for match, owner in re.findall(r'CREATE\s+DATABASE\s+"?(\w+)"?(?:\s+(?:WITH\s+)?OWNER\s*=?\s*"?(\w+)"?)?', sql, re.I)
    }
    roles = {name.lower(): password for name, password in re.findall(r"CREATE\s+(?:ROLE|USER)\s+\"?(\w+)\"?[^;]*?PASSWORD\s+'([^']*)'", sql, re.I)}
    urls = database_urls()
    assert len(urls) >= len(APP_SERVICES)
    for where, url in urls.items():
        parts = urlsplit(url)
        database = parts.path.lstrip("/").lower()
        assert database in databases, f"{where} names database {database!r}, which init-databases.sql does not create"
        assert parts.username and parts.username.lower() in roles, f"{where}: role {parts.username!r} is not created"
        assert roles[parts.username.lower()] == parts.password, f"{where}: the password differs from init-databases.sql"
        assert databases[database] == parts.username.lower(), f"{where}: database {database!r} must be owned by {parts.username!r}"


# -- the image ----------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    assert DOCKERFILE.is_file(), f"{DOCKERFILE} is missing"
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))  # join continued lines
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def test_dockerfile_builds_one_image_per_service_argument():
    instructions = dockerfile_instructions()
    assert any(op == "FROM" and args.split()[0] == "python:3.11-slim" for op, args in instructions)
    assert any(op == "ARG" and re.fullmatch(r"SERVICE(=.*)?", args) for op, args in instructions), "no ARG SERVICE"
    runs = " ".join(args for op, args in instructions if op == "RUN")
    assert re.search(r"pip install\s+\S*uv", runs), "uv must come from PyPI through pip"
    assert "uv sync" in runs and "--frozen" in runs and "--no-dev" in runs
    assert "COPY" in {op for op, _ in instructions}
    users = [args.strip() for op, args in instructions if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the image must run as a non-root user"
    cmd = " ".join(args for op, args in instructions if op in ("CMD", "ENTRYPOINT"))
    assert re.search(r"python\S*\s+-m\s+\\?\"?\$\{?\w*SERVICE", cmd) and "serve" in cmd, f"CMD must run the chosen service: {cmd}"
    # The service name must survive into run time (ARG values do not).
    assert any(op == "ENV" and re.search(r"\w*SERVICE\w*=\$\{?SERVICE\b", args) for op, args in instructions), (
        "ENV must carry ARG SERVICE into the running container"
    )


def test_dockerignore_keeps_local_state_out_of_the_build():
    assert DOCKERIGNORE.is_file(), f"{DOCKERIGNORE} is missing"
    patterns = {line.strip().rstrip("/") for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()}
    for required in (".venv", ".cache", ".run", ".git"):
        assert required in patterns or f"**/{required}" in patterns, f".dockerignore lacks {required}"
    assert any("__pycache__" in pattern for pattern in patterns), ".dockerignore lacks __pycache__"


# -- the compose CLI, where there is one --------------------------------------------------------


def compose_command() -> list[str] | None:
    """`docker compose` (plugin), else a standalone `docker-compose`; None if neither runs here."""
    candidates = []
    if shutil.which("docker"):
        candidates.append(["docker", "compose"])
    if shutil.which("docker-compose"):
        candidates.append(["docker-compose"])
    for command in candidates:
        try:
            probe = subprocess.run([*command, "version"], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return command
    return None


def test_compose_cli_accepts_the_file():
    command = compose_command()
    if command is None:
        pytest.skip("no compose CLI here (neither the `docker compose` plugin nor `docker-compose`)")
    try:
        result = subprocess.run([*command, "-f", str(COMPOSE_FILE), "config", "-q"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.skip(f"`{' '.join(command)} config` did not answer in time")
    if result.returncode != 0 and re.search(r"cannot connect to the docker daemon", result.stderr, re.I):
        pytest.skip(f"`{' '.join(command)} config` cannot work here: {result.stderr.strip()}")
    assert result.returncode == 0, f"`{' '.join(command)} config -q` rejected docker-compose.yml:\n{result.stderr}"
