"""In production the web process never runs the models: checks go to a real Celery worker."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from moderation.models import Decision
from moderation.reasons import ReasonCode, Verdict
from tests.consent.faces import photo_bytes

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_a_check_runs_in_the_worker_and_its_files_are_deleted(api_client, registry, celery_worker_process, settings):
    settings.SIGILLO_GATE_EXECUTION = "worker"
    settings.SIGILLO_GATE_TIMEOUT = 120.0
    api_client.force_authenticate(registry.creator)

    response = api_client.post(
        "/api/v1/checks/",
        {
            "prompt": "a man smiling in a garden",
            "images": [SimpleUploadedFile("ref.jpg", photo_bytes("obama/obama2.jpg"))],
        },
        format="multipart",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["verdict"] == Verdict.BLOCK and body["state"] == "done"
    assert [reason["code"] for reason in body["reasons"]] == [ReasonCode.REGISTERED_FACE, ReasonCode.PROTECTED_ENTRY]
    assert "moderation.gate_run" in celery_worker_process.output()
    assert Decision.objects.get(pk=body["id"]).verdict == "block"
    gate_folder = settings.MEDIA_ROOT / "gate"
    assert not gate_folder.exists() or not any(gate_folder.iterdir())


def test_a_check_without_waiting_answers_202_and_its_decision_is_polled(
    api_client, registry, celery_worker_process, settings
):
    settings.SIGILLO_GATE_EXECUTION = "worker"
    api_client.force_authenticate(registry.creator)

    response = api_client.post(
        "/api/v1/checks/?wait=false", {"prompt": "Robin Williams telling jokes on a stage"}, format="json"
    )

    assert response.status_code == 202, response.content
    pending = response.json()
    assert pending["state"] == "pending" and pending["verdict"] == Verdict.REVIEW  # never allow until decided
    assert response["Location"] == "/api/v1/decisions/%s/" % pending["id"]
    assert pending["url"].endswith(response["Location"])
    body = _poll(api_client, response["Location"], lambda body: body["state"] != "pending")
    assert body["state"] == "done" and body["verdict"] == Verdict.BLOCK
    assert ReasonCode.PROTECTED_ENTRY in [reason["code"] for reason in body["reasons"]]
    assert "moderation.gate_run" in celery_worker_process.output()


def test_a_generation_is_checked_in_the_worker_and_the_request_answers_at_once(
    api_client, registry, celery_worker_process, settings
):
    from generation.models import Generation

    settings.SIGILLO_GATE_EXECUTION = "worker"
    api_client.force_authenticate(registry.creator)

    response = api_client.post(
        "/api/v1/generations/",
        {"prompt": "Barack Obama giving a speech", "kind": "image", "use": "personal"},
        format="json",
    )

    assert response.status_code == 202, response.content
    created = response.json()
    assert created["status"] == Generation.Status.CHECKING
    assert created["decisions"]["pre_generation"]["state"] == "pending"
    url = "/api/v1/generations/%s/" % created["id"]
    body = _poll(api_client, url, lambda body: body["status"] != Generation.Status.CHECKING)
    assert body["status"] == Generation.Status.BLOCKED
    assert body["decisions"]["pre_generation"]["verdict"] == Verdict.BLOCK
    assert "generation.gate" in celery_worker_process.output()


def _poll(api_client, url, done, timeout=120.0):
    import time

    deadline = time.monotonic() + timeout
    while True:
        body = api_client.get(url).json()
        if done(body) or time.monotonic() > deadline:
            return body
        time.sleep(0.3)
