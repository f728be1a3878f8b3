"""The user's field rules in the configuration file: ``[[fields.rules]]`` and ``[[inbox.rules]]``.

Each rule is checked when the configuration is loaded, so a pattern that cannot work stops the
start instead of silently finding nothing. tomllib gives no line numbers, and "rule #7 of 12" is
hard to find in a long file, so the errors name the line each rule starts on: found by reading
the file's text for the Nth rule header (or the Nth inline table of a ``rules = [...]`` array).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ocrd.config import FieldRule
from ocrd.errors import ConfigError
from ocrd.fields.rules import RuleError, compile_rule

RULE_KEYS = ("name", "pattern", "kinds", "normalise", "check", "check_pattern")
REQUIRED_KEYS = {
    "name": 'the field\'s name in results, e.g. name = "invoice_code"',
    "pattern": "a regular expression with a group named value, e.g. pattern = '发票代码[:：]?\\s*(?P<value>\\d+)'",
}

# Who a rule belongs to: ("fields", 0) for [[fields.rules]], ("inbox", n) for the rules of the nth [[inbox]].
Owner = tuple[str, int]
SHARED: Owner = ("fields", 0)


def inbox_owner(number: int) -> Owner:
    return ("inbox", number)


def _header(owner: Owner) -> str:
    return "[[fields.rules]]" if owner == SHARED else f"[[inbox]] #{owner[1]} [[inbox.rules]]"


# --- where each rule starts in the file's text --------------------------------------------------------

_BARE = re.compile(r"[A-Za-z0-9_+.:-]+")


def _string_end(text: str, start: int) -> int:
    """The index just past the TOML string opening at ``start`` (basic or literal, one or three quotes)."""
    quote = text[start]
    triple = text.startswith(quote * 3, start)
    index = start + (3 if triple else 1)
    while index < len(text):
        char = text[index]
        if char == "\\" and quote == '"':
            index += 2
            continue
        if triple and text.startswith(quote * 3, index):
            index += 3
            # Up to two more quotes belong to the string: """a "quoted" b"""" ends with a quote.
            extra = 0
            while extra < 2 and index < len(text) and text[index] == quote:
                index, extra = index + 1, extra + 1
            return index
        if not triple and char in (quote, "\n"):
            return index + 1
        index += 1
    return index


@dataclass(frozen=True)
class _Token:
    kind: str  # "newline", "punct", "bare", "string"
    text: str
    line: int


def _tokens(text: str) -> Iterator[_Token]:
    index, line = 0, 1
    while index < len(text):
        char = text[index]
        if char == "\n":
            yield _Token("newline", char, line)
            index, line = index + 1, line + 1
        elif char in " \t\r":
            index += 1
        elif char == "#":
            end = text.find("\n", index)
            index = len(text) if end < 0 else end
        elif char in "\"'":
            end = _string_end(text, index)
            body = text[index:end]
            yield _Token("string", body.strip(char), line)
            index, line = end, line + body.count("\n")
        elif char in "[]{}=,":
            yield _Token("punct", char, line)
            index += 1
        else:
            match = _BARE.match(text, index)
            if match is None:
                index += 1
                continue
            yield _Token("bare", match.group(), line)
            index = match.end()


def _key(tokens: list[_Token]) -> tuple[str, ...]:
    """A dotted key from its tokens: ``fields.rules``, ``"fields".rules``, ``fields . rules``."""
    parts: list[str] = []
    for token in tokens:
        if token.kind == "string":
            parts.append(token.text)
        elif token.kind == "bare":
            parts.extend(part for part in token.text.split(".") if part)
    return tuple(parts)


def _owner(key: tuple[str, ...], inboxes: int) -> Owner | None:
    if key == ("fields", "rules"):
        return SHARED
    if key == ("inbox", "rules") and inboxes:
        return inbox_owner(inboxes)
    return None


def rule_lines(text: str) -> dict[Owner, list[int]]:
    """The line each rule starts on, per owner, in file order (the order tomllib gives them in)."""
    tokens = [*_tokens(text), _Token("newline", "\n", text.count("\n") + 1)]
    found: dict[Owner, list[int]] = {}
    table: tuple[str, ...] = ()
    inboxes = 0
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.kind == "newline":
            index += 1
            continue
        if token.text == "[":  # a [table] or [[array of tables]] header
            array = tokens[index + 1].text == "["
            index += 2 if array else 1
            start = index
            while tokens[index].text != "]" and tokens[index].kind != "newline":
                index += 1
            table = _key(tokens[start:index])
            if array:
                inboxes += table == ("inbox",)
                owner = _owner(table, inboxes)
                if owner is not None:
                    found.setdefault(owner, []).append(token.line)
        else:  # key = value
            start = index
            while tokens[index].text != "=" and tokens[index].kind != "newline":
                index += 1
            owner = _owner(table + _key(tokens[start:index]), inboxes)
            depth = 0
            index += 1
            while index < len(tokens) and not (depth == 0 and tokens[index].kind == "newline"):
                value = tokens[index]
                if value.kind == "punct" and value.text in "[{":
                    if value.text == "{" and depth == 1 and owner is not None:
                        found.setdefault(owner, []).append(value.line)  # one inline rule of rules = [...]
                    depth += 1
                elif value.kind == "punct" and value.text in "]}":
                    depth -= 1
                index += 1
        while index < len(tokens) and tokens[index].kind != "newline":
            index += 1
    return found


@dataclass
class RuleLocator:
    """Finds rule lines in one configuration file, reading its text only if it has rules."""

    path: Path
    _lines: dict[Owner, list[int]] | None = field(default=None, init=False)

    def line(self, owner: Owner, number: int) -> int | None:
        if self._lines is None:
            try:
                self._lines = rule_lines(self.path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                self._lines = {}
        lines = self._lines.get(owner, [])
        return lines[number - 1] if number <= len(lines) else None


# --- parsing and checking the rules -------------------------------------------------------------------


def _error(locator: RuleLocator, owner: Owner, number: int, name: str | None, problem: str) -> ConfigError:
    line = locator.line(owner, number)
    where = f"{locator.path} line {line}" if line is not None else str(locator.path)
    label = f"{_header(owner)} #{number}" + (f' "{name}"' if name else "")
    error = ConfigError(f"{where}: {label}: {problem}")
    error.path = str(locator.path)
    return error


def _text(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise RuleError(key, f"must be a text string (got {value!r})")
    return value


def _kinds(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise RuleError("kinds", f'must be a list of document kinds, e.g. ["vat_normal"] (got {value!r})')
    if not value:
        raise RuleError("kinds", "must name at least one kind; leave it out to apply the rule to every kind")
    return tuple(item.strip().lower() for item in value)


def _rule(entry: dict[str, Any]) -> FieldRule:
    for key in entry:
        if key not in RULE_KEYS:
            close = difflib.get_close_matches(key, RULE_KEYS, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else f"; a rule has {', '.join(RULE_KEYS)}"
            raise RuleError(key, f"is not a rule setting{hint}")
    for key, meaning in REQUIRED_KEYS.items():
        if key not in entry:
            raise RuleError(key, f"is missing: {meaning}")
    # "" reads as "no check pattern", as empty strings mean "unset" elsewhere in the file
    check_pattern = _text(entry["check_pattern"], "check_pattern") if "check_pattern" in entry else ""
    rule = FieldRule(
        name=_text(entry["name"], "name").strip(),
        pattern=_text(entry["pattern"], "pattern"),
        kinds=_kinds(entry["kinds"]) if "kinds" in entry else (),
        normalise=_text(entry.get("normalise", "none"), "normalise").strip().lower(),
        check=_text(entry.get("check", "none"), "check").strip().lower(),
        check_pattern=check_pattern or None,
    )
    compile_rule(rule)
    return rule


def parse_rules(raw: Any, owner: Owner, locator: RuleLocator) -> tuple[FieldRule, ...]:
    """The rules of one owner, each checked; a ConfigError names the file, the rule's line and the key."""
    header = _header(owner)
    if isinstance(raw, dict):
        raise ConfigError(f"write each rule as its own {header} table, with two brackets", path=locator.path)
    if not isinstance(raw, list):
        raise ConfigError(f"rules must be {header} tables (got {raw!r})", path=locator.path)
    rules = []
    for number, entry in enumerate(raw, start=1):
        if not isinstance(entry, dict):
            raise _error(locator, owner, number, None, f"must be a table with name and pattern (got {entry!r})")
        name = entry.get("name") if isinstance(entry.get("name"), str) else None
        try:
            rules.append(_rule(entry))
        except RuleError as exc:
            raise _error(locator, owner, number, name, f"{exc.key} {exc.problem}") from None
    return tuple(rules)


def describe_rules(rules: tuple[FieldRule, ...]) -> str:
    return f"{len(rules)} rule{'' if len(rules) == 1 else 's'}" + (
        f" ({', '.join(rule.name for rule in rules)})" if rules else ""
    )
