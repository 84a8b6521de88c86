"""The HTTP side every service shares: problem+json errors, correlation ids, deny-by-default
access rules, health and metrics."""

from __future__ import annotations

import itertools
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

import asyncpg
import structlog
from prometheus_client import Counter, Gauge, Histogram
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
_SAFE_CORRELATION_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


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


# ---------------------------------------------------------------- correlation ids and metrics

# Correlation ids made here: a random prefix per process and a counter. Unique across processes
# and cheap (a uuid4 per request was 2 % of a rights check); they are not secrets.
_CORRELATION_PREFIX = secrets.token_hex(6)
_correlation_counter = itertools.count(1)

_REQUESTS = Counter("http_requests_total", "HTTP requests answered", ["app_name", "method", "path", "status_code"])
_ERRORS = Counter("http_requests_error_total", "HTTP requests answered with a 5xx", ["app_name", "method", "path", "status_code"])
_DURATION = Histogram("http_request_duration_seconds", "Time to answer an HTTP request", ["app_name", "method", "path", "status_code"])
_IN_PROGRESS = Gauge("http_requests_in_progress", "HTTP requests being answered", ["app_name", "method", "path"])


class RequestMiddleware:
    """Every HTTP request: the caller's X-Correlation-ID (or a new one) bound to the request's logs
    and events and returned on the response, and the Prometheus metrics per route template.

    One middleware with one wrapped `send` instead of Litestar's Prometheus middleware and a
    correlation middleware of its own: the two cost a fifth of a rights check (`/v1/check`),
    mostly in building a Request, its URL and the labels on every call. Metric children are
    looked up once per (method, route, status) and kept.
    """

    _EXCLUDED = ("/metrics", "/health")

    def __init__(self, app: ASGIApp, *, app_name: str) -> None:
        self.app = app
        self.app_name = app_name
        self._children: dict[tuple[str, str, int], tuple[Any, Any, Any]] = {}
        self._in_progress: dict[tuple[str, str], Any] = {}

    def _metrics_for(self, method: str, path: str, status: int) -> tuple[Any, Any, Any]:
        key = (method, path, status)
        children = self._children.get(key)
        if children is None:
            labels = (self.app_name, method, path, str(status))
            children = (_REQUESTS.labels(*labels), _DURATION.labels(*labels), _ERRORS.labels(*labels) if status >= 500 else None)
            self._children[key] = children
        return children

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope["headers"]:
            if name == b"x-correlation-id":
                incoming = value.decode("latin-1")
                break
        correlation_id = incoming if incoming and _SAFE_CORRELATION_ID.fullmatch(incoming) else f"{_CORRELATION_PREFIX}-{next(_correlation_counter):x}"
        header = (b"x-correlation-id", correlation_id.encode())
        # The route's template, never the raw path: a label per URL would let callers grow the metrics without bound.
        path = scope.get("path_template") or "<unmatched>"
        measured = not path.startswith(self._EXCLUDED)
        status = 500  # if the app fails before it answers

        async def send_with_header(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        token = correlation_id_var.set(correlation_id)
        if not measured:
            try:
                await self.app(scope, receive, send_with_header)
            finally:
                correlation_id_var.reset(token)
            return
        method = scope["method"]
        in_progress = self._in_progress.get((method, path))
        if in_progress is None:
            in_progress = self._in_progress[(method, path)] = _IN_PROGRESS.labels(self.app_name, method, path)
        in_progress.inc()
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_header)
        finally:
            elapsed = time.perf_counter() - started
            correlation_id_var.reset(token)
            in_progress.dec()
            count, duration, errors = self._metrics_for(method, path, status)
            count.inc()
            duration.observe(elapsed)
            if errors is not None:
                errors.inc()


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
