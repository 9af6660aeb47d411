"""Reads of moderation."""

import uuid
from typing import Any

from django.db.models import QuerySet

from consent.models import EstateClaim, Likeness
from moderation.models import Flag


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
    return {"matches": matches, "claim": claim, "photos": photos}
