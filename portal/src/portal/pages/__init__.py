"""The portal's pages, one module per area; each area's templates are in templates/<area>/ and
its styles, if any, in static/<area>.css."""

from __future__ import annotations

from typing import Any

from portal.pages import administration, applications, attestations, department, department_more, helpdesk, platos, register, sign_in

ROUTES: list[Any] = [
    *sign_in.ROUTES,
    *administration.ROUTES,
    *applications.ROUTES,
    *register.ROUTES,
    *platos.ROUTES,
    *attestations.ROUTES,
    *department.ROUTES,
    *department_more.ROUTES,
    *helpdesk.ROUTES,
]
