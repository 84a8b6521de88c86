"""A service definition, and the process it becomes.

Every service is the same shape: `Service(...)` names its migrations, HTTP routes, consumers,
scheduled jobs and the events it publishes; `ServiceRuntime` owns the database pool, the Kafka
broker, the outbox relay and the scheduler, and starts and stops them with the HTTP app
(Litestar owns the process; the broker lives in its lifespan).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import structlog
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from litestar import Litestar, Router, get
from litestar.middleware import DefineMiddleware
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, ScalarRenderPlugin
from litestar.plugins.prometheus import PrometheusController
from litestar.response import Response
from prometheus_client import Gauge

from service_runtime import calendar, tracing
from service_runtime.asyncapi import complete_asyncapi
from service_runtime.auth import JwksKeys, KeySource, TokenVerifier
from service_runtime.clock import AdjustableClock, Clock, SystemClock, enable_offset_in_logs, format_offset
from service_runtime.clock_control import ClockFollower
from service_runtime.consumer import Consumer, ConsumerRunner, RetryPolicy
from service_runtime.db import connect, create_pool, server_settings
from service_runtime.housekeeping import HOUSEKEEPING_JOB, arm_housekeeping, housekeeping
from service_runtime.http import DEPENDENCIES, EXCEPTION_HANDLERS, Public, RequestMiddleware, RightRequired, access, access_guard
from service_runtime.migrations import Migration, apply_migrations, discover
from service_runtime.openapi import complete_openapi
from service_runtime.outbox import OutboxRelay, ensure_topics
from service_runtime.projections import Projection, RightsProjection
from service_runtime.scheduler import JobHandler, Scheduler
from service_runtime.settings import ServiceSettings, load_settings
from wse_contracts import TOPICS, Event
from wse_contracts.topics import dead_letter_topic

log = structlog.get_logger(__name__)

READY = Gauge("service_ready", "1 when the last readiness check found the database and Kafka reachable, else 0.", ["service"])
OVERDUE = Gauge(
    "work_queue_overdue",
    "Cases in a work queue whose statutory deadline has passed (before today, Brussels time, by the service's clock).",
    ["service", "queue"],
)
# How often the work queues' overdue counts are refreshed (one indexed COUNT per queue).
OVERDUE_REFRESH_SECONDS = 60.0
READY_CHECK = Gauge("service_ready_check", "The last readiness check, by dependency: 1 reachable, 0 not.", ["service", "check"])


@dataclass
class Service:
    name: str
    description: str
    migrations_package: str | None = None
    route_handlers: list[Any] = field(default_factory=list)
    # Local copies of identity's data this service keeps (rights, organisations), each fed by its consumer.
    projections: list[Projection] = field(default_factory=list)
    consumers: list[Consumer] = field(default_factory=list)
    jobs: dict[str, JobHandler] = field(default_factory=dict)
    # Jobs that need the running runtime (its settings, a client it holds): built at start.
    runtime_jobs: Callable[[ServiceRuntime], dict[str, JobHandler]] | None = None
    publishes: list[type[Event]] = field(default_factory=list)
    settings_class: type[ServiceSettings] = ServiceSettings
    version: str = "0.1.0"
    # Commands of this service beside serve/migrate/...: name -> (help, async fn(runtime, argv) -> exit code).
    commands: dict[str, tuple[str, Callable[[ServiceRuntime, list[str]], Awaitable[int]]]] = field(default_factory=dict)
    # Where token signing keys come from; default: the identity service's JWKS over HTTP.
    # (The identity service reads its own keys from its database.)
    signing_keys: Callable[[ServiceRuntime], KeySource] | None = None
    # Called with the running runtime after start, before requests are served.
    on_start: Callable[[ServiceRuntime], Awaitable[None]] | None = None
    # Called before the runtime stops its pool (close what on_start opened).
    on_stop: Callable[[ServiceRuntime], Awaitable[None]] | None = None
    # Work queues with statutory deadlines: queue name -> a query counting the cases overdue on
    # date $1 (today). Exported as work_queue_overdue, refreshed every minute; keep each one on an index.
    overdue_queries: dict[str, str] = field(default_factory=dict)

    def all_consumers(self) -> list[Consumer]:
        """The projections' consumers, then the service's own."""
        return [projection.consumer() for projection in self.projections] + list(self.consumers)

    def mounts(self, projection: type) -> bool:
        return any(isinstance(p, projection) for p in self.projections)

    def load_settings(self, **overrides: Any) -> ServiceSettings:
        return load_settings(self.name, self.settings_class, **overrides)

    def migrations(self) -> list[Migration]:
        found = discover("runtime", "service_runtime.sql")
        if self.migrations_package:
            found += discover(self.name, self.migrations_package)
        return found

    def runtime(self, settings: ServiceSettings | None = None, *, clock: Clock | None = None) -> ServiceRuntime:
        return ServiceRuntime(self, settings or self.load_settings(), clock=clock or SystemClock())


class ServiceRuntime:
    def __init__(self, service: Service, settings: ServiceSettings, *, clock: Clock) -> None:
        self.service = service
        self.settings = settings
        # Outside production an operator may move the environment's clock (clock_control); the
        # settings refuse ADJUSTABLE_CLOCK in production.
        self.adjustable_clock = AdjustableClock(base=clock) if settings.adjustable_clock else None
        self.clock: Clock = self.adjustable_clock or clock
        self.clock_follower: ClockFollower | None = None
        if self.adjustable_clock:
            enable_offset_in_logs()
        self.pool: asyncpg.Pool | None = None
        keys = (
            service.signing_keys(self)
            if service.signing_keys
            else JwksKeys(settings.jwks_url, cache_seconds=settings.jwks_cache_seconds, min_refresh_seconds=settings.jwks_min_refresh_seconds)
        )
        self.key_source = keys
        self.token_verifier = TokenVerifier(keys, issuer=settings.token_issuer, audience=settings.token_audience)
        # What a service's own start hook sets up for its views (ctx.runtime.extensions).
        self.extensions: dict[str, Any] = {}
        self.broker = KafkaBroker(
            settings.kafka_bootstrap_servers,
            client_id=service.name,
            graceful_timeout=settings.graceful_shutdown_seconds,
            logger=structlog.get_logger("faststream"),
        )
        self.runners: list[ConsumerRunner] = []
        self.relay: OutboxRelay | None = None
        self.scheduler: Scheduler | None = None
        self._overdue_task: asyncio.Task[None] | None = None
        self._declare_publishers()

    # -- Kafka side ---------------------------------------------------------------------------

    def _declare_publishers(self) -> None:
        # Publishing goes through the outbox relay; these declarations put the events in the
        # AsyncAPI document with their schemas.
        for event in self.service.publishes:
            self.broker.publisher(event.topic, title=event.event_type, schema=event, description=(event.__doc__ or "").strip() or None)

    def asyncapi(self) -> dict[str, Any]:
        # Subscribers are declared without a pool: the document needs their topics, not a database.
        if not self.runners:
            self.declare_consumers(pool=None)
        spec = AsyncAPI(self.broker, title=f"WSE {self.service.name} service", version=self.service.version, description=self.service.description)
        document: dict[str, Any] = spec.to_specification().to_jsonable()
        return complete_asyncapi(document, self)

    def declare_consumers(self, pool: asyncpg.Pool | None) -> None:
        retry = RetryPolicy(
            max_attempts=self.settings.consumer_max_attempts,
            initial_seconds=self.settings.consumer_backoff_initial_seconds,
            max_seconds=self.settings.consumer_backoff_max_seconds,
        )
        for consumer in self.service.all_consumers():
            runner = ConsumerRunner(
                consumer=consumer, service=self.service.name, pool=pool, retry=retry, clock=self.clock, group_prefix=self.settings.consumer_group_prefix
            )
            runner.subscribe(
                self.broker,
                max_records=self.settings.consumer_max_batch,
                batch_timeout_ms=self.settings.consumer_batch_timeout_ms,
                session_timeout_ms=self.settings.consumer_session_timeout_ms,
                heartbeat_interval_ms=self.settings.consumer_heartbeat_interval_ms,
            )
            self.runners.append(runner)

    def topics_to_create(self) -> dict[str, int]:
        topics = {dead_letter_topic(self.service.name): 1}
        for event in self.service.publishes:
            topics[event.topic] = TOPICS[event.topic].partitions
        for consumer in self.service.all_consumers():
            for name in consumer.topics:
                if name in TOPICS:
                    topics[name] = TOPICS[name].partitions
        return topics

    # -- lifecycle ----------------------------------------------------------------------------

    def db(self) -> asyncpg.Pool:
        """The database pool of the running service."""
        if self.pool is None:
            raise RuntimeError(f"the {self.service.name} service is not started: it has no database pool yet")
        return self.pool

    async def connect(self) -> asyncpg.Connection:
        """One connection of this service outside the pool (commands, listeners); close it after use."""
        return await connect(self.settings.database_url, service=self.service.name)

    async def migrate(self) -> list[str]:
        connection = await asyncpg.connect(self.settings.database_url, server_settings=server_settings(f"{self.service.name}-migrations"))
        try:
            return await apply_migrations(connection, self.service.migrations())
        finally:
            await connection.close()

    async def start(self) -> None:
        settings = self.settings
        if self.adjustable_clock:
            # Before anything judges time: a service never serves on the wrong day.
            self.clock_follower = ClockFollower(self.adjustable_clock, bootstrap_servers=settings.kafka_bootstrap_servers, on_change=self._clock_moved)
            await self.clock_follower.start()
        if settings.migrate_on_start:
            await self.migrate()
        self.pool = await create_pool(
            settings.database_url, service=self.service.name, min_size=settings.database_pool_min, max_size=settings.database_pool_max
        )
        await ensure_topics(settings.kafka_bootstrap_servers, self.topics_to_create(), replication_factor=settings.kafka_topic_replication_factor)
        self.declare_consumers(self.pool)
        await self.broker.start()
        self.relay = OutboxRelay(
            pool=self.pool,
            database_url=settings.database_url,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            service=self.service.name,
            batch_size=settings.outbox_batch_size,
            poll_seconds=settings.outbox_poll_seconds,
        )
        await self.relay.start()
        jobs = {
            **self.service.jobs,
            **(self.service.runtime_jobs(self) if self.service.runtime_jobs else {}),
            HOUSEKEEPING_JOB: housekeeping(outbox_retention_hours=settings.outbox_retention_hours, inbox_retention_days=settings.inbox_retention_days),
        }
        async with self.pool.acquire() as connection:
            await arm_housekeeping(connection, now=self.clock.now())
        self.scheduler = Scheduler(pool=self.pool, handlers=jobs, clock=self.clock, poll_seconds=settings.scheduler_poll_seconds)
        await self.scheduler.start()
        if self.service.overdue_queries:
            for queue in self.service.overdue_queries:
                OVERDUE.labels(self.service.name, queue)
            self._overdue_task = asyncio.create_task(self._refresh_overdue_forever(), name=f"{self.service.name}-work-queue-overdue")
        if self.service.on_start:
            await self.service.on_start(self)
        log.info("service started", http=f"http://{settings.http_host}:{settings.http_port}")

    async def refresh_overdue(self) -> dict[str, int]:
        """work_queue_overdue now: each queue's count of cases past their statutory deadline."""
        today = calendar.today(self.clock)
        counts = {}
        async with self.db().acquire() as connection:
            for queue, query in self.service.overdue_queries.items():
                counts[queue] = int(await connection.fetchval(query, today))
                OVERDUE.labels(self.service.name, queue).set(counts[queue])
        return counts

    async def _refresh_overdue_forever(self) -> None:
        while True:
            try:
                await self.refresh_overdue()
            except Exception as error:
                log.warning("could not count the overdue cases of the work queues", error=repr(error))
            await asyncio.sleep(OVERDUE_REFRESH_SECONDS)

    def _clock_moved(self) -> None:
        # Jobs that became due run now, not at the next poll.
        if self.scheduler:
            self.scheduler.wake()

    async def stop(self) -> None:
        # Stop taking new work first (consumers finish their batch), then flush what is left.
        if self.clock_follower:
            await self.clock_follower.stop()
        with contextlib.suppress(Exception):
            await self.broker.stop()
        if self.scheduler:
            await self.scheduler.stop()
        if self._overdue_task:
            self._overdue_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._overdue_task
            self._overdue_task = None
        if self.service.on_stop:
            with contextlib.suppress(Exception):
                await self.service.on_stop(self)
        if self.relay:
            await self.relay.stop()
        if self.pool:
            await self.pool.close()
        log.info("service stopped")

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: Litestar) -> AsyncIterator[None]:
        try:
            await self.start()
            yield
        finally:
            await self.stop()  # also after a start that failed half-way

    async def readiness(self) -> dict[str, bool]:
        database = kafka = False
        if self.pool is not None:
            with contextlib.suppress(Exception):
                async with self.pool.acquire(timeout=2) as connection:
                    database = await connection.fetchval("SELECT true", timeout=2)
        with contextlib.suppress(Exception):
            kafka = await self.broker.ping(timeout=2)
        checks = {"database": bool(database), "kafka": bool(kafka)}
        for name, ok in checks.items():
            READY_CHECK.labels(self.service.name, name).set(1 if ok else 0)
        READY.labels(self.service.name).set(1 if all(checks.values()) else 0)
        return checks

    # -- HTTP side ----------------------------------------------------------------------------

    def app(self) -> Litestar:
        runtime = self

        @get("/health/live", opt=access(Public()), include_in_schema=False, sync_to_thread=False)
        def live() -> dict[str, str]:
            return {"status": "live"}

        @get("/health/ready", opt=access(Public()), include_in_schema=False)
        async def ready() -> Response[dict[str, Any]]:
            checks = await runtime.readiness()
            ok = all(checks.values())
            body: dict[str, Any] = {"status": "ready" if ok else "not ready", "checks": checks}
            if runtime.adjustable_clock:
                # Testers and operators see at a glance that this environment does not run on real time.
                offset = runtime.adjustable_clock.offset
                body["clock"] = {
                    "adjustable": True,
                    "offset": format_offset(offset),
                    "offset_seconds": offset.total_seconds(),
                    "now": runtime.clock.now().isoformat(),
                }
            return Response(body, status_code=200 if ok else 503)

        class Metrics(PrometheusController):
            path = "/metrics"
            opt = access(Public())
            include_in_schema = False

        app = Litestar(
            route_handlers=[live, ready, Metrics, *self.service.route_handlers],
            middleware=[*tracing.middleware(), DefineMiddleware(RequestMiddleware, app_name=self.service.name)],
            guards=[access_guard],
            dependencies=DEPENDENCIES,
            exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
            lifespan=[self.lifespan],
            request_max_body_size=self.settings.request_max_body_bytes,
            # The API's description is public; like every route it says so explicitly.
            openapi_config=OpenAPIConfig(
                title=f"WSE {self.service.name} service",
                version=self.service.version,
                description=self.service.description,
                openapi_router=Router(path="/schema", route_handlers=[], opt=access(Public()), include_in_schema=False),
                render_plugins=[ScalarRenderPlugin(), JsonRenderPlugin()],
            ),
            debug=False,
            logging_config=None,  # logs are configured once, by configure_logging (JSON, masked)
        )
        app.state.runtime = self
        self._check_projections(app)
        complete_openapi(app, service=self.service.name)  # the contract portals build on; an error in it stops the start
        return app

    def _check_projections(self, app: Litestar) -> None:
        """A RightRequired route is answered from the rights projection: without it mounted, it
        would answer 403 forever, silently. Refuse to start instead."""
        if self.service.mounts(RightsProjection):
            return
        for route in app.routes:
            for handler in getattr(route, "route_handlers", []):
                if isinstance(handler.opt.get("access"), RightRequired):
                    raise ServiceDefinitionError(
                        f"{self.service.name}: route {sorted(handler.http_methods)} {route.path} requires a right, "
                        "but the service mounts no RightsProjection (Service(projections=[RightsProjection(), ...]))"
                    )


class ServiceDefinitionError(RuntimeError):
    """A Service(...) that cannot work as declared; raised at start, never at the first request."""
