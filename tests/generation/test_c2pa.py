"""C2PA manifests on released outputs: sign a real photo and a clip, read them back, catch tampering."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from generation.backends.animatic import AnimaticRequest, animatic_render
from generation.provenance.c2pa_manifest import (
    CONSENT_LABEL,
    TRAINED_ALGORITHMIC_MEDIA,
    C2paReading,
    c2pa_read,
    c2pa_sign,
    chain_root_pem,
    make_test_certificate_chain,
)
from tests.consent.faces import photo_image

GENERATION_ID = "5f0c2a9e-7b41-4d3a-9c6e-1e2f3a4b5c6d"
RECEIPTS = [
    {"receipt_id": "r-1", "subject": "s-1", "scope": "image", "signature": "abc"},
    {"receipt_id": "r-2", "subject": "s-2", "scope": "image", "signature": "def"},
]


@pytest.fixture(scope="module")
def chain() -> tuple[bytes, bytes]:
    return make_test_certificate_chain()


@pytest.fixture(scope="module")
def png() -> bytes:
    buffer = io.BytesIO()
    photo_image("obama/obama2.jpg").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def mp4() -> bytes:
    request = AnimaticRequest(prompt="x", kind="video", width=320, height=180, fps=8, seconds_per_photo=1.0)
    return animatic_render(request).data


def sign(data: bytes, mime_type: str, chain: tuple[bytes, bytes]) -> bytes:
    cert_chain_pem, private_key_pem = chain
    return c2pa_sign(
        data=data,
        mime_type=mime_type,
        title="generation %s" % GENERATION_ID,
        generator="animatic",
        model="animatic-v1",
        generation_id=GENERATION_ID,
        receipts=RECEIPTS,
        cert_chain_pem=cert_chain_pem,
        private_key_pem=private_key_pem,
    )


@pytest.fixture(scope="module")
def signed_png(png: bytes, chain: tuple[bytes, bytes]) -> bytes:
    return sign(png, "image/png", chain)


@pytest.fixture(scope="module")
def signed_mp4(mp4: bytes, chain: tuple[bytes, bytes]) -> bytes:
    return sign(mp4, "video/mp4", chain)


def assert_sigillo_manifest(reading: C2paReading) -> None:
    assert reading.found
    assert reading.generation_id == GENERATION_ID
    assert reading.receipts == RECEIPTS
    assert reading.generator == "animatic"
    assert reading.model == "animatic-v1"
    assert reading.digital_source_type == TRAINED_ALGORITHMIC_MEDIA
    assert reading.manifest_json is not None
    manifest = reading.manifest_json["manifests"][reading.manifest_json["active_manifest"]]
    assert manifest["claim_generator_info"][0]["name"] == "Sigillo"
    labels = [assertion["label"] for assertion in manifest["assertions"]]
    assert CONSENT_LABEL in labels
    assert any(label.startswith("c2pa.actions") for label in labels)
    assert manifest["signature_info"]["alg"].upper() == "ES256"


def test_signed_png_reads_back_valid_but_untrusted(png: bytes, signed_png: bytes) -> None:
    assert signed_png != png
    assert Image.open(io.BytesIO(signed_png)).size == Image.open(io.BytesIO(png)).size
    reading = c2pa_read(data=signed_png, mime_type="image/png")
    assert_sigillo_manifest(reading)
    assert reading.valid
    assert reading.validation_errors == []
    assert reading.validation_state == "Valid"
    assert not reading.trusted
    assert reading.trust_issues == ["signingCredential.untrusted"]


def test_signed_png_is_trusted_with_the_operator_ca(signed_png: bytes, chain: tuple[bytes, bytes]) -> None:
    reading = c2pa_read(data=signed_png, mime_type="image/png", trust_anchors_pem=chain_root_pem(chain[0]))
    assert_sigillo_manifest(reading)
    assert reading.valid
    assert reading.trusted
    assert reading.validation_state == "Trusted"
    assert reading.trust_issues == []


def test_tampered_png_is_not_valid(signed_png: bytes) -> None:
    tampered = bytearray(signed_png)
    idat = signed_png.rfind(b"IDAT")
    assert idat > 0
    tampered[idat + 40] ^= 0xFF
    reading = c2pa_read(data=bytes(tampered), mime_type="image/png")
    assert not reading.valid
    if reading.found:
        assert "assertion.dataHash.mismatch" in reading.validation_errors


def test_unsigned_photo_has_no_manifest(png: bytes) -> None:
    reading = c2pa_read(data=png, mime_type="image/png")
    assert not reading.found
    assert not reading.valid
    assert reading.manifest_json is None


def test_signed_jpeg_reads_back(chain: tuple[bytes, bytes]) -> None:
    buffer = io.BytesIO()
    photo_image("obama/obama2.jpg").save(buffer, "JPEG", quality=85)
    reading = c2pa_read(data=sign(buffer.getvalue(), "image/jpeg", chain), mime_type="image/jpeg")
    assert_sigillo_manifest(reading)
    assert reading.valid


def test_signed_mp4_reads_back_and_tampering_is_caught(mp4: bytes, signed_mp4: bytes) -> None:
    reading = c2pa_read(data=signed_mp4, mime_type="video/mp4")
    assert_sigillo_manifest(reading)
    assert reading.valid
    assert reading.trust_issues == ["signingCredential.untrusted"]
    assert not c2pa_read(data=mp4, mime_type="video/mp4").found

    tampered = bytearray(signed_mp4)
    mdat = signed_mp4.find(b"mdat")
    assert mdat > 0
    tampered[mdat + 16] ^= 0xFF
    reading = c2pa_read(data=bytes(tampered), mime_type="video/mp4")
    assert not reading.valid
    if reading.found:
        assert "assertion.bmffHash.mismatch" in reading.validation_errors


def test_unsupported_media_type_is_refused(png: bytes, chain: tuple[bytes, bytes]) -> None:
    with pytest.raises(ValueError, match="Unsupported"):
        c2pa_sign(
            data=png,
            mime_type="image/gif",
            title="t",
            generator="g",
            model="m",
            generation_id=GENERATION_ID,
            receipts=[],
            cert_chain_pem=chain[0],
            private_key_pem=chain[1],
        )
