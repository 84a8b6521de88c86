"""Minimal disclosure of persons (ID-4, issue 11 point 4): whoever types a national register
number learns no more about a stranger than is needed to confirm the match; every look-up by
number is audited without the number; a burst of look-ups is refused with 429 and Retry-After,
counted in PostgreSQL so that every replica of the service shares the count."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from tests.identity.conftest import IdentityProcess, national_register_number, sign_in
from tests.platform.helpers import connect

pytestmark = pytest.mark.slow

BORN = date(1975, 8, 9)
NUMBER = national_register_number(BORN, 701)  # Jeroen Ëlsen, member of the home organisation only


def body(number: str = NUMBER, *, first_name: str = "Jeroen", last_name: str = "Ëlsen") -> dict[str, str]:
    return {
        "national_register_number": number,
        "first_name": first_name,
        "last_name": last_name,
        "gender": "male",
        "date_of_birth": BORN.isoformat(),
        "email": "typed@elsewhere.example",
    }


@pytest.fixture(scope="module")
def organisations(world):
    """Jeroen belongs to the home organisation; the stranger's organisation has never seen him."""
    home, home_head = world.organisation_with_head("Thuisorganisatie", "Tamara", sequence=703)
    jeroen = world.register_person(home_head, born=BORN, sequence=701, first_name="Jeroen", last_name="Ëlsen", email="jeroen@thuis.example")
    assert home_head.post(f"/v1/organisations/{home}/members", {"person_id": str(jeroen)}).status_code == 204
    stranger_org, stranger = world.organisation_with_head("Vreemde organisatie", "Vera", sequence=705)
    return home, home_head, jeroen, stranger_org, stranger


def test_an_administrator_of_another_organisation_sees_only_enough_to_confirm_the_match(world, organisations):
    _, _, jeroen, _, stranger = organisations
    again = stranger.post("/v1/persons", body(first_name="jeroen", last_name="Elsen"))  # case and accents do not matter
    assert again.status_code == 200, again.text
    assert again.json() == {"disclosure": "match", "person_id": str(jeroen), "initials": "J. Ë.", "names_match": True}
    wrong_names = stranger.post("/v1/persons", body(first_name="Jan", last_name="Janssens"))
    assert wrong_names.status_code == 200 and wrong_names.json()["names_match"] is False
    looked_up = stranger.post("/v1/persons/lookup", {"national_register_number": NUMBER})
    assert looked_up.json() == {"disclosure": "match", "person_id": str(jeroen), "initials": "J. Ë.", "names_match": None}
    for answer in (again, wrong_names, looked_up):
        assert "jeroen@thuis.example" not in answer.text and "1975" not in answer.text and "male" not in answer.text and NUMBER not in answer.text


def test_the_helpdesk_and_the_persons_own_organisation_see_the_person_in_full(world, organisations):
    home, home_head, jeroen, _, _ = organisations
    for session in (home_head, world.operator):
        shown = session.post("/v1/persons/lookup", {"national_register_number": NUMBER}).json()
        assert shown == {
            "disclosure": "full",
            "person_id": str(jeroen),
            "first_name": "Jeroen",
            "last_name": "Ëlsen",
            "gender": "male",
            "date_of_birth": BORN.isoformat(),
            "email": "jeroen@thuis.example",  # the one registered, not the one typed later
        }


async def test_every_look_up_by_number_is_audited_who_for_whom_when_and_never_the_number(world, organisations):
    _, _, jeroen, stranger_org, stranger = organisations
    unknown = national_register_number(date(1977, 7, 7), 707)
    assert stranger.post("/v1/persons/lookup", {"national_register_number": unknown}).status_code == 404
    assert stranger.post("/v1/persons", body()).status_code == 200
    connection = await connect(world.identity.env["IDENTITY_DATABASE_URL"])
    try:
        rows = await connection.fetch(
            "SELECT action, acting_for, organisation_id, subject, details, at, outcome, to_jsonb(audit_log)::text AS everything FROM audit_log "
            "WHERE actor_id = $1 AND action IN ('person.looked_up', 'person.matched') ORDER BY id",
            stranger.person_id,
        )
    finally:
        await connection.close()
    assert rows[-2]["action"] == "person.looked_up" and rows[-2]["details"] == {"found": False} and rows[-2]["subject"] is None
    assert rows[-1]["action"] == "person.matched" and rows[-1]["subject"] == str(jeroen)
    for row in rows:
        assert row["acting_for"] == stranger_org and row["organisation_id"] == stranger_org and row["at"] is not None
        assert NUMBER not in row["everything"] and unknown not in row["everything"]  # never the number, in any column


async def test_a_burst_of_look_ups_is_refused_with_429_and_retry_after_and_replicas_share_the_count(world, organisations, stack, tmp_path):
    """The allowance is 20 look-ups in 10 minutes (the defaults); a second process on the same
    database, as a replica would be, refuses the look-up after them."""
    burst_org, burst_head = world.organisation_with_head("Burstcentrum", "Bart", sequence=709)
    first_answers = [burst_head.post("/v1/persons/lookup", {"national_register_number": NUMBER}).status_code for _ in range(19)]
    assert first_answers == [200] * 19
    assert burst_head.post("/v1/persons", body()).status_code == 200  # a match counts too: the 20th
    replica = IdentityProcess(stack, world.identity.env["IDENTITY_DATABASE_URL"], tmp_path / "replica.log").start()
    try:
        refused = httpx.post(replica.url + "/v1/persons/lookup", json={"national_register_number": NUMBER}, headers=burst_head.headers, timeout=10)
        assert refused.status_code == 429, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert 1 <= int(refused.headers["retry-after"]) <= 600
        assert refused.json()["title"] == "Too many requests" and "seconden" in refused.json()["detail"]
        assert NUMBER not in refused.text
        # Registering is refused too (whether a number is known is what a harvester wants) ...
        assert burst_head.post("/v1/persons", body()).status_code == 429
        # ... but only this administrator's: another one looks up as before.
        assert world.operator.post("/v1/persons/lookup", {"national_register_number": NUMBER}).status_code == 200
    finally:
        replica.stop()
    connection = await connect(world.identity.env["IDENTITY_DATABASE_URL"])
    try:
        denied = await connection.fetch(
            "SELECT acting_for, reason FROM audit_log WHERE actor_id = $1 AND action = 'person.looked_up' AND outcome = 'denied'", burst_head.person_id
        )
    finally:
        await connection.close()
    assert len(denied) == 2 and all(d["acting_for"] == burst_org and "too many" in d["reason"] for d in denied)  # each refusal audited (ID-12)


def test_a_person_signs_in_without_being_limited_by_their_administrators_look_ups(world, organisations):
    """The limit is on looking others up, not on the person looked up."""
    assert sign_in(world.url, NUMBER).get("/v1/me").status_code == 200
