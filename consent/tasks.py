"""Celery tasks of the registry: thin, by id, idempotent."""

from celery import shared_task

from consent import crypto
from consent.models import LivenessCheck
from consent.verification import liveness_judge


@shared_task(name="consent.liveness_judge", acks_late=True)
def liveness_judge_task(*, check_id: str, path: str) -> str:
    """Judge the video of a live selfie check; the uploaded file is deleted afterwards."""
    try:
        check = LivenessCheck.objects.get(pk=check_id)
        return liveness_judge(check=check, data=crypto.read_encrypted_file(path)).status
    finally:
        crypto.delete_file(path)
