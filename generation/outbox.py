"""Jobs that are never stuck: the task a generation waits for is written in its own row.

Every step that hands a generation to a worker records the task's name (``pending_task``) in the
same transaction as the status it moves to, and sends the task after commit; a send that
succeeds clears the name. A send that fails (the broker is down) is logged and leaves the name:
the request that caused it still answers (a moderator's approval is not a 500 after its
transaction committed), and ``outbox_sweep``, run by beat every ``SIGILLO_SWEEP_INTERVAL``
seconds, sends again every task still pending after ``SIGILLO_OUTBOX_RETRY_SECONDS``. The
steps are idempotent (each checks the status it expects), so a task sent twice does its work once.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from generation.models import Generation

logger = logging.getLogger(__name__)


def _task(name: str) -> tuple[object, dict]:
    """The task object of ``name`` and the options it is sent with."""
    from generation import tasks

    if name == "generation.generate":
        return tasks.generation_generate_task, {"queue": "generation"}
    return {
        "generation.gate": tasks.generation_gate_task,
        "generation.scan": tasks.generation_scan_task,
        "generation.release": tasks.generation_release_task,
    }[name], {"queue": "scanning"}


def task_send_after_commit(generation: Generation, name: str) -> None:
    """Record that ``generation`` waits for task ``name`` and send it once the transaction commits."""
    generation.pending_task, generation.pending_since = name, timezone.now()  # a later save() keeps them
    Generation.objects.filter(pk=generation.pk).update(pending_task=name, pending_since=generation.pending_since)
    transaction.on_commit(lambda: task_send(generation.pk, name))


def task_send(generation_id: object, name: str) -> bool:
    """Send the pending task now; clear it when the broker took it. Never raises."""
    from generation.services.request import generation_time_limit

    task, options = _task(name)
    if name == "generation.generate":
        backend = Generation.objects.filter(pk=generation_id).values_list("backend", flat=True).first() or ""
        limit = generation_time_limit(backend)
        options = {**options, "soft_time_limit": limit, "time_limit": limit + 30}
    try:
        task.apply_async(args=[str(generation_id)], **options)
    except Exception as error:  # the broker is down: the sweeper sends it again
        logger.warning("could not send %s for generation %s (%s); the sweeper will", name, generation_id, error)
        return False
    Generation.objects.filter(pk=generation_id, pending_task=name).update(pending_task="", pending_since=None)
    return True


def outbox_sweep() -> int:
    """Send again every task a generation has waited for longer than SIGILLO_OUTBOX_RETRY_SECONDS; return
    how many were sent."""
    stale = timezone.now() - timedelta(seconds=settings.SIGILLO_OUTBOX_RETRY_SECONDS)
    waiting = Generation.objects.exclude(pending_task="").filter(pending_since__lt=stale)
    return sum(task_send(generation_id, name) for generation_id, name in waiting.values_list("pk", "pending_task"))
