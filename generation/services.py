"""The generation pipeline: gate → generate → scan the output → re-check consent → release.

Each step is a service called by a thin Celery task with the generation's id. Steps lock the
row and check its status first, so a redelivered task never runs a step twice or releases twice.
"""

import io
import logging
import random
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from PIL import Image

from accounts.models import User
from generation.models import Generation, ReleasedFace
from moderation.audit import audit_record
from moderation.decisions import decision_open, decision_record
from moderation.gate import MediaInput, gate_open, gate_run_closed
from moderation.models import Decision
from moderation.reasons import ReasonCode, Verdict

logger = logging.getLogger(__name__)
Status = Generation.Status

OUTPUT_FOLDER = "outputs"
#: What the C2PA manifest names as the model of an animatic (no weights: Sigillo's own compositor).
ANIMATIC_MODEL = "sigillo-animatic (storyboard compositor, no model weights)"
REFERENCE_FOLDER = "references"


#: The smallest side a request may ask for: the watermark needs 256 × 256 pixels.
MIN_SIZE = 256
MAX_CAMEOS = 10
BACKENDS = ("animatic", "diffusers")


def _request_shape(
    *, kind: str, backend: str, steps: int | None, width: int | None, height: int | None, frames: int | None
) -> dict[str, list[str]]:
    """Return the errors (by field) of a shape outside the configured limits."""
    errors: dict[str, list[str]] = {}
    if backend not in BACKENDS:
        errors["backend"] = ["Choose one of: %s." % ", ".join(BACKENDS)]
    elif backend == "diffusers" and not settings.SIGILLO_DIFFUSERS_MODEL:
        errors["backend"] = ["This server has no diffusers model configured; use the animatic backend."]
    if steps is not None and not 1 <= steps <= settings.SIGILLO_GENERATION_MAX_STEPS:
        errors["steps"] = ["Between 1 and %d steps." % settings.SIGILLO_GENERATION_MAX_STEPS]
    for name, value in (("width", width), ("height", height)):
        if value is not None and not (MIN_SIZE <= value <= settings.SIGILLO_GENERATION_MAX_SIZE and value % 8 == 0):
            errors[name] = [
                "A multiple of 8 between %d and %d pixels." % (MIN_SIZE, settings.SIGILLO_GENERATION_MAX_SIZE)
            ]
    if frames is not None:
        if kind != Generation.Kind.VIDEO:
            errors["frames"] = ["Only a video has frames."]
        elif not 1 <= frames <= settings.SIGILLO_GENERATION_MAX_FRAMES:
            errors["frames"] = ["Between 1 and %d frames." % settings.SIGILLO_GENERATION_MAX_FRAMES]
    return errors


def _reference_problem(reference: MediaInput) -> str | None:
    """Say why the reference is not a still image Sigillo can read (JPEG, PNG, WebP…), or return None."""
    from consent.faces.base import ImageRejected, load_image

    if len(reference.data) > settings.SIGILLO_UPLOAD_MAX_BYTES:
        return "The file is larger than the upload limit."
    try:
        load_image(reference.data)
    except ImageRejected as error:
        return error.message
    return None


def generation_request(
    *,
    requester: User,
    prompt: str,
    kind: str,
    use: str,
    cameos: list[str],
    seed: int | None = None,
    reference: MediaInput | None = None,
    backend: str | None = None,
    steps: int | None = None,
    width: int | None = None,
    height: int | None = None,
    frames: int | None = None,
) -> Generation:
    """Store the request and send it through the gate; it is queued only when the gate allows (a
    blocked one never reaches a worker).

    ``@handle`` mentions in the prompt are cameos like those listed in ``cameos``; the model sees
    the person's name in their place. The reference image goes through the gate's media stage
    and, unless the request is blocked, is kept (encrypted) for the backend. Bad input raises
    ValidationError, by field, before anything is stored. The gate runs where
    ``SIGILLO_GATE_EXECUTION`` says: in a scanning worker, the request answers at once with status
    ``checking`` (``generation_gate`` moves it on); inline, with the gate's outcome.
    """
    from consent import crypto
    from consent.handles import mentions_expand, mentions_resolve

    backend = backend or settings.SIGILLO_GENERATION_BACKEND
    errors = _request_shape(kind=kind, backend=backend, steps=steps, width=width, height=height, frames=frames)
    mentioned, unknown = mentions_resolve(prompt)
    if unknown:
        errors["prompt"] = ["Nobody is registered as %s." % ", ".join("@" + handle for handle in unknown)]
    cameos = list(dict.fromkeys([*(str(cameo) for cameo in cameos), *(str(likeness.pk) for likeness in mentioned)]))
    if len(cameos) > MAX_CAMEOS:
        errors["cameos"] = ["At most %d people in one request." % MAX_CAMEOS]
    if reference is not None and (problem := _reference_problem(reference)):
        errors["reference"] = [problem]
    if errors:
        raise ValidationError(errors)  # every problem at once, before anything is stored
    reference_path = crypto.store_encrypted_file(reference.data, folder=REFERENCE_FOLDER) if reference else ""
    try:
        with transaction.atomic():
            decision = gate_open(
                requester=requester, prompt=prompt, use=use, cameos=cameos, kind=Decision.Kind.GENERATION
            )
            generation = Generation.objects.create(
                requester=requester,
                prompt=prompt,
                model_prompt=mentions_expand(
                    prompt, {likeness.handle: likeness.display_name for likeness in mentioned}
                ),
                kind=kind,
                use=use,
                cameos=cameos,
                backend=backend,
                seed=seed if seed is not None else random.randrange(2**31),  # noqa: S311 - a seed, not a secret
                steps=steps,
                width=width,
                height=height,
                frames=frames,
                reference_path=reference_path,
                status=Status.CHECKING,
                pre_decision=decision,
            )
    except BaseException:
        if reference_path:
            crypto.delete_file(reference_path)
        raise
    _gate_start(generation)
    generation.refresh_from_db()
    return generation


def _gate_start(generation: Generation) -> None:
    """Run the gate for a request in status ``checking``: in this process, or in a scanning worker."""
    if settings.SIGILLO_GATE_EXECUTION == "inline":
        generation_gate(generation_id=str(generation.pk))
        return
    from generation.tasks import generation_gate_task

    transaction.on_commit(lambda: generation_gate_task.apply_async(args=[str(generation.pk)], queue="scanning"))


def generation_gate(*, generation_id: str) -> Generation | None:
    """Run the gate for a request waiting in ``checking`` and move it on by the verdict (idempotent).

    Allow queues it; block stops it (and its reference is deleted); approval required opens a
    consent request to each person it needs (the one side effect of the gate's outcome, here and
    not in a check) and waits; anything else waits for a moderator.
    """
    from consent import crypto
    from consent.models import Likeness
    from consent.services import consent_request_open

    generation = Generation.objects.select_related("pre_decision").get(pk=generation_id)
    if generation.status != Status.CHECKING:
        return None
    decision = gate_run_closed(decision=generation.pre_decision, media=_stored_reference(generation))
    verdict = Verdict(decision.effective_verdict)
    waiting = [reason for reason in decision.reasons if reason["code"] == ReasonCode.APPROVAL_REQUIRED]
    dropped = ""
    with transaction.atomic():
        locked = Generation.objects.select_for_update().get(pk=generation_id)
        if locked.status != Status.CHECKING:
            return None
        if verdict == Verdict.ALLOW:
            locked.status = Status.QUEUED
            _enqueue_generate(locked)
        elif verdict == Verdict.BLOCK:
            locked.status, locked.finished_at = Status.BLOCKED, timezone.now()
            dropped, locked.reference_path = locked.reference_path, ""
        elif waiting:
            locked.status = Status.AWAITING_CONSENT
            likenesses = Likeness.objects.in_bulk([reason["likeness_id"] for reason in waiting])
            locked.consent_requests.add(
                *(
                    consent_request_open(
                        likeness=likeness, requester=locked.requester, use=locked.use, prompt=locked.prompt
                    )
                    for likeness in likenesses.values()
                )
            )
        else:
            locked.status = Status.IN_REVIEW
        locked.save()
    if locked.status == Status.BLOCKED and dropped:
        crypto.delete_file(dropped)  # a blocked request keeps nothing the creator uploaded
    return locked


def _enqueue_generate(generation: Generation) -> None:
    """Send the job to the generation queue after commit, with its backend's time limit."""
    from generation.tasks import generation_generate_task

    limit = generation_time_limit(generation.backend)
    transaction.on_commit(
        lambda: generation_generate_task.apply_async(
            args=[str(generation.pk)], queue="generation", soft_time_limit=limit, time_limit=limit + 30
        )
    )


def generation_time_limit(backend: str) -> float:
    """Return the seconds a job of ``backend`` may run (never more than the task's own hard limit)."""
    limit = settings.SIGILLO_BACKEND_TIME_LIMITS.get(backend, settings.SIGILLO_GENERATION_TIME_LIMIT)
    return min(float(limit), float(settings.SIGILLO_GENERATION_TIME_LIMIT))


def _enqueue_release(generation: Generation) -> None:
    """Release in a scanning worker (the web process that took the moderator's decision loads no models)."""
    from generation.tasks import generation_release_task

    transaction.on_commit(lambda: generation_release_task.apply_async(args=[str(generation.pk)], queue="scanning"))


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
    data, content_type, model = render(generation, progress)
    path = crypto.store_encrypted_file(data, folder=OUTPUT_FOLDER)
    with transaction.atomic():
        generation = Generation.objects.select_for_update().get(pk=generation_id)
        if generation.status != Status.RUNNING:
            crypto.delete_file(path)
            return None
        generation.output_path, generation.output_content_type, generation.model = path, content_type, model
        generation.status = Status.SCANNING
        generation.save()
        from generation.tasks import generation_scan_task

        transaction.on_commit(lambda: generation_scan_task.apply_async(args=[str(generation.pk)], queue="scanning"))
    return generation


def _animatic_render(generation: Generation, progress: Any) -> tuple[bytes, str, str]:
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
    return output.data, output.content_type, ANIMATIC_MODEL


def _diffusers_render(generation: Generation, progress: Any) -> tuple[bytes, str, str]:
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
    return data, content_type, model[:200]


def _output_frames(generation: Generation) -> list[Any]:
    from consent import crypto
    from moderation.media import Frame, sample_video_frames

    data = crypto.read_encrypted_file(generation.output_path)
    if generation.kind == Generation.Kind.VIDEO:
        return sample_video_frames(data)
    return [Frame(image=Image.open(io.BytesIO(data)).convert("RGB"), index=None, time=None)]


def generation_scan(*, generation_id: str) -> Generation | None:
    """Scan the output for registered faces and sexual content; release, review or block it."""
    from generation.scan import output_scan

    generation = Generation.objects.get(pk=generation_id)
    if generation.status != Status.SCANNING:
        return None
    allowed, adult = _allowed_in_output(generation)
    frames: list[Any] = []
    try:
        frames = _output_frames(generation)
        scan = output_scan(frames=frames, cameo_likeness_ids=allowed, adult_allowed_ids=adult)
        reasons, verdict = scan.reasons, Verdict(scan.verdict)
        faces, embeddings, engine = scan.faces, scan.embeddings, scan.engine
    except Exception as error:  # a scan that cannot run never releases
        logger.exception("output scan of %s failed", generation_id)
        reasons = [
            {
                "code": ReasonCode.STAGE_FAILED.value,
                "verdict": Verdict.REVIEW.value,
                "stage": "output",
                "detail": "The output scan could not run (%s)." % type(error).__name__,
            }
        ]
        verdict, faces, embeddings, engine = Verdict.REVIEW, [], [], {}
    with transaction.atomic():
        generation = Generation.objects.select_for_update().get(pk=generation_id)
        if generation.status != Status.SCANNING:
            return None
        decision = decision_open(
            kind=Decision.Kind.OUTPUT,
            requester=generation.requester,
            prompt=generation.prompt,
            use=generation.use,
            cameos=generation.cameos,
        )
        # Recorded (and audited) like every gate decision; a review keeps the frames it points at.
        decision = decision_record(
            decision=decision,
            verdict=verdict,
            reasons=reasons,
            media=[{"faces": faces}],
            evidence=_output_evidence(frames, reasons),
        )
        generation.output_decision = decision
        if verdict == Verdict.BLOCK:
            generation.status, generation.finished_at = Status.BLOCKED, timezone.now()
        elif verdict == Verdict.REVIEW:
            generation.status = Status.IN_REVIEW
        generation.save()
    if verdict == Verdict.ALLOW:
        return generation_release(generation_id=generation_id, seen=SeenFaces(faces, embeddings, engine))
    return generation


def _output_evidence(frames: list[Any], reasons: list[dict]) -> dict[tuple[None, int], Any]:
    """Choose the output frames a moderator must see, if it comes to a review: those the reasons
    point at, else a few; keyed as ``moderation.decisions.evidence_store`` keeps them."""
    wanted = {reason.get("frame") for reason in reasons if reason.get("frame") is not None}
    numbered = [(frame.index if frame.index is not None else position, frame) for position, frame in enumerate(frames)]
    chosen = [(number, frame) for number, frame in numbered if number in wanted]
    if not chosen and numbered:  # nothing pointed at (the scan could not run): the first, middle and last
        chosen = [numbered[i] for i in sorted({0, len(numbered) // 2, len(numbered) - 1})]
    return {(None, number): frame.image for number, frame in chosen[:12]}


def _allowed_in_output(generation: Generation) -> tuple[set[str], set[str]]:
    """Return who may appear in the output (the cameos, and the requester's own likenesses) and,
    of them, whose consent allows adult use."""
    from consent.models import ConsentVersion, Likeness, LikenessStatus, Use

    # A suspended likeness grants nothing, not even to its owner.
    own = Likeness.objects.filter(
        owner=generation.requester, status=LikenessStatus.ACTIVE, protected=False, suspended_at=None
    ).values_list("pk", flat=True)
    allowed = {str(likeness_id) for likeness_id in [*generation.cameos, *own]}
    adult = set()
    for likeness_id in allowed:
        version = ConsentVersion.objects.filter(likeness_id=likeness_id).order_by("-number").first()
        if version and Use.ADULT.value in version.uses:
            adult.add(likeness_id)
    return allowed, adult


@dataclass(frozen=True)
class SeenFaces:
    """The faces the output scan saw: one dict (box, frame, hits) and one embedding each."""

    faces: list[dict]
    embeddings: list[Any]
    engine: dict[str, Any]


def _seen_faces(generation: Generation) -> SeenFaces:
    """Read the faces of an output again (after a review, the scan's embeddings are gone)."""
    from generation.scan import output_scan

    allowed, adult = _allowed_in_output(generation)
    scan = output_scan(frames=_output_frames(generation), cameo_likeness_ids=allowed, adult_allowed_ids=adult)
    return SeenFaces(scan.faces, scan.embeddings, scan.engine)


def generation_release(*, generation_id: str, seen: SeenFaces | None = None) -> Generation | None:
    """Re-check consent now; watermark, sign and release, or withhold (idempotent).

    ``seen`` is what the output scan found; without it (a release after a review) the faces are
    read from the output again, so that every release keeps the embeddings of its faces.
    """
    from consent import crypto
    from consent.evaluation import consent_evaluate, receipt_draft
    from consent.models import ConsentReceipt, Likeness
    from generation.provenance.c2pa_manifest import c2pa_sign
    from generation.provenance.signing import signing_material

    generation = Generation.objects.get(pk=generation_id)
    if generation.status not in (Status.SCANNING, Status.IN_REVIEW):
        return None
    denied = []
    receipts = []
    for likeness in Likeness.objects.filter(pk__in=_consented_likeness_ids(generation)):
        result = consent_evaluate(
            likeness=likeness, requester=generation.requester, use=generation.use, prompt=generation.prompt
        )
        if result.allowed:
            receipts.append(
                receipt_draft(evaluation=result, likeness=likeness, requester=generation.requester, use=generation.use)
            )
        else:
            denied.append("%s: %s" % (likeness.display_name, "; ".join(reason.detail for reason in result.reasons)))
    if denied:
        with transaction.atomic():
            locked = Generation.objects.select_for_update().get(pk=generation_id)
            if locked.status in (Status.SCANNING, Status.IN_REVIEW):
                locked.status, locked.reason, locked.finished_at = Status.WITHHELD, " / ".join(denied), timezone.now()
                locked.save()
                audit_record(
                    actor=locked.requester, action="generation.withhold", target=locked, data={"denied": denied}
                )
        return locked
    seen = seen or _seen_faces(generation)
    data = crypto.read_encrypted_file(generation.output_path)
    marked, mark = _watermark(generation, data)
    chain, key = signing_material()
    signed = c2pa_sign(
        data=marked,
        mime_type=generation.output_content_type,
        title="Sigillo generation %s" % generation.pk,
        generator="sigillo/%s" % generation.backend,
        model=generation.model or generation.backend,
        generation_id=str(generation.pk),
        receipts=[receipt.as_dict() for receipt in receipts],
        cert_chain_pem=chain,
        private_key_pem=key,
    )
    path = crypto.store_encrypted_file(signed, folder=OUTPUT_FOLDER)
    with transaction.atomic():
        locked = Generation.objects.select_for_update().get(pk=generation_id)
        if locked.status not in (Status.SCANNING, Status.IN_REVIEW):
            crypto.delete_file(path)
            return None  # released (or stopped) by another delivery
        old = locked.output_path
        locked.output_path, locked.watermark, locked.phash = path, mark, _phash(signed, locked)
        locked.status, locked.finished_at = Status.RELEASED, timezone.now()
        locked.save()
        locked.receipts.add(*ConsentReceipt.objects.bulk_create(receipts))
        _record_faces(locked, seen)
        audit_record(
            actor=locked.requester,
            action="generation.release",
            target=locked,
            data={
                "output_decision": str(locked.output_decision_id) if locked.output_decision_id else None,
                "watermark": locked.watermark,
                "phash": locked.phash,
                "faces": len(seen.faces),
            },
        )
        transaction.on_commit(lambda: crypto.delete_file(old))
    return locked


def _consented_likeness_ids(generation: Generation) -> set[str]:
    """Whose consent the output uses: its cameos, and each person the gate allowed by their consent
    (found by name, description or face in the reference)."""
    decision = generation.pre_decision
    found = [
        reason["likeness_id"]
        for reason in (decision.reasons if decision else [])
        if reason["code"] == ReasonCode.CONSENT_ALLOWS and reason.get("likeness_id")
    ]
    return {str(likeness_id) for likeness_id in [*generation.cameos, *found]}


def generation_output_download(*, actor: User, generation: Generation) -> bytes:
    """Return the released output of ``generation`` to ``actor``, and record who took it (audited)."""
    from consent import crypto

    if generation.status != Status.RELEASED:
        raise ValidationError("This generation has no released output.", code="not_released")
    data = crypto.read_encrypted_file(generation.output_path)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="generation.download",
            target=generation,
            data={"watermark": generation.watermark, "bytes": len(data)},
        )
    return data


def _watermark(generation: Generation, data: bytes) -> tuple[bytes, str]:
    """Mark the image, or every frame of the video, with the generation id."""
    from generation.provenance.watermark import watermark_embed, watermark_payload

    payload = watermark_payload(generation.pk).hex()
    if generation.kind == Generation.Kind.IMAGE:
        image = Image.open(io.BytesIO(data)).convert("RGB")
        out = io.BytesIO()
        watermark_embed(image, generation.pk).save(out, format="PNG")
        return out.getvalue(), payload
    return _watermark_video(data, generation), payload


def _watermark_video(data: bytes, generation: Generation) -> bytes:
    import av

    from generation.provenance.watermark import watermark_embed
    from moderation.media import encode_mp4

    with av.open(io.BytesIO(data)) as source:
        stream = source.streams.video[0]
        return encode_mp4(
            (watermark_embed(frame.to_image().convert("RGB"), generation.pk) for frame in source.decode(stream)),
            fps=stream.average_rate or 12,
            width=stream.width,
            height=stream.height,
            crf=18,
        )


def _phash(data: bytes, generation: Generation) -> str:
    import imagehash

    if generation.kind == Generation.Kind.IMAGE:
        return str(imagehash.phash(Image.open(io.BytesIO(data)).convert("RGB")))
    from moderation.media import sample_video_frames

    frames = sample_video_frames(data, every_seconds=1.0, max_frames=1, shot_changes=False)
    return str(imagehash.phash(frames[0].image)) if frames else ""


def _record_faces(generation: Generation, seen: SeenFaces) -> None:
    """Keep each released face: box, frame, matched likeness if any, and its embedding (encrypted)."""
    from consent import crypto

    for face, embedding in zip(seen.faces, seen.embeddings, strict=True):
        # The nearest likeness the face matches, a disputed registration excepted: an unproven claim
        # on a face is linked to no output (SPEC section 3: its registrant learns nothing).
        hits = [hit for hit in face.get("hits") or [] if hit.get("status") != "disputed"]
        best = hits[0] if hits and hits[0].get("outcome") == "match" else None
        ReleasedFace.objects.create(
            generation=generation,
            likeness_id=best["likeness_id"] if best else None,
            box=face.get("box") or {},
            frame=face.get("frame"),
            engine=seen.engine.get("engine", ""),
            model=seen.engine.get("model", ""),
            embedding=crypto.encrypt_embedding(embedding),
        )


def generation_fail(*, generation_id: str, reason: str) -> None:
    """Mark a job that raised as failed, with the reason (never left running)."""
    with transaction.atomic():
        generation = Generation.objects.select_for_update().get(pk=generation_id)
        if generation.status in (Status.CHECKING, Status.RUNNING, Status.SCANNING, Status.QUEUED, Status.IN_REVIEW):
            generation.status, generation.reason, generation.finished_at = Status.FAILED, reason[:2000], timezone.now()
            generation.save()


def generation_after_review(decision_id: Any, verdict: Verdict) -> None:
    """A moderator decided a review this generation was waiting for: go on, or stop."""
    for generation in Generation.objects.filter(pre_decision_id=decision_id, status=Status.IN_REVIEW):
        with transaction.atomic():
            locked = Generation.objects.select_for_update().get(pk=generation.pk)
            if locked.status != Status.IN_REVIEW:
                continue
            if verdict == Verdict.ALLOW:
                locked.status = Status.QUEUED
                _enqueue_generate(locked)
            else:
                locked.status, locked.reason, locked.finished_at = (
                    Status.BLOCKED,
                    "A moderator rejected the request.",
                    timezone.now(),
                )
            locked.save()
    for generation in Generation.objects.filter(output_decision_id=decision_id, status=Status.IN_REVIEW):
        if verdict == Verdict.ALLOW:
            _enqueue_release(generation)
        else:
            Generation.objects.filter(pk=generation.pk, status=Status.IN_REVIEW).update(
                status=Status.BLOCKED, reason="A moderator rejected the output.", finished_at=timezone.now()
            )


def generation_after_consent_answer(request_id: Any) -> None:
    """The rights holder answered a request a generation was waiting for: stop, or check it again
    (in a scanning worker: the web process that took the answer loads no models)."""
    from consent.models import ConsentRequest

    request = ConsentRequest.objects.get(pk=request_id)
    for generation in Generation.objects.filter(status=Status.AWAITING_CONSENT, consent_requests=request):
        if request.status == ConsentRequest.Status.DENIED:
            Generation.objects.filter(pk=generation.pk, status=Status.AWAITING_CONSENT).update(
                status=Status.BLOCKED, reason="The rights holder said no.", finished_at=timezone.now()
            )
            continue
        with transaction.atomic():
            locked = Generation.objects.select_for_update().get(pk=generation.pk)
            if locked.status != Status.AWAITING_CONSENT:
                continue
            try:
                locked.pre_decision = gate_open(
                    requester=locked.requester,
                    prompt=locked.prompt,
                    use=locked.use,
                    cameos=locked.cameos,
                    kind=Decision.Kind.GENERATION,
                )
            except ValidationError:  # a person it names is no longer registered
                locked.status, locked.reason, locked.finished_at = (
                    Status.BLOCKED,
                    "A person this request names is no longer registered.",
                    timezone.now(),
                )
                locked.save()
                continue
            locked.status = Status.CHECKING
            locked.save()
        _gate_start(locked)


def _stored_reference(generation: Generation) -> list[MediaInput]:
    """The reference image kept with a request, for a second pass through the gate."""
    from consent import crypto

    if not generation.reference_path:
        return []
    return [MediaInput(name="reference", data=crypto.read_encrypted_file(generation.reference_path))]


def generation_expire_waiting() -> int:
    """Stop requests that waited for consent longer than SIGILLO_CONSENT_WAIT_HOURS, and fail those
    whose check no worker finished within SIGILLO_GATE_ASYNC_TIMEOUT; return how many."""
    now = timezone.now()
    limit = now - timedelta(hours=settings.SIGILLO_CONSENT_WAIT_HOURS)
    expired = Generation.objects.filter(status=Status.AWAITING_CONSENT, created_at__lt=limit).update(
        status=Status.BLOCKED, reason="The rights holder did not answer in time.", finished_at=now
    )
    stale = now - timedelta(seconds=settings.SIGILLO_GATE_ASYNC_TIMEOUT)
    return expired + Generation.objects.filter(status=Status.CHECKING, pre_decision__created_at__lt=stale).update(
        status=Status.FAILED, reason="The check did not finish in time; nothing was generated.", finished_at=now
    )
