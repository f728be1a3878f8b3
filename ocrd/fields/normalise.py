"""Text clean-up before fields are matched, and the stricter clean-up inside numeric fields.

Page text is only made comparable (full-width forms folded to ASCII, so "：" and ":" or "２" and
"2" are the same to the patterns). Look-alike letters are turned into digits only inside a field
that must be digits, and every such change is recorded: a reviewer has to see that "O" on the
page was taken for "0".
"""

from __future__ import annotations

import re
from itertools import product

from ocrd.fields.checks import USCC_ALPHABET, uscc_check_character

# Full-width ASCII (U+FF01..U+FF5E) maps to ASCII by a fixed offset; the ideographic space too.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# Characters the recognizer confuses with digits on printed invoices.
DIGIT_LOOKALIKES = {"O": "0", "o": "0", "D": "0", "Q": "0", "I": "1", "l": "1", "|": "1", "Z": "2", "S": "5", "B": "8"}
# The currency sign is printed both ways and read as either.
_YEN = str.maketrans({"￥": "¥", "羊": "¥"})


def fold_width(text: str) -> str:
    """Full-width letters, digits and punctuation as ASCII; the ideographic space as a space."""
    return text.translate(_FULL_WIDTH).translate(_YEN)


def digits_only(raw: str, length: int | tuple[int, ...] | None = None) -> tuple[str, list[str]]:
    """``raw`` as a string of digits, look-alike letters replaced (each change listed).

    Spaces are dropped (check codes are printed in groups of five). Characters that are neither
    digits nor known look-alikes are kept, so the caller's structure check still fails on them.
    """
    changes: list[str] = []
    out = []
    for char in fold_width(raw):
        if char.isspace():
            continue
        if char in DIGIT_LOOKALIKES:
            out.append(DIGIT_LOOKALIKES[char])
            changes.append(f"{char}→{DIGIT_LOOKALIKES[char]}")
        else:
            out.append(char)
    value = "".join(out)
    del length  # structure is checked by the checks module; kept for call sites' readability
    return value, changes


# What the recognizer reads for a credit-code character when it reads a letter the code never uses.
_TAX_ID_LOOKALIKES = {"O": "0QD", "I": "1", "S": "5", "V": "UY", "Z": "2"}
_MAX_TAX_ID_GUESSES = 3  # characters to resolve at most: 3**3 candidates, not a search that always "succeeds"


def tax_id(raw: str) -> tuple[str, list[str]]:
    """A taxpayer ID: upper case, no spaces, letters a credit code never uses resolved.

    ``O`` may be a misread 0, Q or D. When the ID is 18 characters long, the candidate whose
    check character agrees is taken if exactly one does; otherwise each letter becomes its
    first look-alike (O→0) and the check character decides later whether the value holds.
    """
    value = fold_width(raw).replace(" ", "").upper()
    positions = [index for index, char in enumerate(value) if char in _TAX_ID_LOOKALIKES]
    if not positions:
        return value, []
    choices = [_TAX_ID_LOOKALIKES[value[index]] for index in positions]
    chosen = [options[0] for options in choices]
    if len(value) == 18 and len(positions) <= _MAX_TAX_ID_GUESSES:
        agreeing = []
        for candidate in product(*choices):
            text = list(value)
            for index, char in zip(positions, candidate, strict=True):
                text[index] = char
            code = "".join(text)
            if all(char in USCC_ALPHABET for char in code) and uscc_check_character(code[:17]) == code[17]:
                agreeing.append(list(candidate))
        if len(agreeing) == 1:
            chosen = agreeing[0]
    text = list(value)
    changes = []
    for index, char in zip(positions, chosen, strict=True):
        changes.append(f"{value[index]}→{char}")
        text[index] = char
    return "".join(text), changes


_SPACES = re.compile(r"\s+")


def compact(text: str) -> str:
    return _SPACES.sub("", text)


_NAME_BRACKETS = str.maketrans({"(": "（", ")": "）"})


def company_name(text: str) -> str:
    """A party's name without spaces and with the full-width brackets names are registered with."""
    return compact(text).translate(_NAME_BRACKETS)


def capitals_text(raw: str) -> str:
    """An amount in capitals as stored: no start mark (⊗), no spaces, (负数) in full-width brackets."""
    return company_name(raw).lstrip("⊗ⓧⓍ×")
