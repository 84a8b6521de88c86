"""HTTP entry points of the identity service: parse, call the use case, map its errors.

Every route declares its access rule (the runtime denies the rest). Routes for administrators
and operators are `SignedIn`: which organisation the person may manage is the domain's
decision, made in the service layer, and a refusal is audited (ID-12).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.params import Parameter
from pydantic import EmailStr, Field

from identity import service
from identity.domain import Actor, Conflict, DomainError, Forbidden, Invalid, NotFound
from identity.numbers import InvalidNumber, parse_national_register_number
from identity.tokens import issue_access_token, sign_development_proof
from service_runtime.auth import InvalidToken
from service_runtime.clock import local_today
from service_runtime.http import FieldProblem, Problem, Public, SignedIn, access
from wse_contracts import StrictModel
from wse_contracts.identity import QualityRegistration

SIGNED_IN = access(SignedIn())
PUBLIC = access(Public())

Name = Annotated[str, Field(min_length=1, max_length=200)]


# ------------------------------------------------------------------------------- running a use case


def _actor(request: Request) -> Actor:
    principal = request.state.principal
    return Actor(person_id=principal.person_id, acting_for=principal.organisation_id, today=_today(request))


async def run(request: Request, use_case: Callable[..., Awaitable[Any]], *, read_only: bool = False, **kwargs: Any) -> Any:
    """The use case in one transaction (a single query needs none: `read_only`); a refusal is
    audited in a transaction of its own (the use case's is rolled back), and domain errors
    become problem+json."""
    runtime = request.app.state.runtime
    async with runtime.pool.acquire() as connection:
        try:
            if read_only:
                return await use_case(connection, **kwargs)
            async with connection.transaction():
                return await use_case(connection, **kwargs)
        except Forbidden as denial:
            principal = getattr(request.state, "principal", None)
            await service.record_audit(
                connection,
                actor_id=principal.person_id if principal else None,
                action=f"{request.method} {request.scope['path']}",
                organisation_id=kwargs.get("organisation_id"),
                outcome="denied",
                details={"reason": denial.reason},
            )
            raise Problem(403, "Forbidden", denial.reason) from None
        except InvalidNumber as error:
            raise Problem(422, "The request is not valid", errors=[FieldProblem(error.field, error.reason)]) from None
        except Invalid as error:
            raise Problem(422, "The request is not valid", errors=[FieldProblem(error.field or "body", error.reason)]) from None
        except NotFound as error:
            raise Problem(404, "Not found", error.reason) from None
        except Conflict as error:
            raise Problem(409, "Conflict", error.reason) from None
        except DomainError as error:
            raise Problem(400, "Refused", error.reason) from None


def _today(request: Request) -> date:
    return local_today(request.app.state.runtime.clock)


# ------------------------------------------------------------------------------- bodies


class OrganisationIn(StrictModel):
    name: Name
    kind: Literal[
        "department", "secondary_school", "adult_education_centre", "higher_education", "syntra", "training_provider", "service_provider", "employer", "other"
    ]
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
    gender: Literal["female", "male", "x"]
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
    async def jwks(self, request: Request) -> dict[str, Any]:
        return {"keys": await request.app.state.runtime.key_source.published()}

    @post("/v1/sign-in", opt=PUBLIC, status_code=200)
    async def sign_in(self, request: Request, data: SignInIn) -> dict[str, Any]:
        """Exchange the identity provider's proof for a platform token that acts for oneself."""
        try:
            number = await request.app.state.runtime.extensions["proof_verifier"].national_register_number(data.proof)
        except InvalidToken as error:
            raise Problem(401, "The proof of identity is not valid", str(error)) from None

        async def find(connection, **_: Any):
            return await connection.fetchval("SELECT person_id FROM persons WHERE national_register_number = $1", parse_national_register_number(number).value)

        person_id = await run(request, find)
        if person_id is None:
            raise Problem(403, "Not known yet", "Je bent nog niet gekend op het platform. Vraag de lokale beheerder van je organisatie om je te registreren.")
        return await _token(request, person_id, None)

    @get("/v1/me", opt=SIGNED_IN)
    async def me(self, request: Request) -> dict[str, Any]:
        """The tiles to choose from: oneself as citizen, and every organisation of membership."""
        actor = _actor(request)
        tiles, message = await run(request, service.tiles, person_id=actor.person_id)
        return {
            "person_id": actor.person_id,
            "acting_for": actor.acting_for,
            "tiles": [{"kind": t.kind, "organisation_id": t.organisation_id, "name": t.name, "role": t.role} for t in tiles],
            "message": message,
        }

    @post("/v1/me/organisation", opt=SIGNED_IN, status_code=200)
    async def choose(self, request: Request, data: ChooseOrganisation) -> dict[str, Any]:
        """A token that acts for the chosen organisation (a membership is needed) or for oneself."""
        actor = _actor(request)
        if data.organisation_id is not None:

            async def ensure_member(connection, **_: Any) -> None:
                if await service.membership_role(connection, data.organisation_id, actor.person_id) is None:
                    raise Forbidden("You are not a member of this organisation: ask its local administrator to add you.")

            await run(request, ensure_member, organisation_id=data.organisation_id)
        return await _token(request, actor.person_id, data.organisation_id)

    @get("/v1/dev-idp/jwks.json", opt=PUBLIC, include_in_schema=False)
    async def development_provider_keys(self, request: Request) -> dict[str, Any]:
        _development_provider_enabled(request)
        return {"keys": await request.app.state.runtime.extensions["development_provider_keys"].published()}

    @post("/v1/dev-idp/proofs", opt=PUBLIC, status_code=201)
    async def development_proof(self, request: Request, data: ProofRequest) -> dict[str, str]:
        """Local runs and tests only: the proof a real identity provider would give after sign-in."""
        _development_provider_enabled(request)
        try:
            number = parse_national_register_number(data.national_register_number).value
        except InvalidNumber as error:
            raise Problem(422, "The request is not valid", errors=[FieldProblem(error.field, error.reason)]) from None
        settings = request.app.state.runtime.settings
        proof = await sign_development_proof(
            request.app.state.runtime.extensions["development_provider_keys"],
            national_register_number=number,
            issuer=settings.identity_provider_issuer,
            audience=settings.identity_provider_audience,
        )
        return {"proof": proof}


def _development_provider_enabled(request: Request) -> None:
    if not request.app.state.runtime.settings.development_identity_provider:
        raise Problem(404, "Not found", "The development identity provider is off.")


async def _token(request: Request, person_id: UUID, organisation_id: UUID | None) -> dict[str, Any]:
    settings = request.app.state.runtime.settings
    token, lifetime = await issue_access_token(
        request.app.state.runtime.key_source,
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
    async def register(self, request: Request, data: OrganisationIn) -> dict[str, Any]:
        return await run(request, service.register_organisation, actor=_actor(request), **data.model_dump())

    @patch("/organisations/{organisation_id:uuid}", opt=SIGNED_IN)
    async def change(self, request: Request, organisation_id: UUID, data: OrganisationChange) -> dict[str, Any]:
        return await run(request, service.change_organisation, actor=_actor(request), organisation_id=organisation_id, **data.model_dump())

    @put("/organisations/{organisation_id:uuid}/quality-registration", opt=SIGNED_IN)
    async def quality_registration(self, request: Request, organisation_id: UUID, data: QualityRegistration) -> dict[str, Any]:
        return await run(request, service.change_organisation, actor=_actor(request), organisation_id=organisation_id, quality_registration=data)

    @post("/secondary-schools/import", opt=SIGNED_IN, status_code=200)
    async def import_schools(self, request: Request, data: SchoolsImport) -> dict[str, int]:
        return await run(request, service.import_secondary_schools, actor=_actor(request), schools=[s.model_dump() for s in data.schools])

    @get("/organisations/{organisation_id:uuid}/administrators", opt=PUBLIC)
    async def administrators(self, request: Request, organisation_id: UUID) -> dict[str, Any]:
        """ID-9: who are this organisation's (head) local administrators: anyone may ask."""
        return await run(request, service.administrators_of, organisation_id=organisation_id)

    @get("/catalogue", opt=PUBLIC)
    async def catalogue(self, request: Request) -> list[dict[str, Any]]:
        return await run(request, service.catalogue)

    @post("/organisations/{organisation_id:uuid}/head-administrators", opt=SIGNED_IN, status_code=204)
    async def appoint_head(self, request: Request, organisation_id: UUID, data: PersonRef) -> None:
        await run(
            request, service.appoint_administrator, actor=_actor(request), organisation_id=organisation_id, person_id=data.person_id, level="head_administrator"
        )

    @delete("/organisations/{organisation_id:uuid}/head-administrators/{person_id:uuid}", opt=SIGNED_IN, status_code=204)
    async def remove_head(self, request: Request, organisation_id: UUID, person_id: UUID) -> None:
        await run(
            request, service.remove_administrator, actor=_actor(request), organisation_id=organisation_id, person_id=person_id, level="head_administrator"
        )

    @post("/organisations/{organisation_id:uuid}/administrators", opt=SIGNED_IN, status_code=204)
    async def appoint(self, request: Request, organisation_id: UUID, data: PersonRef) -> None:
        await run(
            request,
            service.appoint_administrator,
            actor=_actor(request),
            organisation_id=organisation_id,
            person_id=data.person_id,
            level="local_administrator",
        )

    @delete("/organisations/{organisation_id:uuid}/administrators/{person_id:uuid}", opt=SIGNED_IN, status_code=204)
    async def remove(self, request: Request, organisation_id: UUID, person_id: UUID) -> None:
        await run(
            request, service.remove_administrator, actor=_actor(request), organisation_id=organisation_id, person_id=person_id, level="local_administrator"
        )

    @get("/organisations/{organisation_id:uuid}/audit", opt=SIGNED_IN)
    async def organisation_audit(self, request: Request, organisation_id: UUID) -> list[dict[str, Any]]:
        return await run(request, service.audit_trail, actor=_actor(request), organisation_id=organisation_id)

    @get("/audit", opt=SIGNED_IN)
    async def all_audit(self, request: Request) -> list[dict[str, Any]]:
        return await run(request, service.audit_trail, actor=_actor(request), organisation_id=None)


# ------------------------------------------------------------------------------- persons, members, rights (local administrators)


class PersonController(Controller):
    path = "/v1/persons"
    tags = ["persons"]

    @post("/lookup", opt=SIGNED_IN, status_code=200)
    async def lookup(self, request: Request, data: NumberIn) -> dict[str, Any]:
        """By national register number, in the body: never in a URL, where it would be logged."""
        person = await run(request, service.lookup_person, actor=_actor(request), national_register_number=data.national_register_number)
        if person is None:
            raise Problem(404, "Not found", "No person with this national register number: register them.")
        return person

    @post("", opt=SIGNED_IN)
    async def register(self, request: Request, data: PersonIn) -> Response[dict[str, Any]]:
        person, created = await run(request, service.register_person, actor=_actor(request), **data.model_dump())
        return Response(person, status_code=201 if created else 200)


class MembershipController(Controller):
    path = "/v1/organisations/{organisation_id:uuid}"
    tags = ["members and rights"]

    @post("/members", opt=SIGNED_IN, status_code=204)
    async def add_member(self, request: Request, organisation_id: UUID, data: PersonRef) -> None:
        await run(request, service.add_member, actor=_actor(request), organisation_id=organisation_id, person_id=data.person_id)

    @delete("/members/{person_id:uuid}", opt=SIGNED_IN, status_code=204)
    async def remove_member(self, request: Request, organisation_id: UUID, person_id: UUID) -> None:
        await run(request, service.remove_member, actor=_actor(request), organisation_id=organisation_id, person_id=person_id)

    @post("/rights", opt=SIGNED_IN, status_code=201)
    async def grant(self, request: Request, organisation_id: UUID, data: RightIn) -> dict[str, Any]:
        return await run(request, service.grant_right, actor=_actor(request), organisation_id=organisation_id, **data.model_dump())

    @patch("/rights/{right_id:uuid}", opt=SIGNED_IN)
    async def change_validity(self, request: Request, organisation_id: UUID, right_id: UUID, data: ValidityIn) -> dict[str, Any]:
        return await run(request, service.change_right_validity, actor=_actor(request), organisation_id=organisation_id, right_id=right_id, **data.model_dump())

    @delete("/rights/{right_id:uuid}", opt=SIGNED_IN, status_code=204)
    async def revoke(self, request: Request, organisation_id: UUID, right_id: UUID) -> None:
        await run(request, service.revoke_right, actor=_actor(request), organisation_id=organisation_id, right_id=right_id)

    @get("/rights", opt=SIGNED_IN)
    async def report(self, request: Request, organisation_id: UUID) -> list[dict[str, Any]]:
        return await run(request, service.rights_report, actor=_actor(request), organisation_id=organisation_id, on=_today(request))

    @get("/rights.csv", opt=SIGNED_IN, media_type="text/csv")
    async def report_csv(self, request: Request, organisation_id: UUID) -> Response[str]:
        rows = await run(request, service.rights_report, actor=_actor(request), organisation_id=organisation_id, on=_today(request))
        out = io.StringIO()
        columns = ["last_name", "first_name", "membership", "context", "role", "valid_from", "valid_until", "active", "person_id", "right_id"]
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", delimiter=";")
        writer.writeheader()
        writer.writerows(rows)
        return Response(out.getvalue(), media_type="text/csv", headers={"content-disposition": f'attachment; filename="rechten-{organisation_id}.csv"'})

    @post("/right-requests", opt=SIGNED_IN, status_code=201)
    async def request_right(self, request: Request, organisation_id: UUID, data: RightRequestIn) -> dict[str, Any]:
        return await run(request, service.request_right, actor=_actor(request), organisation_id=organisation_id, today=_today(request), **data.model_dump())

    @get("/right-requests", opt=SIGNED_IN)
    async def right_requests(
        self, request: Request, organisation_id: UUID, status: Literal["pending", "approved", "refused", "cancelled"] | None = None
    ) -> list[dict[str, Any]]:
        return await run(request, service.right_requests, actor=_actor(request), organisation_id=organisation_id, status=status)

    @post("/right-requests/{request_id:uuid}/decision", opt=SIGNED_IN, status_code=200)
    async def decide(self, request: Request, organisation_id: UUID, request_id: UUID, data: DecisionIn) -> dict[str, Any]:
        return await run(
            request,
            service.decide_right_request,
            actor=_actor(request),
            organisation_id=organisation_id,
            request_id=request_id,
            today=_today(request),
            **data.model_dump(),
        )

    @post("/themes", opt=SIGNED_IN, status_code=204)
    async def grant_theme(self, request: Request, organisation_id: UUID, data: ThemeIn) -> None:
        await run(request, service.grant_theme, actor=_actor(request), organisation_id=organisation_id, **data.model_dump())

    @delete("/themes/{person_id:uuid}/{theme:str}", opt=SIGNED_IN, status_code=204)
    async def revoke_theme(self, request: Request, organisation_id: UUID, person_id: UUID, theme: str) -> None:
        await run(request, service.revoke_theme, actor=_actor(request), organisation_id=organisation_id, person_id=person_id, theme=theme)


# ------------------------------------------------------------------------------- the check (applications)


@get("/v1/check", opt=SIGNED_IN, tags=["check"])
async def check(
    request: Request,
    person_id: UUID,
    organisation_id: UUID,
    role: Annotated[str, Parameter(max_length=100)],
    context: Annotated[str, Parameter(max_length=100)],
    theme: Annotated[str | None, Parameter(max_length=100)] = None,
) -> dict[str, Any]:
    """May this person act as role@context for this organisation today (and read documents of
    this theme)? Applications ask this, e.g. the dual-learning app (ID-7), Mijn Onderwijs (ID-13)."""
    allowed = await run(
        request,
        service.check,
        read_only=True,
        person_id=person_id,
        organisation_id=organisation_id,
        role=role,
        context=context,
        theme=theme,
        on=_today(request),
    )
    return {"allowed": allowed}


ROUTES = [SignInController, OrganisationController, PersonController, MembershipController, check]
