"""Baidu AI OCR requests answered by ocrd (being written)."""

from __future__ import annotations

from aiohttp import web

OWN_AUTH_PREFIXES = ("/oauth/2.0/", "/rest/2.0/")


def add_routes(app: web.Application) -> None:
    return None
