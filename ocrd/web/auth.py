"""Optional bearer-token authentication for the API and the pages.

Programs send ``Authorization: Bearer <token>``. People sign in once on /login with the same
token; their browser then holds a cookie derived from it (an HMAC, so the token itself is not
stored in the browser), HttpOnly and SameSite=Strict so other sites cannot send it along.
Health, readiness, metrics, the OpenAPI description and static assets stay open: they carry
no documents, and monitoring should not need the upload token.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from aiohttp import web

from ocrd.config import WebSettings
from ocrd.web.replies import UNAUTHORIZED, ApiFailure

SESSION_COOKIE = "ocrd_session"
SESSION_DAYS = 7
OPEN_PREFIXES = ("/static/",)
OPEN_PATHS = {"/healthz", "/readyz", "/metrics", "/openapi.json", "/login", "/logout", "/favicon.ico"}
PAGES = {"/", "/upload"}  # people get the sign-in page instead of a 401

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def session_value(token: str) -> str:
    return hmac.new(token.encode(), b"ocrd web session v1", hashlib.sha256).hexdigest()


def token_matches(given: str, token: str) -> bool:
    return hmac.compare_digest(given.encode(), token.encode())


def is_authorized(request: web.Request, settings: WebSettings) -> bool:
    if settings.auth != "token" or not settings.token:
        return True
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token_matches(value.strip(), settings.token):
        return True
    cookie = request.cookies.get(SESSION_COOKIE)
    return cookie is not None and hmac.compare_digest(cookie, session_value(settings.token))


def needs_auth(path: str) -> bool:
    return path not in OPEN_PATHS and not path.startswith(OPEN_PREFIXES)


def auth_middleware(
    settings: Callable[[], WebSettings],
    signs_itself: Callable[[web.Request], bool] = lambda request: False,
) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """``signs_itself``: requests that carry other credentials, checked by their handler (hosted-API clients)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if signs_itself(request):
            return await handler(request)
        if needs_auth(request.path) and not is_authorized(request, settings()):
            if request.path in PAGES and request.method == "GET":
                raise web.HTTPSeeOther(f"/login?next={quote(request.path)}")
            raise ApiFailure(
                UNAUTHORIZED,
                "this server needs a token: send the header 'Authorization: Bearer <token>' "
                "(the token is [web] token in the daemon configuration)",
            )
        return await handler(request)

    return middleware


def safe_next(target: str | None) -> str:
    """Only paths on this server: never an open redirect to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/upload"
    return target


async def login_submit(request: web.Request) -> web.StreamResponse:
    from ocrd.web.context import context_of

    settings = context_of(request).settings
    form = await request.post()
    target = safe_next(str(form.get("next", "")) or request.query.get("next"))
    if settings.auth != "token" or not settings.token:
        raise web.HTTPSeeOther(target)
    if not token_matches(str(form.get("token", "")).strip(), settings.token):
        raise web.HTTPSeeOther(f"/login?error=1&next={quote(target)}")
    response = web.HTTPSeeOther(target)
    response.set_cookie(
        SESSION_COOKIE,
        session_value(settings.token),
        max_age=SESSION_DAYS * 86400,
        httponly=True,
        samesite="Strict",
        secure=request.secure,
        path="/",
    )
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    response = web.HTTPSeeOther("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response
