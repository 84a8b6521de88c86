"""HTTP of a citizen (ID-10): the student's own training leave and nothing of anyone else."""

from __future__ import annotations

from litestar import get

from attestation.use_cases import citizen
from attestation.views.common import CITIZEN
from attestation.views.schemas import TrainingLeaveOut
from service_runtime.api import pick
from service_runtime.http import Context


@get("/v1/citizen/training-leave", opt=CITIZEN, tags=["citizen"])
async def my_training_leave(ctx: Context) -> TrainingLeaveOut:
    """Your own enrolments and attendance, and per school year whether the 32 hours are reached (A-6)."""
    return pick(TrainingLeaveOut, await ctx.run(citizen.my_training_leave, read_only=True, person_id=ctx.principal.person_id))
