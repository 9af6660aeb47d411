"""Encryption of biometric data at rest: photos, documents and face embeddings.

Keys come from ``SIGILLO_BIOMETRIC_KEYS`` (comma-separated Fernet keys, newest first; older
keys still decrypt, so keys can be rotated). Development and test settings derive a key
from the secret key when none is given; production settings require one.
"""

import base64
import hashlib
import uuid
from functools import cache
from pathlib import Path

import numpy as np
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise RuntimeError("No biometric encryption key: set SIGILLO_BIOMETRIC_KEYS")
    return MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.SIGILLO_BIOMETRIC_KEYS))


def derive_key(secret: str) -> str:
    """Derive a Fernet key from a secret (development and tests only)."""
    digest = hashlib.sha256(("sigillo-biometric:" + secret).encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def encrypt_bytes(data: bytes) -> bytes:
    return fernet().encrypt(data)


def decrypt_bytes(token: bytes) -> bytes:
    try:
        return fernet().decrypt(bytes(token))
    except InvalidToken as error:
        raise ValueError("biometric data could not be decrypted with the configured keys") from error


def encrypt_embedding(vector: np.ndarray) -> bytes:
    return encrypt_bytes(np.asarray(vector, dtype="<f4").tobytes())


def decrypt_embedding(token: bytes) -> np.ndarray:
    return np.frombuffer(decrypt_bytes(token), dtype="<f4").copy()


def store_encrypted_file(data: bytes, *, folder: str) -> str:
    """Write ``data`` encrypted under MEDIA_ROOT/folder; return the relative path."""
    relative = Path(folder) / ("%s.bin" % uuid.uuid4().hex)
    path = Path(settings.MEDIA_ROOT) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encrypt_bytes(data))
    return str(relative)


def read_encrypted_file(relative: str) -> bytes:
    return decrypt_bytes((Path(settings.MEDIA_ROOT) / relative).read_bytes())


def delete_file(relative: str) -> None:
    if relative:
        (Path(settings.MEDIA_ROOT) / relative).unlink(missing_ok=True)


#: Folders of uploads waiting for a worker (checks, registrations); what a task never picked up is swept.
TRANSIENT_FOLDERS = ("gate", "enrollment", "verify")


def transient_uploads_sweep(*, older_than: float) -> int:
    """Delete uploads left in the transient folders for longer than ``older_than`` seconds (their task
    never ran: the broker lost it, or the request gave up); return how many."""
    import time

    cutoff = time.time() - older_than
    removed = 0
    for folder in TRANSIENT_FOLDERS:
        root = Path(settings.MEDIA_ROOT) / folder
        for path in root.rglob("*") if root.is_dir() else ():
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
    return removed
