"""Sign-in (through the development identity provider here, or the configured OpenID Connect
provider), the tiles to choose whom to act for (ID-10), the start page of each tile, signing out."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

import httpx
from litestar import Request, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from portal.api import ApiProblem
from portal.sessions import now
from portal.web import api_of, form_of, page, redirect, session_of, settings_of, signed_in, values


def _safe_next(path: str | None) -> str:
    """Only a path of this portal (no other site after sign-in)."""
    if not path or not path.startswith("/") or path.startswith("//") or any(c == "\\" or ord(c) < 0x21 or ord(c) == 0x7F for c in path):
        return "/"  # also no tab or newline: browsers drop them, and "/\t/evil.example" would become "//evil.example"
    return path


@get("/")
async def home(request: Request[Any, Any, Any]) -> Template | Redirect:
    session = session_of(request)
    if session.signed_in and session.acting_for is None:
        return Redirect("/kies", status_code=303)
    return page(request, "pages/home.html")


@get("/aanmelden")
async def sign_in_page(request: Request[Any, Any, Any], volgende: str | None = None) -> Template:
    session = session_of(request)
    return page(
        request,
        "pages/sign_in.html",
        next_path=_safe_next(volgende),
        development=settings_of(request).development_sign_in,
        oidc=settings_of(request).oidc_configured,
        persons=settings_of(request).test_persons,
        expired=bool(session.data.get("expired")),
    )


@post("/aanmelden")
async def sign_in(request: Request[Any, Any, Any]) -> Template | Redirect:
    """The development identity provider: a test person by national register number."""
    form = await form_of(request)
    typed = values(form, "national_register_number", "volgende")
    next_path = _safe_next(typed["volgende"])
    settings = settings_of(request)
    api = api_of(request)

    def again(errors: dict[str, str], problem: ApiProblem | None = None, status: int = 422) -> Template:
        return page(
            request,
            "pages/sign_in.html",
            status_code=status,
            next_path=next_path,
            development=settings.development_sign_in,
            oidc=settings.oidc_configured,
            persons=settings.test_persons,
            errors=errors,
            values=typed,
            problem=problem,
        )

    if not settings.development_sign_in:
        return again({}, ApiProblem(404, "Aanmelden met de testpersonen is hier uitgeschakeld."), 404)
    number = "".join(c for c in typed["national_register_number"] if c.isdigit())
    if not number:
        return again({"national_register_number": "Vul een rijksregisternummer in."})
    try:
        proof = await api.post("identity", "/v1/dev-idp/proofs", {"national_register_number": number}, signed=False)
        return await _signed_in_with(request, proof["proof"], next_path)
    except ApiProblem as problem:
        if problem.status == 422:
            return again({"national_register_number": "Dit is geen geldig rijksregisternummer (controlegetal of geboortedatum klopt niet)."})
        if problem.status == 403:
            return again({}, problem, 403)
        raise


@get("/aanmelden/digitale-sleutel")
async def sign_in_with_digital_key(request: Request[Any, Any, Any], volgende: str | None = None) -> Redirect | Template:
    """To the OpenID Connect provider (authorization code with PKCE; state and nonce kept in the session)."""
    settings = settings_of(request)
    if not settings.oidc_configured:
        return page(
            request, "pages/error.html", status_code=404, title="Niet beschikbaar", message="Aanmelden met een digitale sleutel is hier niet ingesteld."
        )
    verifier = secrets.token_urlsafe(48)
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    session_of(request).set("oidc", {"state": state, "nonce": nonce, "verifier": verifier, "next": _safe_next(volgende)})
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urlencode(
        {
            "response_type": "code",
            "client_id": settings.oidc_client_id,
            "redirect_uri": settings.oidc_redirect_uri,
            "scope": settings.oidc_scope,
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    return Redirect(f"{settings.oidc_authorization_endpoint}?{query}", status_code=303)


@get("/aanmelden/terug")
async def back_from_digital_key(
    request: Request[Any, Any, Any],
    code: str | None = None,
    returned_state: Annotated[str | None, Parameter(query="state")] = None,  # `state` is Litestar's own name
    error: str | None = None,
) -> Redirect | Template:
    """The provider sends the browser back with a code: exchanged for the ID token, which identity
    checks and exchanges for a platform token."""
    settings = settings_of(request)
    started = session_of(request).pop("oidc")

    def refused(message: str) -> Template:
        return page(request, "pages/error.html", status_code=400, title="Aanmelden niet gelukt", message=message)

    if not settings.oidc_configured or not started or not returned_state or not secrets.compare_digest(returned_state, started["state"]):
        return refused("Dit aanmeldverzoek is verlopen of komt niet van dit portaal. Meld je opnieuw aan.")
    if error or not code:
        return refused("Je hebt het aanmelden afgebroken, of de identiteitsprovider weigerde het. Probeer opnieuw.")
    async with httpx.AsyncClient(timeout=settings.api_timeout_seconds) as client:
        answer = await client.post(
            str(settings.oidc_token_endpoint),
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": settings.oidc_redirect_uri,
                "client_id": settings.oidc_client_id,
                "code_verifier": started["verifier"],
            },
            auth=httpx.BasicAuth(str(settings.oidc_client_id), settings.oidc_client_secret) if settings.oidc_client_secret else httpx.USE_CLIENT_DEFAULT,
        )
    id_token = answer.json().get("id_token") if answer.status_code == 200 else None
    if not isinstance(id_token, str) or _claims(id_token).get("nonce") != started["nonce"]:
        return refused("De identiteitsprovider gaf geen geldig bewijs. Probeer opnieuw.")
    try:
        return await _signed_in_with(request, id_token, started["next"])  # identity checks the signature, issuer and audience
    except ApiProblem as problem:
        if problem.status == 403:
            return page(request, "pages/error.html", status_code=403, title="Nog niet gekend", message=problem.detail)
        raise


def _claims(token: str) -> dict[str, Any]:
    """The ID token's claims, unverified: only to compare the nonce; identity verifies the token."""
    try:
        payload = token.split(".")[1]
        claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return claims
    except (IndexError, ValueError):
        return {}


async def _signed_in_with(request: Request[Any, Any, Any], proof: str, next_path: str) -> Redirect:
    """Exchange the proof for a platform token, then on to the tiles (or back where a token expired)."""
    api = api_of(request)
    session = session_of(request)
    token = await api.post("identity", "/v1/sign-in", {"proof": proof}, signed=False)
    resume_tile = session.pop("resume_acting_for")
    session.sign_in(person_token=token["access_token"], expires_at=now() + timedelta(seconds=int(token["expires_in"]) - 30), person={})
    me = await api.get("identity", "/v1/me")
    citizen = next((t for t in me["tiles"] if t["kind"] == "citizen"), None)
    session.set("person", {"person_id": me["person_id"], "name": citizen["name"] if citizen else ""})
    # Back to where the token expired, acting for the same organisation as before (when still a member).
    if resume_tile and resume_tile.get("kind") == "organisation":
        if any(t["organisation_id"] == resume_tile["organisation_id"] for t in me["tiles"] if t["kind"] == "organisation"):
            await _act_as(request, resume_tile)
            return Redirect(next_path, status_code=303)
    elif resume_tile and resume_tile.get("kind") == "citizen":
        await _act_as(request, resume_tile)
        return Redirect(next_path, status_code=303)
    organisations = [t for t in me["tiles"] if t["kind"] == "organisation"]
    if not organisations and citizen is not None:
        await _act_as(request, citizen)  # only the citizen tile: nothing to choose
        if me.get("message"):
            session.flash(me["message"], kind="info")
        return Redirect(next_path if next_path != "/" else "/burger", status_code=303)
    if next_path != "/":
        session.set("after_choice", next_path)
    return Redirect("/kies", status_code=303)


async def _act_as(request: Request[Any, Any, Any], tile: dict[str, Any]) -> None:
    session = session_of(request)
    api = api_of(request)
    session.set("token", None)  # the person's own token chooses
    token = await api.post("identity", "/v1/me/organisation", {"organisation_id": tile.get("organisation_id")})
    session.act_as(
        tile={k: tile.get(k) for k in ("kind", "organisation_id", "name", "role")},
        token=token["access_token"],
        expires_at=now() + timedelta(seconds=int(token["expires_in"]) - 30),
    )
    await refresh_rights(request)


async def refresh_rights(request: Request[Any, Any, Any]) -> list[str]:
    """The person's rights active today for the chosen organisation ("role@context"): the menu
    shows only what they can use (the services still decide every request)."""
    session = session_of(request)
    organisation = session.organisation_id
    rights: list[str] = []
    if organisation is not None:
        cursor: str | None = None
        while True:
            page_ = await api_of(request).get("identity", "/v1/me/rights", params={"limit": 100, "cursor": cursor})
            rights += [f"{r['role']}@{r['context']}" for r in page_["items"] if r["organisation_id"] == organisation and r["active"]]
            cursor = page_.get("next_cursor")
            if not cursor:
                break
    session.set("rights", sorted(set(rights)))
    return rights


@get("/kies")
async def tiles(request: Request[Any, Any, Any]) -> Template:
    signed_in(request)
    me = await api_of(request).get("identity", "/v1/me")
    return page(request, "pages/tiles.html", tiles=me["tiles"], message=me.get("message"))


@post("/kies")
async def choose(request: Request[Any, Any, Any]) -> Redirect:
    session = signed_in(request)
    form = await form_of(request)
    chosen = values(form, "organisation_id")["organisation_id"]
    session.set("token", None)
    me = await api_of(request).get("identity", "/v1/me")
    tile = next((t for t in me["tiles"] if (t["organisation_id"] or "") == chosen), None)
    if tile is None:
        return redirect("/kies", message="Je kunt niet voor die organisatie werken.", request=request)
    await _act_as(request, tile)
    after = session.pop("after_choice")
    if tile["kind"] == "citizen":
        return Redirect(_safe_next(after) if after else "/burger", status_code=303)
    return Redirect(_safe_next(after) if after else "/organisatie", status_code=303)


@post("/afmelden")
async def sign_out(request: Request[Any, Any, Any]) -> Redirect:
    await form_of(request)
    session_of(request).end()
    return Redirect("/afgemeld", status_code=303)


@get("/afgemeld")
async def signed_out(request: Request[Any, Any, Any]) -> Template:
    return page(request, "pages/signed_out.html")


@get("/organisatie")
async def organisation_home(request: Request[Any, Any, Any]) -> Template | Redirect:
    session = signed_in(request)
    tile = session.acting_for
    if not tile or tile.get("kind") != "organisation":
        return Redirect("/kies", status_code=303)
    await refresh_rights(request)  # rights change: the start page is where the menu catches up
    return page(request, "pages/organisation_home.html", tile=tile)


@get("/burger")
async def citizen_home(request: Request[Any, Any, Any]) -> Template | Redirect:
    session = signed_in(request)
    tile = session.acting_for
    if not tile or tile.get("kind") != "citizen":
        return Redirect("/kies", status_code=303)
    return page(request, "pages/citizen_home.html")


@get("/health/ready", opt={"plain": True})
async def ready(request: Request[Any, Any, Any]) -> dict[str, str]:
    await request.app.state.sessions.pool.fetchval("SELECT 1")
    return {"status": "ready"}


ROUTES = [
    home,
    sign_in_page,
    sign_in,
    sign_in_with_digital_key,
    back_from_digital_key,
    tiles,
    choose,
    sign_out,
    signed_out,
    organisation_home,
    citizen_home,
    ready,
]
