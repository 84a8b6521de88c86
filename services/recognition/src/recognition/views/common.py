"""Who may call the recognition service's routes, and what every list answers.

Provider staff act for the organisation their token names and need `dwse_organisation_officer`
in context `platos` (E-1; the same role in another context gives nothing, ID-6). Case handlers
act for the department with `case_handler@platos`. The list of recognised providers is public.
Another organisation's application or recognition is refused and audited (the runtime's ctx.run).
"""

from __future__ import annotations

import typing
from typing import Any, TypeVar
from uuid import UUID

from litestar import Request
from litestar.exceptions import ClientException
from pydantic import BaseModel, ValidationError

from recognition.views.schemas import pick
from service_runtime.api import Page
from service_runtime.auth import Principal
from service_runtime.errors import Invalid, Violation
from service_runtime.http import Public, RightRequired, access, problem_for, rule_of_field

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


def page_of(model: type[M], found: dict[str, Any]) -> Page[M]:
    """A use case's page as the answer: each item exactly the model's fields."""
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
    Pydantic as Python objects, and Pydantic's Python mode is lax: 0 would be false, a number of
    seconds a date, "40" a capacity. Refused here field by field (422, with the field's rule), as
    Litestar would name them. A body that is no JSON is a 400 here too (Litestar's decoder fails
    with a 500 on bytes that are not UTF-8); a missing one is left to Litestar (422 on `body`)."""
    model = _body_model(request.route_handler)
    if model is None:
        return
    raw = await request.body()
    if not raw:
        return
    try:
        model.model_validate_json(raw, strict=True)
    except ValidationError as error:
        errors = error.errors()
        if invalid := next((e for e in errors if e["type"] == "json_invalid"), None):
            reason = str(invalid.get("ctx", {}).get("error") or invalid["msg"])
            raise ClientException(f"The body is not valid JSON ({reason}).") from None
        violations = []
        for e in errors:
            field = ".".join(str(part) for part in e["loc"]) or "body"
            reason = "the body must be a JSON object" if e["type"] == "model_type" and not e["loc"] else e["msg"]
            violations.append(Violation(field, reason, rule_of_field(model, field)))
        raise problem_for(Invalid.of(violations)) from None
