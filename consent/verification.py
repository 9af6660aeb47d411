"""The live selfie check as a service: a challenge for a likeness's owner, and the verdict on the
video they recorded for it (``consent.liveness`` does the analysis).

A challenge is issued to the person who may act for the likeness, recorded with its nonce, and
used once: the first submission that decodes spends it, whatever the outcome, so a recording
cannot be replayed. A file that is not a readable video is refused with nothing stored, and the
challenge stays usable. A passed check verifies the user (``User.verified_at``). Every step is
audited.
"""

from __future__ import annotations

import datetime
import io
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from consent.access import can_act_for
from consent.liveness import ChallengeInvalid, challenge_load, challenge_new, challenge_sign, liveness_analyze
from consent.models import Face, Likeness, LivenessCheck

logger = logging.getLogger(__name__)


@transaction.atomic
def liveness_challenge_start(*, actor: Any, likeness: Likeness) -> tuple[LivenessCheck, str]:
    """Issue a challenge for ``likeness`` to ``actor``; return the recorded check and its signed token."""
    from moderation.audit import audit_record

    if not can_act_for(actor, likeness):
        raise PermissionError("Only the person, or their verified estate, verifies a likeness.")
    challenge = challenge_new()
    check = LivenessCheck.objects.create(
        likeness=likeness,
        user=actor,
        nonce=challenge.nonce,
        steps=list(challenge.steps),
        code=challenge.code,
        expires_at=datetime.datetime.fromtimestamp(challenge.expires_at, tz=datetime.UTC),
    )
    audit_record(actor=actor, action="liveness.challenge", target=likeness, data={"check": str(check.pk)})
    return check, challenge_sign(challenge)


def _best_frames_store(frames: list[Any], indexes: list[Any]) -> list[str]:
    from consent import crypto

    stored = []
    for frame in frames:
        if frame.index in indexes:
            buffer = io.BytesIO()
            frame.image.save(buffer, "PNG")
            stored.append(crypto.store_encrypted_file(buffer.getvalue(), folder="liveness"))
    return stored


def liveness_submit(*, actor: Any, likeness: Likeness, token: str, data: bytes) -> LivenessCheck:
    """Spend the challenge ``token`` on the video ``data`` and have it judged (``liveness_judge``, in a
    scanning worker unless ``SIGILLO_GATE_EXECUTION`` is "inline"); return the check, decided, or
    ``analyzing`` if the worker has not answered within ``SIGILLO_GATE_TIMEOUT``.

    Raise ValidationError (``token`` or ``video``, with a code) for a forged, expired or spent
    challenge, or a file that is not a readable video; nothing is stored then.
    """
    from moderation.media import MediaUndecodable, sample_video_frames

    if not can_act_for(actor, likeness):
        raise PermissionError("Only the person, or their verified estate, verifies a likeness.")
    try:
        challenge = challenge_load(token)
    except ChallengeInvalid as error:
        raise ValidationError({"token": [ValidationError(str(error), code="challenge_invalid")]}) from error
    if not data:
        raise ValidationError({"video": [ValidationError("The file is empty.", code="empty_file")]})
    try:  # a readable video, or nothing is stored and the challenge stays usable (the worker decodes it again)
        sample_video_frames(data, every_seconds=3600.0, max_frames=1, shot_changes=False)
    except MediaUndecodable as error:
        raise ValidationError(
            {"video": [ValidationError("Not a video Sigillo can read: %s." % error.message, code="not_a_video")]}
        ) from error
    with transaction.atomic():
        check = (
            LivenessCheck.objects.select_for_update()
            .filter(nonce=challenge.nonce, likeness=likeness, user=actor)
            .first()
        )
        if check is None or check.status != LivenessCheck.Status.ISSUED:
            raise ValidationError(
                {
                    "token": [
                        ValidationError("This challenge was already used; ask for a new one.", code="challenge_spent")
                    ]
                }
            )
        check.submitted_at = timezone.now()
        check.status = LivenessCheck.Status.ANALYZING  # spent, whatever follows
        check.save(update_fields=["submitted_at", "status"])
    if settings.SIGILLO_GATE_EXECUTION == "inline":
        return liveness_judge(check=check, data=data)
    return _judge_in_worker(check, data)


def _judge_in_worker(check: LivenessCheck, data: bytes) -> LivenessCheck:
    """Have a scanning worker judge the video (web processes load no model); wait for it up to
    ``SIGILLO_GATE_TIMEOUT``, after which the check stays ``analyzing`` and the caller polls it."""
    from consent import crypto
    from consent.tasks import liveness_judge_task

    path = crypto.store_encrypted_file(data, folder="liveness-uploads")
    try:
        result = liveness_judge_task.apply_async(kwargs={"check_id": str(check.pk), "path": path}, queue="scanning")
        result.get(timeout=settings.SIGILLO_GATE_TIMEOUT, disable_sync_subtasks=False)
    except Exception as error:  # the worker answers later (or never: the check stays analyzing, verifying nobody)
        logger.warning("liveness check %s not judged yet: %s", check.pk, error)
    check.refresh_from_db()
    return check


def liveness_judge(*, check: LivenessCheck, data: bytes) -> LivenessCheck:
    """Judge the video of a spent (``analyzing``) check and record the verdict; a pass verifies."""
    from consent import crypto
    from consent.faces import get_engine
    from moderation.audit import audit_record
    from moderation.media import MediaUndecodable, sample_video_frames

    check = LivenessCheck.objects.select_related("likeness", "user").get(pk=check.pk)
    if check.status != LivenessCheck.Status.ANALYZING:
        return check  # judged already (a redelivered task)
    likeness, actor = check.likeness, check.user
    try:
        frames = sample_video_frames(data, every_seconds=0.125)
    except MediaUndecodable:
        frames = []
    engine = get_engine()
    reference = [
        crypto.decrypt_embedding(bytes(face.embedding))
        for face in Face.objects.filter(likeness=likeness, engine=engine.name, model=engine.model)
    ]
    if not frames:
        result_outcome, reasons, measurements = "failed", ["not_a_video"], {"engine": engine.thresholds()}
        best: list[Any] = []
    elif not reference:
        result_outcome, reasons, measurements = "failed", ["no_enrolled_face"], {"engine": engine.thresholds()}
        best = []
    else:
        try:
            result = liveness_analyze(frames=frames, engine=engine, reference=reference, steps=tuple(check.steps))
        except Exception as error:  # a check that cannot run verifies nobody (fail closed)
            logger.exception("liveness analysis failed")
            result_outcome, reasons = "failed", ["analysis_failed"]
            measurements, best = {"error": type(error).__name__}, []
        else:
            result_outcome, reasons, measurements = result.outcome, result.reasons, result.measurements
            best = measurements.get("identity", {}).get("best_frames", [])
    with transaction.atomic():
        check = LivenessCheck.objects.select_for_update().get(pk=check.pk)
        if check.status != LivenessCheck.Status.ANALYZING:
            return check  # judged meanwhile by another delivery of the task
        check.status = result_outcome
        check.reasons = reasons
        check.measurements = measurements
        check.frames = _best_frames_store(frames, best)
        check.save(update_fields=["status", "reasons", "measurements", "frames"])
        audit_record(
            actor=actor,
            action="liveness.submit",
            target=likeness,
            data={"check": str(check.pk), "outcome": check.status, "reasons": reasons},
        )
        if check.status == LivenessCheck.Status.REVIEW:
            from moderation.decisions import flag_open
            from moderation.models import Flag

            flag_open(
                actor=actor,
                kind=Flag.Kind.LIVENESS,
                likeness=likeness,
                reason="liveness_undecided",
                detail="%s's live selfie check could not be decided automatically (%s): compare the video's best "
                "frames with the photos." % (actor.username, ", ".join(reasons)),
                evidence={"check": str(check.pk), "reasons": reasons},
            )
        if check.status == LivenessCheck.Status.PASSED:
            _person_verified(
                actor=actor, check=check, how={"by": "liveness", "check": str(check.pk), "user": actor.username}
            )
    return check


def liveness_review_decide(*, moderator: Any, flag: Any, verified: bool, note: str) -> LivenessCheck:
    """A moderator decides a check the analysis could not: the person is verified (as a pass would,
    citing the moderator and the check) or not. Audited; the note is required."""
    from moderation.audit import audit_record
    from moderation.decisions import flag_close

    if not note.strip():
        raise ValidationError({"note": ["Say what you compared."]}, code="note_required")
    with transaction.atomic():
        check = (
            LivenessCheck.objects.select_for_update().select_related("likeness", "user").get(pk=flag.evidence["check"])
        )
        if check.status != LivenessCheck.Status.REVIEW:
            raise ValidationError("This check has already been decided.", code="not_open")
        check.status = LivenessCheck.Status.PASSED if verified else LivenessCheck.Status.FAILED
        check.measurements = {**check.measurements, "moderator": moderator.username, "note": note}
        check.save(update_fields=["status", "measurements"])
        flag_close(
            flag=flag,
            actor=moderator,
            decision="verified" if verified else "rejected",
            note=note,
            data={"check": str(check.pk)},
        )
        audit_record(
            actor=moderator,
            action="liveness.review",
            target=check.likeness,
            data={"check": str(check.pk), "verified": verified, "note": note},
        )
        if verified:
            _person_verified(
                actor=moderator,
                check=check,
                how={"by": "moderator", "moderator": moderator.username, "note": note, "check": str(check.pk)},
            )
    return check


def _person_verified(*, actor: Any, check: LivenessCheck, how: dict[str, Any]) -> None:
    """The person who recorded ``check`` is verified (by the check, or by ``actor``, a moderator):
    the user is, once, with the estates that waited for them, and so is the likeness if it is theirs."""
    from consent.services import estates_activate, likeness_mark_verified
    from moderation.audit import audit_record

    user, likeness = check.user, check.likeness
    if user.verified_at is None:
        user.verified_at = timezone.now()
        user.save(update_fields=["verified_at"])
        audit_record(actor=actor, action="user.verified", target=user, data={"by": how["by"], "check": str(check.pk)})
        estates_activate(representative=user)
    if likeness.owner_id == user.pk:
        likeness_mark_verified(actor=actor, likeness=likeness, how=how)
