"""The registration service's definition: what it stores, serves, consumes and publishes."""

from __future__ import annotations

import asyncpg

from registration import documents, register
from registration import service as use_cases
from registration.views import ROUTES
from service_runtime.clock import current_clock, local_today
from service_runtime.consumer import Consumer
from service_runtime.projections import RightsProjection
from service_runtime.service import Service, ServiceRuntime
from service_runtime.settings import ServiceSettings
from wse_contracts import Envelope
from wse_contracts.identity import OrganisationChangedV1, OrganisationRegisteredV1
from wse_contracts.notification import NotificationRequestedV1
from wse_contracts.registration import (
    ApplicationDecidedV1,
    ApplicationForwardedV1,
    ApplicationHeldV1,
    ApplicationInadmissibleV1,
    ApplicationReleasedV1,
    ApplicationSubmittedV1,
    InformationReceivedV1,
    InformationRequestedV1,
    TrainingRegisteredV1,
    TrainingReplacedV1,
    TrainingStoppedV1,
)


class Settings(ServiceSettings):
    http_port: int = 8002
    # how long before the three-month decision term a dossier still waiting for information
    # is forwarded to the commission by itself.
    decision_warning_days: int = 14


async def _organisation_event(connection: asyncpg.Connection, envelope: Envelope) -> None:
    # Registered and changed carry the organisation's whole state: one handler for both.
    event = OrganisationChangedV1.model_validate(envelope.data)
    await use_cases.apply_organisation(connection, event=event, now=current_clock().now())


def organisations_consumer() -> Consumer:
    return Consumer(
        name="organisations",
        topics=[OrganisationRegisteredV1.topic],
        description="Keeps identity's organisations (kind, WSE quality registration) and releases held applications (R-2).",
        handlers={OrganisationRegisteredV1.event_type: _organisation_event, OrganisationChangedV1.event_type: _organisation_event},
    )


async def _start(runtime: ServiceRuntime) -> None:
    async with runtime.pool.acquire() as connection, connection.transaction():
        await use_cases.arm_contact_verification(connection, after=local_today(runtime.clock))


service = Service(
    name="registration",
    description="The ODB register: applications for trainings that give right to the Flemish training incentives.",
    migrations_package="registration.migrations",
    settings_class=Settings,
    route_handlers=[*ROUTES, *documents.ROUTES, *register.ROUTES],
    projections=[RightsProjection()],
    consumers=[organisations_consumer()],
    jobs={
        use_cases.INFORMATION_TERM_JOB: use_cases.information_term_lapsed,
        use_cases.DECISION_TERM_JOB: use_cases.decision_term_near,
        use_cases.CONTACT_VERIFICATION_JOB: use_cases.contact_verification,
    },
    publishes=[
        ApplicationSubmittedV1,
        ApplicationInadmissibleV1,
        ApplicationHeldV1,
        ApplicationReleasedV1,
        InformationRequestedV1,
        InformationReceivedV1,
        ApplicationForwardedV1,
        ApplicationDecidedV1,
        TrainingRegisteredV1,
        TrainingStoppedV1,
        TrainingReplacedV1,
        NotificationRequestedV1,
    ],
    on_start=_start,
)
