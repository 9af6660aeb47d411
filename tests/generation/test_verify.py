"""Provenance verification of real files: the released output, stripped and resized copies, strangers."""

import io
import time

import pytest
from PIL import Image

from consent import crypto
from consent import services as consent_services
from generation import services
from generation.models import Generation
from generation.verify import NOT_FOUND_MESSAGE
from tests.consent.faces import photo_bytes
from tests.moderation.conftest import registry  # noqa: F401 - the fixture

URL = "/api/v1/provenance/verify/"


@pytest.fixture
def released(registry):  # noqa: F811
    generation = services.generation_request(
        requester=registry.creator, prompt="a portrait", kind="image", use="personal", cameos=[str(registry.kit.pk)]
    )
    services.generation_generate(generation_id=str(generation.pk))
    services.generation_scan(generation_id=str(generation.pk))
    generation.refresh_from_db()
    assert generation.status == Generation.Status.RELEASED, generation.reason
    return generation


def upload(api_client, data: bytes, name: str = "upload.png"):
    return api_client.post(URL, {"file": _named(data, name)}, format="multipart")


def _named(data: bytes, name: str) -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def reencode(data: bytes, *, scale: float = 1.0) -> bytes:
    image = Image.open(io.BytesIO(data)).convert("RGB")
    if scale != 1.0:
        image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


@pytest.mark.django_db
def test_the_released_file_is_found_by_its_manifest_and_watermark_and_leaks_nothing(api_client, released, registry):  # noqa: F811
    response = upload(api_client, crypto.read_encrypted_file(released.output_path))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["found"] is True
    assert body["methods"][:2] == ["c2pa", "watermark"]
    assert body["generation"]["id"] == str(released.pk) and body["generation"]["kind"] == "image"
    assert body["c2pa"]["found"] and body["c2pa"]["valid"]
    assert body["watermark"] == {"found": True, "payload": released.watermark}
    # The receipt issued at release, once (the gate before generating issues none).
    assert {(r["likeness"], r["use"], r["revoked_since"]) for r in body["receipts"]} == {
        (str(registry.kit.pk), "personal", False)
    }
    text = response.content.decode()
    assert "a portrait" not in text and "prompt" not in text and "requester" not in text
    assert registry.creator.username not in text


@pytest.mark.django_db
def test_a_copy_without_metadata_is_found_by_its_watermark(api_client, released):
    stripped = reencode(crypto.read_encrypted_file(released.output_path))

    body = upload(api_client, stripped, "copy.jpg").json()

    assert body["found"] is True and body["generation"]["id"] == str(released.pk)
    assert body["c2pa"]["found"] is False
    assert "c2pa" not in body["methods"] and "watermark" in body["methods"]
    assert body["methods"] == ["watermark", "phash"] and body["phash_distance"] <= 8


@pytest.mark.django_db
def test_a_resized_copy_is_found_by_its_perceptual_hash(api_client, released):
    resized = reencode(crypto.read_encrypted_file(released.output_path), scale=0.5)

    body = upload(api_client, resized, "small.jpg").json()

    assert body["found"] is True and body["generation"]["id"] == str(released.pk)
    assert body["methods"] == ["phash"]
    assert body["watermark"]["found"] is False and body["c2pa"]["found"] is False


@pytest.mark.django_db
def test_an_unrelated_photo_has_no_provenance(api_client, released):
    body = upload(api_client, photo_bytes("biden/biden.jpg"), "biden.jpg").json()

    assert body["found"] is False and body["methods"] == [] and body["generation"] is None
    assert body["message"] == NOT_FOUND_MESSAGE


@pytest.mark.django_db
def test_consent_revoked_since_release_is_shown(api_client, released, registry):  # noqa: F811
    consent_services.consent_revoke(actor=registry.kit_owner, likeness=registry.kit)

    body = upload(api_client, crypto.read_encrypted_file(released.output_path)).json()

    assert body["found"] is True
    assert body["receipts"] and all(r["revoked_since"] for r in body["receipts"])


@pytest.mark.django_db
def test_junk_is_refused_with_a_clear_error(api_client):
    response = upload(api_client, b"this is not an image, nor a video" * 10, "junk.bin")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "undecodable"


@pytest.mark.django_db
def test_the_public_page_verifies_an_upload(client, released):
    page = client.get("/verify/")
    assert page.status_code == 200 and b'enctype="multipart/form-data"' in page.content

    response = client.post("/verify/", {"file": _named(photo_bytes("biden/biden.jpg"), "biden.jpg")})
    assert response.status_code == 200
    assert NOT_FOUND_MESSAGE in response.content.decode()

    response = client.post("/verify/", {"file": _named(crypto.read_encrypted_file(released.output_path), "out.png")})
    assert "Made with Sigillo" in response.content.decode() and str(released.pk) in response.content.decode()
    assert "a portrait" not in response.content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_a_file_built_to_be_costly_holds_a_worker_only_until_the_time_limit(
    api_client, settings, start_worker, tmp_path
):
    """A 120 KB PNG of 36M flat pixels costs seconds of watermark reading: the web process only waits
    for a worker whose task is limited to SIGILLO_VERIFY_TIMEOUT, answers 503, and the worker lives on."""
    worker = start_worker(SIGILLO_VERIFY_TIMEOUT="2")
    settings.SIGILLO_GATE_EXECUTION = "worker"
    settings.SIGILLO_VERIFY_TIMEOUT = 2
    costly = io.BytesIO()
    Image.new("RGB", (6000, 6000), (120, 130, 140)).save(costly, format="PNG", optimize=True)
    assert len(costly.getvalue()) < 200_000

    response = upload(api_client, costly.getvalue(), "costly.png")

    assert response.status_code == 503, response.content
    assert response.json()["error"]["code"] == "unavailable"
    assert worker.process.poll() is None
    from config.celery import app

    assert app.control.ping(timeout=10, limit=1), "the worker stopped answering"
    # The limit ended the decoding: the task answered "timeout" (its deadline or Celery's soft limit),
    # or Celery's hard limit ended it. The worker writes its log line once the task is over.
    ended = ("'timeout': true", "hard time limit")
    for _ in range(60):
        if any(sign in worker.output().lower() for sign in ended):
            break
        time.sleep(0.5)
    assert any(sign in worker.output().lower() for sign in ended), worker.output()
    assert "'found': false" not in worker.output().lower()  # it did not finish reading the file


@pytest.mark.django_db
def test_verification_stops_at_its_deadline_even_where_a_library_would_swallow_the_soft_limit(settings):
    """Celery's soft limit is an exception, and C2PA's stream callbacks catch every exception: each
    stage also checks SIGILLO_VERIFY_TIMEOUT's deadline, so a swallowed limit still ends the work."""
    from generation.verify import verify_run

    settings.SIGILLO_VERIFY_TIMEOUT = 0
    assert verify_run(name="biden.jpg", data=photo_bytes("biden/biden.jpg")) == {"timeout": True}
    settings.SIGILLO_VERIFY_TIMEOUT = 30
    assert "result" in verify_run(name="biden.jpg", data=photo_bytes("biden/biden.jpg"))
