"""Moderators' decisions on flags: each kind of flag is decided by the service that owns its subject."""

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from accounts.roles import Role
from consent import services as consent_services
from consent.models import EstateClaim
from consent.verification import liveness_review_decide
from moderation.decisions import decision_review_settle, flag_close, flag_escalate
from moderation.models import Decision, Flag
from moderation.reasons import Verdict
from moderation.signals import review_decided

#: The decisions each kind of flag accepts.
DECISIONS = {
    Flag.Kind.DISPUTE: ("legitimate", "rejected", "transfer"),
    Flag.Kind.ESTATE: ("verified", "rejected"),
    Flag.Kind.GATE_REVIEW: ("approve", "reject", "escalate"),
    Flag.Kind.LIVENESS: ("verified", "rejected"),
}


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
    if decision == "escalate":
        return flag_escalate(flag=flag, moderator=moderator, note=note)
    gate_decision = decision_review_settle(
        decision=flag.gate_decision, moderator=moderator, approve=decision == "approve", note=note
    )
    flag = flag_close(
        flag=flag,
        actor=moderator,
        decision=decision,
        note=note,
        data={"gate_decision": str(gate_decision.pk), "verdict": gate_decision.final_verdict},
    )
    transaction.on_commit(
        lambda: review_decided.send(
            sender=Decision,
            decision_id=gate_decision.pk,
            kind=gate_decision.kind,
            verdict=Verdict(gate_decision.final_verdict),
        )
    )
    return flag


def flag_decide(*, moderator: User, flag: Flag, decision: str, note: str = "") -> Flag:
    """Decide a flag: a dispute (is the new likeness legitimate?) or an estate claim (verified?)."""
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
