"""The results index with real SQLite and real files, its clock injected: retention, bounds, tokens."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import make_mocked_request

from ocrd.config import ResultsSettings, WebSettings
from ocrd.config_loader import load_config
from ocrd.errors import ConfigError
from ocrd.results import NewResult, Query, open_index
from ocrd.web.auth import ANONYMOUS, identify, session_value

DAY = 86400.0
DOCUMENT = {
    "schema": 2,
    "source": "a.png",
    "sha256": "0" * 64,
    "engine": {"models": "test-pack", "version": "0"},
    "pages": [
        {
            "index": 0,
            "width": 10,
            "height": 10,
            "source": "ocr",
            "codes": [],
            "lines": [{"text": "增值税发票 No. 0042", "confidence": 0.9, "box": [[0, 0], [9, 0], [9, 3], [0, 3]]}],
        }
    ],
    "fields": None,
    "timings_ms": {},
}


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def upload(tmp_path: Path, name: str, size: int = 100) -> NewResult:
    original = tmp_path / name
    original.write_bytes(b"x" * size)
    return NewResult(origin="upload", source=name, outcome="done", document=DOCUMENT, original=original, keep_copy=True)


def test_an_expired_result_leaves_the_index_and_its_kept_original_is_removed(tmp_path: Path) -> None:
    clock = Clock()
    index = open_index(tmp_path / "data", ResultsSettings(retention_days=2), clock=clock)
    assert index is not None
    old = index.record(upload(tmp_path, "old.png"))
    clock.now += 1.5 * DAY
    new = index.record(upload(tmp_path, "new.png"))
    kept_old, _ = index.original(old)
    assert kept_old.is_file() and kept_old.parent == tmp_path / "data" / "results" / "originals"

    clock.now += 1 * DAY  # old is 2.5 days old now, new 1 day
    assert index.sweep() == 1

    assert [item["id"] for item in index.search(Query())["items"]] == [new]
    assert not kept_old.exists()
    assert index.original(new)[0].is_file()
    assert index.search(Query(q="old.png"))["total"] == 0
    index.close()


def test_kept_originals_stay_within_max_bytes_oldest_first(tmp_path: Path) -> None:
    clock = Clock()
    index = open_index(tmp_path / "data", ResultsSettings(max_bytes=250), clock=clock)
    assert index is not None
    ids = []
    for number in range(3):
        ids.append(index.record(upload(tmp_path, f"{number}.png", size=100)))
        clock.now += 1
    assert index.get(ids[0])["page_image"] is None  # its original went to make room
    assert index.get(ids[2])["page_image"] is not None
    assert index.search(Query())["total"] == 3  # the results stay
    index.close()


def test_search_finds_chinese_inside_words_and_short_queries(tmp_path: Path) -> None:
    index = open_index(tmp_path / "data", ResultsSettings())
    assert index is not None
    found = index.record(upload(tmp_path, "scan.png"))
    assert [item["id"] for item in index.search(Query(q="值税发"))["items"]] == [found]
    assert [item["id"] for item in index.search(Query(q="发票"))["items"]] == [found]
    assert "0042" in index.search(Query(q="0042"))["items"][0]["snippet"]
    assert index.search(Query(q="100%"))["total"] == 0
    index.close()


def test_named_tokens_say_who_sent_a_request() -> None:
    web = WebSettings(auth="token", token="first-token", token_name="admin", tokens=(("alice", "alice-token-1"),))

    def who(headers: dict[str, str]) -> str | None:
        return identify(make_mocked_request("GET", "/api/results", headers=headers), web)

    assert who({"Authorization": "Bearer first-token"}) == "admin"
    assert who({"Authorization": "Bearer alice-token-1"}) == "alice"
    assert who({"Authorization": "Bearer nobody"}) is None
    assert who({"Cookie": f"ocrd_session={session_value('alice-token-1')}"}) == "alice"
    assert identify(make_mocked_request("GET", "/"), WebSettings()) == ANONYMOUS


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ocrd.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_web_tokens_and_results_settings_are_read_and_checked(tmp_path: Path) -> None:
    good = write(
        tmp_path,
        '[web]\nauth = "token"\ntoken = "admin-token-1"\ntoken_name = "admin"\n'
        '[web.tokens]\nalice = "alice-token-1"\n[results]\nretention_days = 7\nmax_bytes = 0\n',
    )
    config = load_config(good, env={}, search=False)
    assert config.web.tokens == (("alice", "alice-token-1"),) and config.web.token_name == "admin"
    assert (config.results.retention_days, config.results.max_bytes) == (7.0, 0)
    assert "alice-token-1" not in repr(config)
    for bad, words in (
        ("[web.tokens]\nalice = 5\n", "at least 8"),
        ('[web.tokens]\nalice = "short"\n', "at least 8"),
        ('[web]\ntokens = "alice"\n', "table"),
        ('[web]\ntoken = "same-token-1"\n[web.tokens]\nbob = "same-token-1"\n', "same token"),
        ('[web]\ntoken = "admin-token-1"\n[web.tokens]\ntoken = "other-token-1"\n', "once"),
        ("[results]\nretention_days = 0\n", "retention_days"),
    ):
        with pytest.raises(ConfigError) as caught:
            load_config(write(tmp_path, bad), env={}, search=False)
        assert words in str(caught.value)
        assert "other-token-1" not in str(caught.value) and "same-token-1" not in str(caught.value)
