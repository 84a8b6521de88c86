"""Calling the services' public APIs with the signed-in person's platform token, exactly as an
external portal would: no database of any service, no private route.

A failed call raises `ApiProblem` (the problem+json the service answered: detail, rule, and the
field errors a form shows next to its fields); an expired or refused token raises `SignInNeeded`,
which sends the person to sign in again and back to where they were."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from portal.messages import dutch
from portal.sessions import PortalSession, now
from service_runtime import tracing
from service_runtime.logging import mask_national_register_numbers_in

SERVICES = ("identity", "registration", "recognition", "attestation", "notification")


class SignInNeeded(Exception):
    """No session, or the platform token expired or was refused (401)."""


@dataclass
class ApiProblem(Exception):
    status: int
    detail: str
    rule: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    body: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status}: {self.detail}"

    def field_errors(self, prefix: str = "") -> dict[str, str]:
        """field -> reason (with its rule), the field named as the form names it: the API's
        dotted path without `prefix` ("contact.email" for "body.contact.email")."""
        found: dict[str, str] = {}
        for error in self.errors:
            name = str(error.get("field", "body")).removeprefix("body.").removeprefix(prefix)
            reason = dutch(str(error.get("reason", "ongeldig")))
            if error.get("rule"):
                reason = f"{reason} (regel {error['rule']})"
            found.setdefault(name, reason)
        return found

    @property
    def required_right(self) -> dict[str, Any] | None:
        """ID-8: the right this 403 refused for ({"role", "contexts"}), which the person can request."""
        right = self.body.get("required_right") if self.status == 403 else None
        return right if isinstance(right, dict) else None


class Api:
    """One request's view of the services: `await api.get("registration", "/v1/register/trainings")`."""

    def __init__(
        self, clients: dict[str, httpx.AsyncClient], session: PortalSession | None, correlation_id: str | None = None, *, client: str | None = None
    ) -> None:
        self._clients, self._session, self._correlation_id, self._client = clients, session, correlation_id, client

    def _headers(self, *, signed: bool, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = dict(extra or {})
        if self._correlation_id:
            headers["X-Correlation-ID"] = self._correlation_id
        if self._client and not signed:
            # The person's address, for a limit per caller on what anyone may ask (ID-9's search);
            # a signed call names its person by the token, and carries no address.
            headers["X-Forwarded-For"] = self._client
        if signed:
            token = self._session.token() if self._session else None
            # An expired token is not sent: sign in again first (a service would answer 401 anyway).
            if not token or self._session is None or self._session.token_expired(now()):
                raise SignInNeeded()
            headers["Authorization"] = f"Bearer {token}"
        return headers

    async def request(
        self,
        service: str,
        method: str,
        path: str,
        *,
        signed: bool = True,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        content: Any = None,
    ) -> httpx.Response:
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        sent_headers = self._headers(signed=signed, extra=headers)
        client = self._clients[service]
        if not tracing.enabled:
            response = await client.request(method, path, json=json, params=clean, headers=sent_headers, content=content)
        else:  # the call is a client span, and the service's span continues it (traceparent)
            attributes = {"http.request.method": method, "server.address": service, "url.path": mask_national_register_numbers_in(path)}
            with tracing.span(f"{method} {service}", kind=tracing.CLIENT, attributes=attributes) as span:
                tracing.inject(sent_headers)
                response = await client.request(method, path, json=json, params=clean, headers=sent_headers, content=content)
                span.set_attribute("http.response.status_code", response.status_code)
        if response.status_code == 401:
            raise SignInNeeded()
        if response.status_code >= 400:
            raise _problem(response)
        return response

    async def get(self, service: str, path: str, *, signed: bool = True, params: dict[str, Any] | None = None) -> Any:
        return (await self.request(service, "GET", path, signed=signed, params=params)).json()

    async def post(self, service: str, path: str, json: Any = None, *, signed: bool = True, headers: dict[str, str] | None = None) -> Any:
        response = await self.request(service, "POST", path, signed=signed, json=json, headers=headers)
        return response.json() if response.content else None

    async def put(self, service: str, path: str, json: Any = None) -> Any:
        response = await self.request(service, "PUT", path, json=json)
        return response.json() if response.content else None

    async def patch(self, service: str, path: str, json: Any = None) -> Any:
        response = await self.request(service, "PATCH", path, json=json)
        return response.json() if response.content else None

    async def delete(self, service: str, path: str) -> Any:
        response = await self.request(service, "DELETE", path)
        return response.json() if response.content else None


def _problem(response: httpx.Response) -> ApiProblem:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    return ApiProblem(
        status=response.status_code,
        detail=str(body.get("detail") or body.get("title") or response.reason_phrase),
        rule=body.get("rule"),
        errors=[e for e in body.get("errors") or [] if isinstance(e, dict)],
        body=body,
    )
