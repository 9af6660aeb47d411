"""Reads of accounts."""

from django.db.models import Prefetch, QuerySet

from accounts.models import User, UserRole


def user_list() -> QuerySet[User]:
    """Return every user with their roles prefetched, for administrators."""
    return User.objects.prefetch_related(Prefetch("roles", queryset=UserRole.objects.order_by("role")))
