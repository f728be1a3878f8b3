"""`ocrd run` and `ocrd check-config`: plain functions, plus ``register(app)`` for the typer CLI.

Signals: SIGTERM/SIGINT stop claiming and drain (a second one stops at once, handing files
back); SIGHUP reloads the configuration, keeping the old one if the new one is invalid.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
import os
import signal
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from ocrd.config import WATCH_MODES, Config, WebSettings
from ocrd.config_loader import CliOverrides, describe, load_config
from ocrd.daemon import logs
from ocrd.daemon.logs import event
from ocrd.daemon.supervisor import Supervisor
from ocrd.daemon.worker import DEFAULT_FACTORY, resolve
from ocrd.errors import OcrdError, UsageError

log = logging.getLogger("ocrd.daemon")

# "module:function" building the engine in each worker instead of the installed OcrPipeline: the
# test suite's hook (an engine it can hold mid-file) and a way to embed another engine. Read only
# here, from the environment, because it names code to run rather than a setting of the service.
ENGINE_FACTORY_ENV = "OCRD_ENGINE_FACTORY"


# --- run -----------------------------------------------------------------------------------------------


def run_daemon(
    config_path: str | os.PathLike[str] | None = None,
    *,
    cli: CliOverrides | None = None,
    env: Mapping[str, str] | None = None,
    engine_factory: str | None = None,
) -> int:
    """Load the configuration and run until SIGTERM/SIGINT; returns the exit code (0 after a clean stop).

    ``engine_factory`` defaults to $OCRD_ENGINE_FACTORY, else the installed engine.
    Raises ConfigError/UsageError for a bad configuration or factory, ModelError if the engine cannot start.
    """

    def load() -> Config:
        return load_config(config_path, env=env, cli=cli)

    if engine_factory is None:
        engine_factory = engine_factory_from(os.environ if env is None else env)
    config = load()
    logs.configure(config.daemon.log_level, config.daemon.log_format)
    return asyncio.run(_serve(config, load, engine_factory))


def engine_factory_from(env: Mapping[str, str]) -> str:
    """The engine factory $OCRD_ENGINE_FACTORY names, checked here so a typo fails before any worker starts."""
    factory = env.get(ENGINE_FACTORY_ENV, "").strip()
    if not factory:
        return DEFAULT_FACTORY
    module, _, name = factory.partition(":")
    if not module or not name:
        raise UsageError(f"{ENGINE_FACTORY_ENV}={factory!r}: write it as module:function, or unset it")
    try:
        resolve(factory)
    except (ImportError, AttributeError) as exc:
        raise UsageError(f"{ENGINE_FACTORY_ENV}={factory!r}: cannot load it ({exc}); fix it, or unset it") from exc
    return factory


async def _serve(config: Config, load: Callable[[], Config], engine_factory: str) -> int:
    supervisor = Supervisor(config, engine_factory=engine_factory)
    loop = asyncio.get_running_loop()
    signals_seen: list[str] = []
    stopping: list[asyncio.Task[None]] = []

    def on_stop(name: str) -> None:
        signals_seen.append(name)
        if len(signals_seen) > 1:
            event(log, "signal", f"{name} again: stopping now, handing files back", signal=name)
            supervisor.hurry()
            return
        event(log, "signal", f"{name}: finishing files in progress, then exiting", signal=name)
        if supervisor.ready:
            stopping.append(asyncio.create_task(supervisor.stop()))

    def on_reload() -> None:
        stopping.append(asyncio.create_task(_reload(supervisor, load)))

    for number, name in ((signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "SIGINT")):
        loop.add_signal_handler(number, on_stop, name)
    loop.add_signal_handler(signal.SIGHUP, on_reload)
    runner = None
    # Importing the web app takes seconds (PyMuPDF, aiohttp): do it while the workers load their models.
    web_module = asyncio.create_task(asyncio.to_thread(load_web_module)) if config.web.enabled else None
    try:
        try:
            await supervisor.start(announce=False)
        except BaseException:
            if supervisor.pool is not None:
                await supervisor.pool.stop(0)
            raise
        if signals_seen:  # asked to stop while the workers were still loading
            await supervisor.stop()
        else:
            try:
                module = await web_module if web_module is not None else None
                runner = await start_web(supervisor, config.web, module)
            except BaseException:
                await supervisor.stop(0)  # e.g. the port is taken: hand the files back, then report it
                raise
            web = config.web
            supervisor.announce_ready(f", web http://{web.host}:{web.port}/" if runner is not None else "")
        await supervisor.wait_stopped()
    finally:
        if runner is not None:
            await runner.cleanup()
        for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(number)
    return 0


async def _reload(supervisor: Supervisor, load: Callable[[], Config]) -> None:
    event(log, "signal", "SIGHUP: reloading the configuration", signal="SIGHUP")
    try:
        config = await asyncio.to_thread(load)
    except OcrdError as error:
        event(log, "reload-failed", f"configuration not reloaded, keeping the old one: {error}", level=logging.ERROR)
        return
    logs.configure(config.daemon.log_level, config.daemon.log_format)
    await supervisor.reload(config)


def load_web_module() -> Any:
    """``ocrd.web.app`` if this build has it, else None."""
    try:
        return importlib.import_module("ocrd.web.app")
    except ModuleNotFoundError as exc:
        if exc.name not in ("ocrd.web.app", "ocrd.web"):
            raise
        return None


async def start_web(supervisor: Supervisor, web: WebSettings, module: Any = None) -> Any:
    """Serve ``ocrd.web.app.init_app(supervisor)`` if this build has it; returns the aiohttp runner."""
    if not web.enabled:
        return None
    module = module or await asyncio.to_thread(load_web_module)
    init_app = getattr(module, "init_app", None)
    if init_app is None:
        event(log, "web-skipped", "the web interface is not part of this build; running folders only")
        return None
    from aiohttp import web as aiohttp_web

    app = init_app(supervisor)
    if inspect.isawaitable(app):
        app = await app
    runner = aiohttp_web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await aiohttp_web.TCPSite(runner, web.host, web.port).start()
    except OSError as exc:
        await runner.cleanup()
        raise UsageError(
            f"cannot serve the web interface on {web.host}:{web.port}: {exc.strerror or exc}; "
            "choose another [web] port (or --web HOST:PORT), or --web off"
        ) from exc
    event(log, "web", f"web interface on http://{web.host}:{web.port}/", host=web.host, port=web.port)
    return runner


# --- check-config --------------------------------------------------------------------------------------


def folder_warnings(config: Config) -> list[str]:
    """Problems with the folders that do not make the configuration invalid but will bite at run time."""
    warnings = []
    for inbox in config.inboxes:
        if not os.path.isdir(inbox.path):
            warnings.append(f"inbox {inbox.name!r}: {inbox.path} does not exist (yet); ocrd waits for it")
        elif not os.access(inbox.path, os.W_OK | os.X_OK):
            warnings.append(f"inbox {inbox.name!r}: {inbox.path} is not writable; files cannot be claimed")
        targets = [("outbox", inbox.outbox), ("failed", inbox.failed)]
        if inbox.on_success == "move":
            targets.append(("done", inbox.done))
        for key, folder in targets:
            existing = Path(folder)
            while not existing.exists() and existing != existing.parent:
                existing = existing.parent
            if not os.access(existing, os.W_OK | os.X_OK):
                warnings.append(f"inbox {inbox.name!r}: {key} {folder} is not writable (checked {existing})")
    return warnings


def check_config(path: str | os.PathLike[str] | None, *, env: Mapping[str, str] | None = None) -> int:
    """Validate a configuration without starting anything; prints the effective settings. Exit code."""
    try:
        config = load_config(path, env=env)
    except OcrdError as error:
        typer.echo(f"ocrd: {error}", err=True)
        return error.exit_code
    typer.echo(describe(config))
    for warning in folder_warnings(config):
        typer.echo(f"warning: {warning}", err=True)
    typer.echo("configuration is valid")
    return 0


# --- typer ---------------------------------------------------------------------------------------------


def run_command(
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="TOML configuration file (default: $OCRD_CONFIG).")
    ] = None,
    inbox: Annotated[Path | None, typer.Option(help="Watch this one folder instead of the configured inboxes.")] = None,
    outbox: Annotated[Path | None, typer.Option(help="Results for --inbox go here.")] = None,
    done: Annotated[
        Path | None, typer.Option(help="Originals go here once read (default: done/ next to the inbox).")
    ] = None,
    failed: Annotated[
        Path | None, typer.Option(help="Unreadable files go here (default: failed/ next to the inbox).")
    ] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default: half the cores).")] = None,
    threads: Annotated[int | None, typer.Option(help="Engine threads per worker.")] = None,
    web: Annotated[str | None, typer.Option(help="Web interface address HOST:PORT, or 'off'.")] = None,
    log_level: Annotated[str | None, typer.Option(help="debug, info, warning or error.")] = None,
    watch: Annotated[str | None, typer.Option(help=f"How to watch: {', '.join(WATCH_MODES)}.")] = None,
    settle: Annotated[float | None, typer.Option(help="Seconds a file must stay unchanged before it is read.")] = None,
    lang: Annotated[str | None, typer.Option(help="Document language: zh (Chinese + English) or en.")] = None,
) -> None:
    """Run the service: watch the inboxes (and serve the web interface) until stopped."""
    overrides = CliOverrides(
        inbox=str(inbox) if inbox else None,
        outbox=str(outbox) if outbox else None,
        done=str(done) if done else None,
        failed=str(failed) if failed else None,
        workers=workers,
        threads=threads,
        web=web,
        log_level=log_level,
        watch=watch,
        settle=settle,
        lang=lang,
    )
    try:
        code = run_daemon(config, cli=overrides)
    except OcrdError as error:
        typer.echo(f"ocrd: {error}", err=True)
        raise typer.Exit(error.exit_code) from None
    raise typer.Exit(code)


def check_config_command(
    file: Annotated[Path | None, typer.Argument(help="The TOML file to check (default: $OCRD_CONFIG).")] = None,
) -> None:
    """Validate a configuration file without starting the service."""
    raise typer.Exit(check_config(file))


def register(app: typer.Typer) -> None:
    app.command("run")(run_command)
    app.command("check-config")(check_config_command)


__all__ = ["check_config", "register", "run_daemon"]
