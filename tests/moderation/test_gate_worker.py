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
