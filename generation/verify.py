"""Provenance verification: find the Sigillo generation behind an uploaded file, and its consent.

Three ways in, most trusted first: the C2PA manifest (its generation id), the invisible watermark
(the first 8 bytes of the id), and the perceptual hash of the image or of the video's first frame
(for copies whose manifest and watermark were stripped). The phash lookup is a linear scan of the
released generations' stored hashes; fine at this size, a BK-tree or a bit index when it grows.
"""

import io
import logging
import time
import uuid
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from PIL import Image

from generation.models import Generation
from moderation.media import MediaUndecodable

logger = logging.getLogger(__name__)

#: Largest Hamming distance (out of 64 bits) at which two perceptual hashes are the same picture.
PHASH_MAX_DISTANCE = 8
#: Frames of a video read for the watermark; any one carrying it is enough.
VIDEO_WATERMARK_FRAMES = 5
NOT_FOUND_MESSAGE = "No Sigillo provenance found."
IMAGE_MIME_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg"}


@dataclass(frozen=True)
class VerifyResult:
    """What an uploaded file says about its origin; ids, kind, times and receipts only (no prompt)."""

    found: bool
    methods: list[str]
    media_type: str
    c2pa: dict[str, Any]
    watermark: dict[str, Any]
    phash_distance: int | None = None
    generation: dict[str, Any] | None = None
    receipts: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "found": self.found,
            "methods": list(self.methods),
            "media_type": self.media_type,
            "generation": self.generation,
            "receipts": [dict(receipt) for receipt in self.receipts],
            "c2pa": dict(self.c2pa),
            "watermark": dict(self.watermark),
            "phash_distance": self.phash_distance,
            "message": self.message,
        }


def _decode(data: bytes) -> tuple[str, list[Image.Image]]:
    """Return the MIME type and the images to read (the picture, or sampled video frames)."""
    max_pixels = settings.SIGILLO_MAX_IMAGE_PIXELS
    image_format = ""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=tuple(IMAGE_MIME_TYPES)) as probe:
                image_format = probe.format or ""
                if max_pixels and probe.width * probe.height > max_pixels:
                    raise MediaUndecodable("the image is too large")
                image = probe.convert("RGB")
    except (MediaUndecodable, SoftTimeLimitExceeded):
        raise
    except Exception:  # not a PNG or JPEG Pillow can read: try it as a video
        image_format = ""
    if image_format in IMAGE_MIME_TYPES:
        return IMAGE_MIME_TYPES[image_format], [image]
    from moderation.media import sample_video_frames

    frames = sample_video_frames(data, every_seconds=1.0, max_frames=VIDEO_WATERMARK_FRAMES, shot_changes=False)
    return "video/mp4", [frame.image for frame in frames]


def _watermark(images: list[Image.Image], deadline: float | None = None) -> str | None:
    from generation.provenance.watermark import watermark_read

    for image in images:
        _in_time(deadline)
        try:
            reading = watermark_read(image)
        except ValueError:  # too small to carry the mark
            continue
        if reading.found:
            return reading.payload_hex
    return None


def _by_phash(image: Image.Image) -> tuple[Generation | None, int | None]:
    import imagehash

    probe = imagehash.phash(image)
    best: tuple[int, str] | None = None
    released = Generation.objects.filter(status=Generation.Status.RELEASED).exclude(phash="")
    for pk, stored in released.values_list("pk", "phash").iterator():
        distance = probe - imagehash.hex_to_hash(stored)
        if distance <= PHASH_MAX_DISTANCE and (best is None or distance < best[0]):
            best = (distance, pk)
    if best is None:
        return None, None
    return Generation.objects.get(pk=best[1]), best[0]


def _released(generation_id: str | None) -> Generation | None:
    try:
        pk = uuid.UUID(str(generation_id))
    except ValueError:
        return None
    return Generation.objects.filter(pk=pk, status=Generation.Status.RELEASED).first()


def _by_watermark(payload_hex: str) -> Generation | None:
    # The payload is the id's first 8 bytes: the UUIDs from <payload>0000… to <payload>ffff….
    low = uuid.UUID(payload_hex + "0" * 16)
    high = uuid.UUID(payload_hex + "f" * 16)
    released = Generation.objects.filter(status=Generation.Status.RELEASED, pk__gte=low, pk__lte=high)
    return released.order_by("-created_at").first()


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _receipts(generation: Generation) -> list[dict[str, Any]]:
    """Each receipt, and whether the likeness's consent has since been withdrawn for that use."""
    from consent.models import LikenessStatus
    from consent.selectors import consent_current

    rows = []
    for receipt in generation.receipts.select_related("consent_version", "likeness"):
        newest = consent_current(receipt.likeness)
        revoked_since = (
            newest is None
            or newest.revoked
            or receipt.likeness.status in (LikenessStatus.REVOKED, LikenessStatus.ERASED)
            or (newest.number > receipt.consent_version.number and receipt.use not in newest.uses)
        )
        rows.append(
            {
                "likeness": str(receipt.likeness_id),
                "consent_version": receipt.consent_version.number,
                "use": receipt.use,
                "issued_at": _iso(receipt.issued_at),
                "revoked_since": revoked_since,
            }
        )
    return rows


class OutOfTime(Exception):
    """The verification passed its deadline (``SIGILLO_VERIFY_TIMEOUT`` in a worker)."""


def _in_time(deadline: float | None) -> None:
    # Celery's soft time limit is an exception raised wherever the worker happens to be, and a
    # library that catches every exception (C2PA's stream callbacks) can swallow it: each stage
    # checks the deadline as well.
    if deadline is not None and time.monotonic() > deadline:
        raise OutOfTime()


def provenance_verify(*, name: str, data: bytes, deadline: float | None = None) -> VerifyResult:
    """Read the manifest, the watermark and the perceptual hash of ``data``; find its generation.

    Raise ``MediaUndecodable`` for anything that is neither a PNG, a JPEG nor a video, and
    ``OutOfTime`` once ``time.monotonic()`` passes ``deadline``.
    """
    from generation.provenance.c2pa_manifest import c2pa_read

    media_type, images = _decode(data)
    _in_time(deadline)
    reading = c2pa_read(data=data, mime_type=media_type)
    _in_time(deadline)
    payload = _watermark(images, deadline)
    _in_time(deadline)
    methods: list[str] = []
    generation = _released(reading.generation_id) if reading.found and reading.valid else None
    if generation is not None:
        methods.append("c2pa")
    by_mark = _by_watermark(payload) if payload else None
    if by_mark is not None and (generation is None or by_mark.pk == generation.pk):
        generation = generation or by_mark
        methods.append("watermark")
    by_hash, distance = _by_phash(images[0])
    if by_hash is not None and (generation is None or by_hash.pk == generation.pk):
        generation = generation or by_hash
        methods.append("phash")
    else:
        distance = None
    c2pa = {
        "found": reading.found,
        "valid": reading.valid,
        "trusted": reading.trusted,
        "errors": list(reading.validation_errors),
    }
    watermark = {"found": payload is not None, "payload": payload}
    if generation is None:
        return VerifyResult(
            found=False, methods=[], media_type=media_type, c2pa=c2pa, watermark=watermark, message=NOT_FOUND_MESSAGE
        )
    return VerifyResult(
        found=True,
        methods=methods,
        media_type=media_type,
        c2pa=c2pa,
        watermark=watermark,
        phash_distance=distance,
        generation={
            "id": str(generation.pk),
            "kind": generation.kind,
            "backend": generation.backend,
            "created_at": _iso(generation.created_at),
            "released_at": _iso(generation.finished_at),
        },
        receipts=_receipts(generation),
        message="Made with Sigillo (found by %s)." % ", ".join(methods),
    )


class VerifyUnavailable(Exception):
    """No verifying worker answered within ``SIGILLO_VERIFY_TIMEOUT`` (the file was too costly, or
    no worker runs): the caller answers 503 and nothing was concluded about the file."""


def verify_run(*, name: str, data: bytes) -> dict[str, Any]:
    """``provenance_verify`` as plain data (what a worker answers): the result, or why not."""
    deadline = time.monotonic() + settings.SIGILLO_VERIFY_TIMEOUT
    try:
        return {"result": provenance_verify(name=name, data=data, deadline=deadline).as_dict()}
    except MediaUndecodable as error:
        return {"undecodable": error.message}
    except (SoftTimeLimitExceeded, OutOfTime):
        return {"timeout": True}


def provenance_verify_job(*, name: str, data: bytes) -> VerifyResult:
    """``provenance_verify`` where decoding is bounded: in a scanning worker whose task has soft and
    hard time limits of ``SIGILLO_VERIFY_TIMEOUT`` (or here, with ``SIGILLO_GATE_EXECUTION=inline``).

    The anonymous verify endpoint never decodes in the web process: a file built to be costly holds
    one worker process for at most the time limit. Raise ``MediaUndecodable`` or ``VerifyUnavailable``.
    """
    if settings.SIGILLO_GATE_EXECUTION == "inline":
        answer = verify_run(name=name, data=data)
    else:
        answer = _in_worker(name, data)
    if "undecodable" in answer:
        raise MediaUndecodable(answer["undecodable"])
    if "result" not in answer:
        raise VerifyUnavailable("the file could not be checked within %g s" % settings.SIGILLO_VERIFY_TIMEOUT)
    return VerifyResult(**answer["result"])


def _in_worker(name: str, data: bytes) -> dict[str, Any]:
    from consent import crypto
    from generation.tasks import provenance_verify_task

    timeout = settings.SIGILLO_VERIFY_TIMEOUT
    path = crypto.store_encrypted_file(data, folder="verify")
    try:
        # A task still queued when the request gives up never runs (``expires``); the task deletes the file.
        result = provenance_verify_task.apply_async(
            kwargs={"name": name, "path": path}, queue="scanning", expires=timeout
        )
        return result.get(timeout=timeout + 5, disable_sync_subtasks=False)
    except Exception as error:
        logger.warning("verify did not finish: %s", type(error).__name__)
        return {"timeout": True}
