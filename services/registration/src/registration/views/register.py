"""HTTP of the public register (R-20 to R-23), no sign-in: search and one training, answered with
the JSON PostgreSQL wrote (`registration.register`), and the joint committees (R-15).

    GET /v1/register/trainings                 search and filter, paged
    GET /v1/register/trainings/{odb_number}    one training, with its modules

The search is the platform's busiest route: the answer's bytes are built once, in PostgreSQL, and
sent as they are; the statements are prepared once per connection.
"""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Response, get
from litestar.enums import MediaType
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter

from registration import register
from registration.register import MAX_OFFSET, Search
from registration.use_cases import register as register_use_cases
from registration.views.common import OdbNumber, public_access
from registration.views.schemas import JointCommittee, RegisteredTraining, RegisteredTrainingDetail
from service_runtime import paging
from service_runtime.api import Page, page_of
from service_runtime.http import Context, Problem
from service_runtime.paging import Cursor, Limit

CompetenceGroup = Literal["basic", "profession_specific", "general"]


def _json(body: bytes) -> Response[bytes]:
    return Response(body, media_type=MediaType.JSON)


def _too_slow() -> Problem:
    return Problem(503, detail="The register did not answer in time: narrow the search (more words or a filter) and try again.")


@get(
    "/v1/register/trainings",
    opt=public_access(503),
    tags=["register"],
    responses={200: ResponseSpec(data_container=Page[RegisteredTraining], description="A page of trainings in the register today", generate_examples=False)},
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
    limit: Limit = 20,
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
    opt=public_access(404, 503),
    tags=["register"],
    responses={200: ResponseSpec(data_container=RegisteredTrainingDetail, description="The training, with its modules", generate_examples=False)},
)
async def registered_training(ctx: Context, odb_number: OdbNumber) -> Response[bytes]:
    """One training in the register today (any case of the ODB number); 404 when unknown or stopped (R-23)."""
    try:
        return _json(await ctx.run(register.training_detail, read_only=True, odb_number=odb_number, today=ctx.today))
    except TimeoutError:
        raise _too_slow() from None


@get("/v1/register/joint-committees", opt=public_access(), tags=["register"])
async def joint_committees(ctx: Context, limit: Limit = paging.DEFAULT_LIMIT, cursor: Cursor = None) -> Page[JointCommittee]:
    """R-15: the joint committees that volunteered to decide on applications, by number."""
    return page_of(JointCommittee, await ctx.run(register_use_cases.joint_committees, read_only=True, limit=limit, cursor=cursor))
