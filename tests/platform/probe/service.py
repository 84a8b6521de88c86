from __future__ import annotations

import asyncio
import os
from typing import Any

import asyncpg
from litestar import get, post

from service_runtime.consumer import Consumer
from service_runtime.http import Context, Public, RightRequired, SignedIn, access
from service_runtime.logging import correlation_id_var
from service_runtime.outbox import add_to_outbox, event_source
from service_runtime.projections import RightsProjection
from service_runtime.scheduler import Job
from service_runtime.service import Service
from service_runtime.settings import ServiceSettings
from wse_contracts import Envelope, StrictModel, new_envelope

TOPIC = os.environ.get("PROBE_TOPIC", "probe.events")
ROLES = set(os.environ.get("PROBE_ROLES", "producer,consumer,scheduler").split(","))
EVENT_TYPE = "be.vlaanderen.wse.probe.happened.v1"


class ProbeEvents(StrictModel):
    aggregate: str
    first_seq: int = 0
    count: int = 1
    poison: bool = False
    slow_seconds: float = 0.0


@post("/probe/events", opt=access(Public()), status_code=201)
async def write_events(data: ProbeEvents, ctx: Context) -> dict[str, Any]:
    ids = []
    async with ctx.pool.acquire() as connection, connection.transaction():
        for seq in range(data.first_seq, data.first_seq + data.count):
            envelope = new_envelope(
                source=event_source(connection),
                type=EVENT_TYPE,
                subject=data.aggregate,
                data={"aggregate": data.aggregate, "seq": seq, "poison": data.poison, "slow_seconds": data.slow_seconds},
                correlation_id=correlation_id_var.get() or "none",
            )
            await add_to_outbox(connection, envelope, topic=TOPIC)
            ids.append(envelope.id)
    return {"event_ids": ids}


@get("/probe/effects", opt=access(Public()))
async def effects(ctx: Context) -> list[dict[str, Any]]:
    async with ctx.pool.acquire() as connection:
        return [dict(r) for r in await connection.fetch("SELECT event_id, aggregate, seq, correlation_id FROM probe_effects ORDER BY id")]


@get("/probe/undeclared")
async def undeclared() -> dict[str, str]:
    """A route whose author forgot the access rule: it must not be reachable."""
    return {"reached": "yes"}


@get("/probe/me", opt=access(SignedIn()))
async def me(ctx: Context) -> dict[str, Any]:
    return {"person_id": str(ctx.principal.person_id)}


@get("/probe/officer", opt=access(RightRequired("dwse_organisation_officer", "training_database")))
async def officer_only(ctx: Context) -> dict[str, Any]:
    return {"organisation_id": str(ctx.principal.organisation_id)}


async def record_effect(connection: asyncpg.Connection, envelope: Envelope) -> None:
    data = envelope.data
    if data.get("poison") and not await connection.fetchval("SELECT 1 FROM probe_cures WHERE event_id = $1", envelope.id):
        raise RuntimeError(f"poison event {data['aggregate']}/{data['seq']}")
    await connection.execute(
        "INSERT INTO probe_effects (event_id, aggregate, seq, correlation_id, handled_by) VALUES ($1, $2, $3, $4, $5)",
        envelope.id,
        data["aggregate"],
        data["seq"],
        envelope.correlationid,
        os.getpid(),
    )
    if data.get("slow_seconds"):
        await asyncio.sleep(data["slow_seconds"])


async def run_probe_job(connection: asyncpg.Connection, job: Job) -> None:
    await connection.execute("INSERT INTO probe_job_runs (job_id, runner) VALUES ($1, $2)", job.id, os.getpid())
    await asyncio.sleep(0.01)  # long enough for the other replica to try the same row


class Settings(ServiceSettings):
    http_port: int = 18099
    consumer_max_attempts: int = 3
    consumer_backoff_initial_seconds: float = 0.05
    scheduler_poll_seconds: float = 0.05


service = Service(
    name="probe",
    description="Test service of the platform tests.",
    migrations_package="tests.platform.probe.migrations",
    settings_class=Settings,
    # A RightRequired route needs the rights projection (the runtime refuses to start without it).
    route_handlers=[write_events, effects, undeclared, me, *([officer_only] if "rights" in ROLES else [])],
    projections=[RightsProjection()] if "rights" in ROLES else [],
    consumers=[Consumer(name="effects", topics=[TOPIC], handlers={EVENT_TYPE: record_effect})] if "consumer" in ROLES else [],
    jobs={"probe.job": run_probe_job} if "scheduler" in ROLES else {},
)
