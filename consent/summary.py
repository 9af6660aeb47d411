"""A plain-language summary of a consent version, for the people it concerns."""

from consent.models import Audience, ConsentVersion, Use


def consent_summary(version: ConsentVersion | None) -> str:
    if version is None:
        return "No consent has been given: nobody may use this likeness."
    if version.revoked:
        return "Consent was revoked: nobody may use this likeness."
    if version.audience == Audience.NOBODY or not version.uses:
        return "Nobody may use this likeness."
    who = {
        Audience.APPROVED_USERS: "Only the %d people you approved" % len(version.approved_users),
        Audience.VERIFIED_USERS: "Any verified user",
        Audience.EVERYONE: "Anyone",
    }[Audience(version.audience)]
    uses = [Use(use).label.lower() for use in version.uses]
    text = "%s may use this likeness for %s use" % (
        who,
        ", ".join(uses[:-1]) + (" and " if len(uses) > 1 else "") + uses[-1],
    )
    parts = [text]
    if version.per_use_approval:
        parts.append("each request waits for your yes or no")
    if version.forbidden_topics:
        parts.append("never for: %s" % "; ".join(version.forbidden_topics))
    if version.valid_from:
        parts.append("from %s" % version.valid_from.strftime("%d %B %Y"))
    if version.valid_until:
        parts.append("until %s" % version.valid_until.strftime("%d %B %Y"))
    if Use.ADULT.value not in version.uses:
        parts.append("never in adult content")
    return ", ".join(parts) + "."
