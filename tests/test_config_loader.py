"""Configuration: TOML < environment < CLI, validation errors that name the key and the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocrd.config import DEFAULT_PATTERNS, effective_threads, effective_workers
from ocrd.config_loader import CliOverrides, load_config
from ocrd.errors import ConfigError, UsageError

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "config" / "ocrd.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ocrd.toml"
    path.write_text(text)
    return path


def test_no_file_gives_a_working_default_under_the_data_folder(tmp_path: Path) -> None:
    config = load_config(env={"OCRD_DATA_DIR": str(tmp_path / "data")}, search=False)
    (inbox,) = config.inboxes
    assert inbox.path == str(tmp_path / "data" / "inbox")
    assert inbox.outbox == str(tmp_path / "data" / "outbox")
    assert inbox.done == str(tmp_path / "data" / "done")
    assert inbox.failed == str(tmp_path / "data" / "failed")
    assert inbox.patterns == DEFAULT_PATTERNS
    assert config.web.host == "127.0.0.1" and config.web.port == 8080 and config.web.auth == "none"
    assert config.origin == "built-in defaults"


def test_default_data_folder_follows_xdg(tmp_path: Path) -> None:
    config = load_config(env={"XDG_DATA_HOME": str(tmp_path)}, search=False)
    assert config.inboxes[0].path == str(tmp_path / "ocrd" / "inbox")


def test_several_inboxes_with_defaults_and_relative_paths(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[daemon]
workers = 3
job_timeout = 120

[engine]
lang = "en"
dpi = 300

[engine.limits]
max_pages = 50

[inbox_defaults]
settle = 4
patterns = ["*.PDF", "*.tif"]

[[inbox]]
name = "invoices"
path = "in/invoices"
outbox = "out/invoices"
recursive = true
dedupe = true

[[inbox]]
path = "/srv/share/scans"
outbox = "/srv/share/text"
on_success = "delete"
watch = "poll"
poll_interval = 10
lang = "zh"
""",
    )
    config = load_config(path, env={})
    assert config.daemon.workers == 3 and config.daemon.job_timeout == 120.0
    assert config.engine.lang == "en" and config.engine.dpi == 300 and config.engine.limits.max_pages == 50
    invoices, scans = config.inboxes
    assert invoices.path == str(tmp_path / "in" / "invoices")  # relative to the file, not the cwd
    assert invoices.recursive and invoices.dedupe and invoices.settle == 4.0
    assert invoices.patterns == ("*.pdf", "*.tif")  # matched case-insensitively
    assert invoices.done == str(tmp_path / "in" / "done")  # next to the inbox by default
    assert scans.name == "scans" and scans.on_success == "delete" and scans.watch == "poll"
    assert scans.poll_interval == 10.0 and scans.lang == "zh"
    assert config.origin == str(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[daemon]\nworkers = 'four'\n", "[daemon] workers must be a whole number ≥ 0 (got 'four')"),
        ("[daemon]\nworkes = 2\n", "unknown key 'workes' in [daemon] (did you mean 'workers'?)"),
        ("[deamon]\nworkers = 2\n", "unknown section [deamon] (did you mean 'daemon'?)"),
        ("[web]\nport = 70000\n", "[web] port must be a TCP port between 0 and 65535"),
        ("[engine]\npreprocess = ['sharpen']\n", "[engine] preprocess has unknown step(s) 'sharpen'"),
        ("[[inbox]]\npath = 'in'\noutbox = 'out'\nwatch = 'inotify'\n", "[[inbox]] #1 watch must be one of"),
        ("[[inbox]]\npath = 'in'\n", "[[inbox]] #1 (in): missing key 'outbox'"),
        ("[[inbox]]\noutbox = 'out'\n", "[[inbox]] #1: missing key 'path'"),
        ("[[inbox]]\npath = 'in'\noutbox = 'in'\n", "'outbox' must be a different folder than 'path'"),
        ("[web]\nauth = 'token'\n", "[web] auth = 'token' needs [web] token"),
        ("[daemon]\nrescan_interval = 300\n", "[daemon] rescan_interval must be at most stale_claim_after / 3 (200 s)"),
        (
            "[daemon]\nstale_claim_after = 100\n",
            "[daemon] stale_claim_after must be at least 3 x rescan_interval (180 s)",
        ),
        ("[daemon\n", "is not valid TOML"),
    ],
)
def test_invalid_values_name_the_key_and_the_file(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    message = str(caught.value)
    assert expected in message
    assert message.startswith(str(path))


def test_duplicate_inbox_names_and_nested_inboxes_are_refused(tmp_path: Path) -> None:
    twice = write(tmp_path, "[[inbox]]\npath='a/x'\noutbox='o1'\n[[inbox]]\npath='b/x'\noutbox='o2'\n")
    with pytest.raises(ConfigError, match="inbox name 'x' is used twice"):
        load_config(twice, env={})
    nested = write(tmp_path, "[[inbox]]\npath='a'\noutbox='o1'\n[[inbox]]\npath='a/b'\noutbox='o2'\n")
    with pytest.raises(ConfigError, match="inside inbox 'a'"):
        load_config(nested, env={})


def test_environment_overrides_the_file_and_is_named_in_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "[daemon]\nworkers = 2\n[web]\nport = 9000\n")
    config = load_config(
        path,
        env={"OCRD_DAEMON__WORKERS": "5", "OCRD_WEB__ENABLED": "off", "OCRD_ENGINE__LIMITS__MAX_PAGES": "9"},
    )
    assert config.daemon.workers == 5 and config.web.enabled is False and config.web.port == 9000
    assert config.engine.limits.max_pages == 9
    with pytest.raises(ConfigError, match="environment variable OCRD_WEB__PORT: must be a TCP port"):
        load_config(path, env={"OCRD_WEB__PORT": "http"})
    with pytest.raises(ConfigError, match=r"OCRD_DAEMON__WORKRS: unknown key 'workrs'.*did you mean 'workers'"):
        load_config(path, env={"OCRD_DAEMON__WORKRS": "2"})


def test_config_file_from_environment(tmp_path: Path) -> None:
    path = write(tmp_path, "[daemon]\nmax_attempts = 4\n")
    assert load_config(env={"OCRD_CONFIG": str(path)}).daemon.max_attempts == 4
    # "none": no file at all, not even /etc/ocrd/ocrd.toml (for scripts and tests)
    assert load_config(env={"OCRD_CONFIG": "none"}).origin == "built-in defaults"


def test_cli_flags_win_and_one_inbox_replaces_the_configured_ones(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[daemon]\nworkers = 2\n[inbox_defaults]\nsettle = 7\n[[inbox]]\npath='a'\noutbox='b'\n",
    )
    cli = CliOverrides(inbox="scans", outbox="text", failed="broken", workers=4, threads=1, web="0.0.0.0:9100")
    # 0.0.0.0 without a token must be asked for explicitly (see test_config_web_exposure.py).
    config = load_config(path, env={"OCRD_DAEMON__WORKERS": "3", "OCRD_WEB__AUTH": "none"}, cli=cli)
    assert config.daemon.workers == 4 and config.daemon.threads_per_worker == 1
    assert config.web.host == "0.0.0.0" and config.web.port == 9100 and config.web.enabled
    (inbox,) = config.inboxes
    assert inbox.path == str(Path.cwd() / "scans")  # CLI paths are relative to the working directory
    assert inbox.failed == str(Path.cwd() / "broken")
    assert inbox.done == str(Path.cwd() / "done")
    assert inbox.settle == 7.0  # [inbox_defaults] still apply


def test_cli_usage_errors() -> None:
    with pytest.raises(UsageError, match="--inbox needs --outbox"):
        load_config(env={}, cli=CliOverrides(inbox="in"), search=False)
    with pytest.raises(UsageError, match="--done only works together with --inbox"):
        load_config(env={}, cli=CliOverrides(done="d"), search=False)
    with pytest.raises(ConfigError, match="option --web: must be HOST:PORT"):
        load_config(env={}, cli=CliOverrides(web="localhost:http"), search=False)
    assert load_config(env={}, cli=CliOverrides(web="off"), search=False).web.enabled is False
    assert load_config(env={}, cli=CliOverrides(web=":9001"), search=False).web.port == 9001


def test_effective_worker_counts_fit_the_machine() -> None:
    from ocrd.config import DaemonSettings

    assert effective_workers(DaemonSettings(), cores=2) == 1
    assert effective_threads(DaemonSettings(), cores=2) == 2
    assert effective_workers(DaemonSettings(), cores=16) == 8
    assert effective_threads(DaemonSettings(workers=4), cores=16) == 4
    assert effective_threads(DaemonSettings(workers=4, threads_per_worker=1), cores=16) == 1


def test_example_config_is_valid_and_sets_every_key_with_a_comment() -> None:
    from ocrd.config_loader import INBOX_KEYS, SECTIONS

    config = load_config(EXAMPLE, env={})
    assert config.inboxes, "the example shows at least one [[inbox]]"
    text = EXAMPLE.read_text()
    documented = set()
    for line in text.splitlines():
        stripped = line.lstrip("# ").split("=")[0].strip()
        if "=" in line and stripped.isidentifier():
            documented.add(stripped)
    expected = {key for keys in SECTIONS.values() for key in keys} | set(INBOX_KEYS)
    assert expected <= documented, f"keys missing from config/ocrd.toml: {sorted(expected - documented)}"
    # every setting line is preceded by a comment line
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if "=" in line and not line.startswith("#") and line.split("=")[0].strip().isidentifier():
            assert lines[index - 1].lstrip().startswith("#") or "#" in line, f"uncommented: {line}"
