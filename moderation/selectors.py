"""Reads of moderation."""

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from consent.models import ConsentVersion, EstateClaim, Likeness
from consent.summary import consent_summary
from moderation.models import Decision, Flag


def flag_queue(*, status: str | None = Flag.Status.OPEN, kind: str | None = None) -> QuerySet[Flag]:
    """Flags by severity, then oldest first; "open" includes escalated flags (which rank higher)."""
    flags = Flag.objects.select_related("likeness", "decided_by", "gate_decision").order_by("-severity", "created_at")
    if status == Flag.Status.OPEN:
        flags = flags.filter(status__in=(Flag.Status.OPEN, Flag.Status.ESCALATED))
    elif status:
        flags = flags.filter(status=status)
    if kind:
        flags = flags.filter(kind=kind)
    return flags


def flag_evidence(flag: Flag) -> dict[str, Any]:
    """What a moderator needs to decide ``flag`` on one screen.

    A dispute: the flagged likeness's photos and each matched likeness (with its photos) beside
    the distance and the engine's thresholds recorded at enrolment. An estate claim: the claim.
    A gate review: the decision it holds (see :func:`decision_review`). A live selfie check the
    analysis could not decide: the check (challenge, measurements, its best frames) beside the photos.
    """
    matches = []
    for match in flag.evidence.get("matches") or []:
        try:
            key = uuid.UUID(str(match.get("likeness_id")))
        except ValueError:
            key = None
        matched = Likeness.objects.filter(pk=key).prefetch_related("photos__faces").first() if key else None
        matches.append({**match, "likeness": matched})
    claim_id = flag.evidence.get("estate_claim")
    claim = (
        EstateClaim.objects.select_related("representative", "decided_by").filter(pk=claim_id).first()
        if isinstance(claim_id, int)
        else None
    )
    photos = flag.likeness.photos.prefetch_related("faces") if flag.likeness_id else []
    review = decision_review(flag.gate_decision) if flag.gate_decision_id else None
    liveness = None
    if flag.evidence.get("check"):
        from consent.models import LivenessCheck

        liveness = LivenessCheck.objects.select_related("user").filter(pk=flag.evidence["check"]).first()
    return {"matches": matches, "claim": claim, "photos": photos, "review": review, "liveness": liveness}


@dataclass(frozen=True)
class PromptPart:
    """A run of the prompt and the reasons whose spans cover all of it (none: plain text)."""

    text: str
    reasons: tuple[dict[str, Any], ...] = ()

    @property
    def codes(self) -> str:
        return " ".join(dict.fromkeys(reason["code"] for reason in self.reasons))

    @property
    def title(self) -> str:
        return "; ".join(dict.fromkeys(str(reason.get("detail", "")) for reason in self.reasons))


@dataclass(frozen=True)
class EvidenceImage:
    """One stored image (or video frame) a moderator reviews, with the face reasons seen on it."""

    index: int
    name: str
    kind: str
    frame: int | None
    width: int
    height: int
    boxes: list[dict[str, Any]] = field(default_factory=list)


def _span(reason: dict[str, Any], length: int) -> tuple[int, int] | None:
    span = reason.get("span")
    if not (isinstance(span, list | tuple) and len(span) == 2 and all(isinstance(end, int) for end in span)):
        return None
    start, end = max(span[0], 0), min(span[1], length)
    return (start, end) if start < end else None


def prompt_parts(prompt: str, reasons: list[dict[str, Any]]) -> list[PromptPart]:
    """Cut ``prompt`` at every span's ends, so overlapping spans become runs covered by several reasons."""
    spans = [(span, reason) for reason in reasons if (span := _span(reason, len(prompt)))]
    cuts = sorted({0, len(prompt), *(end for span, _reason in spans for end in span)})
    parts = []
    for start, end in zip(cuts, cuts[1:], strict=False):
        covering = tuple(reason for (first, last), reason in spans if first <= start and end <= last)
        parts.append(PromptPart(prompt[start:end], covering))
    return parts


def _likeness_key(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def decision_evidence(decision: Decision) -> list[dict[str, Any]]:
    """The stored evidence entries (file, frame, encrypted path, size) of a decision sent to review."""
    return next((item["evidence"] for item in decision.media if "evidence" in item), [])


def decision_review(decision: Decision) -> dict[str, Any]:
    """What a gate review shows: the prompt with its spans marked, every reason, the evidence images
    with the faces found on them, and the consent versions that applied (in plain language)."""
    keys = {key for reason in decision.reasons if (key := _likeness_key(reason.get("likeness_id")))}
    likenesses = {str(likeness.pk): likeness for likeness in Likeness.objects.filter(pk__in=keys)}
    reasons = [{**reason, "likeness": likenesses.get(str(reason.get("likeness_id")))} for reason in decision.reasons]
    files = [item for item in decision.media if "name" in item]
    tracked = next((item["faces"] for item in decision.media if "faces" in item), [])
    images = []
    for index, stored in enumerate(decision_evidence(decision)):
        position, frame = stored.get("file"), stored.get("frame")
        about = files[position] if isinstance(position, int) and position < len(files) else {}
        boxes = [r for r in reasons if "box" in r and r.get("file") == position and r.get("frame") == frame]
        # A reason about a face followed across a video names its nearest frame: the same face is
        # boxed, with the same reason, on every other frame of its track shown here.
        boxes += [
            {**r, "box": face["box"], "frame": frame}
            for r in reasons
            if "track" in r and r.get("file") == position and r.get("frame") != frame
            for face in tracked
            if face.get("file") == position and face.get("track") == r["track"] and face.get("frame") == frame
        ]
        images.append(
            EvidenceImage(
                index=index,
                name=about.get("name", ""),
                kind=about.get("kind", ""),
                frame=frame,
                width=stored["width"],
                height=stored["height"],
                boxes=boxes,
            )
        )
    applied = {
        (str(reason["likeness"].pk), reason["consent_version"]): reason["likeness"]
        for reason in reasons
        if reason["likeness"] is not None and "consent_version" in reason
    }
    versions = {
        (str(version.likeness_id), version.number): version
        for version in ConsentVersion.objects.filter(likeness__in={likeness for likeness in applied.values()})
    }
    consents = [
        {"likeness": likeness, "number": number, "summary": consent_summary(versions.get((key, number)))}
        for (key, number), likeness in applied.items()
    ]
    parts = prompt_parts(decision.prompt, decision.reasons)
    return {"decision": decision, "prompt_parts": parts, "reasons": reasons, "images": images, "consents": consents}
