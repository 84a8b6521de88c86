"""Who may call the attestation service's routes.

Provider staff act for their organisation with `dwse_organisation_officer` in context
`training_database` or `training_leave` (A-1; the refusal names the right and how to request it,
ID-8). The department acts with `case_handler@training_leave`. A citizen sees their own (ID-10).
"""

from __future__ import annotations

import typing
from typing import Any, TypeVar
from uuid import UUID

from litestar import Request
from litestar.exceptions import ClientException
from pydantic import BaseModel, ValidationError

from attestation.views.schemas import pick
from service_runtime import pii
from service_runtime.api import Page
from service_runtime.auth import Principal
from service_runtime.errors import Invalid, Violation
from service_runtime.http import RightRequired, SignedIn, access, problem_for, rule_of_field
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


def page_of(model: type[M], found: dict[str, Any]) -> Page[M]:
    return Page[model](items=[pick(model, item) for item in found["items"]], next_cursor=found["next_cursor"])  # type: ignore[valid-type]  # the runtime's generic page, parametrised at run time


_BODY_MODELS: dict[int, type[BaseModel] | None] = {}


def _body_model(handler: Any) -> type[BaseModel] | None:
    """The Pydantic model a route handler takes as its JSON body (`data`), or None."""
    key = id(handler)
    if key not in _BODY_MODELS:
        model = typing.get_type_hints(handler.fn).get("data")
        _BODY_MODELS[key] = model if isinstance(model, type) and issubclass(model, BaseModel) else None
    return _BODY_MODELS[key]


async def strict_json_body(request: Request[Any, Any, Any]) -> None:
    """`before_request` of the routes that take a JSON body: the body is read as JSON, strictly, so
    that it is what the OpenAPI document says and nothing else. Litestar hands the decoded body to
    Pydantic as Python objects, and Pydantic's Python mode is lax: 0 would be a date (1970-01-01),
    1 true, a number a reference. Refused here field by field (422, with the field's rule), as
    Litestar would name them. A body that is no JSON is a 400 here too (Litestar's decoder fails
    with a 500 on bytes that are not UTF-8); a missing one is left to Litestar (422 on `body`).
    No reason repeats what was sent (Pydantic's messages do not): a national register number
    never comes back in an error."""
    model = _body_model(request.route_handler)
    if model is None:
        return
    raw = await request.body()
    if not raw:
        return
    try:
        model.model_validate_json(raw, strict=True)
    except ValidationError as error:
        errors = error.errors(include_input=False, include_url=False)
        if invalid := next((e for e in errors if e["type"] == "json_invalid"), None):
            reason = str(invalid.get("ctx", {}).get("error") or invalid["msg"])
            raise ClientException(f"The body is not valid JSON ({reason}).") from None
        violations = []
        for e in errors:
            field = ".".join(str(part) for part in e["loc"]) or "body"
            reason = "the body must be a JSON object" if e["type"] == "model_type" and not e["loc"] else e["msg"]
            violations.append(Violation(field, reason, rule_of_field(model, field)))
        raise problem_for(Invalid.of(violations)) from None
