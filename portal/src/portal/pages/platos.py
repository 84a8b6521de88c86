"""Platos: an external service provider's recognition (E-1 to E-13) as its staff fill it in, and
the public list of recognised providers.

The application is a task list of its five parts (E-3), each a form of its own saved through
`PUT /v1/provider/applications/{id}/parts/{part}`; submitting shows the confirmation and the
derived dates the service answers (E-4, E-5), later the state, questions (E-6), the decision and
reconsideration (E-10). A recognition has its coaching assignments (E-9) and reported changes
(E-12). Everything goes through the recognition service's public API with the person's token."""

from __future__ import annotations

import re
import uuid
from typing import Any

from litestar import Request, get, post
from litestar.datastructures import FormMultiDict
from litestar.response import Redirect, Template

from portal import web
from portal.api import ApiProblem

SERVICE = "recognition"

PARTS: list[tuple[str, str]] = [
    ("project", "Project, contactpersoon en organisatie"),
    ("simplified", "Vereenvoudigde registratie"),
    ("experience", "Ervaring en gekwalificeerde begeleiders"),
    ("territory", "Werkingsgebied en capaciteit"),
    ("declaration", "Verklaring op eer"),
]
PART_TITLES = dict(PARTS)
PART_SLUGS = {
    "project": "project",
    "simplified": "vereenvoudigde-registratie",
    "experience": "ervaring",
    "territory": "werkingsgebied",
    "declaration": "verklaring",
}
SLUG_PARTS = {slug: name for name, slug in PART_SLUGS.items()}

STATUS_TEXT = {
    "draft": "Ontwerp",
    "submitted": "Ingediend: ontvankelijkheid wordt beoordeeld",
    "inadmissible": "Onontvankelijk",
    "in_examination": "In onderzoek",
    "awaiting_information": "Wacht op aanvullende informatie",
    "advised": "Advies bij de minister",
    "granted": "Erkend",
    "refused": "Geweigerd",
    "reconsideration_requested": "Heroverweging gevraagd",
    "reconsideration_heard": "Heroverweging: gehoord door de commissie",
    "reconsideration_advised": "Heroverweging: advies bij de minister",
}
GROUPS = [("gtb", "GTB (gespecialiseerde trajectbepalings- en begeleidingsdienst)"), ("gob", "GOB (gespecialiseerde opleidings-, begeleidings- en bemiddelingsdienst)"), ("maatwerkbedrijf", "Maatwerkbedrijf"), ("lde", "Lokale diensteneconomie (LDE)")]  # fmt: skip
COMPETENCES = [
    ("working_together", "Samenwerken"),
    ("communicating", "Communiceren"),
    ("person_centred_work", "Persoonsgericht werken"),
    ("tailored_advice", "Advies op maat geven"),
]
QUALIFICATIONS = [("diploma", "Diploma"), ("certified_training", "Gecertificeerde opleiding"), ("work_experience", "Werkervaring"), ("evc_certificate", "EVC-certificaat")]  # fmt: skip
PROVINCES = [
    ("antwerpen", "Antwerpen"),
    ("limburg", "Limburg"),
    ("oost-vlaanderen", "Oost-Vlaanderen"),
    ("vlaams-brabant", "Vlaams-Brabant"),
    ("west-vlaanderen", "West-Vlaanderen"),
    ("brussel", "Brussels Hoofdstedelijk Gewest"),
]
END_REASONS = {"expired": "verlopen", "inactivity": "geen begeleiding gedurende 2 jaar (E-9)", "withdrawn": "ingetrokken"}


def _context() -> dict[str, Any]:
    return {
        "parts": PARTS,
        "part_titles": PART_TITLES,
        "part_slugs": PART_SLUGS,
        "status_text": STATUS_TEXT,
        "groups": GROUPS,
        "competences": COMPETENCES,
        "qualifications": QUALIFICATIONS,
        "provinces": PROVINCES,
        "province_names": dict(PROVINCES),
        "end_reasons": END_REASONS,
        "part_labels": {f"parts.{name}": title for name, title in PARTS},
    }


def _errors(problem: ApiProblem, prefix: str = "") -> dict[str, str]:
    """The API's field errors keyed as the form names its fields: `coaches[0].name` and
    `coaches.0.name` both as `coaches.0.name`, without the part's prefix."""
    found: dict[str, str] = {}
    for name, reason in problem.field_errors().items():
        key = re.sub(r"\[(\d+)\]", r".\1", name).removeprefix(prefix)
        found.setdefault(key, reason)
    return found


def _number_or_text(value: str) -> Any:
    """A whole number as a number; anything else as typed, so the service names the problem."""
    return int(value) if re.fullmatch(r"[0-9]{1,9}", value) else value


def _or_none(value: str) -> str | None:
    return value or None


# ------------------------------------------------------------------------------- overview


@get("/platos")
async def overview(request: Request[Any, Any, Any]) -> Template:
    web.organisation_id(request)
    api = web.api_of(request)
    applications = await api.get(SERVICE, "/v1/provider/applications", params={"limit": 50})
    recognitions = await api.get(SERVICE, "/v1/provider/recognitions")
    open_draft = next((a for a in applications["items"] if a["status"] == "draft"), None)
    return page_of(
        request,
        "platos/overview.html",
        title="Platos: erkenning als externe dienstverlener",
        applications=applications["items"],
        recognitions=recognitions,
        open_draft=open_draft,
        idempotency_key=uuid.uuid4().hex,
    )


@post("/platos/aanvragen")
async def start_application(request: Request[Any, Any, Any]) -> Redirect:
    form = await web.form_of(request)
    key = web.values(form, "idempotency_key")["idempotency_key"] or uuid.uuid4().hex
    try:
        created = await web.api_of(request).post(SERVICE, "/v1/provider/applications", headers={"idempotency-key": key})
    except ApiProblem as problem:
        if problem.status in (404, 409):
            message = (
                "Je organisatie is nog niet gekend in Platos. Probeer het over enkele ogenblikken opnieuw."
                if problem.status == 404
                else f"Je organisatie heeft al een lopende aanvraag (regel {problem.rule or 'E-5'})."
            )
            return web.redirect("/platos", message=message, request=request)
        raise
    return web.redirect(f"/platos/aanvragen/{created['application_id']}", message="Je aanvraag is gestart.", request=request)


def page_of(request: Request[Any, Any, Any], template: str, **context: Any) -> Template:
    return web.page(request, template, **_context(), **context)


# ------------------------------------------------------------------------------- one application


async def _application(request: Request[Any, Any, Any], application_id: uuid.UUID) -> dict[str, Any]:
    web.organisation_id(request)
    found: dict[str, Any] = await web.api_of(request).get(SERVICE, f"/v1/provider/applications/{application_id}")
    return found


def _task_states(application: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(application["required_parts"])
    missing = set(application["missing_parts"])
    return [
        {
            "name": name,
            "title": title,
            "slug": PART_SLUGS[name],
            "asked": name in required,
            "done": name in required and name not in missing,
        }
        for name, title in PARTS
    ]


@get("/platos/aanvragen/{application_id:uuid}")
async def application_page(request: Request[Any, Any, Any], application_id: uuid.UUID) -> Template:
    application = await _application(request, application_id)
    return _application_template(request, application)


def _application_template(request: Request[Any, Any, Any], application: dict[str, Any], *, status_code: int = 200, **context: Any) -> Template:
    title = f"Aanvraag {application['dossier_number']}" if application["status"] != "draft" else "Aanvraag tot erkenning"
    return web.page(
        request,
        "platos/application.html",
        status_code=status_code,
        title=title,
        application=application,
        tasks=_task_states(application),
        **_context(),
        **context,
    )


@post("/platos/aanvragen/{application_id:uuid}/indienen")
async def submit(request: Request[Any, Any, Any], application_id: uuid.UUID) -> Template | Redirect:
    await web.form_of(request)
    api = web.api_of(request)
    try:
        await api.post(SERVICE, f"/v1/provider/applications/{application_id}/submit")
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        application = await _application(request, application_id)
        errors = _errors(problem) if problem.status == 422 else {}
        return _application_template(request, application, status_code=problem.status, errors=errors, problem=None if errors else problem)
    return web.redirect(f"/platos/aanvragen/{application_id}/bevestiging", request=request)


@get("/platos/aanvragen/{application_id:uuid}/bevestiging")
async def confirmation(request: Request[Any, Any, Any], application_id: uuid.UUID) -> Template:
    application = await _application(request, application_id)
    return page_of(request, "platos/confirmation.html", title="Aanvraag ingediend", application=application)


# ------------------------------------------------------------------------------- the parts


def _part_values(name: str, saved: dict[str, Any]) -> dict[str, Any]:
    """A saved part as the form shows it (flat names, as the fields are named)."""
    if not saved:
        return {}
    if name == "project":
        contact = saved.get("contact") or {}
        return {
            "project_title": saved.get("project_title", ""),
            "project_description": saved.get("project_description", ""),
            "contact.name": contact.get("name", ""),
            "contact.email": contact.get("email", ""),
            "contact.phone": contact.get("phone", ""),
            "address": saved.get("address", ""),
            "website": saved.get("website") or "",
        }
    if name == "simplified":
        return {"simplified": "ja" if saved.get("simplified") else "nee", "group": saved.get("group") or ""}
    if name == "experience":
        return {"motivation": saved.get("motivation", ""), "coaches": saved.get("coaches", [])}
    if name == "territory":
        return {
            "provinces": saved.get("provinces", []),
            "municipalities": "\n".join(saved.get("municipalities", [])),
            "territory_motivation": saved.get("territory_motivation", ""),
            "capacity": str(saved.get("capacity", "")),
            "capacity_motivation": saved.get("capacity_motivation", ""),
            "subcontractors": saved.get("subcontractors", []),
        }
    if name == "declaration":
        return {k: "on" if saved.get(k) else "" for k in ("truthful", "intervision", "report_changes")} | {"signed_by": saved.get("signed_by", "")}
    return {}


def _rows(form: FormMultiDict, prefix: str, fields: tuple[str, ...], count: int, lists: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Repeated rows (coaches, subcontractors) as typed: `prefix.i.field`; empty rows left out."""
    rows: list[dict[str, Any]] = []
    for i in range(count):
        row: dict[str, Any] = {f: (form.get(f"{prefix}.{i}.{f}") or "").strip() for f in fields}
        for name in lists:
            row[name] = [v for v in form.getall(f"{prefix}.{i}.{name}", []) if isinstance(v, str)]
        if any(row.values()):
            rows.append(row)
    return rows


def _typed(name: str, form: FormMultiDict) -> tuple[dict[str, Any], Any]:
    """What was typed (to show again) and the part's JSON body."""
    typed: dict[str, Any]
    body: dict[str, Any]
    if name == "project":
        typed = {**web.values(form, "project_title", "project_description", "contact.name", "contact.email", "contact.phone", "address", "website")}
        body = {
            "project_title": typed["project_title"],
            "project_description": typed["project_description"],
            "contact": {"name": typed["contact.name"], "email": typed["contact.email"], "phone": typed["contact.phone"]},
            "address": typed["address"],
            "website": _or_none(typed["website"]),
        }
        return typed, body
    if name == "simplified":
        typed = {**web.values(form, "simplified", "group")}
        simplified: Any = {"ja": True, "nee": False}.get(typed["simplified"])
        body = {"simplified": simplified, "group": _or_none(typed["group"]) if simplified else None}
        return typed, body
    if name == "experience":
        count = int(web.values(form, "coach_count")["coach_count"] or 1)
        coaches = _rows(form, "coaches", ("name", "qualification", "qualification_details"), min(count, 100), lists=("competences",))
        typed = {"motivation": web.values(form, "motivation")["motivation"], "coaches": coaches}
        body = {"motivation": typed["motivation"], "coaches": [{**c, "qualification": c["qualification"] or None} for c in coaches]}
        return typed, body
    if name == "territory":
        typed = {**web.values(form, "municipalities", "territory_motivation", "capacity", "capacity_motivation")}
        count = int(web.values(form, "subcontractor_count")["subcontractor_count"] or 1)
        provinces = [v for v in form.getall("provinces", []) if isinstance(v, str)]
        subcontractors = _rows(form, "subcontractors", ("enterprise_number", "name"), min(count, 50))
        typed_all: dict[str, Any] = {**typed, "provinces": provinces, "subcontractors": subcontractors}
        body = {
            "provinces": provinces,
            "municipalities": [m.strip() for m in typed["municipalities"].splitlines() if m.strip()],
            "territory_motivation": typed["territory_motivation"],
            "capacity": _number_or_text(typed["capacity"]),
            "capacity_motivation": typed["capacity_motivation"],
            "subcontractors": subcontractors,
        }
        return typed_all, body
    typed = {**web.values(form, "truthful", "intervision", "report_changes", "signed_by")}
    body = {k: bool(typed[k]) for k in ("truthful", "intervision", "report_changes")} | {"signed_by": typed["signed_by"]}
    return typed, body


def _part_template(
    request: Request[Any, Any, Any], application: dict[str, Any], name: str, values: dict[str, Any], *, status_code: int = 200, **context: Any
) -> Template:
    index = [n for n, _ in PARTS].index(name) + 1
    coaches = values.get("coaches") or []
    subcontractors = values.get("subcontractors") or []
    return web.page(
        request,
        f"platos/part_{name}.html",
        status_code=status_code,
        title=f"Deel {index}: {PART_TITLES[name]}",
        application=application,
        part=name,
        slug=PART_SLUGS[name],
        index=index,
        values=values,
        coach_rows=max(len(coaches) + int(context.pop("add_row", False)), 1),
        subcontractor_rows=max(len(subcontractors) + int(context.pop("add_subcontractor", False)), 1),
        **_context(),
        **context,
    )


@get("/platos/aanvragen/{application_id:uuid}/delen/{slug:str}")
async def part_page(request: Request[Any, Any, Any], application_id: uuid.UUID, slug: str) -> Template | Redirect:
    name = SLUG_PARTS.get(slug)
    if name is None:
        return web.page(request, "pages/error.html", status_code=404, title="Niet gevonden", message="Deze pagina bestaat niet.")
    application = await _application(request, application_id)
    if application["status"] != "draft":
        return web.redirect(f"/platos/aanvragen/{application_id}", message="Een ingediende aanvraag kan je niet meer wijzigen (regel E-4).", request=request)
    if name not in application["required_parts"]:
        return web.redirect(f"/platos/aanvragen/{application_id}", message="Dit deel wordt niet gevraagd aan de vereenvoudigde-registratiegroep (regel E-3).", request=request)  # fmt: skip
    session = web.signed_in(request)
    resumed = session.take_resumed_form(request.url.path)
    values = _part_values(name, application["parts"].get(name) or {})
    if resumed:
        values = {**values, **{k: v for k, v in resumed.items() if isinstance(v, str)}}
    return _part_template(request, application, name, values)


@post("/platos/aanvragen/{application_id:uuid}/delen/{slug:str}")
async def save_part(request: Request[Any, Any, Any], application_id: uuid.UUID, slug: str) -> Template | Redirect:
    form = await web.form_of(request)
    name = SLUG_PARTS.get(slug)
    if name is None:
        return web.page(request, "pages/error.html", status_code=404, title="Niet gevonden", message="Deze pagina bestaat niet.")
    typed, body = _typed(name, form)
    action = web.values(form, "actie")["actie"]
    if action in ("begeleider-toevoegen", "onderaannemer-toevoegen"):
        application = await _application(request, application_id)
        return _part_template(
            request, application, name, typed, add_row=action == "begeleider-toevoegen", add_subcontractor=action == "onderaannemer-toevoegen"
        )
    try:
        await web.api_of(request).put(SERVICE, f"/v1/provider/applications/{application_id}/parts/{name}", body)
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        application = await _application(request, application_id)
        errors = _errors(problem) if problem.status == 422 else {}
        return _part_template(request, application, name, typed, status_code=problem.status, errors=errors, problem=None if errors else problem)
    return web.redirect(f"/platos/aanvragen/{application_id}", message=f"Deel „{PART_TITLES[name]}” is bewaard.", request=request)


# ------------------------------------------------------------------------------- after submitting


@post("/platos/aanvragen/{application_id:uuid}/vragen/{request_id:uuid}")
async def answer(request: Request[Any, Any, Any], application_id: uuid.UUID, request_id: uuid.UUID) -> Template | Redirect:
    """E-6: the answer to the department's question; the examination term runs again."""
    form = await web.form_of(request)
    typed = web.values(form, "answer")
    try:
        await web.api_of(request).post(
            SERVICE, f"/v1/provider/applications/{application_id}/information-requests/{request_id}/answer", {"answer": typed["answer"]}
        )
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        application = await _application(request, application_id)
        errors = {f"answer-{request_id}": r for r in _errors(problem).values()} if problem.status == 422 else {}
        return _application_template(
            request,
            application,
            status_code=problem.status,
            errors=errors,
            values={f"answer-{request_id}": typed["answer"]},
            problem=None if errors else problem,
        )
    return web.redirect(f"/platos/aanvragen/{application_id}", message="Je antwoord is verstuurd. De termijn loopt verder (regel E-6).", request=request)


@get("/platos/aanvragen/{application_id:uuid}/heroverweging")
async def reconsideration_page(request: Request[Any, Any, Any], application_id: uuid.UUID) -> Template:
    application = await _application(request, application_id)
    return page_of(request, "platos/reconsideration.html", title="Heroverweging vragen", application=application)


@post("/platos/aanvragen/{application_id:uuid}/heroverweging")
async def request_reconsideration(request: Request[Any, Any, Any], application_id: uuid.UUID) -> Template | Redirect:
    """E-10: a motivated request within 30 days of being informed of the decision."""
    form = await web.form_of(request)
    typed = web.values(form, "motivation")
    try:
        await web.api_of(request).post(SERVICE, f"/v1/provider/applications/{application_id}/reconsideration", {"motivation": typed["motivation"]})
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        application = await _application(request, application_id)
        return web.form_errors(
            request, "platos/reconsideration.html", problem, values=typed, title="Heroverweging vragen", application=application, **_context()
        )
    return web.redirect(f"/platos/aanvragen/{application_id}", message="Je vraag tot heroverweging is ingediend (regel E-10).", request=request)


# ------------------------------------------------------------------------------- recognitions


async def _recognition(request: Request[Any, Any, Any], recognition_id: uuid.UUID) -> dict[str, Any]:
    web.organisation_id(request)
    found: dict[str, Any] = await web.api_of(request).get(SERVICE, f"/v1/provider/recognitions/{recognition_id}")
    return found


def _recognition_template(request: Request[Any, Any, Any], recognition: dict[str, Any], *, status_code: int = 200, **context: Any) -> Template:
    return web.page(
        request,
        "platos/recognition.html",
        status_code=status_code,
        title=f"Erkenning {recognition['recognition_number']}",
        recognition=recognition,
        **_context(),
        **context,
    )


@get("/platos/erkenningen/{recognition_id:uuid}")
async def recognition_page(request: Request[Any, Any, Any], recognition_id: uuid.UUID) -> Template:
    return _recognition_template(request, await _recognition(request, recognition_id))


@post("/platos/erkenningen/{recognition_id:uuid}/opdrachten")
async def record_assignment(request: Request[Any, Any, Any], recognition_id: uuid.UUID) -> Template | Redirect:
    """E-9: a coaching assignment (the employer and the dates, no employee)."""
    form = await web.form_of(request)
    typed = web.values(form, "employer_name", "employer_enterprise_number", "starts_on", "ends_on")
    body = {
        "employer_name": typed["employer_name"],
        "employer_enterprise_number": _or_none(typed["employer_enterprise_number"]),
        "starts_on": typed["starts_on"],
        "ends_on": _or_none(typed["ends_on"]),
    }
    try:
        await web.api_of(request).post(SERVICE, f"/v1/provider/recognitions/{recognition_id}/assignments", body)
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        recognition = await _recognition(request, recognition_id)
        errors = _errors(problem) if problem.status == 422 else {}
        return _recognition_template(request, recognition, status_code=problem.status, errors=errors, values=typed, problem=None if errors else problem)
    return web.redirect(f"/platos/erkenningen/{recognition_id}", message="De begeleidingsopdracht is bewaard.", request=request)


@post("/platos/erkenningen/{recognition_id:uuid}/opdrachten/{assignment_id:uuid}/einde")
async def end_assignment(request: Request[Any, Any, Any], recognition_id: uuid.UUID, assignment_id: uuid.UUID) -> Template | Redirect:
    form = await web.form_of(request)
    ends_on = web.values(form, "ends_on")["ends_on"]
    try:
        await web.api_of(request).post(SERVICE, f"/v1/provider/recognitions/{recognition_id}/assignments/{assignment_id}/end", {"ends_on": ends_on})
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        recognition = await _recognition(request, recognition_id)
        errors = {f"ends_on-{assignment_id}": r for r in _errors(problem).values()} if problem.status == 422 else {}
        return _recognition_template(
            request, recognition, status_code=problem.status, errors=errors, values={f"ends_on-{assignment_id}": ends_on}, problem=None if errors else problem
        )
    return web.redirect(f"/platos/erkenningen/{recognition_id}", message="Het einde van de opdracht is bewaard.", request=request)


@post("/platos/erkenningen/{recognition_id:uuid}/wijzigingen")
async def report_change(request: Request[Any, Any, Any], recognition_id: uuid.UUID) -> Template | Redirect:
    """E-12: a change that affects (or may affect) the conditions."""
    form = await web.form_of(request)
    typed = web.values(form, "description")
    try:
        await web.api_of(request).post(SERVICE, f"/v1/provider/recognitions/{recognition_id}/change-reports", {"description": typed["description"]})
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        recognition = await _recognition(request, recognition_id)
        errors = _errors(problem) if problem.status == 422 else {}
        return _recognition_template(request, recognition, status_code=problem.status, errors=errors, values=typed, problem=None if errors else problem)
    return web.redirect(f"/platos/erkenningen/{recognition_id}", message="De wijziging is gemeld. Het departement bekijkt ze (regel E-12).", request=request)


# ------------------------------------------------------------------------------- the public list


@get("/platos/erkende-dienstverleners")
async def recognised_providers(
    request: Request[Any, Any, Any], naam: str | None = None, provincie: str | None = None, gemeente: str | None = None, vanaf: str | None = None
) -> Template:
    """Who employers may call on for workplace coaching today (E-8), without sign-in."""
    typed = {"naam": (naam or "").strip(), "provincie": (provincie or "").strip(), "gemeente": (gemeente or "").strip()}
    params = {
        "name": typed["naam"][:100],
        "province": typed["provincie"] if typed["provincie"] in dict(PROVINCES) else None,
        "municipality": typed["gemeente"][:100],
        "limit": 20,
        "cursor": vanaf,
    }
    errors: dict[str, str] = {}
    try:
        found = await web.api_of(request).get(SERVICE, "/v1/recognised-providers", signed=False, params=params)
    except ApiProblem as problem:
        if problem.status != 422:
            raise
        errors = {"naam": "Deze zoekopdracht kon niet uitgevoerd worden."}
        found = {"items": [], "next_cursor": None}
    query = {k: v for k, v in typed.items() if v}
    return page_of(
        request,
        "platos/recognised_providers.html",
        title="Erkende externe dienstverleners",
        providers=found["items"],
        next_cursor=found.get("next_cursor"),
        query=query,
        first_page=vanaf is None,
        values=typed,
        errors=errors,
    )


ROUTES: list[Any] = [
    overview,
    start_application,
    application_page,
    submit,
    confirmation,
    reconsideration_page,
    request_reconsideration,
    part_page,
    save_part,
    answer,
    recognition_page,
    record_assignment,
    end_assignment,
    report_change,
    recognised_providers,
]
