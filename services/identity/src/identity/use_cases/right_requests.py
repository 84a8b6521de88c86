"""Right requests (ID-8): a member asks, the organisation's administrators are emailed, one of
them approves (the right is granted from that day) or refuses with a reason, and the member is
emailed either way."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg

from identity import domain, queries
from identity.domain import RequestStatus
from identity.use_cases.authority import require_administrator
from identity.use_cases.rights import grant
from service_runtime import paging
from service_runtime.audit import record_audit
from service_runtime.auth import Actor
from service_runtime.errors import Conflict, NotFound
from service_runtime.outbox import publish_event
from wse_contracts.emails import RightRequestDecided, RightRequested, email_request
from wse_contracts.identity import RightRequestDecidedV1, RightRequestedV1
from wse_contracts.notification import Recipient

REQUESTED_BY = "identity"
# Why a request ended without an administrator's decision, when its requester withdrew it.
WITHDRAWN = "withdrawn by the requester"


async def request_right(connection: asyncpg.Connection, *, actor: Actor, organisation_id: UUID, role: str, context: str, reason: str) -> dict[str, Any]:
    """ID-8: a member asks for a right; the organisation's local administrators are emailed."""
    domain.ensure_acting_for(actor, organisation_id)
    domain.ensure_member(await queries.membership_role(connection, organisation_id, actor.person_id))
    organisation = await queries.organisation(connection, organisation_id, lock=True)
    entry = await queries.catalogue_entry(connection, context, role)
    domain.ensure_grantable(department_only=entry["department_only"], organisation_kind=organisation["kind"], context=context, role=role)
    domain.check_reason(reason, explanation="say why you need the right")
    if await queries.holds_right(connection, person_id=actor.person_id, organisation_id=organisation_id, role=role, context=context, on=actor.today):
        raise Conflict("You already hold this right.", rule="ID-8")
    request_id = uuid.uuid4()
    try:
        async with connection.transaction():
            await connection.execute(
                "INSERT INTO right_requests (request_id, organisation_id, person_id, context, role, reason) VALUES ($1, $2, $3, $4, $5, $6)",
                request_id,
                organisation_id,
                actor.person_id,
                context,
                role,
                reason,
            )
    except asyncpg.UniqueViolationError:
        raise Conflict("You already asked for this right; your request is waiting for a decision.", rule="ID-8") from None
    requester = await queries.person(connection, actor.person_id)
    await publish_event(
        connection,
        RightRequestedV1(request_id=request_id, person_id=actor.person_id, organisation_id=organisation_id, role=role, context=context, reason=reason),
    )
    recipients = await queries.administrator_recipients(connection, organisation_id)
    if recipients:
        email = RightRequested(
            organisation_name=organisation["name"],
            requester_name=queries.full_name(requester),
            right_description=entry["description"],
            reason=reason,
            request_id=request_id,
        )
        await publish_event(
            connection,
            email_request(
                email,
                to=recipients,
                reference=f"right-request/{request_id}",
                idempotency_key=f"right-request/{request_id}/requested",
                requested_by=REQUESTED_BY,
            ),
        )
    await record_audit(
        connection,
        actor_id=actor.person_id,
        acting_for=actor.acting_for,
        action="right.requested",
        organisation_id=organisation_id,
        subject=str(actor.person_id),
        details={"request_id": str(request_id), "role": role, "context": context},
    )
    return {"request_id": request_id, "status": RequestStatus.PENDING, "role": role, "context": context}


async def right_requests(
    connection: asyncpg.Connection, *, actor: Actor, organisation_id: UUID, status: RequestStatus | None, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """The organisation's right requests, oldest first: the order in which they wait."""
    await require_administrator(connection, actor, organisation_id)
    after = paging.decode_cursor(cursor, (paging.MOMENT, paging.UUID_))
    rows = await connection.fetch(
        """
        SELECT q.request_id, q.person_id, p.first_name, p.last_name, q.context, q.role, q.reason, q.status, q.requested_at,
               q.decided_at, q.decision_reason
        FROM right_requests q JOIN persons p USING (person_id)
        WHERE q.organisation_id = $1 AND ($2::text IS NULL OR q.status = $2)
          AND ($3::timestamptz IS NULL OR (q.requested_at, q.request_id) > ($3, $4::uuid))
        ORDER BY q.requested_at, q.request_id LIMIT $5
        """,
        organisation_id,
        status,
        *(after or (None, None)),
        limit + 1,
    )
    items, next_cursor = paging.page(rows, limit, lambda r: (r["requested_at"], r["request_id"]))
    return [dict(r) for r in items], next_cursor


_MINE = """
    SELECT q.request_id, q.organisation_id, o.name AS organisation_name, q.context, q.role, q.reason, q.status, q.requested_at,
           q.decided_at, q.decision_reason
    FROM right_requests q JOIN organisations o USING (organisation_id)
"""


async def my_right_requests(
    connection: asyncpg.Connection, *, actor: Actor, status: RequestStatus | None, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """A person's own right requests in every organisation, newest first."""
    after = paging.decode_cursor(cursor, (paging.MOMENT, paging.UUID_))
    rows = await connection.fetch(
        _MINE
        + """
        WHERE q.person_id = $1 AND ($2::text IS NULL OR q.status = $2)
          AND ($3::timestamptz IS NULL OR (q.requested_at, q.request_id) < ($3, $4::uuid))
        ORDER BY q.requested_at DESC, q.request_id DESC LIMIT $5
        """,
        actor.person_id,
        status,
        *(after or (None, None)),
        limit + 1,
    )
    items, next_cursor = paging.page(rows, limit, lambda r: (r["requested_at"], r["request_id"]))
    return [dict(r) for r in items], next_cursor


async def withdraw_right_request(connection: asyncpg.Connection, *, actor: Actor, request_id: UUID) -> dict[str, Any]:
    """ID-8: the requester withdraws their own pending request: it ends as cancelled, with an
    event (the administrators' lists and any consumer see it end) and an audit entry. Someone
    else's request is not found: whose requests exist is not the caller's to learn."""
    request = await connection.fetchrow("SELECT organisation_id FROM right_requests WHERE request_id = $1 AND person_id = $2", request_id, actor.person_id)
    if request is None:
        raise NotFound("You have no right request with this id.")
    organisation_id = request["organisation_id"]
    await queries.organisation(connection, organisation_id, lock=True)  # the organisation's events leave in order
    request = await connection.fetchrow("SELECT * FROM right_requests WHERE request_id = $1 FOR UPDATE", request_id)
    domain.ensure_pending(request["status"])
    await connection.execute(
        "UPDATE right_requests SET status = $2, decided_by = $3, decided_at = now(), decision_reason = $4 WHERE request_id = $1",
        request_id,
        RequestStatus.CANCELLED,
        actor.person_id,
        WITHDRAWN,
    )
    await publish_event(
        connection,
        RightRequestDecidedV1(
            request_id=request_id,
            person_id=actor.person_id,
            organisation_id=organisation_id,
            role=request["role"],
            context=request["context"],
            outcome=RequestStatus.CANCELLED,
            reason=WITHDRAWN,
            decided_by=actor.person_id,
        ),
    )
    await record_audit(
        connection,
        actor_id=actor.person_id,
        acting_for=actor.acting_for,
        action="right_request.withdrawn",
        organisation_id=organisation_id,
        subject=str(actor.person_id),
        details={"request_id": str(request_id), "role": request["role"], "context": request["context"]},
    )
    return dict(await connection.fetchrow(_MINE + " WHERE q.request_id = $1", request_id))


async def decide_right_request(
    connection: asyncpg.Connection,
    *,
    actor: Actor,
    organisation_id: UUID,
    request_id: UUID,
    approve: bool,
    reason: str | None,
    valid_until: date | None = None,
) -> dict[str, Any]:
    """An administrator approves (the right is granted from the actor's today) or refuses (with
    a reason); the requester is emailed either way."""
    await require_administrator(connection, actor, organisation_id)
    organisation = await queries.organisation(connection, organisation_id, lock=True)
    request = await connection.fetchrow("SELECT * FROM right_requests WHERE request_id = $1 AND organisation_id = $2 FOR UPDATE", request_id, organisation_id)
    if request is None:
        raise NotFound("No right request with this id in this organisation.")
    domain.ensure_pending(request["status"])
    if not approve:
        domain.check_reason(reason, explanation="say why the request is refused")
    right_id = None
    if approve:
        granted = await grant(
            connection,
            actor=actor,
            organisation_id=organisation_id,
            person_id=request["person_id"],
            role=request["role"],
            context=request["context"],
            valid_from=actor.today,
            valid_until=valid_until,
            fulfilling_request=request_id,
        )
        right_id = UUID(granted["right_id"])
    outcome = RequestStatus.APPROVED if approve else RequestStatus.REFUSED
    await connection.execute(
        "UPDATE right_requests SET status = $2, decided_by = $3, decided_at = now(), decision_reason = $4 WHERE request_id = $1",
        request_id,
        outcome,
        actor.person_id,
        reason,
    )
    await publish_event(
        connection,
        RightRequestDecidedV1(
            request_id=request_id,
            person_id=request["person_id"],
            organisation_id=organisation_id,
            role=request["role"],
            context=request["context"],
            outcome=outcome,
            reason=reason,
            decided_by=actor.person_id,
            right_id=right_id,
        ),
    )
    requester = await queries.person(connection, request["person_id"])
    entry = await queries.catalogue_entry(connection, request["context"], request["role"])
    email = RightRequestDecided(
        organisation_name=organisation["name"],
        requester_name=queries.full_name(requester),
        right_description=entry["description"],
        outcome=outcome,
        reason=reason or "",
    )
    await publish_event(
        connection,
        email_request(
            email,
            to=[Recipient(email=requester["email"], name=queries.full_name(requester))],
            reference=f"right-request/{request_id}",
            idempotency_key=f"right-request/{request_id}/decided",
            requested_by=REQUESTED_BY,
        ),
    )
    await record_audit(
        connection,
        actor_id=actor.person_id,
        acting_for=actor.acting_for,
        action=f"right_request.{outcome}",
        organisation_id=organisation_id,
        subject=str(request["person_id"]),
        details={"request_id": str(request_id), "reason": reason},
    )
    return {"request_id": request_id, "status": outcome, "right_id": right_id}
