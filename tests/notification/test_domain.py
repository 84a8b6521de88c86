"""The notification service's rules without Kafka, PostgreSQL or SMTP: the statuses, the retry
policy (what counts as an attempt, the backoff, giving up) and the email contracts (a request's
personalisation checked against its template's model)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from notification.domain import FINAL, PENDING, Answer, ContractError, RetryPolicy, Status, UnknownEmail, check_personalisation
from wse_contracts.emails import (
    EMAILS,
    ApplicationDecided,
    ApplicationSubmitted,
    ContactVerification,
    EmailPersonalisation,
    RecognitionDecision,
    RightRequested,
    email_request,
)

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
POLICY = RetryPolicy(max_attempts=4, backoff_initial=2.0, backoff_max=60.0, give_up_after=timedelta(hours=72))


def _json(personalisation: EmailPersonalisation) -> dict[str, Any]:
    return personalisation.model_dump(mode="json")


# ------------------------------------------------------------------------------- which emails exist (N-1..N-4, ID-8)


@pytest.mark.parametrize(
    ("rule", "template_ids"),
    [
        (
            "N-1",
            {
                "registration.application_submitted",
                "registration.information_requested",
                "registration.application_decided",
                "registration.training_stopped",
            },
        ),
        ("N-2", {"identity.right_requested", "identity.right_request_decided"}),
        ("N-3", {"recognition.application_confirmed", "recognition.admissibility", "recognition.decision", "recognition.reconsideration_outcome"}),
        ("N-4", {"registration.contact_verification"}),
    ],
)
def test_n1_to_n4_every_email_the_rules_name_has_a_model(rule, template_ids):
    assert template_ids <= {template_id for template_id, _ in EMAILS}, rule


MODELS = sorted(EMAILS.values(), key=lambda model: model.template_id)


@pytest.mark.parametrize("model", MODELS, ids=[model.template_id for model in MODELS])
def test_every_example_and_variant_passes_its_own_contract(model: type[EmailPersonalisation]) -> None:
    # What a sender sends is email_request(model).personalisation: the service must accept exactly that.
    for example in [model.example(), *model.variants().values()]:
        assert type(example) is model
        request = email_request(example, to=[{"email": "contact@example.org"}], reference="r", idempotency_key="k", requested_by="tests")
        assert (request.template_id, request.template_version) == (model.template_id, model.version)
        assert check_personalisation(request.template_id, request.template_version, request.personalisation) == example


# ------------------------------------------------------------------------------- the email contracts


def test_a_missing_field_is_a_contract_error_naming_the_template_and_the_field():
    sent = _json(ApplicationSubmitted.example())
    del sent["training_name"]
    with pytest.raises(ContractError) as raised:
        check_personalisation("registration.application_submitted", 1, sent)
    assert [(v.field, v.reason) for v in raised.value.violations] == [("personalisation.training_name", "missing")]
    assert "registration.application_submitted" in str(raised.value) and "personalisation.training_name" in str(raised.value)


def test_an_unknown_field_is_refused_not_dropped():
    sent = _json(RightRequested.example()) | {"requestor_name": "An Peeters"}
    with pytest.raises(ContractError) as raised:
        check_personalisation("identity.right_requested", 1, sent)
    assert [v.field for v in raised.value.violations] == ["personalisation.requestor_name"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("dossier_number", "1042"),  # a number, not a string of digits
        ("decision_due_on", "15/04/2027"),  # an ISO date
        ("held_for_quality_registration", "yes"),
        ("training_name", {"nl": "Boekhouden"}),
        ("training_name", None),  # required and not nullable
    ],
)
def test_a_value_of_the_wrong_type_is_refused(field, value):
    sent = _json(ApplicationSubmitted.example()) | {field: value}
    with pytest.raises(ContractError) as raised:
        check_personalisation("registration.application_submitted", 1, sent)
    assert [v.field for v in raised.value.violations] == [f"personalisation.{field}"]


def test_every_problem_is_named_at_once():
    sent = _json(ApplicationDecided.example()) | {"outcome": "maybe", "extra": 1}
    del sent["odb_number"]
    with pytest.raises(ContractError) as raised:
        check_personalisation("registration.application_decided", 1, sent)
    assert {v.field for v in raised.value.violations} == {"personalisation.outcome", "personalisation.odb_number", "personalisation.extra"}


def test_optional_fields_may_be_left_out_and_nullable_ones_may_be_null():
    assert check_personalisation("recognition.decision", 1, {"dossier_number": "ERK-1", "organisation_name": "Werkkracht vzw", "outcome": "approved"})
    assert isinstance(check_personalisation("recognition.decision", 1, _json(RecognitionDecision.example())), RecognitionDecision)
    assert check_personalisation("registration.contact_verification", 1, _json(ContactVerification.example()) | {"contact_name": None})


def test_an_unknown_template_or_version_is_refused_with_the_versions_known():
    with pytest.raises(UnknownEmail, match="there is no template registration.no_such_email"):
        check_personalisation("registration.no_such_email", 1, {})
    with pytest.raises(UnknownEmail, match=r"has no version 7 \(known: v1\)"):
        check_personalisation("registration.application_submitted", 7, _json(ApplicationSubmitted.example()))


# ------------------------------------------------------------------------------- statuses


def test_statuses_are_pending_or_final_never_both():
    assert set(PENDING) | FINAL == set(Status) and not set(PENDING) & FINAL
    assert [s for s in Status if s.final] == [Status.DELIVERED, Status.PERMANENT_FAILURE, Status.TECHNICAL_FAILURE]
    assert Status.TEMPORARY_FAILURE == "temporary-failure"  # the word stored in the table and shown in the back office


# ------------------------------------------------------------------------------- the retry policy


def test_backoff_doubles_from_the_initial_wait_and_is_capped():
    assert [POLICY.backoff(n).total_seconds() for n in range(1, 8)] == [2, 4, 8, 16, 32, 60, 60]
    assert POLICY.backoff(0) == timedelta(seconds=2)


def test_a_temporary_refusal_is_retried_after_the_backoff():
    step = POLICY.after(Answer.DEFERRED, "451 try later", attempts=2, created_at=NOW, now=NOW)
    assert step.status == Status.TEMPORARY_FAILURE and step.attempts == 2
    assert step.next_attempt_at == NOW + timedelta(seconds=4) and step.answer == "451 try later"


def test_temporary_refusals_use_up_the_attempts_then_it_is_given_up():
    step = POLICY.after(Answer.DEFERRED, "451 try later", attempts=4, created_at=NOW, now=NOW)
    assert step.status == Status.TECHNICAL_FAILURE and step.next_attempt_at is None
    assert step.answer == "gave up after 4 attempts: 451 try later"


def test_a_permanent_refusal_is_final_at_the_first_attempt():
    step = POLICY.after(Answer.REFUSED, "550 no such user", attempts=1, created_at=NOW, now=NOW)
    assert (step.status, step.next_attempt_at, step.attempts) == (Status.PERMANENT_FAILURE, None, 1)


def test_delivered_is_final_and_keeps_the_server_answer():
    step = POLICY.after(Answer.ACCEPTED, "250 OK queued", attempts=3, created_at=NOW, now=NOW)
    assert (step.status, step.answer, step.next_attempt_at, step.attempts) == (Status.DELIVERED, "250 OK queued", None, 3)


def test_an_unreachable_server_is_not_an_attempt_and_the_wait_grows_with_age():
    young = POLICY.after(Answer.UNREACHABLE, "Connection refused", attempts=1, created_at=NOW - timedelta(seconds=1), now=NOW)
    assert young.status == Status.TEMPORARY_FAILURE and young.attempts == 0  # not the email's fault
    assert young.next_attempt_at == NOW + timedelta(seconds=2)  # at least the initial wait
    older = POLICY.after(Answer.UNREACHABLE, "Connection refused", attempts=1, created_at=NOW - timedelta(seconds=100), now=NOW)
    assert older.next_attempt_at == NOW + timedelta(seconds=25)  # a quarter of its age
    old = POLICY.after(Answer.UNREACHABLE, "Connection refused", attempts=1, created_at=NOW - timedelta(hours=5), now=NOW)
    assert old.next_attempt_at == NOW + timedelta(seconds=60)  # capped


def test_an_unreachable_server_outlasting_the_attempt_bound_still_waits():
    step = POLICY.after(Answer.UNREACHABLE, "Connection refused", attempts=POLICY.max_attempts + 1, created_at=NOW - timedelta(hours=1), now=NOW)
    assert step.status == Status.TEMPORARY_FAILURE


def test_an_unreachable_server_is_given_up_after_the_hours_allowed():
    step = POLICY.after(Answer.UNREACHABLE, "Connection refused", attempts=1, created_at=NOW - timedelta(hours=72), now=NOW)
    assert step.status == Status.TECHNICAL_FAILURE and step.next_attempt_at is None
    assert step.answer.startswith("gave up after 3 days") and "without reaching the server: Connection refused" in step.answer
    assert POLICY.after(Answer.UNREACHABLE, "x", attempts=1, created_at=NOW - timedelta(hours=71), now=NOW).status == Status.TEMPORARY_FAILURE


def test_an_email_that_was_not_sent_fails_technically_with_the_reason():
    step = POLICY.after(Answer.NOT_SENT, "the email could not be written: ValueError: x", attempts=1, created_at=NOW, now=NOW)
    assert step.status == Status.TECHNICAL_FAILURE and step.answer.startswith("the email could not be written")


def test_a_notification_lost_by_crashes_again_and_again_is_given_up():
    assert not POLICY.lost_too_often(previous_status=Status.SENDING, attempts=POLICY.max_attempts)
    assert POLICY.lost_too_often(previous_status=Status.SENDING, attempts=POLICY.max_attempts + 1)
    # Only a claim after a lapsed lease counts here: a retry after a refusal is decided by its answer.
    assert not POLICY.lost_too_often(previous_status=Status.TEMPORARY_FAILURE, attempts=POLICY.max_attempts + 1)
