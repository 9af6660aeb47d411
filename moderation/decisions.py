"""The one write path for decisions and flags: outcomes, evidence, reviews, and their audit rows.

The gate, the output scan, the registry and the review queue all record what they decided
through these functions; each runs inside the caller's transaction (or opens its own) and
writes the audit row of its change (SPEC section 2, STYLE "every consent or moderation change
is one transaction that also writes its audit row").
"""

import io
import uuid
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from consent import crypto
from consent.models import Likeness
from moderation.audit import audit_record
from moderation.models import Decision, Flag
from moderation.reasons import SEVERITY, VERDICTS, ReasonCode, Verdict


def decision_open(
    *, kind: str, requester: User | None, prompt: str = "", use: str = "", cameos: list[str] | None = None
) -> Decision:
    """Store a pending decision (it reviews until decided: never allow) about these cameos."""
    decision = Decision.objects.create(
        kind=kind,
        verdict=Verdict.REVIEW.value,
        requester=requester,
        prompt=prompt,
        use=use,
        cameos=[str(cameo) for cameo in cameos or []],
    )
    decision_subjects_set(decision=decision)
    return decision


def decision_record(
    *,
    decision: Decision,
    verdict: Verdict,
    reasons: list[dict[str, Any]],
    engines: dict[str, Any] | None = None,
    media: list[dict[str, Any]] | None = None,
    evidence: dict[tuple[Any, Any], Any] | None = None,
    state: str = Decision.State.DONE,
) -> Decision:
    """Record the outcome of a pending decision, once, with its audit row; return the stored decision.

    A decision that is no longer pending (closed by a timeout, or recorded by another delivery)
    is returned as it is. When the verdict is review, the images of ``evidence`` ((file, frame)
    → image) are kept, encrypted, and a review flag is opened.
    """
    with transaction.atomic():
        locked = Decision.objects.select_for_update().get(pk=decision.pk)
        if locked.state != Decision.State.PENDING:
            return locked
        locked.state, locked.verdict, locked.reasons = state, Verdict(verdict).value, reasons
        if engines is not None:
            locked.engines = engines
        if media is not None:
            locked.media = media
        locked.decided_at = timezone.now()
        locked.save()
        decision_subjects_set(decision=locked)
        if locked.verdict == Verdict.REVIEW:
            if evidence is not None:
                locked.media = [*locked.media, {"evidence": evidence_store(decision=locked, frames=evidence)}]
                locked.save(update_fields=["media"])
            review_open(decision=locked)
        audit_record(
            actor=locked.requester,
            action="gate.decision",
            target=locked,
            data={
                "kind": locked.kind,
                "state": locked.state,
                "verdict": locked.verdict,
                "codes": [reason["code"] for reason in locked.reasons],
            },
        )
    return locked


def decision_fail(*, decision: Decision, code: ReasonCode, detail: str) -> Decision:
    """Close a pending decision that could not be computed: review (or block), never allow."""
    reason = {"code": code.value, "verdict": VERDICTS[code].value, "stage": "gate", "detail": detail}
    return decision_record(decision=decision, verdict=VERDICTS[code], reasons=[reason], state=Decision.State.FAILED)


def decision_review_settle(*, decision: Decision, moderator: User, approve: bool, note: str) -> Decision:
    """Record the verdict a moderator's review gives ``decision`` (its own verdict stays, for the record)."""
    code = ReasonCode.MODERATOR_APPROVED if approve else ReasonCode.MODERATOR_REJECTED
    with transaction.atomic():
        locked = Decision.objects.select_for_update().get(pk=decision.pk)
        locked.final_verdict = VERDICTS[code].value
        locked.reasons = [
            *locked.reasons,
            {
                "code": code.value,
                "verdict": VERDICTS[code].value,
                "stage": "moderation",
                "detail": note,
                "moderator": moderator.username,
            },
        ]
        locked.save(update_fields=["final_verdict", "reasons"])
        audit_record(
            actor=moderator,
            action="gate.final_verdict",
            target=locked,
            data={"kind": locked.kind, "verdict": locked.verdict, "final_verdict": locked.final_verdict, "note": note},
        )
    return locked


def decision_subjects_set(*, decision: Decision) -> None:
    """Record which registered likenesses ``decision`` is about: its cameos and every one its reasons name."""
    named = [*decision.cameos, *(reason.get("likeness_id") for reason in decision.reasons)]
    ids = set()
    for value in named:
        try:
            ids.add(uuid.UUID(str(value)))
        except ValueError:
            continue  # not an id (None, or a cameo the request named wrongly): nobody to link
    decision.likenesses.set(Likeness.objects.filter(pk__in=ids))


def evidence_store(*, decision: Decision, frames: dict[tuple[Any, Any], Any]) -> list[dict[str, Any]]:
    """Store each image of ``frames`` ((file position, frame number) → image) encrypted as PNG, as
    evidence of ``decision``; return the entries a review shows (``moderation.selectors.decision_evidence``)."""
    stored = []
    for (position, frame), image in frames.items():
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        path = crypto.store_encrypted_file(buffer.getvalue(), folder="evidence/%s" % decision.pk)
        stored.append({"file": position, "frame": frame, "path": path, "width": image.width, "height": image.height})
    return stored


def evidence_expire(*, older_than: timedelta) -> int:
    """Delete the stored evidence of decisions decided longer ago than ``older_than`` whose reviews
    are all closed (``SIGILLO_EVIDENCE_RETENTION_DAYS``); the Decision keeps its reasons and says
    when its evidence went. Return how many files were deleted."""
    cutoff = timezone.now() - older_than
    removed = 0
    # Evidence is stored for decisions that asked for review only.
    decisions = Decision.objects.filter(verdict=Verdict.REVIEW.value, decided_at__lt=cutoff).exclude(
        flags__status=Flag.Status.OPEN
    )
    for decision in decisions.only("pk", "media").distinct().iterator():
        if not any(item.get("evidence") for item in decision.media):
            continue
        items = []
        for item in decision.media:
            if item.get("evidence"):
                for entry in item["evidence"]:
                    crypto.delete_file(entry["path"])
                    removed += 1
                item = {"evidence": [], "evidence_expired_at": timezone.now().isoformat()}
            items.append(item)
        Decision.objects.filter(pk=decision.pk).update(media=items)
    return removed


def review_open(*, decision: Decision) -> Flag:
    """Put ``decision`` in front of a moderator: a gate review flag, as severe as its gravest reason."""
    review = [reason for reason in decision.reasons if reason["verdict"] == Verdict.REVIEW]
    codes = [ReasonCode(reason["code"]) for reason in review]
    # The likeness the review is about: one named by a reason that asks for review, if any.
    likeness_ids = [reason["likeness_id"] for reason in review if reason.get("likeness_id")]
    return flag_open(
        actor=decision.requester,
        kind=Flag.Kind.GATE_REVIEW,
        gate_decision=decision,
        severity=max((SEVERITY.get(code, 1) for code in codes), default=1),
        likeness_id=likeness_ids[0] if likeness_ids else None,
        reason=codes[0].value if codes else "review",
        detail="; ".join(reason["detail"] for reason in review)[:2000],
        evidence={"decision": str(decision.pk)},
    )


def flag_open(
    *,
    actor: User | None,
    kind: str,
    reason: str,
    detail: str = "",
    evidence: dict[str, Any] | None = None,
    likeness: Likeness | None = None,
    likeness_id: Any = None,
    gate_decision: Decision | None = None,
    severity: int = 1,
) -> Flag:
    """Open a flag for a moderator, with its audit row (``actor``: whose action raised it)."""
    with transaction.atomic():
        flag = Flag.objects.create(
            kind=kind,
            likeness_id=likeness.pk if likeness is not None else likeness_id,
            gate_decision=gate_decision,
            severity=severity,
            reason=reason,
            detail=detail,
            evidence=evidence or {},
        )
        audit_record(
            actor=actor,
            action="flag.open",
            target=flag,
            data={
                "kind": flag.kind,
                "reason": flag.reason,
                "severity": flag.severity,
                "likeness": str(flag.likeness_id) if flag.likeness_id else None,
                "gate_decision": str(flag.gate_decision_id) if flag.gate_decision_id else None,
            },
        )
    return flag


def flag_close(
    *, flag: Flag, actor: User | None, decision: str, note: str = "", data: dict[str, Any] | None = None
) -> Flag:
    """Mark a flag decided (``decision``: the outcome, e.g. "approve", "legitimate", "likeness_erased"),
    with its audit row; ``data`` adds what the decision changed elsewhere. A decided flag is refused."""
    with transaction.atomic():
        locked = Flag.objects.select_for_update().get(pk=flag.pk)
        if locked.status == Flag.Status.DECIDED:
            raise ValidationError("This flag has already been decided.", code="not_open")
        locked.status, locked.decision, locked.decision_note = Flag.Status.DECIDED, decision, note
        locked.decided_by, locked.decided_at = actor if getattr(actor, "pk", None) else None, timezone.now()
        locked.save(update_fields=["status", "decision", "decision_note", "decided_by", "decided_at"])
        audit_record(
            actor=actor,
            action="flag.decide",
            target=locked,
            data={"kind": locked.kind, "decision": decision, "note": note, **(data or {})},
        )
    return locked


def flag_escalate(*, flag: Flag, moderator: User, note: str) -> Flag:
    """Send a flag up: one step more severe, still open, with the moderator's note."""
    with transaction.atomic():
        locked = Flag.objects.select_for_update().get(pk=flag.pk)
        if locked.status == Flag.Status.DECIDED:
            raise ValidationError("This flag has already been decided.", code="not_open")
        locked.status, locked.severity, locked.decision_note = Flag.Status.ESCALATED, locked.severity + 1, note
        locked.save(update_fields=["status", "severity", "decision_note"])
        audit_record(actor=moderator, action="flag.escalate", target=locked, data={"note": note})
    return locked
