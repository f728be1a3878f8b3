"""Helpers for the daemon tests: real sample documents, a real daemon subprocess, and result checks."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymupdf

from ocrd import samples

REPO = Path(__file__).resolve().parents[1]


# --- documents ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    name: str
    data: bytes
    expected: list[str]  # lines the OCR must find (empty for files that must fail)
    good: bool = True


def lines_for(number: int) -> list[str]:
    return [f"文件编号{number:03d}", f"Item {number:03d} OK"]


def png_bytes(lines: list[str], workdir: Path) -> bytes:
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "page.png"
    samples.make_sample_page_png(path, lines)
    return path.read_bytes()


def image_pdf_bytes(pages: list[list[str]]) -> bytes:
    """A scanner-like PDF: every page is a picture of small text, no text layer."""
    document = pymupdf.open()
    for lines in pages:
        font = pymupdf.Font(samples.CJK_FONT)
        width = max(font.text_length(line, fontsize=samples.BODY_SIZE) for line in lines) + 2 * samples.MARGIN
        height = 2 * samples.MARGIN + len(lines) * samples.BODY_SIZE * samples.LINE_GAP
        with samples.text_page_pdf(lines, (width, height)) as source:
            image = samples.render_page(source[0]).convert("L")
        page = document.new_page(width=width, height=height)
        buffer = __import__("io").BytesIO()
        image.save(buffer, "PNG")
        page.insert_image(page.rect, stream=buffer.getvalue())
    data = document.tobytes(garbage=3, deflate=True)
    document.close()
    return data


def text_pdf_bytes(lines: list[str]) -> bytes:
    """A born-digital PDF (text layer): read without OCR."""
    document = samples.text_page_pdf(lines, samples.A5)
    document.subset_fonts()
    data = document.tobytes(garbage=3, deflate=True)
    document.close()
    return data


CORRUPT = {
    "truncated.pdf": None,  # filled in by mixed_batch: a real PDF cut in half
    "garbage.png": b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 40,
    "empty.jpg": b"",
    "letter.pdf": "这不是PDF文件, just text\n".encode() * 20,
    "random.tiff": bytes(range(256)) * 8,
}


def mixed_batch(count: int, workdir: Path) -> list[Sample]:
    """``count`` files: mostly small PNG pages, multi-page image PDFs, text PDFs, and 5 corrupt ones."""
    workdir.mkdir(parents=True, exist_ok=True)
    result: list[Sample] = []
    corrupt_names = list(CORRUPT)
    good = count - len(corrupt_names)
    for number in range(1, good + 1):
        lines = lines_for(number)
        kind = number % 5
        if kind == 0:
            pages = [lines, [f"第{number:03d}号第2页", f"Page 2 of {number:03d}"]]
            result.append(Sample(f"doc{number:03d}.pdf", image_pdf_bytes(pages), [*lines, *pages[1]]))
        elif kind == 1:
            result.append(Sample(f"text{number:03d}.PDF", text_pdf_bytes(lines), lines))
        else:
            suffix = ".PNG" if kind == 2 else ".png"
            result.append(Sample(f"scan{number:03d}{suffix}", png_bytes(lines, workdir), lines))
    whole = image_pdf_bytes([lines_for(999)])
    for name in corrupt_names:
        data = CORRUPT[name] if CORRUPT[name] is not None else whole[: len(whole) // 2]
        result.append(Sample(name, data, [], good=False))
    return result


def normalize(text: str) -> str:
    """Compare OCR output loosely: no whitespace, ASCII punctuation for full-width forms."""
    table = {ord("，"): ",", ord("："): ":", ord("（"): "(", ord("）"): ")", ord("；"): ";"}
    return re.sub(r"\s+", "", text.translate(table))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def drop(inbox: Path, sample: Sample) -> Path:
    """Put a file into the inbox the way a careful copier does: write aside, then rename."""
    temp = inbox / f".{sample.name}.part"
    temp.write_bytes(sample.data)
    target = inbox / sample.name
    os.rename(temp, target)
    return target


# --- the daemon as a subprocess ------------------------------------------------------------------------


def write_config(path: Path, inboxes: list[dict[str, Any]], **sections: dict[str, Any]) -> Path:
    def value(item: Any) -> str:
        if isinstance(item, bool):
            return "true" if item else "false"
        if isinstance(item, int | float):
            return repr(item)
        if isinstance(item, list | tuple):
            return "[" + ", ".join(value(x) for x in item) + "]"
        return json.dumps(str(item))

    lines = []
    for section, values in sections.items():
        lines.append(f"[{section}]")
        lines.extend(f"{key} = {value(item)}" for key, item in values.items())
        lines.append("")
    for inbox in inboxes:
        lines.append("[[inbox]]")
        lines.extend(f"{key} = {value(item)}" for key, item in inbox.items())
        lines.append("")
    path.write_text("\n".join(lines))
    return path


def inbox_folders(base: Path) -> dict[str, Path]:
    """inbox/ (created), outbox/, done/ and failed/ under ``base``; the daemon creates the last three."""
    folders = {name: base / name for name in ("inbox", "outbox", "done", "failed")}
    folders["inbox"].mkdir(exist_ok=True)
    return folders


def inbox_entry(folders: dict[str, Path], **options: Any) -> dict[str, Any]:
    """One [[inbox]] table for ``write_config`` using ``folders``, plus ``options`` (settle, watch, ...)."""
    return {
        "path": folders["inbox"],
        "outbox": folders["outbox"],
        "done": folders["done"],
        "failed": folders["failed"],
        **options,
    }


FAST_DAEMON = {
    "workers": 2,
    "threads_per_worker": 1,
    "rescan_interval": 2.0,
    "grace_period": 20.0,
    "retry_backoff_max": 1.0,
    "log_level": "debug",
    "log_format": "json",
}


@dataclass
class Daemon:
    """``python -m ocrd.daemon run`` in a subprocess, its JSON log captured in a file."""

    args: list[str]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    prefix: list[str] = field(default_factory=list)  # e.g. setpriv ... to run as another user
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> Daemon:
        env = {**os.environ, "PYTHONPATH": str(REPO), "OCRD_CONFIG": "none", **self.env}
        if "NOTIFY_SOCKET" not in self.env:
            env.pop("NOTIFY_SOCKET", None)
        self._ready_before = len(self.events("ready")) if self.log_path.exists() else 0
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [*self.prefix, sys.executable, "-m", "ocrd.daemon", "run", *self.args],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=str(REPO),
        )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        found = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                item = json.loads(line)
                if isinstance(item, dict) and (name is None or item.get("event") == name):
                    found.append(item)
        return found

    def wait_ready(self, timeout: float = 300) -> Daemon:
        before = self._ready_before
        wait_until(lambda: len(self.events("ready")) > before or self.process.poll() is not None, timeout)
        if self.process.poll() is not None:
            raise AssertionError(f"daemon exited early ({self.process.returncode}):\n{self.log_path.read_text()}")
        return self

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        with contextlib.suppress(OSError):
            pids = [int(pid) for pid in children.read_text().split()]
            # only the worker processes (the spawn helper "resource tracker" is not one)
            return [pid for pid in pids if b"spawn_main" in _cmdline(pid)]
        return []

    def signal(self, number: int) -> None:
        os.kill(self.pid, number)

    def stop(self, timeout: float = 60) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self._log.close()
        return code

    def kill9(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()
        self._log.close()


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fill_disk(filler: Path) -> None:
    """Write ``filler`` until its file system is full (a tiny tmpfs in the tests)."""
    with filler.open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass


def wait_until(predicate: Callable[[], Any], timeout: float, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


# --- checking results ----------------------------------------------------------------------------------


def files_under(folder: Path) -> list[Path]:
    if not folder.exists():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and ".ocrd" not in p.relative_to(folder).parts)


def sidecars(outbox: Path) -> dict[str, list[dict[str, Any]]]:
    """source -> the JSON results naming it (each must have its .txt twin)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for path in files_under(outbox):
        if path.suffix == ".json":
            data = json.loads(path.read_text())
            assert path.with_suffix(".txt").exists(), f"{path} has no .txt twin"
            data["_txt"] = path.with_suffix(".txt").read_text()
            data["_path"] = str(path)
            found.setdefault(data["source"], []).append(data)
    return found


def failures(failed: Path) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for path in files_under(failed):
        if path.name.endswith(".error.json"):
            data = json.loads(path.read_text())
            original = path.with_name(path.name[: -len(".error.json")])
            assert original.exists(), f"{path} has no original next to it"
            data["_original"] = original.read_bytes()
            found.setdefault(data["source"], []).append(data)
    return found


def hashes_in(folder: Path, ignore: Iterable[str] = (".error.json",)) -> list[str]:
    return [sha256(p.read_bytes()) for p in files_under(folder) if not p.name.endswith(tuple(ignore))]


def assert_exactly_once(samples_: list[Sample], inbox: Path, outbox: Path, done: Path, failed: Path) -> None:
    """Every input has exactly one outcome: one sidecar pair + its original once in done/, or one failure."""
    results, failed_items = sidecars(outbox), failures(failed)
    done_hashes = hashes_in(done)
    assert [p for p in files_under(inbox)] == [], f"inbox not empty: {files_under(inbox)}"
    processing = inbox / ".ocrd" / "processing"
    leftovers = [p for p in processing.rglob("*") if p.is_file()] if processing.exists() else []
    assert leftovers == [], f"claims left behind: {leftovers}"
    for item in samples_:
        got_results = results.get(item.name, [])
        got_failures = failed_items.get(item.name, [])
        assert len(got_results) + len(got_failures) == 1, (
            f"{item.name}: {len(got_results)} result(s) and {len(got_failures)} failure(s)"
        )
        if got_results:
            assert done_hashes.count(sha256(item.data)) == 1, f"{item.name}: original not in done/ exactly once"
            assert got_results[0]["sha256"] == sha256(item.data)
        else:
            assert got_failures[0]["_original"] == item.data
    assert len(results) + len(failed_items) == len(samples_), "results for files that were never dropped"
    temporary = [p for folder in (inbox, outbox, done, failed) if folder.exists() for p in folder.rglob("*.ocrd-tmp")]
    assert temporary == [], f"temporary files left behind: {temporary}"


def copy_tree(source: Path, target: Path) -> None:
    shutil.copytree(source, target, dirs_exist_ok=True)
