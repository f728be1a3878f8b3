"""``--help`` for people: value names instead of Python types, every choice and line in full.

Typer's own help shows the annotation of each parameter (``<list[Path]>``, ``<bool>``) and,
in its boxed layout, cuts long lines with an ellipsis. These command classes write the
classic plain layout instead: a value name after each option (its ``metavar``, else its
choices, else a word for its kind such as PATH or INTEGER), nothing after a flag, and help
text wrapped to the terminal, never cut.
"""

from __future__ import annotations

import inspect
from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin

import typer
from typer.core import TyperCommand, TyperGroup

# A word for the kind of value, when a parameter names neither a metavar nor choices.
_KIND_NAMES = {Path: "PATH", int: "INTEGER", float: "NUMBER", str: "TEXT"}
_CLICK_KIND_NAMES = {"path": "PATH", "integer": "INTEGER", "float": "NUMBER", "text": "TEXT"}


def _annotation(param: Any) -> Any:
    """The parameter's Python type (the element type of a list), when Typer records it."""
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    if get_origin(annotation) in (list, tuple) and get_args(annotation):
        annotation = get_args(annotation)[0]
    return annotation


def _choices(param: Any) -> list[str]:
    descriptor = getattr(param, "type_descriptor", None)
    choices = getattr(descriptor, "choices", None) if descriptor is not None else None
    if choices is None:
        choices = getattr(getattr(param, "type", None), "choices", None)
    return [str(choice.value if isinstance(choice, Enum) else choice) for choice in choices or ()]


def value_name(param: Any) -> str:
    """What goes after an option or stands for an argument: DIR, FILE..., text|json, INTEGER."""
    if param.metavar:
        return str(param.metavar)
    choices = _choices(param)
    if choices:
        name = "|".join(choices)
    else:
        annotation = _annotation(param)
        kind = getattr(getattr(param, "type", None), "name", "")
        name = _KIND_NAMES.get(annotation) or _CLICK_KIND_NAMES.get(kind) or (param.name or "value").upper()
    return f"{name}..." if param.param_type_name == "argument" and param.nargs == -1 else name


def _is_flag(param: Any) -> bool:
    return bool(getattr(param, "is_flag", False) or getattr(param, "count", False))


def _shown_default(param: Any, ctx: typer.Context) -> str | None:
    default = param.default
    if _is_flag(param) or default is None or default == () or default == []:
        return None
    if not (getattr(param, "show_default", None) or ctx.show_default):
        return None
    if isinstance(getattr(param, "show_default", None), str):
        return str(param.show_default)
    values = default if isinstance(default, list | tuple) else [default]
    return ", ".join(str(v.value if isinstance(v, Enum) else v) for v in values)


def _record(param: Any, ctx: typer.Context) -> tuple[str, str]:
    if param.param_type_name == "argument":
        names = value_name(param)
    else:
        names = ", ".join(sorted(param.opts, key=lambda opt: opt.startswith("--")))
        if not _is_flag(param):
            names += f" {value_name(param)}"
        if param.secondary_opts:
            names += " / " + ", ".join(param.secondary_opts)
    extras = []
    if getattr(param, "multiple", False):
        extras.append("repeatable")
    default = _shown_default(param, ctx)
    if default is not None and default != "":
        extras.append(f"default: {default}")
    help_text = inspect.cleandoc(getattr(param, "help", None) or "")
    if extras:
        help_text = f"{help_text}  [{'; '.join(extras)}]".strip()
    return names, help_text


def usage_pieces(command: TyperCommand | TyperGroup, ctx: typer.Context) -> list[str]:
    pieces = [command.options_metavar] if command.options_metavar else []
    for param in command.get_params(ctx):
        if param.param_type_name == "argument":
            name = value_name(param)
            pieces.append(name if param.required else f"[{name}]")
    return pieces


def write_parameters(command: TyperCommand | TyperGroup, ctx: typer.Context, formatter: Any) -> None:
    params = [p for p in command.get_params(ctx) if not getattr(p, "hidden", False)]
    for title, kind in (("Arguments", "argument"), ("Options", "option")):
        rows = [_record(p, ctx) for p in params if p.param_type_name == kind]
        if rows:
            with formatter.section(title):
                formatter.write_dl(rows)


def first_paragraph(text: str | None) -> str:
    """A command's summary for the list of commands: its help up to the first blank line, whole."""
    return " ".join(inspect.cleandoc(text or "").partition("\f")[0].split("\n\n")[0].split())


def write_commands(group: TyperGroup, ctx: typer.Context, formatter: Any) -> None:
    rows: list[tuple[str, str]] = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is not None and not command.hidden:
            rows.append((name, first_paragraph(command.short_help or command.help)))
    if rows:
        with formatter.section("Commands"):
            formatter.write_dl(rows)


class HelpCommand(TyperCommand):
    def collect_usage_pieces(self, ctx: typer.Context) -> list[str]:
        return usage_pieces(self, ctx)

    def format_options(self, ctx: typer.Context, formatter: Any) -> None:
        write_parameters(self, ctx, formatter)


class HelpGroup(TyperGroup):
    def collect_usage_pieces(self, ctx: typer.Context) -> list[str]:
        return [*usage_pieces(self, ctx), self.subcommand_metavar or "COMMAND [ARGS]..."]

    def format_options(self, ctx: typer.Context, formatter: Any) -> None:
        write_parameters(self, ctx, formatter)
        write_commands(self, ctx, formatter)


class HelpfulTyper(typer.Typer):
    """A Typer app whose commands, including ones other modules register, use ``HelpCommand``."""

    def __init__(self, **options: Any) -> None:
        options.setdefault("cls", HelpGroup)
        options.setdefault("rich_markup_mode", None)  # the plain layout: nothing boxed, nothing cut
        super().__init__(**options)

    def command(self, name: str | None = None, *, cls: type[TyperCommand] | None = None, **options: Any) -> Any:
        return super().command(name, cls=cls or HelpCommand, **options)


__all__ = ["HelpCommand", "HelpGroup", "HelpfulTyper", "value_name"]
