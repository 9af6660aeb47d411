"""The operator's C2PA signing certificate: from files in production, a development chain otherwise."""

from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@cache
def _dev_material(folder: str) -> tuple[bytes, bytes]:
    from generation.provenance.c2pa_manifest import make_test_certificate_chain

    path = Path(folder)
    chain_file, key_file = path / "dev-chain.pem", path / "dev-key.pem"
    if not chain_file.is_file() or not key_file.is_file():
        path.mkdir(parents=True, exist_ok=True)
        chain, key = make_test_certificate_chain("Sigillo development signer (not for publication)")
        chain_file.write_bytes(chain)
        key_file.write_bytes(key)
        key_file.chmod(0o600)
    return chain_file.read_bytes(), key_file.read_bytes()


def signing_material() -> tuple[bytes, bytes]:
    """Return (certificate chain PEM, private key PEM) for signing content credentials."""
    cert, key = settings.SIGILLO_C2PA_CERT_FILE, settings.SIGILLO_C2PA_KEY_FILE
    if cert and key:
        return Path(cert).read_bytes(), Path(key).read_bytes()
    if not settings.SIGILLO_C2PA_DEV_CERTIFICATE:
        raise ImproperlyConfigured("Set SIGILLO_C2PA_CERT_FILE and SIGILLO_C2PA_KEY_FILE to sign content credentials.")
    return _dev_material(str(Path(settings.VAR_DIR) / "c2pa"))
