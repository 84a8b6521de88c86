"""The HTTP side every service shares: problem+json errors, correlation ids, deny-by-default
access rules, health and metrics."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import structlog
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException, ValidationException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from service_runtime.clock import local_today
from service_runtime.auth import InvalidToken, Principal, holds_right, record_access_decision
from service_runtime.logging import correlation_id_var

log = structlog.get_logger(__name__)

PROBLEM_JSON = "application/problem+json"
CORRELATION_HEADER = "x-correlation-id"
_SAFE_CORRELATION_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


# ---------------------------------------------------------------- errors as RFC 9457 problems


@dataclass(frozen=True, slots=True)
class FieldProblem:
    field: str
    reason: str


class Problem(Exception):
    """An error a client can act on. Domain errors are mapped to it by the entry point."""

    def __init__(
        self, status: int, title: str, detail: str | None = None, *, errors: list[FieldProblem] | None = None, type: str = "about:blank"
    ) -> None:
        super().__init__(detail or title)
        self.status, self.title, self.detail, self.errors, self.type = status, title, detail, errors or [], type


def problem_response(
    status: int, title: str, detail: str | None = None, *, errors: list[FieldProblem] | None = None, type: str = "about:blank", instance: str | None = None
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {"type": type, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = [{"field": e.field, "reason": e.reason} for e in errors]
    if correlation_id := correlation_id_var.get():
        body["correlation_id"] = correlation_id
    return Response(body, status_code=status, media_type=PROBLEM_JSON)


def _field_name(key: str | None) -> str:
    # Litestar names body fields like "valid_until" or "body.valid_until" depending on source.
    return (key or "body").removeprefix("body.")


def _on_validation_error(request: Request, exc: ValidationException) -> Response:
    errors = []
    for item in exc.extra or []:
        if isinstance(item, dict):
            errors.append(FieldProblem(_field_name(item.get("key")), str(item.get("message", "invalid"))))
    return problem_response(422, "The request is not valid", "Correct the fields listed in errors.", errors=errors, instance=request.url.path)


def _on_problem(request: Request, exc: Problem) -> Response:
    return problem_response(exc.status, exc.title, exc.detail, errors=exc.errors, type=exc.type, instance=request.url.path)


def _on_http_exception(request: Request, exc: HTTPException) -> Response:
    return problem_response(exc.status_code, exc.detail or "Error", instance=request.url.path)


def _on_unstorable_text(request: Request, exc: Exception) -> Response:
    # A NUL character in a query or path parameter: PostgreSQL cannot hold it. Bodies are
    # refused earlier, field by field (StrictModel).
    return problem_response(422, "The request is not valid", "Text must not contain a NUL character.", instance=request.url.path)


def _on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", path=request.url.path)
    return problem_response(500, "Internal error", "The error was logged with this request's correlation id.", instance=request.url.path)


EXCEPTION_HANDLERS = {
    ValidationException: _on_validation_error,
    Problem: _on_problem,
    HTTPException: _on_http_exception,
    asyncpg.exceptions.CharacterNotInRepertoireError: _on_unstorable_text,
    asyncpg.exceptions.UntranslatableCharacterError: _on_unstorable_text,
    Exception: _on_unexpected,
}


# ---------------------------------------------------------------- correlation ids


class CorrelationIdMiddleware:
    """Takes the caller's X-Correlation-ID (or makes one), binds it to the logs of this request
    and to every event the request writes, and returns it on the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((v.decode() for k, v in scope["headers"] if k == CORRELATION_HEADER.encode()), None)
        correlation_id = incoming if incoming and _SAFE_CORRELATION_ID.match(incoming) else str(uuid.uuid4())
        token = correlation_id_var.set(correlation_id)

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (CORRELATION_HEADER.encode(), correlation_id.encode())]
            await send(message)

        try:
            with structlog.contextvars.bound_contextvars(correlation_id=correlation_id):
                await self.app(scope, receive, send_with_header)
        finally:
            correlation_id_var.reset(token)


# ---------------------------------------------------------------- access rules (deny by default)


class AccessRule:
    """What a route needs. A route without one cannot be reached."""


@dataclass(frozen=True)
class Public(AccessRule):
    """Anyone, without signing in (health, the public register, who is my administrator)."""


@dataclass(frozen=True)
class SignedIn(AccessRule):
    """Any person with a valid platform token; the handler decides the rest."""


@dataclass(frozen=True)
class RightRequired(AccessRule):
    """role@context for the organisation the token acts for, valid today (ID-6, ID-14)."""

    role: str
    context: str


def access(rule: AccessRule) -> dict[str, Any]:
    """`opt=access(RightRequired(...))` on a route handler."""
    return {"access": rule}


async def _principal(connection: ASGIConnection) -> Principal:
    runtime = connection.app.state.runtime
    authorization = connection.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise NotAuthorizedException("A platform token is required (Authorization: Bearer ...).")
    try:
        return await runtime.token_verifier.verify(token)
    except InvalidToken as error:
        raise NotAuthorizedException(f"The token is not valid: {error}") from error


async def access_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    rule = handler.opt.get("access")
    if isinstance(rule, Public):
        return
    if not isinstance(rule, AccessRule):
        # Deny by default: forgetting to declare who may call a route must not open it.
        log.error("route has no access rule, denied", route=str(handler))
        raise PermissionDeniedException("This route declares no access rule.")
    principal = await _principal(connection)
    connection.state.principal = principal
    if isinstance(rule, SignedIn):
        return
    if isinstance(rule, RightRequired):
        runtime = connection.app.state.runtime
        action = f"{connection.scope['method']} {connection.scope['path']}"
        async with runtime.pool.acquire() as db:
            if principal.organisation_id is None:
                allowed, reason = False, "token acts for no organisation"
            else:
                allowed = await holds_right(
                    db,
                    person_id=principal.person_id,
                    organisation_id=principal.organisation_id,
                    role=rule.role,
                    context=rule.context,
                    on=local_today(runtime.clock),
                )
                reason = f"{'holds' if allowed else 'lacks'} {rule.role}@{rule.context}"
            if not allowed:
                await record_access_decision(
                    db, principal=principal, organisation_id=principal.organisation_id, action=action, allowed=False, reason=reason
                )
        if not allowed:
            raise PermissionDeniedException(f"You need the right {rule.role} in context {rule.context} for this organisation.")
        return
    raise PermissionDeniedException("Unknown access rule.")
