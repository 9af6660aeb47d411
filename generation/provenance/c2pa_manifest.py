"""C2PA manifests on released outputs: sign with the operator's certificate, read and validate.

``c2pa_sign`` embeds a manifest (claim generator "Sigillo", a ``c2pa.actions`` assertion with
``c2pa.created`` and the IPTC ``trainedAlgorithmicMedia`` digital source type, the generator and
model as the software agent, and an ``org.sigillo.consent`` assertion listing the consent
receipts) and signs it ES256 with the operator's EC P-256 key. No timestamp authority is needed.

``c2pa_read`` reports integrity and trust separately: ``valid`` means no integrity failure (the
claim signature verifies and the asset hashes match), while ``trusted`` also needs the signer to
chain to a trust anchor. A chain from the operator's own CA is "valid but untrusted"
(``signingCredential.untrusted``) unless that CA is passed as ``trust_anchors_pem``.
"""

from __future__ import annotations

import datetime
import io
import json
import logging
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

logger = logging.getLogger(__name__)

SUPPORTED_MIME_TYPES = ("image/png", "image/jpeg", "video/mp4")
CLAIM_GENERATOR = "Sigillo"
CONSENT_LABEL = "org.sigillo.consent"
ACTIONS_LABELS = ("c2pa.actions", "c2pa.actions.v2")
TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
#: Failure codes about the signer's standing rather than the asset's integrity.
TRUST_CODES = frozenset({"signingCredential.untrusted"})
#: The C2PA claim-signing extended key usage (``c2pa-kp-claimSigning``).
C2PA_CLAIM_SIGNING_OID = "1.3.6.1.4.1.62558.2.1"


def _sigillo_version() -> str:
    try:
        return metadata.version("sigillo")
    except metadata.PackageNotFoundError:
        return "0.1.0"


@dataclass(frozen=True)
class C2paReading:
    """What ``c2pa_read`` found: the manifest, its validation outcome and the Sigillo fields."""

    found: bool
    valid: bool
    validation_errors: list[str] = field(default_factory=list)
    generation_id: str | None = None
    receipts: list[dict[str, Any]] = field(default_factory=list)
    generator: str | None = None
    manifest_json: dict[str, Any] | None = None
    trusted: bool = False
    trust_issues: list[str] = field(default_factory=list)
    validation_state: str | None = None
    model: str | None = None
    digital_source_type: str | None = None


def _check_mime_type(mime_type: str) -> None:
    if mime_type not in SUPPORTED_MIME_TYPES:
        raise ValueError("Unsupported media type for C2PA: %s" % mime_type)


def build_manifest(
    *, title: str, generator: str, model: str, generation_id: str, receipts: list[dict[str, Any]]
) -> dict[str, Any]:
    """Return the manifest definition ``c2pa_sign`` hands to the C2PA builder."""
    return {
        "claim_generator_info": [{"name": CLAIM_GENERATOR, "version": _sigillo_version()}],
        "title": title,
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
                            "softwareAgent": {"name": generator, "version": model},
                            "parameters": {"generator": generator, "model": model},
                        }
                    ]
                },
            },
            {
                "label": CONSENT_LABEL,
                "data": {
                    "generation_id": generation_id,
                    "generator": generator,
                    "model": model,
                    "receipts": receipts,
                },
            },
        ],
    }


def c2pa_sign(
    *,
    data: bytes,
    mime_type: str,
    title: str,
    generator: str,
    model: str,
    generation_id: str,
    receipts: list[dict[str, Any]],
    cert_chain_pem: bytes,
    private_key_pem: bytes,
    tsa_url: str | None = None,
) -> bytes:
    """Embed and sign a C2PA manifest (ES256) in ``data``; return the signed asset bytes.

    ``cert_chain_pem`` is the signer's certificate followed by its issuing CA certificates;
    ``private_key_pem`` is the signer's EC P-256 key. ``tsa_url`` None signs without a timestamp.
    """
    import c2pa

    _check_mime_type(mime_type)
    manifest = build_manifest(
        title=title, generator=generator, model=model, generation_id=generation_id, receipts=receipts
    )
    info = c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, cert_chain_pem, private_key_pem, tsa_url)
    with c2pa.Signer.from_info(info) as signer, c2pa.Builder(manifest) as builder:
        dest = io.BytesIO()
        builder.sign(signer, mime_type, io.BytesIO(data), dest)
    logger.info("Signed a C2PA manifest for generation %s (%s)", generation_id, mime_type)
    return dest.getvalue()


def _failure_codes(store: dict[str, Any]) -> list[str]:
    statuses = store.get("validation_status") or []
    codes = [str(status.get("code", "")) for status in statuses]
    return list(dict.fromkeys(code for code in codes if code))


def _first_action(manifest: dict[str, Any]) -> dict[str, Any]:
    for assertion in manifest.get("assertions", []):
        if assertion.get("label") in ACTIONS_LABELS:
            actions = assertion.get("data", {}).get("actions", [])
            if actions:
                return dict(actions[0])
    return {}


def _assertion(manifest: dict[str, Any], label: str) -> dict[str, Any]:
    for assertion in manifest.get("assertions", []):
        if assertion.get("label") == label:
            return dict(assertion.get("data") or {})
    return {}


def c2pa_read(*, data: bytes, mime_type: str, trust_anchors_pem: bytes | None = None) -> C2paReading:
    """Read and validate the C2PA manifest in ``data``; ``found`` is False when there is none.

    ``valid`` is "no integrity failures": every failure code except the trust codes
    (``signingCredential.untrusted``), which go to ``trust_issues``. ``trusted`` is C2PA's
    "Trusted" state, reachable by passing the operator's CA as ``trust_anchors_pem``.
    """
    import c2pa

    _check_mime_type(mime_type)
    context = None
    if trust_anchors_pem is not None:
        context = c2pa.Context.from_dict({"trust": {"trust_anchors": trust_anchors_pem.decode("ascii")}})
    try:
        reader = c2pa.Reader.try_create(mime_type, io.BytesIO(data), None, context)
    except c2pa.C2paError as error:
        logger.warning("Unreadable C2PA data in a %s asset: %s", mime_type, error)
        return C2paReading(found=True, valid=False, validation_errors=["unreadable: %s" % error])
    if reader is None:
        return C2paReading(found=False, valid=False)
    with reader:
        store: dict[str, Any] = json.loads(reader.json())
    state = store.get("validation_state")
    codes = _failure_codes(store)
    trust_issues = [code for code in codes if code in TRUST_CODES]
    errors = [code for code in codes if code not in TRUST_CODES]
    manifest = store.get("manifests", {}).get(store.get("active_manifest") or "", {})
    action = _first_action(manifest)
    consent = _assertion(manifest, CONSENT_LABEL)
    agent = action.get("softwareAgent")
    agent_name = agent.get("name") if isinstance(agent, dict) else agent
    if not manifest:
        errors.append("no active manifest")
    return C2paReading(
        found=True,
        valid=not errors and state in ("Valid", "Trusted"),
        validation_errors=errors,
        generation_id=consent.get("generation_id"),
        receipts=list(consent.get("receipts") or []),
        generator=consent.get("generator") or agent_name,
        manifest_json=store,
        trusted=not errors and state == "Trusted",
        trust_issues=trust_issues,
        validation_state=state,
        model=consent.get("model"),
        digital_source_type=action.get("digitalSourceType"),
    )


def chain_root_pem(cert_chain_pem: bytes) -> bytes:
    """Return the last certificate of a PEM chain (the root CA, to pass as a trust anchor)."""
    marker = b"-----BEGIN CERTIFICATE-----"
    start = cert_chain_pem.rfind(marker)
    if start < 0:
        raise ValueError("No certificate in the PEM chain")
    return cert_chain_pem[start:]


def make_test_certificate_chain(common_name: str = "Sigillo Test Signer") -> tuple[bytes, bytes]:
    """Make a throwaway root CA and an ES256 claim-signing leaf; return (chain PEM, key PEM).

    The chain is the leaf then the CA. For tests and the demo only: the CA is self-made, so
    readers report the signer as untrusted unless ``chain_root_pem(chain)`` is a trust anchor.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "Sigillo Test Root CA"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Sigillo"),
        ]
    )
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Sigillo"),
        ]
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.EMAIL_PROTECTION, x509.ObjectIdentifier(C2PA_CLAIM_SIGNING_OID)]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
    chain_pem = leaf.public_bytes(serialization.Encoding.PEM) + ca_pem
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return chain_pem, key_pem
