"""Baidu-style access tokens that ocrd can check without remembering them.

Baidu's client asks ``/oauth/2.0/token`` for an access token with its API key and secret key,
then sends only the token with every OCR request. ocrd keeps no table of issued tokens: a token
carries its own expiry and an HMAC over it, keyed by a key derived from the configured keys.
So a token stays valid across a daemon restart, and changing ``secret_key`` (or ``api_key``)
in the configuration revokes every token at once.

The shape mimics Baidu's (``24.<32 hex>.<expires_in>.<timestamp>.<id>``) because some clients
log or sanity-check it; nothing but this module reads its parts.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

ACCESS = "24"  # Baidu's access tokens start with "24.", its refresh tokens with "25."
REFRESH = "25"
REFRESH_TTL = 10 * 365 * 86400  # Baidu's refresh tokens live ten years; ocrd never accepts them back
_KEY_LABEL = b"ocrd/compat/baidu/access-token/v1\x00"
_MAC_HEX = 32  # 128 bits of the HMAC: forging one is out of reach, and the token stays short

VALID = "valid"
FORGED = "forged"  # not a token of this server, or signed with other keys
EXPIRED = "expired"


@dataclass(frozen=True)
class Issued:
    access_token: str
    refresh_token: str
    expires_in: int


def client_matches(api_key: str, secret_key: str, client_id: str, client_secret: str) -> tuple[bool, bool]:
    """(client id right, secret right), each compared in constant time so timing tells nothing."""
    id_ok = hmac.compare_digest(client_id.encode(), api_key.encode())
    secret_ok = hmac.compare_digest(client_secret.encode(), secret_key.encode())
    return id_ok, secret_ok


def issue(api_key: str, secret_key: str, ttl: float, *, now: float | None = None) -> Issued:
    """A fresh access token valid for ``ttl`` seconds from ``now`` (a refresh token beside it)."""
    issued_at = int(time.time() if now is None else now)
    expires_in = max(1, int(ttl))
    key = _token_key(api_key, secret_key)
    return Issued(
        access_token=_make(key, ACCESS, expires_in, issued_at),
        refresh_token=_make(key, REFRESH, REFRESH_TTL, issued_at),
        expires_in=expires_in,
    )


def check(api_key: str, secret_key: str, token: str, *, now: float | None = None) -> str:
    """VALID, FORGED or EXPIRED. The MAC is checked first: a forged token never learns it is "expired"."""
    parts = token.split(".")
    if len(parts) != 5 or parts[0] != ACCESS or not (parts[2].isdigit() and parts[3].isdigit()):
        return FORGED
    if len(parts[2]) > 12 or len(parts[3]) > 12:
        return FORGED
    expected = _mac(_token_key(api_key, secret_key), ACCESS, parts[2], parts[3], parts[4])
    if not hmac.compare_digest(parts[1].encode(), expected.encode()):
        return FORGED
    expiry = int(parts[2]) + int(parts[3])
    return VALID if (time.time() if now is None else now) < expiry else EXPIRED


def session_values() -> tuple[str, str]:
    """Baidu also returns a session key and secret; its SDKs do not use them, so they are random."""
    return secrets.token_urlsafe(48), secrets.token_hex(16)


def _token_key(api_key: str, secret_key: str) -> bytes:
    # Derived, not the secret itself: a token's MAC can never be turned into the configured secret.
    return hmac.new(secret_key.encode(), _KEY_LABEL + api_key.encode(), hashlib.sha256).digest()


def _make(key: bytes, kind: str, expires_in: int, issued_at: int) -> str:
    nonce = f"{secrets.randbelow(10**6):06d}-ocrd"
    return f"{kind}.{_mac(key, kind, str(expires_in), str(issued_at), nonce)}.{expires_in}.{issued_at}.{nonce}"


def _mac(key: bytes, kind: str, expires_in: str, issued_at: str, nonce: str) -> str:
    message = f"{kind}.{expires_in}.{issued_at}.{nonce}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:_MAC_HEX]
