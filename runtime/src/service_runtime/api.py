"""Models at the HTTP edge that every service shares: the problem document every error is, and
the page every list is. They are what the OpenAPI documents name (`Problem`, `FieldError`,
`Page[...]`), so a portal team's generated client gets one error type and one page type."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class FieldError(BaseModel):
    """One field of the request that was refused: where, why, and the rule of domain.md that refused it."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(description='Where in the request: "body", a field, or a dotted path such as "sections.training.modules[0].hours".')
    reason: str = Field(description="Why, in plain words.")
    rule: str | None = Field(default=None, description="The ID of the rule in domain.md that refused, such as R-8 or ID-14.")


class RequiredRight(BaseModel):
    """The right a 403 refused for (ID-8): a portal offers to request it from the local administrators."""

    model_config = ConfigDict(extra="forbid")

    role: str = Field(description="The role, as in identity's catalogue (GET /v1/catalogue).")
    contexts: list[str] = Field(description="The contexts in any one of which the role suffices.")


class Problem(BaseModel):
    """RFC 9457 problem details: every error of every service has this shape."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(default="about:blank", description="A URI naming the kind of problem; about:blank when the status says it all.")
    title: str = Field(description="A short summary, the same for every problem of this kind and status.")
    status: int = Field(ge=400, le=599, description="The HTTP status code.")
    detail: str | None = Field(default=None, description="What went wrong this time and what to do about it.")
    instance: str | None = Field(default=None, description="The path of the request.")
    errors: list[FieldError] | None = Field(default=None, description="For 422: every refused field at once.")
    rule: str | None = Field(default=None, description="For a refusal that is not about one field (403, 409): the ID of the rule in domain.md that refused.")
    correlation_id: str | None = Field(default=None, description="The request's X-Correlation-ID: quote it to the helpdesk.")
    required_right: RequiredRight | None = Field(
        default=None,
        description="For a 403 for want of a right (ID-8): the right to request with identity's POST /v1/organisations/{organisation_id}/right-requests.",
    )


class Page(BaseModel, Generic[T]):
    """One page of a list, newest or best first; `next_cursor` continues it (absent on the last page)."""

    items: list[T]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` for the next page; null on the last page.")


class Out(BaseModel):
    """An answer's model: exactly these fields (`additionalProperties: false` in the document)."""

    model_config = ConfigDict(extra="forbid")


M = TypeVar("M", bound=BaseModel)


def pick(model: type[M], row: Any) -> M:
    """The model's fields from a use case's dict (or record); the rest is left out, so an internal
    column added to a table is never published by accident."""
    return model.model_validate({name: row[name] for name in model.model_fields if name in row})


def page_of(model: type[M], found: dict[str, Any]) -> Page[M]:
    """A use case's page (`service_runtime.paging.page`) as the answer: each item exactly the model's fields."""
    return Page[model](items=[pick(model, item) for item in found["items"]], next_cursor=found["next_cursor"])  # type: ignore[valid-type]  # the generic page, parametrised at run time
