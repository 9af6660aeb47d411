"""The one gate for every read or write of a likeness (STYLE.md, access gates).

``access_likeness_by_id`` returns the likeness or raises the same Http404 whether it is
missing or forbidden, so nobody learns who is registered by probing ids.

Reading is not speaking for the person. Three questions, each with its own function:

- ``can_manage``: who may open a likeness at all (the person, their estate, moderators);
- ``can_act_for``: who speaks as the data subject: grants, changes, answers, revokes, erases
  (the person, or a representative whose claim on the estate a moderator verified);
- ``can_edit_entry``: who edits names, descriptors and photos, and erases: the person, or a
  moderator for a protected entry (nobody owns those; moderators keep them).

And one question about what others learn: ``likeness_ids_known_to`` says to whom a registered
person is no secret, so that checks, generations and ``@handle`` mentions name them (SPEC section 2
reasons, issue 15) to those only.
"""

import uuid
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Prefetch
from django.http import Http404

from accounts.roles import Role
from consent.models import Audience, ConsentVersion, EstateClaim, Likeness, LikenessStatus


def is_moderator(user: Any) -> bool:
    return bool(user.is_authenticated) and user.has_role(Role.MODERATOR)


def _is_active_user(user: Any) -> bool:
    return bool(user.is_authenticated) and bool(user.is_active)


def can_manage(user: Any, likeness: Likeness) -> bool:
    """Who may open a likeness: the owner, a (non-rejected) estate representative, or a moderator."""
    if not _is_active_user(user):
        return False
    if likeness.owner_id is not None and likeness.owner_id == user.pk:
        return True
    if likeness.estate_claims.filter(representative=user).exclude(status=EstateClaim.Status.REJECTED).exists():
        return True
    return is_moderator(user)


def can_act_for(user: Any, likeness: Likeness) -> bool:
    """Whether ``user`` speaks as the data subject (grant, change, answer, revoke, erase).

    The owner, unless an estate claim of theirs on this likeness was rejected; or a
    representative whose claim was verified. Never a moderator as such, never for a protected entry.
    """
    if not _is_active_user(user):
        return False
    if likeness.protected:
        return False
    claims = likeness.estate_claims.filter(representative=user)
    if likeness.owner_id is not None and likeness.owner_id == user.pk:
        return not claims.filter(status=EstateClaim.Status.REJECTED).exists()
    return claims.filter(status=EstateClaim.Status.VERIFIED).exists()


def likeness_ids_acted_for(user: Any) -> set[uuid.UUID]:
    """The ids of every likeness ``user`` may act for: ``can_act_for`` for a whole list, in two queries."""
    if not _is_active_user(user):
        return set()
    rejected = EstateClaim.objects.filter(representative=user, status=EstateClaim.Status.REJECTED)
    owned = Likeness.objects.filter(owner=user, protected=False).exclude(pk__in=rejected.values("likeness_id"))
    verified = EstateClaim.objects.filter(
        representative=user, status=EstateClaim.Status.VERIFIED, likeness__protected=False
    )
    return set(owned.values_list("pk", flat=True)) | set(verified.values_list("likeness_id", flat=True))


def can_edit_entry(user: Any, likeness: Likeness) -> bool:
    """Whether ``user`` edits names, descriptors and photos, or erases: the person, or a moderator for a protected entry."""
    if likeness.protected:
        return is_moderator(user) and bool(user.is_active)
    return can_act_for(user, likeness)


def can_see_photos(user: Any, likeness: Likeness) -> bool:
    """Only the owner, their estate representatives and moderators see a likeness's photos."""
    return can_manage(user, likeness)


def access_likeness_by_id(user: Any, likeness_id: Any, *, select_for_update: bool = False) -> Likeness:
    try:
        key = uuid.UUID(str(likeness_id))
    except ValueError:
        raise Http404("No such likeness.") from None
    queryset = Likeness.objects.select_for_update() if select_for_update else Likeness.objects.all()
    likeness = queryset.filter(pk=key).first()
    if likeness is None:
        raise Http404("No such likeness.")
    if not can_manage(user, likeness):
        raise Http404("No such likeness.")
    return likeness


def audience_includes(version: ConsentVersion, likeness: Likeness, user: Any) -> bool:
    """Whether the audience of consent ``version`` takes in ``user`` (whatever uses it allows)."""
    if likeness.owner_id is not None and likeness.owner_id == user.pk:
        return True
    if version.audience == Audience.EVERYONE:
        return True
    if version.audience == Audience.VERIFIED_USERS:
        return bool(user.is_verified)
    if version.audience == Audience.APPROVED_USERS:
        return user.pk in (version.approved_users or [])
    return False


def likeness_ids_known_to(user: Any, likeness_ids: Iterable[Any]) -> set[str]:
    """Which of ``likeness_ids`` (as strings) ``user`` may know: name, handle, id and status.

    What a check, a generation or a handle says about a registered person, it says only to whom
    the person is no secret (issue 15): a moderator; the person, or their estate representative;
    anyone, for a protected entry (public figures, entered by moderators); and the people the
    consent in force takes in, while the likeness is active, not suspended, and the consent not
    revoked. To everyone else the person is "a registered person who has not consented", and a
    handle of theirs reads as one nobody has. Ids that are not likenesses are never known (except
    to a moderator, to whom nothing is hidden).
    """
    keys = set()
    for value in likeness_ids:
        try:
            keys.add(str(uuid.UUID(str(value))))
        except (TypeError, ValueError):
            continue
    if not keys:
        return set()
    user = user if user is not None else AnonymousUser()
    if is_moderator(user) and user.is_active:
        return keys
    newest = Prefetch(
        "consent_versions", queryset=ConsentVersion.objects.order_by("-number"), to_attr="consent_newest_first"
    )
    likenesses = Likeness.objects.filter(pk__in=keys).prefetch_related(newest)
    active = _is_active_user(user)
    represented = (
        set(
            EstateClaim.objects.filter(representative=user, likeness__in=keys)
            .exclude(status=EstateClaim.Status.REJECTED)
            .values_list("likeness_id", flat=True)
        )
        if active
        else set()
    )
    return {str(likeness.pk) for likeness in likenesses if _known(likeness, user, active, represented)}


def _known(likeness: Likeness, user: Any, active: bool, represented: set[uuid.UUID]) -> bool:
    if likeness.protected:
        return True
    if not active:
        return False
    if likeness.owner_id is not None and likeness.owner_id == user.pk:
        return True
    if likeness.pk in represented:
        return True
    if likeness.status != LikenessStatus.ACTIVE or likeness.suspended_at is not None:
        return False
    version = likeness.consent_newest_first[0] if likeness.consent_newest_first else None
    if version is None or version.revoked:
        return False
    return audience_includes(version, likeness, user)
