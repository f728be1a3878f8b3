"""Checking Aliyun's ACS3-HMAC-SHA256 request signature (the OpenAPI "V3" signature).

The client signs a canonical request::

    METHOD \\n /path \\n sorted, percent-encoded query \\n "name:value\\n" per signed header
    \\n signed header names joined by ";" \\n hex SHA-256 of the body (x-acs-content-sha256)

and sends ``Authorization: ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=...,
Signature=<hex HMAC-SHA256(secret, "ACS3-HMAC-SHA256\\n" + hex SHA-256(canonical request))>``.
The check is split in two: what the headers alone decide (``check_headers``: key, clock,
which headers were signed) before the body is read, and the body hash, signature and nonce
(``check_signed``) after. A nonce is remembered only once its request proved to be signed, so
forged requests cannot use up a client's nonces. Keys and signatures never enter a message.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote

from ocrd.config import AliyunCompat
from ocrd.web.compat.aliyun_shapes import AliyunError, unknown_key

ALGORITHM = "ACS3-HMAC-SHA256"
# What every request must sign: without these a signed request could be replayed with another
# date, nonce, body or action. Any other x-acs-* header that is sent must be signed too.
REQUIRED_SIGNED = ("host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce")
DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
MAX_NONCE_LENGTH = 128
NONCE_CAPACITY = 20_000


@dataclass(frozen=True)
class SignedRequest:
    """What the signature covers, as received (headers keep every value of a repeated name)."""

    method: str
    path: str
    query: list[tuple[str, str]]  # decoded names and values
    headers: Mapping[str, list[str]]  # lower-case names


@dataclass(frozen=True)
class Authorization:
    access_key_id: str
    signed_headers: tuple[str, ...]
    signature: str


def incomplete(why: str) -> AliyunError:
    return AliyunError(400, "IncompleteSignature", f"The request signature does not conform to Aliyun standards: {why}")


def parse_authorization(value: str | None) -> Authorization:
    if not value or not value.strip():
        raise AliyunError(400, "MissingAccessKeyId", "AccessKey ID is required: the Authorization header is missing.")
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        # Aliyun's documented code, spelled as Aliyun spells it.
        raise AliyunError(
            400, "InvalidSignatureVerssion", f"Invalid signature version: only {ALGORITHM} is accepted here."
        )
    parts: dict[str, str] = {}
    for item in rest.split(","):
        name, sep, content = item.strip().partition("=")
        if not sep:
            raise incomplete(f"the Authorization part {name[:20]!r} is not name=value")
        parts[name.strip()] = content.strip()
    if not parts.get("Credential"):
        raise AliyunError(400, "MissingAccessKeyId", "AccessKey ID is required: Authorization has no Credential.")
    if not parts.get("Signature"):
        raise AliyunError(400, "MissingSignature", "Signature is required: Authorization has no Signature.")
    names = tuple(name.strip().lower() for name in parts.get("SignedHeaders", "").split(";") if name.strip())
    if not names:
        raise incomplete("Authorization has no SignedHeaders")
    return Authorization(parts["Credential"], names, parts["Signature"])


def _one(request: SignedRequest, name: str) -> str:
    values = request.headers.get(name, [])
    return values[0].strip() if values else ""


def parse_date(text: str) -> float:
    """x-acs-date (ISO 8601 UTC, e.g. 2018-01-01T12:00:00Z) as a Unix time."""
    try:
        moment = datetime.datetime.strptime(text, DATE_FORMAT).replace(tzinfo=datetime.UTC)
    except ValueError:
        raise AliyunError(
            400,
            "InvalidTimeStamp.Format",
            f"Specified time stamp or date value is not well formatted: x-acs-date must look like "
            f"2018-01-01T12:00:00Z (got {text[:40]!r}).",
        ) from None
    return moment.timestamp()


def check_headers(request: SignedRequest, settings: AliyunCompat, now: float) -> Authorization:
    """Everything the headers decide on their own; raises AliyunError."""
    auth = parse_authorization(_one(request, "authorization"))
    expected_id = settings.access_key_id or ""
    if not expected_id or not hmac.compare_digest(auth.access_key_id.encode(), expected_id.encode()):
        raise unknown_key()
    sent_acs = {name for name in request.headers if name.startswith("x-acs-")}
    unsigned = sorted((set(REQUIRED_SIGNED) | sent_acs) - set(auth.signed_headers))
    if unsigned:
        raise incomplete(f"these headers must be signed: {', '.join(unsigned)}")
    nonce = _one(request, "x-acs-signature-nonce")
    if not nonce:
        raise incomplete("the x-acs-signature-nonce header is missing")
    if len(nonce) > MAX_NONCE_LENGTH:
        raise incomplete(f"x-acs-signature-nonce is longer than {MAX_NONCE_LENGTH} characters")
    sent_at = parse_date(_one(request, "x-acs-date"))
    if abs(now - sent_at) > settings.max_skew:
        raise AliyunError(
            400,
            "InvalidTimeStamp.Expired",
            f"Specified time stamp or date value is expired: x-acs-date is more than {settings.max_skew:g} seconds "
            "from this server's clock; check the client's clock.",
        )
    return auth


def canonical_query(query: Iterable[tuple[str, str]]) -> str:
    return "&".join(f"{_encode(name)}={_encode(value)}" for name, value in sorted(query))


def _encode(text: str) -> str:
    return quote(text, safe="~", encoding="utf-8")


def canonical_request(request: SignedRequest, signed_headers: tuple[str, ...], payload_hash: str) -> str:
    headers = "".join(
        f"{name}:{','.join(sorted(value.strip() for value in request.headers.get(name, [])))}\n"
        for name in signed_headers
    )
    path = quote(request.path or "/", safe="/~", encoding="utf-8")
    return "\n".join(
        [request.method.upper(), path, canonical_query(request.query), headers, ";".join(signed_headers), payload_hash]
    )


def string_to_sign(canonical: str) -> str:
    return f"{ALGORITHM}\n{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"


def sign(secret: str, text: str) -> str:
    return hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()


class NonceCache:
    """Nonces seen in the last ``2 × max_skew`` seconds: a request older than that fails the clock check anyway.

    Bounded: past ``capacity`` the oldest nonce is forgotten (at the daemon's request rates the
    window never holds that many).
    """

    def __init__(self, capacity: int = NONCE_CAPACITY) -> None:
        self.capacity = capacity
        self._until: OrderedDict[str, float] = OrderedDict()

    def claim(self, nonce: str, *, now: float, window: float) -> bool:
        """True the first time ``nonce`` is seen within the window; it is remembered from then on."""
        while self._until and next(iter(self._until.values())) < now:
            self._until.popitem(last=False)
        if nonce in self._until:
            return False
        if len(self._until) >= self.capacity:
            self._until.popitem(last=False)
        self._until[nonce] = now + window
        return True

    def __len__(self) -> int:
        return len(self._until)


def check_signed(
    request: SignedRequest,
    auth: Authorization,
    settings: AliyunCompat,
    body: bytes,
    nonces: NonceCache,
    now: float,
) -> None:
    """The body hash, the signature and the nonce; raises AliyunError."""
    payload_hash = hashlib.sha256(body).hexdigest()
    sent_hash = _one(request, "x-acs-content-sha256").lower()
    if not hmac.compare_digest(sent_hash.encode(), payload_hash.encode()):
        raise AliyunError(
            400,
            "SignatureDoesNotMatch",
            "Signature error: x-acs-content-sha256 is not the SHA-256 of the body received.",
        )
    text = string_to_sign(canonical_request(request, auth.signed_headers, payload_hash))
    expected = sign(settings.access_key_secret or "", text)
    if not hmac.compare_digest(auth.signature.lower().encode(), expected.encode()):
        # Aliyun shows its string to sign (a hash of the canonical request, nothing secret) to help debugging.
        server_text = text.replace("\n", " ")
        raise AliyunError(
            400,
            "SignatureDoesNotMatch",
            f"Specified signature does not match our calculation. server StringToSign is [{server_text}]",
        )
    if not nonces.claim(_one(request, "x-acs-signature-nonce"), now=now, window=2 * settings.max_skew):
        raise AliyunError(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
