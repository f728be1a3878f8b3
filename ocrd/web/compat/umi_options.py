"""The ``options`` of an Umi-OCR request: which ocrd honours, their defaults, and how they are checked.

Umi-OCR fills every option a request leaves out with its default and ignores keys it does not
know (other engines' ``ocr.*`` options, for instance), so ocrd does the same. A known option
with a value ocrd cannot honour is refused (code 804) rather than silently replaced: a client
asking for Japanese would otherwise get Chinese guesses back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ocrd.web.compat.umi_codes import OPTIONS_INVALID, UmiError

LANGUAGE = "ocr.language"
CLS = "ocr.cls"
LIMIT_SIDE_LEN = "ocr.limit_side_len"
PARSER = "tbpu.parser"
IGNORE_AREA = "tbpu.ignoreArea"
FORMAT = "data.format"

# Umi-OCR's PaddleOCR plugin names a language by its model config file, its RapidOCR plugin by
# the language's own name; both are accepted, and ocrd's own codes too.
CHINESE_FILE = "models/config_chinese.txt"
ENGLISH_FILE = "models/config_en.txt"
_LANGS = {
    CHINESE_FILE: "zh",
    "简体中文": "zh",
    "zh": "zh",
    ENGLISH_FILE: "en",
    "english": "en",
    "en": "en",
}
UMI_LANGUAGE = {"zh": CHINESE_FILE, "en": ENGLISH_FILE}  # ocrd's language as Umi-OCR names it

PARSERS = {
    "multi_para": "multi-column, new line at each paragraph",
    "multi_line": "multi-column, new line after every line",
    "multi_none": "multi-column, no new lines",
    "single_para": "single column, new line at each paragraph",
    "single_line": "single column, new line after every line",
    "single_none": "single column, no new lines",
    "single_code": "single column, keep indentation (read as single_line)",
    "none": "as read, new line after every line",
}
FORMATS = {"dict": "a list of text blocks with boxes", "text": "the text only"}
SIDE_LENGTHS = (960, 2880, 4320, 999999)

Area = tuple[float, float, float, float]  # left, top, right, bottom


@dataclass(frozen=True)
class UmiOptions:
    lang: str | None = None  # ocrd's "zh"/"en"; None: the daemon's [engine] lang
    parser: str = "multi_para"
    format: str = "dict"
    ignore_areas: tuple[Area, ...] = ()


def parse_options(raw: dict[str, Any]) -> UmiOptions:
    """The options ocrd honours, checked; keys it does not know are ignored, as Umi-OCR ignores them."""
    given = {key: value for key, value in raw.items() if value is not None}
    lang = _language(given[LANGUAGE]) if LANGUAGE in given else None
    if CLS in given and not isinstance(given[CLS], bool):
        raise _invalid(CLS, given[CLS], "true or false")
    if LIMIT_SIDE_LEN in given and (isinstance(given[LIMIT_SIDE_LEN], bool) or not _is_number(given[LIMIT_SIDE_LEN])):
        raise _invalid(LIMIT_SIDE_LEN, given[LIMIT_SIDE_LEN], "a number")
    parser = given.get(PARSER, "multi_para")
    if parser not in PARSERS:
        raise _invalid(PARSER, parser, " or ".join(PARSERS))
    fmt = given.get(FORMAT, "dict")
    if fmt not in FORMATS:
        raise _invalid(FORMAT, fmt, "dict or text")
    areas = _areas(given[IGNORE_AREA]) if IGNORE_AREA in given else ()
    return UmiOptions(lang=lang, parser=parser, format=fmt, ignore_areas=areas)


def _language(value: object) -> str:
    lang = _LANGS.get(value.strip().lower()) if isinstance(value, str) else None
    if lang is None:
        raise UmiError(
            OPTIONS_INVALID,
            f"{LANGUAGE} {_shown(value)} is not read by this server: it reads Simplified Chinese with English "
            f"({CHINESE_FILE!r}) and English ({ENGLISH_FILE!r})",
        )
    return lang


def _areas(value: object) -> tuple[Area, ...]:
    """Umi-OCR's rectangles [[left, top], [right, bottom]], in image pixels."""
    if not isinstance(value, list):
        raise _invalid(IGNORE_AREA, value, "a list of [[x1, y1], [x2, y2]] rectangles")
    areas = []
    for item in value:
        corners = item if isinstance(item, list) and len(item) == 2 else None
        if corners is None or not all(isinstance(c, list) and len(c) == 2 and all(map(_is_number, c)) for c in corners):
            raise _invalid(IGNORE_AREA, value, "a list of [[x1, y1], [x2, y2]] rectangles")
        (x1, y1), (x2, y2) = corners
        areas.append((float(min(x1, x2)), float(min(y1, y2)), float(max(x1, x2)), float(max(y1, y2))))
    return tuple(areas)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _shown(value: object) -> str:
    return repr(value)[:60]


def _invalid(key: str, value: object, wanted: str) -> UmiError:
    return UmiError(OPTIONS_INVALID, f"options {key} must be {wanted} (got {_shown(value)})")


def option_table(default_lang: str) -> dict[str, dict[str, Any]]:
    """GET /api/ocr/get_options: each option ocrd honours, described the way Umi-OCR describes its own."""
    return {
        LANGUAGE: {
            "title": "Language",
            "toolTip": "Simplified Chinese (with English, digits and punctuation) or English only.",
            "type": "enum",
            "default": UMI_LANGUAGE.get(default_lang, CHINESE_FILE),
            "optionsList": [[CHINESE_FILE, "简体中文 (with English)"], [ENGLISH_FILE, "English"]],
        },
        CLS: {
            "title": "Correct text direction",
            "toolTip": "Accepted; ocrd turns sideways and upside-down pages and lines as its configuration says.",
            "type": "boolean",
            "default": False,
        },
        LIMIT_SIDE_LEN: {
            "title": "Limit image side length",
            "toolTip": "Accepted and ignored: ocrd scales images for its detector by itself.",
            "type": "enum",
            "default": SIDE_LENGTHS[0],
            "optionsList": [[length, str(length)] for length in SIDE_LENGTHS],
        },
        PARSER: {
            "title": "Layout parsing",
            "toolTip": 'How text blocks are joined: sets each block\'s end ("\\n", " " or "").',
            "type": "enum",
            "default": "multi_para",
            "optionsList": [[key, words] for key, words in PARSERS.items()],
        },
        IGNORE_AREA: {
            "title": "Ignore areas",
            "toolTip": "A list of [[x1,y1],[x2,y2]] rectangles; text blocks lying wholly inside one are dropped.",
            "type": "var",
            "default": [],
        },
        FORMAT: {
            "title": "Data format",
            "toolTip": 'What ["data"] holds: text blocks with boxes (dict) or the text only (text).',
            "type": "enum",
            "default": "dict",
            "optionsList": [[key, words] for key, words in FORMATS.items()],
        },
    }
