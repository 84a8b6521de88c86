"""More of the department's work (case handlers), beside `portal.pages.department`:

- R-17: a submitted ODB dossier amended at the provider's request: one section at a time, with the
  same fields as the provider's step of it and the provider's request as the reason; the service
  keeps both in the dossier's history (case_handler@training_database).

URLs: /departement/odb/<id>/aanpassen/<stap>; the form posts to its own page.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template

from portal.api import Api, ApiProblem
from portal.pages import applications
from portal.pages.department import AMEND_SECTIONS, _context, _in_dutch, _title
from portal.web import api_of, form_errors, form_of, organisation_id, page, redirect, signed_in


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


ROUTES: list[Any] = [amend_page, amend]
