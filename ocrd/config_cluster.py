"""[cluster]: checked at start, so a typo in the Redis address or a role fails before any worker starts."""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import urlsplit

from ocrd.config import CLUSTER_ROLES, ClusterSettings, DaemonSettings
from ocrd.config_values import Origin, Value

PREFIX = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")


def build_cluster(
    values: dict[str, Any], given: dict[str, Value], daemon: DaemonSettings, file: str | None
) -> ClusterSettings | None:
    """The cluster settings, or None when no [cluster] key was given anywhere (one host, as ever)."""
    if not given:
        return None

    def origin(key: str) -> Origin:
        return given[key].origin if key in given else Origin(f"[cluster] {key}", file)

    url = values.get("url", "").strip()
    if not url:
        raise origin("url").error('is needed in cluster mode, e.g. url = "redis://10.0.0.5:6379/0"')
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise origin("url").error(f"must be redis://host:port/db or rediss://host:port/db (TLS), got {safe_url(url)!r}")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        raise origin("url").error(f"has a bad port ({exc}): {safe_url(url)!r}") from exc
    roles = tuple(dict.fromkeys(role.strip().lower() for role in values.get("roles", CLUSTER_ROLES)))
    unknown = [role for role in roles if role not in CLUSTER_ROLES]
    if unknown or not roles:
        raise origin("roles").error(
            f"must list some of {', '.join(repr(r) for r in CLUSTER_ROLES)} (got {list(values.get('roles', ()))!r})"
        )
    prefix = values.get("prefix", "ocrd")
    if not PREFIX.match(prefix):
        raise origin("prefix").error(f"must be 1-40 letters, digits, '_', '.' or '-' (got {prefix!r})")
    host = values.get("host", "").strip() or daemon.node_name or os.uname().nodename
    if not PREFIX.match(host):
        raise origin("host").error(f"must be 1-40 letters, digits, '_', '.' or '-' (got {host!r})")
    settings = ClusterSettings(**{**values, "url": url, "roles": roles, "host": host, "prefix": prefix})
    if settings.ca_file and not os.path.isfile(settings.ca_file):
        raise origin("ca_file").error(f"{settings.ca_file} is not a file")
    return settings


def safe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()
