"""The one gate for every read or write of a likeness (STYLE.md, access gates).

``access_likeness_by_id`` returns the likeness or raises the same Http404 whether it is
missing or forbidden, so nobody learns who is registered by probing ids.
"""

import uuid
from typing import Any

from django.http import Http404

from accounts.roles import Role
from consent.models import EstateClaim, Likeness


def is_moderator(user: Any) -> bool:
    return bool(user.is_authenticated) and user.has_role(Role.MODERATOR)


def can_manage(user: Any, likeness: Likeness) -> bool:
    """Owner, a (non-rejected) estate representative of the person, or a moderator."""
    if not user.is_authenticated or not user.is_active:
        return False
    if likeness.owner_id is not None and likeness.owner_id == user.pk:
        return True
    if likeness.estate_claims.filter(representative=user).exclude(status=EstateClaim.Status.REJECTED).exists():
        return True
    return is_moderator(user)


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
