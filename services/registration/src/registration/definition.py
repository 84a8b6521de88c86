"""The registration service's definition: what it stores, serves, consumes and publishes."""

from __future__ import annotations

from registration import handlers
from registration.views import ROUTES
from service_runtime.projections import OrganisationsProjection, RightsProjection
from service_runtime.service import Service
from service_runtime.settings import ServiceSettings
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


service = Service(
    name="registration",
    description="The ODB register: applications for trainings that give right to the Flemish training incentives.",
    migrations_package="registration.migrations",
    settings_class=Settings,
    route_handlers=ROUTES,
    projections=[
        RightsProjection(),
        # Identity's organisations (kind, WSE quality registration); a change releases held applications.
        OrganisationsProjection(
            on_change=handlers.organisation_changed,
            description="Keeps identity's organisations (kind, WSE quality registration) and releases held applications (R-2).",
        ),
    ],
    jobs=handlers.JOBS,
    # The decision term (three months from submission) passed on an open dossier; the
    # predicate is the work queue index's (applications_queue), so this is an index-only count.
    overdue_queries={
        "applications": "SELECT count(*) FROM applications WHERE status NOT IN ('draft', 'inadmissible', 'approved', 'rejected') AND decision_due_on < $1"
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
        TrainingReplacedV1,
        TrainingStoppedV1,
        NotificationRequestedV1,
    ],
    on_start=handlers.on_start,
)
