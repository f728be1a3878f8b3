"""Derived models: the exact FP32 rewrite, INT8 quantization, and the cache that keeps them.

Models here are real ONNX files: small ones built with onnx.helper for the cache's behaviour,
and the shipped PP-OCRv5 recognizer for the rewrite and the quantization.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from ocrd.config import EngineSettings
from ocrd.engine import derived
from ocrd.engine.calibration import common_chinese_characters, text_line_samples
from ocrd.engine.derived import Derivation, derive, derive_pack, fp32_derivation, read_manifest
from ocrd.engine.fold import fold_affine_into_conv
from ocrd.engine.models import builtin_pack, load_pack, sha256_of
from ocrd.engine.precision import MAX_CER_INCREASE
from ocrd.engine.quantize import check_accuracy, optimize_fp32
from ocrd.engine.recognize import Recognizer
from ocrd.errors import ModelError, UsageError
from ocrd.packs import DEFAULT_PACK

# -- a small LCNet-like model: conv -> affine -> hardswish -> affine -> conv (1x1 and padded 3x3)


def _constant(name: str, value: np.ndarray) -> TensorProto:
    return numpy_helper.from_array(np.asarray(value, dtype=np.float32), name)


def affine_block_model(seed: int = 0, *, bias_shift: float = 0.0) -> onnx.ModelProto:
    """Conv, then the Mul/Add pairs PP-LCNetV3 exports around every activation, then two convolutions."""
    rng = np.random.default_rng(seed)
    inits = [
        _constant("w1", rng.normal(0, 0.5, (8, 3, 3, 3))),
        _constant("b1", rng.normal(0, 0.1, 8) + bias_shift),
        _constant("s1", [1.7]),
        _constant("t1", [0.3]),
        _constant("s2", [0.8]),
        _constant("t2", [-0.2]),
        _constant("w2", rng.normal(0, 0.5, (8, 8, 1, 1))),
        _constant("b2", rng.normal(0, 0.1, 8)),
        _constant("s3", [1.3]),
        _constant("t3", [0.1]),
        _constant("w3", rng.normal(0, 0.5, (8, 1, 3, 3))),
        _constant("b3", rng.normal(0, 0.1, 8)),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("Mul", ["s1", "c1"], ["m1"], name="mul1"),  # constant first, as exported
        helper.make_node("Add", ["m1", "t1"], ["a1"], name="add1"),
        helper.make_node("HardSwish", ["a1"], ["h1"], name="hs1"),
        helper.make_node("Mul", ["s2", "h1"], ["m2"], name="mul2"),
        helper.make_node("Add", ["m2", "t2"], ["a2"], name="add2"),
        helper.make_node("Conv", ["a2", "w2", "b2"], ["c2"], name="conv2"),  # 1x1: affine folds in fully
        helper.make_node("HardSwish", ["c2"], ["h2"], name="hs2"),
        helper.make_node("Mul", ["s3", "h2"], ["m3"], name="mul3"),
        helper.make_node("Add", ["m3", "t3"], ["a3"], name="add3"),
        helper.make_node("Conv", ["a3", "w3", "b3"], ["y"], name="conv3", group=8, pads=[1, 1, 1, 1]),  # padded
    ]
    graph = helper.make_graph(
        nodes,
        "affine_blocks",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "h", "w"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, "h", "w"])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 7
    return model


def run_model(model: onnx.ModelProto | Path, x: np.ndarray) -> np.ndarray:
    source = str(model) if isinstance(model, Path) else model.SerializeToString()
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(source, sess_options=options, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def op_counts(model: onnx.ModelProto) -> dict[str, int]:
    counts: dict[str, int] = {}
    for node in model.graph.node:
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
    return counts


def test_folding_removes_the_affine_steps_and_keeps_the_function() -> None:
    model = affine_block_model()
    x = np.random.default_rng(1).normal(0, 1, (1, 3, 10, 14)).astype(np.float32)
    expected = run_model(model, x)

    report = fold_affine_into_conv(model)

    assert (report.after_conv, report.before_conv, report.scale_only) == (2, 1, 1)
    counts = op_counts(model)
    assert counts.get("Mul", 0) == 0  # every scale went into a convolution
    assert counts.get("Add", 0) == 1  # only the shift in front of the padded convolution is left
    np.testing.assert_allclose(run_model(model, x), expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", ["ppocrv5-mobile", "ppocrv6-small"])
def test_optimized_recognizer_reads_the_same_as_the_shipped_one(name: str, tmp_path: Path) -> None:
    pack = builtin_pack(name)
    target = tmp_path / "rec.fp32.onnx"
    folded = optimize_fp32(pack.rec, target)
    if name == "ppocrv5-mobile":  # PP-OCRv6 is exported with its scales already inside the convolutions
        assert folded > 50
        assert op_counts(onnx.load(str(target))).get("Mul", 0) < op_counts(onnx.load(str(pack.rec)))["Mul"]

    shipped = Recognizer(pack.rec, pack.dictionary, threads=1)
    optimized = Recognizer(target, pack.dictionary, threads=1)
    for sample in text_line_samples(6, seed=11):
        first = shipped.recognize([sample.image])[0]
        second = optimized.recognize([sample.image])[0]
        assert second.text == first.text
        assert second.confidence == pytest.approx(first.confidence, abs=1e-3)


# -- the cache --------------------------------------------------------------------------------


def counting_derivation(log_file: Path, *, arrivals: Path | None = None, racers: int = 0) -> Derivation:
    """The real FP32 rewrite, appending a line to ``log_file`` each time it actually builds.

    With ``arrivals``, a build waits until ``racers`` files are there (each racer writes one just
    before it calls derive), so the others are surely racing for the same file meanwhile.
    """

    def build(source: Path, target: Path) -> dict[str, object]:
        with log_file.open("a") as handle:
            handle.write(f"{os.getpid()}\n")
        deadline = time.monotonic() + 300
        while arrivals is not None and len(list(arrivals.iterdir())) < racers and time.monotonic() < deadline:
            time.sleep(0.01)
        model = onnx.load(str(source))
        report = fold_affine_into_conv(model)
        onnx.save(model, str(target))
        return {"folded_steps": report.total}

    return Derivation("test-fold-v1", "model.onnx", build)


def builds(log_file: Path) -> int:
    return len(log_file.read_text().splitlines()) if log_file.exists() else 0


def test_derive_builds_once_and_then_reuses_the_cached_file(tmp_path: Path) -> None:
    source = tmp_path / "model.onnx"
    onnx.save(affine_block_model(), str(source))
    log_file = tmp_path / "builds.log"
    recipe = counting_derivation(log_file)
    cache = tmp_path / "cache"

    first = derive(source, recipe, root=cache)
    manifest = read_manifest(first.parent)
    assert manifest is not None
    assert manifest["source_sha256"] == sha256_of(source)
    assert manifest["output_sha256"] == sha256_of(first)
    assert manifest["recipe"] == "test-fold-v1"
    assert manifest["details"] == {"folded_steps": 4}
    assert first.parent.name == f"{sha256_of(source)}-test-fold-v1"
    modified = first.stat().st_mtime_ns

    second = derive(source, recipe, root=cache)
    assert second == first
    assert builds(log_file) == 1
    assert second.stat().st_mtime_ns == modified
    assert not list(first.parent.parent.glob(".*.tmp"))  # no scratch folders left behind


def test_a_changed_source_gets_its_own_derived_file(tmp_path: Path) -> None:
    source = tmp_path / "model.onnx"
    log_file = tmp_path / "builds.log"
    recipe = counting_derivation(log_file)
    cache = tmp_path / "cache"
    onnx.save(affine_block_model(seed=0), str(source))
    old = derive(source, recipe, root=cache)

    onnx.save(affine_block_model(seed=5), str(source))  # e.g. a new version of the model package
    new = derive(source, recipe, root=cache)

    assert builds(log_file) == 2
    assert new != old
    assert read_manifest(new.parent)["source_sha256"] == sha256_of(source)
    assert not old.parent.exists()  # superseded: the same file path now holds another model
    x = np.ones((1, 3, 6, 6), dtype=np.float32)
    np.testing.assert_allclose(run_model(new, x), run_model(onnx.load(str(source)), x), rtol=1e-4, atol=1e-4)


def test_a_damaged_cached_file_or_manifest_is_rebuilt(tmp_path: Path) -> None:
    source = tmp_path / "model.onnx"
    onnx.save(affine_block_model(), str(source))
    log_file = tmp_path / "builds.log"
    recipe = counting_derivation(log_file)
    cache = tmp_path / "cache"
    output = derive(source, recipe, root=cache)
    good = output.read_bytes()

    output.write_bytes(good[: len(good) // 2])  # truncated by a full disk, say
    assert derive(source, recipe, root=cache).read_bytes() == good
    assert builds(log_file) == 2

    (output.parent / "manifest.json").write_text("{not json")
    assert derive(source, recipe, root=cache).read_bytes() == good
    assert builds(log_file) == 3

    manifest = json.loads((output.parent / "manifest.json").read_text())
    manifest["source_sha256"] = "0" * 64  # a manifest left by another source
    (output.parent / "manifest.json").write_text(json.dumps(manifest))
    derive(source, recipe, root=cache)
    assert builds(log_file) == 4


def _derive_in_child(source: str, log_file: str, cache: str, results: str, arrivals: str, racers: int) -> None:
    (Path(arrivals) / str(os.getpid())).touch()
    recipe = counting_derivation(Path(log_file), arrivals=Path(arrivals), racers=racers)
    path = derive(Path(source), recipe, root=Path(cache))
    with open(results, "a") as handle:
        handle.write(f"{path}\n")


def test_worker_processes_starting_together_build_the_file_once(tmp_path: Path) -> None:
    source = tmp_path / "model.onnx"
    onnx.save(affine_block_model(), str(source))
    log_file, results = tmp_path / "builds.log", tmp_path / "results.txt"
    arrivals = tmp_path / "arrivals"
    arrivals.mkdir()
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(
            target=_derive_in_child,
            args=(str(source), str(log_file), str(tmp_path / "c"), str(results), str(arrivals), 3),
        )
        for _ in range(3)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0

    assert builds(log_file) == 1
    paths = set(results.read_text().splitlines())
    assert len(paths) == 1
    assert read_manifest(Path(next(iter(paths))).parent)["output_sha256"] == sha256_of(Path(next(iter(paths))))


def test_cache_location_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OCRD_CACHE_DIR", "CACHE_DIRECTORY", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert derived.cache_root() == tmp_path / "home" / ".cache" / "ocrd"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert derived.cache_root() == tmp_path / "xdg" / "ocrd"
    monkeypatch.setenv("CACHE_DIRECTORY", str(tmp_path / "systemd"))
    assert derived.cache_root() == tmp_path / "systemd"
    monkeypatch.setenv("OCRD_CACHE_DIR", str(tmp_path / "explicit"))
    assert derived.cache_root() == tmp_path / "explicit"
    assert derived.models_dir() == tmp_path / "explicit" / "models"


def test_an_unwritable_cache_is_reported_for_int8_and_skipped_for_fp32(tmp_path: Path) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder should be")
    pack = load_pack(None)

    assert derive_pack(pack, "fp32", verified=True, root=blocked) == pack  # shipped files, same results
    with pytest.raises(ModelError, match="OCRD_CACHE_DIR"):
        derive_pack(pack, "int8", verified=True, root=blocked)
    with pytest.raises(UsageError, match="fp32, int8"):
        derive_pack(pack, "int4", verified=True, root=blocked)


def test_the_default_engine_uses_the_optimized_fp32_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ocrd.engine.pipeline import OcrPipeline

    monkeypatch.setenv("OCRD_CACHE_DIR", str(tmp_path))
    pipeline = OcrPipeline(EngineSettings(threads=1))
    for role in ("det", "rec"):
        path = pipeline.pack.files[role].path
        assert path.parent.parent == tmp_path / "models"
        assert read_manifest(path.parent)["recipe"] == fp32_derivation().recipe
    image = text_line_samples(1, seed=3)[0]
    assert pipeline.recognizer.recognize([image.image])[0].text == image.text


# -- calibration data -------------------------------------------------------------------------


def test_calibration_lines_are_deterministic_and_varied() -> None:
    first = text_line_samples(24, seed=7)
    again = text_line_samples(24, seed=7)
    other = text_line_samples(24, seed=8)
    assert [s.text for s in first] == [s.text for s in again]
    assert all(np.array_equal(a.image, b.image) for a, b in zip(first, again, strict=True))
    assert [s.text for s in first] != [s.text for s in other]
    heights = {s.image.shape[0] for s in first}
    assert len(heights) > 5
    assert any(any("\u4e00" <= c <= "\u9fff" for c in s.text) for s in first)
    assert any(s.text.isascii() for s in first)
    assert len(common_chinese_characters()) == 3755


# -- INT8 -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def int8_cache(int8_every_pack_root: Path) -> Path:
    """A cache folder holding the INT8 recognizer of PP-OCRv5 mobile (its pack's recipe is the
    default one, int8_derivation's), built once per session for the slow tests below and
    tests/test_packs.py; the tests run their own accuracy checks, and the pipeline finds the file
    under the same recipe.
    """
    pack = builtin_pack("ppocrv5-mobile")
    assert derived.pack_int8_derivation(pack).recipe == derived.int8_derivation(pack.dictionary).recipe
    return int8_every_pack_root


@pytest.mark.slow
def test_int8_recognizer_is_quantized_and_still_reads(int8_cache: Path, tmp_path: Path) -> None:
    pack = builtin_pack("ppocrv5-mobile")
    int8 = derive(
        pack.rec, derived.int8_derivation(pack.dictionary), source_sha256=sha256_of(pack.rec), root=int8_cache
    )
    details = read_manifest(int8.parent)["details"]
    fp32 = tmp_path / "rec.fp32.onnx"
    optimize_fp32(pack.rec, fp32)

    model = onnx.load(str(int8))
    counts = op_counts(model)
    quantized = details["quantized_nodes"]
    assert quantized >= 6
    assert counts["QuantizeLinear"] >= quantized and counts["DequantizeLinear"] >= quantized
    int8_weights = [init for init in model.graph.initializer if init.data_type == TensorProto.INT8]
    assert len(int8_weights) >= quantized
    assert int8.stat().st_size < fp32.stat().st_size

    check = check_accuracy(fp32, int8, pack.dictionary, lines=40)
    assert check.reference_cer < 0.08  # the generated lines are readable
    assert check.candidate_cer < check.reference_cer + 0.03
    assert check.disagreement < 0.05


def _read_sets(pack: str, precision: str, sets: list[Path]) -> tuple[str, dict[str, dict[str, float]]]:
    """Runs in its own process (one engine thread), so the FP32 and INT8 readings share the cores."""
    from ocrd.engine.pipeline import OcrPipeline
    from ocrd.evaluation import run_eval

    pipeline = OcrPipeline(EngineSettings(pack=pack, precision=precision, threads=1))
    summary = {}
    for set_dir in sets:
        report = run_eval(set_dir, lambda path: pipeline.run_path(path, source=path.name).to_text())
        for group in report.groups:
            if group.lang == "all":
                summary[f"{set_dir.name}/{group.kind}"] = {"cer": group.cer, "bag_recall": group.bag_recall}
    return pipeline.pack.name, summary


@pytest.mark.slow
def test_the_default_packs_int8_reads_the_eval_sets_within_the_bound_auto_allows(
    int8_every_pack_root: Path, monkeypatch: pytest.MonkeyPatch, eval_dev_dir: Path, eval_pdf_dir: Path
) -> None:
    """What ``precision = "auto"`` runs on int8 dot-product CPUs: at most 0.3 points of CER more and
    0.3 points of bag recall less than FP32 on both evaluation sets (the check at build time only
    reads generated lines)."""
    from concurrent.futures import ProcessPoolExecutor

    monkeypatch.setenv("OCRD_CACHE_DIR", str(int8_every_pack_root))  # the spawned readers inherit it
    sets = [eval_dev_dir, eval_pdf_dir]
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        fp32_run = pool.submit(_read_sets, DEFAULT_PACK, "fp32", sets)
        int8_run = pool.submit(_read_sets, DEFAULT_PACK, "int8", sets)
        (fp32_name, fp32), (int8_name, int8) = fp32_run.result(timeout=900), int8_run.result(timeout=900)

    assert int8_name == f"{fp32_name}-int8"
    assert set(int8) == set(fp32) == {"dev/line", "dev/page", "dev_pdf/page"}
    bound = MAX_CER_INCREASE + 1e-9  # the figures are rounded nowhere: equal-to-the-bound passes
    for group, reference in fp32.items():
        assert int8[group]["cer"] <= reference["cer"] + bound, (group, reference, int8[group])
        assert int8[group]["bag_recall"] >= reference["bag_recall"] - bound, (group, reference, int8[group])
