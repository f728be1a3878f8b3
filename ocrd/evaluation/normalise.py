"""Making a label and a prediction comparable.

Both sides go through the same steps, decided once from the *reference* so that a prediction can
never change how it is judged:

1. Unicode NFKC: full-width ``ＡＢＣ１２３`` and ``，：（）`` become ``ABC123`` and ``,:()``, ligatures
   are expanded, compatibility ideographs map to their unified forms.
2. ``case_insensitive`` lowercases.
3. Whitespace. Where spacing carries no information it is dropped entirely: when ``match`` is
   ``ignore_space`` or the reference is mostly Chinese (more than half of its Han + Latin letters are
   Han; Chinese does not separate words, and whether "2021 年6 月" has spaces is typesetting).
   Otherwise runs of whitespace (including the "\\n" between lines) collapse to one space, and a
   space touching a CJK character is dropped too, for the same typesetting reason ("上海 Shanghai").
"""

from __future__ import annotations

import re
import unicodedata

CHINESE_LANGS = ("zh", "zh-Hant")

# Han ideographs (basic, extension A, compatibility, extensions B and later) plus CJK punctuation
# and kana: the scripts that are written without spaces between words.
_CJK_CLASS = "\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_LATIN_LETTER = re.compile("[A-Za-z\u00c0-\u024f]")
_SPACE_BESIDE_CJK = re.compile(f"(?<=[{_CJK_CLASS}]) | (?=[{_CJK_CLASS}])")


def is_mostly_chinese(text: str) -> bool | None:
    """True when Han characters outnumber Latin letters; None when the text has neither (digits only)."""
    han = len(_HAN.findall(text))
    latin = len(_LATIN_LETTER.findall(text))
    if han + latin == 0:
        return None
    return han > latin


def drops_whitespace(reference: str, *, lang: str, match: str) -> bool:
    """Whether whitespace is removed entirely (rather than collapsed) when comparing with this reference."""
    if match == "ignore_space":
        return True
    mostly_chinese = is_mostly_chinese(unicodedata.normalize("NFKC", reference))
    if mostly_chinese is None:
        return lang in CHINESE_LANGS  # nothing to count (e.g. "2022 01 05"): trust the label's language
    return mostly_chinese


def normalise(text: str, *, lang: str, match: str, drop_whitespace: bool | None = None) -> str:
    """The comparable form of ``text``.

    ``drop_whitespace`` is normally decided from the reference by the caller (``drops_whitespace``)
    and passed for both sides; when omitted it is decided from ``text`` itself.
    """
    text = unicodedata.normalize("NFKC", text)
    if drop_whitespace is None:
        drop_whitespace = drops_whitespace(text, lang=lang, match=match)
    if match == "case_insensitive":
        text = text.lower()
    if drop_whitespace:
        return "".join(text.split())
    return _SPACE_BESIDE_CJK.sub("", " ".join(text.split()))
