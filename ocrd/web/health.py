"""/healthz: the process answers. /readyz: it can do work (models loaded, workers up, inboxes reachable)."""

from __future__ import annotations

from aiohttp import web

from ocrd import __version__
from ocrd.web.context import context_of
from ocrd.web.replies import NOT_ACCEPTING, dumps, envelope, ok


async def healthz(request: web.Request) -> web.StreamResponse:
    return ok({"alive": True, "version": __version__})


async def readyz(request: web.Request) -> web.StreamResponse:
    supervisor = context_of(request).supervisor
    snapshot = supervisor.status()
    workers = snapshot.get("workers", {})
    up = workers.get("idle", 0) + workers.get("busy", 0)
    total = workers.get("total", 0)
    checks = [
        {
            "name": "accepting",
            "ok": bool(snapshot.get("ready")),
            "detail": "stopping"
            if snapshot.get("draining")
            else ("accepting work" if snapshot.get("ready") else "starting"),
        },
        {
            # A worker reports ready only after it loaded the models.
            "name": "workers",
            "ok": up > 0,
            "detail": f"{up} of {total} worker(s) up with models loaded",
        },
    ]
    for inbox in snapshot.get("inboxes", []):
        checks.append(
            {
                "name": f"inbox:{inbox['name']}",
                "ok": bool(inbox.get("available")),
                "detail": "reachable" if inbox.get("available") else f"{inbox.get('path')} cannot be read",
            }
        )
        problem = inbox.get("outbox_problem")
        checks.append(
            {
                # Results that cannot be written: files wait claimed, nothing is lost, but nothing finishes.
                "name": f"outbox:{inbox['name']}",
                "ok": problem is None,
                "detail": f"results of inbox {inbox['name']} cannot be written: {problem}"
                if problem
                else f"{inbox.get('outbox')} writable",
            }
        )
    cluster = snapshot.get("cluster")
    if cluster is not None:
        # Redis away: work in progress finishes, nothing new is taken; the reason names the address.
        checks.append(
            {
                "name": "cluster",
                "ok": bool(cluster.get("connected")),
                "detail": cluster.get("problem") or f"Redis at {cluster.get('redis')} answers",
            }
        )
    problems = [f"{check['name']}: {check['detail']}" for check in checks if not check["ok"]]
    data = {"ready": not problems, "checks": checks}
    if problems:
        payload = envelope(data, code=NOT_ACCEPTING.code, msg="not ready: " + "; ".join(problems))
        return web.json_response(payload, status=503, dumps=dumps, headers={"Retry-After": "5"})
    return ok(data)
