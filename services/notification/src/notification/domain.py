"""The notification service's rules, in plain Python (no I/O): the statuses of a notification,
what a request must look like (its template's contract), and the retry policy (what counts as an
attempt, how long to wait, when to give up).

A notification's life::

    created -> sending -> delivered                      (the server said 2xx)
                       -> permanent-failure              (the server said 5xx, or the address cannot be written)
                       -> temporary-failure -> sending   (4xx, a dropped connection, an unreachable server)
                       -> technical-failure              (attempts used up, given up by age, never confirmed)
    technical-failure at once when the request does not match its template's contract.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from service_runtime.errors import Invalid, NotFound, Violation
from wse_contracts.emails import EMAILS, EmailPersonalisation, email_model


class Status(enum.StrEnum):
    CREATED = "created"
    SENDING = "sending"
    DELIVERED = "delivered"
    TEMPORARY_FAILURE = "temporary-failure"
    PERMANENT_FAILURE = "permanent-failure"
    TECHNICAL_FAILURE = "technical-failure"

    @property
    def final(self) -> bool:
        """Nothing more happens to it (and its outcome event is published)."""
        return self in FINAL


# Not yet delivered or failed: the deliverer may claim these when they are due.
PENDING = (Status.CREATED, Status.TEMPORARY_FAILURE, Status.SENDING)
FINAL = frozenset({Status.DELIVERED, Status.PERMANENT_FAILURE, Status.TECHNICAL_FAILURE})


# ------------------------------------------------------------------------------- the contract of a request


class UnknownEmail(NotFound):
    """No template (or no such version of it): no retry helps."""

    def __init__(self, template_id: str, version: int) -> None:
        known = sorted(v for (t, v) in EMAILS if t == template_id)
        if known:
            reason = f"template {template_id} has no version {version} (known: {', '.join(f'v{v}' for v in known)})"
        else:
            reason = f"there is no template {template_id}"
        super().__init__(reason)
        self.template_id, self.version = template_id, version


class ContractError(Invalid):
    """The personalisation does not match the template's model (wse_contracts.emails): a field is
    missing, unknown or of the wrong type. The sender has to change; no retry helps."""

    def __init__(self, template_id: str, version: int, violations: list[Violation]) -> None:
        listed = "; ".join(f"{v.field}: {v.reason}" for v in violations)
        super().__init__(f"template {template_id} v{version}: the personalisation does not match its contract: {listed}", field=violations[0].field)
        self.violations = violations
        self.template_id, self.version = template_id, version


def _reason(error: Mapping[str, Any]) -> str:
    if error["type"] == "missing":
        return "missing"
    if error["type"] == "extra_forbidden":
        return "not a field of this template"
    return str(error["msg"])


def check_personalisation(template_id: str, version: int, personalisation: Any) -> EmailPersonalisation:
    """The personalisation as its template's model, or UnknownEmail / ContractError naming the field.

    It arrived as JSON, so it is judged as JSON, strictly: a date is an ISO string, a number is
    not a string of digits, a flag is true or false.
    """
    model = email_model(template_id, version)
    if model is None:
        raise UnknownEmail(template_id, version)
    try:
        return model.model_validate_json(json.dumps(personalisation), strict=True)
    except ValidationError as error:
        violations = [Violation(".".join(["personalisation", *map(str, e["loc"])]), _reason(e)) for e in error.errors()]
        raise ContractError(template_id, version, violations) from None
    except (TypeError, ValueError):  # not JSON at all (cannot happen for a request that came over Kafka)
        raise ContractError(template_id, version, [Violation("personalisation", "not a JSON object")]) from None


# ------------------------------------------------------------------------------- retrying


class Answer(enum.Enum):
    """What became of one try to send an email."""

    ACCEPTED = "accepted"  # the server said 2xx
    REFUSED = "refused"  # 5xx, or an address that cannot be written: for good
    DEFERRED = "deferred"  # 4xx, a dropped connection, a timeout during the conversation
    UNREACHABLE = "unreachable"  # no conversation about this email at all (down, or our session refused)
    NOT_SENT = "not-sent"  # this service did not try (the email could not be written, ...)


@dataclass(frozen=True, slots=True)
class Step:
    """What to record after a try: the new status, the answer to keep, when to try again, and
    how many attempts the notification has used."""

    status: Status
    answer: str
    next_attempt_at: datetime | None
    attempts: int


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 8
    backoff_initial: float = 2.0  # seconds
    backoff_max: float = 600.0  # seconds
    # While the server cannot be reached an email waits; after this long it is given up.
    give_up_after: timedelta = timedelta(hours=72)

    def backoff(self, attempt: int) -> timedelta:
        """After the n-th attempt: initial, 2x, 4x, ... capped."""
        return timedelta(seconds=min(self.backoff_initial * 2 ** max(attempt - 1, 0), self.backoff_max))

    def lost_too_often(self, *, previous_status: Status, attempts: int) -> bool:
        """Claimed again after its lease ran out, more often than it may be tried: a process dies
        on it each time (or on its batch). Stop instead of sending it forever."""
        return previous_status == Status.SENDING and attempts > self.max_attempts

    def after(self, answer: Answer, detail: str, *, attempts: int, created_at: datetime, now: datetime) -> Step:
        """The step after the `attempts`-th try (counted when it was claimed) was answered so."""
        if answer is Answer.ACCEPTED:
            return Step(Status.DELIVERED, detail, None, attempts)
        if answer is Answer.NOT_SENT:
            return Step(Status.TECHNICAL_FAILURE, detail, None, attempts)
        if answer is Answer.REFUSED:
            return Step(Status.PERMANENT_FAILURE, detail, None, attempts)
        if answer is Answer.UNREACHABLE:
            # Not the email's fault: it does not count as an attempt. It waits longer the older it
            # is, and is given up by age, not by attempts.
            attempts -= 1
            age = now - created_at
            if age >= self.give_up_after:
                return Step(Status.TECHNICAL_FAILURE, f"gave up after {age} without reaching the server: {detail}", None, attempts)
            wait = min(self.backoff_max, max(self.backoff_initial, age.total_seconds() / 4))
            return Step(Status.TEMPORARY_FAILURE, detail, now + timedelta(seconds=wait), attempts)
        if attempts >= self.max_attempts:
            return Step(Status.TECHNICAL_FAILURE, f"gave up after {attempts} attempts: {detail}", None, attempts)
        return Step(Status.TEMPORARY_FAILURE, detail, now + self.backoff(attempts), attempts)
