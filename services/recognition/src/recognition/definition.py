"""The recognition service's definition: what it stores, serves, consumes and publishes."""

from __future__ import annotations

from recognition import handlers
from recognition.views import ROUTES
from service_runtime.projections import OrganisationsProjection, RightsProjection
from service_runtime.service import Service
from service_runtime.settings import ServiceSettings
from wse_contracts.notification import NotificationRequestedV1
from wse_contracts.recognition import (
    ChangeReportedV1,
    ChangeReviewedV1,
    RecognitionApplicationAdmissibleV1,
    RecognitionApplicationAdvisedV1,
    RecognitionApplicationDecidedV1,
    RecognitionApplicationInadmissibleV1,
    RecognitionApplicationSubmittedV1,
    RecognitionEndedV1,
    RecognitionExaminationStartedV1,
    RecognitionGrantedV1,
    RecognitionInformationReceivedV1,
    RecognitionInformationRequestedV1,
    ReconsiderationAdvisedV1,
    ReconsiderationHearingRecordedV1,
    ReconsiderationRequestedV1,
)


class Settings(ServiceSettings):
    http_port: int = 8003


service = Service(
    name="recognition",
    description="Platos: recognition of external service providers that coach employees with an occupational disability at work.",
    migrations_package="recognition.migrations",
    settings_class=Settings,
    route_handlers=ROUTES,
    projections=[
        RightsProjection(),
        # Identity's organisations: name, enterprise number and the WSE quality registration (E-2).
        OrganisationsProjection(),
    ],
    consumers=[handlers.deliveries_consumer()],
    jobs=handlers.JOBS,
    # The running statutory term (admissibility, examination, advice) passed; counted on the work
    # queue's index (applications_queue: the same status list and deadline expression).
    overdue_queries={
        "applications": "SELECT count(*) FROM applications WHERE status IN ("
        "'submitted', 'in_examination', 'awaiting_information', 'advised', "
        "'reconsideration_requested', 'reconsideration_heard', 'reconsideration_advised') "
        "AND coalesce(deadline, 'infinity'::date) < $1"
    },
    publishes=[
        RecognitionApplicationSubmittedV1,
        RecognitionApplicationAdmissibleV1,
        RecognitionApplicationInadmissibleV1,
        RecognitionExaminationStartedV1,
        RecognitionInformationRequestedV1,
        RecognitionInformationReceivedV1,
        RecognitionApplicationAdvisedV1,
        RecognitionApplicationDecidedV1,
        ReconsiderationRequestedV1,
        ReconsiderationHearingRecordedV1,
        ReconsiderationAdvisedV1,
        RecognitionGrantedV1,
        RecognitionEndedV1,
        ChangeReportedV1,
        ChangeReviewedV1,
        NotificationRequestedV1,
    ],
)
