"""HTTP of the registration service, per area: parse, call a use case through the runtime's
`ctx.run`, answer. No SQL here."""

from __future__ import annotations

from registration.views.back_office import AMEND_ROUTES, BackOfficeController
from registration.views.documents import BackOfficeDocumentsController, DossierDocumentsController, ProviderDocumentsController
from registration.views.provider import SECTION_ROUTES, ProviderController
from registration.views.register import joint_committees, registered_training, search_trainings

ROUTES = [
    ProviderController,
    *SECTION_ROUTES,
    BackOfficeController,
    *AMEND_ROUTES,
    ProviderDocumentsController,
    BackOfficeDocumentsController,
    DossierDocumentsController,
    joint_committees,
    search_trainings,
    registered_training,
]
