"""The effective settings in words, as ``ocrd check-config`` prints them."""

from __future__ import annotations

from ocrd.config import Config, InboxSettings, effective_threads, effective_workers
from ocrd.config_fields import describe_rules
from ocrd.outputs_choice import DEFAULT_OUTPUTS


def describe(config: Config) -> str:
    """The effective settings, as check-config prints them."""
    lines = [f"configuration: {config.origin}"]
    d = config.daemon
    lines.append(
        f"workers: {effective_workers(d)} x {effective_threads(d)} thread(s); "
        f"job timeout {d.job_timeout:g} s; "
        f"max attempts {d.max_attempts}; rescan every {d.rescan_interval:g} s"
    )
    web = config.web
    lines.append(f"web: {'http://' + web.host + ':' + str(web.port) if web.enabled else 'off'} (auth: {web.auth})")
    served = config.compat.served()
    lines.append(f"hosted-OCR APIs answered: {', '.join(served) if served else 'none'}")
    fields = config.engine.fields
    lines.append(
        f"fields: {fields.mode}; {describe_rules(fields.rules)}; QR codes {'read' if fields.qr else 'ignored'}"
    )
    for inbox in config.inboxes:
        lines.append(
            f"inbox {inbox.name!r}: {inbox.path} -> {inbox.outbox} (done: "
            f"{inbox.done if inbox.on_success == 'move' else inbox.on_success}, failed: {inbox.failed}, "
            f"watch: {inbox.watch}, settle {inbox.settle:g} s, patterns: {' '.join(inbox.patterns)}"
            f"{', recursive' if inbox.recursive else ''}{', dedupe' if inbox.dedupe else ''}"
            f"{f', fields: {inbox.fields}' if inbox.fields else ''}"
            f"{f', {describe_rules(inbox.rules)} of its own' if inbox.rules else ''}{', ledger' if inbox.ledger else ''}"
            f"{_describe_outputs(inbox)})"
        )
    return "\n".join(lines)


def _describe_outputs(inbox: InboxSettings) -> str:
    if inbox.outputs == DEFAULT_OUTPUTS and not inbox.pdfa:
        return ""
    pdfa = " (PDF/A)" if inbox.pdfa and "pdf" in inbox.outputs else ""
    return f", outputs: {' '.join(inbox.outputs)}{pdfa}"
