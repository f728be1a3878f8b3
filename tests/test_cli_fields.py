"""`ocrd ocr --fields` on a real invoice, as a user runs it: the command, the file read in place, its output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ocrd.fields.model import FIELD_MODES
from tests.paths import EVAL_ROOT

OCRD = [sys.executable, "-m", "ocrd.cli"]
INVOICE = EVAL_ROOT / "fields_dev" / "inv2xl-01_p1.png"


def ocrd(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*OCRD, *map(str, args)], capture_output=True, text=True, timeout=600)


def read_json(*options: str) -> dict:
    result = ocrd("ocr", "--format", "json", *options, INVOICE)
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    return json.loads(line)


def test_json_output_carries_the_invoice_fields_and_its_qr_code() -> None:
    document = read_json()
    assert document["schema"] == 2
    fields = document["fields"]
    assert fields["kind"] == "vat_electronic_normal"
    assert fields["values"]["invoice_number"]["value"] == "47502662"
    assert fields["values"]["total"]["value"] == "145.18"
    assert isinstance(fields["needs_review"], bool)
    assert fields["needs_review"] == bool(fields["reasons"])
    (code,) = document["pages"][0]["codes"]
    assert code["symbology"] == "qr" and "47502662" in code["text"] and fields["qr"] == code["text"]


def test_fields_off_leaves_them_out_and_a_kind_is_taken_as_given() -> None:
    off = read_json("--fields", "off")
    assert off["fields"] is None and off["pages"][0]["codes"] == []
    assert any("47502662" in line["text"] for line in off["pages"][0]["lines"])
    forced = read_json("--fields", "vat_normal")
    assert forced["fields"]["kind"] == "vat_normal"


def test_text_output_is_only_the_text(tmp_path: Path) -> None:
    result = ocrd("ocr", INVOICE)
    assert result.returncode == 0, result.stderr
    written = ocrd("ocr", "--out", tmp_path, INVOICE)
    assert written.returncode == 0, written.stderr
    document = json.loads((tmp_path / f"{INVOICE.name}.json").read_text(encoding="utf-8"))
    # The fields go to the JSON result; what is printed is the text the .txt result holds.
    assert document["fields"]["kind"] == "vat_electronic_normal"
    assert result.stdout == (tmp_path / f"{INVOICE.name}.txt").read_text(encoding="utf-8")
    assert "vat_electronic_normal" not in result.stdout and "needs_review" not in result.stdout


def test_an_unknown_mode_is_a_usage_error_naming_the_modes() -> None:
    result = ocrd("ocr", "--fields", "invoices", INVOICE)
    assert result.returncode == 2
    assert "--fields" in result.stderr and "'invoices'" in result.stderr
    for mode in FIELD_MODES:
        assert mode in result.stderr
    assert result.stdout == ""
