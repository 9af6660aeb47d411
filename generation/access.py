"""Who may see a generation: its requester only (a moderator reads its Decisions in the queue)."""

import uuid
from typing import Any

from django.http import Http404

from generation.models import Generation


def access_generation_by_id(user: Any, generation_id: Any) -> Generation:
    """Return the generation if ``user`` requested it; otherwise 404, as for one that does not exist."""
    try:
        key = uuid.UUID(str(generation_id))
    except ValueError:
        raise Http404("No such generation.") from None
    generation = (
        Generation.objects.select_related("pre_decision", "output_decision")
        .filter(pk=key, requester_id=user.pk)
        .first()
    )
    if generation is None:
        raise Http404("No such generation.")
    return generation
