"""Structured logs on stdout: one JSON object per line (journald, containers) or readable text.

Code logs events with fields (``event("file", outcome="ok", file="a.pdf", total_ms=812)``); the
formatter decides how they look. One line per processed file carries its outcome and timings.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from ocrd.names import readable

_FIELDS = "ocrd_fields"
_EVENT = "ocrd_event"


def event(logger: logging.Logger, name: str, message: str, *, level: int = logging.INFO, **fields: Any) -> None:
    """Log ``message`` as event ``name`` with structured ``fields``."""
    if logger.isEnabledFor(level):
        logger.log(level, message, extra={_EVENT: name, _FIELDS: fields})


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": getattr(record, _EVENT, "log"),
            "msg": record.getMessage(),
        }
        data.update(getattr(record, _FIELDS, {}))
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return printable(json.dumps(data, ensure_ascii=False, default=str))


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created).strftime("%Y-%m-%d %H:%M:%S")
        fields = getattr(record, _FIELDS, {})
        extra = " ".join(f"{key}={_text(value)}" for key, value in fields.items() if value is not None)
        line = f"{stamp} {record.levelname:<7} {record.getMessage()}"
        if extra:
            line = f"{line}  [{extra}]"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return printable(line)


def printable(text: str) -> str:
    """Undecodable bytes of file names (lone surrogates) as U+FFFD: a log line must always encode."""
    return readable(text)


def _text(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else str(value)
    return f'"{text}"' if " " in text else text


def configure(level: str = "info", fmt: str = "auto", stream: TextIO | None = None) -> None:
    """Send the ``ocrd`` loggers to ``stream`` (stdout) in the chosen format; idempotent (SIGHUP)."""
    stream = stream or sys.stdout
    if fmt == "auto":
        fmt = "text" if stream.isatty() else "json"
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger("ocrd")
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    root.propagate = False
    # watchdog's own warnings (e.g. an observer that lost its folder) belong in the same log.
    watchdog = logging.getLogger("watchdog")
    for old in list(watchdog.handlers):
        watchdog.removeHandler(old)
    watchdog_handler = logging.StreamHandler(stream)
    watchdog_handler.setFormatter(handler.formatter)
    watchdog_handler.addFilter(_drop_shutdown_race)
    watchdog.addHandler(watchdog_handler)
    watchdog.setLevel(logging.WARNING)
    watchdog.propagate = False


def _drop_shutdown_race(record: logging.LogRecord) -> bool:
    # Logged by watchdog when an inotify event arrives while its observer is being stopped: harmless.
    return "called when the thread is inactive" not in record.getMessage()
