"""The registry of Kafka topics. Topics are per aggregate and keyed by aggregate id."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Topic:
    name: str
    owner: str
    key: str
    description: str
    partitions: int = 3


TOPICS: dict[str, Topic] = {
    t.name: t
    for t in (
        Topic("identity.organisations", "identity", "organisation_id", "Organisations and their WSE quality registration."),
        Topic("identity.memberships", "identity", "organisation_id", "Persons' memberships of organisations, administrators."),
        Topic("identity.rights", "identity", "organisation_id", "Rights granted, revoked, validity changed; right requests."),
        Topic("identity.persons", "identity", "person_id", "Persons registered, with their student pseudonym (never the national register number)."),
        Topic("registration.applications", "registration", "application_id", "ODB application dossiers."),
        Topic("registration.trainings", "registration", "odb_number", "Registered trainings in the ODB register."),
        Topic("recognition.applications", "recognition", "application_id", "Platos recognition dossiers."),
        Topic("recognition.recognitions", "recognition", "recognition_id", "Recognised external service providers: granted, ended, changes reported."),
        Topic(
            "attestation.attestations",
            "attestation",
            "student_id",
            "Enrolment, attendance and completion attestations and entitlements, keyed by student pseudonym.",
        ),
        Topic("notification.requests", "notification", "reference", "Requests to email a contact person."),
        Topic("notification.deliveries", "notification", "reference", "Delivered and failed notifications."),
        Topic("platform.clock", "platform", "environment", "Outside production: the environment's clock offset (the latest event holds).", partitions=1),
    )
}


def topic(name: str) -> Topic:
    """The registered topic of that name; an unknown name is a programming error."""
    try:
        return TOPICS[name]
    except KeyError:
        raise KeyError(f"unknown topic {name!r}; register it in wse_contracts.topics") from None


def dead_letter_topic(service: str) -> str:
    """Where a service's consumers put what they could not handle after the bounded retries."""
    return f"{service}.dead-letters"
