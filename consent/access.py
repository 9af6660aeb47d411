"""The one gate for every read or write of a likeness (STYLE.md, access gates).

``access_likeness_by_id`` returns the likeness or raises the same Http404 whether it is
missing or forbidden, so nobody learns who is registered by probing ids.

Reading is not speaking for the person. Three questions, each with its own function:

- ``can_manage``: who may open a likeness at all (the person, their estate, moderators);
- ``can_act_for``: who speaks as the data subject: grants, changes, answers, revokes, erases
  (the person, or a representative whose claim on the estate a moderator verified);
- ``can_edit_entry``: who edits names, descriptors and photos, and erases: the person, or a
  moderator for a protected entry (nobody owns those; moderators keep them).
"""

import uuid
from typing import Any

from django.http import Http404

from accounts.roles import Role
from consent.models import EstateClaim, Likeness


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
