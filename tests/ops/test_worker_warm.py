"""A worker loads every model of the gate when it starts, not inside the first check it runs."""

import time

import pytest

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_a_worker_warms_the_gates_models_before_its_first_check(start_worker, settings, make_user):
    from moderation.gate import gate_check

    worker = start_worker(SIGILLO_WORKER_WARM="true")
    deadline = time.monotonic() + 240
    while "Warmed the gate's models" not in worker.output():
        assert worker.process.poll() is None and time.monotonic() < deadline, worker.output()
        time.sleep(0.5)
    log = worker.output()
    for step in ("sentence model", "policy", "topics", "names", "descriptors", "faces", "nsfw"):
        assert "'%s':" % step in log, log  # every step ran and was timed, none failed
    assert "Could not warm" not in log

    settings.SIGILLO_GATE_EXECUTION = "worker"
    decision = gate_check(requester=make_user(), prompt="a lighthouse in a storm, watercolour")

    assert decision.verdict == "allow", decision.reasons
    # The first check in this worker loaded nothing: no model was loaded after the warm-up.
    after = worker.output()[len(log) :]
    assert "Loaded sentence model" not in after and "Loaded the dlib face engine" not in after, after
