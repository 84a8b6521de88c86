"""Gebruikersbeheer: what an organisation's (head) local administrators do (ID-2 to ID-6, ID-8,
ID-12, ID-13), what a member sees of their own rights and right requests (ID-8), and who is
the local administrator of an organisation, for anyone (ID-9).

Everything through identity's public API with the person's platform token. National register
numbers travel only in POST bodies (typed in a form, sent on in the body to identity), never in
a URL, and are never shown back but masked.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import httpx
from litestar import Request, get, post
from litestar.response import Redirect, Stream, Template

from portal import formats
from portal.api import Api, ApiProblem, SignInNeeded
from portal.web import api_of, form_errors, form_of, organisation_id, page, redirect, session_of, signed_in, values
from service_runtime.logging import correlation_id_var

BRUSSELS = ZoneInfo("Europe/Brussels")
ADMINISTRATORS = ("head_administrator", "local_administrator")
MEMBERSHIP = {"head_administrator": "Hoofd lokale beheerder", "local_administrator": "Lokale beheerder", "user": "Gebruiker"}
STATUS = {"pending": "In behandeling", "approved": "Goedgekeurd", "refused": "Geweigerd", "cancelled": "Ingetrokken"}
STATUS_TAG = {"pending": "tag--warning", "approved": "tag--done", "refused": "tag--error", "cancelled": ""}
GENDERS = [("female", "Vrouw"), ("male", "Man"), ("x", "X")]
ACTIONS = {
    "membership.added": "Gebruiker toegevoegd",
    "membership.removed": "Gebruiker verwijderd",
    "local_administrator.appointed": "Lokale beheerder aangesteld",
    "local_administrator.removed": "Lokale beheerder verwijderd",
    "head_administrator.appointed": "Hoofd lokale beheerder aangeduid",
    "head_administrator.removed": "Hoofd lokale beheerder verwijderd",
    "right.granted": "Gebruikersrecht toegekend",
    "right.revoked": "Gebruikersrecht ingetrokken",
    "right.validity_changed": "Geldigheid gewijzigd",
    "right.requested": "Gebruikersrecht aangevraagd",
    "right_request.approved": "Aanvraag goedgekeurd",
    "right_request.refused": "Aanvraag geweigerd",
    "right_request.withdrawn": "Aanvraag ingetrokken door de aanvrager",
    "theme.granted": "Thema gegeven",
    "theme.revoked": "Thema afgenomen",
    "person.registered": "Persoon geregistreerd",
    "person.looked_up": "Persoon opgezocht op rijksregisternummer",
    "person.matched": "Persoon herkend op rijksregisternummer",
    "organisation.registered": "Organisatie geregistreerd",
    "organisation.changed": "Organisatie gewijzigd",
}
# The names the API gives fields, as the forms name them.
FIELD_LABELS = {
    "national_register_number": "Rijksregisternummer",
    "first_name": "Voornaam",
    "last_name": "Achternaam",
    "gender": "Geslacht",
    "email": "E-mailadres",
    "right": "Gebruikersrecht",
    "valid_from": "Geldig vanaf",
    "valid_until": "Geldig tot en met",
    "reason": "Reden",
    "decision": "Beslissing",
    "theme": "Thema",
    "search": "Ondernemingsnummer of naam",
}


# ------------------------------------------------------------------------------- small helpers


_day = formats.day


def _moment(value: str | None) -> str:
    if not value:
        return ""
    try:
        return datetime.fromisoformat(value).astimezone(BRUSSELS).strftime("%d/%m/%Y %H:%M")
    except ValueError:
        return value


def _date_input(text: str, field: str, errors: dict[str, str], *, required: bool) -> str | None:
    """A date typed as dd/mm/jjjj (or chosen in a date field: jjjj-mm-dd) as the API's ISO text."""
    text = text.strip()
    if not text:
        if required:
            errors[field] = "Vul een datum in."
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
    errors[field] = "Schrijf de datum als dd/mm/jjjj, bijvoorbeeld 01/09/2026."
    return None


def _safe_path(path: str | None) -> str | None:
    """Only a path of this portal (the way back after a request)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return None
    return path


def _is_administrator(request: Request[Any, Any, Any]) -> bool:
    tile = session_of(request).acting_for or {}
    return tile.get("kind") == "organisation" and tile.get("role") in ADMINISTRATORS


def _is_head(request: Request[Any, Any, Any]) -> bool:
    return (session_of(request).acting_for or {}).get("role") == "head_administrator"


def _not_administrator(request: Request[Any, Any, Any], problem: ApiProblem | None = None) -> Template:
    """A member who is no local administrator of this organisation (ID-3): a refusal, not a crash."""
    return page(request, "administration/not_administrator.html", status_code=403, title="Geen toegang tot gebruikersbeheer", problem=problem)


async def _catalogue(api: Api) -> list[dict[str, Any]]:
    """The rights an organisation can grant (role@context), in the catalogue's words."""
    answer = await api.get("identity", "/v1/catalogue", signed=False, params={"limit": 100})
    return [e for e in answer["items"] if not e["department_only"]]


def _right_options(catalogue: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(f"{e['role']}@{e['context']}", e["description"]) for e in sorted(catalogue, key=lambda e: e["description"])]


def _describe(catalogue: list[dict[str, Any]], role: str, context: str) -> str:
    entry = next((e for e in catalogue if e["role"] == role and e["context"] == context), None)
    return entry["description"] if entry else f"{role} in {context}"


async def _all_catalogue(api: Api) -> list[dict[str, Any]]:
    return list((await api.get("identity", "/v1/catalogue", signed=False, params={"limit": 100}))["items"])


def _problem_errors(problem: ApiProblem, *, rename: dict[str, str] | None = None) -> dict[str, str]:
    """The API's field errors under the form's field names."""
    errors = {}
    for name, reason in problem.field_errors().items():
        errors[(rename or {}).get(name, name)] = reason
    return errors


def _birth_date(number: str) -> str | None:
    """The date of birth a national register number carries (its mod-97 check tells the century)."""
    if len(number) != 11 or not number.isdigit():
        return None
    first, check = int(number[:9]), int(number[9:])
    year = int(number[:2])
    if 97 - first % 97 == check:
        year += 1900
    elif 97 - int("2" + number[:9]) % 97 == check:
        year += 2000
    else:
        return None
    try:
        return date(year, int(number[2:4]), int(number[4:6])).isoformat()
    except ValueError:
        return None


# ------------------------------------------------------------------------------- Gebruikersbeheer: the members


@get("/organisatie/gebruikers")
async def members(request: Request[Any, Any, Any], na: str | None = None) -> Template:
    organisation = organisation_id(request)
    if not _is_administrator(request):
        return _not_administrator(request)
    api = api_of(request)
    try:
        answer = await api.get("identity", f"/v1/organisations/{organisation}/members", params={"limit": 50, "cursor": na})
        pending = await api.get("identity", f"/v1/organisations/{organisation}/right-requests", params={"status": "pending", "limit": 100})
    except ApiProblem as problem:
        if problem.status == 403:
            return _not_administrator(request, problem)
        raise
    catalogue = await _all_catalogue(api)
    rows = [
        {
            **m,
            "membership_text": MEMBERSHIP.get(m["membership"], m["membership"]),
            "rights_text": [
                {"text": _describe(catalogue, r["role"], r["context"]), "active": r["active"], "from": _day(r["valid_from"]), "until": _day(r["valid_until"])}
                for r in m["rights"]
            ],
        }
        for m in answer["items"]
    ]
    return page(
        request,
        "administration/members.html",
        title="Gebruikersbeheer",
        members=rows,
        next_cursor=answer.get("next_cursor"),
        first_page=na is not None,
        pending=len(pending["items"]),
        head=_is_head(request),
    )


@get("/organisatie/gebruikers/toevoegen")
async def add_person_page(request: Request[Any, Any, Any]) -> Template:
    organisation_id(request)
    if not _is_administrator(request):
        return _not_administrator(request)
    resumed = session_of(request).take_resumed_form(request.url.path) or {}
    return page(request, "administration/add_person.html", title="Persoon toevoegen", values=resumed, genders=GENDERS, labels=FIELD_LABELS)


@post("/organisatie/gebruikers/toevoegen")
async def add_person(request: Request[Any, Any, Any]) -> Template | Redirect:
    """ID-4: the person is looked up by national register number (typed here, sent in the body);
    an unknown number registers the person; a known one must carry the person's name; then the
    person becomes a member (ID-5)."""
    organisation = organisation_id(request)
    form = await form_of(request)
    if not _is_administrator(request):
        return _not_administrator(request)
    typed = values(form, "national_register_number", "first_name", "last_name", "gender", "email")
    number = "".join(c for c in typed["national_register_number"] if c.isdigit())
    errors: dict[str, str] = {}
    for field, message in (
        ("national_register_number", "Vul het rijksregisternummer in."),
        ("first_name", "Vul de voornaam in."),
        ("last_name", "Vul de achternaam in."),
        ("gender", "Kies het geslacht."),
        ("email", "Vul het e-mailadres in."),
    ):
        if not typed[field]:
            errors[field] = message
    born = _birth_date(number) if number else None
    if number and born is None:
        errors["national_register_number"] = (
            "Dit is geen geldig rijksregisternummer: 11 cijfers, en de geboortedatum of het controlegetal klopt niet (regel ID-4)."
        )

    def again(found: dict[str, str], problem: ApiProblem | None = None, status: int = 422) -> Template:
        return page(
            request,
            "administration/add_person.html",
            status_code=status,
            title="Persoon toevoegen",
            values=typed,
            errors=found,
            problem=problem,
            genders=GENDERS,
            labels=FIELD_LABELS,
        )

    if errors:
        return again(errors)
    api = api_of(request)
    try:
        person = await api.post(
            "identity",
            "/v1/persons",
            {
                "national_register_number": number,
                "first_name": typed["first_name"],
                "last_name": typed["last_name"],
                "gender": typed["gender"],
                "date_of_birth": born,
                "email": typed["email"],
            },
        )
    except ApiProblem as problem:
        if problem.status == 422:
            found = _problem_errors(problem, rename={"date_of_birth": "national_register_number"})
            return again(found or {"national_register_number": problem.detail})
        if problem.status == 429:
            return again({}, ApiProblem(429, problem.detail, "ID-4"), 429)
        if problem.status == 403:
            return _not_administrator(request, problem)
        raise
    if person.get("disclosure") == "match" and person.get("names_match") is False:
        return again(
            {"last_name": "Deze naam hoort niet bij dit rijksregisternummer. Kijk de voornaam, de achternaam en het nummer na (regel ID-4)."},
        )
    await api.post("identity", f"/v1/organisations/{organisation}/members", {"person_id": person["person_id"]})
    shown = f"{person['first_name']} {person['last_name']}" if person.get("disclosure") == "full" else f"{typed['first_name']} {typed['last_name']}"
    return redirect(f"/organisatie/gebruikers/{person['person_id']}", message=f"{shown} is toegevoegd aan je organisatie.", request=request)


async def _member(request: Request[Any, Any, Any], person_id: UUID | str) -> tuple[str, Api, dict[str, Any]]:
    organisation = organisation_id(request)
    api = api_of(request)
    member = await api.get("identity", f"/v1/organisations/{organisation}/members/{person_id}")
    return organisation, api, member


@get("/organisatie/gebruikers/{person_id:uuid}")
async def member_page(request: Request[Any, Any, Any], person_id: UUID) -> Template:
    organisation_id(request)
    if not _is_administrator(request):
        return _not_administrator(request)
    try:
        _, api, member = await _member(request, str(person_id))
    except ApiProblem as problem:
        if problem.status == 403:
            return _not_administrator(request, problem)
        raise
    catalogue = await _all_catalogue(api)
    themes = (await api.get("identity", "/v1/themes", signed=False, params={"limit": 100}))["items"]
    theme_names = {t["theme"]: t["description"] for t in themes}
    rights = [
        {
            **r,
            "text": _describe(catalogue, r["role"], r["context"]),
            "from": _day(r["valid_from"]),
            "until": _day(r["valid_until"]),
        }
        for r in member["rights"]
    ]
    return page(
        request,
        "administration/member.html",
        title=f"{member['first_name']} {member['last_name']}",
        member=member,
        membership_text=MEMBERSHIP.get(member["membership"], member["membership"]),
        rights=rights,
        given_themes=[(t, theme_names.get(t, t)) for t in member["themes"]],
        theme_options=[(t["theme"], t["description"]) for t in themes if t["theme"] not in member["themes"]],
        head=_is_head(request),
        labels=FIELD_LABELS,
    )


# ------------------------------------------------------------------------------- rights: grant, change, revoke (ID-3, ID-6, ID-14)


def _grant_context(member: dict[str, Any], catalogue: list[dict[str, Any]]) -> dict[str, Any]:
    return {"member": member, "right_options": _right_options(catalogue), "labels": FIELD_LABELS, "title": "Gebruikersrecht toekennen"}


@get("/organisatie/gebruikers/{person_id:uuid}/recht-toekennen")
async def grant_page(request: Request[Any, Any, Any], person_id: UUID) -> Template:
    organisation_id(request)
    if not _is_administrator(request):
        return _not_administrator(request)
    _, api, member = await _member(request, str(person_id))
    resumed = session_of(request).take_resumed_form(request.url.path) or {"valid_from": date.today().strftime("%d/%m/%Y")}
    return page(request, "administration/grant.html", values=resumed, **_grant_context(member, await _catalogue(api)))


@post("/organisatie/gebruikers/{person_id:uuid}/recht-toekennen")
async def grant(request: Request[Any, Any, Any], person_id: UUID) -> Template | Redirect:
    organisation = organisation_id(request)
    form = await form_of(request)
    if not _is_administrator(request):
        return _not_administrator(request)
    typed = values(form, "right", "valid_from", "valid_until")
    _, api, member = await _member(request, str(person_id))
    catalogue = await _catalogue(api)
    errors: dict[str, str] = {}
    if "@" not in typed["right"]:
        errors["right"] = "Kies een gebruikersrecht."
    valid_from = _date_input(typed["valid_from"], "valid_from", errors, required=True)
    valid_until = _date_input(typed["valid_until"], "valid_until", errors, required=False)
    if errors:
        return page(request, "administration/grant.html", status_code=422, values=typed, errors=errors, **_grant_context(member, catalogue))
    role, _, context = typed["right"].partition("@")
    try:
        await api.post(
            "identity",
            f"/v1/organisations/{organisation}/rights",
            {"person_id": str(person_id), "role": role, "context": context, "valid_from": valid_from, "valid_until": valid_until},
        )
    except ApiProblem as problem:
        if problem.status == 422:
            found = _problem_errors(problem, rename={"role": "right", "context": "right", "person_id": "right"})
            return page(request, "administration/grant.html", status_code=422, values=typed, errors=found, **_grant_context(member, catalogue))
        if problem.status in (404, 409):
            return form_errors(request, "administration/grant.html", problem, values=typed, **_grant_context(member, catalogue))
        raise
    return redirect(
        f"/organisatie/gebruikers/{person_id}",
        message=f"{member['first_name']} {member['last_name']} heeft nu het recht {_describe(catalogue, role, context)}.",
        request=request,
    )


def _find_right(member: dict[str, Any], right_id: UUID | str) -> dict[str, Any] | None:
    return next((r for r in member["rights"] if r["right_id"] == right_id), None)


@get("/organisatie/gebruikers/{person_id:uuid}/rechten/{right_id:uuid}/geldigheid")
async def validity_page(request: Request[Any, Any, Any], person_id: UUID, right_id: UUID) -> Template:
    organisation_id(request)
    if not _is_administrator(request):
        return _not_administrator(request)
    _, api, member = await _member(request, str(person_id))
    right = _find_right(member, str(right_id))
    if right is None:
        raise ApiProblem(404, "Dit recht bestaat niet (meer).")
    shown = {"valid_from": _day(right["valid_from"]), "valid_until": _day(right["valid_until"])}
    return page(
        request,
        "administration/validity.html",
        title="Geldigheid wijzigen",
        member=member,
        right=right,
        right_text=_describe(await _all_catalogue(api), right["role"], right["context"]),
        values=shown,
        labels=FIELD_LABELS,
    )


@post("/organisatie/gebruikers/{person_id:uuid}/rechten/{right_id:uuid}/geldigheid")
async def change_validity(request: Request[Any, Any, Any], person_id: UUID, right_id: UUID) -> Template | Redirect:
    organisation = organisation_id(request)
    form = await form_of(request)
    if not _is_administrator(request):
        return _not_administrator(request)
    typed = values(form, "valid_from", "valid_until")
    _, api, member = await _member(request, str(person_id))
    right = _find_right(member, str(right_id))
    if right is None:
        raise ApiProblem(404, "Dit recht bestaat niet (meer).")
    context: dict[str, Any] = {
        "title": "Geldigheid wijzigen",
        "member": member,
        "right": right,
        "right_text": _describe(await _all_catalogue(api), right["role"], right["context"]),
        "labels": FIELD_LABELS,
    }
    errors: dict[str, str] = {}
    valid_from = _date_input(typed["valid_from"], "valid_from", errors, required=True)
    valid_until = _date_input(typed["valid_until"], "valid_until", errors, required=False)
    if errors:
        return page(request, "administration/validity.html", status_code=422, values=typed, errors=errors, **context)
    try:
        await api.patch("identity", f"/v1/organisations/{organisation}/rights/{right_id}", {"valid_from": valid_from, "valid_until": valid_until})
    except ApiProblem as problem:
        if problem.status in (409, 422):
            return form_errors(request, "administration/validity.html", problem, values=typed, **context)
        raise
    until = f" tot en met {_day(valid_until)}" if valid_until else ", zonder einddatum"
    return redirect(f"/organisatie/gebruikers/{person_id}", message=f"Het recht geldt nu vanaf {_day(valid_from)}{until}.", request=request)


@post("/organisatie/gebruikers/{person_id:uuid}/rechten/{right_id:uuid}/intrekken")
async def revoke(request: Request[Any, Any, Any], person_id: UUID, right_id: UUID) -> Template | Redirect:
    organisation = organisation_id(request)
    await form_of(request)
    if not _is_administrator(request):
        return _not_administrator(request)
    await api_of(request).delete("identity", f"/v1/organisations/{organisation}/rights/{right_id}")
    return redirect(f"/organisatie/gebruikers/{person_id}", message="Het gebruikersrecht is ingetrokken.", request=request)


@post("/organisatie/gebruikers/{person_id:uuid}/verwijderen")
async def remove_member(request: Request[Any, Any, Any], person_id: UUID) -> Template | Redirect:
    """ID-5: the person leaves the organisation and loses every right and theme they had there."""
    return await _member_action(
        request,
        person_id,
        "DELETE",
        "members/{person_id}",
        back="/organisatie/gebruikers",
        message="De gebruiker is verwijderd uit je organisatie, met al zijn of haar rechten.",
    )


# ------------------------------------------------------------------------------- local administrators (ID-2)


@post("/organisatie/gebruikers/{person_id:uuid}/beheerder")
async def appoint(request: Request[Any, Any, Any], person_id: UUID) -> Template | Redirect:
    """ID-2: only the head local administrator appoints local administrators; the service decides."""
    return await _member_action(request, person_id, "POST", "administrators", message="Aangesteld als lokale beheerder.")


@post("/organisatie/gebruikers/{person_id:uuid}/beheerder/verwijderen")
async def remove_administrator(request: Request[Any, Any, Any], person_id: UUID) -> Template | Redirect:
    return await _member_action(request, person_id, "DELETE", "administrators/{person_id}", message="Is geen lokale beheerder meer, wel nog gebruiker.")


async def _member_action(
    request: Request[Any, Any, Any], person_id: UUID, method: str, path: str, *, message: str, back: str | None = None
) -> Template | Redirect:
    """An administrator's action on a member (a form with only its CSRF token): identity decides;
    a refusal (403, 409) is shown on the member's page with its rule."""
    organisation = organisation_id(request)
    await form_of(request)
    if not _is_administrator(request):
        return _not_administrator(request)
    target = f"/v1/organisations/{organisation}/" + path.format(person_id=person_id)
    try:
        if method == "POST":
            await api_of(request).post("identity", target, {"person_id": str(person_id)})
        else:
            await api_of(request).delete("identity", target)
    except ApiProblem as problem:
        if problem.status in (403, 409):
            return _refused(request, problem, person_id)
        raise
    return redirect(back or f"/organisatie/gebruikers/{person_id}", message=message, request=request)


def _refused(request: Request[Any, Any, Any], problem: ApiProblem, person_id: UUID) -> Template:
    """The service said no (ID-2: only the head appoints): the reason and the rule, and the way back."""
    reason = (
        "Alleen een hoofd lokale beheerder kan lokale beheerders aanstellen of verwijderen."
        if problem.rule == "ID-2"
        else "De hoofd lokale beheerder kan zo niet gewijzigd worden: dat doet de helpdesk van het departement."
        if problem.rule == "ID-1"
        else problem.detail
    )
    return page(
        request,
        "administration/refused.html",
        status_code=403 if problem.status == 403 else 409,
        title="Niet toegestaan",
        reason=reason,
        rule=problem.rule,
        back=f"/organisatie/gebruikers/{person_id}",
    )


# ------------------------------------------------------------------------------- themes (ID-13)


@post("/organisatie/gebruikers/{person_id:uuid}/themas")
async def grant_theme(request: Request[Any, Any, Any], person_id: UUID) -> Template | Redirect:
    organisation = organisation_id(request)
    form = await form_of(request)
    if not _is_administrator(request):
        return _not_administrator(request)
    theme = values(form, "theme")["theme"]
    if not theme:
        return redirect(f"/organisatie/gebruikers/{person_id}", message="Kies een thema.", request=request)
    await api_of(request).post("identity", f"/v1/organisations/{organisation}/themes", {"person_id": str(person_id), "theme": theme})
    return redirect(f"/organisatie/gebruikers/{person_id}", message="Het thema is gegeven: alle documenten ervan zijn nu leesbaar.", request=request)


@post("/organisatie/gebruikers/{person_id:uuid}/themas/{theme:str}/afnemen")
async def revoke_theme(request: Request[Any, Any, Any], person_id: UUID, theme: str) -> Template | Redirect:
    organisation = organisation_id(request)
    await form_of(request)
    if not _is_administrator(request):
        return _not_administrator(request)
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,99}", theme):
        raise ApiProblem(404, "Dit thema bestaat niet.")
    await api_of(request).delete("identity", f"/v1/organisations/{organisation}/themes/{person_id}/{theme}")
    return redirect(f"/organisatie/gebruikers/{person_id}", message="Het thema is afgenomen.", request=request)


# ------------------------------------------------------------------------------- right requests: the administrators decide (ID-8)


async def _requests_context(request: Request[Any, Any, Any], organisation: str, api: Api) -> dict[str, Any]:
    answer = await api.get("identity", f"/v1/organisations/{organisation}/right-requests", params={"status": "pending", "limit": 100})
    catalogue = await _all_catalogue(api)
    return {
        "title": "Aanvragen voor gebruikersrechten",
        "requests": [{**q, "text": _describe(catalogue, q["role"], q["context"]), "requested": _moment(q["requested_at"])} for q in answer["items"]],
        "labels": FIELD_LABELS,
    }


@get("/organisatie/gebruikers/aanvragen")
async def requests_page(request: Request[Any, Any, Any]) -> Template:
    organisation = organisation_id(request)
    if not _is_administrator(request):
        return _not_administrator(request)
    try:
        context = await _requests_context(request, organisation, api_of(request))
    except ApiProblem as problem:
        if problem.status == 403:
            return _not_administrator(request, problem)
        raise
    return page(request, "administration/requests.html", **context)


@post("/organisatie/gebruikers/aanvragen/{request_id:uuid}")
async def decide(request: Request[Any, Any, Any], request_id: UUID) -> Template | Redirect:
    organisation = organisation_id(request)
    form = await form_of(request)
    if not _is_administrator(request):
        return _not_administrator(request)
    typed = values(form, "decision", "reason", "valid_until")
    api = api_of(request)
    errors: dict[str, str] = {}
    if typed["decision"] not in ("approve", "refuse"):
        errors["decision"] = "Kies goedkeuren of weigeren."
    if typed["decision"] == "refuse" and not typed["reason"]:
        errors["reason"] = "Zeg waarom je de aanvraag weigert: de aanvrager krijgt de reden per e-mail (regel ID-8)."
    valid_until = _date_input(typed["valid_until"], "valid_until", errors, required=False)

    async def again(found: dict[str, str], problem: ApiProblem | None = None, status: int = 422) -> Template:
        context = await _requests_context(request, organisation, api)
        return page(
            request, "administration/requests.html", status_code=status, errors=found, values=typed, problem=problem, deciding=str(request_id), **context
        )

    if errors:
        return await again(errors)
    approve = typed["decision"] == "approve"
    try:
        decided = await api.post(
            "identity",
            f"/v1/organisations/{organisation}/right-requests/{request_id}/decision",
            {"approve": approve, "reason": typed["reason"] or None, "valid_until": valid_until if approve else None},
        )
    except ApiProblem as problem:
        if problem.status == 422:
            return await again(_problem_errors(problem))
        if problem.status in (404, 409):
            return await again({}, problem, 409)
        raise
    outcome = "goedgekeurd: het recht geldt vanaf vandaag" if decided["status"] == "approved" else "geweigerd"
    return redirect("/organisatie/gebruikers/aanvragen", message=f"De aanvraag is {outcome}. De aanvrager krijgt een e-mail.", request=request)


# ------------------------------------------------------------------------------- the rights report (CSV) and the audit trail (ID-12)


@get("/organisatie/gebruikers/rapport.csv")
async def report(request: Request[Any, Any, Any]) -> Stream | Template:
    """The rights report as identity writes it, streamed through (not held in memory here)."""
    organisation = organisation_id(request)
    if not _is_administrator(request):
        return _not_administrator(request)
    token = signed_in(request).token()
    if not token:
        raise SignInNeeded()
    client: httpx.AsyncClient = request.app.state.clients["identity"]
    headers = {"Authorization": f"Bearer {token}"}
    if correlation := correlation_id_var.get():
        headers["X-Correlation-ID"] = correlation
    upstream = await client.send(client.build_request("GET", f"/v1/organisations/{organisation}/rights.csv", headers=headers), stream=True)
    if upstream.status_code >= 400:
        await upstream.aread()
        await upstream.aclose()
        if upstream.status_code == 401:
            raise SignInNeeded()
        body = upstream.json() if upstream.headers.get("content-type", "").endswith("json") else {}
        problem = ApiProblem(upstream.status_code, str(body.get("detail") or upstream.reason_phrase), body.get("rule"), body=body)
        if problem.status == 403:
            return _not_administrator(request, problem)
        raise problem

    async def chunks() -> AsyncIterator[bytes]:
        try:
            async for chunk in upstream.aiter_bytes():
                yield chunk
        finally:
            await upstream.aclose()

    return Stream(
        chunks(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": upstream.headers.get("content-disposition", 'attachment; filename="rechten.csv"')},
    )


@get("/organisatie/gebruikers/audittrail")
async def audit(request: Request[Any, Any, Any], na: str | None = None) -> Template:
    organisation = organisation_id(request)
    if not _is_administrator(request):
        return _not_administrator(request)
    api = api_of(request)
    try:
        trail = await api.get("identity", f"/v1/organisations/{organisation}/audit", params={"limit": 25, "cursor": na})
    except ApiProblem as problem:
        if problem.status == 403:
            return _not_administrator(request, problem)
        raise
    members_answer = await api.get("identity", f"/v1/organisations/{organisation}/members", params={"limit": 100})
    names = {m["person_id"]: f"{m['first_name']} {m['last_name']}" for m in members_answer["items"]}
    catalogue = await _all_catalogue(api)
    entries = []
    for entry in trail["items"]:
        details = entry.get("details") or {}
        what = ACTIONS.get(entry["action"], entry["action"])
        if details.get("role") and details.get("context"):
            what += f": {_describe(catalogue, details['role'], details['context'])}"
        if details.get("theme"):
            what += f": {details['theme']}"
        entries.append(
            {
                "at": _moment(entry["at"]),
                "who": names.get(entry["actor_id"] or "", "iemand van buiten de organisatie" if entry["actor_id"] else "het platform"),
                "what": what,
                "whom": names.get(entry["subject"] or "", ""),
                "denied": entry["outcome"] == "denied",
                "reason": entry.get("reason") or "",
            }
        )
    return page(request, "administration/audit.html", title="Audittrail", entries=entries, next_cursor=trail.get("next_cursor"), first_page=na is not None)


# ------------------------------------------------------------------------------- Mijn gebruikersrechten (ID-8)


async def _mine(api: Api, organisation: str | None) -> dict[str, Any]:
    rights = (await api.get("identity", "/v1/me/rights", params={"limit": 100}))["items"]
    requests = (await api.get("identity", "/v1/me/right-requests", params={"limit": 100}))["items"]
    if organisation is not None:
        rights = [r for r in rights if r["organisation_id"] == organisation]
        requests = [q for q in requests if q["organisation_id"] == organisation]
    catalogue = await _all_catalogue(api)
    return {
        "rights": [{**r, "from": _day(r["valid_from"]), "until": _day(r["valid_until"])} for r in rights],
        "requests": [
            {
                **q,
                "text": _describe(catalogue, q["role"], q["context"]),
                "requested": _moment(q["requested_at"]),
                "decided": _moment(q["decided_at"]),
                "status_text": STATUS.get(q["status"], q["status"]),
                "status_tag": STATUS_TAG.get(q["status"], ""),
            }
            for q in requests
        ],
    }


@get("/organisatie/mijn-rechten")
async def my_rights(request: Request[Any, Any, Any], terug: str | None = None) -> Template:
    organisation = organisation_id(request)
    mine = await _mine(api_of(request), organisation)
    return page(request, "administration/my_rights.html", title="Mijn gebruikersrechten", back=_safe_path(terug), **mine)


@get("/burger/rechten")
async def citizen_rights(request: Request[Any, Any, Any]) -> Template:
    """The person's rights and right requests in every organisation they belong to."""
    signed_in(request)
    mine = await _mine(api_of(request), None)
    return page(request, "administration/citizen_rights.html", title="Mijn gebruikersrechten", **mine)


def _request_context(catalogue: list[dict[str, Any]], back: str | None) -> dict[str, Any]:
    return {"title": "Gebruikersrecht aanvragen", "right_options": _right_options(catalogue), "back": back, "labels": FIELD_LABELS}


@get("/organisatie/mijn-rechten/aanvragen")
async def request_page(request: Request[Any, Any, Any], rol: str | None = None, context: str | None = None, terug: str | None = None) -> Template:
    """Pre-filled from where a service refused for want of the right (the refusal page's button)."""
    organisation_id(request)
    catalogue = await _catalogue(api_of(request))
    typed = session_of(request).take_resumed_form(request.url.path) or {}
    if not typed and rol and context and any(e["role"] == rol and e["context"] == context for e in catalogue):
        typed = {"right": f"{rol}@{context}"}
    back = _safe_path(terug) or _safe_path(typed.get("terug"))
    return page(request, "administration/request.html", values=typed, **_request_context(catalogue, back))


@post("/organisatie/mijn-rechten/aanvragen")
async def request_right(request: Request[Any, Any, Any]) -> Template | Redirect:
    organisation = organisation_id(request)
    form = await form_of(request)
    typed = values(form, "right", "reason", "terug")
    api = api_of(request)
    catalogue = await _catalogue(api)
    back = _safe_path(typed["terug"])
    errors: dict[str, str] = {}
    if "@" not in typed["right"]:
        errors["right"] = "Kies het gebruikersrecht dat je nodig hebt."
    if not typed["reason"]:
        errors["reason"] = "Zeg waarvoor je het recht nodig hebt: je lokale beheerder beslist op basis daarvan."
    if errors:
        return page(request, "administration/request.html", status_code=422, values=typed, errors=errors, **_request_context(catalogue, back))
    role, _, context = typed["right"].partition("@")
    try:
        await api.post("identity", f"/v1/organisations/{organisation}/right-requests", {"role": role, "context": context, "reason": typed["reason"]})
    except ApiProblem as problem:
        if problem.status == 422:
            found = _problem_errors(problem, rename={"role": "right", "context": "right"})
            return page(request, "administration/request.html", status_code=422, values=typed, errors=found, **_request_context(catalogue, back))
        if problem.status in (403, 409):
            detail = {
                "You already hold this right.": "Je hebt dit recht al.",
                "You already asked for this right; your request is waiting for a decision.": "Je vroeg dit recht al aan; je aanvraag wacht op een beslissing.",
            }.get(problem.detail, problem.detail)
            shown = ApiProblem(problem.status, detail, problem.rule)
            return form_errors(request, "administration/request.html", shown, values=typed, **_request_context(catalogue, back))
        raise
    target = "/organisatie/mijn-rechten" + (f"?terug={back}" if back else "")
    return redirect(
        target, message="Je aanvraag is verstuurd. Je lokale beheerders krijgen een e-mail; je krijgt bericht zodra zij beslissen.", request=request
    )


@post("/organisatie/mijn-rechten/aanvragen/{request_id:uuid}/intrekken")
async def withdraw(request: Request[Any, Any, Any], request_id: UUID) -> Template | Redirect:
    organisation_id(request)
    await form_of(request)
    try:
        await api_of(request).post("identity", f"/v1/me/right-requests/{request_id}/withdraw")
    except ApiProblem as problem:
        if problem.status == 409:
            return redirect("/organisatie/mijn-rechten", message="Over deze aanvraag is al beslist: je kunt ze niet meer intrekken.", request=request)
        raise
    return redirect("/organisatie/mijn-rechten", message="Je aanvraag is ingetrokken.", request=request)


# ------------------------------------------------------------------------------- Wie is mijn lokale beheerder? (ID-9)

_ENTERPRISE = re.compile(r"^(?:BE)?[01]\d{9}$")


@get("/lokale-beheerder")
async def who_is_my_administrator(request: Request[Any, Any, Any], zoek: str | None = None, na: str | None = None) -> Template:
    """Anyone, signed in or not: by enterprise number (KBO) or a part of the name. Names and a
    contact address only (identity gives nothing else)."""
    typed = (zoek or "").strip()
    context: dict[str, Any] = {"title": "Wie is mijn lokale beheerder?", "values": {"zoek": typed}, "labels": FIELD_LABELS, "searched": False}
    if not typed:
        return page(request, "administration/lookup.html", **context)
    compact = re.sub(r"[\s.\-]", "", typed).upper()
    params: dict[str, Any] = {"limit": 10, "cursor": na}
    if _ENTERPRISE.fullmatch(compact):
        params["enterprise_number"] = compact.removeprefix("BE")
    elif len(typed) < 3:
        return page(
            request, "administration/lookup.html", status_code=422, errors={"zoek": "Typ minstens 3 letters van de naam, of het ondernemingsnummer."}, **context
        )
    else:
        params["name"] = typed[:200]
    try:
        found = await api_of(request).get("identity", "/v1/organisations/administrators", signed=False, params=params)
    except ApiProblem as problem:
        if problem.status == 422:
            message = (
                "Dit ondernemingsnummer klopt niet (controlegetal). Kijk het na."
                if "enterprise_number" in params
                else "Typ een deel van de naam zonder spaties vooraan of achteraan."
            )
            return page(request, "administration/lookup.html", status_code=422, errors={"zoek": message}, **context)
        raise
    organisations = [
        {
            **o,
            "heads": [a for a in o["administrators"] if a["role"] == "head_administrator"],
            "locals": [a for a in o["administrators"] if a["role"] == "local_administrator"],
            "number": f"{o['enterprise_number'][:4]}.{o['enterprise_number'][4:7]}.{o['enterprise_number'][7:]}" if o.get("enterprise_number") else "",
        }
        for o in found["items"]
    ]
    context.update(searched=True, organisations=organisations, next_cursor=found.get("next_cursor"), query=typed)
    return page(request, "administration/lookup.html", **context)


ROUTES: list[Any] = [
    members,
    add_person_page,
    add_person,
    requests_page,
    decide,
    report,
    audit,
    member_page,
    grant_page,
    grant,
    validity_page,
    change_validity,
    revoke,
    remove_member,
    appoint,
    remove_administrator,
    grant_theme,
    revoke_theme,
    my_rights,
    citizen_rights,
    request_page,
    request_right,
    withdraw,
    who_is_my_administrator,
]
