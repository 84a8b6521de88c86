"""The one family of domain errors every service raises, and `run_use_case` maps to HTTP.

A use case says no by raising one of these; it never builds an HTTP answer itself:

- `Forbidden`: the actor may not do this (403; the refusal is written to the audit log, ID-12);
- `NotFound`: no such thing for this actor (404);
- `Conflict`: the thing is not in a state that allows this (409);
- `Invalid`: input that breaks a rule (422), with every `Violation` at once, each naming the
  field, the reason and, where a rule of domain.md refused, its ID.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Violation:
    """One field that breaks a rule: `field` is a dotted path into the request ("sections.training.hours")."""

    field: str
    reason: str
    rule: str | None = None


class DomainError(Exception):
    """A rule said no. `rule` is the ID of the rule in domain.md that refused, where there is one."""

    def __init__(self, reason: str, *, rule: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.rule = rule


class Forbidden(DomainError):
    """The actor may not do this; the attempt is audited, about `organisation_id` (the organisation
    whose dossier it was) when the refusing rule knows it, else about the one the actor acts for."""

    def __init__(self, reason: str, *, rule: str | None = None, organisation_id: UUID | None = None, answer_not_found: bool = False) -> None:
        super().__init__(reason, rule=rule)
        self.organisation_id = organisation_id
        # Where even the existence of the thing is not the actor's to know (another provider's
        # attestations): audited as a denial, answered as 404 "not found".
        self.answer_not_found = answer_not_found


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    """The thing is not in a state that allows this (a submitted draft cannot be edited, ...)."""


class Invalid(DomainError):
    """Input that breaks a rule: every violation at once, so the caller fixes them in one go.

    `Invalid("must not be before valid_from", field="valid_until", rule="ID-14")` for one field,
    `Invalid.of(violations)` for several.
    """

    def __init__(self, reason: str, *, field: str = "body", rule: str | None = None) -> None:
        super().__init__(reason, rule=rule)
        self.violations: list[Violation] = [Violation(field, reason, rule)]

    @classmethod
    def of(cls, violations: Iterable[Violation]) -> Invalid:
        found = list(violations)
        if not found:
            raise ValueError("Invalid needs at least one violation")
        error = cls(found[0].reason, field=found[0].field, rule=found[0].rule)
        error.violations = found
        error.args = ("; ".join(f"{v.field}: {v.reason}" for v in found),)
        return error


def raise_if_any(violations: Iterable[Violation]) -> None:
    """Collect-then-refuse: the usual end of a validation that gathers every problem."""
    found = list(violations)
    if found:
        raise Invalid.of(found)
