"""Reads of the registry."""

from datetime import datetime
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from consent.access import is_moderator
from consent.models import ConsentVersion, EstateClaim, Likeness, LikenessPhoto

#: ``likeness.consent_newest_first[0]`` is the consent in force, without a query per likeness.
NEWEST_CONSENT_FIRST = Prefetch(
    "consent_versions", queryset=ConsentVersion.objects.order_by("-number"), to_attr="consent_newest_first"
)


def likeness_list_for(user: Any) -> QuerySet[Likeness]:
    """The likenesses a user manages: their own and those of estates they represent (a claim a
    moderator rejected represents nothing: ``consent.access.can_manage``)."""
    represented = (
        EstateClaim.objects.filter(representative=user)
        .exclude(status=EstateClaim.Status.REJECTED)
        .values("likeness_id")
    )
    return (
        Likeness.objects.filter(Q(owner=user) | Q(pk__in=represented))
        .annotate(face_count=Count("faces", distinct=True))
        .prefetch_related(NEWEST_CONSENT_FIRST)
        .order_by("-created_at")
    )


def likeness_list_all(user: Any) -> QuerySet[Likeness]:
    if not is_moderator(user):
        return Likeness.objects.none()
    return (
        Likeness.objects.annotate(face_count=Count("faces", distinct=True))
        .prefetch_related(NEWEST_CONSENT_FIRST)
        .order_by("-created_at")
    )


def consent_current(likeness: Likeness, *, at: datetime | None = None) -> ConsentVersion | None:
    """The consent version in force: the newest one, or the newest written by ``at``."""
    versions = likeness.consent_versions.order_by("-number")
    return (versions.filter(created_at__lte=at) if at is not None else versions).first()


def consent_history(likeness: Likeness) -> QuerySet[ConsentVersion]:
    return likeness.consent_versions.order_by("-number").select_related("created_by")


def likeness_photos(likeness: Likeness) -> QuerySet[LikenessPhoto]:
    """The photos of a likeness with their enrolled faces (for drawing the boxes)."""
    return likeness.photos.prefetch_related("faces").order_by("created_at")
