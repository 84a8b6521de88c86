"""HTTP of the attestation service, per audience: parse, call a use case through `ctx.run`, answer."""

from __future__ import annotations

from attestation.views.back_office import BackOfficeController
from attestation.views.bulk import BulkController
from attestation.views.citizen import my_training_leave
from attestation.views.provider import ProviderController

ROUTES = [ProviderController, BulkController, BackOfficeController, my_training_leave]
