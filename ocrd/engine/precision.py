"""Which model precision runs on this CPU, and why.

INT8 only pays where the CPU multiplies int8 numbers with dedicated dot-product instructions:
x86 VNNI (AVX-512 VNNI on Intel Cascade Lake and later and AMD Zen 4 and later, AVX-VNNI on
Alder Lake and later) and ARM's dot product (ARMv8.2 ``asimddp``: Huawei Kunpeng 920, AWS
Graviton 2 and later, Ampere Altra). Without them onnxruntime widens int8 to int16 first: on an
AVX2-only AMD EPYC (Zen 3) the INT8 recognizers of both packs were slower than their FP32
rewrite, and an earlier Intel machine without VNNI gained only 15 %.

``precision = "auto"`` therefore means: INT8 where the CPU has such instructions and the INT8
recognizer passed its accuracy check, FP32 everywhere else.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# /proc/cpuinfo flag -> what it is called in the documentation and on the status page
INT8_DOT_PRODUCT = {
    "avx512_vnni": "AVX-512 VNNI",
    "avx_vnni": "AVX-VNNI",
    "amx_int8": "AMX-INT8",
    "asimddp": "ARMv8.2 dot product (asimddp)",
}
# Override of the CPU's flags, space or comma separated: for tests, and to see what ``auto``
# would choose on another machine (``OCRD_CPU_FLAGS=asimddp ocrd models``).
FLAGS_VARIABLE = "OCRD_CPU_FLAGS"
# Largest rise of the character error rate on the generated check lines (FP32 -> INT8) with
# which ``auto`` still runs INT8: 0.3 percentage points.
MAX_CER_INCREASE = 0.003


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The CPU's feature flags: x86 ``flags`` or ARM ``Features`` of /proc/cpuinfo."""
    override = os.environ.get(FLAGS_VARIABLE)
    if override is not None:
        return frozenset(override.replace(",", " ").split())
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() in ("flags", "features"):
            return frozenset(value.split())
    return frozenset()


def int8_instructions(flags: frozenset[str]) -> str | None:
    """The int8 dot-product instruction set the CPU has, by name, or None."""
    for flag, name in INT8_DOT_PRODUCT.items():
        if flag in flags:
            return name
    return None


@dataclass(frozen=True)
class PrecisionChoice:
    precision: str  # what the engine should try: fp32 or int8
    reason: str


def choose(requested: str, flags: frozenset[str] | None = None) -> PrecisionChoice:
    """What to run for ``requested`` (auto, fp32, int8) before any INT8 model is built."""
    if requested == "fp32":
        return PrecisionChoice("fp32", "set in the configuration")
    if requested == "int8":
        return PrecisionChoice("int8", "set in the configuration")
    found = int8_instructions(cpu_flags() if flags is None else flags)
    if found is None:
        return PrecisionChoice(
            "fp32", "auto: this CPU has no int8 dot-product instructions (VNNI, asimddp), where INT8 is not faster"
        )
    return PrecisionChoice("int8", f"auto: this CPU has {found}")


def check_passes(check: dict[str, float] | None) -> tuple[bool, str]:
    """Whether an INT8 model's recorded accuracy check allows ``auto`` to run it, and in words."""
    if not check:
        return False, "no accuracy check was recorded for the INT8 model"
    before, after = check["reference_cer"], check["candidate_cer"]
    words = f"CER on {check['lines']} generated lines {before:.2%} (FP32) -> {after:.2%} (INT8)"
    if after - before > MAX_CER_INCREASE:
        return False, f"INT8 failed its accuracy check: {words}, more than {MAX_CER_INCREASE:.1%} worse"
    return True, f"INT8 passed its accuracy check: {words}"
