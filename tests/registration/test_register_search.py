"""The public register (registration.register): search, filters, paging, public fields only, and
R-23: a stopped training leaves the register on its stop date without anyone acting.

Trainings are written straight into the service's tables (an approved application and its
training), each test under an organisation of its own, and searches filter on that organisation
(`provider`), so other tests' trainings in the same database do not matter.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from service_runtime import calendar
from tests.registration.conftest import days

pytestmark = pytest.mark.slow

PATH = "/v1/register/trainings"
SECRETS = ["geheim@contact.example", "GEHEIME ZELFANALYSE", "joint_committee:200", "INTERN BESLUIT", "Lesgever vertrokken"]
PUBLIC_FIELDS = {
    "odb_number",
    "name",
    "provider_id",
    "provider_name",
    "competence_group",
    "structure",
    "blended",
    "total_hours",
    "hours_unit",
    "study_points",
    "web_page",
    "holds_from",
    "stop_on",
    "school_years",
    "own_reference",
    "target_group",
    "content",
    "language",
    "workplace_learning",
    "separately_enrollable_parts",
    "leads_to_qualification",
    "mentor_training",
    "final_assessment",
    "replaces",
    "replaced_by",
}


def new_odb_number() -> str:
    return f"ODB-Y{random.randint(10**8, 10**9 - 1)}"


async def provider(db, name: str | None = None) -> tuple[UUID, str]:
    """An organisation as identity's events leave it in this service."""
    organisation_id = uuid.uuid4()
    name = name or f"Vormingscentrum {organisation_id.hex[:8]}"
    await db.execute(
        "INSERT INTO organisations_projection (organisation_id, name, kind, quality_status) VALUES ($1, $2, 'adult_education_centre', 'registered')",
        organisation_id,
        name,
    )
    return organisation_id, name


async def add_training(
    db,
    organisation: tuple[UUID, str],
    name: str,
    *,
    today: date,
    content: str = "Praktijkgerichte opleiding met oefeningen.",
    competence_group: str = "profession_specific",
    blended: bool = False,
    hours: int = 40,
    stop_on: date | None = None,
) -> str:
    """An approved application and the registered training it became (what service._register writes)."""
    organisation_id, provider_name = organisation
    odb_number, application_id = new_odb_number(), uuid.uuid4()
    starts_on = today + timedelta(days=30)
    module = {
        "name": name,
        "contact_hours": str(hours),
        "workplace_hours": "0",
        "distance_hours": "0",
        "study_points": None,
        "blended": blended,
        "starts_on": starts_on.isoformat(),
        "ends_on": (starts_on + timedelta(days=60)).isoformat(),
        "cefr_level": None,
    }
    section = {
        "name": name,
        "own_reference": f"REF-{odb_number}",
        "target_group": "Werknemers en werkzoekenden",
        "workplace_learning": False,
        "blended": blended,
        "separately_enrollable_parts": False,
        "leads_to_qualification": True,
        "hours_unit": "contact_hours",
        "mentor_training": None,
        "final_assessment": True,
        "web_page": "https://opleidingen.example/" + odb_number.lower(),
        "content": content,
        "structure": "integral",
        "competence_group": competence_group,
        "language": None,
        "modules": [module],
    }
    sections = {
        "contact": {"name": "Info", "email": "geheim@contact.example", "phone": "+32 2 123 45 67"},
        "training": section,
        "self_analysis": {"basic": [], "profession_specific": ["shortage_occupation"], "general_pillars": [], "explanation": "GEHEIME ZELFANALYSE"},
        "deciding_body": {"aim": "one_profession", "joint_committee": "200"},
        "documents": {"document_ids": []},
    }
    await db.execute(
        "INSERT INTO applications (application_id, organisation_id, created_by, status, sections, flags, deciding_body, decision_reasons, odb_number) "
        "VALUES ($1, $2, $3, 'approved', $4, '{longer_than_12_months}', 'joint_committee:200', 'INTERN BESLUIT', $5)",
        application_id,
        organisation_id,
        uuid.uuid4(),
        sections,
        odb_number,
    )
    await db.execute(
        """
        INSERT INTO trainings (odb_number, application_id, organisation_id, provider_name, name, own_reference, competence_group, structure, blended,
            total_hours, study_points, web_page, public, modules, school_years, holds_from, stop_on, stop_reason, registered_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, 'integral', $8, $9, NULL, $10, $11, $12, $13, $14, $15, $16, now())
        """,
        odb_number,
        application_id,
        organisation_id,
        provider_name,
        name,
        section["own_reference"],
        competence_group,
        blended,
        Decimal(hours),
        section["web_page"],
        section,
        [{"name": name, "hours": str(hours), "blended": blended, "starts_on": module["starts_on"], "ends_on": module["ends_on"]}],
        ["2026-2027"],
        today - timedelta(days=100),
        stop_on,
        "Lesgever vertrokken" if stop_on else None,
    )
    return odb_number


async def search(client, **params: Any) -> dict[str, Any]:
    response = await client.get(PATH, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def names(page: dict[str, Any]) -> list[str]:
    return [item["name"] for item in page["items"]]


def today_of(clock) -> date:
    return calendar.today(clock)


async def test_text_search_finds_dutch_word_forms_in_names_first_then_content_then_similar_names(registration_db, public_client, clock):
    today = today_of(clock)
    org = await provider(registration_db)
    await add_training(registration_db, org, "TIG-lassen (dagopleiding)", today=today)
    await add_training(registration_db, org, "Lassen MIG/MAG", today=today)
    await add_training(registration_db, org, "Lastechnieken voor beginners", today=today, content="Veilig werken bij het lassen van plaatstaal.")
    await add_training(registration_db, org, "Heftruckchauffeur", today=today, content="Laden en lossen in het magazijn.")
    mine = str(org[0])

    # Dutch stemming: 'lassen' and 'lassen' in 'TIG-lassen' are one word ('lass'). Compounds are not
    # split: 'Lastechnieken' is not found by its name ('lastechniek'), only through its content.
    page = await search(public_client, q="lassen", provider=mine)
    assert {(i["name"], i["match"]) for i in page["items"][:2]} == {("Lassen MIG/MAG", "name"), ("TIG-lassen (dagopleiding)", "name")}
    assert [(i["name"], i["match"]) for i in page["items"][2:]] == [("Lastechnieken voor beginners", "text")]
    assert names(await search(public_client, q="lastechnieken", provider=mine)) == ["Lastechnieken voor beginners"]
    assert names(await search(public_client, q="Lastechniek", provider=mine)) == ["Lastechnieken voor beginners"]
    # The content and the provider's name are searched too (tier 'text').
    assert [(i["name"], i["match"]) for i in (await search(public_client, q="plaatstaal", provider=mine))["items"]] == [
        ("Lastechnieken voor beginners", "text")
    ]
    by_provider_word = await search(public_client, q=org[1].split()[1], provider=mine)  # the provider's name: "Vormingscentrum <word>"
    assert {i["match"] for i in by_provider_word["items"]} == {"text"} and len(by_provider_word["items"]) == 4
    # Found nowhere: names that look like it (a prefix, a typo, part of a compound).
    for text, expected in (("lastech", "Lastechnieken voor beginners"), ("heftruk", "Heftruckchauffeur"), ("heftruck", "Heftruckchauffeur")):
        page = await search(public_client, q=text, provider=mine)
        assert names(page)[:1] == [expected], (text, page)
    assert (await search(public_client, q="lastech", provider=mine))["items"][0]["match"] == "similar_name"
    # Websearch syntax: a word excluded.
    assert names(await search(public_client, q="lassen -tig", provider=mine)) == ["Lassen MIG/MAG", "Lastechnieken voor beginners"]
    assert (await search(public_client, q="onbestaandwoordxyz", provider=mine))["items"] == []


async def test_provider_text_matches_every_training_of_that_provider(registration_db, public_client, clock):
    today = today_of(clock)
    org = await provider(registration_db, name=f"Kenniscentrum Zuiderkempen {uuid.uuid4().hex[:6]}")
    first = await add_training(registration_db, org, "Boekhouding voor kmo's", today=today)
    second = await add_training(registration_db, org, "Excel voor gevorderden", today=today)
    by_name = await search(public_client, provider=org[1].lower())  # part of the name, any case
    assert [i["odb_number"] for i in by_name["items"]] == [first, second]  # by name
    assert {i["provider_id"] for i in by_name["items"]} == {str(org[0])}
    assert (await search(public_client, provider=str(org[0])))["items"] == by_name["items"]
    assert (await search(public_client, provider="Geen Enkele Aanbieder Heet Zo"))["items"] == []


async def test_odb_number_exact_in_any_case_and_a_training_page_with_its_modules(registration_db, public_client, clock):
    today = today_of(clock)
    org = await provider(registration_db)
    odb_number = await add_training(registration_db, org, "Zorgkundige", today=today, hours=120)
    listed = await search(public_client, odb_number=odb_number.lower())
    assert [i["odb_number"] for i in listed["items"]] == [odb_number]
    assert (await search(public_client, odb_number=odb_number[:-1]))["items"] == []  # exact, not a prefix

    page = await public_client.get(f"{PATH}/{odb_number.lower()}")
    assert page.status_code == 200, page.text
    training = page.json()
    assert training["odb_number"] == odb_number and training["name"] == "Zorgkundige" and training["total_hours"] == 120
    assert training["modules"] == [
        {
            "name": "Zorgkundige",
            "contact_hours": 120,
            "workplace_hours": 0,
            "distance_hours": 0,
            "study_points": None,
            "blended": False,
            "starts_on": (today + timedelta(days=30)).isoformat(),
            "ends_on": (today + timedelta(days=90)).isoformat(),
            "cefr_level": None,
        }
    ]
    unknown = await public_client.get(f"{PATH}/ODB-0")
    assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"


async def test_filters_competence_group_blended_and_hours(registration_db, public_client, clock):
    today = today_of(clock)
    org = await provider(registration_db)
    basic = await add_training(registration_db, org, "Digitale basisvaardigheden", today=today, competence_group="basic", blended=True, hours=20)
    profession = await add_training(registration_db, org, "Elektrotechniek", today=today, competence_group="profession_specific", hours=40)
    general = await add_training(registration_db, org, "Leidinggeven", today=today, competence_group="general", blended=True, hours=100)
    mine = str(org[0])

    async def found(**params: Any) -> set[str]:
        return {i["odb_number"] for i in (await search(public_client, provider=mine, **params))["items"]}

    assert await found() == {basic, profession, general}
    assert await found(competence_group="basic") == {basic}
    assert await found(competence_group="general", blended="true") == {general}
    assert await found(blended="true") == {basic, general}
    assert await found(blended="false") == {profession}
    assert await found(min_hours=30, max_hours=100) == {profession, general}
    assert await found(min_hours=40.5) == {general}
    assert await found(max_hours=20) == {basic}
    assert await found(q="elektrotechniek", competence_group="basic") == set()
    # Without words, alphabetically by name.
    assert names(await search(public_client, provider=mine)) == ["Digitale basisvaardigheden", "Elektrotechniek", "Leidinggeven"]


async def test_answers_carry_public_fields_only(registration_db, public_client, clock):
    today = today_of(clock)
    org = await provider(registration_db)
    odb_number = await add_training(registration_db, org, "Preventieadviseur niveau 2", today=today, stop_on=today + days(30))
    listed = await public_client.get(PATH, params={"provider": str(org[0]), "q": "preventieadviseur"})
    page = await public_client.get(f"{PATH}/{odb_number}")
    for response in (listed, page):
        assert response.status_code == 200
        for secret in SECRETS:  # contact persons, self-analysis, deciding body, decision, stop reason
            assert secret not in response.text
    assert set(listed.json()["items"][0]) == PUBLIC_FIELDS | {"match"}
    assert set(page.json()) == PUBLIC_FIELDS | {"modules"}
    assert page.json()["stop_on"] == (today + days(30)).isoformat()  # still in the register, with its stop date


async def test_a_stopped_training_leaves_the_register_on_its_stop_date(registration_db, public_client, clock):
    # from the stop date the registration leaves the public register, without anyone acting:
    # a training stopping today is gone, one stopping tomorrow is there until the clock passes midnight.
    today = today_of(clock)
    org = await provider(registration_db)
    stops_today = await add_training(registration_db, org, "Vrachtwagenchauffeur rijbewijs C", today=today, stop_on=today)
    stops_tomorrow = await add_training(registration_db, org, "Vrachtwagenchauffeur code 95", today=today, stop_on=today + days(1))
    stays = await add_training(registration_db, org, "Vrachtwagenchauffeur basis", today=today)
    mine = str(org[0])

    async def listed() -> set[str]:
        by_text = {i["odb_number"] for i in (await search(public_client, q="vrachtwagenchauffeur", provider=mine))["items"]}
        by_filter = {i["odb_number"] for i in (await search(public_client, provider=mine))["items"]}
        assert by_text == by_filter
        return by_text

    async def page(odb_number: str) -> int:
        return (await public_client.get(f"{PATH}/{odb_number}")).status_code

    assert await listed() == {stops_tomorrow, stays}
    assert (await search(public_client, odb_number=stops_today))["items"] == []
    assert await page(stops_today) == 404 and await page(stops_tomorrow) == 200

    clock.advance(days(1))  # the stop date of the second one has come
    assert await listed() == {stays}
    assert await page(stops_tomorrow) == 404 and await page(stays) == 200


async def test_paging_by_cursor_goes_through_every_training_once_and_offset_agrees(registration_db, public_client, clock):
    today = today_of(clock)
    org = await provider(registration_db)
    for n in range(5):
        await add_training(registration_db, org, f"Projectmanagement deel {n}", today=today)
    mine = str(org[0])
    for params in ({"provider": mine}, {"provider": mine, "q": "projectmanagement"}):
        seen, cursor = [], None
        for _ in range(5):
            page = await search(public_client, limit=2, **params, **({"cursor": cursor} if cursor else {}))
            seen += [i["odb_number"] for i in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == 5 == len(set(seen)), params
        by_offset = []
        for offset in (0, 2, 4):
            by_offset += [i["odb_number"] for i in (await search(public_client, limit=2, offset=offset, **params))["items"]]
        assert by_offset == seen
    first = await search(public_client, provider=mine, limit=2)
    other = await public_client.get(PATH, params={"provider": mine, "competence_group": "basic", "cursor": first["next_cursor"]})
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "cursor"  # a cursor continues its own search only


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"offset": 100_000}, "offset"),
        ({"competence_group": "advanced"}, "competence_group"),
        ({"blended": "misschien"}, "blended"),
        ({"min_hours": -1}, "min_hours"),
        ({"min_hours": "nan"}, "min_hours"),
        ({"min_hours": 50, "max_hours": 10}, "max_hours"),
        ({"provider": "ab"}, "provider"),
        ({"q": "x" * 201}, "q"),
        ({"q": "-lassen"}, "q"),  # only a word left out: nothing to find
        ({"q": "!!!"}, "q"),
        ({"cursor": "bm90IGEgY3Vyc29y"}, "cursor"),
        ({"cursor": "x", "offset": 20}, "offset"),
    ],
)
async def test_bad_parameters_are_problems_naming_the_parameter(public_client, query, field):
    response = await public_client.get(PATH, params=query)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]
