"""Consent: its versions (set, revoke), and the per-use requests a rights holder answers."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from consent.access import can_act_for
from consent.models import (
    Audience,
    ConsentRequest,
    ConsentVersion,
    Likeness,
    LikenessStatus,
    Use,
)
from consent.selectors import consent_current
from consent.services.likenesses import _clean_names
from consent.signals import consent_answered
from moderation.audit import audit_record


@transaction.atomic
def consent_set(
    *,
    actor: User,
    likeness: Likeness,
    audience: str,
    uses: list[str],
    approved_users: list[int] | None = None,
    forbidden_topics: list[str] | None = None,
    per_use_approval: bool = False,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> ConsentVersion:
    """Write a new version of the consent policy; the previous versions stay as they were."""
    locked = Likeness.objects.select_for_update().get(pk=likeness.pk)
    if locked.status == LikenessStatus.ERASED:
        raise ValidationError("An erased likeness has no consent to change.", code="erased")
    if locked.protected:
        raise ValidationError("A protected entry never grants consent.", code="protected")
    if not can_act_for(actor, locked):
        raise PermissionError(
            "Only the person, or their verified estate, grants or changes consent; a moderator may suspend the likeness."
        )
    audience = Audience(audience)
    uses = sorted({Use(use).value for use in uses})
    approved = sorted({int(user_id) for user_id in approved_users or []})
    if approved and User.objects.filter(pk__in=approved).count() != len(approved):
        raise ValidationError({"approved_users": ["Some of these users do not exist."]})
    if valid_from and valid_until and valid_until <= valid_from:
        raise ValidationError({"valid_until": ["The end of validity must come after its start."]})
    for moment in (valid_from, valid_until):
        if moment is not None and timezone.is_naive(moment):
            raise ValidationError({"valid_until": ["Give times with a time zone."]})
    topics = _clean_names(forbidden_topics, field_name="forbidden_topics", max_length=300)
    previous = consent_current(locked)
    version = ConsentVersion.objects.create(
        likeness=locked,
        number=(previous.number + 1) if previous else 1,
        audience=audience,
        approved_users=approved,
        uses=uses,
        forbidden_topics=topics,
        per_use_approval=per_use_approval,
        valid_from=valid_from,
        valid_until=valid_until,
        created_by=actor,
    )
    if locked.status == LikenessStatus.REVOKED:
        locked.status = LikenessStatus.ACTIVE
        locked.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action="consent.set",
        target=locked,
        data={"version": version.number, "audience": audience, "uses": uses},
    )
    return version


@transaction.atomic
def consent_revoke(*, actor: User, likeness: Likeness) -> ConsentVersion:
    """Revoke all consent now: a new version that allows nothing; the likeness stays protected."""
    locked = Likeness.objects.select_for_update().get(pk=likeness.pk)
    if not can_act_for(actor, locked):
        raise PermissionError(
            "Only the person, or their verified estate, revokes consent; a moderator may suspend the likeness."
        )
    if locked.status == LikenessStatus.ERASED:
        raise ValidationError("An erased likeness has no consent to revoke.", code="erased")
    previous = consent_current(locked)
    version = ConsentVersion.objects.create(
        likeness=locked,
        number=(previous.number + 1) if previous else 1,
        audience=Audience.NOBODY,
        uses=[],
        revoked=True,
        created_by=actor,
    )
    if locked.status == LikenessStatus.ACTIVE:
        locked.status = LikenessStatus.REVOKED
        locked.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action="consent.revoke", target=locked, data={"version": version.number})
    likeness.status = locked.status
    return version


def consent_request_open(*, likeness: Likeness, requester: User, use: str, prompt: str = "") -> ConsentRequest:
    """Ask the rights holder to approve one use (the same open request is reused)."""
    version = consent_current(likeness)
    with transaction.atomic():
        existing = ConsentRequest.objects.filter(
            likeness=likeness, consent_version=version, requester=requester, use=use, prompt=prompt
        ).first()
        if existing:
            return existing
        request = ConsentRequest.objects.create(
            likeness=likeness, consent_version=version, requester=requester, use=Use(use), prompt=prompt[:4000]
        )
        audit_record(
            actor=requester, action="consent.request", target=likeness, data={"request": str(request.pk), "use": use}
        )
    return request


@transaction.atomic
def consent_request_decide(*, actor: User, request: ConsentRequest, approve: bool) -> ConsentRequest:
    """The rights holder (or their verified estate) says yes or no to one request; nobody else may."""
    if not can_act_for(actor, request.likeness):
        raise PermissionError("Only the person, or their verified estate, answers a request to use their likeness.")
    request = ConsentRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != ConsentRequest.Status.PENDING:
        raise ValidationError("This request has already been answered.", code="not_open")
    request.status = ConsentRequest.Status.APPROVED if approve else ConsentRequest.Status.DENIED
    request.decided_at = timezone.now()
    request.save(update_fields=["status", "decided_at"])
    audit_record(
        actor=actor,
        action="consent.request_decide",
        target=request.likeness,
        data={"request": str(request.pk), "approved": approve},
    )
    transaction.on_commit(lambda: consent_answered.send(sender=ConsentRequest, request_id=request.pk))
    return request
