"""The identity service's definition: what it stores, serves, consumes and publishes."""

from __future__ import annotations

import argparse
from datetime import date

import asyncpg

from identity import service as use_cases
from identity.tokens import ProofVerifier, SigningKeys
from identity.views import ROUTES
from service_runtime.auth import JwksKeys
from service_runtime.clock import local_today
from service_runtime.db import configure_connection, create_pool
from service_runtime.service import Service, ServiceRuntime
from service_runtime.settings import ServiceSettings
from wse_contracts.identity import (
    AdministratorAppointedV1,
    AdministratorRemovedV1,
    MembershipAddedV1,
    MembershipRemovedV1,
    OrganisationChangedV1,
    OrganisationRegisteredV1,
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


async def _start(runtime: ServiceRuntime) -> None:
    settings = runtime.settings
    await runtime.key_source.ensure_key()
    development_keys = SigningKeys(lambda: runtime.pool, table="development_provider_keys")
    if settings.development_identity_provider:
        await development_keys.ensure_key()
    provider_keys = JwksKeys(settings.identity_provider_jwks_url) if settings.identity_provider_jwks_url else development_keys
    runtime.extensions["development_provider_keys"] = development_keys
    runtime.extensions["proof_verifier"] = ProofVerifier(provider_keys, issuer=settings.identity_provider_issuer, audience=settings.identity_provider_audience)


async def _bootstrap(runtime: ServiceRuntime, argv: list[str]) -> int:
    """The department and its first operator, so that the helpdesk can sign in and start."""
    today = local_today(runtime.clock)
    parser = argparse.ArgumentParser(prog="wse-identity bootstrap")
    parser.add_argument("--national-register-number", required=True)
    parser.add_argument("--first-name", required=True)
    parser.add_argument("--last-name", required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("--gender", default="x", choices=["female", "male", "x"])
    parser.add_argument("--date-of-birth", type=date.fromisoformat, required=True)
    parser.add_argument("--department-name", default="Departement Werk en Sociale Economie")
    args = parser.parse_args(argv)
    await runtime.migrate()
    connection = await asyncpg.connect(runtime.settings.database_url)
    await configure_connection(connection)
    try:
        async with connection.transaction():
            department = await connection.fetchval("SELECT organisation_id FROM organisations WHERE kind = 'department'")
            if department is None:
                department = (await use_cases.register_organisation(connection, actor=None, name=args.department_name, kind="department"))["organisation_id"]
            person, _ = await use_cases.register_person(
                connection,
                actor=None,
                national_register_number=args.national_register_number,
                last_name=args.last_name,
                first_name=args.first_name,
                gender=args.gender,
                date_of_birth=args.date_of_birth,
                email=args.email,
            )
            await connection.execute(
                "INSERT INTO memberships (organisation_id, person_id, role) VALUES ($1, $2, 'head_administrator') "
                "ON CONFLICT (organisation_id, person_id) DO UPDATE SET role = 'head_administrator'",
                department,
                person["person_id"],
            )
            if not await use_cases.holds_right(
                connection, person_id=person["person_id"], organisation_id=department, role="operator", context="department", on=today
            ):
                await use_cases.grant_right(
                    connection,
                    actor=use_cases.Actor(person["person_id"], department, today=today),
                    organisation_id=department,
                    person_id=person["person_id"],
                    role="operator",
                    context="department",
                    valid_from=today,
                    skip_authorisation=True,
                )
    finally:
        await connection.close()
    print(f"department {department}; operator {person['person_id']}")
    return 0


async def _rotate_keys(runtime: ServiceRuntime, argv: list[str]) -> int:
    runtime.pool = await create_pool(runtime.settings.database_url, min_size=1, max_size=1)
    try:
        print(await runtime.key_source.rotate())
    finally:
        await runtime.pool.close()
    return 0


service = Service(
    name="identity",
    description="Who may act for an organisation: organisations, local administrators, persons, rights, sign-in, audit trail.",
    migrations_package="identity.migrations",
    settings_class=Settings,
    route_handlers=ROUTES,
    publishes=[
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
    signing_keys=lambda runtime: SigningKeys(lambda: runtime.pool),
    on_start=_start,
    commands={
        "bootstrap": ("create the department and its first operator", _bootstrap),
        "rotate-keys": ("start signing with a new key; the old one stays published until its tokens expire", _rotate_keys),
    },
)
