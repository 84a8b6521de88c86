"""The department's work (case handlers): the work queues of the training database (registration,
case_handler@training_database) and of the recognitions (Platos, case_handler@platos), each sorted
by the deadline the service derives; a dossier with its history, documents, questions and the
notification log (operator@department); and one page per step a case handler takes (ask for
information, forward, decide; admissibility, advice, the minister's decision), each a form that
posts to its own page, the service's refusal shown with its rule.

URLs: /departement, /departement/odb/<id>[/<stap>], /departement/platos/<id>[/<stap>]. The
amendments (R-17), yearly evaluations (R-26) and reported changes (E-12) are in
`portal.pages.department_more`; the work queues page lists the open change reports too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode
from uuid import UUID
from zoneinfo import ZoneInfo

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Response, Template

from portal.api import Api, ApiProblem
from portal.messages import dutch
from portal.pages.register import FORMATS, dutch_date
from portal.web import api_of, form_errors, form_of, organisation_id, page, redirect, signed_in, values

PAGE_SIZE = 20

# The two back offices, by the part of the URL that names them.
SERVICES = {"odb": "registration", "platos": "recognition"}
AREA_NAMES = {"odb": "Opleidingsdatabank (ODB)", "platos": "Erkenningen (Platos)"}

ODB_STATUSES = {
    "draft": "Ontwerp",
    "inadmissible": "Onontvankelijk",
    "held": "Wacht op kwaliteitsregistratie",
    "in_review": "In behandeling",
    "awaiting_information": "Wacht op informatie",
    "forwarded": "Bij het beslissingsorgaan",
    "approved": "Goedgekeurd",
    "rejected": "Afgewezen",
}
PLATOS_STATUSES = {
    "draft": "Ontwerp",
    "submitted": "Ontvankelijkheid te beoordelen",
    "inadmissible": "Onontvankelijk",
    "in_examination": "In onderzoek",
    "awaiting_information": "Wacht op informatie",
    "advised": "Advies bij de minister",
    "granted": "Erkend",
    "refused": "Geweigerd",
    "reconsideration_requested": "Heroverweging gevraagd",
    "reconsideration_heard": "Heroverweging: aanvrager gehoord",
    "reconsideration_advised": "Heroverweging: advies bij de minister",
}
STATUSES = {"odb": ODB_STATUSES, "platos": PLATOS_STATUSES}
# The statuses each queue can be filtered on (the open ones).
QUEUE_FILTERS = {
    "odb": ["held", "in_review", "awaiting_information", "forwarded"],
    "platos": [
        "submitted",
        "in_examination",
        "awaiting_information",
        "advised",
        "reconsideration_requested",
        "reconsideration_heard",
        "reconsideration_advised",
    ],
}

ACTIONS_IN_HISTORY = {
    "started": "Aanvraag gestart",
    "draft_created": "Aanvraag gestart",
    "submitted": "Ingediend",
    "released": "Vrijgegeven na kwaliteitsregistratie",
    "information_requested": "Informatie gevraagd",
    "information_received": "Informatie ontvangen",
    "information_term_lapsed": "Termijn voor informatie verstreken",
    "amended": "Aangepast op vraag van de aanbieder",
    "forwarded": "Doorgestuurd naar het beslissingsorgaan",
    "decided": "Beslist",
    "admissible": "Ontvankelijk verklaard",
    "inadmissible": "Onontvankelijk verklaard",
    "examination_started": "Onderzoekstermijn gestart (e-mail bezorgd)",
    "examination_deadline_near": "Onderzoekstermijn loopt bijna af",
    "email_failed": "E-mail kon niet bezorgd worden",
    "advised": "Advies aan de minister",
    "decision_delivered": "Beslissing bezorgd",
    "reconsideration_requested": "Heroverweging gevraagd",
    "reconsideration_heard": "Aanvrager gehoord door de commissie",
    "reconsideration_advised": "Advies van de commissie",
    "reconsideration_decided": "Nieuwe beslissing na heroverweging",
    "recognition_ended": "Erkenning beëindigd",
}

EMAILS = {
    "registration.application_submitted": "Bevestiging van de aanvraag",
    "registration.information_requested": "Vraag om aanvullende informatie",
    "registration.application_decided": "Beslissing over de aanvraag",
    "registration.training_stopped": "Bevestiging van de stopzetting",
    "registration.negative_evaluation": "Negatieve jaarlijkse evaluatie",
    "recognition.application_confirmed": "Ontvangstbevestiging",
    "recognition.admissibility": "Ontvankelijkheid van de aanvraag",
    "recognition.information_requested": "Vraag om aanvullende informatie",
    "recognition.decision": "Beslissing van de minister",
    "recognition.reconsideration_outcome": "Uitkomst van de heroverweging",
    "recognition.ended": "Einde van de erkenning",
}
EMAIL_STATUSES = {
    "created": "Klaar om te verzenden",
    "sending": "Wordt verzonden",
    "delivered": "Bezorgd",
    "temporary-failure": "Tijdelijk mislukt, wordt opnieuw geprobeerd",
    "permanent-failure": "Mislukt",
    "technical-failure": "Technische fout",
}

# the sections the back office amends at the provider's request, until the dossier is
# forwarded (the service decides): (URL part of the provider's step, the API's section, its name).
AMENDABLE_STATUSES = ("held", "in_review", "awaiting_information")
AMEND_SECTIONS = [
    ("contactgegevens", "contact", "Contactgegevens"),
    ("opleiding", "training", "Gegevens opleiding"),
    ("zelfanalyse", "self_analysis", "Zelfanalyse arbeidsmarktgerichtheid"),
    ("beslissingsinstantie", "deciding_body", "Beslissingsinstantie"),
]
CHANGE_REPORTS_SIZE = 20

DECIDING_BODIES = [("commission", "De Vlaamse opleidingscommissie (VOC)"), ("joint_committee", "Een paritair comité dat zich kandidaat stelde")]


BRUSSELS = ZoneInfo("Europe/Brussels")


def _today() -> date:
    return datetime.now(BRUSSELS).date()


def moment(value: Any) -> str:
    """An instant as the clock in Brussels shows it: '26 november 2026 om 14:05'."""
    if not value:
        return ""
    try:
        at = datetime.fromisoformat(str(value)).astimezone(BRUSSELS)
    except ValueError:
        return str(value)
    return f"{dutch_date(at.date().isoformat())} om {at:%H:%M}"


def _context() -> dict[str, Any]:
    """What every template of this area uses to word things."""
    return {
        **FORMATS,
        "moment": moment,
        "area_names": AREA_NAMES,
        "statuses": STATUSES,
        "actions_in_history": ACTIONS_IN_HISTORY,
        "emails": EMAILS,
        "email_statuses": EMAIL_STATUSES,
        "today": _today().isoformat(),
    }


def _area(area: str) -> str:
    if area not in SERVICES:
        raise NotFoundException()
    return SERVICES[area]


# ------------------------------------------------------------------------------- the work queues


@get("/departement")
async def queues(request: Request[Any, Any, Any]) -> Template:
    signed_in(request)
    organisation_id(request)
    api = api_of(request)
    queries = request.query_params
    found: dict[str, Any] = {}
    refusals: dict[str, ApiProblem] = {}
    for area, service in SERVICES.items():
        status = queries.get(f"{area}_status") or ""
        params = {"status": status if status in QUEUE_FILTERS[area] else None, "limit": PAGE_SIZE, "cursor": queries.get(f"{area}_cursor")}
        try:
            found[area] = await api.get(service, "/v1/back-office/queue", params=params)
        except ApiProblem as problem:
            if problem.status != 403:
                raise
            refusals[area] = problem
    if len(refusals) == len(SERVICES):
        # Neither back office's right: the refusal page, with the right to request (ID-8).
        raise refusals["odb"]
    kept = {k: v for k, v in queries.items() if k.endswith("_status") and v}
    changes = None
    if "platos" in found:
        # E-12: the changes recognised providers reported, not reviewed yet, the oldest first (as the service orders them).
        cursor = queries.get("wijzigingen_cursor")
        answer = await api.get("recognition", "/v1/back-office/change-reports", params={"limit": CHANGE_REPORTS_SIZE, "cursor": cursor})
        changes = {
            "items": answer["items"],
            "next_url": f"/departement?{urlencode({**kept, 'wijzigingen_cursor': answer['next_cursor']})}#wijzigingen" if answer.get("next_cursor") else None,
            "first_url": f"/departement?{urlencode(kept)}#wijzigingen" if cursor else None,
        }
    pages = {}
    for area, answer in found.items():
        next_cursor = answer.get("next_cursor")
        pages[area] = {
            "items": answer["items"],
            "next_url": f"/departement?{urlencode({**kept, f'{area}_cursor': next_cursor})}#{area}" if next_cursor else None,
            "first_url": f"/departement?{urlencode(kept)}#{area}" if queries.get(f"{area}_cursor") else None,
            "status": queries.get(f"{area}_status") or "",
            "filters": [(s, STATUSES[area][s]) for s in QUEUE_FILTERS[area]],
        }
    return page(request, "department/queues.html", pages=pages, refusals=refusals, changes=changes, **_context())


# ------------------------------------------------------------------------------- a dossier


async def _dossier(api: Api, area: str, application_id: UUID) -> dict[str, Any]:
    found: dict[str, Any] = await api.get(_area(area), f"/v1/back-office/applications/{application_id}")
    return found


def _reference(area: str, dossier: dict[str, Any]) -> str:
    """The reference the service gives the notification service for a dossier's emails
    (registration names it; recognition's emails carry the dossier number)."""
    return str(dossier["notification_reference"]) if area == "odb" else str(dossier["dossier_number"])


def _title(area: str, dossier: dict[str, Any]) -> str:
    if area == "odb":
        return str(dossier.get("training_name") or "Aanvraag zonder naam")
    project = (dossier.get("parts") or {}).get("project") or {}
    return str(project.get("project_title") or dossier.get("organisation_name") or "Aanvraag tot erkenning")


async def _documents(api: Api, area: str, dossier: dict[str, Any]) -> list[dict[str, Any]]:
    """The dossier's documents (R-16, R-19) with their names: attached to the application or to an answer."""
    if area != "odb":
        return []
    found: list[dict[str, Any]] = await api.get("registration", f"/v1/back-office/applications/{dossier['application_id']}/documents")
    questions = {q["request_id"]: number for number, q in enumerate(dossier.get("information_requests") or [], start=1)}
    for document in found:
        number = questions.get(document.get("request_id"))
        document["kind"] = f"bij het antwoord op vraag {number}" if number else "bij de aanvraag"
        document["size"] = f"{max(1, round(document['size_bytes'] / 1024))} kB"
    return found


DETAIL_LABELS = {
    "outcome": "uitkomst",
    "reasons": "motivering",
    "odb_number": "ODB-nummer",
    "advice": "advies",
    "deciding_body": "beslissingsorgaan",
    "due_on": "te beantwoorden tegen",
    "question": "vraag",
    "section": "onderdeel",
    "reason": "reden",
    "motivation": "motivering",
    "decided_on": "beslist op",
    "recognition_starts_on": "erkend vanaf",
    "heard_on": "gehoord op",
    "holds_from": "geregistreerd vanaf",
    "ended_on": "beëindigd op",
}
DETAIL_VALUES = {
    "approved": "goedgekeurd",
    "rejected": "afgewezen",
    "commission": "Vlaamse opleidingscommissie",
    "granted": "erkend",
    "refused": "geweigerd",
    "favourable": "gunstig",
    "unfavourable": "ongunstig",
    # the sections of an amendment
    "contact": "contactgegevens",
    "training": "gegevens opleiding",
    "self_analysis": "zelfanalyse",
    "deciding_body": "beslissingsinstantie",
    "documents": "documenten",
    # why a recognition ended
    "expiry": "vijf jaar verstreken (E-8)",
    "inactivity": "twee jaar niemand begeleid (E-9)",
    "withdrawal": "ingetrokken na een gemelde wijziging (E-12)",
}


def _details(details: dict[str, Any]) -> list[str]:
    """What an entry of the history changed, in words (the keys a case handler needs)."""
    shown = []
    for key, label in DETAIL_LABELS.items():
        value = details.get(key)
        if value in (None, "", [], {}):
            continue
        if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
            value = dutch_date(value)
        shown.append(f"{label}: {DETAIL_VALUES.get(str(value), value)}")
    return shown


def _actor(dossier: dict[str, Any], actor_id: str | None, me: str | None) -> str:
    if actor_id is None:
        return "Automatisch"
    if actor_id == me:
        return "Jij"
    if actor_id in (dossier.get("created_by"), dossier.get("submitted_by")):
        return "De aanbieder"
    return "Het departement"


def _steps(area: str, status: str) -> list[tuple[str, str]]:
    """The steps a case handler can take now (the service decides; these are the ones that apply)."""
    if area == "odb":
        steps = []
        if status in ("in_review", "held"):
            steps.append(("informatie-vragen", "Informatie vragen"))
        if status == "in_review":
            steps.append(("doorsturen", "Doorsturen naar het beslissingsorgaan"))
        if status == "forwarded":
            steps.append(("beslissen", "Beslissen"))
        return steps
    return {
        "submitted": [("ontvankelijkheid", "Ontvankelijkheid beoordelen")],
        "in_examination": [("informatie-vragen", "Informatie vragen"), ("advies", "Advies aan de minister")],
        "advised": [("beslissen", "Beslissing van de minister registreren")],
        "reconsideration_requested": [("hoorzitting", "Hoorzitting van de commissie registreren")],
        "reconsideration_heard": [("advies-commissie", "Advies van de commissie registreren")],
        "reconsideration_advised": [("nieuwe-beslissing", "Nieuwe beslissing van de minister registreren")],
    }.get(status, [])


@get("/departement/{area:str}/{application_id:uuid}")
async def dossier(request: Request[Any, Any, Any], area: str, application_id: UUID) -> Template:
    session = signed_in(request)
    organisation_id(request)
    api = api_of(request)
    found = await _dossier(api, area, application_id)
    notifications: list[dict[str, Any]] = []
    log_refused: ApiProblem | None = None
    try:
        notifications = (await api.get("notification", "/v1/notifications", params={"reference": _reference(area, found), "limit": 50}))["items"]
    except ApiProblem as problem:
        if problem.status != 403:
            raise
        log_refused = problem
    me = session.person.get("person_id")
    history = [
        {**entry, "who": _actor(found, entry.get("actor_id"), me), "shown": _details(entry.get("details") or {})} for entry in found.get("history") or []
    ]
    return page(
        request,
        f"department/{area}_dossier.html",
        area=area,
        dossier=found,
        dossier_title=_title(area, found),
        history=list(reversed(history)),
        documents=await _documents(api, area, found),
        notifications=notifications,
        log_refused=log_refused,
        steps=_steps(area, found["status"]),
        amend_sections=AMEND_SECTIONS if area == "odb" and found["status"] in AMENDABLE_STATUSES else [],
        **_context(),
    )


@get("/departement/{area:str}/{application_id:uuid}/documenten/{document_id:uuid}")
async def download(request: Request[Any, Any, Any], area: str, application_id: UUID, document_id: UUID) -> Response[bytes]:
    """A document of a dossier, passed on as the service sends it (never shown inline). Only the
    training database's back office offers documents to download."""
    signed_in(request)
    organisation_id(request)
    if area != "odb":
        raise NotFoundException()
    answer = await api_of(request).request("registration", "GET", f"/v1/back-office/documents/{document_id}")
    return Response(
        content=answer.content,
        media_type=answer.headers.get("content-type", "application/octet-stream"),
        headers={
            "Content-Disposition": answer.headers.get("content-disposition", f'attachment; filename="{document_id}"'),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
        },
    )


# ------------------------------------------------------------------------------- the steps


def _text(typed: dict[str, str], name: str) -> str | None:
    return typed.get(name) or None


def _forward_body(typed: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {"advice": _text(typed, "advice")}
    if typed.get("deciding_body") == "joint_committee":
        body["deciding_body"] = f"joint_committee:{typed.get('joint_committee', '')}"
    elif typed.get("deciding_body") == "commission":
        body["deciding_body"] = "commission"
    return body


@dataclass(frozen=True)
class Step:
    """One step of a case handler: its page, the fields it takes and how they become the API's body."""

    title: str
    api_path: str
    fields: tuple[str, ...]
    body: Callable[[dict[str, str]], dict[str, Any]]
    done: str
    button: str


STEPS: dict[tuple[str, str], Step] = {
    ("odb", "informatie-vragen"): Step(
        "Informatie vragen",
        "information-requests",
        ("question",),
        lambda t: {"question": t.get("question", "")},
        "Je vraag is verstuurd naar de contactpersoon. De aanbieder heeft een maand om te antwoorden (R-19).",
        "Vraag versturen",
    ),
    ("odb", "doorsturen"): Step(
        "Doorsturen naar het beslissingsorgaan",
        "forward",
        ("deciding_body", "joint_committee", "advice"),
        _forward_body,
        "Het dossier is doorgestuurd naar het beslissingsorgaan (R-15).",
        "Doorsturen",
    ),
    ("odb", "beslissen"): Step(
        "Beslissen",
        "decision",
        ("outcome", "reasons", "holds_from"),
        lambda t: {"outcome": t.get("outcome") or None, "reasons": _text(t, "reasons"), "holds_from": _text(t, "holds_from")},
        "De beslissing is bewaard en de contactpersoon krijgt een e-mail (N-1).",
        "Beslissing bewaren",
    ),
    ("platos", "ontvankelijkheid"): Step(
        "Ontvankelijkheid beoordelen",
        "admissibility",
        ("outcome", "reasons"),
        lambda t: {"outcome": t.get("outcome") or None, "reasons": _text(t, "reasons")},
        "De ontvankelijkheid is bewaard en de aanvrager krijgt een e-mail (E-5). De onderzoekstermijn start wanneer die bezorgd is (E-6).",
        "Bewaren",
    ),
    ("platos", "informatie-vragen"): Step(
        "Informatie vragen",
        "information-requests",
        ("question",),
        lambda t: {"question": t.get("question", "")},
        "Je vraag is verstuurd. De onderzoekstermijn is geschorst tot het antwoord er is (E-6).",
        "Vraag versturen",
    ),
    ("platos", "advies"): Step(
        "Advies aan de minister",
        "advice",
        ("advice", "motivation"),
        lambda t: {"advice": t.get("advice") or None, "motivation": t.get("motivation", "")},
        "Het advies is bewaard (E-7).",
        "Advies bewaren",
    ),
    ("platos", "beslissen"): Step(
        "Beslissing van de minister registreren",
        "decision",
        ("outcome", "decided_on", "recognition_starts_on", "reasons"),
        lambda t: {
            "outcome": t.get("outcome") or None,
            "decided_on": t.get("decided_on") or None,
            "recognition_starts_on": _text(t, "recognition_starts_on"),
            "reasons": _text(t, "reasons"),
        },
        "De beslissing is bewaard en de aanvrager krijgt een e-mail (N-3).",
        "Beslissing bewaren",
    ),
    ("platos", "hoorzitting"): Step(
        "Hoorzitting van de commissie registreren",
        "reconsideration/hearing",
        ("heard_on",),
        lambda t: {"heard_on": t.get("heard_on") or None},
        "De hoorzitting is bewaard: het advies van de commissie volgt binnen 45 dagen (E-10).",
        "Bewaren",
    ),
    ("platos", "advies-commissie"): Step(
        "Advies van de heroverwegingscommissie registreren",
        "reconsideration/advice",
        ("advice", "motivation"),
        lambda t: {"advice": t.get("advice") or None, "motivation": t.get("motivation", "")},
        "Het advies van de commissie is bewaard (E-10).",
        "Advies bewaren",
    ),
    ("platos", "nieuwe-beslissing"): Step(
        "Nieuwe beslissing van de minister registreren",
        "reconsideration/decision",
        ("outcome", "decided_on", "recognition_starts_on", "reasons"),
        lambda t: {
            "outcome": t.get("outcome") or None,
            "decided_on": t.get("decided_on") or None,
            "recognition_starts_on": _text(t, "recognition_starts_on"),
            "reasons": _text(t, "reasons"),
        },
        "De nieuwe beslissing is bewaard en de aanvrager krijgt een e-mail (E-10, N-3).",
        "Beslissing bewaren",
    ),
}


# The services word their refusals in English, with the rule; a case handler reads them in Dutch.
RULE_TEXTS = {
    "R-2": "Het dossier wacht tot de organisatie een WSE-kwaliteitsregistratie heeft.",
    "R-15": "Kies de Vlaamse opleidingscommissie of een paritair comité dat zich kandidaat stelde.",
    "R-19": "Er staat een vraag open bij de aanbieder: het dossier gaat pas verder na het antwoord, of wanneer de termijn van een maand verstreken is.",
    "R-20": "Een afwijzing moet gemotiveerd worden.",
    "R-21": "Geef een geldige datum vanaf wanneer de registratie geldt.",
    "E-5": "Een onontvankelijke aanvraag krijgt de redenen mee.",
    "E-7": "Een weigering wordt gemotiveerd, en de beslissing van de minister wordt pas geregistreerd nadat ze genomen is (niet in de toekomst).",
    "E-8": "Een erkenning start op de datum in de beslissing van de minister; een weigering start geen erkenning.",
}
RULE_IN_TEXT = re.compile(r"\(((?:R|E|ID|A|N)-\d+)\)")


def _in_dutch(problem: ApiProblem, area: str, status: str) -> ApiProblem:
    """The refusal in Dutch, its rule kept: the reason per field (422) or about the step (409)."""
    if problem.status == 422:
        errors = []
        for error in problem.errors:
            rule = error.get("rule")
            text = RULE_TEXTS[str(rule)] if rule in RULE_TEXTS else dutch(str(error.get("reason", "")))
            errors.append({**error, "reason": text})
        return ApiProblem(problem.status, "De gegevens zijn niet volledig of niet geldig.", problem.rule, errors, problem.body)
    found = RULE_IN_TEXT.search(problem.detail)
    rule = problem.rule or (found.group(1) if found else None)
    state = STATUSES[area].get(status, status)
    translated = dutch(problem.detail)
    text = RULE_TEXTS.get(rule or "") or (
        translated if translated != problem.detail else f"Deze stap kan niet in de toestand van het dossier ({state.lower()})."
    )
    return ApiProblem(problem.status, text, rule, [], problem.body)


def _step(area: str, slug: str) -> Step:
    step = STEPS.get((area, slug))
    if step is None:
        raise NotFoundException()
    return step


async def _step_context(api: Api, area: str, slug: str, found: dict[str, Any]) -> dict[str, Any]:
    context: dict[str, Any] = {"area": area, "slug": slug, "step": _step(area, slug), "dossier": found, "dossier_title": _title(area, found), **_context()}
    if (area, slug) == ("odb", "doorsturen"):
        committees = await api.get("registration", "/v1/register/joint-committees", signed=False, params={"limit": 100})
        context["deciding_bodies"] = DECIDING_BODIES
        context["committees"] = [(c["number"], f"PC {c['number']} {c['name']}") for c in committees["items"]]
    return context


@get("/departement/{area:str}/{application_id:uuid}/{slug:str}")
async def step_page(request: Request[Any, Any, Any], area: str, application_id: UUID, slug: str) -> Template:
    session = signed_in(request)
    organisation_id(request)
    _step(area, slug)
    api = api_of(request)
    found = await _dossier(api, area, application_id)
    resumed = session.take_resumed_form(request.url.path) or {}
    typed = {k: v for k, v in resumed.items() if isinstance(v, str)}
    if (area, slug) == ("odb", "doorsturen") and not typed:
        typed["deciding_body"] = "commission"  # the department prefers the commission
    return page(request, "department/step.html", title=_step(area, slug).title, values=typed, **await _step_context(api, area, slug, found))


@post("/departement/{area:str}/{application_id:uuid}/{slug:str}")
async def take_step(request: Request[Any, Any, Any], area: str, application_id: UUID, slug: str) -> Template | Redirect:
    signed_in(request)
    organisation_id(request)
    step = _step(area, slug)
    form = await form_of(request)
    typed = values(form, *step.fields)
    api = api_of(request)
    service = _area(area)
    try:
        await api.post(service, f"/v1/back-office/applications/{application_id}/{step.api_path}", step.body(typed))
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        found = await _dossier(api, area, application_id)
        problem = _in_dutch(problem, area, found["status"])
        return form_errors(request, "department/step.html", problem, values=typed, title=step.title, **await _step_context(api, area, slug, found))
    return redirect(f"/departement/{area}/{application_id}", message=step.done, request=request)


ROUTES: list[Any] = [queues, dossier, download, step_page, take_step]
