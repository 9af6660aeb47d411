"""Rendering a queued request with its backend (the animatic or a diffusers pipeline), in a generation worker."""

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from PIL import Image

from generation.models import Generation
from generation.outbox import task_send_after_commit

logger = logging.getLogger(__name__)
Status = Generation.Status


OUTPUT_FOLDER = "outputs"


#: What the C2PA manifest names as the model of an animatic (no weights: Sigillo's own compositor).
ANIMATIC_MODEL = "sigillo-animatic (storyboard compositor, no model weights)"


@dataclass(frozen=True)
class RenderOutput:
    """What every backend hands back: the file, its content type, and the model its credentials name."""

    data: bytes
    content_type: str  # "image/png" or "video/mp4"
    model: str


def _cameo_photos(generation: Generation) -> list[Image.Image]:
    return [image for image, _ in _cameo_photos_with_focus(generation)]


def _cameo_photos_with_focus(generation: Generation) -> list[tuple[Image.Image, tuple[float, float] | None]]:
    """Return each consented cameo photo with the centre of the enrolled face on it (fractions)."""
    from consent import crypto
    from consent.faces.base import load_image
    from consent.models import LikenessPhoto

    photos = (
        LikenessPhoto.objects.filter(likeness_id__in=generation.cameos)
        .prefetch_related("faces")
        .order_by("likeness_id", "created_at")
    )
    result = []
    for photo in photos:
        image = load_image(crypto.read_encrypted_file(photo.file_path))
        boxes = [face.box for face in photo.faces.all()]
        result.append((image, _box_centre(boxes[0], image) if boxes else None))
    return result


def _box_centre(box: dict, image: Image.Image) -> tuple[float, float] | None:
    try:
        x = (box["x"] + box["width"] / 2) / image.width
        y = (box["y"] + box["height"] / 2) / image.height
    except (KeyError, TypeError, ZeroDivisionError):
        return None
    return (min(max(x, 0.0), 1.0), min(max(y, 0.0), 1.0))


def _reference_image(generation: Generation) -> Image.Image | None:
    from consent import crypto
    from consent.faces.base import load_image

    return load_image(crypto.read_encrypted_file(generation.reference_path)) if generation.reference_path else None


def _reference_focus(generation: Generation, image: Image.Image) -> tuple[float, float] | None:
    """The centre of the largest face the gate found on the reference, if any."""
    decision = generation.pre_decision
    faces = [face for item in (decision.media if decision else []) for face in item.get("faces") or []]
    boxes = sorted((face["box"] for face in faces if face.get("box")), key=lambda b: -b["width"] * b["height"])
    return _box_centre(boxes[0], image) if boxes else None


def _model_prompt(generation: Generation) -> str:
    return generation.model_prompt or generation.prompt


def _set_progress(generation_id: Any, step: int, total: int) -> None:
    Generation.objects.filter(pk=generation_id).update(progress_step=step, progress_total=total)


def generation_generate(*, generation_id: str) -> Generation | None:
    """Generate the output of a queued request, then hand it to the scan (idempotent)."""
    from consent import crypto

    with transaction.atomic():
        generation = Generation.objects.select_for_update().get(pk=generation_id)
        if generation.status not in (Status.QUEUED, Status.RUNNING):
            return None  # done already, or stopped: a redelivery does nothing
        generation.status, generation.attempts = Status.RUNNING, generation.attempts + 1
        generation.started_at = generation.started_at or timezone.now()
        if generation.attempts > settings.SIGILLO_GENERATION_MAX_ATTEMPTS:
            generation.status, generation.reason = Status.FAILED, "The job was interrupted too many times."
            generation.finished_at = timezone.now()
        generation.save()
        if generation.status == Status.FAILED:
            return generation
    last = {"step": -1}

    def progress(step: int, total: int) -> None:
        if step == total or step - last["step"] >= max(1, total // 20):
            last["step"] = step
            _set_progress(generation.pk, step, total)

    render = _diffusers_render if generation.backend == "diffusers" else _animatic_render
    output = render(generation, progress)
    path = crypto.store_encrypted_file(output.data, folder=OUTPUT_FOLDER)
    with transaction.atomic():
        generation = Generation.objects.select_for_update().get(pk=generation_id)
        if generation.status != Status.RUNNING:
            crypto.delete_file(path)
            return None
        generation.output_path, generation.output_content_type = path, output.content_type
        generation.model = output.model
        generation.status = Status.SCANNING
        generation.save()
        task_send_after_commit(generation, "generation.scan")
    return generation


def _animatic_render(generation: Generation, progress: Any) -> RenderOutput:
    """Compose the storyboard from the reference and the cameo photos, each framed on its face."""
    from generation.backends.animatic import AnimaticRequest, animatic_render

    reference = _reference_image(generation)
    photos = _cameo_photos_with_focus(generation)
    if reference is not None:
        photos.insert(0, (reference, _reference_focus(generation, reference)))
    size = {"width": generation.width, "height": generation.height}
    request = AnimaticRequest(
        prompt=_model_prompt(generation),
        kind=generation.kind,
        photos=[image for image, _ in photos],
        focus=[focus for _, focus in photos],
        seed=generation.seed,
        **{name: value for name, value in size.items() if value},  # else the animatic's default
    )
    output = animatic_render(request, progress=progress)
    return RenderOutput(data=output.data, content_type=output.content_type, model=ANIMATIC_MODEL)


def _diffusers_render(generation: Generation, progress: Any) -> RenderOutput:
    """Run the configured diffusers pipeline (loaded once per worker process)."""
    from generation.backends.diffusers_backend import DiffusersRequest, diffusers_render

    if not settings.SIGILLO_DIFFUSERS_MODEL:
        raise RuntimeError("SIGILLO_DIFFUSERS_MODEL is not set")
    request = DiffusersRequest(
        prompt=_model_prompt(generation),
        kind=generation.kind,
        seed=generation.seed,
        steps=generation.steps or settings.SIGILLO_DIFFUSERS_STEPS,
        width=generation.width or settings.SIGILLO_DIFFUSERS_SIZE,
        height=generation.height or settings.SIGILLO_DIFFUSERS_SIZE,
        frames=generation.frames or settings.SIGILLO_DIFFUSERS_FRAMES,
        cameo_photos=tuple(_cameo_photos(generation)),
        reference=_reference_image(generation),
    )
    data, content_type, meta = diffusers_render(
        request,
        model_path=settings.SIGILLO_DIFFUSERS_MODEL,
        progress=progress,
        allow_downloads=settings.SIGILLO_DIFFUSERS_ALLOW_DOWNLOADS,
        ip_adapter=settings.SIGILLO_DIFFUSERS_IP_ADAPTER or None,
        ip_adapter_scale=settings.SIGILLO_DIFFUSERS_IP_ADAPTER_SCALE,
        image_to_video_model=settings.SIGILLO_DIFFUSERS_I2V_MODEL or None,
    )
    logger.info(
        "Generated %s with %s (conditioning: %s)", generation.pk, meta.get("pipeline"), meta.get("conditioning")
    )
    model = "%s (%s; conditioning: %s)" % (
        Path(settings.SIGILLO_DIFFUSERS_MODEL).name or settings.SIGILLO_DIFFUSERS_MODEL,
        meta.get("pipeline"),
        meta.get("conditioning"),
    )
    return RenderOutput(data=data, content_type=content_type, model=model[:200])
