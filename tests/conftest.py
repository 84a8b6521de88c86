"""The test stack: real Kafka, PostgreSQL and mail sink on the test ports (see devstack.config),
started once per session by the project's own scripts and stopped at the end."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from datetime import UTC, datetime
from uuid import UUID

import jwt
import pytest
from aiokafka import AIOKafkaProducer
from cryptography.hazmat.primitives.asymmetric import rsa

from devstack import stack as devstack
from devstack.config import StackConfig
from service_runtime.clock import FixedClock
from tests.attestation.conftest import Attestation
from tests.notification.conftest import Notifications
from tests.platform.helpers import new_database, serve_jwks
from tests.recognition.conftest import Recognition
from tests.registration.conftest import KID, Registration


@pytest.fixture(scope="session")
def stack() -> StackConfig:
    config = StackConfig.test()
    if os.environ.get("WSE_TEST_REUSE_STACK") != "1":
        devstack.down(config)  # whatever an interrupted run left behind
        shutil.rmtree(config.state_dir, ignore_errors=True)
    devstack.start_infrastructure(config)
    yield config
    if os.environ.get("WSE_TEST_REUSE_STACK") != "1":
        devstack.down(config)


# ------------------------------------------------------------------------------- in-process runtimes
# The services' runtimes that tests run in this process are session fixtures of the whole run,
# defined here once: two instances would share consumer groups and split their partitions.


@pytest.fixture(scope="session")
async def registration(stack) -> Registration:
    from registration.definition import service as registration_service

    signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(signing_key.public_key())), "kid": KID, "use": "sig", "alg": "RS256"}
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    with serve_jwks([public]) as jwks_url:
        settings = registration_service.load_settings(
            database_url=await new_database(stack, "registration"),
            kafka_bootstrap_servers=stack.kafka_bootstrap,
            jwks_url=jwks_url,
            jwks_min_refresh_seconds=0,
            scheduler_poll_seconds=3600,  # the tests run due jobs themselves, after moving the clock
            outbox_poll_seconds=0.2,
            consumer_backoff_initial_seconds=0.05,
            log_level="WARNING",
        )
        runtime = registration_service.runtime(settings, clock=clock)
        registration = Registration(runtime, clock, signing_key, stack)
        await runtime.start()
        registration.producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap)
        await registration.producer.start()
        try:
            yield registration
        finally:
            await registration.producer.stop()
            try:
                await asyncio.wait_for(runtime.stop(), timeout=30)
            except TimeoutError:
                for task in asyncio.all_tasks():
                    task.print_stack()
                raise


@pytest.fixture(scope="session")
async def department(registration) -> UUID:
    return await registration.organisation(kind="department", name="Departement Werk en Sociale Economie")


@pytest.fixture(scope="session")
async def recognition(stack, registration) -> Recognition:
    # Tokens: the same test signing key as the registration runtime's (its JWKS endpoint).
    from recognition.definition import service as recognition_service

    settings = recognition_service.load_settings(
        database_url=await new_database(stack, "recognition"),
        kafka_bootstrap_servers=stack.kafka_bootstrap,
        jwks_url=registration.runtime.settings.jwks_url,
        jwks_min_refresh_seconds=0,
        scheduler_poll_seconds=3600,  # the tests run due jobs themselves, after moving the clock
        outbox_poll_seconds=0.2,
        consumer_backoff_initial_seconds=0.05,
        log_level="WARNING",
    )
    runtime = recognition_service.runtime(settings, clock=FixedClock(datetime.now(UTC).replace(microsecond=0)))
    recognition = Recognition(runtime, runtime.clock, registration.signing_key, stack)
    await runtime.start()
    recognition.producer = registration.producer
    yield recognition
    await asyncio.wait_for(runtime.stop(), timeout=30)


@pytest.fixture(scope="session")
async def attestation(stack, registration) -> Attestation:
    from attestation.definition import service as attestation_service

    settings = attestation_service.load_settings(
        database_url=await new_database(stack, "attestation"),
        kafka_bootstrap_servers=stack.kafka_bootstrap,
        jwks_url=registration.runtime.settings.jwks_url,
        jwks_min_refresh_seconds=0,
        outbox_poll_seconds=0.2,
        consumer_backoff_initial_seconds=0.05,
        platform_environment="test",  # the development keys for national register numbers
        log_level="WARNING",
    )
    runtime = attestation_service.runtime(settings, clock=FixedClock(datetime.now(UTC).replace(microsecond=0)))
    attestation = Attestation(runtime, runtime.clock, registration.signing_key, stack)
    await runtime.start()
    attestation.producer = registration.producer
    yield attestation
    await asyncio.wait_for(runtime.stop(), timeout=30)


@pytest.fixture(scope="session")
async def recognition_department(recognition) -> UUID:
    return await recognition.organisation(kind="department", name="Departement Werk en Sociale Economie")


@pytest.fixture(scope="session")
async def notifications(stack, registration) -> Notifications:
    # Tokens: the same test signing key as the registration runtime's (its JWKS endpoint).
    from notification.definition import service as notification_service

    settings = notification_service.load_settings(
        database_url=await new_database(stack, "notification"),
        kafka_bootstrap_servers=stack.kafka_bootstrap,
        jwks_url=registration.runtime.settings.jwks_url,
        jwks_min_refresh_seconds=0,
        smtp_host="127.0.0.1",
        smtp_port=stack.smtp_port,
        delivery_backoff_initial_seconds=0.2,
        delivery_backoff_max_seconds=1.0,
        delivery_max_attempts=4,
        # No safety-net polling: deliveries happen only because accepting a request wakes the loop
        # (LISTEN/NOTIFY) and the loop sleeps exactly until the next retry or lease is due.
        delivery_poll_seconds=3600,
        outbox_poll_seconds=0.2,
        log_level="WARNING",
    )
    runtime = notification_service.runtime(settings)
    await runtime.start()
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap)
    await producer.start()
    try:
        yield Notifications(stack, runtime, producer)
    finally:
        await producer.stop()
        await asyncio.wait_for(runtime.stop(), timeout=30)
