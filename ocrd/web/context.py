"""What every handler needs: the supervisor, the web settings, the job store, the metrics."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web

from ocrd.config import Config, Limits, WebSettings
from ocrd.daemon.errors import QueueFullError
from ocrd.daemon.metrics import DaemonMetrics
from ocrd.result import Document
from ocrd.web.activity import RecentActivity
from ocrd.web.jobstore import JobStore
from ocrd.web.metrics import HttpMetrics


class Supervisor(Protocol):
    """What the web app uses of ocrd.daemon.supervisor.Supervisor."""

    config: Config
    metrics: DaemonMetrics
    ready: bool
    draining: bool
    results: Any  # ocrd.results.ResultsIndex, or None when the index is off

    @property
    def workers(self) -> int: ...

    async def submit_file(
        self, path: Any, *, lang: str | None = None, source: str | None = None, fields: str | None = None
    ) -> Document: ...

    def status(self) -> dict[str, Any]: ...


@dataclass
class WebContext:
    supervisor: Supervisor
    store: JobStore
    http_metrics: HttpMetrics
    activity: RecentActivity
    in_flight: int = 0  # requests reading an upload or waiting for POST /ocr's result
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def settings(self) -> WebSettings:
        return self.supervisor.config.web

    @property
    def limits(self) -> Limits:
        return self.supervisor.config.engine.limits

    @property
    def max_upload_bytes(self) -> int:
        # Never accept what the engine would refuse anyway.
        return min(self.settings.max_upload_bytes, self.limits.max_bytes)

    @property
    def capacity(self) -> int:
        """Uploads held at once (being received, waiting or being read): beyond this, 503 at once."""
        return self.supervisor.config.daemon.max_queued_uploads + self.supervisor.workers

    @contextlib.contextmanager
    def admission(self) -> Iterator[None]:
        if self.in_flight + self.store.pending() >= self.capacity:
            raise QueueFullError(
                f"the service is busy: {self.capacity} uploads are already being received or waiting for a worker; "
                "try again in a few seconds"
            )
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1

    def scrub(self, text: str, folder: Path, name: str) -> str:
        """Error text with the server's upload folder replaced by the client's file name."""
        return text.replace(str(folder / "upload"), name).replace(str(folder), name)


CONTEXT = web.AppKey("ocrd_web_context", WebContext)


def context_of(request: web.Request) -> WebContext:
    return request.app[CONTEXT]
