"""The pages people use (status, upload, results, review, sign-in), their static assets, and the JSON they read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from ocrd import __version__
from ocrd.config import LANGS
from ocrd.documents.sniff import SUPPORTED_FORMATS
from ocrd.web.context import WebContext, context_of
from ocrd.web.replies import ok

STATIC = Path(__file__).parent / "static"
OPENAPI = Path(__file__).parent / "openapi.json"
RECENT_SHOWN = 20
HTML_HEADERS = {"Cache-Control": "no-cache"}


def _page(name: str) -> web.FileResponse:
    return web.FileResponse(STATIC / name, headers=HTML_HEADERS)


async def status_page(request: web.Request) -> web.StreamResponse:
    return _page("status.html")


async def upload_page(request: web.Request) -> web.StreamResponse:
    return _page("upload.html")


async def results_page(request: web.Request) -> web.StreamResponse:
    return _page("results.html")


async def review_page(request: web.Request) -> web.StreamResponse:
    """One result's review view; the page reads the result's id from its own address."""
    return _page("review.html")


async def login_page(request: web.Request) -> web.StreamResponse:
    if context_of(request).settings.auth != "token":
        raise web.HTTPSeeOther("/upload")
    return _page("login.html")


async def favicon(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "favicon.svg", headers={"Content-Type": "image/svg+xml"})


async def openapi(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(OPENAPI, headers={"Content-Type": "application/json"})


def models_name(context: WebContext) -> str:
    running = _running_engine(context)
    if running.get("models"):
        return running["models"]
    engine = context.supervisor.config.engine
    return Path(engine.model_dir).name if engine.model_dir else engine.pack


def _running_engine(context: WebContext) -> dict[str, str]:
    pool = context.supervisor.pool
    return dict(pool.engine) if pool is not None else {}


def precision_info(context: WebContext) -> dict[str, str]:
    """Which precision the workers run and why; the configured value until a worker has started."""
    running = _running_engine(context)
    if running.get("precision"):
        return {"precision": running["precision"], "precision_reason": running.get("precision_reason", "")}
    return {"precision": context.supervisor.config.engine.precision, "precision_reason": "no worker has started yet"}


def service_info(context: WebContext) -> dict[str, Any]:
    settings = context.settings
    return {
        "version": __version__,
        "models": models_name(context),
        **precision_info(context),
        "langs": list(LANGS),
        "default_lang": context.supervisor.config.engine.lang,
        "formats": list(SUPPORTED_FORMATS),
        "max_upload_bytes": context.max_upload_bytes,
        "job_ttl_seconds": context.store.ttl,
        "auth": settings.auth,
    }


async def info(request: web.Request) -> web.StreamResponse:
    return ok(service_info(context_of(request)))


async def status(request: web.Request) -> web.StreamResponse:
    context = context_of(request)
    snapshot = context.supervisor.status()
    last_hour = context.activity.last_hour()
    for inbox in snapshot.get("inboxes", []):
        inbox["last_hour"] = _done_failed(last_hour.get(inbox["name"], {}))
    uploads = {
        "waiting": snapshot.pop("uploads_waiting", 0),
        "jobs_kept": len(context.store.jobs),
        "last_hour": _done_failed(last_hour.get("upload", {})),
    }
    totals = [_done_failed(counts) for counts in last_hour.values()]
    data = {
        **snapshot,
        **service_info(context),
        "uploads": uploads,
        "last_hour": {
            "done": sum(item["done"] for item in totals),
            "failed": sum(item["failed"] for item in totals),
        },
        "recent": snapshot.get("recent", [])[:RECENT_SHOWN],
        "recent_failures": snapshot.get("recent_failures", [])[:RECENT_SHOWN],
    }
    return ok(data)


def _done_failed(counts: dict[str, int]) -> dict[str, int]:
    return {"done": counts.get("ok", 0) + counts.get("reused", 0), "failed": counts.get("failed", 0)}
