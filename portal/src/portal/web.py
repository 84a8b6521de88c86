"""What every page uses: the session, the API, forms with their CSRF token, rendering and
redirects. Pages live in `portal.pages.<area>`; each form posts to its own page's URL."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import quote

from litestar import Request
from litestar.datastructures import FormMultiDict
from litestar.response import Redirect, Template

from portal.api import Api, ApiProblem, SignInNeeded
from portal.sessions import PortalSession
from portal.settings import PortalSettings
from service_runtime.logging import correlation_id_var

CSRF_FIELD = "csrf_token"


class CsrfRefused(Exception):
    """A form posted without the token of this session (another site's form, or an old page)."""


class NotActingFor(Exception):
    """The page needs a chosen tile of another kind (an organisation, the citizen)."""


def session_of(request: Request[Any, Any, Any]) -> PortalSession:
    """The request's session (an empty one where the middleware did not run: an unknown path)."""
    state = request.scope.setdefault("state", {})
    session: PortalSession = state.setdefault("session", PortalSession())
    return session


def settings_of(request: Request[Any, Any, Any]) -> PortalSettings:
    settings: PortalSettings = request.app.state.settings
    return settings


def api_of(request: Request[Any, Any, Any]) -> Api:
    # The browser's address (uvicorn's proxy_headers resolved it behind the ingress) goes to the
    # services as X-Forwarded-For: a limit per caller counts people, not the portal.
    client = request.client.host if request.client else None
    return Api(request.app.state.clients, session_of(request), correlation_id_var.get(), client=client)


def signed_in(request: Request[Any, Any, Any]) -> PortalSession:
    """The session of a signed-in person, or off to sign-in (and back here after it)."""
    session = session_of(request)
    if not session.signed_in:
        raise SignInNeeded()
    return session


def organisation_id(request: Request[Any, Any, Any]) -> str:
    """The organisation the signed-in person acts for (chosen on the tiles, ID-10)."""
    session = signed_in(request)
    chosen = session.organisation_id
    if chosen is None:
        raise NotActingFor()
    return chosen


async def form_of(request: Request[Any, Any, Any]) -> FormMultiDict:
    """The posted form, after checking its CSRF token against the session's."""
    form = await request.form()
    # Kept for the exception handlers (which cannot await): a step's input survives a sign-in.
    typed: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if key != CSRF_FIELD and isinstance(value, str):
            typed.setdefault(key, []).append(value)
    request.scope.setdefault("state", {})["form"] = {k: v[0] if len(v) == 1 else v for k, v in typed.items()}
    sent = form.get(CSRF_FIELD)
    expected = session_of(request).data.get("csrf")
    if not isinstance(sent, str) or not expected or not secrets.compare_digest(sent, expected):
        raise CsrfRefused()
    return form


def check_csrf_query(request: Request[Any, Any, Any]) -> None:
    """For a streamed upload, the token travels in the form's action URL (the body is not read first)."""
    sent = request.query_params.get(CSRF_FIELD)
    expected = session_of(request).data.get("csrf")
    if not sent or not expected or not secrets.compare_digest(sent, expected):
        raise CsrfRefused()


def values(form: FormMultiDict, *names: str) -> dict[str, str]:
    """The named fields as typed (trimmed); missing ones empty."""
    found: dict[str, str] = {}
    for name in names:
        value = form.get(name)
        found[name] = value.strip() if isinstance(value, str) else ""
    return found


def page(request: Request[Any, Any, Any], template: str, *, status_code: int = 200, **context: Any) -> Template:
    """Render a page with what the layout needs (who is signed in, the chosen tile, messages, the CSRF token)."""
    session = session_of(request)
    return Template(
        template_name=template,
        context={
            "session": session,
            "person": session.person,
            "acting_for": session.acting_for,
            "flashes": session.take_flashes(),
            "csrf_token": session.csrf_token,  # a callable: the session is stored only when a form needs it
            "csrf_field": CSRF_FIELD,
            "path": request.url.path,
            "menu": menu(session),
            "errors": context.pop("errors", {}),
            "values": context.pop("values", {}),
            **context,
        },
        status_code=status_code,
    )


def form_errors(request: Request[Any, Any, Any], template: str, problem: ApiProblem, *, values: dict[str, Any], prefix: str = "", **context: Any) -> Template:
    """The same page again with what was typed, each field's error next to it and in the summary
    at the top (422), or the service's reason and rule above the form (409, 403 ...)."""
    errors = problem.field_errors(prefix) if problem.status == 422 else {}
    return page(
        request,
        template,
        status_code=422 if problem.status == 422 else 409 if problem.status == 409 else 400 if problem.status < 500 else problem.status,
        errors=errors,
        values=values,
        problem=None if errors else problem,
        **context,
    )


# The areas of an organisation's menu and the rights that open them ("role@context"; "*" any context).
AREAS = [
    ("Gebruikersbeheer", "/organisatie/gebruikers", ("administrator",)),
    ("Opleidingen (ODB)", "/opleidingen", ("dwse_organisation_officer@training_database",)),
    ("Platos", "/platos", ("dwse_organisation_officer@platos",)),
    ("Attesten opleidingsverlof", "/attesten", ("dwse_organisation_officer@training_database", "dwse_organisation_officer@training_leave")),
    ("Werkbakken", "/departement", ("case_handler@*",)),
    ("Helpdesk", "/helpdesk", ("operator@department",)),
]


def menu(session: PortalSession) -> list[tuple[str, str]]:
    """(text, path) of the areas the chosen tile opens: for an organisation, by the person's rights
    and administrator role; the services still decide every request."""
    tile = session.acting_for
    if not tile or tile.get("kind") != "organisation":
        return []
    rights = set(session.data.get("rights") or [])
    roles = {right.split("@")[0] for right in rights}
    administrator = tile.get("role") in ("head_administrator", "local_administrator")
    shown = [("Start", "/organisatie")]
    for text, path, needs in AREAS:
        if any((need == "administrator" and administrator) or need in rights or (need.endswith("@*") and need[:-2] in roles) for need in needs):
            shown.append((text, path))
    shown.append(("Mijn gebruikersrechten", "/organisatie/mijn-rechten"))
    return shown


def redirect(path: str, *, message: str | None = None, request: Request[Any, Any, Any] | None = None) -> Redirect:
    if message and request is not None:
        session_of(request).flash(message)
    return Redirect(path, status_code=303)


def sign_in_url(next_path: str) -> str:
    return f"/aanmelden?volgende={quote(next_path, safe='/')}"
