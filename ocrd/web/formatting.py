"""Small formatting helpers shared by the handlers."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(timestamp: float) -> str:
    """Seconds since the epoch as an ISO 8601 UTC time, to the second: 2026-11-03T09:15:02Z."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
