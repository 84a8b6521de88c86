"""The emails services may ask for: one model per template, naming its personalisation.

A sender builds the model of the template it wants (so a missing or misspelt field fails where
the email is asked for, in the sender's own tests) and wraps it with `email_request(...)` into the
`NotificationRequestedV1` command. The notification service validates each request's
personalisation against the same model and refuses a mismatch as a contract error naming the
template and the field; its templates may use no other key than the model's fields.

This module is the one source of truth for what a template needs: the notification service's
catalogue takes each template's required and optional keys from the model's fields, and its
examples and variants (the back office's preview, the tests) from `example()` and `variants()`.
Adding a template: a model here (with `template_id`, `version`, an `example()` and, where the
text changes with the data, `variants()`), and its files in the notification service's
`templates/` directory (the JSON there holds only the description and the subject).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import ConfigDict

from wse_contracts.models import StrictModel
from wse_contracts.notification import NotificationRequestedV1, Recipient

Text = str


class EmailPersonalisation(StrictModel):
    """What one template version needs. Fields without a default are required (a value may still
    be None where the field allows it and the text says so)."""

    # Personalisation is text for people: keep it as sent (a question's line breaks and spaces).
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)

    template_id: ClassVar[str]
    version: ClassVar[int] = 1

    @classmethod
    def example(cls) -> EmailPersonalisation:
        """A realistic personalisation: the back office previews it, the tests render it."""
        raise NotImplementedError

    @classmethod
    def variants(cls) -> dict[str, EmailPersonalisation]:
        """Other realistic personalisations (a refusal, a held application) rendered in the preview and the tests."""
        return {}

    @classmethod
    def required(cls) -> list[str]:
        return sorted(name for name, info in cls.model_fields.items() if info.is_required())

    @classmethod
    def optional(cls) -> list[str]:
        return sorted(name for name, info in cls.model_fields.items() if not info.is_required())


# ------------------------------------------------------------------------------- identity (ID-8)


class RightRequested(EmailPersonalisation):
    """To the organisation's (head) local administrators: a member asks for a right (ID-8)."""

    template_id: ClassVar[str] = "identity.right_requested"

    organisation_name: Text
    requester_name: Text
    right_description: Text
    reason: Text
    request_id: UUID

    @classmethod
    def example(cls) -> RightRequested:
        return cls(
            organisation_name="CVO Leerrijk",
            requester_name="An Peeters",
            right_description="DWSE-organisatieverantwoordelijke voor de opleidingsdatabank",
            reason="Ik dien voortaan de registratieaanvragen van onze opleidingen in.",
            request_id=UUID("4f9a2c1e-7b3d-4e8a-9c5f-2d6b8e1a0f37"),
        )


class RightRequestDecided(EmailPersonalisation):
    """To the member who asked: their right request was approved or refused, with the reason (ID-8)."""

    template_id: ClassVar[str] = "identity.right_request_decided"

    organisation_name: Text
    requester_name: Text
    right_description: Text
    outcome: Literal["approved", "refused", "cancelled"]
    reason: Text

    @classmethod
    def example(cls) -> RightRequestDecided:
        return cls(
            organisation_name="CVO Leerrijk",
            requester_name="An Peeters",
            right_description="DWSE-organisatieverantwoordelijke voor de opleidingsdatabank",
            outcome="approved",
            reason="",
        )

    @classmethod
    def variants(cls) -> dict[str, EmailPersonalisation]:
        example = cls.example()
        return {
            "refused": example.model_copy(update={"outcome": "refused", "reason": "Registratieaanvragen worden bij ons centraal ingediend door de directie."}),
            "cancelled": example.model_copy(update={"outcome": "cancelled", "reason": ""}),
        }


# ------------------------------------------------------------------------------- registration (ODB)


class ApplicationSubmitted(EmailPersonalisation):
    """To the dossier's contact person: the application was received (N-1), or is held for the quality registration (R-2)."""

    template_id: ClassVar[str] = "registration.application_submitted"

    dossier_number: int
    training_name: Text
    organisation_name: Text
    decision_due_on: date
    held_for_quality_registration: bool

    @classmethod
    def example(cls) -> ApplicationSubmitted:
        return cls(
            dossier_number=1042,
            training_name="Basiscursus boekhouden",
            organisation_name="CVO Leerrijk",
            decision_due_on=date(2027, 4, 15),
            held_for_quality_registration=False,
        )

    @classmethod
    def variants(cls) -> dict[str, EmailPersonalisation]:
        return {"held": cls.example().model_copy(update={"held_for_quality_registration": True})}


class ApplicationInadmissible(EmailPersonalisation):
    """To the contact person: an automatic admissibility rule closed the application (R-8, R-12, ...)."""

    template_id: ClassVar[str] = "registration.application_inadmissible"

    dossier_number: int
    training_name: Text
    organisation_name: Text
    rule: Text
    reason: Text

    @classmethod
    def example(cls) -> ApplicationInadmissible:
        return cls(
            dossier_number=1043,
            training_name="Workshop Excel voor beginners",
            organisation_name="CVO Leerrijk",
            rule="R-8",
            reason="the training has 12 hours, fewer than 32, and is not a mentor training",
        )

    @classmethod
    def variants(cls) -> dict[str, EmailPersonalisation]:
        return {"unknown_rule": cls.example().model_copy(update={"rule": "R-99", "reason": "a rule this template has no Dutch text for"})}


class InformationRequested(EmailPersonalisation):
    """To the contact person: the case handler asks for information, to be given within one month (R-19)."""

    template_id: ClassVar[str] = "registration.information_requested"

    dossier_number: int
    training_name: Text
    question: Text
    due_on: date

    @classmethod
    def example(cls) -> InformationRequested:
        return cls(
            dossier_number=1042,
            training_name="Basiscursus boekhouden",
            question="Kunt u het lessenrooster van module 2 bezorgen?\nWe zien niet hoeveel contacturen die module telt.",
            due_on=date(2027, 2, 15),
        )


class ApplicationDecided(EmailPersonalisation):
    """To the contact person: approved with its ODB number, or rejected with the reasons (R-20)."""

    template_id: ClassVar[str] = "registration.application_decided"

    dossier_number: int
    training_name: Text
    organisation_name: Text
    outcome: Literal["approved", "rejected"]
    reasons: Text | None
    odb_number: Text | None

    @classmethod
    def example(cls) -> ApplicationDecided:
        return cls(
            dossier_number=1042,
            training_name="Basiscursus boekhouden",
            organisation_name="CVO Leerrijk",
            outcome="approved",
            reasons=None,
            odb_number="ODB-Y1207",
        )

    @classmethod
    def variants(cls) -> dict[str, EmailPersonalisation]:
        example = cls.example()
        return {
            "approved_with_reasons": example.model_copy(update={"reasons": "Goedgekeurd door de Vlaamse opleidingscommissie van 12 maart 2027."}),
            "rejected": example.model_copy(
                update={
                    "outcome": "rejected",
                    "reasons": "De opleiding is niet arbeidsmarktgericht: ze bereikt geen enkele competentiegroep.",
                    "odb_number": None,
                }
            ),
        }


class TrainingStopped(EmailPersonalisation):
    """To the contact person: a registered training stops on a date (R-23, R-24)."""

    template_id: ClassVar[str] = "registration.training_stopped"

    odb_number: Text
    training_name: Text
    stop_on: date
    reason: Text

    @classmethod
    def example(cls) -> TrainingStopped:
        return cls(
            odb_number="ODB-Y1207",
            training_name="Basiscursus boekhouden",
            stop_on=date(2027, 9, 1),
            reason="Vervangen door de vernieuwde opleiding ODB-Y1388.",
        )


class NegativeEvaluation(EmailPersonalisation):
    """To the provider's general contact person: the yearly evaluation of a registered training was negative (R-26)."""

    template_id: ClassVar[str] = "registration.negative_evaluation"

    odb_number: Text
    training_name: Text
    year: int
    remarks: Text | None  # the email leaves out the remarks paragraph when there are none

    @classmethod
    def example(cls) -> NegativeEvaluation:
        return cls(
            odb_number="ODB-Y1207",
            training_name="Basiscursus boekhouden",
            year=2027,
            remarks="De inhoud op de webpagina komt niet meer overeen met de geregistreerde leerdoelen.",
        )


class ContactVerification(EmailPersonalisation):
    """To the general contact person, once a year: are the organisation's contact data still right (R-25)?"""

    template_id: ClassVar[str] = "registration.contact_verification"

    organisation_name: Text
    year: int
    contact_name: Text | None  # without a name the email greets "contactpersoon"

    @classmethod
    def example(cls) -> ContactVerification:
        return cls(organisation_name="CVO Leerrijk", year=2027, contact_name="Jan Janssens")

    @classmethod
    def variants(cls) -> dict[str, EmailPersonalisation]:
        return {"no_name": cls.example().model_copy(update={"contact_name": None})}


# ------------------------------------------------------------------------------- recognition (Platos)


class RecognitionApplicationConfirmed(EmailPersonalisation):
    """To the service provider: the recognition application was received."""

    template_id: ClassVar[str] = "recognition.application_confirmed"

    dossier_number: Text
    organisation_name: Text
    submitted_on: date | None = None

    @classmethod
    def example(cls) -> RecognitionApplicationConfirmed:
        return cls(dossier_number="ERK-2027-0031", organisation_name="Werkkracht vzw", submitted_on=date(2027, 1, 15))

    @classmethod
    def variants(cls) -> dict[str, EmailPersonalisation]:
        return {"without_date": cls.example().model_copy(update={"submitted_on": None})}


class RecognitionAdmissibility(EmailPersonalisation):
    """To the service provider: the application is admissible, or not and why."""

    template_id: ClassVar[str] = "recognition.admissibility"

    dossier_number: Text
    organisation_name: Text
    outcome: Literal["admissible", "inadmissible"]
    reasons: Text | None = None

    @classmethod
    def example(cls) -> RecognitionAdmissibility:
        return cls(dossier_number="ERK-2027-0031", organisation_name="Werkkracht vzw", outcome="admissible")

    @classmethod
    def variants(cls) -> dict[str, EmailPersonalisation]:
        return {
            "inadmissible": cls.example().model_copy(update={"outcome": "inadmissible", "reasons": "De lijst met begeleiders en hun kwalificaties ontbreekt."})
        }


class _RecognitionOutcome(EmailPersonalisation):
    """A minister's decision on a recognition: the period when granted, the reasons when given."""

    dossier_number: Text
    organisation_name: Text
    outcome: Literal["approved", "refused"]
    reasons: Text | None = None
    valid_from: date | None = None
    valid_until: date | None = None

    def refused(self, reasons: str) -> _RecognitionOutcome:
        return self.model_copy(update={"outcome": "refused", "reasons": reasons, "valid_from": None, "valid_until": None})


class RecognitionDecision(_RecognitionOutcome):
    """To the service provider: recognised for a period, or refused with the reasons."""

    template_id: ClassVar[str] = "recognition.decision"

    @classmethod
    def example(cls) -> RecognitionDecision:
        return cls(
            dossier_number="ERK-2027-0031",
            organisation_name="Werkkracht vzw",
            outcome="approved",
            valid_from=date(2027, 3, 1),
            valid_until=date(2032, 2, 29),
        )

    @classmethod
    def variants(cls) -> dict[str, EmailPersonalisation]:
        return {"refused": cls.example().refused("De organisatie toont onvoldoende ervaring aan met de begeleiding van werknemers met een arbeidshandicap.")}


class RecognitionReconsiderationOutcome(_RecognitionOutcome):
    """To the service provider: the outcome of their request for reconsideration."""

    template_id: ClassVar[str] = "recognition.reconsideration_outcome"

    @classmethod
    def example(cls) -> RecognitionReconsiderationOutcome:
        return cls(
            dossier_number="ERK-2027-0031",
            organisation_name="Werkkracht vzw",
            outcome="approved",
            reasons="Na de hoorzitting toont de organisatie voldoende ervaring aan.",
            valid_from=date(2027, 6, 1),
            valid_until=date(2032, 5, 31),
        )

    @classmethod
    def variants(cls) -> dict[str, EmailPersonalisation]:
        return {"refused": cls.example().refused("De commissie adviseert de weigering te behouden; de minister volgt dat advies.")}


class RecognitionInformationRequested(EmailPersonalisation):
    """To the applicant: the department asks for more information; the 45-day term is suspended until the answer (E-6)."""

    template_id: ClassVar[str] = "recognition.information_requested"

    dossier_number: Text
    organisation_name: Text
    question: Text
    asked_on: date  # the term is suspended from this day until the day the answer is received

    @classmethod
    def example(cls) -> RecognitionInformationRequested:
        return cls(
            dossier_number="ERK-2027-0031",
            organisation_name="Werkkracht vzw",
            question="Kunt u de diploma's of attesten bezorgen van de begeleiders die u in deel 3 opsomt?\nBij twee begeleiders zien we niet hoe ze de kerncompetenties aantonen.",
            asked_on=date(2027, 2, 3),
        )


class RecognitionEnded(EmailPersonalisation):
    """To the service provider: its recognition ended: its 5 years are over (E-8), it coached no one for 2 years (E-9), or the department withdrew it."""

    template_id: ClassVar[str] = "recognition.ended"

    organisation_name: Text
    recognition_number: Text
    reason: Literal["expiry", "inactivity", "withdrawal"]
    valid_from: date
    ended_on: date  # the first day the recognition no longer holds
    explanation: Text | None = None  # the department's reasons; the email shows them when given

    @classmethod
    def example(cls) -> RecognitionEnded:
        return cls(
            organisation_name="Werkkracht vzw",
            recognition_number="ERK-2027-0031",
            reason="expiry",
            valid_from=date(2027, 3, 1),
            ended_on=date(2032, 3, 1),
        )

    @classmethod
    def variants(cls) -> dict[str, EmailPersonalisation]:
        example = cls.example()
        return {
            "inactivity": example.model_copy(update={"reason": "inactivity", "ended_on": date(2030, 3, 1)}),
            "withdrawal": example.model_copy(
                update={
                    "reason": "withdrawal",
                    "ended_on": date(2029, 6, 15),
                    "explanation": "De organisatie beschikt niet langer over een kwaliteitsregistratie binnen Werk en Sociale Economie.",
                }
            ),
        }


class RecognitionExpiryReminder(EmailPersonalisation):
    """To the service provider: its recognition ends soon; apply in time for a new one (E-8, E-13)."""

    template_id: ClassVar[str] = "recognition.expiry_reminder"

    organisation_name: Text
    recognition_number: Text
    valid_until: date  # the last day the recognition holds

    @classmethod
    def example(cls) -> RecognitionExpiryReminder:
        return cls(organisation_name="Werkkracht vzw", recognition_number="ERK-2027-0031", valid_until=date(2032, 2, 29))


class RecognitionSubcontractorEnded(EmailPersonalisation):
    """To a service provider: a subcontractor it named is no longer recognised (E-11); it reports the change (E-12)."""

    template_id: ClassVar[str] = "recognition.subcontractor_ended"

    organisation_name: Text  # the provider that gets the email
    subcontractor_name: Text
    subcontractor_enterprise_number: Text
    ended_on: date  # the first day the subcontractor is no longer recognised

    @classmethod
    def example(cls) -> RecognitionSubcontractorEnded:
        return cls(
            organisation_name="Werkkracht vzw",
            subcontractor_name="Begeleidingsdienst De Brug vzw",
            subcontractor_enterprise_number="0456.789.034",
            ended_on=date(2029, 6, 15),
        )


# ------------------------------------------------------------------------------- attestation (training leave)


class AttestationBulkReceipt(EmailPersonalisation):
    """To the provider's contact address: the acknowledgement of receipt of a bulk file of
    attestations, with its counts (A-9); or that the file arrived cut off and is to be sent again."""

    template_id: ClassVar[str] = "attestation.bulk_receipt"

    organisation_name: Text
    receipt_number: Text
    filename: Text | None  # the email says "uw bestand" without one
    received_on: date
    outcome: Literal["done", "incomplete"]  # incomplete: cut off before it all arrived or was processed; a retry completes it
    rows_total: int
    accepted: int
    held: int  # the register does not know the ODB number yet: judged when it does
    unchanged: int  # already attested with the same content: stored once
    refused: int  # each in the receipt's report by row, field, reason and rule

    @classmethod
    def example(cls) -> AttestationBulkReceipt:
        return cls(
            organisation_name="CVO Leerrijk",
            receipt_number="ONT-00001042",
            filename="inschrijvingen-2026-2027.csv",
            received_on=date(2026, 10, 5),
            outcome="done",
            rows_total=1250,
            accepted=1231,
            held=4,
            unchanged=3,
            refused=12,
        )

    @classmethod
    def variants(cls) -> dict[str, EmailPersonalisation]:
        example = cls.example()
        return {
            "all_accepted": example.model_copy(update={"rows_total": 1250, "accepted": 1250, "held": 0, "unchanged": 0, "refused": 0}),
            "incomplete": example.model_copy(update={"outcome": "incomplete", "rows_total": 5000, "accepted": 4990, "held": 0, "unchanged": 0, "refused": 10}),
            "cut_off_before_any_row": example.model_copy(
                update={"outcome": "incomplete", "filename": None, "rows_total": 0, "accepted": 0, "held": 0, "unchanged": 0, "refused": 0}
            ),
        }


# ------------------------------------------------------------------------------- the registry

EMAILS: dict[tuple[str, int], type[EmailPersonalisation]] = {
    (model.template_id, model.version): model
    for model in (
        RightRequested,
        RightRequestDecided,
        ApplicationSubmitted,
        ApplicationInadmissible,
        InformationRequested,
        ApplicationDecided,
        TrainingStopped,
        NegativeEvaluation,
        ContactVerification,
        RecognitionApplicationConfirmed,
        RecognitionAdmissibility,
        RecognitionDecision,
        RecognitionReconsiderationOutcome,
        RecognitionInformationRequested,
        RecognitionEnded,
        RecognitionExpiryReminder,
        RecognitionSubcontractorEnded,
        AttestationBulkReceipt,
    )
}


def email_model(template_id: str, version: int) -> type[EmailPersonalisation] | None:
    return EMAILS.get((template_id, version))


def email_request(
    personalisation: EmailPersonalisation,
    *,
    to: Sequence[Recipient | dict[str, Any]],
    reference: str,
    idempotency_key: str,
    requested_by: str,
) -> NotificationRequestedV1:
    """The command that asks the notification service for this email."""
    return NotificationRequestedV1(
        template_id=personalisation.template_id,
        template_version=personalisation.version,
        recipients=[r if isinstance(r, Recipient) else Recipient.model_validate(r) for r in to],
        personalisation=personalisation.model_dump(mode="json"),
        reference=reference,
        idempotency_key=idempotency_key,
        requested_by=requested_by,
    )


__all__ = ["EMAILS", "EmailPersonalisation", "email_model", "email_request", *[m.__name__ for m in EMAILS.values()]]
