"""HTTP metrics in the daemon's registry, and the /metrics endpoint that exposes that registry.

Route labels are the route templates ("/api/jobs/{job_id}"), never the requested path, and
anything that matched no route counts as "unmatched": label values stay a small fixed set
however the server is probed.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.exposition import choose_encoder

HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}
UNMATCHED = "unmatched"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        # Process-global in prometheus_client; repeated here so a registry without DaemonMetrics
        # exports no *_created series either.
        disable_created_metrics()
        self.registry = registry
        self.requests = Counter(
            "ocrd_http_requests",
            "HTTP requests answered, by route template, method and status code",
            ["route", "method", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "ocrd_http_request_duration_seconds",
            "Time to answer an HTTP request (for POST /ocr: including the OCR), by route template",
            ["route"],
            buckets=HTTP_BUCKETS,
            registry=registry,
        )

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method if method in METHODS else "other", str(status)).inc()
        self.duration.labels(route).observe(seconds)


# One set per registry: a second app on the same supervisor (tests, a reload) reuses it.
_BY_REGISTRY: weakref.WeakKeyDictionary[CollectorRegistry, HttpMetrics] = weakref.WeakKeyDictionary()


def http_metrics_for(registry: CollectorRegistry) -> HttpMetrics:
    metrics = _BY_REGISTRY.get(registry)
    if metrics is None:
        metrics = _BY_REGISTRY[registry] = HttpMetrics(registry)
    return metrics


def route_label(request: web.Request) -> str:
    match = request.match_info
    if match.http_exception is not None or match.route.resource is None:
        return UNMATCHED
    return match.route.resource.canonical


def metrics_middleware(metrics: HttpMetrics) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            metrics.observe(route_label(request), request.method, status, time.perf_counter() - started)

    return middleware


def metrics_endpoint(registry: CollectorRegistry) -> Handler:
    """The /metrics handler exposing ``registry`` (the supervisor's, which the HTTP metrics join)."""

    async def metrics_handler(request: web.Request) -> web.Response:
        # The text format by default, OpenMetrics when the scraper asks for it (as Prometheus does).
        encode, content_type = choose_encoder(request.headers.get("Accept", ""))
        return web.Response(body=encode(registry), headers={"Content-Type": content_type})

    return metrics_handler
