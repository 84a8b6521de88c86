"""Who may call the recognition service's routes, and what every list answers.

Provider staff act for the organisation their token names and need `dwse_organisation_officer`
in context `platos` (E-1; the same role in another context gives nothing, ID-6). Case handlers
act for the department with `case_handler@platos`. The list of recognised providers is public.
Another organisation's application or recognition is refused and audited (the runtime's ctx.run).
"""

from __future__ import annotations

from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel

from service_runtime.auth import Principal
from service_runtime.http import Public, RightRequired, access

M = TypeVar("M", bound=BaseModel)

_PROVIDER_RULE = RightRequired(role="dwse_organisation_officer", context="platos")
_CASE_HANDLER_RULE = RightRequired(role="case_handler", context="platos")

PROVIDER = access(_PROVIDER_RULE)
CASE_HANDLER = access(_CASE_HANDLER_RULE)
PUBLIC = access(Public())


def provider_access(*problems: int) -> dict[str, Any]:
    """Provider staff, and the statuses the route's use case can answer besides 401, 403 and 422."""
    return access(_PROVIDER_RULE, problems=problems)


def case_handler_access(*problems: int) -> dict[str, Any]:
    return access(_CASE_HANDLER_RULE, problems=problems)


def organisation_of(principal: Principal) -> UUID:
    # RightRequired: the token acts for an organisation.
    assert principal.organisation_id is not None
    return principal.organisation_id
