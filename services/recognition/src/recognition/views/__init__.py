"""HTTP of the recognition service, per audience: parse, call a use case through the runtime's
`ctx.run`, answer. No SQL here."""

from __future__ import annotations

from recognition.views.back_office import BackOfficeController
from recognition.views.provider import PART_ROUTES, ProviderController
from recognition.views.public import recognised_providers

ROUTES = [ProviderController, *PART_ROUTES, BackOfficeController, recognised_providers]
