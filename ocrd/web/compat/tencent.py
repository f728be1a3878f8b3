"""Tencent OCR requests answered by ocrd (being written)."""

from __future__ import annotations

from aiohttp import web


async def handle(request: web.Request) -> web.StreamResponse:
    raise web.HTTPNotFound(text="not served yet\n")
