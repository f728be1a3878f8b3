"""Generic "label: value" pairs, for documents that are not a known kind (forms, receipts).

A label is a short run of text ending in a colon; its value is what follows up to the next
label in the same line. Nothing is guessed beyond that: a form's fields stay as printed.
"""

from __future__ import annotations

import re
from typing import Any

from ocrd.fields.geometry import PlacedLine
from ocrd.fields.normalise import fold_width

# A label is 1-12 characters without spaces, digits or punctuation, then a colon; so in
# "姓名：张三 电话：138…" the value 张三 ends at the space before the next label.
_LABEL = re.compile(r"(?<![^\s:;,.，。、])([^\s:;,.，。、\d]{1,12})\s*:\s*")
MAX_PAIRS = 200  # a page of a thousand "a:b" tokens (logs, code listings) is not a form


def label_value_pairs(lines: list[PlacedLine]) -> list[dict[str, Any]]:
    pairs: list[dict[str, Any]] = []
    for line in lines:
        text = fold_width(line.text)
        labels = list(_LABEL.finditer(text))
        for index, match in enumerate(labels):
            end = labels[index + 1].start() if index + 1 < len(labels) else len(text)
            value = line.text[match.end() : end].strip()
            if not value:
                continue
            pairs.append(
                {
                    "label": line.text[match.start(1) : match.end(1)].strip(),
                    "value": value,
                    "confidence": round(float(line.line.confidence), 4),
                    "page": line.page,
                    "box": [[round(x, 1), round(y, 1)] for x, y in line.span_box(match.start(), end)],
                }
            )
            if len(pairs) >= MAX_PAIRS:
                return pairs
    return pairs
