"""Who may call the registration service's routes, and what every list takes and answers.

Provider staff act for the organisation their token names and need `dwse_organisation_officer`
in context `training_database` (R-1); case handlers act for the department with
`case_handler@training_database`; the register is public. A dossier of another organisation is
refused and audited (the runtime's UseCases).
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from litestar.params import Parameter
from pydantic import BaseModel

from service_runtime.http import Public, RightRequired, access

M = TypeVar("M", bound=BaseModel)

_PROVIDER_RULE = RightRequired(role="dwse_organisation_officer", context="training_database")
_CASE_HANDLER_RULE = RightRequired(role="case_handler", context="training_database")

PROVIDER = access(_PROVIDER_RULE)
CASE_HANDLER = access(_CASE_HANDLER_RULE)
PUBLIC = access(Public())


def provider_access(*problems: int) -> dict[str, Any]:
    """Provider staff, and the statuses the route's use case can answer besides 401, 403 and 422."""
    return access(_PROVIDER_RULE, problems=problems)


def case_handler_access(*problems: int) -> dict[str, Any]:
    return access(_CASE_HANDLER_RULE, problems=problems)


def public_access(*problems: int) -> dict[str, Any]:
    return access(Public(), problems=problems)


OdbNumber = Annotated[str, Parameter(min_length=1, max_length=30, description="an ODB number (any case), e.g. ODB-X100001")]
