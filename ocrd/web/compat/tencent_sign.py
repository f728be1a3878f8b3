"""Tencent Cloud's TC3-HMAC-SHA256 request signature, checked against the configured SecretId/SecretKey.

The client signs a canonical form of the request: method, path, query, the headers it names in
``SignedHeaders``, and the SHA-256 of the exact body bytes. The signing key is derived from the
SecretKey through the date and service of the credential scope, so a signature proves the
sender holds the key for that day and that service, and that nothing signed was changed on the
way. The timestamp is signed as well and must be close to this server's clock: a captured
request cannot be replayed later than ``max_skew`` seconds.

Nothing here logs: keys and signatures never leave this module except as a yes or a no.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from ocrd.web.compat.problems import AUTH_EXPIRED, AUTH_MISSING, AUTH_SIGNATURE, AUTH_UNKNOWN_KEY, CompatProblem

ALGORITHM = "TC3-HMAC-SHA256"
SERVICE = "ocr"
TERMINATOR = "tc3_request"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"  # the SDK's unsignedPayload option: the body is not part of the signature
# Tencent requires at least these among the signed headers; the SDK signs exactly these.
REQUIRED_HEADERS = ("content-type", "host")


@dataclass(frozen=True)
class Authorization:
    """The parts of an ``Authorization: TC3-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`` header."""

    secret_id: str
    date: str  # yyyy-mm-dd (UTC), of the credential scope
    service: str
    signed_headers: tuple[str, ...]
    signature: str  # lowercase hex

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.service}/{TERMINATOR}"


def parse_authorization(value: str | None) -> Authorization:
    if not value or not value.strip():
        raise CompatProblem(
            AUTH_MISSING, f"the request has no Authorization header: sign it with {ALGORITHM} (the SDK's default)"
        )
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise CompatProblem(
            AUTH_MISSING, f"the Authorization header must use {ALGORITHM} (HmacSHA1/HmacSHA256 v1 are not answered)"
        )
    parts: dict[str, str] = {}
    for item in rest.split(","):
        key, sep, val = item.strip().partition("=")
        if sep:
            parts[key.strip()] = val.strip()
    credential = parts.get("Credential", "").split("/")
    signature = parts.get("Signature", "")
    signed = tuple(name.strip().lower() for name in parts.get("SignedHeaders", "").split(";") if name.strip())
    if len(credential) != 4 or credential[3] != TERMINATOR or not all(credential) or not signature or not signed:
        raise CompatProblem(
            AUTH_MISSING,
            "the Authorization header is malformed: expected "
            f"'{ALGORITHM} Credential=SecretId/yyyy-mm-dd/{SERVICE}/{TERMINATOR}, SignedHeaders=content-type;host, "
            "Signature=...'",
        )
    return Authorization(credential[0], credential[1], credential[2], signed, signature.lower())


def check_key(auth: Authorization, secret_id: str) -> None:
    if not hmac.compare_digest(auth.secret_id.encode(), secret_id.encode()):
        raise CompatProblem(AUTH_UNKNOWN_KEY, "the SecretId is not known to this server")


def check_timestamp(raw: str | None, *, now: float, max_skew: float) -> int:
    """The signed X-TC-Timestamp, refused when too far from this server's clock."""
    if raw is None or not raw.strip().isdigit():
        raise CompatProblem(AUTH_MISSING, "the X-TC-Timestamp header (Unix seconds) is missing or not a number")
    timestamp = int(raw.strip())
    if abs(now - timestamp) > max_skew:
        raise CompatProblem(
            AUTH_EXPIRED,
            f"the signature has expired: X-TC-Timestamp differs from this server's clock by more than "
            f"{max_skew:g} seconds; check the client's clock",
        )
    return timestamp


def canonical_request(
    auth: Authorization,
    *,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    lower_values: bool = False,
) -> str:
    for name in REQUIRED_HEADERS:
        if name not in auth.signed_headers:
            raise CompatProblem(AUTH_SIGNATURE, f"SignedHeaders must include {' and '.join(REQUIRED_HEADERS)}")
    lines = []
    for name in auth.signed_headers:
        value = headers.get(name)
        if value is None:
            raise CompatProblem(AUTH_SIGNATURE, f"the signed header {name} is not in the request")
        value = value.strip()
        lines.append(f"{name}:{value.lower() if lower_values else value}\n")
    if headers.get("X-TC-Content-SHA256", "").strip() == UNSIGNED_PAYLOAD:
        payload_hash = hashlib.sha256(UNSIGNED_PAYLOAD.encode()).hexdigest()
    else:
        payload_hash = hashlib.sha256(body).hexdigest()
    return "\n".join((method, path, query, "".join(lines), ";".join(auth.signed_headers), payload_hash))


def signature_for(secret_key: str, auth: Authorization, timestamp: int, canonical: str) -> str:
    string_to_sign = "\n".join(
        (ALGORITHM, str(timestamp), auth.scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest())
    )
    key = ("TC3" + secret_key).encode("utf-8")
    for part in (auth.date, auth.service, TERMINATOR):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def verify(
    auth: Authorization,
    *,
    secret_key: str,
    timestamp: int,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
) -> None:
    """Raises AUTH_SIGNATURE unless the request was signed with ``secret_key`` as it arrived."""
    if auth.service != SERVICE:
        raise CompatProblem(AUTH_SIGNATURE, f"the credential scope names service {auth.service!r}; ocrd answers ocr")
    if auth.date != datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d"):
        raise CompatProblem(AUTH_SIGNATURE, "the credential scope's date is not the UTC date of X-TC-Timestamp")
    # The SDK signs header values as sent; Tencent's documentation says to lowercase them. Both are accepted.
    for lower_values in (False, True):
        canonical = canonical_request(
            auth, method=method, path=path, query=query, headers=headers, body=body, lower_values=lower_values
        )
        if hmac.compare_digest(signature_for(secret_key, auth, timestamp, canonical), auth.signature):
            return
    raise CompatProblem(
        AUTH_SIGNATURE,
        "the signature does not match: check the SecretKey, and that a proxy passes the Host header and body unchanged",
    )
