"""Configuration values: where each came from, and the converters from raw TOML / text to typed values.

A converter takes the raw value (a TOML type, or a string from the environment or a flag) and its
``Origin``, and returns the typed value or raises the ``ConfigError`` that names the key and file.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ocrd.config import (
    LANGS,
    PREPROCESS_STEPS,
)
from ocrd.errors import ConfigError
from ocrd.fields.model import FIELD_MODES
from ocrd.outputs_choice import OutputsChoiceError, parse_outputs

# --- where a value came from ------------------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    """The file, variable or flag a value came from; paths in a file are relative to that file."""

    label: str  # "[daemon] workers", "environment variable OCRD_DAEMON__WORKERS", "option --workers"
    file: str | None = None
    base_dir: Path | None = None  # relative paths resolve against this

    def error(self, problem: str) -> ConfigError:
        return ConfigError(f"{self.label} {problem}", path=self.file)


@dataclass(frozen=True)
class Value:
    raw: Any
    origin: Origin


# --- converters: raw value (TOML type, or a string from env/CLI) -> typed value ----------------------

Converter = Callable[[Any, Origin], Any]


def to_int(minimum: int) -> Converter:
    def convert(raw: Any, origin: Origin) -> int:
        value = raw
        if isinstance(raw, str):
            try:
                value = int(raw.strip())
            except ValueError:
                value = None
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise origin.error(f"must be a whole number ≥ {minimum} (got {raw!r})")
        return value

    return convert


def to_float(minimum: float, *, exclusive: bool = False) -> Converter:
    def convert(raw: Any, origin: Origin) -> float:
        value = raw
        if isinstance(raw, str):
            try:
                value = float(raw.strip())
            except ValueError:
                value = None
        too_small = value is not None and (value <= minimum if exclusive else value < minimum)
        if isinstance(value, bool) or not isinstance(value, int | float) or too_small:
            bound = f"> {minimum:g}" if exclusive else f"≥ {minimum:g}"
            raise origin.error(f"must be a number of seconds {bound} (got {raw!r})")
        return float(value)

    return convert


TRUE_WORDS = {"true", "1", "yes", "on"}
FALSE_WORDS = {"false", "0", "no", "off"}


def to_bool(raw: Any, origin: Origin) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return raw.strip().lower() in TRUE_WORDS
    raise origin.error(f"must be true or false (got {raw!r})")


def to_choice(options: tuple[str, ...]) -> Converter:
    def convert(raw: Any, origin: Origin) -> str:
        if isinstance(raw, str) and raw.strip().lower() in options:
            return raw.strip().lower()
        raise origin.error(f"must be one of {', '.join(repr(o) for o in options)} (got {raw!r})")

    return convert


def to_str(raw: Any, origin: Origin) -> str:
    if not isinstance(raw, str):
        raise origin.error(f"must be a text string (got {raw!r})")
    return raw


def to_optional_str(raw: Any, origin: Origin) -> str | None:
    return to_str(raw, origin) or None


def to_path(raw: Any, origin: Origin) -> str:
    text = to_str(raw, origin).strip()
    if not text:
        raise origin.error("must not be empty")
    path = Path(os.path.expandvars(text)).expanduser()
    if not path.is_absolute():
        path = (origin.base_dir or Path.cwd()) / path
    return os.path.normpath(str(path))


def to_optional_path(raw: Any, origin: Origin) -> str | None:
    if isinstance(raw, str) and not raw.strip():
        return None
    return to_path(raw, origin)


def to_str_list(raw: Any, origin: Origin) -> tuple[str, ...]:
    items = [part.strip() for part in raw.split(",") if part.strip()] if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple) or not all(isinstance(item, str) for item in items):
        raise origin.error(f"must be a list of text strings (got {raw!r})")
    return tuple(items)


def to_patterns(raw: Any, origin: Origin) -> tuple[str, ...]:
    patterns = tuple(p.lower() for p in to_str_list(raw, origin))
    if not patterns:
        raise origin.error('must name at least one pattern, e.g. ["*.pdf", "*.jpg"]')
    return patterns


def to_preprocess(raw: Any, origin: Origin) -> tuple[str, ...]:
    steps = tuple(step.lower() for step in to_str_list(raw, origin))
    unknown = [step for step in steps if step not in PREPROCESS_STEPS]
    if unknown:
        raise origin.error(
            f"has unknown step(s) {', '.join(map(repr, unknown))}; choose from {', '.join(PREPROCESS_STEPS)}"
        )
    return steps


def to_outputs(raw: Any, origin: Origin) -> tuple[str, ...]:
    try:
        return parse_outputs(to_str_list(raw, origin))
    except OutputsChoiceError as exc:
        raise origin.error(f"{exc} (got {raw!r})") from None


def to_optional_lang(raw: Any, origin: Origin) -> str | None:
    if isinstance(raw, str) and not raw.strip():
        return None
    return to_choice(LANGS)(raw, origin)


def to_optional_mode(raw: Any, origin: Origin) -> str | None:
    if isinstance(raw, str) and not raw.strip():
        return None
    return to_choice(FIELD_MODES)(raw, origin)


def to_rules(raw: Any, origin: Origin) -> tuple[Any, ...]:
    # Rules are parsed when the file is read (ocrd.config_fields), where their line numbers are known.
    if isinstance(raw, tuple):
        return raw
    raise origin.error("can only be written in the configuration file, as [[fields.rules]] or [[inbox.rules]] tables")


def to_token_name(raw: Any, origin: Origin) -> str:
    name = to_str(raw, origin).strip()
    if not name or len(name) > 64 or any(not ch.isprintable() for ch in name):
        raise origin.error("must be a short name (1 to 64 printable characters): it is recorded with corrections")
    return name


def to_tokens(raw: Any, origin: Origin) -> tuple[tuple[str, str], ...]:
    """[web.tokens]: name = "token" for each person; the tokens themselves never appear in messages."""
    if not isinstance(raw, dict):
        raise origin.error('must be a table of name = "token" pairs, e.g. [web.tokens] then alice = "..."')
    pairs = []
    for name, token in raw.items():
        where = Origin(f"{origin.label} {name!r}", origin.file, origin.base_dir)
        to_token_name(name, where)
        if not isinstance(token, str) or len(token.strip()) < 8:
            raise where.error("must be a token of at least 8 characters (quoted text)")
        pairs.append((name.strip(), token.strip()))
    return tuple(pairs)


def to_port(raw: Any, origin: Origin) -> int:
    problem = origin.error(f"must be a TCP port between 0 and 65535 (got {raw!r})")
    try:
        port = to_int(0)(raw, origin)
    except ConfigError:
        raise problem from None
    if port > 65535:
        raise problem
    return port
