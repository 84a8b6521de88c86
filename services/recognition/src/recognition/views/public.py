"""The public list of recognised external service providers (no sign-in): who employers may
call on for workplace coaching today."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.params import Parameter

from recognition.parts import Province
from recognition.use_cases import recognitions
from recognition.views.common import PUBLIC
from recognition.views.schemas import RecognisedProvider
from service_runtime import paging
from service_runtime.api import Page, page_of
from service_runtime.http import Context
from service_runtime.paging import Cursor, Limit

Name = Annotated[str | None, Parameter(min_length=1, max_length=100, description="part of the provider's name, any case")]
Municipality = Annotated[str | None, Parameter(min_length=1, max_length=100, description="a municipality of the provider's territory, any case")]


@get("/v1/recognised-providers", opt=PUBLIC, tags=["public"])
async def recognised_providers(
    ctx: Context,
    name: Name = None,
    province: Province | None = None,
    municipality: Municipality = None,
    limit: Limit = paging.DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[RecognisedProvider]:
    """The external service providers recognised today (E-8), by name; filter on name, province
    (or `brussel`) and municipality of their territory, with their capacity and last valid day."""
    found = await ctx.run(
        recognitions.recognised_providers,
        read_only=True,
        today=ctx.today,
        name=name,
        province=province,
        municipality=municipality,
        limit=limit,
        cursor=cursor,
    )
    return page_of(RecognisedProvider, found)
