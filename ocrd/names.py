"""File names: the one scheme for result files, and names that are not valid text.

Results are named after the whole file name, extension included (``scan.jpg`` ->
``scan.jpg.json`` + ``scan.jpg.txt``), so ``scan.jpg`` and ``scan.pdf`` in one folder never
compete for one name. The daemon, ``ocrd ocr --out`` and the web downloads all use
``result_name``.

A file name on Linux is any byte string without ``/`` and NUL, at most 255 bytes. Python gives
undecodable bytes to us as lone surrogates (``surrogateescape``); ``os`` functions accept them
back unchanged, but they cannot be encoded as UTF-8 text. ``readable`` gives people a form they
can read, ``name_bytes`` the lossless one.
"""

from __future__ import annotations

import base64
import hashlib
import os

NAME_MAX = 255  # bytes in one path component on every file system we support
# Room kept free for a collision number (".2" ... ".99999") placed before the last suffix.
NUMBER_ROOM = 8


def fs_bytes(name: str) -> bytes:
    """The bytes the file system holds for ``name`` (undecodable bytes restored)."""
    return os.fsencode(name)


def is_text(name: str) -> bool:
    """True when ``name`` is valid Unicode text (no undecodable bytes)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def readable(name: str) -> str:
    """A form of ``name`` for people and JSON: undecodable bytes shown as U+FFFD."""
    if is_text(name):
        return name
    try:
        raw = fs_bytes(name)
    except UnicodeEncodeError:  # a surrogate that no file system produced: not from a name
        raw = name.encode("utf-8", errors="replace")
    return raw.decode("utf-8", errors="replace")


def name_bytes(name: str) -> str | None:
    """The exact bytes of a name that is not valid text, base64-encoded; None for ordinary names."""
    if is_text(name):
        return None
    return base64.b64encode(fs_bytes(name)).decode("ascii")


def cut_bytes(text: str, budget: int) -> str:
    """The longest prefix of ``text`` whose file-system bytes fit in ``budget``."""
    out = []
    used = 0
    for char in text:
        size = len(fs_bytes(char)) if char != "\x00" else 1
        if used + size > budget:
            break
        out.append(char)
        used += size
    return "".join(out)


def fitting(name: str, suffix: str = "", *, room: int = NUMBER_ROOM) -> str:
    """``name + suffix``, shortened if needed so it fits in NAME_MAX bytes with ``room`` to spare.

    A shortened name keeps the start of the original name, then ``~`` and 10 hex digits of the
    original name's hash, then the original's extension and the suffix: two long names that share
    their start still get different results, and the full name is recorded inside the result.
    """
    full = name + suffix
    limit = NAME_MAX - room
    if len(fs_bytes(full)) <= limit:
        return full
    digest = hashlib.sha256(fs_bytes(name)).hexdigest()[:10]
    stem, ext = os.path.splitext(name)
    if len(fs_bytes(ext)) > 16:  # not a real extension: part of the name
        stem, ext = name, ""
    tail = f"~{digest}{ext}{suffix}"
    return cut_bytes(stem, limit - len(fs_bytes(tail))) + tail


def result_name(file_name: str, suffix: str) -> str:
    """The result file for ``file_name`` with ``suffix`` (``.json``, ``.txt``, ``.error.json`` ...).

    Result names are always valid text (undecodable bytes become U+FFFD), so that every client
    of a share can open them; the exact original name is recorded inside the result.
    """
    return fitting(readable(file_name), suffix)
