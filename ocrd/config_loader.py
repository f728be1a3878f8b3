"""Turn a TOML file, environment variables and command-line flags into one validated ``Config``.

Precedence, lowest first: built-in defaults < TOML file < ``OCRD_<SECTION>__<KEY>`` environment
variables < CLI flags. Every value remembers where it came from, so a bad value is reported as
"/etc/ocrd/ocrd.toml: [daemon] workers must be ..." or "environment variable OCRD_WEB__PORT: ...",
which is what the person fixing it needs to see. Unknown keys are errors (with a suggestion),
because a misspelt key that is silently ignored is a setting that silently does not apply.
Each section's keys and their converters are in ocrd.config_schema and ocrd.config_values.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ocrd.config import (
    DEFAULT_PATTERNS,
    CompatSettings,
    Config,
    DaemonSettings,
    EngineSettings,
    FieldsSettings,
    InboxSettings,
    Limits,
    ResultsSettings,
    WebSettings,
)
from ocrd.config_cluster import build_cluster
from ocrd.config_describe import describe
from ocrd.config_fields import SHARED, RuleLocator, inbox_owner, parse_rules
from ocrd.config_schema import COMPAT_SECTIONS, INBOX_KEYS, SECTIONS
from ocrd.config_values import FALSE_WORDS, Converter, Origin, Value, to_port
from ocrd.config_web import check_token_names, check_web_exposure
from ocrd.errors import ConfigError, UsageError

ENV_PREFIX = "OCRD_"
CONFIG_ENV = "OCRD_CONFIG"
NO_FILE = "none"
DATA_DIR_ENV = "OCRD_DATA_DIR"
# Looked at in this order when neither --config nor $OCRD_CONFIG names a file.
SEARCH_PATHS = ("$XDG_CONFIG_HOME/ocrd/ocrd.toml", "~/.config/ocrd/ocrd.toml", "/etc/ocrd/ocrd.toml")


# --- CLI flags -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CliOverrides:
    """Flags of `ocrd run`; None means "not given"."""

    inbox: str | None = None
    outbox: str | None = None
    done: str | None = None
    failed: str | None = None
    workers: int | None = None
    threads: int | None = None
    web: str | None = None  # "HOST:PORT", ":PORT", "PORT" or "off"
    log_level: str | None = None
    watch: str | None = None
    settle: float | None = None
    lang: str | None = None


def parse_web_address(text: str, origin: Origin) -> dict[str, Value]:
    """'HOST:PORT' / ':PORT' / 'PORT' / 'off' -> [web] values."""
    text = text.strip()
    if text.lower() in FALSE_WORDS | {"none", "disabled"}:
        return {"enabled": Value(False, origin)}
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = "", text
    host = host.strip("[]")  # [::1]:8080
    values = {"enabled": Value(True, origin), "port": Value(port, origin)}
    if host:
        values["host"] = Value(host, origin)
    try:
        to_port(port, origin)
    except ConfigError as exc:
        raise origin.error(f"must be HOST:PORT, :PORT or off (got {text!r})") from exc
    return values


# --- layers --------------------------------------------------------------------------------------------


@dataclass
class _Layers:
    """Raw values from every source, merged key by key (later sources win)."""

    sections: dict[str, dict[str, Value]]
    inboxes: list[dict[str, Value]] | None = None  # None: no source defined inboxes

    @classmethod
    def empty(cls) -> _Layers:
        return cls(sections={name: {} for name in SECTIONS})


def _suggest(key: str, known: Mapping[str, Any] | list[str]) -> str:
    names = list(known)
    close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
    close = close or [name for name in names if key.lower() in name]  # "grace" -> "grace_period"
    return f" (did you mean {close[0]!r}?)" if close else ""


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ConfigError("configuration file not found; check the path or run without --config", path=path) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"is not valid TOML: {exc}", path=path) from exc
    except OSError as exc:
        raise ConfigError(f"cannot be read: {exc.strerror}", path=path) from exc


def _check_table(table: Any, section: str, file: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ConfigError(f"[{section}] must be a table of settings", path=file)
    return table


def _add_file_layer(layers: _Layers, data: dict[str, Any], path: Path) -> None:
    file = str(path)
    base = path.parent.resolve()
    rules = RuleLocator(path)
    for name, table in data.items():
        if name == "inbox":
            if not isinstance(table, list):
                raise ConfigError("'inbox' must be written as [[inbox]] tables, one per folder", path=file)
            layers.inboxes = []
            for number, entry in enumerate(table, start=1):
                entry = _check_table(entry, f"[inbox] #{number}", file)
                values: dict[str, Value] = {}
                label = f"[[inbox]] #{number}"
                for key, raw in entry.items():
                    if key not in INBOX_KEYS:
                        raise ConfigError(f"{label}: unknown key {key!r}{_suggest(key, INBOX_KEYS)}", path=file)
                    if key == "rules":
                        raw = parse_rules(raw, inbox_owner(number), rules)
                    values[key] = Value(raw, Origin(f"{label} {key}", file, base))
                layers.inboxes.append(values)
            continue
        if name == "compat":
            _add_compat_tables(layers, table, file, base)
            continue
        if name not in SECTIONS:
            raise ConfigError(f"unknown section [{name}]{_suggest(name, [*SECTIONS, 'inbox'])}", path=file)
        table = _check_table(table, name, file)
        for key, raw in table.items():
            if name == "engine" and key == "limits":
                for limit_key, limit_raw in _check_table(raw, "engine.limits", file).items():
                    _set(
                        layers,
                        "engine.limits",
                        limit_key,
                        limit_raw,
                        Origin(f"[engine.limits] {limit_key}", file, base),
                    )
                continue
            if name == "fields" and key == "rules":
                raw = parse_rules(raw, SHARED, rules)
            _set(layers, name, key, raw, Origin(f"[{name}] {key}", file, base))


def _add_compat_tables(layers: _Layers, table: Any, file: str, base: Path) -> None:
    vendors = [name.split(".", 1)[1] for name in COMPAT_SECTIONS]
    for vendor, entries in _check_table(table, "compat", file).items():
        section = f"compat.{vendor}"
        if section not in COMPAT_SECTIONS:
            raise ConfigError(f"unknown section [{section}]{_suggest(vendor, vendors)}", path=file)
        for key, raw in _check_table(entries, section, file).items():
            _set(layers, section, key, raw, Origin(f"[{section}] {key}", file, base))


def build_compat(sections: dict[str, dict[str, Any]], file: str | None) -> CompatSettings:
    """Each vendor's settings; a vendor with only one of its two keys is a mistake worth stopping for."""
    built: dict[str, Any] = {}
    for name, (cls, _) in COMPAT_SECTIONS.items():
        settings = cls(**sections.get(name, {}))
        keys = [item.name for item in dataclasses.fields(cls) if item.type == "str | None"]
        given = [key for key in keys if getattr(settings, key)]
        if given and len(given) != len(keys):
            missing = next(key for key in keys if key not in given)
            raise ConfigError(
                f"[{name}] has {given[0]} but no {missing}: set both (or neither, to not serve this API)", path=file
            )
        built[name.split(".", 1)[1]] = settings
    return CompatSettings(**built)


def _set(layers: _Layers, section: str, key: str, raw: Any, origin: Origin) -> None:
    known = SECTIONS[section]
    if key not in known:
        where = f"[{section}]" if origin.file else origin.label
        raise ConfigError(f"unknown key {key!r} in {where}{_suggest(key, known)}", path=origin.file)
    layers.sections[section][key] = Value(raw, origin)


def _add_env_layer(layers: _Layers, env: Mapping[str, str]) -> None:
    """OCRD_DAEMON__WORKERS=4, OCRD_WEB__PORT=9000, OCRD_ENGINE__LIMITS__MAX_PAGES=500."""
    for name, raw in sorted(env.items()):
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        parts = name[len(ENV_PREFIX) :].lower().split("__")
        section, key = ".".join(parts[:-1]), parts[-1]
        origin = Origin(f"environment variable {name}")
        if section not in SECTIONS:
            sections = ", ".join(s.upper().replace(".", "__") for s in SECTIONS)
            raise ConfigError(
                f"{origin.label}: unknown section {section!r}; use OCRD_<SECTION>__<KEY> with one of {sections}"
            )
        if key not in SECTIONS[section]:
            raise ConfigError(f"{origin.label}: unknown key {key!r} in [{section}]{_suggest(key, SECTIONS[section])}")
        layers.sections[section][key] = Value(raw, Origin(f"{origin.label}:"))
    if env.get(DATA_DIR_ENV):
        layers.sections["daemon"]["data_dir"] = Value(
            env[DATA_DIR_ENV], Origin(f"environment variable {DATA_DIR_ENV}:")
        )


def _add_cli_layer(layers: _Layers, cli: CliOverrides) -> None:
    def flag(name: str) -> Origin:
        return Origin(f"option --{name}:")

    daemon = layers.sections["daemon"]
    if cli.workers is not None:
        daemon["workers"] = Value(cli.workers, flag("workers"))
    if cli.threads is not None:
        daemon["threads_per_worker"] = Value(cli.threads, flag("threads"))
    if cli.log_level is not None:
        daemon["log_level"] = Value(cli.log_level, flag("log-level"))
    if cli.web is not None:
        layers.sections["web"].update(parse_web_address(cli.web, flag("web")))
    defaults = layers.sections["inbox_defaults"]
    if cli.watch is not None:
        defaults["watch"] = Value(cli.watch, flag("watch"))
    if cli.settle is not None:
        defaults["settle"] = Value(cli.settle, flag("settle"))
    if cli.lang is not None:
        defaults["lang"] = Value(cli.lang, flag("lang"))
    if cli.inbox is None:
        for name in ("outbox", "done", "failed"):
            if getattr(cli, name) is not None:
                raise UsageError(f"--{name} only works together with --inbox DIR")
        return
    if cli.outbox is None:
        raise UsageError("--inbox needs --outbox DIR: the folder where the text results are written")
    # One inbox from the command line replaces the inboxes of the file (its other settings still apply).
    entry = {"path": Value(cli.inbox, flag("inbox")), "outbox": Value(cli.outbox, flag("outbox"))}
    if cli.done is not None:
        entry["done"] = Value(cli.done, flag("done"))
    if cli.failed is not None:
        entry["failed"] = Value(cli.failed, flag("failed"))
    # [inbox_defaults] from the file still apply to this inbox; the file's [[inbox]] tables do not.
    layers.inboxes = [entry]


# --- build ---------------------------------------------------------------------------------------------


def _convert(values: dict[str, Value], keys: dict[str, Converter]) -> dict[str, Any]:
    return {key: keys[key](value.raw, value.origin) for key, value in values.items()}


def default_data_dir(env: Mapping[str, str]) -> str:
    base = env.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "ocrd")


def _build_inbox(
    entry: dict[str, Value], shared: dict[str, Any], number: int, taken_names: set[str], file: str | None
) -> InboxSettings:
    label = f"[[inbox]] #{number}"
    values = {**shared, **_convert(entry, INBOX_KEYS)}
    if "path" not in values:
        raise ConfigError(f"{label}: missing key 'path' (the folder to watch)", path=file)
    path = values["path"]
    name = values.get("name") or os.path.basename(path.rstrip(os.sep)) or "inbox"
    if name in taken_names:
        raise ConfigError(f"{label}: inbox name {name!r} is used twice; give each [[inbox]] its own 'name'", path=file)
    taken_names.add(name)
    if "outbox" not in values:
        raise ConfigError(f"{label} ({name}): missing key 'outbox' (the folder for the text results)", path=file)
    # done/ and failed/ default to siblings of the inbox: usually the same file system, so
    # moving an original there is a cheap atomic rename rather than a copy.
    parent = os.path.dirname(path.rstrip(os.sep)) or os.sep
    values.setdefault("done", os.path.join(parent, "done"))
    values.setdefault("failed", os.path.join(parent, "failed"))
    values["name"] = name
    inbox = InboxSettings(**values)
    _check_inbox_folders(inbox, label, file)
    return inbox


def _inside(child: str, parent: str) -> bool:
    return child == parent or child.startswith(parent.rstrip(os.sep) + os.sep)


def _check_inbox_folders(inbox: InboxSettings, label: str, file: str | None) -> None:
    for key in ("outbox", "done", "failed"):
        target = getattr(inbox, key)
        if target == inbox.path:
            raise ConfigError(f"{label} ({inbox.name}): '{key}' must be a different folder than 'path'", path=file)
        if _inside(inbox.path, target):
            raise ConfigError(
                f"{label} ({inbox.name}): the inbox {inbox.path} lies inside '{key}' {target}; use separate folders",
                path=file,
            )
    if inbox.done == inbox.failed and inbox.on_success == "move":
        raise ConfigError(f"{label} ({inbox.name}): 'done' and 'failed' must be different folders", path=file)


def build_config(layers: _Layers, env: Mapping[str, str], origin: str, file: str | None) -> Config:
    sections = {name: _convert(values, SECTIONS[name]) for name, values in layers.sections.items()}
    daemon = DaemonSettings(**sections["daemon"])
    if not daemon.data_dir:
        daemon = dataclasses.replace(daemon, data_dir=default_data_dir(env))
    if daemon.stale_claim_after < 3 * daemon.rescan_interval:
        # Live claims are refreshed once per rescan; one that looks stale too early is taken over
        # while its daemon still works on it.
        given = layers.sections["daemon"]
        if "stale_claim_after" in given or "rescan_interval" not in given:
            origin = given.get("stale_claim_after", Value(None, Origin("[daemon] stale_claim_after", file))).origin
            problem = f"must be at least 3 x rescan_interval ({3 * daemon.rescan_interval:g} s)"
        else:
            origin = given["rescan_interval"].origin
            problem = f"must be at most stale_claim_after / 3 ({daemon.stale_claim_after / 3:g} s), or raise stale_claim_after"
        raise origin.error(f"{problem}: claims are refreshed once per rescan")
    engine = EngineSettings(
        **sections["engine"], limits=Limits(**sections["engine.limits"]), fields=FieldsSettings(**sections["fields"])
    )
    web = WebSettings(**sections["web"])
    if web.auth == "token" and not web.token:
        raise ConfigError("[web] auth = 'token' needs [web] token (or OCRD_WEB__TOKEN)", path=file)
    check_token_names(web, file)
    check_web_exposure(web, auth_explicit="auth" in layers.sections["web"], file=file)
    shared = sections["inbox_defaults"]
    entries = layers.inboxes
    if not entries:
        data = daemon.data_dir
        base = Origin("built-in default inbox")
        entries = [{"name": Value("inbox", base), "path": Value(os.path.join(data, "inbox"), base)}]
        shared = {
            "outbox": os.path.join(data, "outbox"),
            "done": os.path.join(data, "done"),
            "failed": os.path.join(data, "failed"),
            **shared,
        }
    names: set[str] = set()
    inboxes = tuple(_build_inbox(entry, shared, n, names, file) for n, entry in enumerate(entries, start=1))
    for inbox in inboxes:
        for other in inboxes:
            if other is not inbox and _inside(inbox.path, other.path):
                raise ConfigError(
                    f"inbox {inbox.name!r} ({inbox.path}) is the same as or inside inbox {other.name!r}; "
                    "each file must belong to exactly one inbox",
                    path=file,
                )
    compat = build_compat(sections, file)
    results = ResultsSettings(**sections["results"])
    cluster = build_cluster(sections["cluster"], layers.sections["cluster"], daemon, file)
    return Config(
        daemon=daemon,
        engine=engine,
        web=web,
        compat=compat,
        results=results,
        inboxes=inboxes,
        origin=origin,
        cluster=cluster,
    )


def find_config_file(
    explicit: str | os.PathLike[str] | None, env: Mapping[str, str], *, search: bool = True
) -> Path | None:
    """--config, else $OCRD_CONFIG, else the first existing SEARCH_PATHS entry, else None (defaults).

    The value "none" (for --config or $OCRD_CONFIG) means: no file, not even a system-wide one.
    """
    chosen = str(explicit) if explicit else env.get(CONFIG_ENV, "")
    if chosen.lower() == NO_FILE:
        return None
    if chosen:
        return Path(chosen)
    if not search:
        return None
    for candidate in SEARCH_PATHS:
        if candidate.startswith("$XDG_CONFIG_HOME") and not env.get("XDG_CONFIG_HOME"):
            continue
        path = Path(os.path.expanduser(candidate.replace("$XDG_CONFIG_HOME", env.get("XDG_CONFIG_HOME", ""))))
        if path.is_file():
            return path
    return None


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cli: CliOverrides | None = None,
    search: bool = True,
) -> Config:
    """Load and validate; raises ConfigError/UsageError naming the key and where it came from.

    ``search=False`` skips the well-known locations (tests, and `ocrd run --inbox` scripts that
    must not pick up a system-wide file by accident are better served by --config /dev/null).
    """
    env = os.environ if env is None else env
    file_path = find_config_file(path, env, search=search)
    layers = _Layers.empty()
    origin = "built-in defaults"
    if file_path is not None:
        _add_file_layer(layers, read_toml(file_path), file_path)
        origin = str(file_path)
    _add_env_layer(layers, env)
    if cli is not None:
        _add_cli_layer(layers, cli)
    return build_config(layers, env, origin, str(file_path) if file_path else None)


__all__ = [
    "DEFAULT_PATTERNS",
    "CliOverrides",
    "describe",
    "find_config_file",
    "load_config",
    "parse_web_address",
]
