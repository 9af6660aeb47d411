"""A worker killed with SIGKILL mid-job: the job is redelivered and released exactly once, never stuck."""

import os
import signal
import time

import pytest

from generation import services
from generation.models import Generation
from tests.moderation.conftest import registry  # noqa: F401 - the fixture

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker, pytest.mark.once]


def test_a_job_whose_worker_dies_is_redelivered_and_released_once(registry, start_worker, settings):  # noqa: F811
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        pytest.fail("this test needs the Redis broker (redelivery of unacknowledged tasks); start Redis")
    first = start_worker(CELERY_VISIBILITY_TIMEOUT="6")
    generation = services.generation_request(
        requester=registry.creator,
        prompt="a long walk",
        kind="video",
        use="personal",
        cameos=[str(registry.kit.pk)],
        seed=3,
    )
    deadline = time.monotonic() + 60
    while Generation.objects.get(pk=generation.pk).status == Generation.Status.QUEUED and time.monotonic() < deadline:
        time.sleep(0.02)
    assert Generation.objects.get(pk=generation.pk).status == Generation.Status.RUNNING
    os.killpg(first.pid, signal.SIGKILL)  # the worker and its pool die mid-job
    first.process.wait()

    start_worker(CELERY_VISIBILITY_TIMEOUT="6")
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        generation.refresh_from_db()
        if generation.status in (Generation.Status.RELEASED, Generation.Status.FAILED):
            break
        time.sleep(0.5)

    assert generation.status == Generation.Status.RELEASED, (generation.status, generation.reason)
    assert generation.attempts == 2
    assert generation.receipts.count() >= 1


def test_a_job_past_its_backends_time_limit_is_stopped_and_failed_with_the_reason(
    registry,  # noqa: F811
    start_worker,
    settings,
):
    settings.SIGILLO_BACKEND_TIME_LIMITS = {**settings.SIGILLO_BACKEND_TIME_LIMITS, "animatic": 0.2}
    start_worker()
    generation = services.generation_request(
        requester=registry.creator,
        prompt="a long walk",
        kind="video",
        use="personal",
        cameos=[str(registry.kit.pk)],
        width=1024,
        height=1024,
    )

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        generation.refresh_from_db()
        if generation.status in (Generation.Status.RELEASED, Generation.Status.FAILED):
            break
        time.sleep(0.2)

    assert (generation.status, generation.reason) == (
        Generation.Status.FAILED,
        "Generation took longer than its time limit.",
    )
    assert generation.output_path == "" and generation.finished_at is not None
