"""``ocrd ocr --out DIR``: naming and writing the result files of one run, as the daemon names them.

``scan.jpg`` -> ``scan.jpg.json``, ``scan.jpg.txt`` and, with ``--outputs ...,pdf``,
``scan.jpg.pdf``; the same file name from another folder gets the next number for all of them
(``scan.jpg.2.json``, ``scan.jpg.2.pdf``) instead of overwriting the first. Each file is
replaced atomically, so an interrupted run leaves the earlier version or the new one, never
half a file.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from pathlib import Path

from ocrd.names import result_name
from ocrd.outputs_choice import JSON, PDF, SUFFIXES, TXT
from ocrd.result import Document


class ResultNames:
    """Result file names for one run; one number for all the files of one input."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def next_for(self, file_name: str, kinds: Iterable[str] = (JSON, TXT)) -> dict[str, str]:
        """Output kind -> file name, for ``file_name``."""
        # result_name leaves room in a shortened name for the number before the suffix.
        bases = {kind: result_name(file_name, SUFFIXES[kind]).removesuffix(SUFFIXES[kind]) for kind in kinds}
        json_base = result_name(file_name, SUFFIXES[JSON]).removesuffix(SUFFIXES[JSON])
        number = 1
        while (numbered := json_base if number == 1 else f"{json_base}.{number}") in self._taken:
            number += 1
        self._taken.add(numbered)
        tail = "" if number == 1 else f".{number}"
        return {kind: f"{base}{tail}{SUFFIXES[kind]}" for kind, base in bases.items()}


def write_results(out_dir: Path, names: dict[str, str], document: Document, source: Path) -> None:
    """Write the files named in ``names``; the PDF first, as it is the one that can fail for its input."""
    from ocrd.durable import temp_path, write_replace  # crash-safe writes, only needed with --out

    out_dir.mkdir(parents=True, exist_ok=True)
    if PDF in names:
        from ocrd.outputs.pdf import write_searchable_pdf

        temp = temp_path(out_dir, names[PDF])
        try:
            write_searchable_pdf(source, document, temp)  # synced: durable before it takes the name
            os.replace(temp, out_dir / names[PDF])
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
    if TXT in names:
        write_replace(out_dir / names[TXT], document.to_text().encode("utf-8"))
    write_replace(out_dir / names[JSON], document.to_json().encode("utf-8"))


def check_input(source: Path, kinds: Iterable[str]) -> None:
    """Before reading: an input that cannot get a searchable PDF (a signed PDF) is refused at once."""
    if PDF in kinds:
        from ocrd.outputs.pdf import check_pdf_input

        check_pdf_input(source)
