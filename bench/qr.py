"""Which QR decoder reads the invoices' codes: exact payloads read, wrong payloads, ms per page.

    python bench/qr.py [--data DIR] [--others DIR] [--stress] [--rounds N] [--json FILE]

The pages are ../shared/eval/fields_dev (real invoices; ``*_scan.jpg`` copies are gray, rotated
up to 2°, blurred and JPEG q60), read in place, as the engine has them (BGR). Each decoder is
given the gray page, converted in its timed call. "+x2,sharpen" and the like are retries made in
turn, each only when the tries before it found nothing, so a page read at the first try costs one
call. "others" are dev_pdf's A4 pages at 200 dpi: all but two (an invoice and its scan) have no
code, so they show what the retries cost where nothing is found. ``--stress`` adds copies of the
clean pages made here, harder than the scans: scaled to 0.35 (~70 dpi), blurred (σ 2), and
rotated by 10° with JPEG q40.

Measured on an AMD EPYC (KVM guest, 2 cores, x86_64; ``lscpu``: family 25 model 1, 32 MiB L3),
opencv-python-headless 5.0.0, zxing-cpp 3.1.1, one thread, ``--stress``, best of 3 rounds.
"clean" and "degraded" count pages read with exactly the labelled payload, "wrong" the pages
where any payload read differs from it, "others" the other pages on which any code was read;
the times are per page over the clean and degraded pages, "others ms" the median on the others:

    decoder             retries               clean  degraded  stress  wrong  others  median ms  p95 ms  others ms
    opencv              -                     39/39     16/20  36/117      0    2/20       88.0    93.7       96.3
    opencv              +x2,half,otsu         39/39     19/20  43/117      0    2/20       91.1   426.9      700.5
    opencv-multi        -                     32/39      4/20  32/117      0    0/20       93.3    97.0       94.0
    opencv-aruco        -                     39/39     18/20  37/117      0    2/20       79.6    90.4       39.5
    opencv-aruco-multi  -                     39/39     18/20  37/117      0    2/20       80.1    97.6       38.9
    opencv-aruco        +x2,half,otsu         39/39     20/20  47/117      0    2/20       79.1    94.3      212.9
    zxing-cpp           -                     39/39     20/20 107/117      0    2/20        5.0     5.6        9.9
    zxing-cpp           +otsu                 39/39     20/20 107/117      0    2/20        5.1     5.7       21.8
    zxing-cpp           +x2                   39/39     20/20 110/117      0    2/20        5.4     5.8       45.8
    zxing-cpp           +x2,sharpen           39/39     20/20 117/117      0    2/20        4.1     4.7       57.8
    read_codes          (zxing-cpp)           39/39     20/20 117/117      0    2/20        4.8     6.0       23.0

So ocrd.engine.codes uses zxing-cpp with the x2 and sharpen retries. It doubles only pages that
stay within its pixel bound when doubled (a 200-dpi invoice page; not an A4 page, whose modules
are wide enough), hence 23 ms rather than 58 on pages without a code. Without zxing-cpp it uses
OpenCV's ArUco detector (the multi form, so that every code is returned), once: its retries
would add ~170 ms to every page without a code.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.machine import describe  # noqa: E402
from bench.stats import percentile  # noqa: E402
from ocrd.engine.codes import decoder_name, read_codes  # noqa: E402

EVAL_DIR = REPO.parent / "shared" / "eval"
Decode = Callable[[np.ndarray], list[str]]  # gray pixels -> payloads found


@dataclass(frozen=True)
class Page:
    name: str
    group: str  # "clean", "degraded", "stress" or "others"
    image: np.ndarray  # BGR, as the engine has it
    payload: str | None  # the true payload; None where it is not known (others)


# --- decoders -----------------------------------------------------------------------------------------


def opencv(detector: Any) -> Decode:
    def decode(gray: np.ndarray) -> list[str]:
        text, _, _ = detector.detectAndDecode(gray)
        return [text] if text else []

    return decode


def opencv_multi(detector: Any) -> Decode:
    def decode(gray: np.ndarray) -> list[str]:
        ok, texts, _, _ = detector.detectAndDecodeMulti(gray)
        return [text for text in texts if text] if ok else []

    return decode


def zxing() -> Decode | None:
    try:
        import zxingcpp
    except ImportError:
        return None

    def decode(gray: np.ndarray) -> list[str]:
        found = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode, text_mode=zxingcpp.TextMode.Plain)
        return [result.text for result in found if result.valid and result.text]

    return decode


# --- retries: each one's pixels, made from the gray page ----------------------------------------------


def doubled(gray: np.ndarray) -> np.ndarray:
    return cv2.resize(gray, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC)


def halved(gray: np.ndarray) -> np.ndarray:
    return cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)


def otsu(gray: np.ndarray) -> np.ndarray:
    return cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]


def sharpened(gray: np.ndarray) -> np.ndarray:
    return cv2.addWeighted(gray, 2.5, cv2.GaussianBlur(gray, (0, 0), 2.0), -1.5, 0.0)


RETRIES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "x2": doubled,
    "half": halved,
    "otsu": otsu,
    "sharpen": sharpened,
}


def with_retries(decode: Decode, retries: tuple[str, ...]) -> Callable[[np.ndarray], list[str]]:
    def run(image: np.ndarray) -> list[str]:
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        found = decode(gray)
        for name in retries:
            if found:
                break
            found = decode(RETRIES[name](gray))
        return found

    return run


def shipped(image: np.ndarray) -> list[str]:
    return [code.text for code in read_codes(image)]


def candidates() -> Iterator[tuple[str, str, Callable[[np.ndarray], list[str]]]]:
    """(decoder, retries, reader) for every row of the table."""
    rows: list[tuple[str, tuple[str, ...], Decode]] = [
        ("opencv", (), opencv(cv2.QRCodeDetector())),
        ("opencv", ("x2", "half", "otsu"), opencv(cv2.QRCodeDetector())),
        ("opencv-multi", (), opencv_multi(cv2.QRCodeDetector())),
        ("opencv-aruco", (), opencv(cv2.QRCodeDetectorAruco())),
        ("opencv-aruco-multi", (), opencv_multi(cv2.QRCodeDetectorAruco())),
        ("opencv-aruco", ("x2", "half", "otsu"), opencv(cv2.QRCodeDetectorAruco())),
    ]
    decode = zxing()
    if decode is None:
        print("zxing-cpp is not installed: its rows are left out (pip install zxing-cpp)", file=sys.stderr)
    else:
        rows += [("zxing-cpp", retries, decode) for retries in ((), ("otsu",), ("x2",), ("x2", "sharpen"))]
    for name, retries, decoder in rows:
        yield name, "+" + ",".join(retries) if retries else "-", with_retries(decoder, retries)
    yield "read_codes", f"({decoder_name()})", shipped


# --- pages --------------------------------------------------------------------------------------------


def load_pages(data: Path, others: Path | None, stress: bool) -> list[Page]:
    pages = []
    for line in (data / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        label = json.loads(line)
        image = cv2.imread(str(data / label["image"]), cv2.IMREAD_COLOR)
        group = "degraded" if label.get("degraded") else "clean"
        pages.append(Page(label["image"], group, image, label["qr"]["payload"]))
    if stress:
        pages += [page for clean in list(pages) if clean.group == "clean" for page in stressed(clean)]
    if others is not None:
        for path in sorted(others.iterdir()):
            if path.suffix.lower() in (".png", ".jpg", ".jpeg"):
                pages.append(Page(path.name, "others", cv2.imread(str(path), cv2.IMREAD_COLOR), None))
    return pages


def stressed(page: Page) -> Iterator[Page]:
    """Harder copies of a clean page: fewer pixels per module, more blur, a larger turn."""
    image = page.image
    yield Page(
        f"{page.name}@0.35",
        "stress",
        cv2.resize(image, None, fx=0.35, fy=0.35, interpolation=cv2.INTER_AREA),
        page.payload,
    )
    yield Page(f"{page.name}@blur", "stress", cv2.GaussianBlur(image, (0, 0), 2.0), page.payload)
    turned = rotated(image, 10.0)
    _, encoded = cv2.imencode(".jpg", turned, [cv2.IMWRITE_JPEG_QUALITY, 40])
    yield Page(f"{page.name}@10deg", "stress", cv2.imdecode(encoded, cv2.IMREAD_COLOR), page.payload)


def rotated(image: np.ndarray, degrees: float) -> np.ndarray:
    """Turned on a canvas large enough to keep the corners (the code sits in one)."""
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    size = (int(width * cos + height * sin), int(width * sin + height * cos))
    matrix[0, 2] += size[0] / 2 - width / 2
    matrix[1, 2] += size[1] / 2 - height / 2
    return cv2.warpAffine(image, matrix, size, borderValue=(255, 255, 255))


# --- measuring ----------------------------------------------------------------------------------------


def measure(reader: Callable[[np.ndarray], list[str]], pages: list[Page], rounds: int) -> dict[str, Any]:
    """Reads from the first round (the decoders are deterministic); each page's time is its best round."""
    reader(pages[0].image)  # warm-up: first calls allocate
    right = {"clean": 0, "degraded": 0, "stress": 0}
    wrong = found_others = 0
    best: dict[int, float] = {}  # by the page's place in the list
    for round_number in range(rounds):
        for index, page in enumerate(pages):
            if round_number and page.group == "stress":
                continue  # its reads are known; its times are not reported
            started = time.perf_counter()
            texts = reader(page.image)
            elapsed = (time.perf_counter() - started) * 1000.0
            best[index] = min(elapsed, best.get(index, elapsed))
            if round_number:
                continue
            if page.payload is None:
                found_others += bool(texts)
                continue
            right[page.group] += page.payload in texts
            wrong += any(text != page.payload for text in texts)
    invoice_ms = [best[index] for index, page in enumerate(pages) if page.group in ("clean", "degraded")]
    others_ms = [best[index] for index, page in enumerate(pages) if page.group == "others"]
    return {
        **right,
        "wrong": wrong,
        "others_found": found_others,
        "median_ms": percentile(invoice_ms, 0.5),
        "p95_ms": percentile(invoice_ms, 0.95),
        "others_median_ms": percentile(others_ms, 0.5),
    }


def show(row: dict[str, Any], totals: dict[str, int]) -> str:
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    counts = [f"{row[group]}/{totals[group]}" if totals[group] else "-" for group in ("clean", "degraded", "stress")]
    others = f"{row['others_found']}/{totals['others']}" if totals["others"] else "-"
    return (
        f"{row['decoder']:<19} {row['retries']:<20} {counts[0]:>6} {counts[1]:>9} {counts[2]:>7} {row['wrong']:>6} "
        f"{others:>7} {ms(row['median_ms']):>10} {ms(row['p95_ms']):>7} {ms(row['others_median_ms']):>10}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=EVAL_DIR / "fields_dev", help="labelled invoice pages")
    parser.add_argument("--others", default=str(EVAL_DIR / "dev_pdf"), help="a folder of other pages ('' for none)")
    parser.add_argument("--stress", action="store_true", help="add harder copies of the clean pages")
    parser.add_argument("--rounds", type=int, default=3, help="time each page this often, keep its best")
    parser.add_argument("--json", type=Path, help="also write the rows and the machine here")
    args = parser.parse_args()
    # One thread, as the engine's workers run it, and so no decoder gets the machine's other core.
    cv2.setNumThreads(1)
    others = Path(args.others) if args.others else None
    pages = load_pages(args.data, others, args.stress)
    totals = {group: sum(page.group == group for page in pages) for group in ("clean", "degraded", "stress", "others")}
    machine = describe(sys.argv)
    print(f"# {machine['cpu']} ({machine['arch']}, {machine['cores_usable']} cores), OpenCV {cv2.__version__}")
    print(
        f"{'decoder':<19} {'retries':<20} {'clean':>6} {'degraded':>9} {'stress':>7} {'wrong':>6} "
        f"{'others':>7} {'median ms':>10} {'p95 ms':>7} {'others ms':>10}"
    )
    rows = []
    for name, retries, reader in candidates():
        row = {"decoder": name, "retries": retries, **measure(reader, pages, max(1, args.rounds))}
        rows.append(row)
        print(show(row, totals), flush=True)
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "totals": totals, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
