"""The OpenAPI document as the contract portals build on: what the runtime knows about every route
is written into the document Litestar generates, once, when the app is built.

- Every error is `application/problem+json` with the one `Problem` schema: 401 and 403 where the
  route's access rule needs a token, 422 where it takes parameters or a body, 413 where it takes a
  body and 400 where that body is JSON (and is not), and what the route declares
  (`access(rule, problems=(404, 409))`). Litestar's own `400 {status_code, detail, extra}` goes.
- `securitySchemes` names the platform token (a bearer JWT from the identity service); each
  operation says whether it needs one (`security: []` for public ones).
- Request models that refuse unknown fields (StrictModel) say so: `additionalProperties: false`.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.routes import HTTPRoute
from pydantic import BaseModel

from service_runtime.api import Problem
from service_runtime.http import PROBLEM_JSON, Public, RightRequired, SignedIn, title_of

SECURITY_SCHEME = "platformToken"
_COMPONENT_REF = "#/components/schemas/{model}"
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

# Why a status can come back, for the document's readers.
_WHY = {
    400: "The body is not valid JSON.",
    401: "No platform token, or one that is not valid (expired, another audience, an unknown key).",
    403: "The caller may not do this (a missing right, another organisation); the refusal is audited.",
    404: "Not found (or not the caller's to see).",
    409: "The thing is not in a state that allows this.",
    413: "The request body is larger than this service accepts.",
    422: "A parameter or field is not valid: `errors` names each one, with the reason and the rule.",
    429: "Too many requests: wait for the number of seconds in Retry-After.",
    503: "The service could not answer in time; try again.",
}
_HEADERS = {
    401: {"WWW-Authenticate": {"description": 'Bearer realm="wse", with error="invalid_token" when a token came', "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}},
}


def _problem_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": f"{title_of(status)}. {_WHY.get(status, HTTPStatus(status).description)}",
        "content": {PROBLEM_JSON: {"schema": _PROBLEM_REF}},
    }
    if status in _HEADERS:
        response["headers"] = _HEADERS[status]
    return response


def _is_litestar_default_error(response: dict[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return "status_code" in schema.get("properties", {})


def _pydantic_models_by_name(service: str | None = None) -> dict[str, list[type[BaseModel]]]:
    """Pydantic models by class name; where several share a name (several services imported in
    one process, as in the tests), the service's own is the one meant."""
    found: dict[str, list[type[BaseModel]]] = {}
    stack: list[type[BaseModel]] = [BaseModel]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if sub.__pydantic_generic_metadata__["origin"] is None:  # Page[X] is named differently by each generator
                found.setdefault(sub.__name__, []).append(sub)
    if service:
        for name, models in found.items():
            own = [m for m in models if m.__module__.split(".")[0] == service]
            if len(models) > 1 and len(own) == 1:
                found[name] = own
    return found


def _use_pydantic_schemas(schemas: dict[str, Any], service: str | None) -> None:
    """Litestar writes its own schemas for Pydantic models and drops some of their constraints
    (patterns, decimal bounds, lengths inside optional types); Pydantic's own JSON Schema has them
    all, and `additionalProperties: false` where unknown fields are refused. Each component named
    after exactly one Pydantic model gets Pydantic's schema, and the models it refers to theirs."""
    models = _pydantic_models_by_name(service)
    pending = [name for name in schemas if len(models.get(name, ())) == 1]
    done: set[str] = set()
    while pending:
        name = pending.pop()
        if name in done:
            continue
        done.add(name)
        schema = models[name][0].model_json_schema(ref_template=_COMPONENT_REF)
        for referred, definition in schema.pop("$defs", {}).items():
            if len(models.get(referred, ())) == 1:
                pending.append(referred)  # its own schema, generated whole (with its own $defs)
            elif referred not in schemas:
                schemas[referred] = definition  # an enum or a generic: Pydantic's is the one there is
        schemas[name] = schema


def _strict_model_names() -> set[str]:
    """Names of the Pydantic models that refuse unknown fields (every name shared by several models must refuse them in all)."""
    seen: dict[str, bool] = {}
    stack: list[type[BaseModel]] = [BaseModel]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            stack.append(sub)
            forbids = sub.model_config.get("extra") == "forbid"
            seen[sub.__name__] = seen.get(sub.__name__, True) and forbids
    return {name for name, forbids in seen.items() if forbids}


def complete_openapi(app: Litestar, *, service: str | None = None) -> dict[str, Any]:
    """Build the app's OpenAPI document now (an error in it stops the start) and complete it in place."""
    document: dict[str, Any] = app.plugins.get(OpenAPIPlugin).provide_openapi_schema()
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    _use_pydantic_schemas(schemas, service)
    # The one problem document (by its own model: another module may have a model of that name).
    problem_schema = Problem.model_json_schema(ref_template=_COMPONENT_REF)
    schemas.update(problem_schema.pop("$defs", {}))
    schemas["Problem"] = problem_schema
    components["securitySchemes"] = {
        SECURITY_SCHEME: {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A platform token from the identity service (POST /v1/sign-in, then POST /v1/me/organisation to act for an organisation).",
        }
    }
    strict = _strict_model_names()
    for name, schema in schemas.items():
        if schema.get("type") == "object" and schema.get("title", name) in strict:
            schema["additionalProperties"] = False

    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        path_item = document.get("paths", {}).get(route.path_format)
        if path_item is None:
            continue
        for handler in route.route_handlers:
            for method in handler.http_methods:
                operation = path_item.get(method.lower())
                if operation is None:
                    continue
                _complete_operation(operation, handler)
    return document


def _complete_operation(operation: dict[str, Any], handler: Any) -> None:
    rule = handler.opt.get("access")
    signed_in = isinstance(rule, (SignedIn, RightRequired))
    operation["security"] = [{SECURITY_SCHEME: []}] if signed_in else []
    if not isinstance(rule, (Public, SignedIn, RightRequired)):
        operation["security"] = [{SECURITY_SCHEME: []}]  # denied by default: nothing documented opens it
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status in [s for s, response in responses.items() if s.startswith(("4", "5")) and _is_litestar_default_error(response)]:
        del responses[status]
    has_body = "requestBody" in operation
    statuses = set(handler.opt.get("problems", ()))
    if signed_in:
        statuses |= {401, 403}
    if has_body or operation.get("parameters"):
        statuses.add(422)
    if has_body:
        statuses.add(413)
        if "application/json" in operation["requestBody"].get("content", {}):
            statuses.add(400)  # a body that is not JSON at all
    for status in sorted(statuses):
        responses.setdefault(str(status), _problem_response(status))
