"""Time-based one-time passwords (RFC 6238) with the standard library: HMAC-SHA1, 30-second steps,
6 digits — what every authenticator app reads from an ``otpauth://`` URI.

A code is accepted for the step it belongs to and one step either side (clocks drift, people type
slowly); the caller refuses a step at or before the last one the account used, so a code (or an
older one) is never accepted twice.
"""

import base64
import hmac
import secrets
import struct
import time
from urllib.parse import quote, urlencode

STEP_SECONDS = 30
DIGITS = 6
#: Steps accepted either side of the current one.
WINDOW = 1


def random_secret() -> str:
    """Return a new secret: 160 random bits (RFC 4226's recommended length), base32 without padding."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def _key(secret: str) -> bytes:
    cleaned = secret.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def hotp(key: bytes, counter: int, digits: int = DIGITS) -> str:
    """Return the HOTP value (RFC 4226) of ``key`` at ``counter``."""
    digest = hmac.new(key, struct.pack(">Q", counter), "sha1").digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def step_at(when: float | None = None) -> int:
    """Return the time step that ``when`` (seconds since the epoch; now by default) falls in."""
    return int((time.time() if when is None else when) // STEP_SECONDS)


def code_at(secret: str, step: int) -> str:
    """Return the code of ``secret`` for time step ``step``."""
    return hotp(_key(secret), step)


def matching_step(secret: str, code: str, *, after: int, when: float | None = None) -> int | None:
    """Return the step within the window whose code is ``code`` and which comes after step ``after``
    (the last one used), or None."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    now = step_at(when)
    key = _key(secret)
    found = None
    for step in range(now - WINDOW, now + WINDOW + 1):
        # Compare every candidate (no early exit): the time taken says nothing about which matched.
        if hmac.compare_digest(hotp(key, step), code) and step > after:
            found = step
    return found


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    """Return the ``otpauth://`` URI an authenticator app reads (as a QR code or pasted)."""
    label = quote("%s:%s" % (issuer, account), safe=":@")
    query = urlencode(
        {"secret": secret, "issuer": issuer, "algorithm": "SHA1", "digits": DIGITS, "period": STEP_SECONDS},
        quote_via=quote,
    )
    return "otpauth://totp/%s?%s" % (label, query)
