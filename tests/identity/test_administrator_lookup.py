"""ID-9 for whoever does not know an organisation's id: its (head) local administrators found by
the enterprise number or a part of the name, without signing in; names and contact addresses
only, never a national register number; searches counted per caller (429 with Retry-After)."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from tests.identity.conftest import IdentityProcess, national_register_number
from tests.platform.helpers import connect

pytestmark = pytest.mark.slow

HEAD_BORN = date(1979, 9, 9)


def enterprise_number(seed: int) -> str:
    base = 6_100_000 + seed
    return f"0{base:07d}{97 - base % 97:02d}"


@pytest.fixture(scope="module")
def helpline(world):
    """Two organisations whose names share 'Helplijncentrum'; the first with a head and a local administrator."""
    first = world.organisation("Helplijncentrum Aalst", enterprise_number=enterprise_number(1), contact_email="info@aalst.example")
    second = world.organisation("Helplijncentrum Brugge", enterprise_number=enterprise_number(2))
    head = world.register_person(world.operator, born=HEAD_BORN, sequence=801, first_name="Hilde", last_name="Hoofd", email="hilde@aalst.example")
    assert world.operator.post(f"/v1/organisations/{first}/head-administrators", {"person_id": str(head)}).status_code == 204
    from tests.identity.conftest import sign_in

    head_session = sign_in(world.url, national_register_number(HEAD_BORN, 801)).act_for(first)
    local = world.register_person(head_session, born=date(1988, 8, 8), sequence=803, first_name="Lotte", last_name="Lokaal", email="lotte@aalst.example")
    assert head_session.post(f"/v1/organisations/{first}/members", {"person_id": str(local)}).status_code == 204
    assert head_session.post(f"/v1/organisations/{first}/administrators", {"person_id": str(local)}).status_code == 204
    return first, second


def test_id_9_anyone_finds_the_administrators_by_enterprise_number_names_and_addresses_only(world, helpline):
    first, _ = helpline
    number = enterprise_number(1)
    answer = httpx.get(f"{world.url}/v1/organisations/administrators", params={"enterprise_number": f"BE {number[:4]}.{number[4:7]}.{number[7:]}"})  # no token
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "items": [
            {
                "organisation_id": str(first),
                "name": "Helplijncentrum Aalst",
                "enterprise_number": number,
                "contact_email": "info@aalst.example",
                "administrators": [
                    {"first_name": "Hilde", "last_name": "Hoofd", "email": "hilde@aalst.example", "role": "head_administrator"},
                    {"first_name": "Lotte", "last_name": "Lokaal", "email": "lotte@aalst.example", "role": "local_administrator"},
                ],
            }
        ],
        "next_cursor": None,
    }
    assert national_register_number(HEAD_BORN, 801) not in answer.text and "1979" not in answer.text  # ID-9: never the number, nor the birth date
    unknown = httpx.get(f"{world.url}/v1/organisations/administrators", params={"enterprise_number": enterprise_number(3)})
    assert unknown.status_code == 200 and unknown.json() == {"items": [], "next_cursor": None}


def test_id_9_by_a_part_of_the_name_any_case_page_by_page(world, helpline):
    first, second = helpline
    page_one = httpx.get(f"{world.url}/v1/organisations/administrators", params={"name": "helplijnCENTRUM", "limit": 1}).json()
    assert [o["organisation_id"] for o in page_one["items"]] == [str(first)] and page_one["next_cursor"]
    page_two = httpx.get(
        f"{world.url}/v1/organisations/administrators", params={"name": "helplijnCENTRUM", "limit": 1, "cursor": page_one["next_cursor"]}
    ).json()
    assert page_two["items"] == [
        {
            "organisation_id": str(second),
            "name": "Helplijncentrum Brugge",
            "enterprise_number": enterprise_number(2),
            "contact_email": None,
            "administrators": [],
        }
    ]
    assert page_two["next_cursor"] is None


@pytest.mark.parametrize(
    "params",
    [{}, {"name": "He"}, {"name": "Helplijn", "enterprise_number": enterprise_number(1)}, {"enterprise_number": "0403170702"}],
    ids=["neither", "too-short-a-name", "both", "bad-check-digits"],
)
def test_a_search_needs_exactly_one_valid_criterion(world, params):
    refused = httpx.get(f"{world.url}/v1/organisations/administrators", params=params)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["errors"][0]["field"] in ("name", "enterprise_number")


async def test_searches_are_counted_per_caller_and_refused_with_429_beyond_the_allowance_and_audited(world, helpline, stack, tmp_path):
    """A second process on the same database with an allowance of 3 per minute: replicas share the count."""
    limited = IdentityProcess(
        stack,
        world.identity.env["IDENTITY_DATABASE_URL"],
        tmp_path / "limited.log",
        IDENTITY_ADMINISTRATOR_SEARCHES_PER_WINDOW="3",
        IDENTITY_ADMINISTRATOR_SEARCHES_WINDOW_SECONDS="60",
    ).start()
    try:
        connection = await connect(world.identity.env["IDENTITY_DATABASE_URL"])
        try:
            # Whatever the other tests searched from this address in the last minute counts too.
            done = await connection.fetchval(
                "SELECT count(*) FROM audit_log WHERE action = 'organisation.administrators_searched' AND subject = '127.0.0.1' AND outcome = 'done' "
                "AND at > now() - interval '60 seconds'"
            )
            for _ in range(max(0, 3 - done)):
                assert httpx.get(f"{limited.url}/v1/organisations/administrators", params={"name": "Helplijn"}).status_code == 200
            refused = httpx.get(f"{limited.url}/v1/organisations/administrators", params={"name": "Helplijn"})
            assert refused.status_code == 429, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            assert 1 <= int(refused.headers["retry-after"]) <= 60
            assert "seconden" in refused.json()["detail"]
            denied = await connection.fetch(
                "SELECT reason FROM audit_log WHERE action = 'organisation.administrators_searched' AND subject = '127.0.0.1' AND outcome = 'denied'"
            )
        finally:
            await connection.close()
        assert denied and "too many" in denied[-1]["reason"]  # ID-12: the refusal is recorded
    finally:
        limited.stop()


async def test_behind_a_trusted_proxy_each_forwarded_caller_has_an_allowance_and_a_spoofed_header_counts_for_nothing(world, helpline, stack, tmp_path):
    """ID-9's limit per caller behind the portal or the ingress: the address a trusted proxy forwards
    (uvicorn's FORWARDED_ALLOW_IPS) is the caller; X-Forwarded-For from anyone else is ignored."""
    searched = {"name": "Helplijn"}
    connection = await connect(world.identity.env["IDENTITY_DATABASE_URL"])
    try:
        before = await connection.fetchval("SELECT coalesce(max(id), 0) FROM audit_log")
    finally:
        await connection.close()

    async def searches_since() -> list[tuple[str, str]]:
        connection = await connect(world.identity.env["IDENTITY_DATABASE_URL"])
        try:
            rows = await connection.fetch(
                "SELECT subject, outcome FROM audit_log WHERE action = 'organisation.administrators_searched' AND id > $1 ORDER BY id", before
            )
        finally:
            await connection.close()
        return [(r["subject"], r["outcome"]) for r in rows]

    trusting = IdentityProcess(
        stack,
        world.identity.env["IDENTITY_DATABASE_URL"],
        tmp_path / "trusting.log",
        IDENTITY_ADMINISTRATOR_SEARCHES_PER_WINDOW="2",
        IDENTITY_ADMINISTRATOR_SEARCHES_WINDOW_SECONDS="60",
        FORWARDED_ALLOW_IPS="127.0.0.1",  # the test plays the portal, on loopback
    ).start()
    first, second = "203.0.113.7", "198.51.100.23"
    try:
        url = f"{trusting.url}/v1/organisations/administrators"
        # A proxy's own hop after the person's is skipped (it is trusted); a window may hold earlier runs' searches.
        answers = [httpx.get(url, params=searched, headers={"x-forwarded-for": f"{first}, 127.0.0.1"}).status_code for _ in range(3)]
        assert answers[-1] == 429 and set(answers[:-1]) <= {200, 429}
        # Another person behind the same portal has an allowance of their own.
        assert httpx.get(url, params=searched, headers={"x-forwarded-for": second}).status_code == 200
    finally:
        trusting.stop()
    searches = await searches_since()
    assert (first, "denied") in searches and (second, "done") in searches
    assert not [subject for subject, _ in searches if subject == "127.0.0.1"]

    untrusting = IdentityProcess(
        stack,
        world.identity.env["IDENTITY_DATABASE_URL"],
        tmp_path / "untrusting.log",
        IDENTITY_ADMINISTRATOR_SEARCHES_PER_WINDOW="1000",
        FORWARDED_ALLOW_IPS="",  # no proxy trusted
    ).start()
    try:
        spoofed = "192.0.2.99"
        assert httpx.get(f"{untrusting.url}/v1/organisations/administrators", params=searched, headers={"x-forwarded-for": spoofed}).status_code == 200
    finally:
        untrusting.stop()
    latest = (await searches_since())[-1]
    assert latest == ("127.0.0.1", "done")  # the header is the caller's own word, and ignored


def test_the_search_is_in_the_openapi_document(world):
    document = httpx.get(world.url + "/schema/openapi.json").json()
    operation = document["paths"]["/v1/organisations/administrators"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"enterprise_number", "name", "limit", "cursor"}
    assert "429" in operation["responses"] and "security" not in operation or operation["security"] == []
