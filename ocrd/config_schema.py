"""The configuration's schema: every section's keys and the converter each value goes through."""

from __future__ import annotations

import dataclasses

from ocrd.config import (
    LANGS,
    LOG_FORMATS,
    LOG_LEVELS,
    ON_SUCCESS,
    ON_UNSUPPORTED,
    PRECISIONS,
    WATCH_MODES,
    WEB_AUTH,
    AliyunCompat,
    BaiduCompat,
    EngineSettings,
    TencentCompat,
    UmiCompat,
)
from ocrd.config_values import (
    Converter,
    to_bool,
    to_choice,
    to_float,
    to_int,
    to_optional_lang,
    to_optional_mode,
    to_optional_path,
    to_optional_str,
    to_outputs,
    to_path,
    to_patterns,
    to_port,
    to_preprocess,
    to_rules,
    to_str,
    to_str_list,
    to_token_name,
    to_tokens,
)
from ocrd.fields.model import FIELD_MODES
from ocrd.packs import pack_names

# --- schema ------------------------------------------------------------------------------------------

DAEMON_KEYS: dict[str, Converter] = {
    "workers": to_int(0),
    "threads_per_worker": to_int(0),
    "queue_size": to_int(0),
    "max_queued_uploads": to_int(1),
    "job_timeout": to_float(0, exclusive=True),
    "max_attempts": to_int(1),
    "rescan_interval": to_float(0, exclusive=True),
    "grace_period": to_float(0),
    "stale_claim_after": to_float(0, exclusive=True),
    "retry_backoff_max": to_float(0, exclusive=True),
    "node_name": to_str,
    "data_dir": to_optional_path,
    "log_level": to_choice(LOG_LEVELS),
    "log_format": to_choice(LOG_FORMATS),
}
WEB_KEYS: dict[str, Converter] = {
    "enabled": to_bool,
    "host": to_str,
    "port": to_port,
    "auth": to_choice(WEB_AUTH),
    "token": to_optional_str,
    "token_name": to_token_name,
    "tokens": to_tokens,
    "max_upload_bytes": to_int(1),
    "job_ttl": to_float(0, exclusive=True),
}
RESULTS_KEYS: dict[str, Converter] = {
    "enabled": to_bool,
    "retention_days": to_float(0, exclusive=True),
    "max_bytes": to_int(0),
}
LIMITS_KEYS: dict[str, Converter] = {
    "max_bytes": to_int(1),
    "max_pages": to_int(1),
    "max_pixels": to_int(1),
}
# Keys every [[inbox]] may set, and [inbox_defaults] may set for all of them.
INBOX_SHARED_KEYS: dict[str, Converter] = {
    "outbox": to_path,
    "done": to_path,
    "failed": to_path,
    "on_success": to_choice(ON_SUCCESS),
    "patterns": to_patterns,
    "recursive": to_bool,
    "lang": to_optional_lang,
    "preprocess": to_preprocess,
    "watch": to_choice(WATCH_MODES),
    "poll_interval": to_float(0, exclusive=True),
    "settle": to_float(0),
    "dedupe": to_bool,
    "unsupported": to_choice(ON_UNSUPPORTED),
    "fields": to_optional_mode,
    "ledger": to_bool,
    "outputs": to_outputs,
    "pdfa": to_bool,
}
# An inbox's own rules are added to [fields] rules; shared ones belong there, not in [inbox_defaults].
INBOX_KEYS: dict[str, Converter] = {"name": to_str, "path": to_path, **INBOX_SHARED_KEYS, "rules": to_rules}
FIELDS_KEYS: dict[str, Converter] = {"mode": to_choice(FIELD_MODES), "qr": to_bool, "rules": to_rules}
# Engine threads follow [daemon] threads_per_worker: one knob, not two that can disagree.
# The fields stage has its own [fields] section.
ENGINE_HIDDEN = {"threads", "limits", "fields"}
ENGINE_SPECIAL: dict[str, Converter] = {
    "pack": to_choice(pack_names()),
    "model_dir": to_optional_path,
    "lang": to_choice(LANGS),
    "precision": to_choice(PRECISIONS),
    "allowlist": to_optional_str,
    "dpi": to_int(36),
    "preprocess": to_preprocess,
}


def _engine_keys() -> dict[str, Converter]:
    """Engine keys follow the EngineSettings dataclass, so a field added there is configurable at once."""
    by_type: dict[str, Converter] = {
        "bool": to_bool,
        "int": to_int(0),
        "float": to_float(0),
        "str": to_str,
        "str | None": to_optional_str,
        "tuple[str, ...]": to_str_list,
    }
    keys: dict[str, Converter] = {}
    for item in dataclasses.fields(EngineSettings):
        if item.name in ENGINE_HIDDEN:
            continue
        keys[item.name] = ENGINE_SPECIAL.get(item.name) or by_type.get(str(item.type), to_str)
    return keys


ENGINE_KEYS = _engine_keys()
# Hosted-OCR APIs answered by ocrd ([compat.tencent] ...): each is served only when its keys are set.
COMPAT_SECTIONS: dict[str, tuple[type, dict[str, Converter]]] = {
    "compat.tencent": (
        TencentCompat,
        {"secret_id": to_optional_str, "secret_key": to_optional_str, "max_skew": to_float(0, exclusive=True)},
    ),
    "compat.aliyun": (
        AliyunCompat,
        {
            "access_key_id": to_optional_str,
            "access_key_secret": to_optional_str,
            "max_skew": to_float(0, exclusive=True),
        },
    ),
    "compat.baidu": (
        BaiduCompat,
        {"api_key": to_optional_str, "secret_key": to_optional_str, "token_ttl": to_float(0, exclusive=True)},
    ),
    "compat.umi": (UmiCompat, {"enabled": to_bool}),
}
# [cluster]: present = several hosts share the work through Redis (ocrd.config_cluster checks the values).
CLUSTER_KEYS: dict[str, Converter] = {
    "url": to_str,
    "host": to_str,
    "roles": to_str_list,
    "prefix": to_str,
    "claim_idle": to_float(0, exclusive=True),
    "max_deliveries": to_int(1),
    "max_upload_bytes": to_int(1),
    "upload_ttl": to_float(0, exclusive=True),
    "heartbeat": to_float(0, exclusive=True),
    "republish_after": to_float(0, exclusive=True),
    "connect_timeout": to_float(0, exclusive=True),
    "ca_file": to_str,
}
SECTIONS: dict[str, dict[str, Converter]] = {
    "daemon": DAEMON_KEYS,
    "cluster": CLUSTER_KEYS,
    "engine": ENGINE_KEYS,
    "engine.limits": LIMITS_KEYS,
    "web": WEB_KEYS,
    "results": RESULTS_KEYS,
    "fields": FIELDS_KEYS,
    "inbox_defaults": INBOX_SHARED_KEYS,
    **{name: keys for name, (_, keys) in COMPAT_SECTIONS.items()},
}
