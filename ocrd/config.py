"""Typed configuration, in one place.

Engine settings live here now; the daemon's settings (inboxes, workers, web) are
added beside them, and a loader turns TOML < environment < CLI flags into these
dataclasses once, at start.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ocrd.formats import SUPPORTED_SUFFIXES
from ocrd.outputs_choice import DEFAULT_OUTPUTS
from ocrd.packs import DEFAULT_PACK

LANGS = ("zh", "en")
PREPROCESS_STEPS = ("grayscale", "contrast", "denoise", "binarize", "deskew")
# fp32: the exact optimized rewrite of the shipped models; int8: quantized recognizer (ocrd.engine.derived)
MODEL_PRECISIONS = ("fp32", "int8")
# auto: int8 where the CPU has int8 dot-product instructions and the INT8 model passed its
# accuracy check, fp32 elsewhere (ocrd.engine.precision)
PRECISIONS = ("auto", *MODEL_PRECISIONS)


@dataclass(frozen=True)
class Limits:
    """What a single input may cost at most; beyond that it is refused with a clear error."""

    max_bytes: int = 256 * 1024 * 1024
    max_pages: int = 2000
    # 20k x 20k: an A0 scan at 300 dpi is ~140 Mpx; 400 Mpx refuses decompression bombs
    # (a few KB of PNG that would inflate to gigabytes) before they are decoded.
    max_pixels: int = 400_000_000


# What a user rule may do to the text it matched before it is checked (ocrd.fields.rules).
RULE_NORMALISERS = ("none", "digits", "upper", "amount", "date", "compact")
# Named checks a user rule may ask for; a rule may also give a regular expression the value must match.
RULE_CHECKS = ("none", "uscc", "date", "amount")


@dataclass(frozen=True)
class FieldRule:
    """A field the user adds in the configuration: where it is in the text and how it is checked."""

    name: str  # the field's name in results (snake_case)
    pattern: str  # a regular expression with a group named "value" (searched in the document's text)
    kinds: tuple[str, ...] = ()  # document kinds it applies to; () = every kind
    normalise: str = "none"  # one of RULE_NORMALISERS
    check: str = "none"  # one of RULE_CHECKS
    check_pattern: str | None = None  # the normalised value must match this regular expression in full


@dataclass(frozen=True)
class FieldsSettings:
    """The fields stage (ocrd.fields): which kind to extract, and the users' own rules."""

    mode: str = "auto"  # one of FIELD_MODES: auto classifies, off skips the stage, a kind forces it
    rules: tuple[FieldRule, ...] = ()
    qr: bool = True  # decode invoice QR codes on OCR pages as a second source

    def for_inbox(self, mode: str | None, rules: tuple[FieldRule, ...]) -> FieldsSettings:
        """These settings as one inbox sees them: its own mode if it sets one, and its own rules
        ahead of the shared ones, so that an inbox can redefine a field (the first matching rule wins)."""
        if (mode is None or mode == self.mode) and not rules:
            return self
        return replace(self, mode=mode or self.mode, rules=rules + self.rules)


@dataclass(frozen=True)
class EngineSettings:
    """How the OCR engine reads a document."""

    pack: str = DEFAULT_PACK  # a named model pack (ocrd.packs); `ocrd models` lists them
    model_dir: str | None = None  # a model folder instead of the named pack
    lang: str = "zh"
    allowlist: str | None = None  # only these characters may be recognised (e.g. "0123456789")
    threads: int = 0  # intra-op threads per process; 0 = all cores
    dpi: int = 200  # PDF render resolution for pages without a text layer
    force_ocr: bool = False  # ignore PDF text layers
    preprocess: tuple[str, ...] = ()  # steps from PREPROCESS_STEPS, applied in this order
    use_orientation: bool = True  # fix upside-down lines with the orientation model
    precision: str = "auto"  # one of PRECISIONS; derived models are cached (see ocrd.engine.derived)
    limits: Limits = field(default_factory=Limits)
    fields: FieldsSettings = field(default_factory=FieldsSettings)


# --- daemon settings -------------------------------------------------------------------------------

WATCH_MODES = ("auto", "native", "poll")  # auto: poll on network file systems, inotify elsewhere
ON_SUCCESS = ("move", "delete", "keep")  # what happens to the original once its results are durable
# A file that matches none of an inbox's patterns: "fail" moves it to failed/ with a reason
# (so nobody waits for a result that never comes), "leave" leaves it where it is.
ON_UNSUPPORTED = ("fail", "leave")
LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("auto", "json", "text")  # auto: json when stdout is not a terminal (journald, containers)
WEB_AUTH = ("none", "token")
DEFAULT_PATTERNS = tuple(f"*{suffix}" for suffix in SUPPORTED_SUFFIXES)


@dataclass(frozen=True)
class InboxSettings:
    """One watched folder and where its results, originals and failures go."""

    name: str
    path: str
    outbox: str
    done: str
    failed: str
    on_success: str = "move"
    patterns: tuple[str, ...] = DEFAULT_PATTERNS  # matched case-insensitively: "*.pdf" takes "A.PDF"
    recursive: bool = False  # subfolders are watched too and mirrored in outbox/done/failed
    lang: str | None = None  # None: [engine] lang
    preprocess: tuple[str, ...] | None = None  # None: [engine] preprocess
    watch: str = "auto"
    poll_interval: float = 5.0  # seconds between directory polls in poll mode
    settle: float = 2.0  # a file is taken once size and mtime stayed unchanged this long
    dedupe: bool = False  # the same bytes dropped again reuse the earlier result
    unsupported: str = "fail"  # one of ON_UNSUPPORTED
    fields: str | None = None  # one of FIELD_MODES; None: [fields] mode
    rules: tuple[FieldRule, ...] = ()  # added to the [fields] rules for this inbox
    ledger: bool = False  # append one row per document to outbox/ledger.csv and ledger.jsonl
    # Result files written for each document, from ocrd.outputs_choice.OUTPUT_KINDS; always with "json".
    outputs: tuple[str, ...] = DEFAULT_OUTPUTS
    pdfa: bool = False  # searchable PDFs are written as PDF/A (archival), see docs/pdf.md


@dataclass(frozen=True)
class DaemonSettings:
    """How the watch-folder daemon schedules and protects work."""

    workers: int = 0  # worker processes; 0 = half the cores (at least 1)
    threads_per_worker: int = 0  # engine threads in each worker; 0 = cores / workers
    queue_size: int = 0  # files claimed ahead of the workers; 0 = one per worker
    max_queued_uploads: int = 16  # web uploads waiting for a worker; more are refused at once
    job_timeout: float = 600.0  # a worker still busy with one file after this is killed
    max_attempts: int = 2  # a file whose processing crashed this many times goes to failed/
    rescan_interval: float = 60.0  # full directory scans that catch anything events missed
    grace_period: float = 30.0  # on SIGTERM, in-flight files get this long before they are handed back
    # Claims are touched every rescan while their daemon lives; one untouched this long (another host,
    # or a container with a new host name) is taken over. At least 3 x rescan_interval.
    stale_claim_after: float = 600.0
    retry_backoff_max: float = 300.0  # longest wait between retries of a disk/share problem
    node_name: str = ""  # names this daemon in claims; "" = the host name
    data_dir: str = ""  # base of the built-in default folders; "" = $XDG_DATA_HOME/ocrd
    log_level: str = "info"
    log_format: str = "auto"


@dataclass(frozen=True)
class WebSettings:
    """The web page / REST API served from the daemon process (started when ocrd.web is present)."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 8080
    auth: str = "none"
    token: str | None = field(default=None, repr=False)  # never in logs or reprs
    token_name: str = "token"  # who [web] token is: recorded with each correction made with it
    # More people, each with a token of their own: name -> token ([web.tokens] in the file).
    tokens: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    # Added for the web app (ocrd/web): upload size limit and how long job-API results are kept.
    max_upload_bytes: int = 100 * 1024 * 1024
    job_ttl: float = 3600.0


@dataclass(frozen=True)
class ResultsSettings:
    """The results index (ocrd.results): every finished document, its corrections, and how long they are kept."""

    enabled: bool = True
    retention_days: float = 30.0  # results (and the originals kept for them) older than this are removed
    # Uploads' originals kept under the data folder, at most this many bytes (oldest removed first); 0 = no bound.
    max_bytes: int = 2 * 1024 * 1024 * 1024


@dataclass(frozen=True)
class TencentCompat:
    """Tencent Cloud OCR requests (TC3-HMAC-SHA256 signed) answered by ocrd: served when both keys are set."""

    secret_id: str | None = None
    secret_key: str | None = field(default=None, repr=False)  # never in logs or reprs
    max_skew: float = 300.0  # seconds a request's timestamp may differ from this server's clock

    @property
    def enabled(self) -> bool:
        return bool(self.secret_id and self.secret_key)


@dataclass(frozen=True)
class AliyunCompat:
    """Alibaba Cloud OCR (ocr-api 2021-07-07, ACS3-HMAC-SHA256 signed): served when both keys are set."""

    access_key_id: str | None = None
    access_key_secret: str | None = field(default=None, repr=False)  # never in logs or reprs
    max_skew: float = 900.0

    @property
    def enabled(self) -> bool:
        return bool(self.access_key_id and self.access_key_secret)


@dataclass(frozen=True)
class BaiduCompat:
    """Baidu AI OCR (an access token from /oauth/2.0/token): served when both keys are set."""

    api_key: str | None = None
    secret_key: str | None = field(default=None, repr=False)  # never in logs or reprs
    token_ttl: float = 30 * 86400.0  # seconds an issued access token is valid (Baidu's own is 30 days)

    @property
    def enabled(self) -> bool:
        return bool(self.api_key and self.secret_key)


@dataclass(frozen=True)
class UmiCompat:
    """Umi-OCR's HTTP API (POST /api/ocr). It has no credentials of its own: [web] token rules apply."""

    enabled: bool = False


@dataclass(frozen=True)
class CompatSettings:
    """Hosted-OCR APIs ocrd answers on its web address, so clients switch by changing one endpoint."""

    tencent: TencentCompat = field(default_factory=TencentCompat)
    aliyun: AliyunCompat = field(default_factory=AliyunCompat)
    baidu: BaiduCompat = field(default_factory=BaiduCompat)
    umi: UmiCompat = field(default_factory=UmiCompat)

    def served(self) -> tuple[str, ...]:
        return tuple(name for name in ("tencent", "aliyun", "baidu", "umi") if getattr(self, name).enabled)


CLUSTER_ROLES = ("watch", "work", "web")


@dataclass(frozen=True)
class ClusterSettings:
    """Many hosts sharing the work through Redis Streams (docs/cluster.md); absent: one host, as ever."""

    url: str = field(default="", repr=False)  # redis:// or rediss:// (TLS); a password in it stays out of reprs
    host: str = ""  # this host's consumer name; "" = [daemon] node_name, else the host name
    roles: tuple[str, ...] = CLUSTER_ROLES  # watch: publish inbox files; work: read jobs; web: take uploads
    prefix: str = "ocrd"  # Redis key prefix: two clusters can share one Redis
    claim_idle: float = 60.0  # a job pending this long with a silent consumer is taken over (XAUTOCLAIM)
    max_deliveries: int = 5  # a job delivered this many times without finishing goes to failed/
    max_upload_bytes: int = 32 * 1024 * 1024  # uploads sent through Redis to another host, at most this big
    upload_ttl: float = 3600.0  # seconds an upload's bytes and its answer are kept in Redis
    heartbeat: float = 2.0  # seconds between this host's heartbeats (status page, metrics)
    republish_after: float = 600.0  # a published file still in the inbox after this is published again
    connect_timeout: float = 5.0  # seconds to wait for Redis before saying it does not answer
    ca_file: str = ""  # rediss://: the CA bundle that signed the Redis server's certificate

    def has(self, role: str) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class Config:
    """Everything `ocrd run` needs, validated; `origin` says which file (if any) it came from."""

    daemon: DaemonSettings = field(default_factory=DaemonSettings)
    engine: EngineSettings = field(default_factory=EngineSettings)
    web: WebSettings = field(default_factory=WebSettings)
    compat: CompatSettings = field(default_factory=CompatSettings)
    results: ResultsSettings = field(default_factory=ResultsSettings)
    inboxes: tuple[InboxSettings, ...] = ()
    origin: str = "built-in defaults"
    cluster: ClusterSettings | None = None  # None: one host, no Redis (ocrd.cluster is never imported)


def cpu_count() -> int:
    """Cores this process may use (respects taskset/cgroup cpusets, unlike os.cpu_count)."""
    import os

    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def effective_workers(settings: DaemonSettings, cores: int | None = None) -> int:
    # Half the cores with two engine threads each keeps single-file latency low while
    # still overlapping one worker's PDF rendering with another's inference.
    cores = cores or cpu_count()
    return settings.workers or max(1, cores // 2)


def effective_threads(settings: DaemonSettings, cores: int | None = None) -> int:
    cores = cores or cpu_count()
    return settings.threads_per_worker or max(1, cores // effective_workers(settings, cores))
