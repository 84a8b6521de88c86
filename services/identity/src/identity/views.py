"""HTTP entry points of the identity service: parse, run the use case, shape the answer.

Every route declares its access rule (the runtime denies the rest). Routes for administrators
and operators are `SignedIn`: which organisation the person may manage is the domain's
decision, made in the use cases; the runtime's `ctx.run` maps a refusal to problem+json and audits
it (ID-12).
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

from litestar import Controller, Response, delete, get, patch, post, put
from litestar.params import Parameter
from litestar.types import ControllerRouterHandler
from pydantic import EmailStr, Field

from identity import use_cases
from identity.domain import Gender, MembershipRole, OrganisationKind, RequestStatus
from identity.numbers import InvalidNumber, parse_national_register_number
from identity.tokens import ProofVerifier, SigningKeys, issue_access_token, sign_development_proof
from service_runtime.auth import InvalidToken
from service_runtime.http import Context, Problem, Public, SignedIn, access, problem_for
from service_runtime.service import ServiceRuntime
from wse_contracts import StrictModel
from wse_contracts.identity import QualityRegistration

if TYPE_CHECKING:
    # Only for the type checker: definition.py imports these routes.
    from identity.definition import Settings

SIGNED_IN = access(SignedIn())
PUBLIC = access(Public())

Name = Annotated[str, Field(min_length=1, max_length=200)]


# ------------------------------------------------------------------------------- bodies


class OrganisationIn(StrictModel):
    name: Name
    kind: OrganisationKind
    enterprise_number: str | None = None
    institution_number: Annotated[str, Field(min_length=1, max_length=20)] | None = None
    contact_email: EmailStr | None = None


class OrganisationChange(StrictModel):
    name: Name | None = None
    contact_email: EmailStr | None = None


class SchoolIn(StrictModel):
    name: Name
    institution_number: Annotated[str, Field(min_length=1, max_length=20)]
    enterprise_number: str | None = None
    contact_email: EmailStr | None = None


class SchoolsImport(StrictModel):
    schools: Annotated[list[SchoolIn], Field(min_length=1, max_length=5000)]


class PersonRef(StrictModel):
    person_id: UUID


class NumberIn(StrictModel):
    national_register_number: Annotated[str, Field(max_length=20)]


class PersonIn(StrictModel):
    national_register_number: Annotated[str, Field(max_length=20)]
    last_name: Name
    first_name: Name
    gender: Gender
    date_of_birth: date
    email: EmailStr


class RightIn(StrictModel):
    person_id: UUID
    role: Annotated[str, Field(min_length=1, max_length=100)]
    context: Annotated[str, Field(min_length=1, max_length=100)]
    valid_from: date
    valid_until: date | None = None


class ValidityIn(StrictModel):
    valid_from: date
    valid_until: date | None = None


class RightRequestIn(StrictModel):
    role: Annotated[str, Field(min_length=1, max_length=100)]
    context: Annotated[str, Field(min_length=1, max_length=100)]
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class DecisionIn(StrictModel):
    approve: bool
    reason: Annotated[str, Field(max_length=2000)] | None = None
    valid_until: date | None = None


class ThemeIn(StrictModel):
    person_id: UUID
    theme: Annotated[str, Field(min_length=1, max_length=100)]


class ProofRequest(StrictModel):
    national_register_number: Annotated[str, Field(max_length=20)]


class SignInIn(StrictModel):
    proof: Annotated[str, Field(min_length=1, max_length=8000)]


class ChooseOrganisation(StrictModel):
    organisation_id: UUID | None  # None: act as oneself, a citizen


# ------------------------------------------------------------------------------- sign-in (ID-10) and keys


class SignInController(Controller):
    path = ""
    tags = ["sign-in"]

    @get("/.well-known/jwks.json", opt=PUBLIC)
    async def jwks(self, ctx: Context) -> dict[str, Any]:
        return {"keys": await _platform_keys(ctx.runtime).published()}

    @post("/v1/sign-in", opt=PUBLIC, status_code=200)
    async def sign_in(self, data: SignInIn, ctx: Context) -> dict[str, Any]:
        """Exchange the identity provider's proof for a platform token that acts for oneself."""
        verifier: ProofVerifier = ctx.runtime.extensions["proof_verifier"]
        try:
            number = await verifier.national_register_number(data.proof)
        except InvalidToken as error:
            raise Problem(401, "The proof of identity is not valid", str(error)) from None
        person_id = await ctx.run(use_cases.person_signing_in, read_only=True, national_register_number=number, today=ctx.today)
        if person_id is None:
            raise Problem(403, "Not known yet", "Je bent nog niet gekend op het platform. Vraag de lokale beheerder van je organisatie om je te registreren.")
        return await _token(ctx.runtime, ctx.settings, person_id, None)

    @get("/v1/me", opt=SIGNED_IN)
    async def me(self, ctx: Context) -> dict[str, Any]:
        """The tiles to choose from: oneself as citizen, and every organisation of membership."""
        tiles, message = await ctx.run(use_cases.tiles, read_only=True, person_id=ctx.actor.person_id)
        return {
            "person_id": ctx.actor.person_id,
            "acting_for": ctx.actor.acting_for,
            "tiles": [{"kind": t.kind, "organisation_id": t.organisation_id, "name": t.name, "role": t.role} for t in tiles],
            "message": message,
        }

    @post("/v1/me/organisation", opt=SIGNED_IN, status_code=200)
    async def choose(self, data: ChooseOrganisation, ctx: Context) -> dict[str, Any]:
        """A token that acts for the chosen organisation (a membership is needed) or for oneself."""
        if data.organisation_id is not None:
            await ctx.run(use_cases.choose_organisation, read_only=True, actor=ctx.actor, organisation_id=data.organisation_id)
        return await _token(ctx.runtime, ctx.settings, ctx.actor.person_id, data.organisation_id)

    @get("/v1/dev-idp/jwks.json", opt=PUBLIC, include_in_schema=False)
    async def development_provider_keys(self, ctx: Context) -> dict[str, Any]:
        return {"keys": await _development_provider(ctx.runtime, ctx.settings).published()}

    @post("/v1/dev-idp/proofs", opt=PUBLIC, status_code=201)
    async def development_proof(self, data: ProofRequest, ctx: Context) -> dict[str, str]:
        """Local runs and tests only: the proof a real identity provider would give after sign-in."""
        keys = _development_provider(ctx.runtime, ctx.settings)
        try:
            number = parse_national_register_number(data.national_register_number, today=ctx.today).value
        except InvalidNumber as error:
            raise problem_for(error) from None
        proof = await sign_development_proof(
            keys, national_register_number=number, issuer=ctx.settings.identity_provider_issuer, audience=ctx.settings.identity_provider_audience
        )
        return {"proof": proof}


def _platform_keys(runtime: ServiceRuntime) -> SigningKeys:
    keys = runtime.key_source
    if not isinstance(keys, SigningKeys):  # definition.py: identity signs with the keys in its own database
        raise RuntimeError("the identity service has no signing keys of its own")
    return keys


def _development_provider(runtime: ServiceRuntime, settings: Settings) -> SigningKeys:
    if not settings.development_identity_provider:
        raise Problem(404, "Not found", "The development identity provider is off.")
    keys: SigningKeys = runtime.extensions["development_provider_keys"]
    return keys


async def _token(runtime: ServiceRuntime, settings: Settings, person_id: UUID, organisation_id: UUID | None) -> dict[str, Any]:
    token, lifetime = await issue_access_token(
        _platform_keys(runtime),
        person_id=person_id,
        organisation_id=organisation_id,
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        lifetime_seconds=settings.access_token_seconds,
    )
    return {"access_token": token, "token_type": "Bearer", "expires_in": lifetime, "organisation_id": organisation_id}


# ------------------------------------------------------------------------------- organisations (operators, public)


class OrganisationController(Controller):
    path = "/v1"
    tags = ["organisations"]

    @post("/organisations", opt=SIGNED_IN, status_code=201)
    async def register(self, data: OrganisationIn, ctx: Context) -> dict[str, Any]:
        return await ctx.run(use_cases.register_organisation, actor=ctx.actor, **data.model_dump())

    @patch("/organisations/{organisation_id:uuid}", opt=SIGNED_IN)
    async def change(self, organisation_id: UUID, data: OrganisationChange, ctx: Context) -> dict[str, Any]:
        return await ctx.run(use_cases.change_organisation, actor=ctx.actor, organisation_id=organisation_id, **data.model_dump())

    @put("/organisations/{organisation_id:uuid}/quality-registration", opt=SIGNED_IN)
    async def quality_registration(self, organisation_id: UUID, data: QualityRegistration, ctx: Context) -> dict[str, Any]:
        return await ctx.run(use_cases.change_organisation, actor=ctx.actor, organisation_id=organisation_id, quality_registration=data)

    @post("/secondary-schools/import", opt=SIGNED_IN, status_code=200)
    async def import_schools(self, data: SchoolsImport, ctx: Context) -> dict[str, int]:
        return await ctx.run(use_cases.import_secondary_schools, actor=ctx.actor, schools=[s.model_dump() for s in data.schools])

    @get("/organisations/{organisation_id:uuid}/administrators", opt=PUBLIC)
    async def administrators(self, organisation_id: UUID, ctx: Context) -> dict[str, Any]:
        """ID-9: who are this organisation's (head) local administrators: anyone may ask."""
        return await ctx.run(use_cases.administrators_of, organisation_id=organisation_id)

    @get("/catalogue", opt=PUBLIC)
    async def catalogue(self, ctx: Context) -> list[dict[str, Any]]:
        return await ctx.run(use_cases.catalogue, read_only=True)

    @post("/organisations/{organisation_id:uuid}/head-administrators", opt=SIGNED_IN, status_code=204)
    async def appoint_head(self, organisation_id: UUID, data: PersonRef, ctx: Context) -> None:
        await ctx.run(
            use_cases.appoint_administrator, actor=ctx.actor, organisation_id=organisation_id, person_id=data.person_id, level=MembershipRole.HEAD_ADMINISTRATOR
        )

    @delete("/organisations/{organisation_id:uuid}/head-administrators/{person_id:uuid}", opt=SIGNED_IN, status_code=204)
    async def remove_head(self, organisation_id: UUID, person_id: UUID, ctx: Context) -> None:
        await ctx.run(
            use_cases.remove_administrator, actor=ctx.actor, organisation_id=organisation_id, person_id=person_id, level=MembershipRole.HEAD_ADMINISTRATOR
        )

    @post("/organisations/{organisation_id:uuid}/administrators", opt=SIGNED_IN, status_code=204)
    async def appoint(self, organisation_id: UUID, data: PersonRef, ctx: Context) -> None:
        await ctx.run(
            use_cases.appoint_administrator,
            actor=ctx.actor,
            organisation_id=organisation_id,
            person_id=data.person_id,
            level=MembershipRole.LOCAL_ADMINISTRATOR,
        )

    @delete("/organisations/{organisation_id:uuid}/administrators/{person_id:uuid}", opt=SIGNED_IN, status_code=204)
    async def remove(self, organisation_id: UUID, person_id: UUID, ctx: Context) -> None:
        await ctx.run(
            use_cases.remove_administrator, actor=ctx.actor, organisation_id=organisation_id, person_id=person_id, level=MembershipRole.LOCAL_ADMINISTRATOR
        )

    @get("/organisations/{organisation_id:uuid}/audit", opt=SIGNED_IN)
    async def organisation_audit(self, organisation_id: UUID, ctx: Context) -> list[dict[str, Any]]:
        return await ctx.run(use_cases.audit_trail, actor=ctx.actor, organisation_id=organisation_id)

    @get("/audit", opt=SIGNED_IN)
    async def all_audit(self, ctx: Context) -> list[dict[str, Any]]:
        return await ctx.run(use_cases.audit_trail, actor=ctx.actor, organisation_id=None)


# ------------------------------------------------------------------------------- persons, members, rights (local administrators)


class PersonController(Controller):
    path = "/v1/persons"
    tags = ["persons"]

    @post("/lookup", opt=SIGNED_IN, status_code=200)
    async def lookup(self, data: NumberIn, ctx: Context) -> dict[str, Any]:
        """By national register number, in the body: never in a URL, where it would be logged."""
        person = await ctx.run(use_cases.lookup_person, actor=ctx.actor, national_register_number=data.national_register_number)
        if person is None:
            raise Problem(404, "Not found", "No person with this national register number: register them.")
        return person

    @post("", opt=SIGNED_IN)
    async def register(self, data: PersonIn, ctx: Context) -> Response[dict[str, Any]]:
        person, created = await ctx.run(use_cases.register_person, actor=ctx.actor, today=ctx.actor.today, **data.model_dump())
        return Response(person, status_code=201 if created else 200)


class MembershipController(Controller):
    path = "/v1/organisations/{organisation_id:uuid}"
    tags = ["members and rights"]

    @post("/members", opt=SIGNED_IN, status_code=204)
    async def add_member(self, organisation_id: UUID, data: PersonRef, ctx: Context) -> None:
        await ctx.run(use_cases.add_member, actor=ctx.actor, organisation_id=organisation_id, person_id=data.person_id)

    @delete("/members/{person_id:uuid}", opt=SIGNED_IN, status_code=204)
    async def remove_member(self, organisation_id: UUID, person_id: UUID, ctx: Context) -> None:
        await ctx.run(use_cases.remove_member, actor=ctx.actor, organisation_id=organisation_id, person_id=person_id)

    @post("/rights", opt=SIGNED_IN, status_code=201)
    async def grant(self, organisation_id: UUID, data: RightIn, ctx: Context) -> dict[str, Any]:
        return await ctx.run(use_cases.grant_right, actor=ctx.actor, organisation_id=organisation_id, **data.model_dump())

    @patch("/rights/{right_id:uuid}", opt=SIGNED_IN)
    async def change_validity(self, organisation_id: UUID, right_id: UUID, data: ValidityIn, ctx: Context) -> dict[str, Any]:
        return await ctx.run(use_cases.change_right_validity, actor=ctx.actor, organisation_id=organisation_id, right_id=right_id, **data.model_dump())

    @delete("/rights/{right_id:uuid}", opt=SIGNED_IN, status_code=204)
    async def revoke(self, organisation_id: UUID, right_id: UUID, ctx: Context) -> None:
        await ctx.run(use_cases.revoke_right, actor=ctx.actor, organisation_id=organisation_id, right_id=right_id)

    @get("/rights", opt=SIGNED_IN)
    async def report(self, organisation_id: UUID, ctx: Context) -> list[dict[str, Any]]:
        return await ctx.run(use_cases.rights_report, actor=ctx.actor, organisation_id=organisation_id)

    @get("/rights.csv", opt=SIGNED_IN, media_type="text/csv")
    async def report_csv(self, organisation_id: UUID, ctx: Context) -> Response[str]:
        rows = await ctx.run(use_cases.rights_report, actor=ctx.actor, organisation_id=organisation_id)
        out = io.StringIO()
        columns = ["last_name", "first_name", "membership", "context", "role", "valid_from", "valid_until", "active", "person_id", "right_id"]
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", delimiter=";")
        writer.writeheader()
        writer.writerows(rows)
        return Response(out.getvalue(), media_type="text/csv", headers={"content-disposition": f'attachment; filename="rechten-{organisation_id}.csv"'})

    @post("/right-requests", opt=SIGNED_IN, status_code=201)
    async def request_right(self, organisation_id: UUID, data: RightRequestIn, ctx: Context) -> dict[str, Any]:
        return await ctx.run(use_cases.request_right, actor=ctx.actor, organisation_id=organisation_id, **data.model_dump())

    @get("/right-requests", opt=SIGNED_IN)
    async def right_requests(self, organisation_id: UUID, ctx: Context, status: RequestStatus | None = None) -> list[dict[str, Any]]:
        return await ctx.run(use_cases.right_requests, actor=ctx.actor, organisation_id=organisation_id, status=status)

    @post("/right-requests/{request_id:uuid}/decision", opt=SIGNED_IN, status_code=200)
    async def decide(self, organisation_id: UUID, request_id: UUID, data: DecisionIn, ctx: Context) -> dict[str, Any]:
        return await ctx.run(use_cases.decide_right_request, actor=ctx.actor, organisation_id=organisation_id, request_id=request_id, **data.model_dump())

    @post("/themes", opt=SIGNED_IN, status_code=204)
    async def grant_theme(self, organisation_id: UUID, data: ThemeIn, ctx: Context) -> None:
        await ctx.run(use_cases.grant_theme, actor=ctx.actor, organisation_id=organisation_id, **data.model_dump())

    @delete("/themes/{person_id:uuid}/{theme:str}", opt=SIGNED_IN, status_code=204)
    async def revoke_theme(self, organisation_id: UUID, person_id: UUID, theme: str, ctx: Context) -> None:
        await ctx.run(use_cases.revoke_theme, actor=ctx.actor, organisation_id=organisation_id, person_id=person_id, theme=theme)


# ------------------------------------------------------------------------------- the check (applications)


@get("/v1/check", opt=SIGNED_IN, tags=["check"])
async def check(
    ctx: Context,
    person_id: UUID,
    organisation_id: UUID,
    role: Annotated[str, Parameter(max_length=100)],
    context: Annotated[str, Parameter(max_length=100)],
    theme: Annotated[str | None, Parameter(max_length=100)] = None,
) -> dict[str, Any]:
    """May this person act as role@context for this organisation today (and read documents of
    this theme)? Applications ask this, e.g. the dual-learning app (ID-7), Mijn Onderwijs (ID-13).

    The hot path: one query outside a transaction (read_only), no audit."""
    allowed = await ctx.run(
        use_cases.check,
        read_only=True,
        person_id=person_id,
        organisation_id=organisation_id,
        role=role,
        context=context,
        theme=theme,
        on=ctx.today,
    )
    return {"allowed": allowed}


ROUTES: list[ControllerRouterHandler] = [SignInController, OrganisationController, PersonController, MembershipController, check]
