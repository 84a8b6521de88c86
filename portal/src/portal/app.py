"""The portal's Litestar application: pages, static files, the session middleware, security
headers, and what a person sees when something goes wrong."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import structlog
from litestar import Litestar, Request, Response
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import HTTPException, NotFoundException
from litestar.middleware import DefineMiddleware
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from portal import formats
from portal.api import SERVICES, ApiProblem, SignInNeeded
from portal.messages import dutch
from portal.pages import ROUTES
from portal.sessions import COOKIE, PortalSession, SessionStore
from portal.settings import PortalSettings
from portal.web import CsrfRefused, NotActingFor, page, session_of, sign_in_url
from service_runtime import tracing
from service_runtime.http import RequestMiddleware
from service_runtime.logging import correlation_id_var

HERE = Path(__file__).parent
log = structlog.get_logger(__name__)

# No inline script or style, nothing from another origin; forms post only here.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


def session_middleware(app: ASGIApp) -> ASGIApp:
    """Loads the session named by the cookie before the page, and stores it (and sets or clears
    the cookie) before the answer starts, so the next request of the same browser sees it."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        litestar_app: Litestar = scope["app"]
        store: SessionStore = litestar_app.state.sessions
        settings: PortalSettings = litestar_app.state.settings
        secret = _cookie(scope, COOKIE)
        session = await store.load(secret) if not scope["path"].startswith("/static/") else PortalSession()
        scope.setdefault("state", {})["session"] = session

        async def send_with_session(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                if not scope["path"].startswith("/static/"):
                    headers["cache-control"] = "no-store"
                if session.modified or session.ended or session.old_secret is not None:
                    had_secret = session.secret
                    await store.save(session)
                    secure = "; Secure" if settings.cookies_secure else ""
                    if session.ended:
                        headers.add("set-cookie", f"{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{secure}")
                    elif session.secret != secret or had_secret is None:
                        headers.add("set-cookie", f"{COOKIE}={session.secret}; Path=/; HttpOnly; SameSite=Lax{secure}")
            await send(message)

        await app(scope, receive, send_with_session)

    return middleware


def cross_site_guard(app: ASGIApp) -> ASGIApp:
    """A form posted from another site is refused before anything reads it (the CSRF token is
    the main defence; this is the second)."""

    async def guard(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") not in ("GET", "HEAD", "OPTIONS"):
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            origin, host = headers.get("origin"), headers.get("host")
            if headers.get("sec-fetch-site") == "cross-site" or (origin and origin != "null" and urlsplit(origin).netloc != host):
                body = b"Dit formulier komt niet van dit portaal."
                await send(
                    {
                        "type": "http.response.start",
                        "status": 403,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())],
                    }
                )
                end: Any = {"type": "http.response.body", "body": body}
                await send(end)
                return
        await app(scope, receive, send)

    return guard


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope["headers"]:
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, _, v = part.strip().partition("=")
                if k == name:
                    return v
    return None


# ------------------------------------------------------------------------------- when something goes wrong


def _on_sign_in_needed(request: Request[Any, Any, Any], _: SignInNeeded) -> Response[Any]:
    """Off to sign in, and back here after it with what was typed (the token expired mid-step)."""
    session = session_of(request)
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if session.signed_in or request.method == "POST":
        form = request.scope.get("state", {}).get("form") if request.method == "POST" else None
        session.keep_for_after_sign_in(path=request.url.path if request.method == "POST" else path, form=form)
        session.set("resume_acting_for", session.acting_for)
    if session.signed_in:
        session.set("expired", True)
    return Redirect(sign_in_url(path), status_code=303)


def _on_csrf(request: Request[Any, Any, Any], _: CsrfRefused) -> Template:
    return page(
        request,
        "pages/error.html",
        status_code=403,
        title="Formulier niet aanvaard",
        message="Dit formulier is verlopen of komt niet van deze pagina. Open de pagina opnieuw en probeer nog eens.",
    )


def _on_not_acting_for(request: Request[Any, Any, Any], _: NotActingFor) -> Response[Any]:
    session_of(request).flash("Kies eerst voor welke organisatie je werkt.", kind="info")
    return Redirect("/kies", status_code=303)


def _on_api_problem(request: Request[Any, Any, Any], problem: ApiProblem) -> Template:
    if problem.status == 404:
        return page(request, "pages/error.html", status_code=404, title="Niet gevonden", message="Deze pagina bestaat niet, of je hebt er geen toegang toe.")
    if problem.status == 403:
        return page(request, "pages/forbidden.html", status_code=403, problem=problem)
    if problem.status >= 500 or problem.status == 429:
        log.warning("service problem", status=problem.status, detail=problem.detail, path=request.url.path)
        return page(
            request,
            "pages/error.html",
            status_code=503 if problem.status >= 500 else 429,
            title="Even geduld" if problem.status == 429 else "Er liep iets mis",
            message="Probeer het over enkele ogenblikken opnieuw."
            if problem.status == 429
            else "Een dienst antwoordde niet zoals verwacht. Probeer het later opnieuw.",
        )
    return page(request, "pages/error.html", status_code=problem.status, title="Niet gelukt", message=problem.detail, rule=problem.rule)


def _on_not_found(request: Request[Any, Any, Any], _: NotFoundException) -> Template:
    return page(request, "pages/error.html", status_code=404, title="Niet gevonden", message="Deze pagina bestaat niet.")


def _on_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if exc.status_code == 404:
        return _on_not_found(request, NotFoundException())
    return page(request, "pages/error.html", status_code=exc.status_code, title="Niet gelukt", message=str(exc.detail))


def _on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A page that failed: logged with its traceback, and a calm page in Dutch instead of a stack trace."""
    log.exception("page failed", path=request.url.path, error=repr(exc))
    try:
        reference = correlation_id_var.get()
        message = "Deze pagina kon niet getoond worden. Probeer het later opnieuw."
        if reference:
            message += f" Blijft het misgaan, geef dan deze code door aan de helpdesk: {reference}."
        return page(request, "pages/error.html", status_code=500, title="Er liep iets mis", message=message)
    except Exception:  # the error page itself failed: plain text
        return Response("Er liep iets mis. Probeer het later opnieuw.", status_code=500, media_type="text/plain")


def _on_unavailable(request: Request[Any, Any, Any], exc: httpx.TransportError) -> Template:
    log.warning("service unreachable", error=repr(exc), path=request.url.path)
    return page(request, "pages/error.html", status_code=503, title="Er liep iets mis", message="Een dienst is niet bereikbaar. Probeer het later opnieuw.")


# ------------------------------------------------------------------------------- the application


async def _sweep_sessions(store: SessionStore, every_seconds: float = 600) -> None:
    """Ended sessions are deleted every ten minutes (any replica may do it; deleting twice is harmless)."""
    while True:
        await asyncio.sleep(every_seconds)
        try:
            swept = await store.delete_expired()
            if swept:
                log.info("expired sessions deleted", count=swept)
        except Exception as error:  # the database away for a moment: try again next round
            log.warning("expired sessions not deleted", error=repr(error))


def create_app(settings: PortalSettings | None = None) -> Litestar:
    settings = settings or PortalSettings()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=settings.database_pool_max)
        clients = {
            service: httpx.AsyncClient(base_url=settings.service_url(service), timeout=settings.api_timeout_seconds, headers={"user-agent": "wse-portal"})
            for service in SERVICES
        }
        app.state.sessions = SessionStore(pool, idle=timedelta(minutes=settings.session_idle_minutes), maximum=timedelta(hours=settings.session_max_hours))
        app.state.clients = clients
        sweeper = asyncio.create_task(_sweep_sessions(app.state.sessions), name="portal-session-sweeper")
        try:
            yield
        finally:
            sweeper.cancel()
            for client in clients.values():
                await client.aclose()
            await pool.close()

    template_config = TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine)
    app = Litestar(
        route_handlers=[*ROUTES, create_static_files_router(path="/static", directories=[HERE / "static"], opt={"static": True})],
        lifespan=[lifespan],
        # RequestMiddleware (the runtime's): each request's correlation id (sent on to the services,
        # shown on the error page) and the HTTP metrics by route template, as the services count them.
        middleware=[*tracing.middleware(), DefineMiddleware(RequestMiddleware, app_name="portal"), cross_site_guard, session_middleware],
        template_config=template_config,
        exception_handlers={
            SignInNeeded: _on_sign_in_needed,
            CsrfRefused: _on_csrf,
            NotActingFor: _on_not_acting_for,
            ApiProblem: _on_api_problem,
            NotFoundException: _on_not_found,
            HTTPException: _on_http_exception,
            httpx.TransportError: _on_unavailable,
            Exception: _on_unexpected,
        },
        request_max_body_size=settings.max_upload_bytes,
        openapi_config=None,
        debug=False,
    )
    app.state.settings = settings
    engine = template_config.engine_instance
    if isinstance(engine, JinjaTemplateEngine):
        engine.engine.globals["nonce"] = lambda: secrets.token_urlsafe(8)
        engine.engine.filters["datum"] = formats.day
        engine.engine.filters["dutch"] = lambda text: dutch(str(text)) if text else text  # the services' reasons, as a Flemish user reads them
        engine.engine.finalize = lambda value: "" if value is None else value
    return app
