"""More of the department's work (case handlers), beside `portal.pages.department`:

- R-17: a submitted ODB dossier amended at the provider's request: one section at a time, with the
  same fields as the provider's step of it and the provider's request as the reason; the service
  keeps both in the dossier's history (case_handler@training_database).
- R-26: a registered training's yearly evaluation, positive or negative with its motivation; a
  negative one is emailed to the provider's general contact, and the page says when the provider
  has none, so nobody was told (R-25) (case_handler@training_database). The training is found by
  its ODB number or from the dossier of the approved application, as the back office sees it:
  stopped or not (R-23), with its modules and its evaluations.
- E-12: the changes recognised providers report, reviewed: noted, or the recognition withdrawn
  from today; and the recognition they belong to, with its coaching assignments (E-9) and reported
  changes (case_handler@platos). The open reports are a work queue on /departement.

URLs: /departement/odb/<id>/aanpassen/<stap>, /departement/opleidingen[/<ODB-nummer>],
/departement/erkenningen/<id>[/wijzigingen/<melding>]. Each form posts to its own page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote
from uuid import UUID

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template

from portal.api import Api, ApiProblem
from portal.messages import dutch
from portal.pages import applications
from portal.pages.department import AMEND_SECTIONS, BRUSSELS, _context, _in_dutch, _title
from portal.pages.register import COMPETENCE_GROUPS
from portal.web import api_of, form_errors, form_of, organisation_id, page, redirect, signed_in, values


def _worded(problem: ApiProblem, words: dict[str, str]) -> ApiProblem:
    """The refusal with these fields' reasons in the form's own words (a choice not made is no
    list of the API's codes to a Flemish reader); the others as translated, each with its rule."""
    errors = []
    for error in problem.errors:
        name = str(error.get("field", "")).removeprefix("body.")
        errors.append({**error, "reason": words[name]} if name in words else error)
    problem.errors = errors
    return problem


# ------------------------------------------------------------------------------- amending a dossier

SECTION_BY_SLUG = {slug: (section, name) for slug, section, name in AMEND_SECTIONS}


def _amend_section(area: str, slug: str) -> tuple[str, str]:
    """(the API's section, its name) of a step the back office amends; only the training database's dossiers."""
    found = SECTION_BY_SLUG.get(slug) if area == "odb" else None
    if found is None:
        raise NotFoundException()
    return found


async def _odb_dossier(api: Api, application_id: UUID) -> dict[str, Any]:
    found: dict[str, Any] = await api.get("registration", f"/v1/back-office/applications/{application_id}")
    return found


async def _amend_context(api: Api, dossier: dict[str, Any], slug: str) -> dict[str, Any]:
    """What the provider's step template of this section needs for its fields, and this page's words."""
    section, name = _amend_section("odb", slug)
    context: dict[str, Any] = {
        "slug": slug,
        "section_name": name,
        "dossier": dossier,
        "dossier_title": _title("odb", dossier),
        "yes_no": applications.YES_NO,
    }
    if section == "training":
        saved = (dossier.get("sections") or {}).get("training") or {}
        context.update(
            structures=applications.STRUCTURES,
            competence_groups=applications.COMPETENCE_GROUPS,
            hours_units=applications.HOURS_UNITS,
            cefr_levels=applications.CEFR_LEVELS,
            # The provider's step asks for study points only of a higher-education institution,
            # which the back office sees from the section itself.
            higher_education=saved.get("hours_unit") == "study_points" or any(m.get("study_points") for m in saved.get("modules") or []),
        )
    elif section == "self_analysis":
        context["groups"] = applications.SELF_ANALYSIS
    elif section == "deciding_body":
        committees = await api.get("registration", "/v1/register/joint-committees", signed=False, params={"limit": 100})
        context.update(aims=applications.AIMS, committees=[(c["number"], f"PC {c['number']} – {c['name']}") for c in committees["items"]])
    return context


def _amend_labels(errors: dict[str, str]) -> dict[str, str]:
    return {**applications._labels(errors), **({"reason": "Vraag van de aanbieder"} if "reason" in errors else {})}


# Under the dossier's own route parameters: Litestar's router prefers a fixed path segment and does
# not go back, so a fixed "odb" here would hide /departement/{area}/{application_id}.
AMEND_PATH = "/departement/{area:str}/{application_id:uuid}/aanpassen/{slug:str}"


@get(AMEND_PATH)
async def amend_page(request: Request[Any, Any, Any], area: str, application_id: UUID, slug: str) -> Template:
    session = signed_in(request)
    organisation_id(request)
    section, _ = _amend_section(area, slug)
    api = api_of(request)
    dossier = await _odb_dossier(api, application_id)
    typed = session.take_resumed_form(request.url.path) or applications.values_of(section, (dossier.get("sections") or {}).get(section))
    if section == "training":
        typed.setdefault("module_count", "1")
    return page(request, "department/amend.html", values=typed, **await _amend_context(api, dossier, slug), **_context())


@post(AMEND_PATH)
async def amend(request: Request[Any, Any, Any], area: str, application_id: UUID, slug: str) -> Template | Redirect:
    """R-17: the section as typed and the provider's request, to the back office's section PUT."""
    signed_in(request)
    organisation_id(request)
    section, name = _amend_section(area, slug)
    form = await form_of(request)
    typed = applications._typed(form)
    action = str(form.get("actie") or "bewaren")
    api = api_of(request)
    if action in ("module_toevoegen", "module_verwijderen"):
        count = applications._module_count(typed) + (1 if action == "module_toevoegen" else -1)
        typed["module_count"] = str(max(1, count))
        dossier = await _odb_dossier(api, application_id)
        return page(request, "department/amend.html", values=typed, **await _amend_context(api, dossier, slug), **_context())
    body = applications.section_of(section, typed)
    if section == "training":
        # Not a field of the step (the provider's organisation data holds it, R-7): kept as it was.
        dossier = await _odb_dossier(api, application_id)
        kept = ((dossier.get("sections") or {}).get("training") or {}).get("follow_up_document_id")
        if kept:
            body["follow_up_document_id"] = kept
    try:
        await api.put("registration", f"/v1/back-office/applications/{application_id}/sections/{section}", {"section": body, "reason": typed.get("reason", "")})
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        dossier = await _odb_dossier(api, application_id)
        if problem.status == 422:
            shown = applications._in_dutch(problem, prefix="section.")
        else:
            shown = _in_dutch(problem, "odb", dossier["status"])
            shown.rule = shown.rule or "R-17"
        return form_errors(
            request,
            "department/amend.html",
            shown,
            values=typed,
            labels=_amend_labels(shown.field_errors()) if problem.status == 422 else {},
            **await _amend_context(api, dossier, slug),
            **_context(),
        )
    return redirect(
        f"/departement/odb/{application_id}",
        message=f"{name}: aangepast op vraag van de aanbieder. De aanpassing en de vraag staan in de geschiedenis (R-17).",
        request=request,
    )


# ------------------------------------------------------------------------------- yearly evaluations

EVALUATION_OUTCOMES = [("positive", "Positief"), ("negative", "Negatief")]
TRAINING_STATUSES = {"registered": "Geregistreerd", "stopping": "Stopt binnenkort", "stopped": "Gestopt"}
# what became of an evaluation's email, as the service says it (a role, never an address).
EVALUATION_EMAILS = {
    ("general_contact", None): "Gemaild naar de algemene contactpersoon",
    (None, "no_general_contact"): "Niet gemaild: de aanbieder heeft geen algemene contactpersoon (regel R-25)",
    (None, "positive"): "Niet gemaild: een positieve evaluatie gaat niet naar de aanbieder",
    (None, None): "Niet bekend: bewaard voor dit werd bijgehouden",
}


def _this_year() -> int:
    return datetime.now(BRUSSELS).year


async def _registered(api: Api, odb_number: str) -> dict[str, Any] | None:
    """The registered training as the back office sees it, stopped or not (R-23), with its
    evaluations (R-26); None for an ODB number nobody registered."""
    try:
        found: dict[str, Any] = await api.get("registration", f"/v1/back-office/trainings/{quote(odb_number, safe='')}")
    except ApiProblem as problem:
        if problem.status != 404:
            raise
        return None
    return found


async def _training_emails(api: Api, odb_number: str) -> tuple[list[dict[str, Any]], ApiProblem | None]:
    """The emails about the training (a negative evaluation, a stop), as the notification service
    logged them by its ODB number (operator@department)."""
    try:
        return (await api.get("notification", "/v1/notifications", params={"reference": odb_number, "limit": 50}))["items"], None
    except ApiProblem as problem:
        if problem.status != 403:
            raise
        return [], problem


def _evaluation_email(evaluation: dict[str, Any]) -> str:
    return EVALUATION_EMAILS.get((evaluation.get("emailed_to"), evaluation.get("not_emailed_reason")), EVALUATION_EMAILS[(None, None)])


def _evaluated_message(saved: dict[str, Any]) -> str:
    """R-26: what was saved, and whether the provider was told (the service's answer says so)."""
    if saved["outcome"] == "positive":
        return f"De evaluatie {saved['year']} is bewaard: positief (R-26). Een positieve evaluatie wordt niet gemaild."
    if saved.get("contact_emailed"):
        return f"De evaluatie {saved['year']} is bewaard: negatief. De algemene contactpersoon van de aanbieder krijgt een e-mail met de motivering (R-26)."
    return (
        f"De evaluatie {saved['year']} is bewaard: negatief. Niemand kreeg een e-mail: de aanbieder heeft geen algemene contactpersoon opgegeven. "
        "Laat de aanbieder zelf weten dat de evaluatie negatief is en vraag een algemene contactpersoon op te geven (regels R-25 en R-26)."
    )


@get("/departement/opleidingen")
async def find_training(request: Request[Any, Any, Any]) -> Template | Redirect:
    """A registered training by its ODB number, stopped or not (a GET form, so the search can be bookmarked)."""
    signed_in(request)
    organisation_id(request)
    typed = (request.query_params.get("odb_number") or "").strip()
    errors: dict[str, str] = {}
    if typed:
        training = await _registered(api_of(request), typed)
        if training is not None:
            return Redirect(f"/departement/opleidingen/{quote(training['odb_number'], safe='')}", status_code=303)
        errors["odb_number"] = "Er is geen geregistreerde opleiding met dit ODB-nummer."
    elif "odb_number" in request.query_params:
        errors["odb_number"] = "Vul het ODB-nummer in, bijvoorbeeld ODB-A1234."
    return page(
        request, "department/find_training.html", status_code=404 if typed and errors else 422 if errors else 200, values={"odb_number": typed}, errors=errors
    )


async def _training_context(request: Request[Any, Any, Any], api: Api, odb_number: str) -> dict[str, Any]:
    training = await _registered(api, odb_number)
    if training is None:
        raise NotFoundException()
    emails, log_refused = await _training_emails(api, training["odb_number"])
    me = signed_in(request).person.get("person_id")
    evaluations = [
        {**e, "who": "Jij" if e.get("recorded_by") == me else "Het departement", "email": _evaluation_email(e)} for e in training.get("evaluations") or []
    ]
    return {
        "odb_number": training["odb_number"],
        "training": training,
        "evaluations": evaluations,
        "training_statuses": TRAINING_STATUSES,
        "group_names": dict(COMPETENCE_GROUPS),
        "outcomes": EVALUATION_OUTCOMES,
        "outcome_names": dict(EVALUATION_OUTCOMES),
        "notifications": emails,
        "log_refused": log_refused,
        **_context(),
    }


@get("/departement/opleidingen/{odb_number:str}")
async def training_page(request: Request[Any, Any, Any], odb_number: str) -> Template:
    session = signed_in(request)
    organisation_id(request)
    resumed = session.take_resumed_form(request.url.path) or {}
    typed = {k: v for k, v in resumed.items() if isinstance(v, str)} or {"year": str(_this_year())}
    return page(request, "department/training.html", values=typed, **await _training_context(request, api_of(request), odb_number))


@post("/departement/opleidingen/{odb_number:str}")
async def evaluate(request: Request[Any, Any, Any], odb_number: str) -> Template | Redirect:
    """R-26: the yearly evaluation, of a stopped training too; the service emails a negative one
    to the general contact, and says when there is none to email."""
    signed_in(request)
    organisation_id(request)
    form = await form_of(request)
    typed = values(form, "year", "outcome", "remarks")
    year: int | str | None = int(typed["year"]) if typed["year"].isdigit() else typed["year"] or None
    api = api_of(request)
    try:
        saved = await api.post(
            "registration",
            f"/v1/back-office/trainings/{quote(odb_number, safe='')}/evaluations",
            {"year": year, "outcome": typed["outcome"] or None, "remarks": typed["remarks"] or None},
        )
    except ApiProblem as problem:
        if problem.status not in (404, 409, 422):
            raise
        if problem.status == 404:
            raise NotFoundException() from None
        if problem.status == 422:
            shown = _worded(_in_dutch(problem, "odb", "approved"), {"year": "Geef een jaar, bijvoorbeeld 2026.", "outcome": "Kies positief of negatief."})
        else:
            shown = ApiProblem(problem.status, dutch(problem.detail), problem.rule or "R-26", [], problem.body)
        return form_errors(request, "department/training.html", shown, values=typed, **await _training_context(request, api, odb_number))
    return redirect(f"/departement/opleidingen/{quote(saved['odb_number'], safe='')}", message=_evaluated_message(saved), request=request)


# ------------------------------------------------------------------------------- E-12: reported changes, E-9: a recognition

REVIEW_OUTCOMES = [
    ("noted", "Kennis genomen: de erkenning blijft"),
    ("withdrawn", "De erkenning intrekken vanaf vandaag"),
]
REVIEWED = {"noted": "Kennis genomen", "withdrawn": "Erkenning ingetrokken"}
END_REASONS = {
    "expiry": "de vijf jaar zijn verstreken (regel E-8)",
    "inactivity": "twee opeenvolgende jaren werd niemand begeleid (regel E-9)",
    "withdrawal": "ingetrokken door het departement na een gemelde wijziging (regel E-12)",
}
PROVINCES = {
    "antwerpen": "Antwerpen",
    "limburg": "Limburg",
    "oost-vlaanderen": "Oost-Vlaanderen",
    "vlaams-brabant": "Vlaams-Brabant",
    "west-vlaanderen": "West-Vlaanderen",
    "brussel": "Brussels Hoofdstedelijk Gewest",
}


async def _recognition(api: Api, recognition_id: UUID) -> dict[str, Any]:
    found: dict[str, Any] = await api.get("recognition", f"/v1/back-office/recognitions/{recognition_id}")
    return found


def _recognition_context(recognition: dict[str, Any]) -> dict[str, Any]:
    return {
        "recognition": recognition,
        "reviewed_names": REVIEWED,
        "end_reasons": END_REASONS,
        "provinces": PROVINCES,
        **_context(),
    }


@get("/departement/erkenningen/{recognition_id:uuid}")
async def recognition_page(request: Request[Any, Any, Any], recognition_id: UUID) -> Template:
    signed_in(request)
    organisation_id(request)
    return page(request, "department/recognition.html", **_recognition_context(await _recognition(api_of(request), recognition_id)))


def _report(recognition: dict[str, Any], report_id: UUID) -> dict[str, Any]:
    for report in recognition.get("change_reports") or []:
        if report["report_id"] == str(report_id):
            return dict(report)
    raise NotFoundException()


@get("/departement/erkenningen/{recognition_id:uuid}/wijzigingen/{report_id:uuid}")
async def review_page(request: Request[Any, Any, Any], recognition_id: UUID, report_id: UUID) -> Template:
    session = signed_in(request)
    organisation_id(request)
    recognition = await _recognition(api_of(request), recognition_id)
    resumed = session.take_resumed_form(request.url.path) or {}
    typed = {k: v for k, v in resumed.items() if isinstance(v, str)}
    return page(
        request, "department/review.html", values=typed, report=_report(recognition, report_id), outcomes=REVIEW_OUTCOMES, **_recognition_context(recognition)
    )


@post("/departement/erkenningen/{recognition_id:uuid}/wijzigingen/{report_id:uuid}")
async def review(request: Request[Any, Any, Any], recognition_id: UUID, report_id: UUID) -> Template | Redirect:
    """E-12: noted, or the recognition withdrawn from today (the service emails the provider why)."""
    signed_in(request)
    organisation_id(request)
    form = await form_of(request)
    typed = values(form, "outcome", "note")
    api = api_of(request)
    try:
        reviewed = await api.post(
            "recognition", f"/v1/back-office/change-reports/{report_id}/review", {"outcome": typed["outcome"] or None, "note": typed["note"]}
        )
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        recognition = await _recognition(api, recognition_id)
        if problem.status == 422:
            shown = _worded(_in_dutch(problem, "platos", "granted"), {"outcome": "Kies: kennis genomen, of de erkenning intrekken."})
        else:
            shown = ApiProblem(problem.status, dutch(problem.detail), problem.rule or "E-12", [], problem.body)
        return form_errors(
            request,
            "department/review.html",
            shown,
            values=typed,
            report=_report(recognition, report_id),
            outcomes=REVIEW_OUTCOMES,
            **_recognition_context(recognition),
        )
    outcome = next((r["review_outcome"] for r in reviewed.get("change_reports") or [] if r["report_id"] == str(report_id)), typed["outcome"])
    if outcome == "withdrawn":
        message = f"De erkenning {reviewed['recognition_number']} is ingetrokken vanaf vandaag; de dienstverlener krijgt een e-mail met de motivering (E-12)."
    else:
        message = f"De wijziging bij {reviewed['recognition_number']} is beoordeeld: kennis genomen (E-12)."
    return redirect("/departement#wijzigingen", message=message, request=request)


ROUTES: list[Any] = [amend_page, amend, find_training, training_page, evaluate, recognition_page, review_page, review]
