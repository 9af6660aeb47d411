"""After rendering: the output scan, the consent re-check, watermark and content credentials, release
or withhold; and the released file served to its creator."""

import io
import logging
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from PIL import Image

from accounts.models import User
from generation.models import Generation, ReleasedFace
from generation.outbox import task_send_after_commit
from generation.services.render import OUTPUT_FOLDER
from moderation.audit import audit_record
from moderation.decisions import decision_open, decision_record
from moderation.models import Decision
from moderation.reasons import ReasonCode, Verdict

logger = logging.getLogger(__name__)
Status = Generation.Status


def _enqueue_release(generation: Generation) -> None:
    """Release in a scanning worker (the web process that took the moderator's decision loads no models)."""
    task_send_after_commit(generation, "generation.release")


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
    from consent.models import Likeness, LikenessStatus, Use
    from consent.selectors import consent_current

    # A suspended likeness grants nothing, not even to its owner.
    own = Likeness.objects.filter(
        owner=generation.requester, status=LikenessStatus.ACTIVE, protected=False, suspended_at=None
    ).values_list("pk", flat=True)
    allowed = {str(likeness_id) for likeness_id in [*generation.cameos, *own]}
    adult = set()
    for likeness in Likeness.objects.filter(pk__in=allowed):
        version = consent_current(likeness)
        if version and Use.ADULT.value in version.uses:
            adult.add(str(likeness.pk))
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
