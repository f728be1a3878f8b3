"""[compat.*]: which hosted-OCR APIs the daemon answers, and how a half-written section is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocrd.config_loader import describe, load_config
from ocrd.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ocrd.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_nothing_is_served_unless_configured() -> None:
    config = load_config(None, env={}, search=False)
    assert config.compat.served() == ()
    assert "hosted-OCR APIs answered: none" in describe(config)


def test_each_vendor_is_served_once_its_keys_are_set(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[compat.tencent]
secret_id = "AKIDexample"
secret_key = "tencent-secret"
max_skew = 60

[compat.aliyun]
access_key_id = "LTAIexample"
access_key_secret = "aliyun-secret"

[compat.umi]
enabled = true
""",
    )
    config = load_config(path, env={"OCRD_COMPAT__BAIDU__API_KEY": "bk", "OCRD_COMPAT__BAIDU__SECRET_KEY": "bs"})
    assert config.compat.served() == ("tencent", "aliyun", "baidu", "umi")
    assert config.compat.tencent.secret_id == "AKIDexample"
    assert config.compat.tencent.max_skew == 60.0
    assert config.compat.baidu.secret_key == "bs"
    assert config.compat.baidu.token_ttl == 30 * 86400.0
    assert "hosted-OCR APIs answered: tencent, aliyun, baidu, umi" in describe(config)


def test_secrets_never_show_in_reprs_or_the_description(tmp_path: Path) -> None:
    path = write(tmp_path, '[compat.tencent]\nsecret_id = "AKIDshown"\nsecret_key = "never-shown-1"\n')
    config = load_config(
        path,
        env={"OCRD_COMPAT__ALIYUN__ACCESS_KEY_ID": "id", "OCRD_COMPAT__ALIYUN__ACCESS_KEY_SECRET": "never-shown-2"},
    )
    text = repr(config) + describe(config)
    assert "AKIDshown" in repr(config)
    assert "never-shown-1" not in text and "never-shown-2" not in text


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('[compat.tencent]\nsecret_id = "AKID"\n', ["[compat.tencent]", "secret_id", "no secret_key"]),
        ('[compat.baidu]\nsecret_key = "s"\n', ["[compat.baidu]", "secret_key", "no api_key"]),
        ('[compat.tencnet]\nsecret_id = "x"\n', ["unknown section [compat.tencnet]", "tencent"]),
        ('[compat.aliyun]\naccess_key = "x"\n', ["unknown key 'access_key'", "access_key_id"]),
        ("[compat.umi]\nenabled = 3\n", ["[compat.umi] enabled", "true or false"]),
        ("[compat.tencent]\nmax_skew = 0\n", ["[compat.tencent] max_skew"]),
        ('[compat]\ntencent = "yes"\n', ["compat.tencent"]),
    ],
)
def test_a_mistake_is_refused_with_the_section_and_key(tmp_path: Path, text: str, words: list[str]) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    message = str(caught.value)
    assert str(path) in message
    for word in words:
        assert word in message, message


def test_an_unknown_vendor_in_the_environment_is_refused() -> None:
    with pytest.raises(ConfigError, match="OCRD_COMPAT__GOOGLE__KEY"):
        load_config(None, env={"OCRD_COMPAT__GOOGLE__KEY": "x"}, search=False)
