"""The identity service's definition: what it stores, serves, consumes and publishes."""

from __future__ import annotations

import argparse
import uuid
from datetime import date

from pydantic import Field

from identity import use_cases
from identity.domain import Gender
from identity.tokens import ProofVerifier, SigningKeys
from identity.views import ROUTES
from service_runtime import calendar, pii
from service_runtime.auth import JwksKeys
from service_runtime.logging import correlation_id_var
from service_runtime.service import Service, ServiceRuntime
from service_runtime.settings import ServiceSettings
from wse_contracts.identity import (
    AdministratorAppointedV1,
    AdministratorRemovedV1,
    MembershipAddedV1,
    MembershipRemovedV1,
    OrganisationChangedV1,
    OrganisationRegisteredV1,
    PersonRegisteredV1,
    RightGrantedV1,
    RightRequestDecidedV1,
    RightRequestedV1,
    RightRevokedV1,
    RightValidityChangedV1,
)
from wse_contracts.notification import NotificationRequestedV1


class Settings(ServiceSettings):
    http_port: int = 8001
    access_token_seconds: int = 900  # at most 15 minutes, whatever is set here
    # Sign-in: the identity provider whose proofs (OIDC ID tokens) are exchanged for platform
    # tokens. Without a JWKS URL, the built-in development provider's keys are used.
    identity_provider_issuer: str = "wse-development-identity-provider"
    identity_provider_audience: str = "wse-identity"
    identity_provider_jwks_url: str | None = None
    development_identity_provider: bool = True  # set false in production
    # ID-4: look-ups by national register number (POST /v1/persons/lookup, and POST /v1/persons
    # finding someone already registered) per administrator per window; beyond it, 429.
    person_lookups_per_window: int = Field(default=20, ge=1)
    person_lookups_window_seconds: int = Field(default=600, ge=1)
    # ID-9: public searches for an organisation's administrators (GET /v1/organisations/administrators)
    # per caller's address per window; beyond it, 429. Behind a proxy (the ingress controller, the
    # portal) the caller is the address the proxy forwards when uvicorn trusts it: set
    # FORWARDED_ALLOW_IPS to the proxies' networks (loopback is trusted by default), else every
    # caller behind a proxy counts as the proxy and one busy portal exhausts the allowance for all.
    administrator_searches_per_window: int = Field(default=60, ge=1)
    administrator_searches_window_seconds: int = Field(default=60, ge=1)


def _settings(runtime: ServiceRuntime) -> Settings:
    settings = runtime.settings
    if not isinstance(settings, Settings):
        raise TypeError("the identity service runs with its own Settings")
    return settings


def _signing_keys(runtime: ServiceRuntime) -> SigningKeys:
    return SigningKeys(runtime.db)


async def _start(runtime: ServiceRuntime) -> None:
    settings = _settings(runtime)
    pii.keys_for(settings)  # the student pseudonym's key (PersonRegisteredV1): missing, the start stops here
    platform_keys = runtime.key_source
    if isinstance(platform_keys, SigningKeys):
        await platform_keys.ensure_key()
    development_keys = SigningKeys(runtime.db, table="development_provider_keys")
    if settings.development_identity_provider:
        await development_keys.ensure_key()
    provider_keys = JwksKeys(settings.identity_provider_jwks_url) if settings.identity_provider_jwks_url else development_keys
    runtime.extensions["development_provider_keys"] = development_keys
    runtime.extensions["proof_verifier"] = ProofVerifier(provider_keys, issuer=settings.identity_provider_issuer, audience=settings.identity_provider_audience)


async def _bootstrap(runtime: ServiceRuntime, argv: list[str]) -> int:
    """The department and its first operator, so that the helpdesk can sign in and start."""
    parser = argparse.ArgumentParser(prog="wse-identity bootstrap")
    parser.add_argument("--national-register-number", required=True)
    parser.add_argument("--first-name", required=True)
    parser.add_argument("--last-name", required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("--gender", default=Gender.X, choices=list(Gender))
    parser.add_argument("--date-of-birth", type=date.fromisoformat, required=True)
    parser.add_argument("--department-name", default="Departement Werk en Sociale Economie")
    args = parser.parse_args(argv)
    keys = pii.keys_for(_settings(runtime))  # the operator's student pseudonym, as for every person
    await runtime.migrate()
    # The command run is one unit of work: its events and audit entries share a correlation id
    # that says where they came from (there is no request to take one from).
    correlation_id_var.set(f"bootstrap-{uuid.uuid4()}")
    connection = await runtime.connect()
    try:
        async with connection.transaction():
            started = await use_cases.bootstrap_department(
                connection,
                department_name=args.department_name,
                national_register_number=args.national_register_number,
                last_name=args.last_name,
                first_name=args.first_name,
                gender=args.gender,
                date_of_birth=args.date_of_birth,
                email=args.email,
                today=calendar.today(runtime.clock),
                student_pseudonym=pii.pseudonym(keys, args.national_register_number),
            )
    finally:
        await connection.close()
    print(f"department {started['department_id']}; operator {started['operator_id']}")
    return 0


async def _rotate_keys(runtime: ServiceRuntime, argv: list[str]) -> int:
    connection = await runtime.connect()
    try:
        async with connection.transaction():
            print(await use_cases.rotate_signing_keys(connection))
    finally:
        await connection.close()
    return 0


async def _republish_persons(runtime: ServiceRuntime, argv: list[str]) -> int:
    keys = pii.keys_for(_settings(runtime))  # the pseudonym key, as the running service has it
    connection = await runtime.connect()
    try:
        count = await use_cases.republish_persons(connection, pseudonym_of=lambda number: pii.pseudonym(keys, number))
    finally:
        await connection.close()
    print(f"published PersonRegisteredV1 for {count} persons (the outbox relay of a running identity sends them)")
    return 0


service = Service(
    name="identity",
    description="Who may act for an organisation: organisations, local administrators, persons, rights, sign-in, audit trail.",
    migrations_package="identity.migrations",
    settings_class=Settings,
    route_handlers=ROUTES,
    publishes=[
        PersonRegisteredV1,
        OrganisationRegisteredV1,
        OrganisationChangedV1,
        MembershipAddedV1,
        MembershipRemovedV1,
        AdministratorAppointedV1,
        AdministratorRemovedV1,
        RightGrantedV1,
        RightRevokedV1,
        RightValidityChangedV1,
        RightRequestedV1,
        RightRequestDecidedV1,
        NotificationRequestedV1,
    ],
    signing_keys=_signing_keys,
    on_start=_start,
    commands={
        "bootstrap": ("create the department and its first operator", _bootstrap),
        "rotate-keys": ("start signing with a new key; the old one stays published until its tokens expire", _rotate_keys),
        "republish-persons": ("publish PersonRegisteredV1 (the student pseudonym) again for every person", _republish_persons),
    },
)
