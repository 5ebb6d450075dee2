"""Client secrets and scopes: plain rules, no HTTP.

Secrets are stored as scrypt hashes with a random salt per client and
compared in constant time; the secret itself is shown once, at registration.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable

from services.gateway.domain.errors import InvalidScope, InvalidTokenRequest

#: Every scope a client may hold (DESIGN.md §5), with what it allows.
SCOPES: dict[str, str] = {
    "referral:read": "Read children, agencies, referrals and plans your agency may see.",
    "referral:write": "Register children, record referrals, decisions and plans.",
    "assessment:read": "Read toolkit assessments and a child's trajectory.",
    "assessment:write": "Record and submit toolkit assessments.",
    "reporting:read": "Read the pseudonymised partnership dataset and dashboards.",
    "reporting:export": "Produce identifiable statutory exports (CIN census, Annex A).",
    "audit:read": "Read the audit trail of access to children's records.",
    "webhooks:manage": "Register and manage your agency's webhook endpoints (told of events about children it may read).",
    "admin": "Partnership administration: agencies, configuration.",
}

# scrypt cost: 16 MiB and tens of milliseconds per check (RFC 7914 interactive use).
SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_LEN = 2**14, 8, 1, 32
SALT_BYTES = 16
MIN_SECRET_CHARS = 32
MAX_SECRET_CHARS = 200
CLIENT_ID = re.compile(r"^[A-Za-z0-9._-]{3,100}$")
#: The partner system's own id of the person acting: printable ASCII, no spaces or control characters.
ACTING_USER = re.compile(r"^[\x21-\x7e]{1,64}$")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def generate_secret() -> str:
    """A new client secret: 256 random bits, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=SCRYPT_LEN)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_secret(secret: str, stored: str) -> bool:
    """True when ``secret`` matches the stored hash. Takes the same time either way."""
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(secret.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p),
                                dklen=len(_unb64(expected)))
    except ValueError:
        return False
    return hmac.compare_digest(digest, _unb64(expected))


@functools.cache
def decoy_hash() -> str:
    """Checked for unknown clients, so that an unknown id costs as long as a wrong secret."""
    return hash_secret(secrets.token_urlsafe(32))


def check_new_secret(secret: str) -> None:
    if not MIN_SECRET_CHARS <= len(secret) <= MAX_SECRET_CHARS:
        raise ValueError(f"client secrets must be {MIN_SECRET_CHARS}-{MAX_SECRET_CHARS} characters; use generate_secret()")


def check_client_id(client_id: str) -> None:
    if not CLIENT_ID.match(client_id):
        raise ValueError("client ids are 3-100 letters, digits and . _ -")


def check_acting_user(acting_user: str) -> None:
    """A staff id, not a name: 1-64 printable ASCII characters without spaces (so no NUL or
    control characters reach the audit, the logs or the token)."""
    if not ACTING_USER.match(acting_user):
        raise InvalidTokenRequest("acting_user must be 1-64 printable ASCII characters without spaces: "
                                  "your system's id of the person (a staff id, not a name).")


def known_scopes(scopes: Iterable[str]) -> list[str]:
    """The scopes, de-duplicated and sorted; ValueError on any that does not exist."""
    wanted = set(scopes)
    unknown = sorted(wanted - SCOPES.keys())
    if unknown:
        raise ValueError(f"unknown scope(s): {' '.join(unknown)}")
    return sorted(wanted)


def narrow_scopes(allowed: Iterable[str], requested: str | None) -> list[str]:
    """The scopes to grant: all the client's scopes, or the subset it asked for.

    Asking for a scope the client does not hold refuses the whole request
    (RFC 6749 §5.2 ``invalid_scope``) rather than quietly granting less.
    """
    allowed_set = set(allowed)
    if requested is None or not requested.strip():
        return sorted(allowed_set)
    wanted = set(requested.split())
    refused = sorted(wanted - allowed_set)
    if refused:
        shown = [s if s in SCOPES else "(unknown)" for s in refused]
        raise InvalidScope(f"This client may not ask for: {' '.join(sorted(set(shown)))}.")
    return sorted(wanted)
