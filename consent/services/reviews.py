"""What moderators and the live check decide about a likeness: disputes over a face, verification
(live or by a moderator) and what it freezes, estates, suspensions."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from consent import crypto
from consent.models import (
    ConsentVersion,
    EstateClaim,
    Likeness,
    LikenessStatus,
    Subject,
)
from consent.services.likenesses import _erase_biometrics, _faces_enrolled, liveness_required
from moderation.audit import audit_record
from moderation.decisions import flag_close, flag_open
from moderation.models import Flag


@transaction.atomic
def dispute_decide(*, moderator: User, flag: Flag, legitimate: bool, note: str = "") -> Likeness:
    """Decide a dispute: the new likeness is legitimate (becomes active) or not (its face data is erased).

    Legitimate means a different person who looks alike: that finding is recorded, for each
    likeness the face matched, as a ``LikenessDistinction`` (the gate then tells the two apart
    only where a face is clearly one's, see ``consent.matching``).
    """
    from moderation.models import LikenessDistinction

    if not moderator.has_role(Role.MODERATOR):
        raise PermissionError("Only moderators decide disputes.")
    flag = Flag.objects.select_for_update().get(pk=flag.pk)
    if flag.kind != Flag.Kind.DISPUTE or flag.status != Flag.Status.OPEN:
        raise ValidationError("This flag is not an open dispute.", code="not_open")
    likeness = Likeness.objects.select_for_update().get(pk=flag.likeness_id)
    if legitimate:
        pending_estate = (
            likeness.subject == Subject.DECEASED
            and not likeness.estate_claims.filter(status=EstateClaim.Status.VERIFIED).exists()
        )
        pending_person = likeness.subject == Subject.SELF and liveness_required() and likeness.verified_at is None
        pending = pending_estate or pending_person
        likeness.status = LikenessStatus.PENDING_VERIFICATION if pending else LikenessStatus.ACTIVE
        if (
            likeness.suspended_at is not None
            and likeness.suspended_by_id is None
            and likeness.suspension_note == FROZEN_NOTE
        ):
            # Frozen when someone else verified live with a similar face: a lookalike, it is released.
            likeness.suspended_at, likeness.suspension_note = None, ""
        likeness.save(update_fields=["status", "suspended_at", "suspension_note", "updated_at"])
        _faces_enrolled(likeness)
    else:
        _erase_biometrics(likeness)
        likeness.status = LikenessStatus.ERASED
        likeness.save(update_fields=["status", "updated_at"])
    distinct_from = []
    if legitimate:
        matched = [match.get("likeness_id") for match in (flag.evidence or {}).get("matches", [])]
        for other in Likeness.objects.filter(pk__in=[value for value in matched if value]).exclude(pk=likeness.pk):
            first, second = sorted([likeness.pk, other.pk])
            LikenessDistinction.objects.get_or_create(
                likeness_a_id=first,
                likeness_b_id=second,
                defaults={"decided_by": moderator, "flag": flag, "note": note},
            )
            distinct_from.append(str(other.pk))
    flag = flag_close(
        flag=flag,
        actor=moderator,
        decision="legitimate" if legitimate else "rejected",
        note=note,
        data={"likeness": str(likeness.pk), "distinct_from": sorted(distinct_from)},
    )
    audit_record(
        actor=moderator,
        action="dispute.decide",
        target=likeness,
        data={"flag": str(flag.pk), "legitimate": legitimate, "note": note, "distinct_from": sorted(distinct_from)},
    )
    return likeness


@transaction.atomic
def dispute_transfer(*, moderator: User, flag: Flag, note: str) -> Likeness:
    """Give a likeness frozen for a verified person to that person: its owner becomes theirs, the
    consent its registrant set is void (a new version: nobody, nothing), the freeze is lifted and
    the likeness counts as verified through theirs. Only for a flag opened by a live verification."""
    if not moderator.has_role(Role.MODERATOR):
        raise PermissionError("Only moderators decide disputes.")
    if not note.strip():
        raise ValidationError({"note": ["Say why the likeness goes to the verified person."]}, code="note_required")
    flag = Flag.objects.select_for_update().get(pk=flag.pk)
    if flag.kind != Flag.Kind.DISPUTE or flag.status != Flag.Status.OPEN:
        raise ValidationError("This flag is not an open dispute.", code="not_open")
    verified_id = (flag.evidence or {}).get("verified_likeness")
    verified = Likeness.objects.filter(pk=verified_id).first() if verified_id else None
    if verified is None or verified.verified_at is None or verified.owner_id is None:
        raise ValidationError(
            "Only a likeness frozen for a person verified live can be transferred to them.", code="not_transferable"
        )
    likeness = Likeness.objects.select_for_update().get(pk=flag.likeness_id)
    previous_owner = likeness.owner.username if likeness.owner else None
    likeness.owner = verified.owner
    likeness.suspended_at, likeness.suspended_by, likeness.suspension_note = None, None, ""
    likeness.verified_at = timezone.now()
    likeness.verification = {"by": "transfer", "from_likeness": str(verified.pk), "moderator": moderator.username}
    if likeness.status in (LikenessStatus.PENDING_VERIFICATION, LikenessStatus.DISPUTED):
        likeness.status = LikenessStatus.ACTIVE
    likeness.save()
    # The registrant's claims to represent the person's estate go with it: a claim still waiting (or
    # one a moderator verified) would otherwise keep opening the likeness, its photos and its consent
    # to them (consent.access.can_manage, can_act_for).
    likeness.estate_claims.exclude(representative_id=verified.owner_id).exclude(
        status=EstateClaim.Status.REJECTED
    ).update(
        status=EstateClaim.Status.REJECTED,
        decided_by=moderator,
        decided_at=timezone.now(),
        note="The likeness was given to the person verified live.",
    )
    number = (likeness.consent_versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    ConsentVersion.objects.create(likeness=likeness, number=number, created_by=moderator)  # nobody, nothing
    _faces_enrolled(likeness)
    flag = flag_close(flag=flag, actor=moderator, decision="transfer", note=note, data={"likeness": str(likeness.pk)})
    audit_record(
        actor=moderator,
        action="likeness.transfer",
        target=likeness,
        data={"from": previous_owner, "to": verified.owner.username, "flag": str(flag.pk), "note": note},
    )
    return likeness


def likeness_mark_verified(*, actor: User, likeness: Likeness, how: dict[str, Any]) -> Likeness:
    """Record that the person in ``likeness``'s photos was verified (``how``: by which check or
    moderator); a self-registered likeness waiting for it becomes active. Audited."""
    with transaction.atomic():
        locked = Likeness.objects.select_for_update().get(pk=likeness.pk)
        locked.verified_at = timezone.now()
        locked.verification = how
        fields = ["verified_at", "verification", "updated_at"]
        if locked.subject == Subject.SELF and locked.status == LikenessStatus.PENDING_VERIFICATION:
            locked.status = LikenessStatus.ACTIVE
            fields.append("status")
        locked.save(update_fields=fields)
        if "status" in fields:
            _faces_enrolled(locked)
        audit_record(actor=actor, action="likeness.verified", target=locked, data={**how, "status": locked.status})
        if how.get("by") == "liveness":
            _impostors_freeze(verified=locked, actor=actor)
    return locked


#: The note a frozen likeness's owner sees.
FROZEN_NOTE = (
    "Frozen: the person whose face this is has verified themselves with a live selfie check. This likeness "
    "grants nothing while a moderator decides."
)


def _impostors_freeze(*, verified: Likeness, actor: User) -> list[str]:
    """The person of ``verified`` passed the live check: every likeness someone else registered
    with the same face, without verification, is frozen (suspended: it grants nothing, and what it
    allowed stops at once) and put in front of a moderator with both sides' evidence; the verified
    likeness, if it was disputed for that face alone, becomes active. Return the frozen ids."""
    from consent.faces import get_engine
    from consent.matching import face_match

    engine = get_engine()
    closest: dict[str, float] = {}
    for face in verified.faces.filter(engine=engine.name, model=engine.model):
        for hit in face_match(embedding=crypto.decrypt_embedding(bytes(face.embedding)), engine=engine):
            if hit.outcome == "match" and hit.likeness_id != str(verified.pk):
                closest[hit.likeness_id] = min(hit.distance, closest.get(hit.likeness_id, 9.0))
    frozen = []
    others = Likeness.objects.select_for_update().filter(pk__in=list(closest))
    for other in others:
        if other.owner_id == verified.owner_id or other.protected or other.verified_at is not None:
            continue  # the same person's, a moderator's entry, or someone verified too: for a moderator as it is
        if other.status == LikenessStatus.ERASED:
            continue
        if other.suspended_at is None:
            other.suspended_at, other.suspended_by, other.suspension_note = timezone.now(), None, FROZEN_NOTE
            other.save(update_fields=["suspended_at", "suspended_by", "suspension_note", "updated_at"])
        flag_open(
            actor=actor,
            kind=Flag.Kind.DISPUTE,
            likeness=other,
            reason="verified_person_claims_face",
            detail="%s verified themselves live, and their face matches this likeness registered by someone "
            "else without verification." % verified.display_name,
            evidence={
                "matches": [
                    {
                        "likeness_id": str(verified.pk),
                        "distance": round(closest[str(other.pk)], 4),
                        **engine.thresholds(),
                    }
                ],
                "verified_likeness": str(verified.pk),
                "verified_owner": verified.owner.username if verified.owner else None,
                "verification": verified.verification,
                "frozen_owner": other.owner.username if other.owner else None,
                "frozen_verification": other.verification or None,
                "distance": round(closest[str(other.pk)], 4),
                "engine": engine.thresholds(),
            },
        )
        audit_record(
            actor=actor,
            action="likeness.freeze",
            target=other,
            data={"verified_likeness": str(verified.pk), "distance": round(closest[str(other.pk)], 4)},
        )
        frozen.append(str(other.pk))
    if frozen and verified.status == LikenessStatus.DISPUTED:
        verified.status = LikenessStatus.ACTIVE
        verified.save(update_fields=["status", "updated_at"])
        _faces_enrolled(verified)
        for flag in Flag.objects.filter(kind=Flag.Kind.DISPUTE, likeness=verified, status=Flag.Status.OPEN):
            flag_close(
                flag=flag,
                actor=actor,
                decision="verified_live",
                note="The person verified themselves with a live selfie check; the other registration is frozen.",
            )
        audit_record(actor=actor, action="likeness.activate", target=verified, data={"frozen": frozen})
    return frozen


def likeness_verify(*, moderator: User, likeness: Likeness, note: str) -> Likeness:
    """A moderator verifies, with a note, that the likeness's owner is the person in its photos."""
    if not moderator.has_role(Role.MODERATOR):
        raise PermissionError("Only moderators verify a person.")
    if not note.strip():
        raise ValidationError({"note": ["Say how the person was verified."]}, code="note_required")
    if likeness.subject != Subject.SELF or likeness.protected:
        raise ValidationError("Only a self-registered likeness is verified this way.", code="not_self")
    return likeness_mark_verified(
        actor=moderator, likeness=likeness, how={"by": "moderator", "moderator": moderator.username, "note": note}
    )


def estates_activate(*, representative: User) -> list[str]:
    """The representative has just been verified: each deceased person's entry whose estate claim of
    theirs is verified, and that waited only for them, becomes active. Return the ids."""
    activated = []
    for likeness in Likeness.objects.select_for_update().filter(
        subject=Subject.DECEASED,
        status=LikenessStatus.PENDING_VERIFICATION,
        estate_claims__representative=representative,
        estate_claims__status=EstateClaim.Status.VERIFIED,
    ):
        likeness.status = LikenessStatus.ACTIVE
        likeness.save(update_fields=["status", "updated_at"])
        _faces_enrolled(likeness)
        audit_record(
            actor=representative, action="estate.activate", target=likeness, data={"representative_verified": True}
        )
        activated.append(str(likeness.pk))
    return activated


@transaction.atomic
def estate_claim_decide(*, moderator: User, claim: EstateClaim, verified: bool, note: str = "") -> EstateClaim:
    """Verify or reject an estate's claim; a verified claim makes the deceased person's entry active
    once its representative has passed their own live selfie check (``estates_activate``), when
    ``liveness_required()``."""
    if not moderator.has_role(Role.MODERATOR):
        raise PermissionError("Only moderators verify estates.")
    claim = EstateClaim.objects.select_for_update().get(pk=claim.pk)
    if claim.status != EstateClaim.Status.PENDING:
        raise ValidationError("This claim has already been decided.", code="not_open")
    claim.status = EstateClaim.Status.VERIFIED if verified else EstateClaim.Status.REJECTED
    claim.decided_by, claim.decided_at, claim.note = moderator, timezone.now(), note
    claim.save()
    likeness = Likeness.objects.select_for_update().get(pk=claim.likeness_id)
    waits_for_representative = liveness_required() and claim.representative.verified_at is None
    if verified and likeness.status == LikenessStatus.PENDING_VERIFICATION and not waits_for_representative:
        likeness.status = LikenessStatus.ACTIVE
        likeness.save(update_fields=["status", "updated_at"])
        _faces_enrolled(likeness)
    for flag in Flag.objects.filter(kind=Flag.Kind.ESTATE, likeness=likeness, status=Flag.Status.OPEN):
        flag_close(
            flag=flag,
            actor=moderator,
            decision="verified" if verified else "rejected",
            note=note,
            data={"claim": claim.pk},
        )
    audit_record(
        actor=moderator,
        action="estate.decide",
        target=likeness,
        data={"claim": claim.pk, "verified": verified, "note": note},
    )
    return claim


#: Longest moderator note on a suspension.
SUSPENSION_NOTE_MAX_LENGTH = 2000


def _suspension_note(note: str | None) -> str:
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": [ValidationError("Write a note: the person sees it.", code="required")]})
    if len(note) > SUSPENSION_NOTE_MAX_LENGTH:
        raise ValidationError({"note": ["At most %d characters." % SUSPENSION_NOTE_MAX_LENGTH]})
    return note


@transaction.atomic
def likeness_suspend(*, moderator: User, likeness: Likeness, note: str) -> Likeness:
    """Suspend a likeness: it grants nothing until a moderator lifts it; the person sees the note.

    The consent stays as the person set it (a moderator never changes it); lifting restores it.
    """
    if not moderator.has_role(Role.MODERATOR):
        raise PermissionError("Only moderators suspend a likeness.")
    note = _suspension_note(note)
    locked = Likeness.objects.select_for_update().get(pk=likeness.pk)
    if locked.status == LikenessStatus.ERASED:
        raise ValidationError("An erased likeness grants nothing; there is nothing to suspend.", code="erased")
    if locked.protected:
        raise ValidationError("A protected entry never grants anything; there is nothing to suspend.", code="protected")
    if locked.suspended_at is not None:
        raise ValidationError("This likeness is already suspended.", code="suspended")
    locked.suspended_at, locked.suspended_by, locked.suspension_note = timezone.now(), moderator, note
    locked.save(update_fields=["suspended_at", "suspended_by", "suspension_note", "updated_at"])
    audit_record(actor=moderator, action="likeness.suspend", target=locked, data={"note": note})
    return locked


@transaction.atomic
def likeness_lift_suspension(*, moderator: User, likeness: Likeness, note: str) -> Likeness:
    """Lift a suspension: the consent the person set is in force again."""
    if not moderator.has_role(Role.MODERATOR):
        raise PermissionError("Only moderators lift a suspension.")
    note = _suspension_note(note)
    locked = Likeness.objects.select_for_update().get(pk=likeness.pk)
    if locked.suspended_at is None:
        raise ValidationError("This likeness is not suspended.", code="not_suspended")
    suspended = {"suspended_at": locked.suspended_at, "suspension_note": locked.suspension_note}
    locked.suspended_at, locked.suspended_by, locked.suspension_note = None, None, ""
    locked.save(update_fields=["suspended_at", "suspended_by", "suspension_note", "updated_at"])
    audit_record(
        actor=moderator, action="likeness.lift_suspension", target=locked, data={"note": note, "lifted": suspended}
    )
    return locked
