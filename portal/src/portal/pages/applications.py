"""The provider's side of the ODB registration (seed 003, rules R-1 to R-24): the start page with
open dossiers and registered trainings, the application as the manual's steps 2 to 7 (each step
saved to the draft through the section PUTs, "Vorige stap" keeping what was typed, "Annuleren"
after a confirmation page, "Bewaren" submitting once per draft), the outcome, a dossier with its
steps and information requests (answered with documents), registered trainings, stopping one and
applying for a replacement (R-24).

Uploads are streamed: the browser's multipart form is parsed as it arrives and the file is passed
on to the registration service's raw-body upload chunk by chunk (the CSRF token travels in the
form's action URL, since the body is not read before the check)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

from litestar import Request, get, post
from litestar.datastructures import FormMultiDict
from litestar.response import Redirect, Template
from multipart import MultipartSegment, PushMultipartParser, parse_options_header  # type: ignore[import-untyped]  # litestar's own multipart parser, untyped

from portal import formats, web
from portal.api import Api, ApiProblem
from portal.messages import dutch

BASE = "/opleidingen"

# The manual's steps 2 to 7: (URL part, the API's section, the manual's title).
STEPS: list[tuple[str, str | None, str]] = [
    ("contactgegevens", "contact", "Contactgegevens invullen"),
    ("opleiding", "training", "Gegevens opleiding invullen"),
    ("zelfanalyse", "self_analysis", "Zelfanalyse arbeidsmarktgerichtheid"),
    ("beslissingsinstantie", "deciding_body", "Beslissingsinstantie bepalen"),
    ("documenten", "documents", "Extra documenten opladen"),
    ("overzicht", None, "Aanvraag bevestigen"),
]
STEP_BY_SLUG = {slug: (i, section, title) for i, (slug, section, title) in enumerate(STEPS)}
SLUG_BY_SECTION = {section: slug for slug, section, _ in STEPS if section}

STATUS = {
    "draft": "Ontwerp (nog niet ingediend)",
    "inadmissible": "Onontvankelijk",
    "held": "In wacht: kwaliteitsregistratie",
    "in_review": "In behandeling",
    "awaiting_information": "Wacht op bijkomende informatie",
    "forwarded": "Voorgelegd aan de beslissingsinstantie",
    "approved": "Goedgekeurd",
    "rejected": "Afgewezen",
}
ACTIONS = {
    "draft_created": "Aanvraag aangemaakt",
    "submitted": "Aanvraag ingediend",
    "released": "Vrijgegeven: de kwaliteitsregistratie is in orde",
    "information_requested": "Bijkomende informatie gevraagd",
    "information_received": "Antwoord ontvangen",
    "information_term_lapsed": "Termijn voor het antwoord verstreken",
    "amended": "Aangepast door het team opleidingsdatabank",
    "forwarded": "Voorgelegd aan de beslissingsinstantie",
    "decided": "Beslissing genomen",
}
OUTCOMES = {"approved": "goedgekeurd", "rejected": "afgewezen"}

YES_NO = [("ja", "Ja"), ("nee", "Nee")]
TRAINING_BOOLEANS = ("workplace_learning", "blended", "separately_enrollable_parts", "leads_to_qualification", "final_assessment", "mentor_training")
TRAINING_TEXTS = ("name", "own_reference", "target_group", "web_page", "content", "structure", "competence_group", "language", "hours_unit")
MODULE_FIELDS = ("name", "contact_hours", "workplace_hours", "distance_hours", "study_points", "starts_on", "ends_on", "cefr_level")
STRUCTURES = [("integral", "Integrale opleiding"), ("modular", "Modulaire opleiding")]
COMPETENCE_GROUPS = [
    ("basic", "Basiscompetenties"),
    ("profession_specific", "Beroepsspecifieke competenties"),
    ("general", "Algemene arbeidsmarktcompetenties"),
]
HOURS_UNITS = [("contact_hours", "Contacturen"), ("study_points", "Studiepunten")]
CEFR_LEVELS = [(level, level) for level in ("A1", "A2", "B1", "B2", "C1", "C2")]
SELF_ANALYSIS = {
    "basic": (
        "Basiscompetenties",
        [
            ("dutch_language", "Nederlandse taal"),
            ("other_language", "Andere taal (tot en met ERK-niveau B1)"),
            ("numeracy", "Rekenvaardigheid"),
            ("basic_ict", "Basisvaardigheden ICT (bv. courante kantoorsoftware)"),
            ("learning_to_learn", "Leren leren"),
        ],
    ),
    "profession_specific": (
        "Beroepsspecifieke competenties",
        [
            ("shortage_occupation", "Knelpuntberoep"),
            ("stem_occupation", "STEM-beroep"),
            ("legally_required_certificate", "Wettelijk vereist attest"),
            ("future_skills_shortage", "Verwacht toekomstig competentietekort"),
        ],
    ),
    "general_pillars": (
        "Algemene arbeidsmarktcompetenties (vijf pijlers; minstens drie nodig)",
        [
            ("communication", "Communicatie"),
            ("cooperation", "Samenwerken"),
            ("problem_solving", "Probleemoplossend denken"),
            ("self_management", "Zelfsturing"),
            ("career_skills", "Loopbaancompetenties"),
        ],
    ),
}
AIMS = [
    ("several_professions", "Vaardigheden aanleren die nuttig zijn voor meerdere beroepen (Vlaamse opleidingscommissie)"),
    ("one_profession", "De opleiding is gericht op een specifiek beroep (je kunt een paritair comité kiezen)"),
]
LABELS = {
    "name": "Naam",
    "email": "E-mailadres",
    "phone": "Telefoonnummer",
    "own_reference": "Eigen unieke referentie",
    "target_group": "Doelgroep",
    "workplace_learning": "Werkplekleren",
    "blended": "Blended leren",
    "separately_enrollable_parts": "Onderdelen waarvoor men apart kan inschrijven",
    "leads_to_qualification": "(Deel)kwalificatie",
    "hours_unit": "Uitgedrukt in",
    "mentor_training": "Mentoropleiding",
    "final_assessment": "Eindbeoordeling",
    "web_page": "Webpagina van de opleiding",
    "content": "Inhoud en leerdoelstellingen",
    "structure": "Integraal of modulair",
    "competence_group": "Competentiegroep",
    "language": "Taal",
    "modules": "Modules",
    "basic": "Basiscompetenties",
    "profession_specific": "Beroepsspecifieke competenties",
    "general_pillars": "Algemene arbeidsmarktcompetenties",
    "explanation": "Toelichting",
    "aim": "Doelgroep van werknemers",
    "joint_committee": "Paritair comité",
    "bestand": "Document",
    "stop_on": "Datum stopzetting",
    "reason": "Stopzettingsreden",
    "antwoord": "Je antwoord",
}
MODULE_LABELS = {
    "name": "naam",
    "contact_hours": "contacturen",
    "workplace_hours": "uren werkplekleren",
    "distance_hours": "uren afstandsonderwijs",
    "study_points": "studiepunten",
    "blended": "blended",
    "starts_on": "begindatum",
    "ends_on": "einddatum",
    "cefr_level": "ERK-niveau",
}

# The service's reasons (English) as the portal says them; anything else is shown as it came.
REASONS = [
    ("must not be before starts_on", "De einddatum mag niet voor de begindatum liggen."),
    ("cannot exceed them", "Uren werkplekleren zijn een onderdeel van de contacturen en kunnen die niet overschrijden."),
    ("workplace_learning is false", "De opleiding heeft geen werkplekleren: laat de uren werkplekleren leeg."),
    ("a module can only be blended", "Een module kan alleen blended zijn in een blended opleiding."),
    ("needs its estimated distance-learning hours", "Geef de geschatte uren afstandsonderwijs van deze blended module."),
    ("only blended modules have distance-learning", "Alleen blended modules hebben uren afstandsonderwijs."),
    ("give the level", "Geef het ERK-niveau van deze module (één module per niveau)."),
    ("only language trainings have a CEFR level", "Alleen taalopleidingen hebben een ERK-niveau."),
    ("give the module's study points", "Geef de studiepunten van deze module."),
    ("gives its workplace-learning hours", "Geef bij de modules de uren werkplekleren."),
    ("blended training is integral unless", "Een blended opleiding is integraal, tenzij elke module blended is."),
    ("integral blended training is blended", "De module van een integrale blended opleiding is blended."),
    ("one module per CEFR level", "Eén module per ERK-niveau."),
    ("give exactly one module", "Een integrale opleiding is één geheel: geef precies één module."),
    ("only higher-education institutions", "Alleen instellingen voor hoger onderwijs drukken een opleiding uit in studiepunten."),
    ("expressed in planned hours", "Een blended opleiding wordt uitgedrukt in voorziene opleidingstijd, niet in studiepunten."),
    ("say whether this is a mentor training", "Onder 32 uur is deze vraag verplicht: is dit een mentoropleiding?"),
    ("registered with 16 hours", "Een EVC-traject wordt geregistreerd met 16 uur."),
    ("marked as mentor training", "Duid aan dat een EVC-traject een mentoropleiding is."),
    ("name an EVC trajectory", "Noem een EVC-traject 'BK EVC-traject <naam>' of 'EVC-traject <naam>'."),
    ("submitted as modules", "Een opleiding over meerdere schooljaren dien je in als modules."),
    ("can only be named for a training aimed at one profession", "Een paritair comité kies je alleen voor een opleiding gericht op een specifiek beroep."),
    ("not on the list of committees", "Dit paritair comité staat niet op de lijst; kies de Vlaamse opleidingscommissie."),
    ("unique per provider", "Deze eigen referentie is al in gebruik; elke opleiding heeft een eigen unieke referentie."),
    ("valid email", "Geef een geldig e-mailadres, bv. info@organisatie.be."),
    ("valid URL", "Geef een geldig webadres, bv. https://www.organisatie.be/opleiding."),
    ("should match pattern", "Geef een geldig telefoonnummer, bv. +32 2 123 45 67."),
    ("at least 6 characters", "Geef een geldig telefoonnummer, bv. +32 2 123 45 67."),
    ("valid decimal", "Geef een getal, bv. 40 of 12,5."),
    ("valid number", "Geef een getal, bv. 40 of 12,5."),
    ("greater than or equal to 0", "Geef een getal van 0 of meer."),
    ("less than or equal to", "Dit getal is te groot."),
    ("valid date", "Geef een datum."),
    ("still to be filled in", "Deze stap is nog niet ingevuld."),
    ("today or later", "De datum van stopzetting is vandaag of later."),
    ("before the registration holds", "De stopzetting kan niet ingaan voor de registratie geldt."),
]


def _dutch(field: str, reason: str) -> str:
    if reason in ("Field required", "String should have at least 1 character", "List should have at least 1 item after validation, not 0"):
        last = field.rsplit(".", 1)[-1]
        if last in TRAINING_BOOLEANS or last in ("aim", "structure", "competence_group"):
            return "Kies een antwoord."
        return "Vul dit in."
    if "valid boolean" in reason:
        return "Kies een antwoord."
    for english, in_dutch in REASONS:
        if english in reason:
            return in_dutch
    return dutch(reason)


def _form_name(field: str, prefix: str = "") -> str:
    """The API's field path as this portal's form names it: body.modules[0].name -> modules.0.name."""
    name = field.removeprefix("body.").removeprefix(prefix)
    return re.sub(r"\[(\d+)\]", r".\1", name)


def _in_dutch(problem: ApiProblem, prefix: str = "") -> ApiProblem:
    """The same problem with its fields named as the form names them and its reasons in Dutch."""
    errors = []
    for error in problem.errors:
        name = _form_name(str(error.get("field", "body")), prefix)
        errors.append({"field": name, "reason": _dutch(name, str(error.get("reason", ""))), "rule": error.get("rule")})
    return ApiProblem(problem.status, problem.detail, problem.rule, errors, problem.body)


def _label(field: str) -> str:
    parts = field.split(".")
    if parts[0] == "modules" and len(parts) == 3 and parts[1].isdigit():
        return f"Module {int(parts[1]) + 1}: {MODULE_LABELS.get(parts[2], parts[2])}"
    if parts[0] == "modules" and len(parts) == 2 and parts[1].isdigit():
        return f"Module {int(parts[1]) + 1}"
    return LABELS.get(parts[0], field)


def _labels(errors: dict[str, str]) -> dict[str, str]:
    return {field: _label(field) for field in errors}


# ------------------------------------------------------------------------------- forms <-> sections


def _typed(form: FormMultiDict) -> dict[str, Any]:
    """What was typed, as the templates read it (a list where a name repeats: checkboxes)."""
    found: dict[str, Any] = {}
    for key in sorted(set(form.keys())):
        if key in (web.CSRF_FIELD, "actie"):
            continue
        items = [v.strip() for v in form.getall(key) if isinstance(v, str)]
        found[key] = items if key in SELF_ANALYSIS else (items[0] if items else "")
    return found


def _yes_no(value: Any) -> bool | None:
    return True if value == "ja" else False if value == "nee" else None


def _number(value: str) -> str:
    return value.replace(",", ".").replace(" ", "")


def _module_count(values: dict[str, Any]) -> int:
    try:
        count = int(values.get("module_count") or 1)
    except ValueError:
        count = 1
    return max(1, min(count, 50))


def section_of(step: str, values: dict[str, Any]) -> dict[str, Any]:
    """The section's JSON body from the form (a field left empty is left out: the service names it)."""
    if step == "contact":
        return {k: values.get(k, "") for k in ("name", "email", "phone")}
    if step == "training":
        body: dict[str, Any] = {}
        for name in TRAINING_TEXTS:
            if values.get(name):
                body[name] = values[name]
        for name in TRAINING_BOOLEANS:
            answer = _yes_no(values.get(name))
            if answer is not None:
                body[name] = answer
        modules = []
        for i in range(_module_count(values)):
            module: dict[str, Any] = {"blended": values.get(f"modules.{i}.blended") == "ja"}
            for name in MODULE_FIELDS:
                typed = str(values.get(f"modules.{i}.{name}", ""))
                if typed:
                    module[name] = _number(typed) if name.endswith(("hours", "points")) else typed
            modules.append(module)
        # A block added and left empty is no module (but the first one is always there).
        body["modules"] = [m for i, m in enumerate(modules) if i == 0 or len(m) > 1 or m["blended"]]
        return body
    if step == "self_analysis":
        return {
            "basic": list(values.get("basic", [])),
            "profession_specific": list(values.get("profession_specific", [])),
            "general_pillars": list(values.get("general_pillars", [])),
            "explanation": values.get("explanation") or None,
        }
    if step == "deciding_body":
        body = {"joint_committee": values.get("joint_committee") or None}
        if values.get("aim"):
            body["aim"] = values["aim"]
        return body
    raise ValueError(step)


def _shown_number(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


def values_of(step: str, section: dict[str, Any] | None) -> dict[str, Any]:
    """A saved section as the form shows it."""
    if not section:
        return {}
    if step == "training":
        found: dict[str, Any] = {name: str(section.get(name) or "") for name in TRAINING_TEXTS}
        for name in TRAINING_BOOLEANS:
            answer = section.get(name)
            found[name] = "ja" if answer is True else "nee" if answer is False else ""
        modules = section.get("modules") or []
        found["module_count"] = str(max(1, len(modules)))
        for i, module in enumerate(modules):
            for name in MODULE_FIELDS:
                value = module.get(name)
                found[f"modules.{i}.{name}"] = _shown_number(value) if name.endswith(("hours", "points")) else str(value or "")
            found[f"modules.{i}.blended"] = "ja" if module.get("blended") else ""
        return found
    if step == "self_analysis":
        return {**{k: list(section.get(k) or []) for k in SELF_ANALYSIS}, "explanation": section.get("explanation") or ""}
    if step == "deciding_body":
        return {"aim": section.get("aim") or "", "joint_committee": section.get("joint_committee") or ""}
    return {k: str(v) for k, v in section.items() if v is not None}


# ------------------------------------------------------------------------------- helpers


def _typed_key(application_id: UUID, step: str) -> str:
    return f"applications:typed:{application_id}:{step}"


def _step_url(application_id: UUID, slug: str) -> str:
    return f"{BASE}/aanvragen/{application_id}/{slug}"


async def _draft(api: Api, application_id: UUID) -> dict[str, Any]:
    application: dict[str, Any] = await api.get("registration", f"/v1/provider/applications/{application_id}")
    return application


def _not_a_draft(application: dict[str, Any]) -> Redirect | None:
    if application["status"] != "draft":
        return Redirect(f"{BASE}/dossiers/{application['application_id']}", status_code=303)
    return None


def _steps_done(application: dict[str, Any]) -> dict[str, bool]:
    return {slug: bool(section and section in application["sections"]) for slug, section, _ in STEPS}


async def _committees(api: Api) -> list[tuple[str, str]]:
    found = await api.get("registration", "/v1/register/joint-committees", signed=False, params={"limit": 100})
    return [(c["number"], f"PC {c['number']} – {c['name']}") for c in found["items"]]


async def _organisation_data(api: Api) -> dict[str, Any]:
    data: dict[str, Any] = await api.get("registration", "/v1/provider/organisation")
    return data


async def _documents(api: Api, purpose: str) -> dict[str, dict[str, Any]]:
    found = await api.get("registration", "/v1/provider/documents", params={"purpose": purpose, "limit": 100})
    return {d["document_id"]: d for d in found["items"]}


async def _step_context(api: Api, application: dict[str, Any], slug: str) -> dict[str, Any]:
    index, section, title = STEP_BY_SLUG[slug]
    context: dict[str, Any] = {
        "application": application,
        "steps": STEPS,
        "step_slug": slug,
        "step_number": index + 2,
        "step_title": title,
        "done": _steps_done(application),
        "base": BASE,
        "yes_no": YES_NO,
    }
    if section == "contact":
        context["organisation_data"] = await _organisation_data(api)
    elif section == "training":
        organisation = (await _organisation_data(api)).get("organisation") or {}
        context.update(
            structures=STRUCTURES,
            competence_groups=COMPETENCE_GROUPS,
            hours_units=HOURS_UNITS,
            cefr_levels=CEFR_LEVELS,
            higher_education=organisation.get("kind") == "higher_education",
        )
    elif section == "self_analysis":
        context["groups"] = SELF_ANALYSIS
    elif section == "deciding_body":
        context.update(aims=AIMS, committees=await _committees(api))
    elif section == "documents":
        known = await _documents(api, "extra")
        ids = (application["sections"].get("documents") or {}).get("document_ids", [])
        context["attached"] = [known.get(d, {"document_id": d, "filename": "document", "size_bytes": 0}) for d in ids]
        context["upload_action"] = f"{_step_url(application['application_id'], 'documenten')}/opladen?{web.CSRF_FIELD}="
    return context


def _render_step(request: Request[Any, Any, Any], slug: str, context: dict[str, Any], **extra: Any) -> Template:
    title = f"Stap {context['step_number']}. {context['step_title']}"
    return web.page(request, f"applications/step_{slug}.html", title=title, **context, **extra)


# ------------------------------------------------------------------------------- start


@get(BASE)
async def start(request: Request[Any, Any, Any]) -> Template:
    web.organisation_id(request)
    api = web.api_of(request)
    dossiers = await api.get("registration", "/v1/provider/applications", params={"limit": 50})
    trainings = await api.get("registration", "/v1/provider/trainings", params={"limit": 5})
    return web.page(
        request,
        "applications/start.html",
        title="Opleidingen in de opleidingsdatabank",
        dossiers=dossiers["items"],
        more_dossiers=dossiers["next_cursor"] is not None,
        trainings=trainings["items"],
        more_trainings=trainings["next_cursor"] is not None,
        status_names=STATUS,
        base=BASE,
    )


@post(f"{BASE}/aanvragen")
async def new_application(request: Request[Any, Any, Any]) -> Redirect:
    """A new draft ("Nieuwe aanvraag"), or one replacing a registered training (R-24)."""
    web.organisation_id(request)
    form = await web.form_of(request)
    replaces = web.values(form, "vervangt")["vervangt"]
    try:
        created = await web.api_of(request).post("registration", "/v1/provider/applications", {"replaces_odb_number": replaces} if replaces else None)
    except ApiProblem as problem:
        if problem.status == 404:
            return web.redirect(
                BASE, message="Je organisatie is nog niet gekend in de opleidingsdatabank. Probeer het binnen enkele ogenblikken opnieuw.", request=request
            )
        if problem.status in (409, 422):
            web.session_of(request).flash(f"Een vervangende aanvraag kan niet: {problem.detail} (regel R-24).", kind="error")
            return Redirect(f"{BASE}/geregistreerd/{replaces}" if replaces else BASE, status_code=303)
        raise
    return Redirect(f"{BASE}/aanvragen/{created['application_id']}", status_code=303)


@get(f"{BASE}/aanvragen/{{application_id:uuid}}")
async def task_list(request: Request[Any, Any, Any], application_id: UUID) -> Template | Redirect:
    web.organisation_id(request)
    application = await _draft(web.api_of(request), application_id)
    if (elsewhere := _not_a_draft(application)) is not None:
        return elsewhere
    return web.page(
        request,
        "applications/task_list.html",
        title="Aanvraag registratie in de opleidingsdatabank",
        application=application,
        steps=STEPS,
        done=_steps_done(application),
        base=BASE,
    )


# ------------------------------------------------------------------------------- steps 2 to 5


_FORM_STEPS = ("contactgegevens", "opleiding", "zelfanalyse", "beslissingsinstantie")


@get([_step_url_pattern for _step_url_pattern in (f"{BASE}/aanvragen/{{application_id:uuid}}/{slug}" for slug in _FORM_STEPS)])
async def step_page(request: Request[Any, Any, Any], application_id: UUID) -> Template | Redirect:
    web.organisation_id(request)
    slug = request.url.path.rsplit("/", 1)[-1]
    _, section, _ = STEP_BY_SLUG[slug]
    assert section is not None
    api = web.api_of(request)
    application = await _draft(api, application_id)
    if (elsewhere := _not_a_draft(application)) is not None:
        return elsewhere
    context = await _step_context(api, application, slug)
    session = web.session_of(request)
    values = session.take_resumed_form(request.url.path) or session.data.get(_typed_key(application_id, section))
    if values is None:
        values = values_of(section, application["sections"].get(section))
        if section == "contact" and not values:
            # entered once per organisation, proposed for every application.
            values = values_of("contact", context["organisation_data"].get("contact"))
    if section == "training":
        values.setdefault("module_count", "1")
    return _render_step(request, slug, context, values=values)


@post([f"{BASE}/aanvragen/{{application_id:uuid}}/{slug}" for slug in _FORM_STEPS])
async def save_step(request: Request[Any, Any, Any], application_id: UUID) -> Template | Redirect:
    """Saves the step to the draft (its section PUT), then "Volgende stap" or "Vorige stap" (R-18)."""
    web.organisation_id(request)
    form = await web.form_of(request)
    slug = request.url.path.rsplit("/", 1)[-1]
    index, section, _ = STEP_BY_SLUG[slug]
    assert section is not None
    action = str(form.get("actie") or "volgende")
    typed = _typed(form)
    api = web.api_of(request)
    session = web.session_of(request)
    if action in ("module_toevoegen", "module_verwijderen"):
        count = _module_count(typed) + (1 if action == "module_toevoegen" else -1)
        typed["module_count"] = str(max(1, count))
        application = await _draft(api, application_id)
        if (elsewhere := _not_a_draft(application)) is not None:
            return elsewhere
        return _render_step(request, slug, await _step_context(api, application, slug), values=typed)
    try:
        await api.put("registration", f"/v1/provider/applications/{application_id}/sections/{section}", section_of(section, typed))
    except ApiProblem as problem:
        if problem.status != 422:
            raise
        if action == "vorige":
            # going back keeps what was typed, also what is not right yet (saved once it is).
            session.set(_typed_key(application_id, section), typed)
            previous = _step_url(application_id, STEPS[index - 1][0]) if index > 0 else f"{BASE}/aanvragen/{application_id}"
            return web.redirect(previous, message="Wat je in de vorige stap typte, is bewaard; het is nog niet volledig of correct.", request=request)
        application = await _draft(api, application_id)
        return web.form_errors(
            request,
            f"applications/step_{slug}.html",
            _in_dutch(problem),
            values=typed,
            **await _step_context(api, application, slug),
            title=f"Stap {index + 2}. {STEPS[index][2]}",
            labels=_labels(_in_dutch(problem).field_errors()),
        )
    session.pop(_typed_key(application_id, section))
    if section == "contact":
        await _remember_contact(api, section_of("contact", typed))
    if action == "vorige":
        target = _step_url(application_id, STEPS[index - 1][0]) if index > 0 else f"{BASE}/aanvragen/{application_id}"
    else:
        target = _step_url(application_id, STEPS[index + 1][0])
    return Redirect(target, status_code=303)


async def _remember_contact(api: Api, contact: dict[str, Any]) -> None:
    """R-3: the contact details are entered once per organisation: the first application keeps
    them in the organisation data, later ones get them proposed."""
    data = await _organisation_data(api)
    if data.get("contact") or data.get("organisation") is None:
        return
    keep = {k: data.get(k) for k in ("general_contact", "voucher_contact", "lms", "lms_other", "follow_up_document_id")}
    try:
        await api.put("registration", "/v1/provider/organisation", {**keep, "contact": contact})
    except ApiProblem:
        pass  # the draft has the contact; the organisation data can be completed later


# ------------------------------------------------------------------------------- step 6: extra documents


@get(f"{BASE}/aanvragen/{{application_id:uuid}}/documenten")
async def documents_step(request: Request[Any, Any, Any], application_id: UUID) -> Template | Redirect:
    web.organisation_id(request)
    api = web.api_of(request)
    application = await _draft(api, application_id)
    if (elsewhere := _not_a_draft(application)) is not None:
        return elsewhere
    return _render_step(request, "documenten", await _step_context(api, application, "documenten"))


@post(f"{BASE}/aanvragen/{{application_id:uuid}}/documenten")
async def documents_navigate(request: Request[Any, Any, Any], application_id: UUID) -> Template | Redirect:
    """ "Vorige stap", "Volgende stap" or removing a document: the documents section is saved either way."""
    web.organisation_id(request)
    form = await web.form_of(request)
    action = str(form.get("actie") or "volgende")
    api = web.api_of(request)
    application = await _draft(api, application_id)
    if (elsewhere := _not_a_draft(application)) is not None:
        return elsewhere
    ids = list((application["sections"].get("documents") or {}).get("document_ids", []))
    if action.startswith("verwijderen:"):
        removed = action.split(":", 1)[1]
        ids = [d for d in ids if d != removed]
    await api.put("registration", f"/v1/provider/applications/{application_id}/sections/documents", {"document_ids": ids})
    if action.startswith("verwijderen:"):
        return web.redirect(_step_url(application_id, "documenten"), message="Het document is van de aanvraag verwijderd.", request=request)
    return Redirect(_step_url(application_id, "beslissingsinstantie" if action == "vorige" else "overzicht"), status_code=303)


@post(f"{BASE}/aanvragen/{{application_id:uuid}}/documenten/opladen", request_max_body_size=None)
async def upload_document(request: Request[Any, Any, Any], application_id: UUID) -> Template | Redirect:
    """The browser's multipart form, streamed on to the service's raw-body upload (R-16)."""
    web.organisation_id(request)
    web.check_csrf_query(request)
    api = web.api_of(request)
    _, stored, problem = await _stream_upload(request, api, purpose="extra")
    application = await _draft(api, application_id)
    if (elsewhere := _not_a_draft(application)) is not None:
        return elsewhere
    error = _upload_error(problem) if problem else None if stored else "Kies een bestand om op te laden."
    if error:
        context = await _step_context(api, application, "documenten")
        return _render_step(request, "documenten", context, errors={"bestand": error}, labels=LABELS, status_code=422)
    assert stored is not None
    ids = [*(application["sections"].get("documents") or {}).get("document_ids", []), stored["document_id"]]
    await api.put("registration", f"/v1/provider/applications/{application_id}/sections/documents", {"document_ids": ids})
    return web.redirect(_step_url(application_id, "documenten"), message=f"{stored['filename']} is opgeladen.", request=request)


def _upload_error(problem: ApiProblem) -> str:
    if problem.status == 413:
        return "Het bestand is te groot: een document is hoogstens 20 MB."
    if problem.status in (415, 422):
        return "Dit soort bestand wordt niet aanvaard: kies een PDF, DOCX, ODT, PNG of JPEG."
    return problem.detail


async def _stream_upload(
    request: Request[Any, Any, Any], api: Api, *, purpose: str, needs: str | None = None
) -> tuple[dict[str, str], dict[str, Any] | None, ApiProblem | None]:
    """Reads the multipart form as it arrives: its small text fields, and the file (field
    `bestand`) passed on to POST /v1/provider/documents chunk by chunk, never held whole. With
    `needs`, the file is only sent when that text field (before it in the form) is filled in.
    Returns (fields, the stored document or None, the service's refusal or None)."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    if content_type != "multipart/form-data" or "boundary" not in options:
        raise web.CsrfRefused()  # not the page's form
    fields: dict[str, str] = {}
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=8)
    upload: asyncio.Task[Any] | None = None
    segment: MultipartSegment | None = None
    text = bytearray()

    async def body() -> AsyncIterator[bytes]:
        while (chunk := await queue.get()) is not None:
            yield chunk

    async def feed(chunk: bytes | None) -> None:
        assert upload is not None
        if upload.done():
            return  # the service answered already (refused): the rest is read and dropped
        put = asyncio.ensure_future(queue.put(chunk))
        await asyncio.wait({put, upload}, return_when=asyncio.FIRST_COMPLETED)
        if not put.done():
            put.cancel()

    with PushMultipartParser(options["boundary"], max_segment_count=20) as parser:
        async for chunk in request.stream():
            for event in parser.parse(chunk):
                if isinstance(event, MultipartSegment):
                    segment, text = event, bytearray()
                    if event.name == "bestand" and event.filename and (needs is None or fields.get(needs)):
                        upload = asyncio.ensure_future(
                            api.request(
                                "registration",
                                "POST",
                                "/v1/provider/documents",
                                params={"purpose": purpose, "filename": event.filename},
                                headers={"content-type": event.content_type or "application/octet-stream"},
                                content=body(),
                            )
                        )
                elif event is None:
                    if segment is not None and segment.name == "bestand":
                        if upload is not None:
                            await feed(None)
                    elif segment is not None and segment.name:
                        fields[segment.name] = text.decode("utf-8", "replace").strip()
                    segment = None
                elif segment is not None and segment.name == "bestand":
                    if upload is not None:
                        await feed(bytes(event))
                elif len(text) < 20_000:
                    text += event
    if upload is None:
        return fields, None, None
    try:
        response = await upload
    except ApiProblem as problem:
        return fields, None, problem
    stored: dict[str, Any] = response.json()
    return fields, stored, None


# ------------------------------------------------------------------------------- step 7: overview and "Bewaren"


@get(f"{BASE}/aanvragen/{{application_id:uuid}}/overzicht")
async def overview(request: Request[Any, Any, Any], application_id: UUID) -> Template | Redirect:
    web.organisation_id(request)
    api = web.api_of(request)
    application = await _draft(api, application_id)
    if (elsewhere := _not_a_draft(application)) is not None:
        return elsewhere
    return await _render_overview(request, api, application)


async def _render_overview(request: Request[Any, Any, Any], api: Api, application: dict[str, Any], **extra: Any) -> Template:
    context = await _step_context(api, application, "overzicht")
    known = await _documents(api, "extra")
    ids = (application["sections"].get("documents") or {}).get("document_ids", [])
    committees = dict(await _committees(api))
    return _render_step(
        request,
        "overzicht",
        context,
        attached=[known.get(d, {"filename": "document"}) for d in ids],
        committees=committees,
        groups=SELF_ANALYSIS,
        structures=dict(STRUCTURES),
        competence_groups=dict(COMPETENCE_GROUPS),
        aims=dict(AIMS),
        slug_by_section=SLUG_BY_SECTION,
        **extra,
    )


@post(f"{BASE}/aanvragen/{{application_id:uuid}}/overzicht")
async def submit(request: Request[Any, Any, Any], application_id: UUID) -> Template | Redirect:
    web.organisation_id(request)
    form = await web.form_of(request)
    if form.get("actie") == "vorige":
        return Redirect(_step_url(application_id, "documenten"), status_code=303)
    api = web.api_of(request)
    try:
        # One key per draft: a second click (or a repeated post) gets the same answer, never two dossiers.
        await api.post("registration", f"/v1/provider/applications/{application_id}/submit", headers={"Idempotency-Key": f"portal-submit-{application_id}"})
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        application = await _draft(api, application_id)
        if (elsewhere := _not_a_draft(application)) is not None:
            return elsewhere
        problems = [
            {
                "label": _submit_problem_label(str(e.get("field", ""))),
                "href": _submit_problem_href(application_id, str(e.get("field", ""))),
                "reason": _dutch(_form_name(str(e.get("field", "")).split(".", 2)[-1]), str(e.get("reason", ""))),
                "rule": e.get("rule"),
            }
            for e in problem.errors
        ]
        return await _render_overview(request, api, application, submit_problems=problems, problem=None if problems else problem, status_code=problem.status)
    return Redirect(f"{BASE}/aanvragen/{application_id}/bevestiging", status_code=303)


def _submit_problem_label(field: str) -> str:
    parts = _form_name(field).split(".")
    if parts[0] == "sections" and len(parts) >= 2:
        slug = SLUG_BY_SECTION.get(parts[1])
        title = STEP_BY_SLUG[slug][2] if slug else parts[1]
        return f"{title}: {_label('.'.join(parts[2:]))}" if len(parts) > 2 else f"{title}: nog niet ingevuld"
    return _label(".".join(parts))


def _submit_problem_href(application_id: UUID, field: str) -> str:
    parts = _form_name(field).split(".")
    if parts[0] == "sections" and len(parts) >= 2 and parts[1] in SLUG_BY_SECTION:
        anchor = "-".join(parts[2:])
        return _step_url(application_id, SLUG_BY_SECTION[parts[1]]) + (f"#{anchor}" if anchor else "")
    return _step_url(application_id, "contactgegevens")


@get(f"{BASE}/aanvragen/{{application_id:uuid}}/bevestiging")
async def confirmation(request: Request[Any, Any, Any], application_id: UUID) -> Template | Redirect:
    """The outcome: inadmissible with its rule and reason, held (R-2) or in review (R-17)."""
    web.organisation_id(request)
    application = await _draft(web.api_of(request), application_id)
    if application["status"] == "draft":
        return Redirect(f"{BASE}/aanvragen/{application_id}/overzicht", status_code=303)
    return web.page(request, "applications/confirmation.html", title="Aanvraag ingediend", application=application, status_names=STATUS, base=BASE)


# ------------------------------------------------------------------------------- cancelling


@get(f"{BASE}/aanvragen/{{application_id:uuid}}/annuleren")
async def cancel_page(request: Request[Any, Any, Any], application_id: UUID, terug: str | None = None) -> Template | Redirect:
    web.organisation_id(request)
    application = await _draft(web.api_of(request), application_id)
    if (elsewhere := _not_a_draft(application)) is not None:
        return elsewhere
    back = terug if terug in STEP_BY_SLUG else None
    return web.page(
        request,
        "applications/cancel.html",
        title="Aanvraag annuleren",
        application=application,
        base=BASE,
        back=_step_url(application_id, back) if back else f"{BASE}/aanvragen/{application_id}",
    )


@post(f"{BASE}/aanvragen/{{application_id:uuid}}/annuleren")
async def cancel(request: Request[Any, Any, Any], application_id: UUID) -> Redirect:
    web.organisation_id(request)
    await web.form_of(request)
    try:
        await web.api_of(request).delete("registration", f"/v1/provider/applications/{application_id}")
    except ApiProblem as problem:
        if problem.status != 409:
            raise
        return web.redirect(f"{BASE}/dossiers/{application_id}", message="Deze aanvraag is al ingediend en kan niet meer geannuleerd worden.", request=request)
    session = web.session_of(request)
    for _, section, _ in STEPS:
        if section:
            session.pop(_typed_key(application_id, section))
    return web.redirect(BASE, message="De aanvraag is geannuleerd: het ontwerp is verwijderd.", request=request)


# ------------------------------------------------------------------------------- a dossier and its questions


@get(f"{BASE}/dossiers/{{application_id:uuid}}")
async def dossier(request: Request[Any, Any, Any], application_id: UUID) -> Template | Redirect:
    web.organisation_id(request)
    api = web.api_of(request)
    application = await _draft(api, application_id)
    if application["status"] == "draft":
        return Redirect(f"{BASE}/aanvragen/{application_id}", status_code=303)
    return await _render_dossier(request, api, application)


async def _render_dossier(request: Request[Any, Any, Any], api: Api, application: dict[str, Any], **extra: Any) -> Template:
    answers = await _documents(api, "answer") if any(r["answer_documents"] for r in application["information_requests"]) else {}
    open_request = next((r for r in application["information_requests"] if r["answered_at"] is None and r["lapsed_at"] is None), None)
    return web.page(
        request,
        "applications/dossier.html",
        title=f"Dossier {application['dossier_number']}",
        application=application,
        status_names=STATUS,
        actions=ACTIONS,
        outcomes=OUTCOMES,
        answer_documents=answers,
        open_request=open_request,
        answer_action=f"{BASE}/dossiers/{application['application_id']}/antwoord?{web.CSRF_FIELD}=",
        base=BASE,
        labels=LABELS,
        **extra,
    )


@post(f"{BASE}/dossiers/{{application_id:uuid}}/antwoord", request_max_body_size=None)
async def answer(request: Request[Any, Any, Any], application_id: UUID) -> Template | Redirect:
    """R-19: the answer to the team's question, with a document if one is chosen (streamed on)."""
    web.organisation_id(request)
    web.check_csrf_query(request)
    api = web.api_of(request)
    fields, stored, problem = await _stream_upload(request, api, purpose="answer", needs="antwoord")
    errors: dict[str, str] = {}
    if not fields.get("antwoord"):
        errors["antwoord"] = "Vul je antwoord in."
    if problem is not None:
        errors["bestand"] = _upload_error(problem)
    if not errors:
        try:
            await api.post(
                "registration",
                f"/v1/provider/applications/{application_id}/answer",
                {"answer": fields["antwoord"], "document_ids": [stored["document_id"]] if stored else []},
            )
        except ApiProblem as refused:
            if refused.status not in (409, 422):
                raise
            application = await _draft(api, application_id)
            return await _render_dossier(
                request, api, application, problem=refused, values={"antwoord": fields.get("antwoord", "")}, status_code=refused.status
            )
        return web.redirect(f"{BASE}/dossiers/{application_id}", message="Je antwoord is verstuurd naar het team opleidingsdatabank.", request=request)
    application = await _draft(api, application_id)
    return await _render_dossier(request, api, application, errors=errors, values={"antwoord": fields.get("antwoord", "")}, status_code=422)


# ------------------------------------------------------------------------------- registered trainings


@get(f"{BASE}/geregistreerd")
async def trainings(request: Request[Any, Any, Any], na: str | None = None) -> Template:
    web.organisation_id(request)
    found = await web.api_of(request).get("registration", "/v1/provider/trainings", params={"limit": 20, "cursor": na})
    return web.page(
        request,
        "applications/trainings.html",
        title="Geregistreerde opleidingen",
        trainings=found["items"],
        next_cursor=found["next_cursor"],
        paged=bool(na),
        base=BASE,
    )


@get(f"{BASE}/geregistreerd/{{odb_number:str}}")
async def training(request: Request[Any, Any, Any], odb_number: str) -> Template:
    web.organisation_id(request)
    api = web.api_of(request)
    found = await api.get("registration", f"/v1/provider/trainings/{odb_number}")
    try:
        public = await api.get("registration", f"/v1/register/trainings/{found['odb_number']}", signed=False)
    except ApiProblem as problem:
        if problem.status != 404:
            raise
        public = None  # stopped: no longer in the public register
    return web.page(request, "applications/training.html", title=found["name"], training=found, public=public, base=BASE)


@get(f"{BASE}/geregistreerd/{{odb_number:str}}/stopzetten")
async def stop_page(request: Request[Any, Any, Any], odb_number: str) -> Template:
    web.organisation_id(request)
    found = await web.api_of(request).get("registration", f"/v1/provider/trainings/{odb_number}")
    return web.page(request, "applications/stop.html", title="Registratie stopzetten", training=found, base=BASE, labels=LABELS)


@post(f"{BASE}/geregistreerd/{{odb_number:str}}/stopzetten")
async def stop(request: Request[Any, Any, Any], odb_number: str) -> Template | Redirect:
    """R-23: a stop date and a reason, then a confirmation step, then the service."""
    web.organisation_id(request)
    form = await web.form_of(request)
    typed = web.values(form, "stop_on", "reason")
    api = web.api_of(request)
    found = await api.get("registration", f"/v1/provider/trainings/{odb_number}")
    errors = {
        name: message
        for name, message in (("stop_on", "Geef de datum waarop de stopzetting ingaat."), ("reason", "Geef de reden van de stopzetting."))
        if not typed[name]
    }
    if errors:
        return web.page(
            request,
            "applications/stop.html",
            title="Registratie stopzetten",
            training=found,
            base=BASE,
            labels=LABELS,
            errors=errors,
            values=typed,
            status_code=422,
        )
    if form.get("actie") != "bevestigen":
        return web.page(request, "applications/stop_confirm.html", title="Stopzetting bevestigen", training=found, base=BASE, values=typed)
    try:
        await api.post("registration", f"/v1/provider/trainings/{found['odb_number']}/stop", {"stop_on": typed["stop_on"], "reason": typed["reason"]})
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        return web.form_errors(
            request, "applications/stop.html", _in_dutch(problem), values=typed, title="Registratie stopzetten", training=found, base=BASE, labels=LABELS
        )
    return web.redirect(
        f"{BASE}/geregistreerd/{found['odb_number']}",
        message=f"De registratie van {found['odb_number']} wordt stopgezet vanaf {_date(typed['stop_on'])}.",
        request=request,
    )


_date = formats.day


ROUTES: list[Any] = [
    start,
    new_application,
    task_list,
    step_page,
    save_step,
    documents_step,
    documents_navigate,
    upload_document,
    overview,
    submit,
    confirmation,
    cancel_page,
    cancel,
    dossier,
    answer,
    trainings,
    training,
    stop_page,
    stop,
]
