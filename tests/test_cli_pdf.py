"""`ocrd ocr --out DIR --outputs json,txt,pdf`: the searchable PDF on the command line, named as the daemon names it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ocrd import samples
from tests.daemon_support import lines_for, png_bytes
from tests.pdf_support import assert_searchable, signed_pdf_bytes
from tests.textmatch import assert_lines_read

OCRD = [sys.executable, "-m", "ocrd.cli"]


def ocrd(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*OCRD, *map(str, args)], capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_outputs_with_pdf_writes_three_files_per_input(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    scan = samples.make_sample_page_png(tmp_path / "in" / "扫描 1.png", lines_for(11))
    contract = samples.make_multipage_pdf(tmp_path / "in" / "contract.pdf", 2)
    other = tmp_path / "other"
    other.mkdir()
    (other / "扫描 1.png").write_bytes(png_bytes(lines_for(12), tmp_path / "work"))
    out = tmp_path / "out"
    result = ocrd("ocr", scan.path, contract.path, other / "扫描 1.png", "--out", out, "--outputs", "json,txt,pdf")
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in out.iterdir()) == [
        "contract.pdf.json",
        "contract.pdf.pdf",
        "contract.pdf.txt",
        "扫描 1.png.2.json",
        "扫描 1.png.2.pdf",
        "扫描 1.png.2.txt",
        "扫描 1.png.json",
        "扫描 1.png.pdf",
        "扫描 1.png.txt",
    ]
    assert_searchable(out / "扫描 1.png.pdf", scan.lines, pages=1)
    assert_searchable(out / "扫描 1.png.2.pdf", lines_for(12), pages=1)
    assert_searchable(out / "contract.pdf.pdf", [line for page in contract.pages for line in page], pages=2)
    assert_lines_read(contract.pages[1], (out / "contract.pdf.txt").read_text().split("\f")[1].splitlines())


@pytest.mark.slow
def test_the_default_writes_no_pdf_and_a_signed_pdf_is_refused_for_it(tmp_path: Path) -> None:
    scan = samples.make_sample_page_png(tmp_path / "scan.png", lines_for(13))
    signed = tmp_path / "signed.pdf"
    signed.write_bytes(signed_pdf_bytes(lines_for(14)))
    plain = ocrd("ocr", scan.path, signed, "--out", tmp_path / "plain")
    assert plain.returncode == 0, plain.stderr
    assert sorted(path.name for path in (tmp_path / "plain").iterdir()) == [
        "scan.png.json",
        "scan.png.txt",
        "signed.pdf.json",
        "signed.pdf.txt",
    ], "without pdf a signed PDF is read as usual"

    with_pdf = ocrd("ocr", scan.path, signed, "--out", tmp_path / "pdf", "--outputs", "json,pdf")
    assert with_pdf.returncode == 3
    assert "signed.pdf" in with_pdf.stderr and "signed" in with_pdf.stderr and "signature" in with_pdf.stderr
    assert sorted(path.name for path in (tmp_path / "pdf").iterdir()) == ["scan.png.json", "scan.png.pdf"], (
        "nothing for the refused file; the other is written in full"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--outputs", "json,txt,pdf"], "--outputs json,txt,pdf chooses the files written to a folder: add --out DIR"),
        (["--out", "OUT", "--outputs", "txt,pdf"], "--outputs must include 'json'"),
        (["--out", "OUT", "--outputs", "json,docx"], "--outputs has unknown output 'docx'; choose from json, txt, pdf"),
    ],
)
def test_outputs_that_cannot_work_are_a_usage_error(tmp_path: Path, args: list[str], message: str) -> None:
    scan = samples.make_sample_page_png(tmp_path / "scan.png", ["x"])
    result = ocrd("ocr", scan.path, *[str(tmp_path / arg) if arg == "OUT" else arg for arg in args])
    assert result.returncode == 2
    assert message in result.stderr
    assert not (tmp_path / "OUT").exists()
