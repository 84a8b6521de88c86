"""Who may call the attestation service's routes.

Provider staff act for their organisation with `dwse_organisation_officer` in context
`training_database` or `training_leave` (A-1; the refusal names the right and how to request it,
ID-8). The department acts with `case_handler@training_leave`. A citizen sees their own (ID-10).
"""

from __future__ import annotations

from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel

from attestation.views.schemas import pick
from service_runtime import pii
from service_runtime.api import Page
from service_runtime.auth import Principal
from service_runtime.http import RightRequired, SignedIn, access
from service_runtime.settings import ServiceSettings

M = TypeVar("M", bound=BaseModel)

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


def page_of(model: type[M], found: dict[str, Any]) -> Page[M]:
    return Page[model](items=[pick(model, item) for item in found["items"]], next_cursor=found["next_cursor"])  # type: ignore[valid-type]  # the runtime's generic page, parametrised at run time
