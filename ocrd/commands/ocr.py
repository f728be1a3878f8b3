"""``ocrd ocr``: read the files given on the command line, print their text or write result files."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ocrd.commands.common import ModelsOption, PrecisionOption, fail, models_settings, parse_steps
from ocrd.commands.result_files import ResultNames, check_input, write_results
from ocrd.config import LANGS, PREPROCESS_STEPS, EngineSettings, FieldsSettings, Limits
from ocrd.documents.sniff import HEAD_BYTES, is_supported, unsupported_reason
from ocrd.errors import InputError, InternalError, OcrdError, TransientError, UsageError
from ocrd.fields.model import FIELD_MODES, KINDS
from ocrd.formats import SUPPORTED_FOR_HUMANS
from ocrd.outputs_choice import DEFAULT_OUTPUTS, OUTPUT_KINDS, OutputsChoiceError, split_outputs
from ocrd.result import Document

OCR_HELP = f"""Recognise the text in FILE... and print it, or write result files with --out.

A folder stands for the files in it that ocrd reads ({SUPPORTED_FOR_HUMANS}, judged by
name or content; not recursive, hidden files left out). Any other file in it is named on
stderr as skipped, with the reason, and does not change the exit code: a folder with a
stray .docx in it still counts as read.

\b
Exit codes:
  0  every file ocrd reads was read (skipped files do not count)
  2  bad usage, or nothing ocrd reads in the given paths
  3  a file could not be read (each is named on stderr; the others are still read)
  4  the models cannot be used
"""


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


@dataclass
class Targets:
    files: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # (file, why it is not read)


def _head(path: Path) -> bytes | None:
    try:
        with path.open("rb") as stream:
            return stream.read(HEAD_BYTES)
    except OSError:
        return None


def expand(paths: list[Path]) -> Targets:
    """Files as given; folders replaced by the files inside that ocrd reads (sorted, not recursive)."""
    targets = Targets()
    for path in paths:
        if not path.is_dir():
            targets.files.append(path)  # missing or unreadable: reading it says so
            continue
        for inside in sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")):
            head = _head(inside)
            # A file whose first bytes cannot even be read is tried, so the error names the cause.
            if head is None or is_supported(inside.name, head):
                targets.files.append(inside)
            else:
                targets.skipped.append((inside, unsupported_reason(head)))
    return targets


def ocr_command(
    files: Annotated[
        list[Path],
        typer.Argument(metavar="FILE...", help="Images, PDFs, or folders of them.", show_default=False),
    ],
    output_format: Annotated[
        OutputFormat,
        typer.Option(
            "--format",
            "-f",
            metavar="text|json",
            help="text: the recognised text (pages separated by form feeds); "
            "json: one result object per file, one per line (JSON Lines).",
        ),
    ] = OutputFormat.text,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="DIR",
            help="Write the results to DIR instead of printing them: NAME.json and NAME.txt, "
            "NAME being the file's whole name (scan.jpg -> scan.jpg.json, scan.jpg.txt). "
            "Results of an earlier run are replaced; a name met twice in one run gets a number "
            "(scan.jpg.2.json).",
        ),
    ] = None,
    outputs: Annotated[
        str | None,
        typer.Option(
            "--outputs",
            metavar="json,txt,pdf",
            help=f"With --out: which result files to write, from {', '.join(OUTPUT_KINDS)} (json always; "
            f"default {','.join(DEFAULT_OUTPUTS)}). pdf is the file with an invisible text layer, searchable "
            "and copyable (scan.jpg -> scan.jpg.pdf); signed PDFs are refused for it.",
            show_default=False,
        ),
    ] = None,
    lang: Annotated[
        str,
        typer.Option(metavar="|".join(LANGS), help="Language: zh reads Chinese and English, en English only."),
    ] = "zh",
    allow: Annotated[
        str | None, typer.Option(metavar="CHARACTERS", help="Only these characters may be recognised.")
    ] = None,
    threads: Annotated[int, typer.Option(metavar="N", help="Inference threads (0: all cores).")] = 0,
    dpi: Annotated[int, typer.Option(metavar="DPI", help="Render resolution for PDF pages without text.")] = 200,
    force_ocr: Annotated[bool, typer.Option(help="OCR PDF pages even if they have a text layer.")] = False,
    preprocess: Annotated[
        str | None,
        typer.Option(metavar="STEP,...", help=f"Preprocessing steps, comma-separated: {', '.join(PREPROCESS_STEPS)}."),
    ] = None,
    models: ModelsOption = None,
    precision: PrecisionOption = "auto",
    max_pages: Annotated[int, typer.Option(metavar="N", help="Refuse documents with more pages.")] = Limits.max_pages,
    fields: Annotated[
        str,
        typer.Option(
            metavar="auto|off|KIND",
            help="Invoice fields in the JSON results: auto finds the document's kind, off skips them, "
            f"a kind ({', '.join(KINDS)}) reads the document as that kind. The text output is unchanged.",
        ),
    ] = "auto",
) -> None:
    from ocrd.engine.pipeline import OcrPipeline  # loads onnxruntime: only when there is work

    try:
        if lang not in LANGS:
            raise UsageError(f"--lang must be one of {', '.join(LANGS)}, not {lang!r}")
        if fields not in FIELD_MODES:
            raise UsageError(f"--fields must be one of {', '.join(FIELD_MODES)}, not {fields!r}")
        kinds = _output_kinds(outputs, out)
        settings = EngineSettings(
            **models_settings(models, precision=precision),
            lang=lang,
            allowlist=allow,
            threads=threads,
            dpi=dpi,
            force_ocr=force_ocr,
            preprocess=parse_steps(preprocess),
            limits=Limits(max_pages=max_pages),
            fields=FieldsSettings(mode=fields),
        )
        targets = expand(files)
        for path, reason in targets.skipped:
            typer.echo(f"ocrd: {path}: skipped: {reason}", err=True)
        if not targets.files:
            raise UsageError(f"no documents found in the given paths; ocrd reads {SUPPORTED_FOR_HUMANS}")
        pipeline = OcrPipeline(settings)
    except OcrdError as error:
        raise fail(error) from None

    failures = 0
    names = ResultNames()
    for path in targets.files:
        try:
            if out is not None:
                check_input(path, kinds)
            document = pipeline.run_path(path)
            if out is not None:
                _write(out, names.next_for(path.name, kinds), document, path)
        except OcrdError as error:
            failures += 1
            typer.echo(f"ocrd: {error}", err=True)
            continue
        except Exception as exc:  # a bug: report it with the file, go on with the others
            failures += 1
            typer.echo(f"ocrd: {InternalError(f'unexpected error: {exc!r}', path=path)}", err=True)
            continue
        if out is not None:
            continue
        if output_format is OutputFormat.json:
            # JSON Lines: one complete result per line, printed as soon as the file is read.
            typer.echo(json.dumps(document.to_dict(), ensure_ascii=False))
        else:
            if len(targets.files) > 1:
                typer.echo(f"==> {path} <==")
            typer.echo(document.to_text(), nl=False)
    if failures:
        typer.echo(f"ocrd: {failures} of {len(targets.files)} file(s) could not be read", err=True)
        raise typer.Exit(InputError.exit_code)


def _output_kinds(outputs: str | None, out: Path | None) -> tuple[str, ...]:
    if outputs is None:
        return DEFAULT_OUTPUTS
    if out is None:
        raise UsageError(
            f"--outputs {outputs} chooses the files written to a folder: add --out DIR "
            "(without --out, the text or JSON is printed; see --format)"
        )
    try:
        return split_outputs(outputs)
    except OutputsChoiceError as exc:
        raise UsageError(f"--outputs {exc}") from None


def _write(out: Path, names: dict[str, str], document: Document, source: Path) -> None:
    try:
        write_results(out, names, document, source)
    except OSError as exc:  # the folder, not the input, is the problem: say which and why
        raise TransientError(f"cannot write the results of {source} in {out}: {exc.strerror or exc}") from None
