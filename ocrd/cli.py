"""The ``ocrd`` command line. OcrdError becomes an exit code here, at the edge, and nowhere else.

The subcommands are in ocrd.commands (ocr, models, eval) and ocrd.daemon.commands (run,
check-config); this module puts them together under one app with a readable --help.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ocrd import __version__
from ocrd.commands.corrections import corrections_app
from ocrd.commands.evaluate import eval_command
from ocrd.commands.help import HelpfulTyper
from ocrd.commands.models import models_command
from ocrd.commands.ocr import OCR_HELP, ocr_command
from ocrd.errors import OcrdError

# The name on PyPI, said with the version: PyPI's "ocrd" is another project (the OCR-D
# framework), which installs an `ocrd` command too.
DISTRIBUTION = "ocrd-daemon"

app = HelpfulTyper(
    name="ocrd",
    help="Offline Chinese + English OCR: watch folders, web page and REST API on CPU servers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"max_content_width": 100},
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"{DISTRIBUTION} {__version__}")
        raise typer.Exit()


@app.callback()
def top_level(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            is_eager=True,
            callback=_print_version,
            help=f"Print the package name ({DISTRIBUTION}) and version, then exit.",
        ),
    ] = False,
) -> None:
    pass


app.command("ocr", help=OCR_HELP)(ocr_command)
app.command("models")(models_command)
app.command("eval")(eval_command)
app.add_typer(corrections_app, name="corrections")


@app.command("version")
def version_command() -> None:
    """Print the version number alone (for scripts; ocrd --version also names the package)."""
    typer.echo(__version__)


def _register_daemon_commands() -> None:
    try:
        from ocrd.daemon.commands import register
    except ImportError:  # the daemon package is optional while it is being built
        return
    register(app)


_register_daemon_commands()


def main() -> None:
    try:
        app()
    except OcrdError as error:  # last line of defence: never a traceback for an expected failure
        typer.echo(f"ocrd: {error}", err=True)
        sys.exit(error.exit_code)


if __name__ == "__main__":
    main()
