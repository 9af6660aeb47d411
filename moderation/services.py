"""Moderators' decisions on flags: each kind of flag is decided by the service that owns its subject."""

from django.core.exceptions import ValidationError

from accounts.models import User
from moderation.models import Flag

#: The decisions each kind of flag accepts.
DECISIONS = {
    Flag.Kind.DISPUTE: ("legitimate", "rejected"),
    Flag.Kind.ESTATE: ("verified", "rejected"),
}


def flag_decide(*, moderator: User, flag: Flag, decision: str, note: str = "") -> Flag:
    """Decide a flag: a dispute (is the new likeness legitimate?) or an estate claim (verified?)."""
    from consent import services as consent_services
    from consent.models import EstateClaim

    allowed = DECISIONS.get(Flag.Kind(flag.kind))
    if allowed is None:
        raise ValidationError("Flags of this kind are decided elsewhere.", code="unsupported")
    if decision not in allowed:
        raise ValidationError({"decision": ["Choose one of: %s." % ", ".join(allowed)]})
    if flag.status != Flag.Status.OPEN:
        raise ValidationError("This flag has already been decided.", code="not_open")
    if flag.kind == Flag.Kind.DISPUTE:
        consent_services.dispute_decide(moderator=moderator, flag=flag, legitimate=decision == "legitimate", note=note)
    else:
        claim = EstateClaim.objects.get(pk=flag.evidence["estate_claim"])
        consent_services.estate_claim_decide(
            moderator=moderator, claim=claim, verified=decision == "verified", note=note
        )
    flag.refresh_from_db()
    return flag
