"""Reads for the creator studio: whom a creator may cast, and their generations."""

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from consent.access import audience_includes
from consent.models import Likeness, LikenessStatus, Use
from consent.selectors import NEWEST_CONSENT_FIRST
from generation.models import Generation

USE_LABELS = dict(Use.choices)


@dataclass(frozen=True)
class Cameo:
    """A likeness a creator may pick, with the uses its consent in force allows."""

    likeness: Likeness
    uses: list[str]

    @property
    def id(self) -> str:
        return str(self.likeness.pk)

    @property
    def name(self) -> str:
        return self.likeness.display_name

    @property
    def handle(self) -> str:
        return self.likeness.handle or ""

    @property
    def use_labels(self) -> list[str]:
        return [str(USE_LABELS.get(use, use)) for use in self.uses]


def cameos_for(user: Any) -> list[Cameo]:
    """Active, unprotected likenesses with photos whose consent in force covers ``user`` for some use."""
    now = timezone.now()
    likenesses = (
        Likeness.objects.filter(
            status=LikenessStatus.ACTIVE, protected=False, do_not_generate=False, suspended_at__isnull=True
        )
        .filter(photos__isnull=False)
        .distinct()
        .prefetch_related(NEWEST_CONSENT_FIRST)
        .order_by("display_name")
    )
    cameos = []
    for likeness in likenesses:
        if not likeness.consent_newest_first:
            continue
        version = likeness.consent_newest_first[0]
        if version.revoked or not version.uses:
            continue
        if version.valid_from and version.valid_from > now:
            continue
        if version.valid_until and version.valid_until <= now:
            continue
        if not audience_includes(version, likeness, user):
            continue
        cameos.append(Cameo(likeness=likeness, uses=[use for use in Use.values if use in version.uses]))
    return cameos


def generations_for(user: Any) -> QuerySet[Generation]:
    return Generation.objects.filter(requester=user).order_by("-created_at")


def released_generations_for(user: Any) -> QuerySet[Generation]:
    return generations_for(user).filter(status=Generation.Status.RELEASED)
