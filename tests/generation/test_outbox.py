"""Jobs that are never stuck: a task the broker refused is remembered in the generation's row and
sent again by the sweeper; the request that caused it still answers."""

import time

import pytest
from kombu.exceptions import OperationalError

from generation import services
from generation.models import Generation
from generation.outbox import outbox_sweep
from generation.tasks import generation_generate_task
from moderation.models import Flag
from tests.generation.requests import reviewed_request
from tests.moderation.conftest import registry  # noqa: F401 - the fixture

Status = Generation.Status


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_an_approval_while_the_broker_is_down_answers_and_the_job_runs_once_it_is_back(
    registry,  # noqa: F811
    api_client,
    monkeypatch,
    settings,
    start_worker,
):
    generation, flag = reviewed_request(registry)
    real_send = generation_generate_task.apply_async

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(generation_generate_task, "apply_async", broker_down)
    api_client.force_authenticate(registry.moderator)

    response = api_client.post(
        "/api/v1/moderation/flags/%s/decision/" % flag.pk, {"decision": "approve", "note": "Fine."}, format="json"
    )

    assert response.status_code == 200, response.content  # no 500 after the decision committed
    generation.refresh_from_db()
    assert generation.status == Status.QUEUED and generation.pending_task == "generation.generate"
    flag.refresh_from_db()
    assert flag.status != Flag.Status.OPEN  # decided once; nothing to retry by hand

    monkeypatch.setattr(generation_generate_task, "apply_async", real_send)  # the broker is back
    settings.SIGILLO_OUTBOX_RETRY_SECONDS = 0
    worker = start_worker()
    assert outbox_sweep() == 1
    generation.refresh_from_db()
    assert generation.pending_task == "" and generation.pending_since is None

    deadline = time.monotonic() + 240
    while generation.status in (Status.QUEUED, Status.RUNNING, Status.SCANNING) and time.monotonic() < deadline:
        time.sleep(0.5)
        generation.refresh_from_db()
    assert generation.status == Status.RELEASED, (generation.status, generation.reason, worker.output()[-3000:])
    assert outbox_sweep() == 0  # nothing left waiting


@pytest.mark.django_db
def test_a_task_sent_on_the_first_try_leaves_nothing_for_the_sweeper(
    registry,  # noqa: F811
    settings,
    django_capture_on_commit_callbacks,
):
    from config.celery import app

    settings.SIGILLO_OUTBOX_RETRY_SECONDS = 0
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            generation = services.generation_request(
                requester=registry.creator, prompt="a lake", kind="image", use="personal", cameos=[str(registry.kit.pk)]
            )
        generation.refresh_from_db()
        assert generation.status == Status.QUEUED
        assert generation.pending_task == "generation.generate"  # written with the status, sent after commit
        for callback in callbacks:
            callback()  # the commit: the real broker takes the task
        generation.refresh_from_db()
        assert generation.pending_task == "" and outbox_sweep() == 0
    finally:
        app.control.purge()


@pytest.mark.django_db
def test_uploads_no_task_picked_up_are_swept(settings, tmp_path):
    import os

    from consent import crypto

    settings.MEDIA_ROOT = tmp_path
    old = crypto.store_encrypted_file(b"a check's image", folder="gate")
    fresh = crypto.store_encrypted_file(b"another", folder="enrollment")
    kept = crypto.store_encrypted_file(b"a released output", folder="outputs")
    past = time.time() - 7200
    os.utime(tmp_path / old, (past, past))
    os.utime(tmp_path / kept, (past, past))

    assert crypto.transient_uploads_sweep(older_than=3600) == 1

    assert not (tmp_path / old).exists() and (tmp_path / fresh).exists() and (tmp_path / kept).exists()


@pytest.mark.django_db
def test_retention_deletes_old_references_and_the_evidence_of_closed_reviews(registry, settings):  # noqa: F811
    from datetime import timedelta

    from django.utils import timezone

    from consent import crypto
    from generation.tasks import sweep_task
    from moderation.models import Decision
    from moderation.services import flag_decide
    from tests.consent.faces import photo_bytes

    settings.SIGILLO_REFERENCE_RETENTION_DAYS = 30
    settings.SIGILLO_EVIDENCE_RETENTION_DAYS = 90
    old = timezone.now() - timedelta(days=91)
    # A finished request with its reference, and one still waiting for a moderator.
    from moderation.gate import MediaInput

    reference = MediaInput(name="ref.jpg", data=photo_bytes("kit_harington/johnsnow_test1.jpg"))
    done = services.generation_request(
        requester=registry.creator, prompt="a lake", kind="image", use="personal", cameos=[str(registry.kit.pk)],
        reference=reference,
    )  # fmt: skip
    Generation.objects.filter(pk=done.pk).update(status=Status.FAILED, finished_at=old)
    held, flag = reviewed_request(registry)
    Generation.objects.filter(pk=held.pk).update(reference_path=crypto.store_encrypted_file(b"x", folder="references"))
    # A decision that stored evidence, reviewed long ago.
    evidence = crypto.store_encrypted_file(b"a frame", folder="evidence/old")
    Decision.objects.filter(pk=held.pre_decision.pk).update(
        media=[{"faces": []}, {"evidence": [{"file": 0, "frame": None, "path": evidence, "width": 1, "height": 1}]}]
    )
    swept = sweep_task()
    assert swept["evidence_removed"] == 0  # its review is still open
    assert swept["references_removed"] == 1
    flag_decide(moderator=registry.moderator, flag=flag, decision="reject", note="No.")
    Decision.objects.filter(pk=held.pre_decision.pk).update(decided_at=old)

    swept = sweep_task()

    done.refresh_from_db()
    held.refresh_from_db()
    assert swept["references_removed"] == 0 and done.reference_path == ""
    assert held.reference_path  # finished just now (rejected): kept until its own retention ends
    assert swept["evidence_removed"] == 1
    kept = Decision.objects.get(pk=held.pre_decision.pk)
    assert kept.media[1]["evidence"] == [] and kept.media[1]["evidence_expired_at"] and kept.reasons
    with pytest.raises(FileNotFoundError):
        crypto.read_encrypted_file(evidence)
