"""Benchmark worker for Tesseract 5 (Debian's tesseract-ocr with chi_sim + eng).

It drives libtesseract through its C API with ctypes instead of running the ``tesseract`` command
per page, so the language models are loaded once per worker like every other engine's. Images are
read with Leptonica, as the command does. Threads: OpenMP, capped by ``OMP_THREAD_LIMIT``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from typing import Any

from protocol import Recognise, serve

LANGUAGES = os.environ.get("BENCH_TESSERACT_LANGS", "chi_sim+eng")
PSM_AUTO = 3  # what the tesseract command uses; the C API's own default is a single block


def _library(*names: str) -> ctypes.CDLL:
    for name in names:
        found = ctypes.util.find_library(name)
        if found:
            return ctypes.CDLL(found)
    raise OSError(f"none of the libraries {names} found: run bench/setup_peers.sh tesseract")


def load() -> tuple[Recognise, dict[str, str]]:
    tess = _library("tesseract")
    lept = _library("leptonica", "lept")
    tess.TessVersion.restype = ctypes.c_char_p
    tess.TessBaseAPICreate.restype = ctypes.c_void_p
    tess.TessBaseAPIInit3.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
    tess.TessBaseAPISetPageSegMode.argtypes = [ctypes.c_void_p, ctypes.c_int]
    tess.TessBaseAPISetImage2.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    tess.TessBaseAPIGetUTF8Text.argtypes = [ctypes.c_void_p]
    tess.TessBaseAPIGetUTF8Text.restype = ctypes.c_void_p  # freed with TessDeleteText, so no c_char_p
    tess.TessDeleteText.argtypes = [ctypes.c_void_p]
    tess.TessBaseAPIClear.argtypes = [ctypes.c_void_p]
    lept.pixRead.argtypes = [ctypes.c_char_p]
    lept.pixRead.restype = ctypes.c_void_p
    lept.pixDestroy.argtypes = [ctypes.POINTER(ctypes.c_void_p)]

    api = tess.TessBaseAPICreate()
    if tess.TessBaseAPIInit3(api, None, LANGUAGES.encode()) != 0:
        raise OSError(f"tesseract could not load {LANGUAGES}: run bench/setup_peers.sh tesseract")
    tess.TessBaseAPISetPageSegMode(api, PSM_AUTO)

    def recognise(path: str) -> tuple[str, dict[str, Any]]:
        pix = ctypes.c_void_p(lept.pixRead(path.encode()))
        if not pix.value:
            raise OSError(f"leptonica cannot read {path}")
        try:
            tess.TessBaseAPISetImage2(api, pix)
            raw = tess.TessBaseAPIGetUTF8Text(api)
            text = ctypes.string_at(raw).decode("utf-8", "replace") if raw else ""
            if raw:
                tess.TessDeleteText(raw)
            tess.TessBaseAPIClear(api)
        finally:
            lept.pixDestroy(ctypes.byref(pix))
        return text, {}

    return recognise, {"version": tess.TessVersion().decode(), "models": LANGUAGES}


if __name__ == "__main__":
    serve(load)
