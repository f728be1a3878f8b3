"""Derived recognizer models: an exact FP32 rewrite, and INT8 with a built-in accuracy check.

Both start from the shipped FP32 file and are written by our code (see ``derived`` for where
they are kept and when they are rebuilt):

- ``optimize_fp32``: onnxruntime's hardware-independent ("basic") graph optimisations, then
  ``fold.fold_affine_into_conv``. Same function, fewer passes over memory.
- ``quantize_int8``: static QDQ quantization of the 1x1 (pointwise) convolutions and the
  weight MatMuls, calibrated on text lines ``calibration`` draws. What was measured on this
  kind of CPU (AVX2, no VNNI) decided the recipe:
    * only Conv/MatMul are quantized: int8 Add/Mul/Softmax/Resize were slower or broke accuracy;
    * wide pointwise convolutions only (at least ``min_channels`` in and out): int8 depthwise
      convolutions ran slower than FP32, the first convolution (raw pixels in) lost the most
      accuracy per unit of time saved, and the narrow early pointwise ones gained nothing once
      their Quantize/Dequantize steps were paid; the eight 240/480-channel ones alone were faster
      (0.85x of FP32) than all 21 (0.89x) and changed 0.5% of characters instead of 2.2%;
    * 8-bit per-channel weights, no ``reduce_range``: 7-bit weights alone raised the character
      error rate on generated lines from 4.3% to 6.2%;
    * activation ranges from our own percentile calibration: onnxruntime's percentile and
      entropy calibrators cannot merge tensors of different widths, and text lines have them.
- ``check_accuracy``: reads held-out generated lines (another seed than calibration) with
  the reference and the candidate model and counts character errors against the known text.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ocrd.errors import ModelError

if TYPE_CHECKING:
    import onnx

    from ocrd.engine.calibration import TextLineSample

log = logging.getLogger("ocrd.engine.quantize")

# Bump when anything below changes what a derived file contains: cached files of an older
# recipe are then rebuilt instead of reused.
FP32_RECIPE = "fp32-fold-v2"  # v2: v1 could drop a live node (see fold._key); rebuild old caches
INT8_RECIPE = "int8-pw-v3"  # v3: models below opset 13 are converted first (per-channel weights need it)
# DequantizeLinear takes an axis (per-channel scales) from this opset on.
PER_CHANNEL_OPSET = 13


@dataclass(frozen=True)
class Int8Recipe:
    percentile: float = 99.999  # activation range: this percentile of calibration values (and 100 - it)
    calibration_lines: int = 96
    calibration_seed: int = 1
    quantize_matmul: bool = False  # SVTR neck and CTC head: little time saved for the accuracy lost
    # Only pointwise convolutions this wide on both sides: they hold most of the work, while the
    # narrow early ones gained nothing after their Quantize/Dequantize steps and cost accuracy.
    min_channels: int = 240
    per_channel: bool = True
    reduce_range: bool = False

    @property
    def name(self) -> str:
        """Names the cache folder: the recipe's version, plus which layers when not the default ones."""
        if (self.min_channels, self.quantize_matmul) == (Int8Recipe.min_channels, Int8Recipe.quantize_matmul):
            return INT8_RECIPE
        family, version = INT8_RECIPE.rsplit("-v", 1)
        return f"{family}{self.min_channels}{'mm' if self.quantize_matmul else ''}-v{version}"


@dataclass(frozen=True)
class AccuracyCheck:
    lines: int
    characters: int
    reference_cer: float  # character error rate of the reference model against the drawn text
    candidate_cer: float
    disagreement: float  # edit distance between the two models' readings / characters

    @property
    def cer_increase(self) -> float:
        return self.candidate_cer - self.reference_cer

    def to_dict(self) -> dict[str, Any]:
        return {key: round(value, 5) if isinstance(value, float) else value for key, value in asdict(self).items()}


def _require_onnx() -> Any:
    try:
        import onnx
    except ModuleNotFoundError as exc:
        raise ModelError(
            "deriving optimized or INT8 models needs the Python package onnx; install it (pip install onnx)"
        ) from exc
    return onnx


@contextmanager
def _quiet_onnxruntime_quantization():
    """onnxruntime.quantization logs advice meant for its own tutorials at WARNING on the root logger."""
    root = logging.getLogger()
    previous = root.level
    root.setLevel(max(previous, logging.ERROR))
    try:
        yield
    finally:
        root.setLevel(previous)


# -- FP32 ------------------------------------------------------------------------------------


def optimize_fp32(source: Path, target: Path) -> int:
    """Write the exact FP32 rewrite of ``source`` to ``target``; returns how many Mul/Add steps were folded."""
    import onnxruntime as ort

    onnx = _require_onnx()
    from ocrd.engine.fold import fold_affine_into_conv

    with tempfile.TemporaryDirectory(prefix="ocrd-fold-") as scratch:
        basic = Path(scratch) / "basic.onnx"
        options = ort.SessionOptions()
        # Basic level only: constant folding and Conv+BatchNorm fusion, valid on every CPU. Higher
        # levels write hardware-specific layouts into the file.
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = str(basic)
        options.log_severity_level = 3
        try:
            ort.InferenceSession(str(source), sess_options=options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises untyped errors for bad files
            raise ModelError(f"cannot load ONNX model {source}: {exc}") from exc
        model = onnx.load(str(basic))
    report = fold_affine_into_conv(model)
    try:
        # A rewrite that broke the graph must never reach the cache: the caller falls back to
        # the shipped model on ModelError.
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as exc:
        raise ModelError(f"the FP32 rewrite of {source} is not a valid model: {exc}") from exc
    onnx.save(model, str(target))
    return report.total


# -- INT8 ------------------------------------------------------------------------------------


def _attribute(node: onnx.NodeProto, name: str, default: Any) -> Any:
    import onnx

    for attribute in node.attribute:
        if attribute.name == name:
            return onnx.helper.get_attribute_value(attribute)
    return default


def select_nodes(model: onnx.ModelProto, recipe: Int8Recipe) -> list[str]:
    """Names of the nodes the recipe quantizes: wide pointwise convolutions (and weight MatMuls)."""
    weights = {init.name: init for init in model.graph.initializer}
    chosen = []
    for node in model.graph.node:
        if not node.name or len(node.input) < 2 or node.input[1] not in weights:
            continue
        if node.op_type == "Conv":
            pointwise = list(_attribute(node, "kernel_shape", [])) == [1, 1] and _attribute(node, "group", 1) == 1
            out_channels, in_channels = weights[node.input[1]].dims[:2]
            if pointwise and min(out_channels, in_channels) >= recipe.min_channels:
                chosen.append(node.name)
        elif node.op_type == "MatMul" and recipe.quantize_matmul:
            chosen.append(node.name)
    return chosen


def _activation_tensors(model: onnx.ModelProto, node_names: Sequence[str]) -> list[str]:
    weights = {init.name for init in model.graph.initializer}
    wanted = set(node_names)
    names: list[str] = []
    for node in model.graph.node:
        if node.name in wanted:
            for name in (node.input[0], node.output[0]):
                if name not in weights and name not in names:
                    names.append(name)
    return names


def calibrate_ranges(
    model_path: Path, tensors: Sequence[str], inputs: Iterable[np.ndarray], percentile: float, *, seed: int = 0
) -> dict[str, tuple[float, float]]:
    """Activation ranges [low, high] per tensor from running ``inputs`` through the FP32 model.

    Each run contributes a random subsample of every tensor's values (tensors differ in width
    from line to line, so they cannot be stacked); the range is the ``percentile`` of the pooled
    values at both ends, widened to include zero as uint8 quantization needs.
    """
    import onnxruntime as ort

    onnx = _require_onnx()
    model = onnx.load(str(model_path))
    existing = {out.name for out in model.graph.output}
    for name in tensors:
        if name not in existing:
            model.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.log_severity_level = 3
    session = ort.InferenceSession(model.SerializeToString(), sess_options=options, providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    rng = np.random.default_rng(seed)
    per_run = 8192
    pools: dict[str, list[np.ndarray]] = {name: [] for name in tensors}
    for tensor in inputs:
        values = session.run(list(tensors), {input_name: tensor})
        for name, value in zip(tensors, values, strict=True):
            flat = value.reshape(-1)
            if flat.size > per_run:
                flat = flat[rng.integers(0, flat.size, per_run)]
            pools[name].append(flat.astype(np.float32, copy=False))
    ranges = {}
    for name, parts in pools.items():
        if not parts:
            raise ModelError(f"calibration produced no values for tensor {name} of {model_path}")
        pooled = np.concatenate(parts)
        low = min(0.0, float(np.percentile(pooled, 100.0 - percentile)))
        high = max(0.0, float(np.percentile(pooled, percentile)))
        ranges[name] = (low, high if high > low else low + 1e-3)
    return ranges


def recognizer_inputs(model_path: Path, dictionary: Path, samples: Sequence[TextLineSample]) -> list[np.ndarray]:
    """The network inputs the engine's Recognizer would build for these line images."""
    from ocrd.engine.recognize import Recognizer

    recognizer = Recognizer(model_path, dictionary, threads=1)
    # A line wider than one piece reaches the network in pieces: calibrate on what it sees.
    return [tensor[None] for sample in samples for _, tensor in recognizer.network_inputs(sample.image)]


class _FixedReader:
    """onnxruntime's calibration reader over a list; our ranges override what it measures."""

    def __init__(self, input_name: str, tensors: Sequence[np.ndarray]) -> None:
        self._items = iter([{input_name: tensor} for tensor in tensors])

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._items, None)


def quantize_int8(fp32_path: Path, target: Path, dictionary: Path, recipe: Int8Recipe | None = None) -> int:
    """Write the INT8 recognizer for ``fp32_path`` to ``target``; returns how many nodes were quantized."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    from ocrd.engine.calibration import text_line_samples

    onnx = _require_onnx()
    recipe = recipe or Int8Recipe()
    model = onnx.load(str(fp32_path))
    if _default_opset(model) < PER_CHANNEL_OPSET:
        # Per-channel weights need DequantizeLinear's axis attribute, which opset 13 brought
        # (PP-OCRv6 is exported at opset 11): the converter rewrites the few ops that changed.
        from onnx import version_converter

        model = version_converter.convert_version(model, PER_CHANNEL_OPSET)
        fp32_path = target.with_name(f"{target.stem}.opset{PER_CHANNEL_OPSET}.onnx")
        onnx.save(model, str(fp32_path))
    nodes = select_nodes(model, recipe)
    if not nodes:
        raise ModelError(f"{fp32_path} has no pointwise convolutions or weight MatMuls to quantize")
    tensors = _activation_tensors(model, nodes)
    input_name = model.graph.input[0].name
    del model
    samples = text_line_samples(recipe.calibration_lines, recipe.calibration_seed)
    inputs = recognizer_inputs(fp32_path, dictionary, samples)
    ranges = calibrate_ranges(fp32_path, tensors, inputs, recipe.percentile, seed=recipe.calibration_seed)
    overrides = {name: [{"rmin": np.float32(low), "rmax": np.float32(high)}] for name, (low, high) in ranges.items()}
    with _quiet_onnxruntime_quantization():
        quantize_static(
            str(fp32_path),
            str(target),
            _FixedReader(input_name, inputs[:2]),
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=["Conv", "MatMul"],
            nodes_to_quantize=nodes,
            per_channel=recipe.per_channel,
            reduce_range=recipe.reduce_range,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
            extra_options={"ActivationSymmetric": False, "WeightSymmetric": True, "TensorQuantOverrides": overrides},
        )
    if fp32_path.name.endswith(f".opset{PER_CHANNEL_OPSET}.onnx"):
        fp32_path.unlink()
    return len(nodes)


def _default_opset(model: onnx.ModelProto) -> int:
    return next((entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx")), 1)


# -- accuracy check --------------------------------------------------------------------------


def check_accuracy(
    reference: Path, candidate: Path, dictionary: Path, *, lines: int = 160, seed: int = 2
) -> AccuracyCheck:
    """Both models read the same generated lines (never the calibration ones); errors against the drawn text."""
    from ocrd.engine.calibration import text_line_samples
    from ocrd.engine.recognize import Recognizer
    from ocrd.evaluation.distance import levenshtein

    samples = text_line_samples(lines, seed)
    readers = [Recognizer(path, dictionary, threads=0) for path in (reference, candidate)]
    ref_errors = cand_errors = disagreement = characters = 0
    for sample in samples:
        first, second = (reader.recognize([sample.image])[0].text for reader in readers)
        characters += len(sample.text)
        ref_errors += levenshtein(sample.text, first)
        cand_errors += levenshtein(sample.text, second)
        disagreement += levenshtein(first, second)
    total = max(characters, 1)
    return AccuracyCheck(len(samples), characters, ref_errors / total, cand_errors / total, disagreement / total)
