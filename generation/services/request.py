"""A request for a generation: its shape checked, the gate run (in a worker), then queued, blocked,
held for a moderator or waiting for the people in it to answer; and what moves it on afterwards."""

import logging
import random
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from generation.models import Generation
from generation.outbox import task_send_after_commit
from generation.services.release import _enqueue_release
from moderation.gate import MAX_CAMEOS, MediaInput, gate_open, gate_run_closed
from moderation.models import Decision
from moderation.reasons import ReasonCode, Verdict

Status = Generation.Status


logger = logging.getLogger(__name__)


Status = Generation.Status


REFERENCE_FOLDER = "references"


#: The smallest side a request may ask for: the watermark needs 256 × 256 pixels.
MIN_SIZE = 256


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


def _reference_clean(reference: MediaInput) -> MediaInput | str:
    """The reference re-encoded from its pixels (PNG: EXIF, GPS included, and every other metadata
    dropped; upright), or why it is not a still image Sigillo reads (JPEG, PNG or WebP)."""
    import io

    from PIL import Image

    from consent.faces.base import ImageRejected, load_image

    if len(reference.data) > settings.SIGILLO_UPLOAD_MAX_BYTES:
        return "The file is larger than the upload limit."
    try:
        image = load_image(reference.data)
    except ImageRejected as error:
        return error.message
    out = io.BytesIO()
    Image.frombytes(image.mode, image.size, image.tobytes()).save(out, format="PNG")  # pixels only
    return MediaInput(name=reference.name, data=out.getvalue())


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
    from consent.handles import mentions_expand, mentions_resolve_for, mentions_unavailable_message

    backend = backend or settings.SIGILLO_GENERATION_BACKEND
    errors = _request_shape(kind=kind, backend=backend, steps=steps, width=width, height=height, frames=frames)
    mentioned, unknown = mentions_resolve_for(prompt, asker=requester)
    if unknown:
        errors["prompt"] = [mentions_unavailable_message(unknown)]
    cameos = list(dict.fromkeys([*(str(cameo) for cameo in cameos), *(str(likeness.pk) for likeness in mentioned)]))
    if len(cameos) > MAX_CAMEOS:
        errors["cameos"] = ["At most %d people in one request." % MAX_CAMEOS]
    if reference is not None:
        reference = _reference_clean(reference)
        if isinstance(reference, str):
            errors["reference"] = [reference]
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
    task_send_after_commit(generation, "generation.gate")


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
    task_send_after_commit(generation, "generation.generate")


def generation_time_limit(backend: str) -> float:
    """Return the seconds a job of ``backend`` may run (never more than the task's own hard limit)."""
    limit = settings.SIGILLO_BACKEND_TIME_LIMITS.get(backend, settings.SIGILLO_GENERATION_TIME_LIMIT)
    return min(float(limit), float(settings.SIGILLO_GENERATION_TIME_LIMIT))


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


def references_expire(*, older_than: timedelta) -> int:
    """Delete the reference images of requests that finished longer ago than ``older_than``
    (``SIGILLO_REFERENCE_RETENTION_DAYS``): a finished request needs its reference no more. Return how many."""
    from consent import crypto

    finished = (Status.RELEASED, Status.BLOCKED, Status.WITHHELD, Status.FAILED)
    expired = Generation.objects.filter(status__in=finished, finished_at__lt=timezone.now() - older_than).exclude(
        reference_path=""
    )
    removed = 0
    for generation_id, path in expired.values_list("pk", "reference_path"):
        crypto.delete_file(path)
        removed += Generation.objects.filter(pk=generation_id, reference_path=path).update(reference_path="")
    return removed
