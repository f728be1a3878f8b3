"""One bad file never blinds an inbox: odd names, unreadable and unsupported files, a full disk.

The daemon runs as root without the capabilities that let root ignore file permissions
(``setpriv --bounding-set``): otherwise root reads every file and the permission cases would not
be real. It then obeys modes and the sticky bit like any other user.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.daemon_support import (
    FAST_DAEMON,
    Daemon,
    files_under,
    free_port,
    inbox_entry,
    lines_for,
    normalize,
    png_bytes,
    wait_until,
    write_config,
)

pytestmark = pytest.mark.slow

NOBODY = 65534
# Root, but bound by file permissions: no reading past a mode, no renaming others' files in a sticky folder.
PERMISSIONS_APPLY = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]


def get_json(port: int, path: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def metric(port: int, name: str, inbox: str) -> float | None:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as reply:
        for line in reply.read().decode().splitlines():
            if line.startswith(f'{name}{{inbox="{inbox}"}}'):
                return float(line.rsplit(" ", 1)[1])
    return None


@pytest.fixture
def shared_base() -> Iterator[Path]:
    base = Path(tempfile.mkdtemp(prefix="ocrd-bad-files-"))
    base.chmod(0o777)
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def folders_in(base: Path, name: str = "scans") -> dict[str, Path]:
    folders = {key: base / name / key for key in ("inbox", "outbox", "done", "failed")}
    for folder in folders.values():
        folder.mkdir(parents=True)
        folder.chmod(0o777)
    return folders


def put(folder: Path, name: str | bytes, data: bytes, *, owner: int = 0, mode: int = 0o644) -> Path:
    """Write a file aside and move it in whole, owned by ``owner`` (as a scanner's upload would be)."""
    staged = os.path.join(os.fsencode(folder), b".incoming.part")
    with open(staged, "wb") as handle:
        handle.write(data)
    os.chown(staged, owner, owner)
    os.chmod(staged, mode)
    target = os.path.join(os.fsencode(folder), os.fsencode(name))
    os.rename(staged, target)
    return Path(os.fsdecode(target))


def test_bad_names_unreadable_and_unsupported_files_never_stall_the_inbox(shared_base: Path, tmp_path: Path) -> None:
    folders = folders_in(shared_base)
    # Sticky, like /tmp, and owned by another user: the daemon may rename only its own user's files
    # there, so another user's unreadable file can be neither read nor moved to failed/.
    os.chown(folders["inbox"], NOBODY, NOBODY)
    folders["inbox"].chmod(0o1777)
    left_alone = folders_in(shared_base, "mixed")
    port = free_port()
    config = write_config(
        shared_base / "ocrd.toml",
        [
            {"name": "scans", **inbox_entry(folders, settle=0.3)},
            {"name": "mixed", **inbox_entry(left_alone, settle=0.3, unsupported="leave")},
        ],
        daemon={**FAST_DAEMON, "workers": 1},
        web={"enabled": True, "port": port},
    )
    daemon = Daemon(["--config", str(config)], tmp_path / "daemon.log", prefix=PERMISSIONS_APPLY).start().wait_ready()
    try:
        page = png_bytes(lines_for(1), tmp_path / "page")
        odd_name = b"badname_\xff\xfe.png"
        long_name = "长" * 60 + "x" * 66 + ".pdf"  # 180 + 66 + 4 = 250 bytes
        assert len(long_name.encode()) == 250
        put(folders["inbox"], odd_name, page)
        put(folders["inbox"], long_name, b"%PDF-1.7\nnot really a PDF\n")
        put(folders["inbox"], "no-permission.png", page, mode=0o000)
        stuck = put(folders["inbox"], "someone-elses.png", page, owner=NOBODY, mode=0o000)
        put(folders["inbox"], "letter.docx", b"PK\x03\x04 a word document")
        put(left_alone["inbox"], "notes.docx", b"PK\x03\x04 another word document")
        # Good files dropped after all of that are read as if nothing had happened.
        good = {f"after{n}.png": png_bytes(lines_for(10 + n), tmp_path / f"good{n}") for n in range(3)}
        for name, data in good.items():
            put(folders["inbox"], name, data)

        def outcome_count() -> int:
            return len(daemon.events("file"))

        wait_until(lambda: outcome_count() >= 7, timeout=300)
        wait_until(lambda: daemon.events("file-unreadable"), timeout=60)
        status_code, reply = get_json(port, "/api/status")
        status = reply["data"]
        unsupported_metric = metric(port, "ocrd_files_unsupported_total", "scans")
        unreadable_metric = metric(port, "ocrd_files_unreadable", "scans")
        left_metric = metric(port, "ocrd_files_unsupported_total", "mixed")
    finally:
        assert daemon.stop() == 0

    # Good files afterwards: all read, with their text.
    for number, name in enumerate(good):
        result = json.loads((folders["outbox"] / f"{name}.json").read_text())
        assert normalize(lines_for(10 + number)[1]) in normalize((folders["outbox"] / f"{name}.txt").read_text())
        assert result["source"] == name

    # A name that is not UTF-8: read, result under a readable name, the exact bytes inside it.
    readable_name = "badname_\ufffd\ufffd.png"
    result = json.loads((folders["outbox"] / f"{readable_name}.json").read_text())
    assert result["source"] == readable_name and base64.b64decode(result["source_bytes"]) == odd_name
    assert normalize(lines_for(1)[1]) in normalize(result["pages"][0]["lines"][1]["text"])
    assert os.path.exists(os.path.join(os.fsencode(folders["done"]), odd_name)), "original kept its exact name"

    # A 250-byte name: failed with an error file that fits, naming the whole original.
    assert (folders["failed"] / long_name).exists()
    (error_file,) = [p for p in folders["failed"].iterdir() if p.name.endswith(".error.json") and "长" in p.name]
    assert len(error_file.name.encode()) <= 255
    report = json.loads(error_file.read_text())
    assert report["source"] == long_name and report["error"]["kind"] == "corrupt"

    # Unreadable, but movable: failed with a reason a person can act on.
    report = json.loads((folders["failed"] / "no-permission.png.error.json").read_text())
    assert report["error"]["kind"] == "unreadable" and "permissions" in report["error"]["message"]

    # Unreadable and not movable: left where it is, said once, shown on the status page and in metrics.
    assert stuck.exists()
    (warning,) = daemon.events("file-unreadable")
    assert warning["level"] == "warning" and "someone-elses.png" in warning["msg"]
    assert status_code == 200
    (scans,) = [inbox for inbox in status["inboxes"] if inbox["name"] == "scans"]
    assert scans["unreadable"] == ["someone-elses.png"] and unreadable_metric == 1

    # Unsupported: to failed/ with the supported types named; left alone where the inbox says so.
    report = json.loads((folders["failed"] / "letter.docx.error.json").read_text())
    assert report["error"]["kind"] == "unsupported" and "PDF" in report["error"]["message"]
    assert "GIF" in report["error"]["message"], "the message lists what ocrd reads"
    assert scans["unsupported"] == 1 and unsupported_metric == 1
    assert (left_alone["inbox"] / "notes.docx").exists() and left_metric == 0
    assert files_under(left_alone["failed"]) == []

    # Nothing stranded in processing, no temporary files anywhere.
    assert list((folders["inbox"] / ".ocrd" / "processing").iterdir()) == []
    assert not [p for p in shared_base.rglob("*") if p.name.endswith(".ocrd-tmp")]


def test_results_get_the_mode_the_umask_gives(shared_base: Path, tmp_path: Path) -> None:
    """Under systemd's UMask=0027 results are 0640 (the ocrd group reads them); under 022, 0644."""
    for umask, file_mode in ((0o027, 0o640), (0o022, 0o644)):
        folders = folders_in(shared_base, f"umask{umask:o}")
        for key in ("outbox", "done", "failed"):
            folders[key].rmdir()  # the daemon creates them, with the umask's mode
        config = write_config(
            shared_base / f"ocrd-{umask:o}.toml",
            [inbox_entry(folders, settle=0.2)],
            daemon={**FAST_DAEMON, "workers": 1},
            web={"enabled": False},
        )
        with_umask = ["sh", "-c", f'umask {umask:o} && exec "$0" "$@"']
        log = tmp_path / f"daemon-{umask:o}.log"
        daemon = Daemon(["--config", str(config)], log, prefix=with_umask).start().wait_ready()
        try:
            put(folders["inbox"], "page.png", png_bytes(lines_for(5), tmp_path / "p"))
            put(folders["inbox"], "broken.png", b"\x89PNG\r\n\x1a\n broken")
            wait_until(lambda d=daemon: len(d.events("file")) >= 2, timeout=240)
        finally:
            assert daemon.stop() == 0
        written = [
            folders["outbox"] / "page.png.json",
            folders["outbox"] / "page.png.txt",
            folders["failed"] / "broken.png.error.json",
        ]
        for path in written:
            assert path.stat().st_mode & 0o777 == file_mode, f"{path}: {oct(path.stat().st_mode)}"
        for key in ("outbox", "done", "failed"):
            assert folders[key].stat().st_mode & 0o777 == 0o777 & ~umask, key
