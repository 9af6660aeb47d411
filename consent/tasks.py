"""Celery tasks of the registry: thin, by id, idempotent."""

from celery import shared_task
from django.conf import settings

from consent import crypto
from consent.models import LivenessCheck
from consent.verification import liveness_judge


@shared_task(
    name="consent.liveness_judge",
    acks_late=True,
    soft_time_limit=settings.SIGILLO_GATE_ASYNC_TIMEOUT,
    time_limit=settings.SIGILLO_GATE_ASYNC_TIMEOUT + 30,
)
def liveness_judge_task(*, check_id: str, path: str) -> str:
    """Judge the video of a live selfie check; the uploaded file is deleted afterwards."""
    try:
        check = LivenessCheck.objects.get(pk=check_id)
        return liveness_judge(check=check, data=crypto.read_encrypted_file(path)).status
    finally:
        crypto.delete_file(path)


@shared_task(
    name="consent.enrollment",
    soft_time_limit=settings.SIGILLO_ENROLL_TIMEOUT,
    time_limit=settings.SIGILLO_ENROLL_TIMEOUT + 30,
)
def enrollment_task(*, action: str, actor_id: int, fields: dict, photos: list[dict], document: dict | None) -> dict:
    """Enroll, add photos or preview faces (``consent.jobs``); the uploaded files are deleted afterwards.

    Acknowledged on receipt, not at the end: a worker lost midway must not enroll a person twice;
    the request that waited says the engine did not answer, and nothing half-done is kept (the
    service writes in one transaction).
    """
    from consent.jobs import enrollment_run, read_inputs

    items = [*photos, *([document] if document else [])]
    try:
        return enrollment_run(
            action=action,
            actor_id=actor_id,
            fields=fields,
            photos=read_inputs(photos),
            document=read_inputs([document])[0] if document else None,
        )
    finally:
        for item in items:
            crypto.delete_file(item["path"])
