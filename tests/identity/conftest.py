"""The identity service as a real process on the test stack, and a client that signs in as a
person through the development identity provider, as a portal would."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

import httpx
import pytest

from devstack.config import REPO_ROOT
from tests.platform.helpers import free_port, new_database

OPERATOR_NUMBER = "85073003328"


def national_register_number(born: date, sequence: int) -> str:
    """A valid number for that birth date (ID-4's mod-97 check, with the 2000 rule)."""
    base = f"{born:%y%m%d}{sequence:03d}"
    check = 97 - (int(("2" if born.year >= 2000 else "") + base) % 97)
    return f"{base}{check:02d}"


class IdentityProcess:
    def __init__(self, stack, database_url: str, log_path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "IDENTITY_DATABASE_URL": database_url,
            "IDENTITY_HTTP_PORT": str(self.port),
            "KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap,
            "IDENTITY_JWKS_URL": f"http://127.0.0.1:{self.port}/.well-known/jwks.json",
            "PLATFORM_ENVIRONMENT": "test",  # the test stack: the development PII keys (service_runtime.pii)
            **env,
        }
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "identity", *args], env=self.env, capture_output=True, text=True, cwd=REPO_ROOT, timeout=60)

    def start(self) -> IdentityProcess:
        with open(self.log_path, "ab") as log:  # the process writes to its own copy of the file descriptor
            self.process = subprocess.Popen([sys.executable, "-m", "identity", "serve"], env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log_path.read_text()[-3000:]
            try:
                if httpx.get(self.url + "/health/ready", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError("identity not ready:\n" + self.log_path.read_text()[-3000:])

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)


@dataclass
class Session:
    """A person signed in, acting for themselves or for an organisation."""

    url: str
    token: str
    person_id: UUID
    organisation_id: UUID | None = None
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=10))

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(self.url + path, headers=self.headers, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return self.client.post(self.url + path, json=json, headers=self.headers, **kwargs)

    def patch(self, path: str, json: Any = None) -> httpx.Response:
        return self.client.patch(self.url + path, json=json, headers=self.headers)

    def put(self, path: str, json: Any = None) -> httpx.Response:
        return self.client.put(self.url + path, json=json, headers=self.headers)

    def delete(self, path: str) -> httpx.Response:
        return self.client.delete(self.url + path, headers=self.headers)

    def act_for(self, organisation_id: UUID | None) -> Session:
        response = self.post("/v1/me/organisation", {"organisation_id": str(organisation_id) if organisation_id else None})
        assert response.status_code == 200, response.text
        return Session(self.url, response.json()["access_token"], self.person_id, organisation_id, self.client)


def sign_in(url: str, number: str) -> Session:
    proof = httpx.post(url + "/v1/dev-idp/proofs", json={"national_register_number": number}).json()["proof"]
    response = httpx.post(url + "/v1/sign-in", json={"proof": proof})
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    me = httpx.get(url + "/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    return Session(url, token, UUID(me["person_id"]))


@dataclass
class World:
    """A running identity service with its department and operator."""

    identity: IdentityProcess
    department_id: UUID
    operator: Session  # acting for the department

    @property
    def url(self) -> str:
        return self.identity.url

    def register_person(self, admin: Session, *, born: date, sequence: int, first_name: str, last_name: str = "Peeters", email: str | None = None) -> UUID:
        number = national_register_number(born, sequence)
        response = admin.post(
            "/v1/persons",
            {
                "national_register_number": number,
                "first_name": first_name,
                "last_name": last_name,
                "gender": "female" if sequence % 2 == 0 else "male",
                "date_of_birth": born.isoformat(),
                "email": email or f"{first_name.lower()}@example.org",
            },
        )
        assert response.status_code in (200, 201), response.text
        return UUID(response.json()["person_id"])

    def organisation(self, name: str, **extra: Any) -> UUID:
        response = self.operator.post("/v1/organisations", {"name": name, "kind": "training_provider", **extra})
        assert response.status_code == 201, response.text
        return UUID(response.json()["organisation_id"])

    def organisation_with_head(self, name: str, head_first_name: str, *, sequence: int) -> tuple[UUID, Session]:
        """An organisation and its head local administrator, signed in and acting for it (ID-1)."""
        organisation_id = self.organisation(name)
        born = date(1980, 1, 1 + sequence % 28)
        head_id = self.register_person(self.operator, born=born, sequence=sequence, first_name=head_first_name)
        response = self.operator.post(f"/v1/organisations/{organisation_id}/head-administrators", {"person_id": str(head_id)})
        assert response.status_code == 204, response.text
        head = sign_in(self.url, national_register_number(born, sequence)).act_for(organisation_id)
        return organisation_id, head


@pytest.fixture(scope="module")
async def world(stack, tmp_path_factory) -> AsyncIterator[World]:
    identity = IdentityProcess(stack, await new_database(stack, "identity"), tmp_path_factory.mktemp("identity") / "identity.log")
    result = identity.cli(
        "bootstrap",
        "--national-register-number",
        OPERATOR_NUMBER,
        "--first-name",
        "Hanne",
        "--last-name",
        "Helpdesk",
        "--email",
        "helpdesk@wse.example",
        "--date-of-birth",
        "1985-07-30",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    identity.start()
    try:
        operator = sign_in(identity.url, OPERATOR_NUMBER)
        department_id = UUID(next(t for t in operator.get("/v1/me").json()["tiles"] if t["kind"] == "organisation")["organisation_id"])
        yield World(identity, department_id, operator.act_for(department_id))
    finally:
        identity.stop()
