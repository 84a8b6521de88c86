"""The public register of trainings (R-20 to R-23), without sign-in: a search form that is a GET
(the URL holds the search, so a result page can be bookmarked or shared), paged with the API's
cursor, and one training's page with its modules, hours, dates and provider."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

from litestar import Request, get
from litestar.response import Template

from portal.api import ApiProblem
from portal.web import api_of, page

COMPETENCE_GROUPS = [
    ("basic", "Basiscompetenties"),
    ("profession_specific", "Beroepsspecifieke competenties"),
    ("general", "Algemene arbeidsmarktcompetenties"),
]
BLENDED = [("", "Alle opleidingen"), ("true", "Alleen blended (deels afstandsleren)"), ("false", "Zonder afstandsleren")]
SEARCH_FIELDS = ("q", "provider", "odb_number", "competence_group", "blended", "min_hours", "max_hours")
PAGE_SIZE = 20


MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december")


def dutch_date(value: Any) -> str:
    """'2027-02-01' (or a moment) as '1 februari 2027'; empty for nothing."""
    if not value:
        return ""
    text = str(value)
    try:
        day = date.fromisoformat(text[:10])
    except ValueError:
        return text
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def dutch_number(value: Any) -> str:
    """40.0 as '40', 40.5 as '40,5'."""
    if value is None or value == "":
        return ""
    number = float(value)
    return f"{number:.0f}" if number == int(number) else f"{number:.2f}".rstrip("0").replace(".", ",")


FORMATS: dict[str, Any] = {"dutch_date": dutch_date, "dutch_number": dutch_number}


def _hours(text: str) -> str:
    """Hours as typed, with a decimal comma read as a point (Flemish habit)."""
    return text.replace(",", ".").strip()


@get("/register")
async def search(request: Request[Any, Any, Any]) -> Template:
    typed = {name: (request.query_params.get(name) or "").strip() for name in SEARCH_FIELDS}
    cursor = request.query_params.get("cursor") or None
    searched = any(typed.values())
    params = {
        "q": typed["q"],
        "provider": typed["provider"],
        "odb_number": typed["odb_number"],
        "competence_group": typed["competence_group"],
        "blended": typed["blended"] if typed["blended"] in ("true", "false") else None,
        "min_hours": _hours(typed["min_hours"]),
        "max_hours": _hours(typed["max_hours"]),
        "limit": PAGE_SIZE,
        "cursor": cursor,
    }
    errors: dict[str, str] = {}
    problem: ApiProblem | None = None
    found: dict[str, Any] = {"items": [], "next_cursor": None}
    try:
        found = await api_of(request).get("registration", "/v1/register/trainings", signed=False, params=params)
    except ApiProblem as refused:
        if refused.status == 422:
            errors = {name: _search_error(name, reason) for name, reason in refused.field_errors().items() if name in SEARCH_FIELDS}
            if not errors:
                problem = refused
        elif refused.status == 503:
            problem = ApiProblem(503, "Het register antwoordde niet op tijd. Zoek met meer woorden of een filter en probeer opnieuw.")
        else:
            raise
    query = {name: value for name, value in typed.items() if value}
    next_url = f"/register?{urlencode({**query, 'cursor': found['next_cursor']})}" if found.get("next_cursor") else None
    first_url = f"/register?{urlencode(query)}" if cursor else None
    return page(
        request,
        "register/search.html",
        status_code=422 if errors else 200,
        values=typed,
        errors=errors,
        problem=problem,
        searched=searched,
        trainings=found["items"],
        next_url=next_url,
        first_url=first_url,
        competence_groups=COMPETENCE_GROUPS,
        blended_choices=BLENDED,
        group_names=dict(COMPETENCE_GROUPS),
        **FORMATS,
    )


def _search_error(name: str, reason: str) -> str:
    """The service's reason in the words of the form."""
    if name == "provider":
        return "Typ minstens 3 tekens van de naam van de aanbieder."
    if name in ("min_hours", "max_hours"):
        return "Typ een aantal uren, bijvoorbeeld 32 of 40,5."
    return f"Dit kan niet gezocht worden: {reason}"


@get("/register/{odb_number:str}")
async def training(request: Request[Any, Any, Any], odb_number: str) -> Template:
    found = await api_of(request).get("registration", f"/v1/register/trainings/{quote(odb_number, safe='')}", signed=False)
    return page(request, "register/training.html", training=found, group_names=dict(COMPETENCE_GROUPS), **FORMATS)


ROUTES: list[Any] = [search, training]
