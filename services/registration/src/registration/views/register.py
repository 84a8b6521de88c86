"""HTTP of the public register (R-20 to R-23), no sign-in: search and one training, answered with
the JSON PostgreSQL wrote (`registration.register`), and the joint committees (R-15).

    GET /v1/register/trainings                 search and filter, paged
    GET /v1/register/trainings/{odb_number}    one training, with its modules

The search is the platform's busiest route: the answer's bytes are built once, in PostgreSQL, and
sent as they are; the statements are prepared once per connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from litestar import Response, get
from litestar.enums import MediaType
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter

from registration import register
from registration.register import MAX_OFFSET, Search
from registration.use_cases import register as register_use_cases
from registration.views.common import PUBLIC
from service_runtime.http import Context, Problem

CompetenceGroup = Literal["basic", "profession_specific", "general"]


@dataclass
class RegisteredTraining:
    """A training in the public register (what the training section says is public, R-5)."""

    odb_number: str
    name: str
    provider_id: UUID
    provider_name: str
    competence_group: CompetenceGroup
    structure: Literal["integral", "modular"]
    blended: bool
    total_hours: float
    hours_unit: Literal["contact_hours", "study_points"]
    study_points: float | None
    web_page: str
    holds_from: date
    stop_on: date | None
    school_years: list[str]
    own_reference: str
    target_group: str
    content: str
    language: str | None
    workplace_learning: bool
    separately_enrollable_parts: bool
    leads_to_qualification: bool
    mentor_training: bool | None
    final_assessment: bool
    replaces: str | None
    replaced_by: str | None
    match: Literal["name", "text", "similar_name"] | None = None


@dataclass
class RegisterPage:
    items: list[RegisteredTraining]
    next_cursor: str | None


@dataclass
class RegisteredModule:
    name: str
    contact_hours: float
    workplace_hours: float
    distance_hours: float
    study_points: float | None
    blended: bool
    starts_on: date
    ends_on: date
    cefr_level: str | None


@dataclass
class RegisteredTrainingDetail(RegisteredTraining):
    modules: list[RegisteredModule] | None = None


def _json(body: bytes) -> Response[bytes]:
    return Response(body, media_type=MediaType.JSON)


def _too_slow() -> Problem:
    return Problem(503, "The register did not answer in time", "Narrow the search (more words or a filter) and try again.")


@get(
    "/v1/register/trainings",
    opt=PUBLIC,
    tags=["register"],
    responses={200: ResponseSpec(data_container=RegisterPage, description="A page of trainings in the register today")},
)
async def search_trainings(
    ctx: Context,
    q: Annotated[str | None, Parameter(max_length=200, description='words to find (websearch syntax: "a phrase", -word, or)')] = None,
    provider: Annotated[str | None, Parameter(min_length=3, max_length=200, description="the provider's id, or part of its name")] = None,
    competence_group: CompetenceGroup | None = None,
    odb_number: Annotated[str | None, Parameter(min_length=1, max_length=30, description="exact, any case")] = None,
    blended: bool | None = None,
    min_hours: Annotated[float | None, Parameter(ge=0, le=100_000, description="total hours at least")] = None,
    max_hours: Annotated[float | None, Parameter(ge=0, le=100_000, description="total hours at most")] = None,
    limit: Annotated[int, Parameter(ge=1, le=100)] = 20,
    offset: Annotated[int, Parameter(ge=0, le=MAX_OFFSET, description="rows to skip; `cursor` pages further at any depth")] = 0,
    cursor: Annotated[str | None, Parameter(max_length=2000, description="the previous page's next_cursor")] = None,
) -> Response[bytes]:
    """R-23: the trainings in the public register today, by text and filters (see the service's
    register module for the ranking)."""
    search = Search.of(
        q=q,
        provider=provider,
        competence_group=competence_group,
        odb_number=odb_number,
        blended=blended,
        min_hours=min_hours,
        max_hours=max_hours,
        limit=limit,
        offset=offset,
        cursor=cursor,
    )
    try:
        return _json(await ctx.run(register.search_register, read_only=True, search=search, today=ctx.today))
    except TimeoutError:
        raise _too_slow() from None


@get(
    "/v1/register/trainings/{odb_number:str}",
    opt=PUBLIC,
    tags=["register"],
    responses={200: ResponseSpec(data_container=RegisteredTrainingDetail, description="The training, with its modules")},
)
async def registered_training(ctx: Context, odb_number: str) -> Response[bytes]:
    """One training in the register today (any case of the ODB number); 404 when unknown or stopped (R-23)."""
    try:
        return _json(await ctx.run(register.training_detail, read_only=True, odb_number=odb_number, today=ctx.today))
    except TimeoutError:
        raise _too_slow() from None


@get("/v1/register/joint-committees", opt=PUBLIC, tags=["register"])
async def joint_committees(ctx: Context) -> list[dict[str, str]]:
    """R-15: the joint committees that volunteered to decide on applications."""
    return await ctx.run(register_use_cases.joint_committees, read_only=True)
