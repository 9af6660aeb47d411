"""Moderators' decisions on flags: each kind of flag is decided by the service that owns its subject."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from moderation.audit import audit_record
from moderation.models import Decision, Flag
from moderation.reasons import VERDICTS, ReasonCode, Verdict

#: The decisions each kind of flag accepts.
DECISIONS = {
    Flag.Kind.DISPUTE: ("legitimate", "rejected", "transfer"),
    Flag.Kind.ESTATE: ("verified", "rejected"),
    Flag.Kind.GATE_REVIEW: ("approve", "reject", "escalate"),
    Flag.Kind.LIVENESS: ("verified", "rejected"),
}

#: Callbacks run (after commit) when a gate review is decided, keyed by Decision.kind; the
#: generation app registers one so a waiting job moves on.
REVIEW_OUTCOME_HANDLERS: dict[str, list] = {}


def on_review_decided(kind: str, handler) -> None:  # noqa: ANN001
    key = getattr(kind, "value", kind)  # an enum member hashes by name, not by value
    if handler not in REVIEW_OUTCOME_HANDLERS.setdefault(key, []):
        REVIEW_OUTCOME_HANDLERS[key].append(handler)


@transaction.atomic
def gate_review_decide(*, moderator: User, flag: Flag, decision: str, note: str) -> Flag:
    """Approve, reject or escalate a gate review; the outcome flows back to the decision it held."""
    if not moderator.has_role(Role.MODERATOR):
        raise PermissionError("Only moderators decide reviews.")
    if not note.strip():
        raise ValidationError({"note": ["Say why: a note is required for every decision."]})
    flag = Flag.objects.select_for_update().get(pk=flag.pk)
    if flag.status == Flag.Status.DECIDED:
        raise ValidationError("This flag has already been decided.", code="not_open")
    now = timezone.now()
    if decision == "escalate":
        flag.status, flag.severity = Flag.Status.ESCALATED, flag.severity + 1
        flag.decision_note = note
        flag.save(update_fields=["status", "severity", "decision_note"])
        audit_record(actor=moderator, action="flag.escalate", target=flag, data={"note": note})
        return flag
    gate_decision = Decision.objects.select_for_update().get(pk=flag.gate_decision_id)
    code = ReasonCode.MODERATOR_APPROVED if decision == "approve" else ReasonCode.MODERATOR_REJECTED
    gate_decision.final_verdict = VERDICTS[code].value
    gate_decision.reasons = [
        *gate_decision.reasons,
        {
            "code": code.value,
            "verdict": VERDICTS[code].value,
            "stage": "moderation",
            "detail": note,
            "moderator": moderator.username,
        },
    ]
    gate_decision.save(update_fields=["final_verdict", "reasons"])
    flag.status, flag.decision, flag.decision_note = Flag.Status.DECIDED, decision, note
    flag.decided_by, flag.decided_at = moderator, now
    flag.save()
    audit_record(
        actor=moderator,
        action="flag.decide",
        target=flag,
        data={
            "decision": decision,
            "note": note,
            "gate_decision": str(gate_decision.pk),
            "verdict": gate_decision.final_verdict,
        },
    )
    for handler in REVIEW_OUTCOME_HANDLERS.get(str(gate_decision.kind), []):
        transaction.on_commit(lambda handler=handler: handler(gate_decision.pk, Verdict(gate_decision.final_verdict)))
    return flag


def flag_decide(*, moderator: User, flag: Flag, decision: str, note: str = "") -> Flag:
    """Decide a flag: a dispute (is the new likeness legitimate?) or an estate claim (verified?)."""
    from consent import services as consent_services
    from consent.models import EstateClaim

    allowed = DECISIONS.get(Flag.Kind(flag.kind))
    if allowed is None:
        raise ValidationError("Flags of this kind are decided elsewhere.", code="unsupported")
    if decision not in allowed:
        raise ValidationError({"decision": ["Choose one of: %s." % ", ".join(allowed)]})
    if flag.kind == Flag.Kind.GATE_REVIEW:
        return gate_review_decide(moderator=moderator, flag=flag, decision=decision, note=note)
    if flag.status != Flag.Status.OPEN:
        raise ValidationError("This flag has already been decided.", code="not_open")
    if flag.kind == Flag.Kind.LIVENESS:
        from consent.verification import liveness_review_decide

        liveness_review_decide(moderator=moderator, flag=flag, verified=decision == "verified", note=note)
    elif flag.kind == Flag.Kind.DISPUTE and decision == "transfer":
        consent_services.dispute_transfer(moderator=moderator, flag=flag, note=note)
    elif flag.kind == Flag.Kind.DISPUTE:
        consent_services.dispute_decide(moderator=moderator, flag=flag, legitimate=decision == "legitimate", note=note)
    else:
        claim = EstateClaim.objects.get(pk=flag.evidence["estate_claim"])
        consent_services.estate_claim_decide(
            moderator=moderator, claim=claim, verified=decision == "verified", note=note
        )
    flag.refresh_from_db()
    return flag
