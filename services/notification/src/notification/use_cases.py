"""The notification service's use cases, apart from delivery (delivery.py): accept requests (check
them against their template's contract and render them, or fail them with the reason), and the
back office's reads (the delivery log, the templates, a preview)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import structlog

from notification import queries, templates
from notification.domain import ContractError, Status, UnknownEmail, check_personalisation
from service_runtime import paging, tracing
from service_runtime.errors import Invalid, NotFound
from wse_contracts.notification import NotificationRequestedV1

log = structlog.get_logger(__name__)


# ------------------------------------------------------------------------------- accepting requests


@dataclass(frozen=True, slots=True)
class Accepted:
    request: NotificationRequestedV1
    correlation_id: str | None = None
    # The trace the email continues when tracing is on (the span that accepted the request).
    traceparent: str | None = None


def _rendered(request: NotificationRequestedV1) -> tuple[templates.Rendered | None, str | None]:
    """The request's email, or why it cannot be written (no retry helps with either reason)."""
    try:
        check_personalisation(request.template_id, request.template_version, request.personalisation)
        return templates.render(request.template_id, request.template_version, request.personalisation), None
    except (UnknownEmail, ContractError, templates.TemplateError) as error:
        return None, str(error)


async def accept_requests(connection: asyncpg.Connection, *, requests: list[Accepted], now: datetime) -> list[UUID]:
    """One notification per request and recipient, due at once, in one statement. The same request
    again (same requesting service, idempotency key and recipient) creates nothing. A request that
    breaks its template's contract, or cannot be rendered, fails with the reason: no half-empty
    email goes out."""
    columns: dict[str, list[Any]] = {name: [] for name in queries.ACCEPT_COLUMNS}
    for accepted in requests:
        request = accepted.request
        rendered, failure = _rendered(request)  # checked once, here: a retry of the delivery sends what was rendered
        for recipient in request.recipients:
            for name, value in (
                ("notification_id", uuid.uuid4()),
                ("requested_by", request.requested_by),
                ("idempotency_key", request.idempotency_key),
                ("reference", request.reference),
                ("template_id", request.template_id),
                ("template_version", request.template_version),
                ("recipient_email", str(recipient.email)),
                ("recipient_name", recipient.name),
                ("personalisation", request.personalisation),
                ("subject", rendered.subject if rendered else None),
                ("body_text", rendered.text if rendered else None),
                ("body_html", rendered.html if rendered else None),
                ("status", Status.CREATED if rendered else Status.TECHNICAL_FAILURE),
                ("last_answer", failure),
                ("correlation_id", accepted.correlation_id),
                ("traceparent", accepted.traceparent),
            ):
                columns[name].append(value)
    if not columns["notification_id"]:
        return []
    rows = await connection.fetch(queries.ACCEPT, *columns.values(), now)
    failed = [row for row in rows if row["status"] == Status.TECHNICAL_FAILURE]
    if len(failed) < len(rows):
        await connection.execute("SELECT pg_notify($1, '')", queries.DUE_CHANNEL)  # delivered at commit: wakes the deliverers
    await queries.log_statuses(
        connection,
        ids=[row["notification_id"] for row in rows] + [row["notification_id"] for row in failed],
        statuses=[Status.CREATED] * len(rows) + [Status.TECHNICAL_FAILURE] * len(failed),
        details=[None] * len(rows) + [row["last_answer"] for row in failed],
        at=now,
    )
    if failed:
        await queries.publish_outcomes(connection, [(row, Status.TECHNICAL_FAILURE, row["last_answer"]) for row in failed], at=now)
        for row in failed:
            queries.OUTCOMES.labels(Status.TECHNICAL_FAILURE).inc()
            log.warning("notification not rendered", notification_id=str(row["notification_id"]), template_id=row["template_id"], reason=row["last_answer"])
    return [row["notification_id"] for row in rows]


async def accept_request(connection: asyncpg.Connection, *, request: NotificationRequestedV1, now: datetime) -> list[UUID]:
    return await accept_requests(connection, requests=[Accepted(request, traceparent=tracing.current_trace_context()[0])], now=now)


# ------------------------------------------------------------------------------- the back office


async def notifications(
    connection: asyncpg.Connection, *, reference: str | None, recipient: str | None, status: Status | None, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Did the contact person get it? Newest first, a page at a time."""
    after = paging.decode_cursor(cursor, (paging.MOMENT, paging.UUID_)) or (None, None)
    rows = await connection.fetch(queries.NOTIFICATIONS, reference, recipient, status, limit + 1, *after)
    return paging.page([dict(r) for r in rows], limit, lambda r: (r["created_at"], r["notification_id"]))


async def notification(connection: asyncpg.Connection, *, notification_id: UUID) -> dict[str, Any]:
    """One notification with its rendered subject and parts, and its delivery log."""
    row = await connection.fetchrow(queries.NOTIFICATION, notification_id)
    if row is None:
        raise NotFound("no such notification")
    return dict(row) | {"log": [dict(r) for r in await connection.fetch(queries.LOG_OF, notification_id)]}


def template_list(*, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """Every template version with the personalisation it needs (from its model) and an example,
    by id and version, a page at a time."""
    after = paging.decode_cursor(cursor, (paging.TEXT, paging.INTEGER))
    listed = sorted(templates.catalogue(), key=lambda t: (t.template_id, t.version))
    rows = [
        {
            "template_id": t.template_id,
            "version": t.version,
            "description": t.description,
            "required": sorted(t.required),
            "optional": sorted(t.optional),
            "example": dict(t.example),
        }
        for t in listed
        if after is None or (t.template_id, t.version) > after
    ]
    return paging.page(rows[: limit + 1], limit, lambda r: (r["template_id"], r["version"]))


def preview(*, template_id: str, version: int, personalisation: dict[str, Any]) -> templates.Rendered:
    """The template rendered with this personalisation, checked against its model as a request is."""
    check_personalisation(template_id, version, personalisation)  # UnknownEmail (404), ContractError (422 per field)
    try:
        return templates.render(template_id, version, personalisation)
    except templates.TemplateError as error:
        raise Invalid(str(error), field="personalisation") from None
