"""The documentation holds to the code.

README.md and docs/*.md are checked against the real thing: the metrics table against a real
scrape of a running daemon, every relative link against the files it names, every `ocrd`
command line shown against the options that command really has, the make targets by a dry
run, and `make eval` by running it on a small labelled set made here. Nothing in the user's
documentation, the package or the example configuration may read like a planning note.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import typer.main
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families
from prometheus_client.parser import text_string_to_metric_families

from ocrd import __version__, samples
from ocrd.cli import app
from tests.paths import REPO
from tests.web_server import WebDaemon, shared_daemon

DOCS = REPO / "docs"
PAGES = [REPO / "README.md", *sorted(DOCS.glob("*.md"))]
METRICS_PAGE = DOCS / "metrics.md"

# Where commands are shown: shell blocks, and blocks without a language.
SHELL_BLOCKS = {"", "sh", "bash", "shell", "console"}
FENCE = re.compile(r"^```(\S*)[^\n]*\n(.*?)^```", re.DOTALL | re.MULTILINE)
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
INLINE_CODE = re.compile(r"`([^`\n]+)`")
OPTION = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")
# Sample labels that belong to the metric type, not to the metric.
TYPE_LABELS = {"le", "quantile"}


def markdown_parts(text: str) -> tuple[list[tuple[str, str]], str]:
    """(language, body) of every fenced block, and the text outside them."""
    blocks = [(match.group(1).lower(), match.group(2)) for match in FENCE.finditer(text)]
    return blocks, FENCE.sub("", text)


# --- metrics ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def web_daemon(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> WebDaemon:
    return shared_daemon(tmp_path_factory, pytestconfig)


def documented_metrics() -> dict[str, tuple[str, set[str]]]:
    """metric name -> (type, label names), from the table in docs/metrics.md."""
    rows: dict[str, tuple[str, set[str]]] = {}
    for line in METRICS_PAGE.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not re.fullmatch(r"`ocrd_\w+`", cells[0]):
            continue
        name = cells[0].strip("`")
        assert name not in rows, f"docs/metrics.md lists {name} twice"
        rows[name] = (cells[1], set(re.findall(r"`(\w+)`", cells[2])))
    return rows


def exported_metrics(families) -> dict[str, tuple[str, set[str] | None]]:
    """metric name as queried (counters with _total) -> (type, label names, or None without samples)."""
    exported: dict[str, tuple[str, set[str] | None]] = {}
    for family in families:
        name = family.name + "_total" if family.type == "counter" else family.name
        labels = {label for sample in family.samples for label in sample.labels} - TYPE_LABELS
        exported[name] = (family.type, labels if family.samples else None)
    return exported


@pytest.mark.slow
def test_a_real_scrape_has_no_created_series_and_matches_the_metrics_table(web_daemon: WebDaemon) -> None:
    text = web_daemon.get("/metrics", token=False)
    assert text.status_code == 200, text.text
    openmetrics = requests.get(
        web_daemon.url + "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}, timeout=30
    )
    assert openmetrics.headers["Content-Type"].startswith("application/openmetrics-text"), openmetrics.headers

    families = list(text_string_to_metric_families(text.text))
    for scrape in (list(families), list(openmetrics_families(openmetrics.text))):
        names = {sample.name for family in scrape for sample in family.samples}
        # Counters with samples exist, so this would see their _created series if there were any.
        assert any(family.type == "counter" and family.samples for family in scrape)
        assert not {name for name in names if name.endswith("_created")}, sorted(names)

    documented = documented_metrics()
    exported = exported_metrics(families)
    undocumented = sorted(set(exported) - set(documented))
    not_exported = sorted(set(documented) - set(exported))
    assert not undocumented and not not_exported, (
        f"docs/metrics.md misses {undocumented}; it lists metrics the daemon does not export: {not_exported}"
    )
    for name, (kind, labels) in exported.items():
        documented_kind, documented_labels = documented[name]
        assert documented_kind == kind, f"docs/metrics.md: {name} is a {kind}, not a {documented_kind}"
        if labels is not None:  # a metric without samples yet shows no labels to compare
            assert documented_labels == labels, f"docs/metrics.md: {name} has labels {sorted(labels)}"


# --- links and planning notes ----------------------------------------------------------------------


def slug(heading: str) -> str:
    """The anchor a Markdown renderer gives a heading (GitHub's rule)."""
    text = re.sub(r"[`*_]", "", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    _, prose = markdown_parts(page.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    found = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*$", prose, re.MULTILINE):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def test_the_readme_is_short_and_points_into_docs() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) < 100
    _, prose = markdown_parts(readme)
    linked = {target.split("#")[0] for target in LINK.findall(prose)}
    # A page may instead be reached from a page the README links (one vendor's page from the
    # overview of them all), so the README's table stays short.
    for target in sorted(linked):
        if target.startswith("docs/") and (REPO / target).is_file():
            _, page_prose = markdown_parts((REPO / target).read_text(encoding="utf-8"))
            linked |= {f"docs/{link.split('#')[0]}" for link in LINK.findall(page_prose) if "/" not in link}
    assert {f"docs/{page.name}" for page in DOCS.glob("*.md")} <= linked


def test_every_relative_link_points_to_a_file_that_exists() -> None:
    problems = []
    for page in PAGES:
        _, prose = markdown_parts(page.read_text(encoding="utf-8"))
        for target in LINK.findall(prose):
            if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
                continue
            path_part, _, anchor = target.partition("#")
            linked = (page.parent / path_part).resolve() if path_part else page
            where = f"{page.relative_to(REPO)}: ({target})"
            if not linked.exists():
                problems.append(f"{where}: {path_part} does not exist")
            elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
                problems.append(f"{where}: no heading #{anchor} in {linked.relative_to(REPO)}")
    assert not problems, "\n".join(problems)


PLANNING_NOTES = [
    re.compile(r"\b(issue|ticket)s?\s+#?\d+\b", re.IGNORECASE),
    re.compile(r"\bwhen merging\b", re.IGNORECASE),
    re.compile(r"\btargets?\s+(\(|of\s+)issue", re.IGNORECASE),
    re.compile(r"\bnext session\b", re.IGNORECASE),
    re.compile(r"\b(TODO|FIXME)\b"),
]
TEXT_SUFFIXES = {
    ".md",
    ".py",
    ".toml",
    ".json",
    ".html",
    ".js",
    ".css",
    ".svg",
    ".txt",
    ".yml",
    ".yaml",
    ".sh",
    ".j2",
    ".service",
    ".cfg",
    "",
}


def repository_text_files() -> Iterator[Path]:
    """Every text file git tracks (or would track), but this test's own list of patterns."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    for name in sorted(listed):
        path = REPO / name
        if path.is_file() and path.suffix in TEXT_SUFFIXES and path != Path(__file__).resolve():
            yield path


def test_no_planning_notes_anywhere_in_the_repository() -> None:
    found = []
    for path in repository_text_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if any(pattern.search(line) for pattern in PLANNING_NOTES):
                found.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert not found, "planning notes belong in the tracker, not here:\n" + "\n".join(found)


# --- commands --------------------------------------------------------------------------------------


def ocrd_executable() -> Path:
    """The installed `ocrd` command of the environment running the tests, as users call it."""
    command = Path(sys.executable).parent / "ocrd"
    assert command.is_file(), f"{command} is missing: install the project (make setup)"
    return command


def run_ocrd(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}  # wide help: nothing is cut short
    return subprocess.run(
        [str(ocrd_executable()), *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env
    )


def subcommands() -> list[str]:
    group = typer.main.get_command(app)
    return sorted(group.commands)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def helps() -> dict[str | None, str]:
    """`ocrd --help` (under None) and `ocrd COMMAND --help` for every command the app has."""
    texts: dict[str | None, str] = {}
    for command in (None, *subcommands()):
        result = run_ocrd(*([command] if command else []), "--help")
        assert result.returncode == 0, f"ocrd {command or ''} --help: {result.stderr}"
        assert "Usage:" in result.stdout, result.stdout
        texts[command] = result.stdout
    return texts


def test_every_command_has_help_listing_its_options(helps: dict[str | None, str]) -> None:
    group = typer.main.get_command(app)
    for command in subcommands():
        assert re.search(rf"\b{re.escape(command)}\b", helps[None]), f"ocrd --help does not list {command}"
        declared = {
            option
            for param in group.commands[command].params  # type: ignore[attr-defined]
            for option in (*param.opts, *param.secondary_opts)
            if option.startswith("-")
        }
        listed = set(OPTION.findall(helps[command]))
        assert declared <= listed, f"ocrd {command} --help does not show {sorted(declared - listed)}"


def test_version_is_printed_as_documented() -> None:
    assert run_ocrd("--version").stdout.strip() == f"ocrd-daemon {__version__}"
    assert run_ocrd("version").stdout.strip() == __version__


def shown_command_lines() -> Iterator[tuple[str, str]]:
    """(page, command line) for every shell line and inline code span that starts a command."""
    for page in PAGES:
        blocks, prose = markdown_parts(page.read_text(encoding="utf-8"))
        for language, body in blocks:
            if language in SHELL_BLOCKS:
                for line in body.replace("\\\n", " ").splitlines():
                    yield page.name, line
        for span in INLINE_CODE.findall(prose):
            yield page.name, span


def ocrd_invocations(line: str) -> Iterator[list[str]]:
    """The arguments after `ocrd` of every command in a shell line that runs ocrd."""
    for segment in re.split(r"\|\||&&|[|;]", line):
        try:
            words = shlex.split(segment, comments=True)
        except ValueError:  # an unbalanced quote in prose-like text: plain words will do
            words = segment.split("#")[0].split()
        while words and (words[0] == "sudo" or re.fullmatch(r"[A-Z_]+=\S*", words[0])):
            words = words[1:]
        if words and (words[0] == "ocrd" or words[0].endswith("/ocrd")):
            yield words[1:]


def test_every_documented_ocrd_command_uses_options_the_command_has(helps: dict[str | None, str]) -> None:
    problems = []
    checked = 0
    for page, line in shown_command_lines():
        for arguments in ocrd_invocations(line):
            command = None if not arguments or arguments[0].startswith("-") else arguments[0]
            if command is not None and command not in helps:
                problems.append(f"{page}: `{line.strip()}`: ocrd has no command {command!r}")
                continue
            offered = set(OPTION.findall(helps[command]))
            words = arguments[1:] if command else arguments
            for word in words:
                if word == "--":
                    break
                option = word.strip("[](){}").split("=")[0].split("|")[0]
                if OPTION.fullmatch(option) and option not in offered:
                    problems.append(f"{page}: `{line.strip()}`: ocrd {command or ''} has no option {option}")
            checked += 1
    assert checked >= 20, f"only {checked} ocrd command lines found in the docs"
    assert not problems, "\n".join(problems)


def make_targets() -> list[str]:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    return sorted(set(re.findall(r"^([A-Za-z0-9][\w.-]*)\s*:(?!=)", makefile, re.MULTILINE)))


@pytest.mark.parametrize("target", make_targets())
def test_make_target_dry_run_succeeds(target: str) -> None:
    result = subprocess.run(["make", "-n", target], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip(), f"make -n {target} would do nothing"


# --- make eval on a labelled set made here ---------------------------------------------------------


def write_labels(folder: Path, items: list[dict[str, str]]) -> None:
    lines = (json.dumps(item, ensure_ascii=False) + "\n" for item in items)
    (folder / "labels.jsonl").write_text("".join(lines), encoding="utf-8")


def make_eval_sets(root: Path, *, wrong_label: bool = False) -> Path:
    """`dev` (two line crops and a page) and `dev_pdf` (an invoice page) in the labels.jsonl format."""
    dev, dev_pdf = root / "dev", root / "dev_pdf"
    dev.mkdir(parents=True)
    dev_pdf.mkdir()
    zh_line = samples.make_sample_page_png(dev / "line_zh.png", ["发票号码 12345678"])
    en_line = samples.make_sample_page_png(dev / "line_en.png", ["Total CNY 1,271.54"])
    page = samples.make_sample_page_png(dev / "page.png", ["增值税普通发票", "购买方名称: 上海示例科技有限公司"])
    write_labels(
        dev,
        [
            {"image": "line_zh.png", "kind": "line", "lang": "zh", "text": zh_line.text},
            {"image": "line_en.png", "kind": "line", "lang": "en", "text": en_line.text},
            {"image": "page.png", "kind": "page", "lang": "zh+en", "text": page.text, "gt_coverage": "full"},
        ],
    )
    invoice = samples.make_scanned_invoice_jpg(dev_pdf / "invoice.jpg")
    text = "这一页写的是别的内容\n完全不同" if wrong_label else invoice.text
    write_labels(dev_pdf, [{"image": "invoice.jpg", "kind": "page", "lang": "zh+en", "text": text}])
    return root


def test_make_eval_runs_as_written_and_meets_the_bars(tmp_path: Path) -> None:
    sets = make_eval_sets(tmp_path / "eval")
    result = subprocess.run(
        ["make", "eval", f"EVAL_DIR={sets}", f"VENV={sys.prefix}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "bars for dev: all met" in result.stdout
    assert "bars for dev_pdf: all met" in result.stdout


def test_eval_check_fails_on_a_missed_bar_and_writes_the_report(tmp_path: Path) -> None:
    sets = make_eval_sets(tmp_path / "eval", wrong_label=True)
    report = tmp_path / "report.json"
    result = run_ocrd("eval", sets / "dev_pdf", "--check", "--json", "--report", report, timeout=600)
    assert result.returncode == 1, result.stdout + result.stderr
    printed = json.loads(result.stdout)
    assert printed["bars"]["set"] == "dev_pdf"
    assert any("bag recall" in failure for failure in printed["bars"]["failures"]), printed["bars"]
    written = json.loads(report.read_text(encoding="utf-8"))
    assert written["items"] == 1 and written["bars"] == printed["bars"]
