"""In production the live selfie check is judged by a real Celery worker, never the web process."""

from __future__ import annotations

import time

import pytest

from accounts.roles import Role
from consent.models import LivenessCheck
from tests.consent.test_liveness_api import challenge, submit, turning_as, video

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_the_video_is_judged_by_the_worker_and_polled_until_done(
    api_client, make_user, enroll, celery_worker_process, settings
):
    settings.SIGILLO_GATE_EXECUTION = "worker"
    settings.SIGILLO_GATE_TIMEOUT = 0.01  # the web process does not wait: the person polls
    user = make_user(Role.RIGHTS_HOLDER, username="barack")
    likeness = enroll("obama/obama.jpg", user=user, name="Barack Obama").json()
    api_client.force_authenticate(user)
    issued = challenge(api_client, likeness, settings, ("right", "left"))
    shots = turning_as(issued["steps"])

    response = submit(api_client, likeness, issued["token"], video(*shots))

    # The web process waited 10 ms: the answer is "analyzing" (202), unless the worker was quicker still.
    assert response.status_code in (200, 202), response.content
    assert response.status_code == 200 or response.json()["outcome"] == "analyzing"
    url = "/api/v1/likenesses/%s/liveness/%s/" % (likeness["id"], response.json()["id"])
    deadline = time.monotonic() + 180
    while (answer := api_client.get(url)).status_code == 202 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert answer.status_code == 200 and answer.json()["outcome"] == "passed", answer.content
    assert answer.json()["verified"] is True
    assert "consent.liveness_judge" in celery_worker_process.output()
    assert LivenessCheck.objects.get().frames  # kept, encrypted; the uploaded video itself is gone
    uploads = settings.MEDIA_ROOT / "liveness-uploads"
    assert not uploads.exists() or not any(uploads.iterdir())
