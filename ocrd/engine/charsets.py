"""Which characters the recognizer may output for a language and an allow-list."""

from __future__ import annotations

import string
from collections.abc import Sequence

from ocrd.config import LANGS
from ocrd.errors import UsageError

# Characters the English mode may output: printable ASCII plus common typographic marks.
ENGLISH_CHARACTERS = string.printable.strip() + " ‘’“”–—…•·°±×÷€£¥§©®™"

# Japanese kana are in PP-OCRv6's dictionary (and may be in a user's), never in Chinese or English
# text, and some have the shape of common Chinese characters: without this, PP-OCRv6 small read
# "工口力二" drawn in a Chinese font as "エロカ二". The katakana middle dot stays (Chinese typesetting
# writes foreign names with it).
KANA = (
    {chr(c) for c in range(0x3041, 0x30A0)}
    | {chr(c) for c in range(0x30A1, 0x3100)} - {"・"}
    | {chr(c) for c in range(0x31F0, 0x3200)}
    | {chr(c) for c in range(0xFF66, 0xFFA0)}
)


def allowed_characters(lang: str, allowlist: str | None, charset: Sequence[str] = ()) -> str | None:
    """The characters the recognizer may output, or None for all of ``charset``."""
    if lang not in LANGS:
        raise UsageError(f"unknown language {lang!r}; choose one of: {', '.join(LANGS)}")
    if lang == "en":
        english = set(ENGLISH_CHARACTERS)
        return "".join(sorted(english & set(allowlist) if allowlist else english))
    if allowlist:  # what the user listed, kana too if listed
        return "".join(sorted(set(allowlist)))
    return "".join(sorted(c for c in charset if c not in KANA)) if KANA.intersection(charset) else None
