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
from typing import Any
from urllib.parse import quote

from aiohttp import web

from ocrd.config import WebSettings
from ocrd.web.replies import UNAUTHORIZED, ApiFailure

SESSION_COOKIE = "ocrd_session"
SESSION_DAYS = 7
OPEN_PREFIXES = ("/static/",)
OPEN_PATHS = {"/healthz", "/readyz", "/metrics", "/openapi.json", "/login", "/logout", "/favicon.ico"}
PAGES = {"/", "/upload", "/results"}  # people get the sign-in page instead of a 401
PAGE_PREFIXES = ("/results/",)  # and on these: the review view of each result

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def session_value(token: str) -> str:
    return hmac.new(token.encode(), b"ocrd web session v1", hashlib.sha256).hexdigest()


def token_matches(given: str, token: str) -> bool:
    return hmac.compare_digest(given.encode(), token.encode())


ANONYMOUS = "anonymous"  # who made a correction when the service has no token authentication
# Request key: the name of the token the request came with (a typed key where aiohttp has them).
WHO: Any = web.RequestKey("ocrd_who", str) if hasattr(web, "RequestKey") else "ocrd_who"


def named_tokens(settings: WebSettings) -> list[tuple[str, str]]:
    """(name, token) of everyone who may sign in: [web] token as [web] token_name, then [web.tokens]."""
    first = [(settings.token_name, settings.token)] if settings.token else []
    return first + list(settings.tokens)


def token_owner(given: str, settings: WebSettings) -> str | None:
    # Every token is compared (no early exit), so the time taken does not tell which one came close.
    found = None
    for name, token in named_tokens(settings):
        if token_matches(given, token) and found is None:
            found = name
    return found


def identify(request: web.Request, settings: WebSettings) -> str | None:
    """Who sent the request: a token's name, ANONYMOUS without token auth, None when not allowed in."""
    if settings.auth != "token" or not settings.token:
        return ANONYMOUS
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        owner = token_owner(value.strip(), settings)
        if owner is not None:
            return owner
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie is None:
        return None
    found = None
    for name, token in named_tokens(settings):
        if hmac.compare_digest(cookie, session_value(token)) and found is None:
            found = name
    return found


def is_authorized(request: web.Request, settings: WebSettings) -> bool:
    return identify(request, settings) is not None


def who(request: web.Request) -> str:
    """The name the auth middleware found for this request (for records such as corrections)."""
    return request.get(WHO, ANONYMOUS)


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
        owner = identify(request, settings())
        if owner is not None:
            request[WHO] = owner
        if needs_auth(request.path) and owner is None:
            if (request.path in PAGES or request.path.startswith(PAGE_PREFIXES)) and request.method == "GET":
                raise web.HTTPSeeOther(f"/login?next={quote(request.path_qs)}")
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
    owner = token_owner(str(form.get("token", "")).strip(), settings)
    if owner is None:
        raise web.HTTPSeeOther(f"/login?error=1&next={quote(target)}")
    token = dict(named_tokens(settings))[owner]
    response = web.HTTPSeeOther(target)
    response.set_cookie(
        SESSION_COOKIE,
        session_value(token),  # names the token: the cookie says who signed in, not just that someone did
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
