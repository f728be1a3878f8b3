"""Which result files are written for a document: the names, their suffixes, and parsing a choice.

One list for the daemon's ``outputs`` setting, ``ocrd ocr --outputs`` and the web API's
``outputs`` parameter, so the three accept the same names and refuse the same mistakes. The
JSON is always among them: its presence marks a result as complete (the daemon links it last)
and it holds everything the other files are made from.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

JSON, TXT, PDF = "json", "txt", "pdf"
OUTPUT_KINDS = (JSON, TXT, PDF)
DEFAULT_OUTPUTS = (JSON, TXT)
# A result file is the input's whole name plus this: scan.jpg -> scan.jpg.pdf (ocrd.names.result_name).
SUFFIXES = {JSON: ".json", TXT: ".txt", PDF: ".pdf"}


class OutputsChoiceError(ValueError):
    """A list of outputs that cannot be used; the message says what to write instead."""


def parse_outputs(items: Iterable[str]) -> tuple[str, ...]:
    """Known, lower-cased, duplicates dropped, in the canonical order; refuses unknown names and no JSON."""
    names = [item.strip().lower() for item in items if item.strip()]
    unknown = [name for name in names if name not in OUTPUT_KINDS]
    if unknown:
        close = difflib.get_close_matches(unknown[0], OUTPUT_KINDS, n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise OutputsChoiceError(
            f"has unknown output {unknown[0]!r}{hint}; choose from {', '.join(OUTPUT_KINDS)}, e.g. json,txt,pdf"
        )
    if JSON not in names:
        raise OutputsChoiceError(
            "must include 'json': the JSON result marks a document as done and holds what the other files are "
            f"made from; e.g. {','.join(dict.fromkeys((JSON, *names)))}"
        )
    return tuple(kind for kind in OUTPUT_KINDS if kind in names)


def split_outputs(text: str) -> tuple[str, ...]:
    """``"json,txt,pdf"`` (command line, query string, environment variable) as a parsed choice."""
    return parse_outputs(text.split(","))
