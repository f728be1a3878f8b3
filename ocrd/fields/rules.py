"""Fields the user defines in the configuration: a regular expression, a clean-up, a check.

A rule finds its value with the group named ``value`` of its pattern, searched in every line
of a page and then in the page's text with lines joined by "\\n" (a label and its value are
often read as two lines). The first match in reading order wins. The value is normalised,
then checked, and reported like any other field, with ``source = "rule"``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ocrd.config import RULE_CHECKS, RULE_NORMALISERS, FieldRule
from ocrd.fields.model import KINDS, Check, FieldValue
from ocrd.fields.normalise import compact, fold_width
from ocrd.result import Line

NAME = re.compile(r"[a-z][a-z0-9_]*")
# Produced by the extraction as a list of rows; a rule yields one text value, so it cannot stand in.
RESERVED_NAMES = ("line_items",)
# Look-alike letters a digits rule turns into digits, but only when everything else it read is a digit:
# "2O24" is a misread number, "NO.123" is not a number at all.
_DIGIT_LOOKALIKES = {"O": "0", "o": "0", "I": "1", "l": "1"}

Pages = list[tuple[int, list[Line]]]


class RuleError(ValueError):
    """A rule that cannot work; ``key`` names the setting at fault, ``problem`` says what to change."""

    def __init__(self, key: str, problem: str, rule: str = "") -> None:
        self.key = key
        self.problem = problem
        self.rule = rule
        where = f"rule {rule!r}: " if rule else ""
        super().__init__(f"{where}{key} {problem}")


@dataclass(frozen=True)
class CompiledRule:
    rule: FieldRule
    pattern: re.Pattern[str]
    check_pattern: re.Pattern[str] | None

    @property
    def name(self) -> str:
        return self.rule.name

    def applies_to(self, kind: str) -> bool:
        return not self.rule.kinds or kind in self.rule.kinds


def _compile(key: str, text: str, flags: int = 0) -> re.Pattern[str]:
    try:
        return re.compile(text, flags)
    except re.error as exc:
        raise RuleError(key, f"is not a valid regular expression: {exc}") from None


@functools.lru_cache(maxsize=256)
def compile_rule(rule: FieldRule) -> CompiledRule:
    """Check one rule and compile its expressions; raises RuleError naming the key at fault."""
    if not NAME.fullmatch(rule.name):
        raise RuleError(
            "name",
            f"must be snake_case: lower-case letters, digits and _, starting with a letter (got {rule.name!r}), "
            "e.g. 'invoice_code'",
        )
    if rule.name in RESERVED_NAMES:
        raise RuleError("name", f"{rule.name!r} is the extraction's table of items; give the rule another name")
    # MULTILINE: ^ and $ mean the start and end of a line also in the page text, where lines are joined.
    pattern = _compile("pattern", rule.pattern, re.MULTILINE)
    if "value" not in pattern.groupindex:
        raise RuleError("pattern", 'has no group named "value" — write it as (?P<value>...)')
    unknown = [kind for kind in rule.kinds if kind not in KINDS]
    if unknown:
        raise RuleError("kinds", f"has unknown kind(s) {', '.join(map(repr, unknown))}; choose from {', '.join(KINDS)}")
    if rule.normalise not in RULE_NORMALISERS:
        raise RuleError("normalise", f"must be one of {', '.join(RULE_NORMALISERS)} (got {rule.normalise!r})")
    if rule.check not in RULE_CHECKS:
        raise RuleError("check", f"must be one of {', '.join(RULE_CHECKS)} (got {rule.check!r})")
    check_pattern = None if rule.check_pattern is None else _compile("check_pattern", rule.check_pattern)
    return CompiledRule(rule, pattern, check_pattern)


def compile_rules(rules: Iterable[FieldRule]) -> list[CompiledRule]:
    """Every rule compiled, in order; the first one that cannot work raises RuleError naming it."""
    compiled = []
    for rule in rules:
        try:
            compiled.append(compile_rule(rule))
        except RuleError as exc:
            raise RuleError(exc.key, exc.problem, rule.name) from None
    return compiled


# --- finding -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Hit:
    raw: str
    page: int
    line: Line  # where the value starts
    confidence: float  # the lowest of the lines the value spans


def _first_value(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    # A pattern may make its value optional; a match without one tells nothing.
    return next((match for match in pattern.finditer(text) if (match.group("value") or "").strip()), None)


def _find(pattern: re.Pattern[str], pages: Pages) -> _Hit | None:
    for page, lines in pages:
        for line in lines:
            match = _first_value(pattern, line.text)
            if match is not None:
                return _Hit(match.group("value"), page, line, float(line.confidence))
        match = _first_value(pattern, "\n".join(line.text for line in lines))
        if match is None:
            continue
        start, end = match.span("value")
        value = match.group("value")
        # The lines the value's text lies on (not the "\n" between them): the box is the first
        # one's, the confidence the lowest one's.
        start += len(value) - len(value.lstrip())
        end -= len(value) - len(value.rstrip())
        spanned, begin = [], 0
        for line in lines:
            if begin < end and begin + len(line.text) > start:
                spanned.append(line)
            begin += len(line.text) + 1
        return _Hit(value, page, spanned[0], min(float(line.confidence) for line in spanned))
    return None


# --- normalising and checking ------------------------------------------------------------------------


def _digits(raw: str) -> tuple[str, list[str]]:
    text = compact(fold_width(raw))
    lookalikes = [char for char in text if char in _DIGIT_LOOKALIKES]
    if not lookalikes or not all(char.isdigit() or char in _DIGIT_LOOKALIKES for char in text):
        return text, []
    if not any(char.isdigit() for char in text):
        return text, []  # "Il" is a word, not a number
    changes = [f"{char}→{_DIGIT_LOOKALIKES[char]}" for char in lookalikes]
    return "".join(_DIGIT_LOOKALIKES.get(char, char) for char in text), changes


def normalise(how: str, raw: str) -> tuple[str, list[str], Check | None]:
    """(value, look-alike changes, a failed check if the text could not be read as asked)."""
    if how == "none":
        return raw.strip(), [], None
    if how == "digits":
        value, changes = _digits(raw)
        return value, changes, None
    text = fold_width(raw).strip()
    if how == "upper":
        return text.upper(), [], None
    if how == "compact":
        return compact(text), [], None
    from ocrd.fields import checks  # written beside the extraction; only rules that parse need it

    if how == "amount":
        amount = checks.parse_amount(text)
        if amount is None:
            return text, [], Check("normalise", False, f"{text!r} could not be read as an amount; kept as read")
        return checks.format_amount(amount), [], None
    if how == "date":
        iso = checks.parse_date(text)
        if iso is None:
            return text, [], Check("normalise", False, f"{text!r} could not be read as a date; kept as read")
        return iso, [], None
    raise RuleError("normalise", f"must be one of {', '.join(RULE_NORMALISERS)} (got {how!r})")


def named_check(name: str, value: str) -> Check:
    from ocrd.fields import checks

    if name == "uscc":
        return checks.check_uscc(value)
    if name == "date":
        iso = checks.parse_date(value)
        return Check("date", False, f"{value!r} is not a date") if iso is None else checks.check_date(iso)
    if name == "amount":
        amount = checks.parse_amount(value)
        if amount is None:
            return Check("amount", False, f"{value!r} is not an amount")
        return Check("amount", True, f"{value} is the amount {checks.format_amount(amount)}")
    raise RuleError("check", f"must be one of {', '.join(RULE_CHECKS)} (got {name!r})")


def _checks(rule: CompiledRule, value: str) -> list[Check]:
    found = []
    if rule.check_pattern is not None:
        wanted = rule.check_pattern.pattern
        if rule.check_pattern.fullmatch(value):
            found.append(Check("pattern", True, f"{value} matches {wanted}"))
        else:
            found.append(Check("pattern", False, f"{value!r} does not match {wanted} in full"))
    if rule.rule.check != "none":
        found.append(named_check(rule.rule.check, value))
    return found


def _value(rule: CompiledRule, hit: _Hit) -> FieldValue:
    value, changes, problem = normalise(rule.rule.normalise, hit.raw)
    checks = ([problem] if problem else []) + _checks(rule, value)
    return FieldValue(
        value=value,
        confidence=hit.confidence,
        checks=checks,
        source="rule",
        page=hit.page,
        box=hit.line.box,
        raw=None if hit.raw == value else hit.raw,
        changes=changes,
    )


def apply_rules(rules: Iterable[CompiledRule | FieldRule], kind: str, pages: Pages) -> dict[str, FieldValue]:
    """The value of every rule that applies to ``kind`` and matches; for a name given by several
    rules, the first rule that matches wins (an inbox's own rules come before the shared ones)."""
    values: dict[str, FieldValue] = {}
    for item in rules:
        rule = item if isinstance(item, CompiledRule) else compile_rule(item)
        if rule.name in values or not rule.applies_to(kind):
            continue
        hit = _find(rule.pattern, pages)
        if hit is not None:
            values[rule.name] = _value(rule, hit)
    return values
