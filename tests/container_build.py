"""The container image of this checkout, built once per session in a thread beside the other tests.

`make image BASE=offline` takes minutes, mostly on one core (pip, the INT8 build and its check), while
most tests leave the second core idle: conftest.py starts the build as soon as the tests are collected
and runs tests/test_container.py last, so the build overlaps the rest of the suite instead of adding to it.
"""

from __future__ import annotations

import subprocess
import threading
from concurrent.futures import Future

from ocrd import __version__
from tests.install_builds import wheelhouse_of_dist
from tests.paths import REPO

IMAGE = f"localhost/ocrd:{__version__}"
BUILD_OPTIONS = "--runtime runc --ulimit nofile=4096:4096 --ulimit nproc=4096:4096"

_lock = threading.Lock()
_build: Future[str] | None = None


def _make_image() -> str:
    wheelhouse = wheelhouse_of_dist("3.11")
    result = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "image",
            "BASE=offline",
            f"WHEELHOUSE={wheelhouse}",
            f"CONTAINER_BUILD_OPTIONS={BUILD_OPTIONS}",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert f"{IMAGE} and localhost/ocrd:latest" in result.stdout, result.stdout[-2000:]
    return IMAGE


def start() -> Future[str]:
    """Start the build (once); the Future holds the image name, or the failure with its output."""
    global _build
    with _lock:
        if _build is None:
            future: Future[str] = Future()

            def run() -> None:
                try:
                    future.set_result(_make_image())
                except BaseException as exc:  # handed to the test that waits for it
                    future.set_exception(exc)

            threading.Thread(target=run, name="container-image-build", daemon=True).start()
            _build = future
        return _build


def image() -> str:
    """The built image's name, waiting for the build if it is still running."""
    return start().result(timeout=1800)
