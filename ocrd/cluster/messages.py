"""What travels through the streams: a file on a shared inbox, or an upload whose bytes sit in Redis.

Field values are short strings; a file's job id is derived from where it is and what it holds,
so every watcher that sees the same file publishes the same job (and Redis keeps one).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, fields
from typing import Any

FILES = "files"
UPLOADS = "uploads"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True)
class FileMessage:
    """A settled file in a shared inbox: who may claim it finds it under ``inbox``'s path + ``rel``."""

    inbox: str
    rel: str
    sha256: str
    size: int
    mtime_ns: int
    by: str = ""  # the host that published it

    @property
    def job(self) -> str:
        key = f"{self.inbox}\0{self.rel}\0{self.sha256}\0{self.size}\0{self.mtime_ns}"
        return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:24]

    def to_fields(self) -> dict[str, str]:
        return {"job": self.job, **{key: str(value) for key, value in asdict(self).items()}}

    @classmethod
    def from_fields(cls, data: dict[Any, Any]) -> FileMessage:
        text = {_text(key): _text(value) for key, value in data.items()}
        return cls(
            inbox=text["inbox"],
            rel=text["rel"],
            sha256=text["sha256"],
            size=int(text["size"]),
            mtime_ns=int(text["mtime_ns"]),
            by=text.get("by", ""),
        )


@dataclass(frozen=True)
class UploadMessage:
    """An upload taken by a web host; its bytes are at the queue's upload key for ``job``."""

    job: str
    name: str
    size: int
    lang: str = ""
    fields: str = ""  # a fields mode for this upload only; "" keeps the configured one
    by: str = ""

    def to_fields(self) -> dict[str, str]:
        return {key: str(value) for key, value in asdict(self).items()}

    @classmethod
    def from_fields(cls, data: dict[Any, Any]) -> UploadMessage:
        text = {_text(key): _text(value) for key, value in data.items()}
        known = {item.name for item in fields(cls)}
        values: dict[str, Any] = {key: value for key, value in text.items() if key in known}
        values["size"] = int(values.get("size", 0))
        return cls(**values)


@dataclass
class Delivery:
    """One message handed to this host: acknowledge it once its work is durable (or pointless)."""

    stream: str  # FILES or UPLOADS
    id: str
    fields: dict[str, str]
    deliveries: int = 1  # times Redis handed it out, this one included

    @classmethod
    def of(cls, stream: str, message_id: Any, data: dict[Any, Any], deliveries: int = 1) -> Delivery:
        return cls(stream, _text(message_id), {_text(k): _text(v) for k, v in data.items()}, deliveries)
