"""Reads of accounts."""

from django.db.models import Prefetch, QuerySet
from django.db.models.functions import Lower

from accounts.models import User, UserRole


def user_list() -> QuerySet[User]:
    """Return every user with their roles prefetched, for administrators."""
    return User.objects.prefetch_related(Prefetch("roles", queryset=UserRole.objects.order_by("role")))


def user_ids_by_username(usernames: list[str]) -> tuple[list[int], list[str]]:
    """Return the ids of the users named (case-insensitively) and the names that match nobody."""
    wanted = {name.lower(): name for name in usernames}
    found = dict(User.objects.annotate(key=Lower("username")).filter(key__in=list(wanted)).values_list("key", "pk"))
    return sorted(set(found.values())), [name for key, name in wanted.items() if key not in found]


def usernames_by_id(user_ids: list[int]) -> list[str]:
    return list(User.objects.filter(pk__in=user_ids).order_by("username").values_list("username", flat=True))
