"""What the attestation service does on its own: registration's trainings (and the held
attestations they release) and identity's persons (who a citizen is as a student)."""

from __future__ import annotations

import asyncpg

from attestation.use_cases import register
from service_runtime import pii
from service_runtime.clock import current_clock
from service_runtime.consumer import Consumer
from service_runtime.service import ServiceRuntime
from wse_contracts import Envelope
from wse_contracts.identity import PersonRegisteredV1
from wse_contracts.registration import TrainingRegisteredV1, TrainingReplacedV1, TrainingStoppedV1


async def registered(connection: asyncpg.Connection, envelope: Envelope) -> None:
    await register.training_registered(connection, TrainingRegisteredV1.model_validate(envelope.data), now=current_clock().now())


async def stopped(connection: asyncpg.Connection, envelope: Envelope) -> None:
    await register.training_stopped(connection, TrainingStoppedV1.model_validate(envelope.data))


async def replaced(connection: asyncpg.Connection, envelope: Envelope) -> None:
    await register.training_replaced(connection, TrainingReplacedV1.model_validate(envelope.data))


def trainings_consumer() -> Consumer:
    return Consumer(
        name="trainings",
        topics=[TrainingRegisteredV1.topic],
        handlers={TrainingRegisteredV1.event_type: registered, TrainingStoppedV1.event_type: stopped, TrainingReplacedV1.event_type: replaced},
        description="Registration's trainings (holds-from and stop dates, replacement, modules): the register attestations are checked against; held attestations are judged when their training arrives.",
    )


async def person_registered(connection: asyncpg.Connection, envelope: Envelope) -> None:
    event = PersonRegisteredV1.model_validate(envelope.data)
    await connection.execute(
        """
        INSERT INTO persons_projection (person_id, student_id) VALUES ($1, $2)
        ON CONFLICT (person_id) DO UPDATE SET student_id = EXCLUDED.student_id, updated_at = now()
        """,
        event.person_id,
        event.student_id,
    )


def persons_consumer() -> Consumer:
    return Consumer(
        name="persons",
        topics=[PersonRegisteredV1.topic],
        handlers={PersonRegisteredV1.event_type: person_registered},
        description="Identity's persons with their student pseudonym: a signed-in citizen's own attestations (ID-10).",
    )


async def on_start(runtime: ServiceRuntime) -> None:
    """The keys that protect national register numbers are read at start: missing ones stop it
    here, naming the setting, instead of failing the first request."""
    pii.keys_for(runtime.settings)
