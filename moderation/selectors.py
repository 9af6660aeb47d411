"""Reads of moderation."""

from django.db.models import QuerySet

from moderation.models import Flag


def flag_queue(*, status: str | None = Flag.Status.OPEN, kind: str | None = None) -> QuerySet[Flag]:
    """Flags oldest first, with their likeness."""
    flags = Flag.objects.select_related("likeness", "decided_by").order_by("created_at")
    if status:
        flags = flags.filter(status=status)
    if kind:
        flags = flags.filter(kind=kind)
    return flags
