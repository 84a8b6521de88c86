"""What a portal's member page needs: one member of the organisation with their rights and the
themes given to them (ID-3, ID-5, ID-13), for the organisation's administrators only."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from service_runtime import calendar
from service_runtime.clock import SystemClock
from tests.identity.conftest import national_register_number, sign_in

pytestmark = pytest.mark.slow

TODAY = calendar.today(SystemClock())


def test_one_member_with_rights_and_themes_and_a_non_member_is_not_found(world):
    organisation_id, head = world.organisation_with_head("Ledencentrum", "Lieve", sequence=901)
    born = date(1992, 2, 2)
    ward = world.register_person(head, born=born, sequence=903, first_name="Ward", last_name="Willems", email="ward@leden.example")
    assert head.post(f"/v1/organisations/{organisation_id}/members", {"person_id": str(ward)}).status_code == 204
    granted = head.post(
        f"/v1/organisations/{organisation_id}/rights",
        {"person_id": str(ward), "role": "user", "context": "mijn_onderwijs", "valid_from": TODAY.isoformat(), "valid_until": None},
    )
    assert granted.status_code == 201, granted.text
    for theme in ("personeel", "financiering"):
        assert head.post(f"/v1/organisations/{organisation_id}/themes", {"person_id": str(ward), "theme": theme}).status_code == 204

    member = head.get(f"/v1/organisations/{organisation_id}/members/{ward}")
    assert member.status_code == 200, member.text
    assert member.json() == {
        "person_id": str(ward),
        "first_name": "Ward",
        "last_name": "Willems",
        "email": "ward@leden.example",
        "membership": "user",
        "rights": [
            {
                "right_id": granted.json()["right_id"],
                "role": "user",
                "context": "mijn_onderwijs",
                "valid_from": TODAY.isoformat(),
                "valid_until": None,
                "active": True,
            }
        ],
        "themes": ["financiering", "personeel"],
    }
    listed = {m["first_name"]: m for m in head.get(f"/v1/organisations/{organisation_id}/members").json()["items"]}
    assert listed["Ward"]["themes"] == ["financiering", "personeel"] and listed["Lieve"]["themes"] == []

    assert head.get(f"/v1/organisations/{organisation_id}/members/{uuid4()}").status_code == 404
    # ID-3: the member himself is no administrator: refused, not shown.
    refused = sign_in(world.url, national_register_number(born, 903)).act_for(organisation_id).get(f"/v1/organisations/{organisation_id}/members/{ward}")
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
