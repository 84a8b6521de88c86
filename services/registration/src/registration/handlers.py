"""What the registration service does on its own: when identity changes an organisation (R-2) and
when a term comes (R-19, R-25). Each is a thin call into a use case; the time is the runtime's."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from registration.use_cases import back_office, organisations, register
from registration.use_cases.common import CONTACT_VERIFICATION_JOB, DECISION_TERM_JOB, INFORMATION_TERM_JOB
from service_runtime import calendar
from service_runtime.clock import current_clock
from service_runtime.projections import Organisation
from service_runtime.scheduler import Job, JobHandler
from service_runtime.service import ServiceRuntime


async def organisation_changed(connection: asyncpg.Connection, organisation: Organisation) -> None:
    """The organisations projection stored identity's change: R-2, release held applications."""
    await organisations.release_held(connection, organisation=organisation, now=current_clock().now())


async def information_term(connection: asyncpg.Connection, job: Job) -> None:
    await back_office.information_term_lapsed(connection, request_id=UUID(job.payload["request_id"]), at=job.due_at)


async def decision_term(connection: asyncpg.Connection, job: Job) -> None:
    await back_office.decision_term_near(connection, application_id=UUID(job.payload["application_id"]), at=job.due_at)


async def contact_verification(connection: asyncpg.Connection, job: Job) -> None:
    await register.verify_contacts(connection, due_at=job.due_at, ran_at=job.ran_at or job.due_at)


JOBS: dict[str, JobHandler] = {
    INFORMATION_TERM_JOB: information_term,
    DECISION_TERM_JOB: decision_term,
    CONTACT_VERIFICATION_JOB: contact_verification,
}


async def on_start(runtime: ServiceRuntime) -> None:
    """R-25: the yearly contact verification is armed from the first start on."""
    async with runtime.db().acquire() as connection, connection.transaction():
        await register.arm_contact_verification(connection, after=calendar.today(runtime.clock))
