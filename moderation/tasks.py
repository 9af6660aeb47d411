"""Celery tasks of the gate: thin, by id, idempotent."""

from celery import shared_task
from django.conf import settings

from consent import crypto
from moderation.gate import MediaInput, gate_run_closed
from moderation.models import Decision


@shared_task(
    name="moderation.gate_run",
    acks_late=True,
    # The soft limit raises inside the stages: gate_run_closed closes the decision as review.
    soft_time_limit=settings.SIGILLO_GATE_ASYNC_TIMEOUT,
    time_limit=settings.SIGILLO_GATE_ASYNC_TIMEOUT + 30,
)
def gate_run_task(*, decision_id: str, media: list[tuple[str, str]]) -> str:
    """Run the gate for a pending decision (a failure closes it as review); the files are deleted afterwards."""
    try:
        decision = Decision.objects.get(pk=decision_id)
        inputs = [MediaInput(name=name, data=crypto.read_encrypted_file(path)) for name, path in media]
        return gate_run_closed(decision=decision, media=inputs).verdict
    finally:
        for _, path in media:
            crypto.delete_file(path)
