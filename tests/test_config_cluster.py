"""[cluster]: absent = one host; malformed = refused at start, naming the file and the key."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ocrd.config_loader import load_config
from ocrd.errors import ConfigError


def load(tmp_path: Path, text: str):
    path = tmp_path / "ocrd.toml"
    path.write_text(text)
    return load_config(path, env={})


def test_no_cluster_section_is_one_host_without_redis(tmp_path: Path) -> None:
    assert load(tmp_path, "[daemon]\nworkers = 1\n").cluster is None
    import ocrd.config_cluster  # noqa: F401

    assert "ocrd.cluster.redis_queue" not in sys.modules


def test_a_cluster_section_with_defaults(tmp_path: Path) -> None:
    cluster = load(tmp_path, '[daemon]\nnode_name = "ocr-01"\n[cluster]\nurl = "redis://10.0.0.5:6379/0"\n').cluster
    assert cluster is not None
    assert cluster.host == "ocr-01" and cluster.roles == ("watch", "work", "web") and cluster.prefix == "ocrd"
    assert "10.0.0.5" not in repr(cluster)  # the URL may hold a password


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('host = "a"', r"\[cluster\] url is needed"),
        ('url = "http://x:1"', r"\[cluster\] url must be redis://"),
        ('url = "redis://:secret@x:port"', r"\[cluster\] url has a bad port"),
        ('url = "redis://x"\nroles = ["watch", "cook"]', r"\[cluster\] roles must list"),
        ('url = "redis://x"\nclaim_idle = 0', r"\[cluster\] claim_idle must be a number"),
        ('url = "redis://x"\nprefix = "a b"', r"\[cluster\] prefix must be"),
        ('url = "redis://x"\nretries = 3', r"unknown key"),
    ],
)
def test_malformed_cluster_settings_are_refused(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        load(tmp_path, f"[cluster]\n{body}\n")
    assert "secret" not in str(info.value)
    assert str(tmp_path / "ocrd.toml") in str(info.value) or info.value.path == str(tmp_path / "ocrd.toml")
