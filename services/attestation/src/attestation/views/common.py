"""Who may call the attestation service's routes.

Provider staff act for their organisation with `dwse_organisation_officer` in context
`training_database` or `training_leave` (A-1; the refusal names the right and how to request it,
ID-8). The department acts with `case_handler@training_leave`. A citizen sees their own (ID-10).
"""

from __future__ import annotations

from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel

from service_runtime import pii
from service_runtime.auth import Principal
from service_runtime.http import RightRequired, SignedIn, access
from service_runtime.settings import ServiceSettings

M = TypeVar("M", bound=BaseModel)

# An ODB number as a filter: what the forms take (attestation.views.schemas.OdbNumber).
ODB_FILTER_PATTERN = r"^[Oo][Dd][Bb]-[A-Za-z]?[0-9]{1,20}$"

_PROVIDER_RULE = RightRequired(role="dwse_organisation_officer", context="training_database", or_contexts=("training_leave",))
_DEPARTMENT_RULE = RightRequired(role="case_handler", context="training_leave")


def provider_access(*problems: int) -> dict[str, Any]:
    return access(_PROVIDER_RULE, problems=problems)


def department_access(*problems: int) -> dict[str, Any]:
    return access(_DEPARTMENT_RULE, problems=problems)


CITIZEN = access(SignedIn())


def keys_of(settings: ServiceSettings) -> pii.PiiKeys:
    """The service's PII keys (read once from its settings)."""
    return pii.keys_for(settings)


def organisation_of(principal: Principal) -> UUID:
    assert principal.organisation_id is not None  # RightRequired: the token acts for an organisation
    return principal.organisation_id
