"""Demo people and an organisation for `./dev up`, so whoever opens the portal can do every
journey at once: made through identity's public API, as the helpdesk and a local administrator
would (the development identity provider signs them in). Running it again changes nothing.

The national register numbers are valid (mod 97) and belong to nobody real."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from devstack.config import StackConfig

ORGANISATION = {"name": "Vormingscentrum Gent vzw", "kind": "training_provider", "enterprise_number": "0456789034", "contact_email": "info@vcgent.example"}
HEAD = {
    "national_register_number": "90021412303",
    "first_name": "Griet",
    "last_name": "Goossens",
    "gender": "female",
    "date_of_birth": "1990-02-14",
    "email": "griet@vcgent.example",
}
OFFICER = {
    "national_register_number": "93052704566",
    "first_name": "Bram",
    "last_name": "Baert",
    "gender": "male",
    "date_of_birth": "1993-05-27",
    "email": "bram@vcgent.example",
}
NEWCOMER = {
    "national_register_number": "88091107749",
    "first_name": "Sara",
    "last_name": "Segers",
    "gender": "female",
    "date_of_birth": "1988-09-11",
    "email": "sara@vcgent.example",
}
CASE_HANDLER = {
    "national_register_number": "76030220195",
    "first_name": "Dirk",
    "last_name": "Dossier",
    "gender": "male",
    "date_of_birth": "1976-03-02",
    "email": "dirk@wse.example",
}
STUDENT = {
    "national_register_number": "99010101207",
    "first_name": "Lotte",
    "last_name": "Leerling",
    "gender": "female",
    "date_of_birth": "1999-01-01",
    "email": "lotte@example.org",
}

OFFICER_RIGHTS = [("dwse_organisation_officer", "training_database"), ("dwse_organisation_officer", "training_leave"), ("dwse_organisation_officer", "platos")]
CASE_HANDLER_RIGHTS = [("case_handler", "training_database"), ("case_handler", "training_leave"), ("case_handler", "platos")]

# What the portal's development sign-in page lists (PORTAL_TEST_PERSONS).
PERSONS = [
    {"name": "Hanne Helpdesk: helpdesk van het departement", "national_register_number": "85073003328"},
    {"name": "Griet Goossens: hoofd lokale beheerder van Vormingscentrum Gent vzw", "national_register_number": HEAD["national_register_number"]},
    {
        "name": "Bram Baert: medewerker van Vormingscentrum Gent vzw (opleidingen, Platos, attesten)",
        "national_register_number": OFFICER["national_register_number"],
    },
    {
        "name": "Sara Segers: nieuwe medewerker van Vormingscentrum Gent vzw, nog zonder rechten",
        "national_register_number": NEWCOMER["national_register_number"],
    },
    {"name": "Dirk Dossier: dossierbehandelaar van het departement", "national_register_number": CASE_HANDLER["national_register_number"]},
    {"name": "Lotte Leerling: cursist (burger)", "national_register_number": STUDENT["national_register_number"]},
]


class _Identity:
    def __init__(self, url: str) -> None:
        self.client = httpx.Client(base_url=url, timeout=30)

    def token(self, number: str, organisation_id: str | None = None) -> str:
        proof = self._ok(self.client.post("/v1/dev-idp/proofs", json={"national_register_number": number}))["proof"]
        token: str = self._ok(self.client.post("/v1/sign-in", json={"proof": proof}))["access_token"]
        if organisation_id:
            token = self._ok(self.client.post("/v1/me/organisation", json={"organisation_id": organisation_id}, headers=self._auth(token)))["access_token"]
        return token

    def get(self, token: str, path: str, **params: Any) -> Any:
        return self._ok(self.client.get(path, params=params, headers=self._auth(token)))

    def post(self, token: str, path: str, body: dict[str, Any], *, allowed: tuple[int, ...] = ()) -> Any:
        answer = self.client.post(path, json=body, headers=self._auth(token))
        if answer.status_code in allowed:
            return None
        return self._ok(answer)

    @staticmethod
    def _auth(token: str) -> dict[str, str]:
        return {"authorization": f"Bearer {token}"}

    @staticmethod
    def _ok(answer: httpx.Response) -> Any:
        if answer.status_code >= 400:
            raise RuntimeError(f"{answer.request.method} {answer.request.url.path}: {answer.status_code} {answer.text[:300]}")
        return answer.json() if answer.content else None


def seed(config: StackConfig, operator_number: str) -> None:
    identity = _Identity(f"http://127.0.0.1:{config.service_ports['identity']}")
    me = identity.get(identity.token(operator_number), "/v1/me")
    department = next(t["organisation_id"] for t in me["tiles"] if t["kind"] == "organisation")
    operator = identity.token(operator_number, department)
    found = identity.get(operator, "/v1/organisations", enterprise_number=ORGANISATION["enterprise_number"])["items"]
    organisation = found[0]["organisation_id"] if found else identity.post(operator, "/v1/organisations", ORGANISATION)["organisation_id"]
    people = {}
    for person in (HEAD, OFFICER, NEWCOMER, CASE_HANDLER, STUDENT):
        people[person["first_name"]] = identity.post(operator, "/v1/persons", person)["person_id"]
    identity.post(operator, f"/v1/organisations/{organisation}/head-administrators", {"person_id": people["Griet"]}, allowed=(409,))
    head = identity.token(HEAD["national_register_number"], organisation)
    today = date.today().isoformat()
    for first_name, rights in (("Bram", OFFICER_RIGHTS), ("Sara", [])):
        identity.post(head, f"/v1/organisations/{organisation}/members", {"person_id": people[first_name]}, allowed=(409,))
        for role, context in rights:
            right = {"person_id": people[first_name], "role": role, "context": context, "valid_from": today}
            identity.post(head, f"/v1/organisations/{organisation}/rights", right, allowed=(409,))
    identity.post(operator, f"/v1/organisations/{department}/members", {"person_id": people["Dirk"]}, allowed=(409,))
    for role, context in CASE_HANDLER_RIGHTS:
        identity.post(
            operator,
            f"/v1/organisations/{department}/rights",
            {"person_id": people["Dirk"], "role": role, "context": context, "valid_from": today},
            allowed=(409,),
        )
