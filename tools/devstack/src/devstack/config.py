from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

SERVICES = ("identity", "registration", "recognition", "attestation", "notification")

REPO_ROOT = Path(__file__).resolve().parents[4]

# Replicas of a service on one machine (`./dev up --replicas notification=2`): replica 1 is the
# service itself (`notification`, its usual port); replica n is `notification-n`, on the usual port
# plus 100 * (n - 1) (notification 8005, 8105, 8205 ...; registration 8002, 8102 ...), with a pid
# file and a log of its own. Nine at most, so no replica reaches the Kafka ports (9092).
MAX_REPLICAS = 9
REPLICA_PORT_STEP = 100


def replica_name(service: str, number: int) -> str:
    """`notification` for replica 1, `notification-2` for the second ..."""
    if not 1 <= number <= MAX_REPLICAS:
        raise ValueError(f"replica numbers go from 1 to {MAX_REPLICAS}, not {number}")
    return service if number == 1 else f"{service}-{number}"


def parse_replicas(text: str) -> dict[str, int]:
    """`registration=3,notification=2` -> {"registration": 3, "notification": 2}; ValueError names
    what is wrong (an unknown service, a count outside 1..MAX_REPLICAS)."""
    counts: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        service, equals, count = part.partition("=")
        service = service.strip()
        if service not in SERVICES:
            raise ValueError(f"{service!r} is not a service (one of {', '.join(SERVICES)})")
        if not equals or not count.strip().isdigit() or not 1 <= int(count) <= MAX_REPLICAS:
            raise ValueError(f"{part!r}: say how many replicas of {service}, 1 to {MAX_REPLICAS} ({service}=2)")
        counts[service] = int(count)
    return counts


def _port(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@dataclass(frozen=True)
class StackConfig:
    """Where one stack lives and listens. `dev` is what `./dev up` runs; `test` is what
    `./dev test` runs, on other ports and in another folder, so the two never meet."""

    name: str
    state_dir: Path
    kafka_port: int
    kafka_controller_port: int
    postgres_port: int
    smtp_port: int
    smtp_http_port: int
    service_ports: dict[str, int] = field(default_factory=dict)
    portal_port: int = 8000
    portal_metrics_port: int = 9464  # the portal's Prometheus metrics, apart from its pages
    jars_dir: Path = REPO_ROOT / ".cache" / "kafka-jars"

    @classmethod
    def dev(cls) -> StackConfig:
        return cls._from_environment("dev", base=0)

    @classmethod
    def test(cls) -> StackConfig:
        return cls._from_environment("test", base=10000)

    @classmethod
    def browser(cls) -> StackConfig:
        """The browser tests' whole stack (services and portal as processes), apart from the test
        stack whose Kafka the in-process runtimes use. Its ports (3025, 7433, 10000-10025, 11092) stay
        below the kernel's ephemeral range (32768-60999): a port in it can be taken for a moment as
        the local end of any outgoing connection (a CI run's browser stack found its attestation
        port, 38004, taken so while the services before it connected to Kafka)."""
        return cls._from_environment("browser", base=2000)

    @classmethod
    def bench(cls) -> StackConfig:
        return cls._from_environment("bench", base=20000)

    @classmethod
    def _from_environment(cls, name: str, *, base: int) -> StackConfig:
        """The default ports plus `base` (9092, 19092, 29092 ...), each overridable by its variable
        (WSE_KAFKA_PORT for dev, WSE_TEST_KAFKA_PORT for test ...)."""
        prefix = "WSE_" if name == "dev" else f"WSE_{name.upper()}_"
        # WSE_BROWSER_PORT_BASE=40000 moves every port of that stack at once (two runs side by side).
        base = int(os.environ.get(f"{prefix}PORT_BASE", base))

        def port(what: str, default: int) -> int:
            return int(os.environ.get(f"{prefix}{what}_PORT", default + base))

        return cls(
            name=name,
            state_dir=Path(os.environ.get(f"WSE_{name.upper()}_STATE_DIR", REPO_ROOT / ".run" / name)),
            kafka_port=port("KAFKA", 9092),
            kafka_controller_port=port("KAFKA_CONTROLLER", 9093),
            postgres_port=port("POSTGRES", 5433),
            smtp_port=port("SMTP", 1025),
            smtp_http_port=port("SMTP_HTTP", 8025),
            service_ports={s: port(s.upper(), 8001 + i) for i, s in enumerate(SERVICES)},
            portal_port=port("PORTAL", 8000),
            portal_metrics_port=port("PORTAL_METRICS", 9464),
        )

    def replica_port(self, service: str, number: int) -> int:
        replica_name(service, number)  # checks the number
        return self.service_ports[service] + REPLICA_PORT_STEP * (number - 1)

    def replica_env(self, service: str, number: int) -> dict[str, str]:
        """A replica's settings: the service's (same database, same consumer groups), its own port."""
        return {**self.service_env(service), f"{service.upper()}_HTTP_PORT": str(self.replica_port(service, number))}

    def port_variable(self, what: str) -> str:
        """The variable that moves one of this stack's ports, for error messages."""
        return ("WSE_" if self.name == "dev" else f"WSE_{self.name.upper()}_") + f"{what}_PORT"

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def pids_dir(self) -> Path:
        return self.state_dir / "pids"

    def admin_database_url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres:postgres@127.0.0.1:{self.postgres_port}/{database}"

    def database_url(self, service: str) -> str:
        # One role and one database per service; passwords are for this local cluster only.
        return f"postgresql://{service}:{service}@127.0.0.1:{self.postgres_port}/{service}"

    def service_env(self, service: str) -> dict[str, str]:
        prefix = service.upper()
        return {
            f"{prefix}_DATABASE_URL": self.database_url(service),
            f"{prefix}_HTTP_PORT": str(self.service_ports[service]),
            f"{prefix}_HTTP_HOST": "127.0.0.1",
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
            "JWKS_URL": f"http://127.0.0.1:{self.service_ports['identity']}/.well-known/jwks.json",
            "NOTIFICATION_SMTP_HOST": "127.0.0.1",
            "NOTIFICATION_SMTP_PORT": str(self.smtp_port),
            **self.clock_env(),
            **self.pii_env(),
            **self.traces_env(),
        }

    def portal_env(self) -> dict[str, str]:
        """The portal: its own database (sessions only) and the services' public addresses."""
        return {
            "PORTAL_DATABASE_URL": self.database_url("portal"),
            "PORTAL_HTTP_PORT": str(self.portal_port),
            "PORTAL_HTTP_HOST": "127.0.0.1",
            "PORTAL_METRICS_PORT": str(self.portal_metrics_port),
            "PORTAL_ENVIRONMENT": "development" if self.name == "dev" else "test",
            **{f"PORTAL_{s.upper()}_URL": f"http://127.0.0.1:{self.service_ports[s]}" for s in SERVICES},
            **({"PORTAL_TEST_PERSONS": json.dumps(_demo_persons())} if self.name == "dev" else {}),
            **self.traces_env(),
        }

    def traces_env(self) -> dict[str, str]:
        """The browser stack exports traces (OTLP over HTTP) to its mail sink, which keeps them for
        the trace test; the other stacks trace only when the caller's environment sets
        OTEL_EXPORTER_OTLP_ENDPOINT (tracing is off by default, as in production)."""
        if self.name != "browser":
            return {}
        return {
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{self.smtp_http_port}",
            "OTEL_BSP_SCHEDULE_DELAY": "200",  # spans leave within 0.2 s, so the test waits little
        }

    def pii_env(self) -> dict[str, str]:
        """The benchmarks run as production does, so national register numbers need real keys
        (service_runtime.pii): random ones, made once per stack and kept in its state directory so a
        restarted service still reads what it wrote. Development and test use the development keys."""
        if self.name in ("dev", "test", "browser"):
            return {}
        path = self.state_dir / "pii-keys.json"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            keys = {
                "PII_KEYS": "k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
                "PII_ACTIVE_KEY": "k1",
                "PII_INDEX_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
                "PII_PSEUDONYM_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            }
            path.write_text(json.dumps(keys))
            path.chmod(0o600)
        loaded: dict[str, str] = json.loads(path.read_text())
        return loaded

    def clock_env(self) -> dict[str, str]:
        """`./dev up` is a development environment whose clock testers may move (`./dev clock`); the
        test stack says it is a test environment (its clock test turns the adjustable clock on for
        the process it starts); the benchmarks run as production does."""
        if self.name == "dev":
            return {"PLATFORM_ENVIRONMENT": "development", "ADJUSTABLE_CLOCK": "true"}
        if self.name in ("test", "browser"):
            return {"PLATFORM_ENVIRONMENT": "test"}
        return {}


def _demo_persons() -> list[dict[str, str]]:
    from devstack.demo import PERSONS

    return PERSONS
