"""What the generation app does when the registry or moderation says something changed.

Thin: each receiver takes the ids the signal carries and calls one service. Connected in
``GenerationConfig.ready()``.
"""

from typing import Any

from django.conf import settings

from generation.appearances import released_faces_forget, released_faces_link_quietly
from generation.services import generation_after_consent_answer, generation_after_review
from moderation.models import Decision
from moderation.reasons import Verdict


def on_consent_answered(sender: Any, *, request_id: Any, **kwargs: Any) -> None:
    """A job waiting for this answer checks again, or stops."""
    generation_after_consent_answer(request_id)


def on_faces_enrolled(sender: Any, *, likeness_id: Any, **kwargs: Any) -> None:
    """Past releases that showed this face are linked to the likeness (reverse search), in a
    scanning worker: the search compares embeddings with the face engine's threshold."""
    if settings.SIGILLO_GATE_EXECUTION == "inline":
        released_faces_link_quietly(likeness_id)
        return
    from generation.tasks import released_faces_link_task

    released_faces_link_task.apply_async(args=[str(likeness_id)], queue="scanning")


def on_biometrics_erased(sender: Any, *, likeness_id: Any, **kwargs: Any) -> None:
    """The embeddings of released faces matched to the likeness go with its biometric data."""
    released_faces_forget(likeness_id)


def on_review_decided(sender: Any, *, decision_id: Any, kind: str, verdict: Verdict, **kwargs: Any) -> None:
    """A job held by this review (before generation, or its output) goes on, or stops."""
    if kind in (Decision.Kind.GENERATION, Decision.Kind.OUTPUT):
        generation_after_review(decision_id, verdict)
