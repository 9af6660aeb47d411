"""A real Redis stopped and started again around an approval, a generation and a check.

The web server, the worker and beat are real processes on a Redis server of this test's own (the
suite's Redis is not touched). With Redis stopped, a moderator's approval, a new generation and a
check each answer (no 500) and lose nothing; once Redis is back, beat's sweep sends the tasks the
generations wait for and the worker finishes them. Production install only (`once`).
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from rest_framework.authtoken.models import Token

from generation.models import Generation
from tests.conftest import _database_url, totp_enrol
from tests.generation.requests import reviewed_request
from tests.moderation.conftest import registry  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parents[2]
Status = Generation.Status

SERVER = """
import os
from django.core.management import execute_from_command_line
execute_from_command_line(["manage.py", "runserver", "--noreload", "127.0.0.1:" + os.environ["PORT"]])
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_start(port: int, log: Path) -> subprocess.Popen:
    process = subprocess.Popen(  # noqa: S603 - Debian's redis-server, no persistence
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)


def redis_stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)  # as an outage: no shutdown, nothing saved
    process.wait(timeout=20)


@pytest.mark.once
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_with_redis_stopped_nothing_answers_500_and_every_job_finishes_once_it_is_back(
    registry,  # noqa: F811
    settings,
    start_worker,
    tmp_path,
):
    generation, flag = reviewed_request(registry)  # gated inline, before the outage
    redis_port, web_port = free_port(), free_port()
    redis_url = "redis://127.0.0.1:%d/0" % redis_port
    redis = redis_start(redis_port, tmp_path / "redis.log")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url,
        "SIGILLO_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "SIGILLO_GATE_EXECUTION": "worker",
        "SIGILLO_GATE_TIMEOUT": "20",
        "SIGILLO_SWEEP_INTERVAL": "1",
        "SIGILLO_OUTBOX_RETRY_SECONDS": "1",
    }
    start_worker(**{key: env[key] for key in env if key.startswith(("CELERY_", "SIGILLO_"))})
    processes = []

    def spawn(name: str, args: list[str], **extra: str) -> subprocess.Popen:
        log = (tmp_path / ("%s.log" % name)).open("wb")
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and code
            [sys.executable, *args], cwd=ROOT, env={**env, **extra}, stdout=log, stderr=subprocess.STDOUT
        )
        processes.append(process)
        return process

    base = "http://127.0.0.1:%d" % web_port
    spawn("web", ["-c", SERVER], PORT=str(web_port))
    beat_schedule = str(tmp_path / "celerybeat-schedule")
    spawn("beat", ["-m", "celery", "-A", "config", "beat", "--schedule", beat_schedule, "--loglevel", "INFO"])
    totp_enrol(registry.moderator)  # a moderator's token counts once issued after two-factor
    tokens = {user: Token.objects.create(user=user).key for user in (registry.moderator, registry.creator)}

    def call(user, method, path, **kwargs):
        headers = {"Authorization": "Token %s" % tokens[user]}
        return requests.request(method, base + path, headers=headers, timeout=120, **kwargs)

    def wait_for(predicate, timeout=180.0):
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, "timed out; logs: %s" % sorted(p.name for p in tmp_path.glob("*.log"))
            time.sleep(0.5)

    def status(pk) -> str:
        return Generation.objects.get(pk=pk).status

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(base + "/healthz", timeout=5)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, (tmp_path / "web.log").read_text()
                time.sleep(0.3)

        redis_stop(redis)

        approved = call(
            registry.moderator,
            "POST",
            "/api/v1/moderation/flags/%s/decision/" % flag.pk,
            json={"decision": "approve", "note": "Nobody is named."},
        )
        assert approved.status_code == 200, approved.content
        body = {"prompt": "a lighthouse at dusk, oil painting", "kind": "image", "use": "personal"}
        created = call(registry.creator, "POST", "/api/v1/generations/", json=body)
        assert created.status_code == 202, created.content
        check = call(registry.creator, "POST", "/api/v1/checks/", data={"prompt": "a lighthouse at dusk"})
        assert check.status_code < 500, check.content  # fails closed: a person looks, or try again
        if check.status_code == 200:
            assert check.json()["verdict"] != "allow", check.content
        waiting = Generation.objects.get(pk=created.json()["id"])
        generation.refresh_from_db()
        assert generation.pending_task and waiting.pending_task  # remembered, not lost

        redis = redis_start(redis_port, tmp_path / "redis.log")

        wait_for(lambda: status(generation.pk) == Status.RELEASED and status(waiting.pk) == Status.RELEASED)
        again = call(registry.creator, "POST", "/api/v1/checks/", data={"prompt": "a lighthouse at dusk"})
        assert again.status_code == 200 and again.json()["verdict"] == "allow", again.content
    finally:
        for process in processes:
            process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if redis.poll() is None:
            redis_stop(redis)
