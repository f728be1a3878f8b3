"""The job API on the real daemon: submit, poll, fetch JSON/TXT/page images, delete, expiry."""

from __future__ import annotations

import asyncio
import io
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image

from ocrd import samples
from ocrd.result import Document
from ocrd.web.jobstore import DONE, JobStore
from ocrd.web.uploads import Upload
from tests.textmatch import assert_lines_read, best_match
from tests.web_server import JOB_TTL, WebDaemon, held_uploads, shared_daemon


@pytest.fixture(scope="module")
def web_daemon(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> WebDaemon:
    return shared_daemon(tmp_path_factory, pytestconfig)


@pytest.fixture(scope="module")
def two_pages(tmp_path_factory: pytest.TempPathFactory) -> samples.SampleDocument:
    return samples.make_multipage_pdf(tmp_path_factory.mktemp("web-jobs") / "contract.pdf", 2)


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


@pytest.mark.slow
def test_a_job_goes_from_submitted_to_results(web_daemon: WebDaemon, two_pages) -> None:
    with held_uploads(web_daemon, "合同.pdf"):  # read, but not finished until the block ends
        submitted = web_daemon.submit("合同.pdf", two_pages.path.read_bytes(), lang="zh")

        assert submitted.status_code == 202, submitted.text
        job = submitted.json()["data"]
        assert submitted.headers["Location"] == f"/api/jobs/{job['id']}"
        assert (job["source"], job["format"], job["lang"]) == ("合同.pdf", "pdf", "zh")

        early = web_daemon.get(f"/api/jobs/{job['id']}/result.json")
        assert early.status_code == 409 and early.json()["code"] == 40900, early.text

    done = web_daemon.wait_job(job["id"])
    assert done["status"] == "done", done
    assert (done["pages"], done["error"]) == (2, None)
    assert (_parse(done["expires_at"]) - _parse(done["finished_at"])).total_seconds() == JOB_TTL

    result = web_daemon.get(done["links"]["json"])
    assert result.status_code == 200
    document = Document.from_dict(result.json())
    assert document.source == "合同.pdf" and len(document.pages) == 2
    for page, expected in zip(document.pages, two_pages.pages, strict=True):
        assert_lines_read(expected, [line.text for line in page.lines])

    text = web_daemon.get(done["links"]["txt"] + "?download")
    assert text.status_code == 200
    assert text.headers["Content-Type"] == "text/plain; charset=utf-8"
    # Download names are the daemon's result names: the upload's whole name, then .txt / .json.
    assert text.headers["Content-Disposition"] == (
        "attachment; filename=\"__.pdf.txt\"; filename*=UTF-8''%E5%90%88%E5%90%8C.pdf.txt"
    )
    download = web_daemon.get(done["links"]["json"] + "?download")
    assert download.headers["Content-Disposition"] == (
        "attachment; filename=\"__.pdf.json\"; filename*=UTF-8''%E5%90%88%E5%90%8C.pdf.json"
    )
    assert Document.from_dict(download.json()).source == "合同.pdf"
    assert "Content-Disposition" not in result.headers  # shown in the browser unless asked to download
    pages_text = text.text.split("\f")
    assert len(pages_text) == 2
    assert best_match("Page 2 of 2", pages_text[1].splitlines()) > 0.85

    for page in document.pages:
        image = web_daemon.get(f"/api/jobs/{job['id']}/pages/{page.index}/image")
        assert image.status_code == 200 and image.headers["Content-Type"] == "image/jpeg"
        preview = Image.open(io.BytesIO(image.content))
        assert max(preview.size) <= 1600
        # The same proportions as the page the boxes refer to, so an overlay lines up.
        assert abs(preview.width / preview.height - page.width / page.height) < 0.01

    assert web_daemon.get(f"/api/jobs/{job['id']}/pages/2/image").status_code == 404
    assert web_daemon.get(f"/api/jobs/{job['id']}/pages/first/image").status_code == 400

    deleted = web_daemon.delete(f"/api/jobs/{job['id']}")
    assert deleted.json()["data"] == {"id": job["id"], "deleted": True}
    assert web_daemon.get(f"/api/jobs/{job['id']}").status_code == 404
    assert web_daemon.delete(f"/api/jobs/{job['id']}").status_code == 404


@pytest.mark.slow
def test_a_failed_job_reports_its_error_in_words(web_daemon: WebDaemon, two_pages) -> None:
    content = two_pages.path.read_bytes()
    submitted = web_daemon.submit("cut.pdf", content[: len(content) // 3])  # sniffs as PDF, fails to read

    assert submitted.status_code == 202, submitted.text
    job = web_daemon.wait_job(submitted.json()["data"]["id"])
    assert job["status"] == "failed"
    assert (job["error"]["code"], job["error"]["status"]) == (40003, 400)
    assert "incomplete" in job["error"]["msg"]
    for link in ("result.json", "result.txt"):
        response = web_daemon.get(f"/api/jobs/{job['id']}/{link}")
        assert response.status_code == 400 and response.json()["code"] == 40003


@pytest.mark.slow
def test_job_api_answers_for_unknown_jobs_and_bad_parameters(web_daemon: WebDaemon) -> None:
    missing = web_daemon.get("/api/jobs/no-such-job-0000000")
    assert missing.status_code == 404 and "kept for 10 minutes" in missing.json()["msg"]
    assert web_daemon.get("/api/jobs/no-such-job-0000000/result.txt").status_code == 404
    for wait in ("soon", "31", "-1"):
        response = web_daemon.get(f"/api/jobs/no-such-job-0000000?wait={wait}")
        assert response.status_code == 400 and "wait" in response.json()["msg"], response.text
    assert web_daemon.get("/api/jobs", token=True).status_code == 405


# --- the job store on its own: expiry and bounds, with a clock the test moves ---------------------


def _upload(folder: Path, size: int = 10) -> Upload:
    path = folder / "upload"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(size - 8))
    return Upload(path=path, name="a.png", size=size, fmt="png", lang=None)


def test_finished_jobs_expire_after_the_ttl_and_their_folders_go(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = JobStore(tmp_path / "jobs", ttl=60)
        store.open()
        now = [1000.0]
        store.clock = lambda: now[0]

        async def read(upload: Upload) -> Document:
            return Document(source=upload.name)

        job_id, folder = store.new_folder()
        job = await store.add(job_id, folder, _upload(folder), read)
        await job.done.wait()
        assert job.state == DONE and store.get(job_id) is job

        now[0] += 59.9
        assert await store.purge_expired() == 0 and store.get(job_id) is job
        now[0] += 0.2
        assert store.get(job_id) is None  # expired answers "not found" even before the sweep
        assert await store.purge_expired() == 1
        assert not folder.exists() and job_id not in store.jobs
        await store.close()
        assert not store.root.exists()

    asyncio.run(scenario())


def test_the_store_keeps_a_bounded_number_of_jobs_and_bytes(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = JobStore(tmp_path / "jobs", ttl=3600, max_jobs=3, budget=25)
        store.open()

        async def read(upload: Upload) -> Document:
            return Document(source=upload.name)

        jobs = []
        for _ in range(5):
            job_id, folder = store.new_folder()
            jobs.append(await store.add(job_id, folder, _upload(folder, size=10), read))
            await jobs[-1].done.wait()
        assert [job.id in store.jobs for job in jobs] == [False, False, True, True, True]
        assert not jobs[0].folder.exists()
        # 3 x 10 bytes kept > 25: the oldest kept upload is dropped, its result stays.
        assert [job.original_kept for job in jobs[2:]] == [False, True, True]
        assert not jobs[2].upload.path.exists() and store.get(jobs[2].id) is jobs[2]
        await store.close()

    asyncio.run(scenario())
