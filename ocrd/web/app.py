"""The daemon's web application: pages for people, the REST API, health and Prometheus metrics.

``init_app(supervisor)`` builds it around a running ``ocrd.daemon.supervisor.Supervisor``:
uploads become jobs of the same worker pool as the inbox files, and /metrics exposes the
supervisor's own registry (with HTTP metrics added to it). The daemon binds it
(ocrd.daemon.commands.start_web); its startup and cleanup hooks run with the aiohttp runner.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from ocrd.errors import OcrdError
from ocrd.web import api, auth, health, jobs, pages, results_api
from ocrd.web.activity import RecentActivity, counter_totals
from ocrd.web.compat import routes as compat
from ocrd.web.context import CONTEXT, Supervisor, WebContext
from ocrd.web.jobstore import JobStore
from ocrd.web.metrics import http_metrics_for, metrics_endpoint, metrics_middleware
from ocrd.web.replies import INTERNAL, METHOD_NOT_ALLOWED, NOT_FOUND, TOO_LARGE, ApiFailure, Failure, fail, fail_with

log = logging.getLogger("ocrd.web")

HOUSEKEEPING_EVERY = 15.0  # seconds between activity samples and expiry sweeps
PREVIEWS_AT_ONCE = 2  # page previews rendered concurrently (CPU work beside the OCR workers)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # Everything is served from here: no CDN, no inline script.
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
}


def is_api(path: str) -> bool:
    return path == "/ocr" or path.startswith("/api/")


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure as a readable answer: the API's JSON shape for programs, plain words for pages."""
    try:
        return await handler(request)
    except ApiFailure as failure:
        return fail(failure.failure, failure.msg)
    except OcrdError as error:
        return fail_with(error)
    except web.HTTPException as exc:
        if not is_api(request.path) or exc.status < 400:
            raise
        failure = {404: NOT_FOUND, 405: METHOD_NOT_ALLOWED, 413: TOO_LARGE}.get(exc.status)
        if failure is None:
            failure = Failure(exc.status, exc.status * 100)
        return fail(failure, _http_message(request, exc))
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception:
        log.exception("internal error answering %s %s", request.method, request.path)
        message = "internal error in the OCR service; the daemon log has the details"
        if is_api(request.path):
            return fail(INTERNAL, message)
        return web.Response(status=500, text=message + "\n")


def _http_message(request: web.Request, exc: web.HTTPException) -> str:
    if exc.status == 404:
        return f"no such endpoint: {request.path}; see /openapi.json for the API"
    if exc.status == 405:
        allowed = ", ".join(sorted(getattr(exc, "allowed_methods", ()) or ()))
        return f"{request.method} is not allowed on {request.path}" + (f"; use {allowed}" if allowed else "")
    return exc.reason


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def _store_base(supervisor: Supervisor) -> Path:
    data_dir = supervisor.config.daemon.data_dir
    return Path(data_dir) / "web-jobs" if data_dir else Path(tempfile.gettempdir()) / "ocrd-web-jobs"


def init_app(supervisor: Supervisor) -> web.Application:
    """The web application around a started (or starting) supervisor."""
    http_metrics = http_metrics_for(supervisor.metrics.registry)
    context = WebContext(
        supervisor=supervisor,
        store=JobStore(_store_base(supervisor), ttl=supervisor.config.web.job_ttl),
        http_metrics=http_metrics,
        activity=RecentActivity(lambda: counter_totals(supervisor.metrics.jobs)),
    )
    app = web.Application(
        middlewares=[
            metrics_middleware(http_metrics),
            errors_middleware,
            auth.auth_middleware(lambda: context.settings, compat.signs_itself),
        ]
    )
    app[CONTEXT] = context
    app.on_response_prepare.append(_security_headers)
    app.on_startup.append(_start_housekeeping)
    app.on_cleanup.append(_stop_housekeeping)
    _add_routes(app)
    return app


def _add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/", pages.status_page)
    r.add_get("/upload", pages.upload_page)
    r.add_get("/results", pages.results_page)
    r.add_get("/results/{result_id}", pages.review_page)
    r.add_get("/login", pages.login_page)
    r.add_post("/login", auth.login_submit)
    r.add_post("/logout", auth.logout)
    r.add_get("/favicon.ico", pages.favicon)
    r.add_static("/static/", pages.STATIC, follow_symlinks=False, show_index=False)
    r.add_get("/openapi.json", pages.openapi)
    r.add_get("/api/status", pages.status)
    r.add_get("/api/info", pages.info)
    r.add_post("/ocr", api.ocr)
    r.add_post("/api/jobs", jobs.submit)
    r.add_get("/api/jobs/{job_id}", jobs.status)
    r.add_delete("/api/jobs/{job_id}", jobs.delete)
    r.add_get("/api/jobs/{job_id}/result.json", jobs.result_json)
    r.add_get("/api/jobs/{job_id}/result.txt", jobs.result_txt)
    r.add_get("/api/jobs/{job_id}/result.pdf", jobs.result_pdf)
    r.add_get("/api/jobs/{job_id}/pages/{page}/image", jobs.page_image)
    r.add_get("/api/results", results_api.list_results)
    r.add_get("/api/results/{result_id}", results_api.get_result)
    r.add_get("/api/results/{result_id}/pages/{page}/image", results_api.page_image)
    r.add_put("/api/results/{result_id}/pages/{page}/lines/{line}", results_api.correct_line)
    r.add_get("/healthz", health.healthz)
    r.add_get("/readyz", health.readyz)
    r.add_get("/metrics", metrics_endpoint(app[CONTEXT].http_metrics.registry))
    compat.add_routes(app)


HOUSEKEEPING = web.AppKey("ocrd_web_housekeeping", asyncio.Task)


async def _start_housekeeping(app: web.Application) -> None:
    context = app[CONTEXT]
    context.extra["preview_slots"] = asyncio.Semaphore(PREVIEWS_AT_ONCE)
    await asyncio.to_thread(context.store.open)
    app[HOUSEKEEPING] = asyncio.create_task(_housekeeping(context), name="ocrd-web-housekeeping")


async def _housekeeping(context: WebContext) -> None:
    while True:
        await asyncio.sleep(HOUSEKEEPING_EVERY)
        try:
            if context.activity.due():
                context.activity.sample()
            await context.store.purge_expired()
        except Exception:  # keep sweeping; one bad round must not end expiry
            log.exception("web housekeeping failed")


async def _stop_housekeeping(app: web.Application) -> None:
    task = app.get(HOUSEKEEPING)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await app[CONTEXT].store.close()
