"""`ocrd ocr --fields` on a real invoice, as a user runs it: the command, the file read in place, its output."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ocrd.fields.model import FIELD_MODES
from tests.paths import EVAL_ROOT

OCRD = [sys.executable, "-m", "ocrd.cli"]
INVOICE = EVAL_ROOT / "fields_dev" / "inv2xl-01_p1.png"


def ocrd(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*OCRD, *map(str, args)], capture_output=True, text=True, timeout=600)


# Every reading of the invoice the tests below look at, by name: started together, two at a time
# with one inference thread each, so the two cores are busy for the whole module.
READINGS: dict[str, tuple[str | Path, ...]] = {
    "json": ("--format", "json"),
    "json-off": ("--format", "json", "--fields", "off"),
    "json-vat_normal": ("--format", "json", "--fields", "vat_normal"),
    "text": (),
}


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the "text-out" reading wrote its result files."""
    return tmp_path_factory.mktemp("cli-fields-out")


@pytest.fixture(scope="module")
def readings(out_dir: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    commands = {name: ("ocr", "--threads", "1", *options, INVOICE) for name, options in READINGS.items()}
    commands["text-out"] = ("ocr", "--threads", "1", "--out", out_dir, INVOICE)
    with ThreadPoolExecutor(max_workers=2) as pool:
        started = {name: pool.submit(ocrd, *command) for name, command in commands.items()}
        return {name: future.result() for name, future in started.items()}


def read_json(readings: dict[str, subprocess.CompletedProcess[str]], name: str) -> dict:
    result = readings[name]
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    return json.loads(line)


def test_json_output_carries_the_invoice_fields_and_its_qr_code(readings) -> None:
    document = read_json(readings, "json")
    assert document["schema"] == 2
    fields = document["fields"]
    assert fields["kind"] == "vat_electronic_normal"
    assert fields["values"]["invoice_number"]["value"] == "47502662"
    assert fields["values"]["total"]["value"] == "145.18"
    assert isinstance(fields["needs_review"], bool)
    assert fields["needs_review"] == bool(fields["reasons"])
    (code,) = document["pages"][0]["codes"]
    assert code["symbology"] == "qr" and "47502662" in code["text"] and fields["qr"] == code["text"]


def test_fields_off_leaves_them_out_and_a_kind_is_taken_as_given(readings) -> None:
    off = read_json(readings, "json-off")
    assert off["fields"] is None and off["pages"][0]["codes"] == []
    assert any("47502662" in line["text"] for line in off["pages"][0]["lines"])
    forced = read_json(readings, "json-vat_normal")
    assert forced["fields"]["kind"] == "vat_normal"


def test_text_output_is_only_the_text(readings, out_dir: Path) -> None:
    result, written = readings["text"], readings["text-out"]
    assert result.returncode == 0, result.stderr
    assert written.returncode == 0, written.stderr
    out = out_dir
    document = json.loads((out / f"{INVOICE.name}.json").read_text(encoding="utf-8"))
    # The fields go to the JSON result; what is printed is the text the .txt result holds.
    assert document["fields"]["kind"] == "vat_electronic_normal"
    assert result.stdout == (out / f"{INVOICE.name}.txt").read_text(encoding="utf-8")
    assert "vat_electronic_normal" not in result.stdout and "needs_review" not in result.stdout


def test_an_unknown_mode_is_a_usage_error_naming_the_modes() -> None:
    result = ocrd("ocr", "--fields", "invoices", INVOICE)
    assert result.returncode == 2
    assert "--fields" in result.stderr and "'invoices'" in result.stderr
    for mode in FIELD_MODES:
        assert mode in result.stderr
    assert result.stdout == ""
