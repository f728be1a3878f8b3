"""Receiving one uploaded file: streamed to disk, size-limited, recognised by content.

The client's file name is only ever a label (shown in results and messages); the bytes go to
a fixed name inside a folder the server created, so no name can point anywhere else. The
extension and Content-Type are ignored: the first bytes decide what the file is.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from aiohttp import BodyPartReader, web

from ocrd.config import LANGS
from ocrd.documents import sniff_format
from ocrd.documents.sniff import HEAD_BYTES, SUPPORTED_FOR_HUMANS, describe_unsupported
from ocrd.fields.model import FIELD_MODES
from ocrd.outputs_choice import DEFAULT_OUTPUTS, OutputsChoiceError, split_outputs
from ocrd.web.replies import BAD_REQUEST, EMPTY_FILE, TOO_LARGE, UNSUPPORTED, ApiFailure

FILE_FIELD = "image"
LANG_FIELD = "lang"
FIELDS_FIELD = "fields"
OUTPUTS_FIELD = "outputs"
TEXT_FIELDS = (LANG_FIELD, FIELDS_FIELD, OUTPUTS_FIELD)  # small form fields that may also come in the query string
UPLOAD_NAME = "upload"  # the stored file's name inside its folder, whatever the client called it
CHUNK = 256 * 1024
FLUSH_EVERY = 2 * 1024 * 1024  # bytes buffered before one write in a thread
MULTIPART_SLACK = 64 * 1024  # headers and boundaries around the file in the request body
SMALL_FIELD_LIMIT = 256  # bytes a text field such as "lang" may have
MAX_NAME_CHARS = 120


@dataclass(frozen=True)
class Upload:
    path: Path
    name: str  # the client's file name, cleaned, for display only
    size: int
    fmt: str  # what the content is: one of ocrd.documents.SUPPORTED_FORMATS
    lang: str | None
    fields: str | None = None  # the fields mode asked for (one of FIELD_MODES); None: the daemon's own
    outputs: tuple[str, ...] = (
        DEFAULT_OUTPUTS  # result files asked for (ocrd.outputs_choice); json and txt always exist
    )


def display_name(raw: str | None) -> str:
    """The last component of the client's file name, without control characters, bounded."""
    if not raw:
        return "upload"
    # Browsers percent-encode quotes and line breaks in multipart file names (HTML spec), and
    # some clients encode everything non-ASCII that way.
    with contextlib.suppress(UnicodeDecodeError):
        raw = unquote(raw, errors="strict")
    name = re.split(r"[/\\]", raw)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    name = name.lstrip(".") or "upload"
    if len(name) > MAX_NAME_CHARS:
        _, dot, ext = name.rpartition(".")
        keep = ext if dot and len(ext) <= 8 else ""
        name = name[: MAX_NAME_CHARS - len(keep) - 2] + "…" + ("." + keep if keep else "")
    return name


def human_size(size: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return f"{size} bytes"


def too_large(max_bytes: int) -> ApiFailure:
    return ApiFailure(
        TOO_LARGE,
        f"the upload is larger than the limit of {human_size(max_bytes)}; "
        "split the document or raise [web] max_upload_bytes in the daemon configuration",
    )


def parse_lang(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    lang = value.strip().lower()
    if lang not in LANGS:
        raise ApiFailure(BAD_REQUEST, f"unknown language {value.strip()[:20]!r}; use one of: {', '.join(LANGS)}")
    return lang


def parse_fields(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    mode = value.strip().lower()
    if mode not in FIELD_MODES:
        raise ApiFailure(
            BAD_REQUEST, f"unknown fields mode {value.strip()[:30]!r}; use one of: {', '.join(FIELD_MODES)}"
        )
    return mode


def parse_outputs(value: str | None) -> tuple[str, ...]:
    if value is None or not value.strip():
        return DEFAULT_OUTPUTS
    try:
        return split_outputs(value)
    except OutputsChoiceError as exc:
        raise ApiFailure(BAD_REQUEST, f"outputs {exc}") from None


async def receive_upload(request: web.Request, folder: Path, max_bytes: int) -> Upload:
    """Read the multipart request: the file in field ``image`` (to ``folder``), optional ``lang``, ``fields``
    and ``outputs``."""
    if request.content_type != "multipart/form-data":
        raise ApiFailure(
            BAD_REQUEST,
            f"send the file as multipart/form-data in the field '{FILE_FIELD}' (got Content-Type "
            f"{request.content_type or 'none'!r})",
        )
    if request.content_length is not None and request.content_length > max_bytes + MULTIPART_SLACK:
        raise too_large(max_bytes)
    try:
        reader = await request.multipart()
    except (ValueError, AssertionError) as exc:
        raise ApiFailure(BAD_REQUEST, f"the multipart body cannot be read: {exc}") from None
    texts: dict[str, str] = {}
    stored: tuple[str, int] | None = None
    budget = max_bytes + MULTIPART_SLACK  # everything but the file counts against this as well
    while True:
        try:
            part = await reader.next()
        except ValueError as exc:
            raise ApiFailure(BAD_REQUEST, f"the multipart body is malformed: {exc}") from None
        if part is None:
            break
        if not isinstance(part, BodyPartReader):  # a nested multipart: not something we asked for
            raise ApiFailure(BAD_REQUEST, "nested multipart bodies are not supported")
        if part.name == FILE_FIELD:
            if stored is not None:
                raise ApiFailure(BAD_REQUEST, f"send one file per request in the field '{FILE_FIELD}'")
            size = await _store(part, folder / UPLOAD_NAME, max_bytes)
            stored = (display_name(part.filename), size)
        elif part.name in TEXT_FIELDS:
            texts[part.name] = (await _read_small(part)).decode("utf-8", "replace")
        else:
            budget -= await _discard(part, budget)
            if budget < 0:
                raise too_large(max_bytes)
    if stored is None:
        raise ApiFailure(BAD_REQUEST, f"the request has no file: put it in the multipart field '{FILE_FIELD}'")
    name, size = stored
    # A form field wins over the same parameter in the query string.
    lang = parse_lang(texts.get(LANG_FIELD, request.query.get(LANG_FIELD)))
    fields = parse_fields(texts.get(FIELDS_FIELD, request.query.get(FIELDS_FIELD)))
    outputs = parse_outputs(texts.get(OUTPUTS_FIELD, request.query.get(OUTPUTS_FIELD)))
    path = folder / UPLOAD_NAME
    if size == 0:
        raise ApiFailure(EMPTY_FILE, f"the uploaded file {name!r} is empty (0 bytes)")
    head = await asyncio.to_thread(_head, path)
    fmt = sniff_format(head)
    if fmt is None:
        raise ApiFailure(
            UNSUPPORTED,
            f"{name!r} is not a supported document: its content is {describe_unsupported(head)}. "
            f"Supported are {SUPPORTED_FOR_HUMANS}, recognised by content (name and Content-Type are ignored)",
        )
    return Upload(path=path, name=name, size=size, fmt=fmt, lang=lang, fields=fields, outputs=outputs)


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(HEAD_BYTES)


async def _store(part: BodyPartReader, target: Path, max_bytes: int) -> int:
    # O_EXCL: the folder is new and ours; never write through something already there.
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    size = 0
    buffer = bytearray()
    try:
        with os.fdopen(fd, "wb") as handle:
            while chunk := await part.read_chunk(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise too_large(max_bytes)
                buffer += chunk
                if len(buffer) >= FLUSH_EVERY:
                    await asyncio.to_thread(handle.write, bytes(buffer))
                    buffer.clear()
            if buffer:
                await asyncio.to_thread(handle.write, bytes(buffer))
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return size


async def _read_small(part: BodyPartReader) -> bytes:
    data = bytearray()
    while chunk := await part.read_chunk(1024):
        data += chunk
        if len(data) > SMALL_FIELD_LIMIT:
            raise ApiFailure(BAD_REQUEST, f"the field {part.name!r} is too long")
    return bytes(data)


async def _discard(part: BodyPartReader, budget: int) -> int:
    size = 0
    while chunk := await part.read_chunk(CHUNK):
        size += len(chunk)
        if size > budget:
            break
    return size
