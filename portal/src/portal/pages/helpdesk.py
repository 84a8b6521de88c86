"""The helpdesk (the department's operators, operator@department): find organisations, register
one, and appoint its head local administrator (ID-1), so that organisation can manage itself."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template

from portal.api import ApiProblem
from portal.web import api_of, form_errors, form_of, organisation_id, page, redirect, values

KINDS = [
    ("training_provider", "Opleidingsverstrekker"),
    ("service_provider", "Externe dienstverlener"),
    ("secondary_school", "Secundaire school"),
    ("adult_education_centre", "Centrum voor volwassenenonderwijs"),
    ("higher_education", "Hoger onderwijs"),
    ("syntra", "SYNTRA"),
    ("employer", "Werkgever"),
    ("other", "Andere"),
]
GENDERS = [("female", "Vrouw"), ("male", "Man"), ("x", "X")]
ORGANISATION_FIELDS = ("name", "kind", "enterprise_number", "institution_number", "contact_email")
HEAD_FIELDS = ("national_register_number", "first_name", "last_name", "gender", "date_of_birth", "email")


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


@get("/helpdesk")
async def organisations(request: Request[Any, Any, Any], naam: str | None = None, ondernemingsnummer: str | None = None, cursor: str | None = None) -> Template:
    organisation_id(request)
    api = api_of(request)
    search = {"name": (naam or "").strip() or None, "enterprise_number": _digits(ondernemingsnummer or "") or None}
    found = None
    if any(search.values()) or cursor:
        found = await api.get("identity", "/v1/organisations", params={**search, "limit": 20, "cursor": cursor})
    return page(
        request, "helpdesk/organisations.html", title="Helpdesk: organisaties", found=found, naam=naam or "", ondernemingsnummer=ondernemingsnummer or ""
    )


@get("/helpdesk/organisaties/nieuw")
async def new_organisation(request: Request[Any, Any, Any]) -> Template:
    organisation_id(request)
    return page(request, "helpdesk/new_organisation.html", title="Organisatie registreren", kinds=KINDS, values={"kind": "training_provider"})


@post("/helpdesk/organisaties/nieuw")
async def register_organisation(request: Request[Any, Any, Any]) -> Template | Redirect:
    organisation_id(request)
    form = await form_of(request)
    typed = values(form, *ORGANISATION_FIELDS)
    body: dict[str, Any] = {
        "name": typed["name"],
        "kind": typed["kind"],
        "enterprise_number": _digits(typed["enterprise_number"]) or None,
        "institution_number": typed["institution_number"] or None,
        "contact_email": typed["contact_email"] or None,
    }
    try:
        created = await api_of(request).post("identity", "/v1/organisations", body)
    except ApiProblem as problem:
        if problem.status in (409, 422):
            return form_errors(request, "helpdesk/new_organisation.html", problem, values=typed, title="Organisatie registreren", kinds=KINDS)
        raise
    return redirect(
        f"/helpdesk/organisaties/{created['organisation_id']}",
        message=f"{created['name']} is geregistreerd. Duid nu de hoofd lokale beheerder aan.",
        request=request,
    )


async def _organisation_page(request: Request[Any, Any, Any], chosen: str, *, status_code: int = 200, **context: Any) -> Template:
    api = api_of(request)
    organisation = await api.get("identity", f"/v1/organisations/{chosen}")
    administrators = await api.get("identity", f"/v1/organisations/{chosen}/administrators", signed=False)
    return page(
        request,
        "helpdesk/organisation.html",
        title=organisation["name"],
        organisation=organisation,
        administrators=administrators["administrators"],
        kinds=dict(KINDS),
        genders=GENDERS,
        status_code=status_code,
        **context,
    )


@get("/helpdesk/organisaties/{chosen:uuid}")
async def organisation(request: Request[Any, Any, Any], chosen: Any) -> Template:
    organisation_id(request)
    return await _organisation_page(request, str(chosen))


@post("/helpdesk/organisaties/{chosen:uuid}")
async def appoint_head(request: Request[Any, Any, Any], chosen: Any) -> Template | Redirect:
    """ID-1: the head local administrator, registered as a person if new (ID-4), then appointed."""
    organisation_id(request)
    form = await form_of(request)
    typed = values(form, *HEAD_FIELDS)
    api = api_of(request)
    person_body = {**typed, "national_register_number": _digits(typed["national_register_number"])}
    try:
        person = await api.post("identity", "/v1/persons", person_body)
        await api.post("identity", f"/v1/organisations/{chosen}/head-administrators", {"person_id": person["person_id"]})
    except ApiProblem as problem:
        if problem.status in (409, 422):
            errors = problem.field_errors() if problem.status == 422 else {}
            # The number as typed is not shown again in an error; it stays in its field only.
            return await _organisation_page(
                request, str(chosen), errors=errors, values=typed, problem=None if errors else problem, status_code=422 if errors else 409
            )
        raise
    return redirect(
        f"/helpdesk/organisaties/{chosen}", message=f"{typed['first_name']} {typed['last_name']} is hoofd lokale beheerder (regel ID-1).", request=request
    )


ROUTES = [organisations, new_organisation, register_organisation, organisation, appoint_head]
