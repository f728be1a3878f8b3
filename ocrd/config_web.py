"""Checks of the [web] settings: who may reach the web interface, and whose token is whose."""

from __future__ import annotations

import ipaddress

from ocrd.config import WebSettings
from ocrd.errors import ConfigError


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a host name may resolve to any address: treat it as reachable from outside


def check_web_exposure(web: WebSettings, *, auth_explicit: bool, file: str | None) -> None:
    """Documents are not served to the network without a token, unless the configuration says so in words."""
    if web.enabled and web.auth == "none" and not auth_explicit and not is_loopback(web.host):
        raise ConfigError(
            f"[web] host {web.host!r} accepts connections from other machines, but the web interface has no "
            'authentication; set [web] auth = "token" and a [web] token (or OCRD_WEB__TOKEN), or write '
            '[web] auth = "none" (or OCRD_WEB__AUTH=none) if a reverse proxy or firewall protects it',
            path=file,
        )


def check_token_names(web: WebSettings, file: str | None) -> None:
    """Each name and each token once: a correction must say who made it, without doubt."""
    names = [web.token_name, *(name for name, _ in web.tokens)] if web.token else [name for name, _ in web.tokens]
    tokens = [web.token, *(token for _, token in web.tokens)] if web.token else [token for _, token in web.tokens]
    if len(set(names)) != len(names):
        raise ConfigError("[web.tokens] names each person once, and not with [web] token_name's name", path=file)
    if len(set(tokens)) != len(tokens):
        raise ConfigError("[web.tokens] gives two people the same token: give each one a token of their own", path=file)
