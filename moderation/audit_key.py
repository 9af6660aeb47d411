"""The audit trail's key when none is configured (development and tests only).

Kept apart from ``moderation.audit`` so that settings can import it without loading models.
"""

import hashlib


def derive_audit_key(secret: str) -> str:
    """Derive an audit HMAC key from a secret; production settings require ``SIGILLO_AUDIT_KEY``."""
    return hashlib.sha256(("sigillo-audit:" + secret).encode()).hexdigest()
