"""GET /healthz against the real database, broker and a real worker process."""

import pytest

from accounts.roles import Role
from config.celery import app

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.worker
def test_healthz_is_green_with_a_worker_and_its_details_are_for_staff(
    client, celery_worker_process, settings, make_user
):
    anonymous = client.get("/healthz")
    assert anonymous.status_code == 200, anonymous.content
    assert anonymous.json() == {
        "status": "ok",
        "checks": {"database": {"ok": True}, "broker": {"ok": True}, "worker": {"ok": True}},
    }

    client.force_login(make_user(Role.MODERATOR))
    response = client.get("/healthz")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["vendor"] in ("postgresql", "sqlite")
    assert celery_worker_process.owns(body["checks"]["worker"]["pid"])


def test_healthz_is_503_without_a_worker(client, settings, make_user):
    settings.SIGILLO_HEALTH_WORKER_TIMEOUT = 1.0
    app.control.purge()
    client.force_login(make_user(Role.ADMIN))
    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["checks"]["database"]["ok"] and body["checks"]["broker"]["ok"]
    assert body["checks"]["worker"]["ok"] is False
    assert "no worker answered" in body["checks"]["worker"]["error"]
    app.control.purge()


def test_healthz_is_503_when_the_broker_is_down(client, monkeypatch, make_user):
    # A real connection attempt to a port nothing listens on.
    # Celery prefers the CELERY_BROKER_URL environment variable to its configuration.
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setitem(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    monkeypatch.setitem(app.conf, "broker_write_url", None)
    monkeypatch.setitem(app.conf, "broker_connection_retry", False)
    client.force_login(make_user(Role.MODERATOR))

    response = client.get("/healthz")

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["broker"]["ok"] is False
    assert checks["worker"] == {"ok": False, "error": "broker down"}


@pytest.mark.worker
def test_healthz_is_503_when_the_workers_face_engine_cannot_load(client, start_worker, settings, make_user):
    settings.SIGILLO_HEALTH_WORKER_TIMEOUT = 120.0  # the worker warms its models before it answers
    start_worker(SIGILLO_WORKER_WARM="true", SIGILLO_FACE_ENGINE="nonexistent")
    client.force_login(make_user(Role.MODERATOR))

    response = client.get("/healthz")

    assert response.status_code == 503, response.content
    worker = response.json()["checks"]["worker"]
    assert worker["ok"] is False and "face engine nonexistent cannot load" in worker["error"]
