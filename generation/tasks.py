"""Celery tasks of generation: thin, by id, idempotent (each service checks the status it expects)."""

from collections.abc import Callable

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from generation import services


@shared_task(
    name="generation.gate",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.SIGILLO_GATE_ASYNC_TIMEOUT,
    time_limit=settings.SIGILLO_GATE_ASYNC_TIMEOUT + 30,
)
def generation_gate_task(generation_id: str) -> None:
    """Run the gate for a request in status ``checking`` (a scanning worker: the web process loads no models)."""
    _run_or_fail(services.generation_gate, generation_id, "The check")


@shared_task(
    name="generation.generate",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.SIGILLO_GENERATION_TIME_LIMIT,
    time_limit=settings.SIGILLO_GENERATION_TIME_LIMIT + 60,
)
def generation_generate_task(generation_id: str) -> None:
    _run_or_fail(services.generation_generate, generation_id, "Generation")


@shared_task(name="generation.scan", acks_late=True, reject_on_worker_lost=True, soft_time_limit=600, time_limit=660)
def generation_scan_task(generation_id: str) -> None:
    _run_or_fail(services.generation_scan, generation_id, "Release")


@shared_task(name="generation.release", acks_late=True, reject_on_worker_lost=True, soft_time_limit=600, time_limit=660)
def generation_release_task(generation_id: str) -> None:
    """Release an output a moderator approved."""
    _run_or_fail(services.generation_release, generation_id, "Release")


def _run_or_fail(step: Callable[..., object], generation_id: str, what: str) -> None:
    """Run one step; if it raises, mark the job failed with the reason (never left running) and re-raise."""
    try:
        step(generation_id=generation_id)
    except SoftTimeLimitExceeded:
        services.generation_fail(generation_id=generation_id, reason="%s took longer than its time limit." % what)
        raise
    except Exception as error:
        services.generation_fail(generation_id=generation_id, reason="%s failed: %s" % (what, type(error).__name__))
        raise


@shared_task(
    name="generation.verify",
    soft_time_limit=settings.SIGILLO_VERIFY_TIMEOUT,
    time_limit=settings.SIGILLO_VERIFY_TIMEOUT + 5,
)
def provenance_verify_task(*, name: str, path: str) -> dict:
    """Verify an uploaded file's provenance (``generation.verify``); the file is deleted afterwards.

    The soft limit answers "timeout"; the hard one ends the pool process a decoder holds.
    """
    from consent import crypto
    from generation.verify import verify_run

    try:
        return verify_run(name=name, data=crypto.read_encrypted_file(path))
    finally:
        crypto.delete_file(path)


@shared_task(name="generation.expire_waiting")
def generation_expire_waiting_task() -> int:
    """Stop requests that waited too long for a rights holder's answer (scheduled by beat)."""
    return services.generation_expire_waiting()


@shared_task(name="generation.released_faces_link", soft_time_limit=600, time_limit=660)
def released_faces_link_task(likeness_id: str) -> None:
    """Link past releases that showed a newly enrolled face to its likeness (``generation.appearances``)."""
    from generation.appearances import released_faces_link_quietly

    released_faces_link_quietly(likeness_id)


@shared_task(name="sigillo.sweep")
def sweep_task() -> dict:
    """Send again the tasks generations still wait for, delete uploads no task picked up, and what is
    past its retention period: references of finished requests, evidence of closed reviews; then
    anchor the audit trail with a signed checkpoint outside the database (beat)."""
    from datetime import timedelta

    from consent.crypto import transient_uploads_sweep
    from generation.outbox import outbox_sweep
    from generation.services.request import references_expire
    from moderation.audit import audit_sweep
    from moderation.decisions import evidence_expire

    return {
        "resent": outbox_sweep(),
        "uploads_removed": transient_uploads_sweep(older_than=settings.SIGILLO_ORPHAN_UPLOAD_SECONDS),
        "references_removed": references_expire(older_than=timedelta(days=settings.SIGILLO_REFERENCE_RETENTION_DAYS)),
        "evidence_removed": evidence_expire(older_than=timedelta(days=settings.SIGILLO_EVIDENCE_RETENTION_DAYS)),
        **audit_sweep(),
    }
