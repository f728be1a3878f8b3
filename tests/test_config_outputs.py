"""The ``outputs`` and ``pdfa`` settings of an inbox: where they may be set, what is refused, what is shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocrd.config_loader import describe, load_config
from ocrd.errors import ConfigError

INBOXES = """
[[inbox]]
name = "plain"
path = "in1"
outbox = "out1"

[[inbox]]
name = "archive"
path = "in2"
outbox = "out2"
outputs = ["json", "txt", "pdf"]
pdfa = true
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ocrd.toml"
    path.write_text(text)
    return path


def test_the_default_stays_json_and_txt_and_an_inbox_may_add_the_pdf(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, INBOXES), env={})
    plain, archive = config.inboxes
    assert (plain.outputs, plain.pdfa) == (("json", "txt"), False)
    assert (archive.outputs, archive.pdfa) == (("json", "txt", "pdf"), True)
    shown = describe(config).splitlines()
    assert "outputs" not in next(line for line in shown if "'plain'" in line), "the default is not shown"
    assert "outputs: json txt pdf (PDF/A)" in next(line for line in shown if "'archive'" in line)


def test_inbox_defaults_and_the_environment_set_it_for_every_inbox(tmp_path: Path) -> None:
    text = '[inbox_defaults]\noutputs = ["pdf", "JSON"]\n' + INBOXES.replace("pdfa = true\n", "")
    config = load_config(write(tmp_path, text), env={})
    assert config.inboxes[0].outputs == ("json", "pdf"), "known names, lower case, in one order"
    assert config.inboxes[1].outputs == ("json", "txt", "pdf"), "an inbox's own list wins"
    from_env = load_config(write(tmp_path, INBOXES), env={"OCRD_INBOX_DEFAULTS__OUTPUTS": "json,txt,pdf"})
    assert from_env.inboxes[0].outputs == ("json", "txt", "pdf")


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (
            'outputs = ["txt", "pdf"]',
            "[[inbox]] #1 outputs must include 'json': the JSON result marks a document as done",
        ),
        ('outputs = ["json", "pfd"]', "[[inbox]] #1 outputs has unknown output 'pfd' (did you mean 'pdf'?)"),
        ('outputs = ["json", "docx"]', "choose from json, txt, pdf"),
        ("outputs = []", "outputs must include 'json'"),
        ('outputs = "json txt"', "outputs has unknown output 'json txt'"),
        ('outputs = ["json", 1]', "outputs must be a list of text strings"),
        ('pdfa = "maybe"', "[[inbox]] #1 pdfa must be true or false"),
        ('output = ["json"]', "unknown key 'output' (did you mean 'outputs'?)"),
    ],
)
def test_a_list_that_cannot_work_is_refused_naming_the_file_and_key(tmp_path: Path, setting: str, message: str) -> None:
    path = write(tmp_path, f"[[inbox]]\npath = 'in'\noutbox = 'out'\n{setting}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_a_bad_value_in_the_environment_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"environment variable OCRD_INBOX_DEFAULTS__OUTPUTS: must include .json."):
        load_config(write(tmp_path, INBOXES), env={"OCRD_INBOX_DEFAULTS__OUTPUTS": "txt,pdf"})
