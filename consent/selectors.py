"""Reads of the registry."""

from typing import Any

from django.db.models import Count, Q, QuerySet

from consent.access import is_moderator
from consent.models import ConsentVersion, Likeness


def likeness_list_for(user: Any) -> QuerySet[Likeness]:
    """The likenesses a user manages: their own and those of estates they represent."""
    return (
        Likeness.objects.filter(Q(owner=user) | Q(estate_claims__representative=user))
        .distinct()
        .annotate(face_count=Count("faces", distinct=True))
        .order_by("-created_at")
    )


def likeness_list_all(user: Any) -> QuerySet[Likeness]:
    if not is_moderator(user):
        return Likeness.objects.none()
    return Likeness.objects.annotate(face_count=Count("faces", distinct=True)).order_by("-created_at")


def consent_history(likeness: Likeness) -> QuerySet[ConsentVersion]:
    return likeness.consent_versions.order_by("-number").select_related("created_by")
