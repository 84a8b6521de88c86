"""HTTP entry points of the identity service: parse, run the use case, shape the answer.

Every route declares its access rule (the runtime denies the rest) and the errors its use case
can answer beyond those the runtime derives (`problems=`). Routes for administrators and
operators are `SignedIn`: which organisation the person may manage is the domain's decision,
made in the use cases; the runtime's `ctx.run` maps a refusal to problem+json and audits it
(ID-12). Answers are the models of `identity.schemas`, built here from the use cases' rows, so
that an answer carries exactly the fields its document names.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Annotated, Any, TypeVar
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter
from litestar.types import ControllerRouterHandler
from pydantic import BaseModel

from identity import use_cases
from identity.domain import MembershipRole, RequestStatus, TooManyLookups
from identity.numbers import InvalidNumber, parse_national_register_number
from identity.schemas import (
    CATALOGUE_KEY_PATTERN,
    ENTERPRISE_NUMBER_PATTERN,
    INSTITUTION_NUMBER_PATTERN,
    TEXT_PATTERN,
    AdministratorsFound,
    AdministratorsOut,
    AuditEntryOut,
    CatalogueEntryOut,
    CheckOut,
    ChooseOrganisation,
    DecisionIn,
    DecisionOut,
    ImportOut,
    Jwks,
    MemberOut,
    MeOut,
    MyRightOut,
    MyRightRequestOut,
    NumberIn,
    OrganisationChange,
    OrganisationIn,
    OrganisationOut,
    PersonIn,
    PersonMatch,
    PersonOut,
    PersonRef,
    ProofOut,
    ProofRequest,
    QualityRegistrationIn,
    RightIn,
    RightOut,
    RightRequestCreated,
    RightRequestIn,
    RightRequestOut,
    RightRow,
    SchoolsImport,
    SignInIn,
    ThemeIn,
    ThemeOut,
    TileOut,
    TokenOut,
    ValidityIn,
)
from identity.tokens import ProofVerifier, SigningKeys, issue_access_token, sign_development_proof
from service_runtime import pii
from service_runtime.api import Page
from service_runtime.auth import InvalidToken
from service_runtime.http import Context, Problem, Public, SignedIn, access, problem_for
from service_runtime.paging import DEFAULT_LIMIT, Cursor, Limit
from service_runtime.service import ServiceRuntime
from wse_contracts.identity import QualityRegistration

if TYPE_CHECKING:
    # Only for the type checker: definition.py imports these routes.
    from identity.definition import Settings

M = TypeVar("M", bound=BaseModel)


def signed_in(*problems: int) -> dict[str, Any]:
    return access(SignedIn(), problems=problems)


def public(*problems: int) -> dict[str, Any]:
    return access(Public(), problems=problems)


# Every list is a page: `limit` rows after `cursor` (the `next_cursor` of the page before).


def _page(model: type[M], result: tuple[list[dict[str, Any]], str | None]) -> Page[M]:
    rows, next_cursor = result
    return Page[model](items=[model.model_validate(row) for row in rows], next_cursor=next_cursor)  # type: ignore[valid-type]


# ------------------------------------------------------------------------------- sign-in (ID-10) and keys


class SignInController(Controller):
    path = ""
    tags = ["sign-in"]

    @get("/.well-known/jwks.json", opt=public())
    async def jwks(self, ctx: Context) -> Jwks:
        return Jwks.model_validate({"keys": await _platform_keys(ctx.runtime).published()})

    @post("/v1/sign-in", opt=public(401, 403), status_code=200)
    async def sign_in(self, data: SignInIn, ctx: Context) -> TokenOut:
        """Exchange the identity provider's proof for a platform token that acts for oneself."""
        verifier: ProofVerifier = ctx.runtime.extensions["proof_verifier"]
        try:
            number = await verifier.national_register_number(data.proof)
        except InvalidToken as error:
            raise Problem(
                401,
                detail=f"The proof of identity is not valid: {error}",
                headers={"WWW-Authenticate": 'Bearer realm="wse", error="invalid_token", error_description="the proof of identity is not valid"'},
            ) from None
        person_id = await ctx.run(use_cases.person_signing_in, read_only=True, national_register_number=number, today=ctx.today)
        if person_id is None:
            raise Problem(403, detail="Je bent nog niet gekend op het platform. Vraag de lokale beheerder van je organisatie om je te registreren.")
        return await _token(ctx.runtime, ctx.settings, person_id, None)

    @get("/v1/me", opt=signed_in())
    async def me(self, ctx: Context) -> MeOut:
        """The tiles to choose from: oneself as citizen, and every organisation of membership."""
        tiles, message = await ctx.run(use_cases.tiles, read_only=True, person_id=ctx.actor.person_id)
        return MeOut(
            person_id=ctx.actor.person_id,
            acting_for=ctx.actor.acting_for,
            tiles=[TileOut(kind=t.kind, organisation_id=t.organisation_id, name=t.name, role=t.role) for t in tiles],
            message=message,
        )

    @post("/v1/me/organisation", opt=signed_in(), status_code=200)
    async def choose(self, data: ChooseOrganisation, ctx: Context) -> TokenOut:
        """A token that acts for the chosen organisation (a membership is needed) or for oneself."""
        if data.organisation_id is not None:
            await ctx.run(use_cases.choose_organisation, read_only=True, actor=ctx.actor, organisation_id=data.organisation_id)
        return await _token(ctx.runtime, ctx.settings, ctx.actor.person_id, data.organisation_id)

    @get("/v1/dev-idp/jwks.json", opt=public(404), include_in_schema=False)
    async def development_provider_keys(self, ctx: Context) -> Jwks:
        return Jwks.model_validate({"keys": await _development_provider(ctx.runtime, ctx.settings).published()})

    @post("/v1/dev-idp/proofs", opt=public(404), status_code=201)
    async def development_proof(self, data: ProofRequest, ctx: Context) -> ProofOut:
        """Local runs and tests only: the proof a real identity provider would give after sign-in."""
        keys = _development_provider(ctx.runtime, ctx.settings)
        try:
            number = parse_national_register_number(data.national_register_number, today=ctx.today).value
        except InvalidNumber as error:
            raise problem_for(error) from None
        proof = await sign_development_proof(
            keys, national_register_number=number, issuer=ctx.settings.identity_provider_issuer, audience=ctx.settings.identity_provider_audience
        )
        return ProofOut(proof=proof)


def _platform_keys(runtime: ServiceRuntime) -> SigningKeys:
    keys = runtime.key_source
    if not isinstance(keys, SigningKeys):  # definition.py: identity signs with the keys in its own database
        raise RuntimeError("the identity service has no signing keys of its own")
    return keys


def _development_provider(runtime: ServiceRuntime, settings: Settings) -> SigningKeys:
    if not settings.development_identity_provider:
        raise Problem(404, detail="The development identity provider is off.")
    keys: SigningKeys = runtime.extensions["development_provider_keys"]
    return keys


async def _token(runtime: ServiceRuntime, settings: Settings, person_id: UUID, organisation_id: UUID | None) -> TokenOut:
    token, lifetime = await issue_access_token(
        _platform_keys(runtime),
        person_id=person_id,
        organisation_id=organisation_id,
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        lifetime_seconds=settings.access_token_seconds,
    )
    return TokenOut(access_token=token, token_type="Bearer", expires_in=lifetime, organisation_id=organisation_id)


# ------------------------------------------------------------------------------- organisations (operators, members, public)


class OrganisationController(Controller):
    path = "/v1"
    tags = ["organisations"]

    @post("/organisations", opt=signed_in(409), status_code=201)
    async def register(self, data: OrganisationIn, ctx: Context) -> OrganisationOut:
        return OrganisationOut.model_validate(await ctx.run(use_cases.register_organisation, actor=ctx.actor, **data.model_dump()))

    @get("/organisations", opt=signed_in())
    async def search(
        self,
        ctx: Context,
        enterprise_number: Annotated[str | None, Parameter(pattern=ENTERPRISE_NUMBER_PATTERN, max_length=20)] = None,
        institution_number: Annotated[str | None, Parameter(pattern=INSTITUTION_NUMBER_PATTERN)] = None,
        name: Annotated[str | None, Parameter(min_length=1, max_length=200, pattern=TEXT_PATTERN, description="A part of the name, any case.")] = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Page[OrganisationOut]:
        """The helpdesk (operators) finds organisations by enterprise number, institution number or
        a part of the name (each given narrows the search), in name order."""
        result = await ctx.run(
            use_cases.search_organisations,
            read_only=True,
            actor=ctx.actor,
            enterprise_number=enterprise_number,
            institution_number=institution_number,
            name=name,
            limit=limit,
            cursor=cursor,
        )
        return _page(OrganisationOut, result)

    @get("/organisations/{organisation_id:uuid}", opt=signed_in(404))
    async def read(self, organisation_id: UUID, ctx: Context) -> OrganisationOut:
        """An organisation: the helpdesk reads any, a member their own."""
        return OrganisationOut.model_validate(await ctx.run(use_cases.get_organisation, read_only=True, actor=ctx.actor, organisation_id=organisation_id))

    @patch("/organisations/{organisation_id:uuid}", opt=signed_in(404))
    async def change(self, organisation_id: UUID, data: OrganisationChange, ctx: Context) -> OrganisationOut:
        state = await ctx.run(use_cases.change_organisation, actor=ctx.actor, organisation_id=organisation_id, **data.model_dump())
        return OrganisationOut.model_validate(state)

    @put("/organisations/{organisation_id:uuid}/quality-registration", opt=signed_in(404))
    async def quality_registration(self, organisation_id: UUID, data: QualityRegistrationIn, ctx: Context) -> OrganisationOut:
        registration = QualityRegistration.model_validate(data.model_dump())
        state = await ctx.run(use_cases.change_organisation, actor=ctx.actor, organisation_id=organisation_id, quality_registration=registration)
        return OrganisationOut.model_validate(state)

    @post("/secondary-schools/import", opt=signed_in(409), status_code=200)
    async def import_schools(self, data: SchoolsImport, ctx: Context) -> ImportOut:
        return ImportOut.model_validate(await ctx.run(use_cases.import_secondary_schools, actor=ctx.actor, schools=[s.model_dump() for s in data.schools]))

    @get("/organisations/administrators", opt=public(429))
    async def find_administrators(
        self,
        request: Request[Any, Any, Any],
        ctx: Context,
        enterprise_number: Annotated[
            str | None, Parameter(pattern=ENTERPRISE_NUMBER_PATTERN, max_length=20, description="KBO enterprise number, e.g. 0403.170.701.")
        ] = None,
        name: Annotated[
            str | None,
            Parameter(min_length=3, max_length=200, pattern=TEXT_PATTERN, description="A part of the organisation's name (3 characters or more), any case."),
        ] = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Page[AdministratorsFound]:
        """ID-9: who are the (head) local administrators of an organisation, for whoever does not
        know its id: give the enterprise number or a part of the name (exactly one). Anyone may
        ask; the answer names the administrators and their contact address, never a national
        register number. Counted per caller's address (429 with Retry-After beyond the allowance); behind a
        trusted proxy (FORWARDED_ALLOW_IPS: the ingress, the portal) the address it forwards."""
        settings = ctx.settings
        client = request.client.host if request.client else "unknown"
        try:
            result = await ctx.run(
                use_cases.find_administrators,
                client=client,
                enterprise_number=enterprise_number,
                name=name,
                limit=limit,
                cursor=cursor,
                per_window=settings.administrator_searches_per_window,
                window_seconds=settings.administrator_searches_window_seconds,
            )
        except TooManyLookups as refused:
            await ctx.run(use_cases.refuse_public_search, client=client, retry_after_seconds=refused.retry_after_seconds)
            raise Problem(
                429,
                detail=f"Je hebt te veel organisaties opgezocht. Probeer het opnieuw over {refused.retry_after_seconds} seconden.",
                headers={"Retry-After": str(refused.retry_after_seconds)},
            ) from None
        return _page(AdministratorsFound, result)

    @get("/organisations/{organisation_id:uuid}/administrators", opt=public(404))
    async def administrators(self, organisation_id: UUID, ctx: Context) -> AdministratorsOut:
        """ID-9: who are this organisation's (head) local administrators: anyone may ask."""
        return AdministratorsOut.model_validate(await ctx.run(use_cases.administrators_of, organisation_id=organisation_id))

    @get("/catalogue", opt=public())
    async def catalogue(self, ctx: Context, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Page[CatalogueEntryOut]:
        """The rights that exist (role@context)."""
        return _page(CatalogueEntryOut, await ctx.run(use_cases.catalogue, read_only=True, limit=limit, cursor=cursor))

    @get("/themes", opt=public())
    async def themes(self, ctx: Context, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Page[ThemeOut]:
        """ID-13: the Mijn Onderwijs themes an administrator can give (the department keeps the list)."""
        return _page(ThemeOut, await ctx.run(use_cases.themes, read_only=True, limit=limit, cursor=cursor))

    @post("/organisations/{organisation_id:uuid}/head-administrators", opt=signed_in(404, 409), status_code=204)
    async def appoint_head(self, organisation_id: UUID, data: PersonRef, ctx: Context) -> None:
        await ctx.run(
            use_cases.appoint_administrator, actor=ctx.actor, organisation_id=organisation_id, person_id=data.person_id, level=MembershipRole.HEAD_ADMINISTRATOR
        )

    @delete("/organisations/{organisation_id:uuid}/head-administrators/{person_id:uuid}", opt=signed_in(404, 409), status_code=204)
    async def remove_head(self, organisation_id: UUID, person_id: UUID, ctx: Context) -> None:
        await ctx.run(
            use_cases.remove_administrator, actor=ctx.actor, organisation_id=organisation_id, person_id=person_id, level=MembershipRole.HEAD_ADMINISTRATOR
        )

    @post("/organisations/{organisation_id:uuid}/administrators", opt=signed_in(404, 409), status_code=204)
    async def appoint(self, organisation_id: UUID, data: PersonRef, ctx: Context) -> None:
        await ctx.run(
            use_cases.appoint_administrator,
            actor=ctx.actor,
            organisation_id=organisation_id,
            person_id=data.person_id,
            level=MembershipRole.LOCAL_ADMINISTRATOR,
        )

    @delete("/organisations/{organisation_id:uuid}/administrators/{person_id:uuid}", opt=signed_in(404), status_code=204)
    async def remove(self, organisation_id: UUID, person_id: UUID, ctx: Context) -> None:
        await ctx.run(
            use_cases.remove_administrator, actor=ctx.actor, organisation_id=organisation_id, person_id=person_id, level=MembershipRole.LOCAL_ADMINISTRATOR
        )

    @get("/organisations/{organisation_id:uuid}/audit", opt=signed_in(404))
    async def organisation_audit(self, organisation_id: UUID, ctx: Context, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Page[AuditEntryOut]:
        """ID-12: the organisation's audit trail, newest first (its administrators)."""
        result = await ctx.run(use_cases.audit_trail, actor=ctx.actor, organisation_id=organisation_id, limit=limit, cursor=cursor)
        return _page(AuditEntryOut, result)

    @get("/audit", opt=signed_in())
    async def all_audit(self, ctx: Context, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Page[AuditEntryOut]:
        """ID-12: the whole audit trail, newest first (the helpdesk)."""
        return _page(AuditEntryOut, await ctx.run(use_cases.audit_trail, actor=ctx.actor, organisation_id=None, limit=limit, cursor=cursor))


# ------------------------------------------------------------------------------- persons (local administrators, operators)

_PERSON_SHOWN = "The person was already on the platform (ID-4): in full for the helpdesk and the administrators of an organisation they belong to, otherwise only enough to confirm the match."


def _person(shown: dict[str, Any]) -> PersonOut | PersonMatch:
    return PersonOut.model_validate(shown) if shown["disclosure"] == "full" else PersonMatch.model_validate(shown)


class PersonController(Controller):
    path = "/v1/persons"
    tags = ["persons"]

    @post("/lookup", opt=signed_in(404, 429), status_code=200)
    async def lookup(self, data: NumberIn, ctx: Context) -> PersonOut | PersonMatch:
        """By national register number, in the body: never in a URL, where it would be logged.
        Audited and limited per administrator (429 with Retry-After beyond the allowance)."""
        person = await _counted(
            ctx,
            use_cases.lookup_person,
            actor=ctx.actor,
            national_register_number=data.national_register_number,
        )
        if person is None:
            raise Problem(404, detail="No person with this national register number: register them.")
        return _person(person)

    @post(
        "",
        opt=signed_in(429),
        status_code=201,
        responses={
            201: ResponseSpec(data_container=PersonOut, description="The person is registered now.", generate_examples=False),
            200: ResponseSpec(data_container=PersonOut | PersonMatch, description=_PERSON_SHOWN, generate_examples=False),  # type: ignore[arg-type]
        },
    )
    async def register(self, data: PersonIn, ctx: Context) -> Response[PersonOut | PersonMatch]:
        """ID-4: registers the person (201), or finds them already registered by their number (200)."""
        person, created = await _counted(
            ctx,
            use_cases.register_person,
            actor=ctx.actor,
            today=ctx.actor.today,
            student_pseudonym=pii.pseudonym(pii.keys_for(ctx.settings), data.national_register_number),
            **data.model_dump(),
        )
        return Response(_person(person), status_code=201 if created else 200)


async def _counted(ctx: Context, use_case: Any, /, **kwargs: Any) -> Any:
    """Runs a look-up by national register number within the administrator's allowance; beyond
    it, the refusal is audited and answered 429 with the seconds to wait."""
    settings = ctx.settings
    try:
        return await ctx.run(use_case, per_window=settings.person_lookups_per_window, window_seconds=settings.person_lookups_window_seconds, **kwargs)
    except TooManyLookups as refused:
        await ctx.run(use_cases.refuse_lookup, actor=ctx.actor, retry_after_seconds=refused.retry_after_seconds)
        raise Problem(
            429,
            detail=f"Je hebt te veel personen opgezocht op rijksregisternummer. Probeer het opnieuw over {refused.retry_after_seconds} seconden.",
            headers={"Retry-After": str(refused.retry_after_seconds)},
        ) from None


# ------------------------------------------------------------------------------- members, rights, requests, themes (local administrators)


class MembershipController(Controller):
    path = "/v1/organisations/{organisation_id:uuid}"
    tags = ["members and rights"]

    @get("/members", opt=signed_in(404))
    async def members(self, organisation_id: UUID, ctx: Context, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Page[MemberOut]:
        """The organisation's members (its administrators ask), in name order, with their membership
        and the rights that still count; members without rights too."""
        result = await ctx.run(use_cases.members_of, read_only=True, actor=ctx.actor, organisation_id=organisation_id, limit=limit, cursor=cursor)
        return _page(MemberOut, result)

    @get("/members/{person_id:uuid}", opt=signed_in(404))
    async def member(self, organisation_id: UUID, person_id: UUID, ctx: Context) -> MemberOut:
        """One member as the list shows them (its administrators ask); 404 when not a member."""
        return MemberOut.model_validate(
            await ctx.run(use_cases.member_of, read_only=True, actor=ctx.actor, organisation_id=organisation_id, person_id=person_id)
        )

    @post("/members", opt=signed_in(404), status_code=204)
    async def add_member(self, organisation_id: UUID, data: PersonRef, ctx: Context) -> None:
        await ctx.run(use_cases.add_member, actor=ctx.actor, organisation_id=organisation_id, person_id=data.person_id)

    @delete("/members/{person_id:uuid}", opt=signed_in(404, 409), status_code=204)
    async def remove_member(self, organisation_id: UUID, person_id: UUID, ctx: Context) -> None:
        await ctx.run(use_cases.remove_member, actor=ctx.actor, organisation_id=organisation_id, person_id=person_id)

    @post("/rights", opt=signed_in(404, 409), status_code=201)
    async def grant(self, organisation_id: UUID, data: RightIn, ctx: Context) -> RightOut:
        """ID-3, ID-6, ID-14: a member gets role@context; an unknown person is a 404, a non-member a 409."""
        return RightOut.model_validate(await ctx.run(use_cases.grant_right, actor=ctx.actor, organisation_id=organisation_id, **data.model_dump()))

    @patch("/rights/{right_id:uuid}", opt=signed_in(404))
    async def change_validity(self, organisation_id: UUID, right_id: UUID, data: ValidityIn, ctx: Context) -> RightOut:
        changed = await ctx.run(use_cases.change_right_validity, actor=ctx.actor, organisation_id=organisation_id, right_id=right_id, **data.model_dump())
        return RightOut.model_validate(changed)

    @delete("/rights/{right_id:uuid}", opt=signed_in(404), status_code=204)
    async def revoke(self, organisation_id: UUID, right_id: UUID, ctx: Context) -> None:
        await ctx.run(use_cases.revoke_right, actor=ctx.actor, organisation_id=organisation_id, right_id=right_id)

    @get("/rights", opt=signed_in(404))
    async def report(self, organisation_id: UUID, ctx: Context, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Page[RightRow]:
        return _page(RightRow, await ctx.run(use_cases.rights_report, actor=ctx.actor, organisation_id=organisation_id, limit=limit, cursor=cursor))

    @get("/rights.csv", opt=signed_in(404), media_type="text/csv")
    async def report_csv(self, organisation_id: UUID, ctx: Context) -> Response[str]:
        """The whole rights report as a file (semicolon-separated, as spreadsheets in Flanders read it)."""
        rows, _ = await ctx.run(use_cases.rights_report, actor=ctx.actor, organisation_id=organisation_id)
        out = io.StringIO()
        columns = ["last_name", "first_name", "membership", "context", "role", "valid_from", "valid_until", "active", "person_id", "right_id"]
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", delimiter=";")
        writer.writeheader()
        writer.writerows(rows)
        return Response(out.getvalue(), media_type="text/csv", headers={"content-disposition": f'attachment; filename="rechten-{organisation_id}.csv"'})

    @post("/right-requests", opt=signed_in(404, 409), status_code=201)
    async def request_right(self, organisation_id: UUID, data: RightRequestIn, ctx: Context) -> RightRequestCreated:
        return RightRequestCreated.model_validate(await ctx.run(use_cases.request_right, actor=ctx.actor, organisation_id=organisation_id, **data.model_dump()))

    @get("/right-requests", opt=signed_in(404))
    async def right_requests(
        self, organisation_id: UUID, ctx: Context, status: RequestStatus | None = None, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
    ) -> Page[RightRequestOut]:
        """The organisation's right requests, oldest first (its administrators)."""
        result = await ctx.run(
            use_cases.right_requests, read_only=True, actor=ctx.actor, organisation_id=organisation_id, status=status, limit=limit, cursor=cursor
        )
        return _page(RightRequestOut, result)

    @post("/right-requests/{request_id:uuid}/decision", opt=signed_in(404, 409), status_code=200)
    async def decide(self, organisation_id: UUID, request_id: UUID, data: DecisionIn, ctx: Context) -> DecisionOut:
        decided = await ctx.run(use_cases.decide_right_request, actor=ctx.actor, organisation_id=organisation_id, request_id=request_id, **data.model_dump())
        return DecisionOut.model_validate(decided)

    @post("/themes", opt=signed_in(404, 409), status_code=204)
    async def grant_theme(self, organisation_id: UUID, data: ThemeIn, ctx: Context) -> None:
        """ID-13: a theme of the catalogue (GET /v1/themes) for a member."""
        await ctx.run(use_cases.grant_theme, actor=ctx.actor, organisation_id=organisation_id, **data.model_dump())

    @delete("/themes/{person_id:uuid}/{theme:str}", opt=signed_in(404), status_code=204)
    async def revoke_theme(
        self, organisation_id: UUID, person_id: UUID, theme: Annotated[str, Parameter(pattern=CATALOGUE_KEY_PATTERN, max_length=100)], ctx: Context
    ) -> None:
        await ctx.run(use_cases.revoke_theme, actor=ctx.actor, organisation_id=organisation_id, person_id=person_id, theme=theme)


# ------------------------------------------------------------------------------- one's own rights and requests


class MeController(Controller):
    path = "/v1/me"
    tags = ["sign-in"]

    @get("/rights", opt=signed_in(404))
    async def my_rights(self, ctx: Context, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Page[MyRightOut]:
        """One's own rights in every organisation of membership that still count (granting today or later)."""
        return _page(MyRightOut, await ctx.run(use_cases.my_rights, read_only=True, actor=ctx.actor, limit=limit, cursor=cursor))

    @get("/right-requests", opt=signed_in(404))
    async def my_right_requests(
        self, ctx: Context, status: RequestStatus | None = None, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
    ) -> Page[MyRightRequestOut]:
        """One's own right requests in every organisation, newest first."""
        result = await ctx.run(use_cases.my_right_requests, read_only=True, actor=ctx.actor, status=status, limit=limit, cursor=cursor)
        return _page(MyRightRequestOut, result)

    @post("/right-requests/{request_id:uuid}/withdraw", opt=signed_in(404, 409), status_code=200)
    async def withdraw(self, request_id: UUID, ctx: Context) -> MyRightRequestOut:
        """ID-8: withdraw one's own pending request; it ends as cancelled (409 once decided)."""
        return MyRightRequestOut.model_validate(await ctx.run(use_cases.withdraw_right_request, actor=ctx.actor, request_id=request_id))


# ------------------------------------------------------------------------------- the check (applications)


@get("/v1/check", opt=signed_in(), tags=["check"])
async def check(
    ctx: Context,
    person_id: UUID,
    organisation_id: UUID,
    role: Annotated[str, Parameter(pattern=CATALOGUE_KEY_PATTERN, max_length=100)],
    context: Annotated[str, Parameter(pattern=CATALOGUE_KEY_PATTERN, max_length=100)],
    theme: Annotated[str | None, Parameter(pattern=CATALOGUE_KEY_PATTERN, max_length=100)] = None,
) -> CheckOut:
    """May this person act as role@context for this organisation today (and read documents of
    this theme)? Applications ask this, e.g. the dual-learning app (ID-7), Mijn Onderwijs (ID-13).

    The hot path: one query outside a transaction (read_only), no audit; the answer a plain dict
    typed as CheckOut (nothing to build but the dict)."""
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


ROUTES: list[ControllerRouterHandler] = [SignInController, OrganisationController, PersonController, MembershipController, MeController, check]
